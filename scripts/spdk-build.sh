#!/usr/bin/env bash
# Build SPDK's own fio plugin, spdk_bdev (app/fio/bdev), from the SPDK
# release tarball in ../shared/spdk-src, against the same configured fio
# tree the engine is built against, so perf/compare.py can run SPDK's aio
# bdev beside the engine (config spdk-aio).  No SPDK code lives in this
# repository: the tarball is extracted into the cache and the three local
# adjustments Debian's DPDK needs are made there, by this script.
#
#   scripts/spdk-build.sh [--tarball FILE] [--fio-src DIR]
#
# Prints, as its last line, the plugin's path (the file fio LD_PRELOADs).
#
# Cached like the fio matrix (scripts/fio-matrix.sh): the build goes in
# $AIOR_CACHE/spdk/<release>-<sha256 prefix>-<fio version>-r<recipe>/,
# keyed by the tarball's sha256, the fio release and the recipe below
# (bumped whenever the adjustments or the configure line change).  A
# second run only checks that the plugin is there and prints its path; a
# successful build removes the older recipes' builds.
# $AIOR_CACHE/spdk/spdk_bdev is a symbolic link to the plugin, where
# perf/compare.py looks for it.  The plugin links SPDK's shared libraries
# in the build's build/lib (compare.py puts them on fio's library path).
#
# Installs its Debian packages itself (as root or with sudo), as
# scripts/setup.sh does; AIOR_NO_APT=1 never calls apt-get.
#
# Options:
#   --tarball FILE  SPDK source (default ../shared/spdk-src/spdk-26.05.tar.xz)
#   --fio-src DIR   configured fio tree (default: what scripts/setup.sh prints)
#   -j N            make jobs (default 2: the machine is shared)
#
# Environment: AIOR_CACHE (default ~/.cache/libaioring), AIOR_NO_APT.
set -euo pipefail

me=spdk-build
die() { printf '%s: error: %s\n' "$me" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$me" "$*" >&2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
tarball=$repo/../shared/spdk-src/spdk-26.05.tar.xz
fio_src=
jobs=2
while [ $# -gt 0 ]; do
	case $1 in
	--tarball) [ -n "${2:-}" ] || die "--tarball wants a file"; tarball=$2; shift 2 ;;
	--fio-src) [ -n "${2:-}" ] || die "--fio-src wants a directory"; fio_src=$2; shift 2 ;;
	-j) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "-j wants a positive number"; jobs=$2; shift 2 ;;
	-h|--help) usage ;;
	*) die "unknown argument '$1' (--help)" ;;
	esac
done
[ -f "$tarball" ] || die "no SPDK tarball at $tarball (--tarball FILE)"
tarball=$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")

# What SPDK's lib/, module/ and app/fio/bdev need on Debian bookworm, with
# DPDK from Debian (libdpdk-dev, 22.11) rather than SPDK's own submodule,
# which the release tarball does not carry.  jinja2 and tabulate generate
# a header; keyutils is the linux keyring module's.
PKGS=(build-essential pkg-config python3 python3-jinja2 python3-tabulate
      libdpdk-dev libnuma-dev libaio-dev uuid-dev libssl-dev libjson-c-dev
      libkeyutils-dev xz-utils)
