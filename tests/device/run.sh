#!/usr/bin/env bash
# The device stage: the engine on emulated NVMe namespaces, in a QEMU guest
# booting Debian's stock kernel, beside fio's built-in libaio.
#
# usage: tests/device/run.sh [BUILD]
#   BUILD  the build directory holding libaioring.so (default: build/ of
#          the repository; built with scripts/build.sh if missing)
#
# The guest shares the host's root read-only over 9p under a tmpfs overlay
# (tests/device/init.sh) and runs tests/device/guest.sh in a chroot of it,
# so the host's fio and the host-built engine run there unchanged.  Its
# devices: one controller with a 512-byte-LBA, a 4096-byte-LBA and a
# failing namespace (blkdebug: reads and writes of chosen LBAs fail), a
# zoned controller (64 MiB zones), and seven controllers in hotplug slots
# (pcie-root-port) that the guest asks to have removed, through QEMU's
# monitor, while a job runs on each.
#
# Output in BUILD/device/: serial.log (the guest's console), ctl.log (its
# requests to this script), monitor.log, results.txt (one line per
# check), log/ (every fio output), and the marker PASS, FAIL or SKIPPED.
# Exit 0 when every check passed; 1 when one failed or the guest did not
# come up or finish in time (the serial log is printed); 77 when a check
# could not run on this host (said so, never counted as a pass).
#
# Environment:
#   AIOR_DEVICE_ACCEL   tcg, kvm or auto (default): KVM only if /dev/kvm
#                       is usable and a probe boot finishes in time
#   AIOR_DEVICE_KERNEL  the guest kernel (default: the newest
#                       /boot/vmlinuz-* with its modules in /lib/modules)
#   AIOR_DEVICE_TIMEOUT seconds the whole guest may take (default 900)
#   AIOR_DEVICE_CHECKS  the groups of checks to run (default all: "jobs
#                       refuse zbd media queue uncached hot")
#   AIOR_NO_APT=1       never install the missing packages
#                       (qemu-system-x86, linux-image-amd64, busybox-static)

# QEMU options are comma-separated words, not array elements:
# shellcheck disable=SC2054
set -euo pipefail

me=device
t_begin=$SECONDS
say() { printf '%s: %s\n' "$me" "$*"; }
die() { printf '%s: FAIL: %s\n' "$me" "$*" >&2; exit 1; }

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build}
mkdir -p "$build"
build=$(cd "$build" && pwd)
dir=$build/device
timeout_s=${AIOR_DEVICE_TIMEOUT:-900}
boot_timeout=180

# What the stage needs, installed if missing (as root, with apt).
. "$repo/scripts/apt.sh"
mapfile -t missing < <(aior_missing qemu-system-x86 linux-image-amd64 \
			  busybox-static cpio)
if [ "${#missing[@]}" -gt 0 ]; then
	if [ "${AIOR_NO_APT:-0}" = 1 ] || [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
		say "CANNOT RUN: missing packages ${missing[*]} (install them as root)"
		exit 77
	fi
	say "installing ${missing[*]}"
	aior_apt_install "${missing[@]}" >/dev/null
fi
[ "$(id -u)" = 0 ] || { say "CANNOT RUN: needs root (9p export of /)"; exit 77; }

engine=$build/libaioring.so
if [ ! -f "$engine" ]; then
	say "no $engine: building it"
	BUILD=$build "$repo/scripts/build.sh"
fi
command -v fio >/dev/null || die "no fio on PATH"

# The guest kernel: Debian's, with its modules.
kernel=${AIOR_DEVICE_KERNEL:-}
if [ -z "$kernel" ]; then
	# shellcheck disable=SC2045 # ls -v: version order, names have no spaces
	for k in $(ls -v /boot/vmlinuz-* 2>/dev/null); do
		[ -d "/lib/modules/${k#/boot/vmlinuz-}/kernel" ] && kernel=$k
	done
fi
[ -n "$kernel" ] && [ -f "$kernel" ] ||
	{ say "CANNOT RUN: no guest kernel (/boot/vmlinuz-* with /lib/modules; apt-get install linux-image-amd64)"; exit 77; }
kver=${kernel#/boot/vmlinuz-}
mods=/lib/modules/$kver
[ -f "$mods/modules.dep" ] || die "$mods/modules.dep missing"

rm -rf "$dir"
mkdir -p "$dir/img" "$dir/initrd/bin" "$dir/initrd/mod" "$dir/out"
for d in proc sys dev; do mkdir -p "$dir/initrd/$d"; done
start=$SECONDS

# The initramfs: busybox, init.sh, and the modules 9p and overlay need, in
# dependency order (modules.dep lists each module's dependencies).
declare -A seen=()
order=()
add_mod() {
	local m=$1 d
	[ -n "${seen[$m]:-}" ] && return
	seen[$m]=1
	for d in $(grep -E "^$m:" "$mods/modules.dep" | cut -d: -f2); do
		add_mod "$d"
	done
	order+=("$m")
}
for m in virtio_pci 9pnet_virtio 9p overlay; do
	p=$(grep -oE "^[^:]*/$m\.ko[^:]*" "$mods/modules.dep" || true)
	if [ -z "$p" ]; then
		# Built into this kernel: nothing to load.
		grep -qE "/$m\.ko" "$mods/modules.builtin" ||
			die "$kver has no module $m"
		continue
	fi
	add_mod "$p"
done
for m in "${order[@]}"; do
	case $m in
	*.ko) cp "$mods/$m" "$dir/initrd/mod/" ;;
	*.ko.xz) xz -dc "$mods/$m" >"$dir/initrd/mod/$(basename "$m" .xz)" ;;
	*.ko.zst) zstd -qdc "$mods/$m" >"$dir/initrd/mod/$(basename "$m" .zst)" ;;
	*) die "cannot load $m" ;;
	esac
	b=$(basename "$m"); echo "${b%.ko*}.ko"
