# SPDX-License-Identifier: BSD-3-Clause
"""SPDK's own fio path as a peer: the spdk-aio configuration.

spdk-aio runs SPDK's spdk_bdev fio plugin (built from the SPDK release in
../shared/spdk-src by scripts/spdk-build.sh) with an aio bdev on the
run's own target file: the backend this engine re-implements, inside
SPDK's bdev layer and its poll-mode thread, beside the engine and the
built-in engines, in the same rounds.

What it needs, and what this module does about it:

  * root: DPDK maps hugepages.  Not root: the config is skipped, loudly.
  * the plugin: $AIOR_CACHE/spdk/spdk_bdev (the link spdk-build.sh
    makes), or --spdk-plugin.  Missing: skipped, naming the command that
    builds it.
  * hugepages: nr_hugepages is raised to HUGEPAGES if lower and a
    hugetlbfs mounted in a directory of our own (DPDK's --huge-dir) for
    the run; afterwards it is unmounted (which frees every page DPDK
    left behind) and nr_hugepages set back to what it was.
  * LD_PRELOAD of the plugin on fio alone (SPDK's README: the plugin's
    constructors must run before fio parses its options), with SPDK's
    own shared libraries on fio's LD_LIBRARY_PATH, thread=1 (one
    process: SPDK's threads are pthreads), --spdk_json_conf with a
    bdev_aio_create of the target, the bdev's name as filename, and
    --env_context=--no-pci so DPDK probes none of the machine's devices.

Its CPU per I/O is the fio job thread's, as for every config: SPDK's
getevents polls without sleeping, so that thread is busy all the run
(usr), whatever the depth.  The plugin's own init thread sleeps on a
timer between pollers and is not in the figure.
"""

import json
import os
import stat
import subprocess
import tempfile

from .util import REPO

CONFIG = "spdk-aio"
BDEV = "aior0"
# 2 MiB pages: 1 GiB.  SPDK's default pools (bdev_io, iobuf small and
# large) take about 300 MiB of it; DPDK takes more only as it needs.
HUGEPAGES = 512
BUILD_CMD = "scripts/spdk-build.sh"
FILE_BLOCK_SIZE = 512
NR_HUGEPAGES = "/proc/sys/vm/nr_hugepages"


