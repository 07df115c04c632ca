#!/bin/sh
# /init of the device stage's guest (busybox sh, in the initramfs that
# tests/device/run.sh builds).  It mounts the host's root, shared read-only
# over 9p, under a tmpfs overlay, so the host's fio and the host-built
# engine run unchanged in the guest, and hands over to the guest script
# (tests/device/guest.sh) in a chroot.  pid 1 chroots itself: the kernel's
# own helpers (modprobe for request_module) then see the host's tree too.
#
# Every failure powers the guest off: the host sees the serial log end
# without the guest script's "booted" marker, and fails the stage with it.

/bin/busybox --install -s /bin
export PATH=/bin

fail() {
	echo "aior-init: FAIL: $*"
	echo "@@FAIL init: $*" >/dev/ttyS1
	sync
	poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

# The modules 9p and overlay need, in dependency order (run.sh wrote it).
while read -r ko; do
	insmod "/mod/$ko" || fail "insmod $ko"
done </mod/order

# key=value words of the kernel command line: aior.out=, aior.script=.
for w in $(cat /proc/cmdline); do
	case $w in
	aior.out=*) out=${w#aior.out=} ;;
	aior.script=*) script=${w#aior.script=} ;;
	esac
done
[ -n "$out" ] && [ -n "$script" ] || fail "no aior.out= or aior.script= on the command line"

mkdir -p /lower /rw /newroot
# cache=loose: the host's tree is read-only for the guest's lifetime.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 \
	hostroot /lower || fail "mount the host's root over 9p"
mount -t tmpfs -o size=256m tmpfs /rw || fail "mount tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay overlay \
	-o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot ||
	fail "mount the overlay"
mount -t proc proc /newroot/proc
mount -t sysfs sys /newroot/sys
mount -t devtmpfs dev /newroot/dev
mkdir -p /newroot/dev/shm /newroot/dev/pts
# What udev would add: bash's <(...) opens /dev/fd/N.
ln -sf /proc/self/fd /newroot/dev/fd
ln -sf /proc/self/fd/0 /newroot/dev/stdin
ln -sf /proc/self/fd/1 /newroot/dev/stdout
ln -sf /proc/self/fd/2 /newroot/dev/stderr
mount -t tmpfs -o size=128m tmpfs /newroot/dev/shm
mkdir -p "/newroot$out"
# The run's output directory, read-write: the guest's results land there.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out "/newroot$out" ||
	fail "mount the output directory over 9p"

exec chroot /newroot /bin/bash "$script" "$out"