done >"$dir/initrd/mod/order"
cp "$(command -v busybox)" "$dir/initrd/bin/busybox"
ln -s busybox "$dir/initrd/bin/sh"
cp "$repo/tests/device/init.sh" "$dir/initrd/init"
chmod 755 "$dir/initrd/init"
(cd "$dir/initrd" && find . | cpio -o -H newc --quiet | gzip -1) >"$dir/initrd.gz"

cat >"$dir/out/guest.env" <<ENV
AIOR_ENGINE=$engine
AIOR_REPO=$repo
AIOR_DEVICE_CHECKS="${AIOR_DEVICE_CHECKS:-}"
ENV

# Images, sparse.  The failing namespace: blkdebug under the raw format,
# so the format's read_aio/write_aio events arm the rules; reads of LBA
# 4096 and writes of LBA 6144 (512-byte sectors: 2 MiB and 3 MiB) fail
# with EIO, every time.
for i in ns512 ns4k bad hot1 hot2 hot3 hot4 hot5 hot6 hot7; do
	truncate -s 64M "$dir/img/$i.img"
done
truncate -s 1G "$dir/img/zns.img"
blk() {	# NAME: a raw node over a file, discards punch holes
	printf -- '-blockdev driver=file,filename=%s,node-name=%s-file,discard=unmap,cache.direct=off ' \
		"$dir/img/$1.img" "$1"
	printf -- '-blockdev driver=raw,file=%s-file,node-name=%s,discard=unmap ' "$1" "$1"
}

qargs=(-machine q35 -smp 2 -m 1536 -display none -no-reboot -nodefaults
       -kernel "$kernel" -initrd "$dir/initrd.gz"
       -chardev "file,id=con,path=$dir/serial.log" -serial chardev:con
       -chardev "file,id=ctl,path=$dir/ctl.log" -device isa-serial,chardev=ctl
       -monitor "pipe:$dir/mon"
       -fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
       -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
       -fsdev "local,id=out,path=$dir/out,security_model=none"
       -device virtio-9p-pci,fsdev=out,mount_tag=out)
# shellcheck disable=SC2207 # blk's words have no spaces
qargs+=($(blk ns512) $(blk ns4k) $(blk zns) $(blk hot1) $(blk hot2)
	$(blk hot3) $(blk hot4) $(blk hot5) $(blk hot6) $(blk hot7))
qargs+=(-blockdev "driver=file,filename=$dir/img/bad.img,node-name=bad-file"
	-blockdev "{\"driver\":\"raw\",\"node-name\":\"bad\",\"file\":{\"driver\":\"blkdebug\",\"image\":\"bad-file\",\"inject-error\":[{\"event\":\"read_aio\",\"iotype\":\"read\",\"errno\":5,\"sector\":4096},{\"event\":\"write_aio\",\"iotype\":\"write\",\"errno\":5,\"sector\":6144}]}}")
qargs+=(-device nvme,id=main,serial=aior-main
	-device nvme-ns,bus=main,nsid=1,drive=ns512,logical_block_size=512,physical_block_size=512
	-device nvme-ns,bus=main,nsid=2,drive=ns4k,logical_block_size=4096,physical_block_size=4096
	-device nvme-ns,bus=main,nsid=3,drive=bad,logical_block_size=512,physical_block_size=512
	-device nvme,id=znsc,serial=aior-zns
	-device nvme-ns,bus=znsc,nsid=1,drive=zns,logical_block_size=4096,physical_block_size=4096,zoned=true,zoned.zone_size=64M)
for i in 1 2 3 4 5 6 7; do
	qargs+=(-device "pcie-root-port,id=rp$i,chassis=$i,slot=$i"
		-device "nvme,id=hot$i,serial=aior-hot$i,drive=hot$i,bus=rp$i")