def default_plugin():
    cache = os.environ.get("AIOR_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "libaioring")
    return os.path.join(cache, "spdk", "spdk_bdev")


def refused(plugin, euid=None, remote=False):
    """Why spdk-aio cannot run here (one line), or None.  Pure: the
    caller hands in what it found (the plugin path, the user)."""
    if remote:
        return ("through --client the hosts' fio servers would have to "
                "run with SPDK's plugin preloaded and their stdout and "
                "stderr on /dev/null, or the plugin refuses them (SPDK "
                "issue #1118, docs/spdk.md)")
    if euid is None:
        euid = os.geteuid()
    if euid != 0:
        return ("it needs root (DPDK maps hugepages and the run sets "
                "vm.nr_hugepages)")
    if not plugin or not os.path.isfile(plugin):
        return ("SPDK's fio plugin is not built (%s): build it with %s "
                "(about 2-3 minutes; cached after)" % (
                    plugin, os.path.join(REPO, BUILD_CMD)))
    return None


def json_conf(target_path, block_size=None):
    """The --spdk_json_conf document: one aio bdev on @target_path."""
    params = {"name": BDEV, "filename": target_path}
    if block_size:
        params["block_size"] = block_size
    return {"subsystems": [{"subsystem": "bdev", "config": [
        {"method": "bdev_aio_create", "params": params},
        {"method": "bdev_wait_for_examine"}]}]}


def fio_args(plugin, conf, hugedir):
    """The fio options that select SPDK's plugin (after the cell's own);
    the filename they set replaces the cell's."""
    ctx = "--no-pci"
    if hugedir:
        ctx += " --huge-dir=%s" % hugedir
    return ["--ioengine=spdk_bdev", "--thread=1",
            "--spdk_json_conf=%s" % conf, "--env_context=%s" % ctx,
            "--filename=%s" % BDEV]


def libdir(plugin):
    """SPDK's shared libraries, which the plugin links (against Debian's
    shared DPDK, SPDK's configure builds them shared): build/lib beside
    the plugin's build/fio."""
    return os.path.join(os.path.dirname(os.path.dirname(
        os.path.realpath(plugin))), "lib")


def command(fio_cmd, plugin):
    """@fio_cmd with the plugin preloaded into fio alone, and SPDK's
    libraries on its library path (env(1), so the harness itself and
    every other config run without them)."""
    return ["env", "LD_PRELOAD=%s" % plugin,
            "LD_LIBRARY_PATH=%s" % libdir(plugin)] + list(fio_cmd)


def with_spdk(cell_opts, plugin, conf, hugedir):
    """The cell's options with the target's filename taken out (the bdev
    is named instead), then SPDK's."""
    opts = [o for o in cell_opts if not o.startswith("--filename=")]
    return opts + fio_args(plugin, conf, hugedir)


class Setup:
    """What the run set up for spdk-aio, to give back afterwards."""

    def __init__(self, plugin):
        self.plugin = plugin
        self.conf = None
        self.hugedir = None
        self.nr_before = None
        self.notes = []

    def prepare(self, target_path, out_dir):
        """Hugepages and the JSON config, before the first run; raises
        OSError or subprocess.CalledProcessError (the caller skips the
        config and says why)."""
        self.conf = os.path.join(out_dir, "spdk-aio.json")
        # SPDK detects a block device's block size (BLKSSZGET) and
        # refuses to guess a regular file's ("Block size could not be
        # auto-detected"): 512, the engine's own where the file system
        # reports no direct-I/O alignment, and what every cell's 4k
        # requests are multiples of.
        bsize = None if stat.S_ISBLK(os.stat(target_path).st_mode) \
            else FILE_BLOCK_SIZE
        with open(self.conf, "w") as f:
            json.dump(json_conf(target_path, bsize), f, indent=1)
            f.write("\n")
        with open(NR_HUGEPAGES) as f:
            self.nr_before = int(f.read().split()[0])
        if self.nr_before < HUGEPAGES:
            _write(NR_HUGEPAGES, HUGEPAGES)
        with open(NR_HUGEPAGES) as f:
            got = int(f.read().split()[0])
        if got < HUGEPAGES // 2:
            raise OSError("vm.nr_hugepages: asked %d, the kernel gave %d"
                          % (HUGEPAGES, got))
        self.hugedir = tempfile.mkdtemp(prefix="aior-huge-")
        subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M",
                        "nodev", self.hugedir], check=True,
                       capture_output=True, text=True)
        self.notes.append(
            "spdk-aio: SPDK's spdk_bdev fio plugin (%s), aio bdev %r on the "
            "target, hugepages %d (were %d) in %s, thread=1; its CPU per "
            "I/O is the fio job thread's, which polls without sleeping"
            % (os.path.realpath(self.plugin), BDEV, got, self.nr_before,
               self.hugedir))

    def restore(self):
        """Give back what prepare took; safe to call on a half-made
        setup and twice.  Returns what went wrong, or None."""
        err = []
        if self.hugedir:
            r = subprocess.run(["umount", self.hugedir],
                               capture_output=True, text=True)
            if r.returncode != 0:
                err.append("umount %s: %s" % (self.hugedir,
                                              r.stderr.strip()))
            else:
                try:
                    os.rmdir(self.hugedir)
                except OSError:
                    pass
                self.hugedir = None
        if self.nr_before is not None:
            try:
                _write(NR_HUGEPAGES, self.nr_before)
                with open(NR_HUGEPAGES) as f:
                    now = int(f.read().split()[0])
                if now != self.nr_before:
                    err.append("vm.nr_hugepages is %d, not the %d it was "
                               "(pages still in use)" % (now,
                                                         self.nr_before))
                else:
                    self.nr_before = None
            except OSError as e:
                err.append("vm.nr_hugepages not restored: %s" % e)
        return "; ".join(err) or None


def _write(path, value):
    with open(path, "w") as f:
        f.write("%d\n" % value)