. "$repo/scripts/apt.sh"
mapfile -t missing < <(aior_missing "${PKGS[@]}")
if [ "${#missing[@]}" -gt 0 ]; then
	[ "${AIOR_NO_APT:-0}" != 1 ] || die "missing packages: ${missing[*]}"
	[ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null ||
		die "not root and no sudo: install ${missing[*]}"
	say "installing ${missing[*]}"
	aior_apt_install "${missing[@]}"
fi

if [ -z "$fio_src" ]; then
	fio_src=$(AIOR_PERF_ONLY=1 "$repo"/scripts/setup.sh | tail -n 1)
fi
[ -f "$fio_src/config-host.h" ] ||
	die "$fio_src is not a configured fio tree (no config-host.h)"
fio_src=$(cd "$fio_src" && pwd)
fio_ver=$(sed -n 's/^FIO_VERSION *= *//p' "$fio_src/FIO-VERSION-FILE" 2>/dev/null || true)
[ -n "$fio_ver" ] || fio_ver=$(basename "$fio_src")

recipe=1
sum=$(sha256sum "$tarball" | cut -c1-12)
rel=$(basename "$tarball"); rel=${rel%%.tar*}
root=${AIOR_CACHE:-$HOME/.cache/libaioring}/spdk
key=$rel-$sum-$fio_ver-r$recipe
dir=$root/$key
plugin=$dir/src/build/fio/spdk_bdev
mkdir -p "$root"

if [ -f "$dir/ok" ] && [ -f "$plugin" ]; then
	say "cached: $plugin ($(cat "$dir/ok"))"
	ln -sfn "$plugin" "$root/spdk_bdev"
	echo "$plugin"
	exit 0
fi

# SPDK's generators are run as "python3" from PATH, and import Debian's
# python3-jinja2 and python3-tabulate: Debian's python3 first (a pyenv or
# venv python3 earlier on PATH has neither).
export PATH=/usr/bin:$PATH
start=$(date +%s)
rm -rf "$dir"
mkdir -p "$dir"
say "extracting $(basename "$tarball") into $dir"
tar -xf "$tarball" -C "$dir"
top=$(find "$dir" -mindepth 1 -maxdepth 1 -type d | head -n 1)
[ -f "$top/app/fio/bdev/fio_plugin.c" ] || die "$tarball holds no app/fio/bdev/fio_plugin.c: not SPDK"
mv "$top" "$dir/src"
cd "$dir/src"

# Adjustment 1: configure refuses to go on unless the isa-l submodule is
# checked out (a release tarball has none).  An empty autogen.sh passes
# that check; ISA-L is then turned off because nasm is absent, which the
# shim below makes sure of even where nasm is installed.
touch isa-l/autogen.sh
shim=$dir/shim
mkdir -p "$shim"
printf '#!/bin/sh\nexit 127\n' >"$shim/nasm"
chmod +x "$shim/nasm"

# Adjustment 2: the run-time DPDK check (lib/env_dpdk/pci_dpdk.c) takes
# 22.11.x only up to .4, for fear that a later LTS point release changed
# the private PCI ABI; Debian ships a later 22.11.x.  The plugin runs with
# --no-pci, so it never touches a PCI device through that table.
grep -q 'if (minor > 4) {' lib/env_dpdk/pci_dpdk.c ||
	die "lib/env_dpdk/pci_dpdk.c: the 22.11 minor check is not where expected"
sed -i 's/if (minor > 4) {/if (0 \&\& minor > 4) {/' lib/env_dpdk/pci_dpdk.c

# Adjustment 3: env.mk links rte_log and rte_argparse, which DPDK 22.11
# does not have (logging is in rte_eal there; argparse came in 24.03).
grep -q '^DPDK_LIB_LIST = rte_eal rte_kvargs rte_log rte_telemetry rte_argparse$' \
	lib/env_dpdk/env.mk ||
	die "lib/env_dpdk/env.mk: the DPDK library list is not as expected"
sed -i 's/^DPDK_LIB_LIST = rte_eal rte_kvargs rte_log rte_telemetry rte_argparse$/DPDK_LIB_LIST = rte_eal rte_kvargs rte_telemetry/' \
	lib/env_dpdk/env.mk

say "configuring against $fio_src ($fio_ver)"
PATH=$shim:$PATH ./configure --with-dpdk --with-fio="$fio_src" \
	--without-vhost --without-virtio --without-crypto --without-nvme-cuse \
	--without-idxd --without-rdma --without-uring --without-xnvme \
	--without-ocf --without-vfio-user --without-fsdev --without-usdt \
	--disable-tests --disable-unit-tests >"$dir/configure.log" 2>&1 ||
	{ tail -n 20 "$dir/configure.log" >&2; die "configure failed (log: $dir/configure.log)"; }
grep -q '^CONFIG_ISAL?=n' mk/config.mk ||
	die "configure turned ISA-L on: the tarball has no isa-l to build"

# Per directory, as the tarball has no submodules for the top Makefile's
# other targets (dpdkbuild, isalbuild, ...): first the top Makefile's
# generated headers and build directories, then the headers, the
# libraries, the modules and the plugin.
make build_dir include/spdk/config.h include/spdk/version.h \
	>"$dir/make-top.log" 2>&1 ||
	{ tail -n 30 "$dir/make-top.log" >&2
	  die "make of SPDK's generated headers failed (log: $dir/make-top.log)"; }
for d in include lib module app/fio/bdev; do
	say "make -C $d all (-j$jobs)"
	make -C "$d" -j"$jobs" all >"$dir/make-${d//\//-}.log" 2>&1 ||
		{ tail -n 30 "$dir/make-${d//\//-}.log" >&2
		  die "make -C $d failed (log: $dir/make-${d//\//-}.log)"; }
done
[ -f "$plugin" ] || die "the build made no $plugin"

secs=$(( $(date +%s) - start ))
echo "built $(date -u +%FT%TZ) in ${secs}s against $fio_src" >"$dir/ok"
ln -sfn "$plugin" "$root/spdk_bdev"
for old in "$root/$rel-$sum-$fio_ver"-*; do
	[ "$old" = "$dir" ] || rm -rf "$old"
done
say "built in ${secs}s: $plugin"
echo "$plugin"