done
append="console=ttyS0 panic=-1 quiet aior.out=$dir/out aior.script=$repo/tests/device/guest.sh"

qemu_pid='' tail_pid='' cat_pid=''
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	[ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
	[ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null
	[ -n "$cat_pid" ] && kill "$cat_pid" 2>/dev/null
	rm -rf "$dir/img"
}
trap cleanup EXIT

# boot ACCEL EXTRA_APPEND DEADLINE: start QEMU in the background, follow
# ctl.log, act on the guest's requests; sets GUEST (done status, or why
# not) when QEMU has exited.
boot() {
	local accel=$1 extra=$2 deadline=$((SECONDS + $3)) booted=0 line
	rm -f "$dir/mon.in" "$dir/mon.out" "$dir/ctl.log" "$dir/serial.log"
	mkfifo "$dir/mon.in" "$dir/mon.out"
	: >"$dir/ctl.log"
	GUEST="no result"
	qemu-system-x86_64 -accel "$accel" "${qargs[@]}" \
		-append "$append $extra" 2>"$dir/qemu.err" &
	qemu_pid=$!
	cat "$dir/mon.out" >>"$dir/monitor.log" &
	cat_pid=$!
	exec 8< <(tail -n +1 -F "$dir/ctl.log" 2>/dev/null)
	tail_pid=$!
	local part='' chunk
	while kill -0 "$qemu_pid" 2>/dev/null; do
		# The guest's UART writes a character at a time: a read that
		# times out mid-line keeps what it got for the next one.
		chunk=''
		if IFS= read -r -t 2 chunk <&8; then
			line=$part$chunk part=''
			line=${line%$'\r'}
			case $line in
			@@BOOTED*)
				booted=1
				say "guest up after $((SECONDS - start))s ($accel)" ;;
			@@DEL\ *)
				say "device_del ${line#@@DEL }"
				echo "device_del ${line#@@DEL }" >"$dir/mon.in" ;;
			@@DONE\ *|@@FAIL\ *)
				GUEST=${line#@@} ;;
			esac
		else
			part+=$chunk
		fi
		if [ "$booted" = 0 ] && [ "$SECONDS" -gt $((start + boot_timeout)) ]; then
			GUEST="did not boot within ${boot_timeout}s"
			break
		fi
		if [ "$SECONDS" -gt "$deadline" ]; then
			GUEST="did not finish within $(($3))s"
			break
		fi
	done
	kill "$qemu_pid" 2>/dev/null && sleep 1
	wait "$qemu_pid" 2>/dev/null || true
	kill "$tail_pid" "$cat_pid" 2>/dev/null || true
	exec 8<&-
	qemu_pid='' tail_pid='' cat_pid=''
	[ "$booted" = 1 ] || [ "$GUEST" != "no result" ] || GUEST="did not boot (QEMU exited)"
}

# KVM only where it works: a probe boot that must end in time.
accel=${AIOR_DEVICE_ACCEL:-auto}
if [ "$accel" = auto ]; then
	accel=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		boot kvm aior.probe 60
		if grep -q '@@BOOTED' "$dir/ctl.log"; then
			accel=kvm
		else
			say "KVM probe failed ($GUEST): using TCG"
		fi
		start=$SECONDS
	else
		say "no usable /dev/kvm: TCG"
	fi
fi

say "booting $kver under $accel (log: $dir/serial.log)"
boot "$accel" "" "$timeout_s"

rm -f "$dir/PASS" "$dir/FAIL" "$dir/SKIPPED"
[ -f "$dir/out/results.txt" ] && cp "$dir/out/results.txt" "$dir/results.txt"
[ -d "$dir/out/log" ] && rm -rf "$dir/log" && mv "$dir/out/log" "$dir/log"
GUEST_SECS=$((SECONDS - start))
say "guest ended after ${GUEST_SECS}s, the stage after $((SECONDS - t_begin))s: $GUEST"
case $GUEST in
"DONE PASS"*) status=PASS ;;
"DONE SKIPPED"*) status=SKIPPED ;;
*) status=FAIL ;;
esac
{
	echo "$status: $GUEST; guest ${GUEST_SECS}s, stage $((SECONDS - t_begin))s, $kver under $accel"
} >"$dir/$status"
if [ -f "$dir/results.txt" ]; then
	say "results ($dir/results.txt):"
	cat "$dir/results.txt"
fi
case $status in
PASS) say "PASS"; exit 0 ;;
SKIPPED) say "SKIPPED: a check could not run here (see CANNOT RUN above)"; exit 77 ;;
*)
	printf -- '----- %s -----\n' "$dir/serial.log"
	tail -n 200 "$dir/serial.log"
	printf -- '----- end of serial log -----\n'
	[ -s "$dir/qemu.err" ] && cat "$dir/qemu.err"
	die "the device stage failed ($GUEST)"
	;;
esac
