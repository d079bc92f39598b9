#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the root of the test VMs: an initramfs of a static busybox and an
# /init that mounts the host's directories over 9p at the paths they have
# on the host, runs the script that the kernel command line names, and
# powers the VM off.  The tests, the programs and scripts/guest-run.sh come
# over 9p, so the initramfs changes only with this script.
#
# x86: the host's busybox (busybox-static); the script runs in the host's
# root, shared read-only (gmem.root=), so the host's bash, kmod, perf and
# the dynamically linked tests run in it as on the host.
# arm64: Debian's arm64 busybox-static and bash-static (setup-host.sh arm64
# downloads them); the script runs in the initramfs, and the tests are
# built static for it.
#
# The kernel command line's gmem.root=TAG mounts the 9p share TAG as the
# root the script runs in (chroot), with writable overlays on its /tmp and
# /run (overlays rather than tmpfs, so that a repository under /tmp stays
# visible); gmem.share=TAG:PATH (any number) mounts the 9p share TAG at
# PATH (in that root, if there is one); gmem.run=SCRIPT runs SCRIPT with
# bash.  A 9p or overlay mount that fails powers the VM off, and the
# console says why.
#
# Usage: make-initramfs.sh x86|arm64
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds cpio gzip

case "${1:-}" in
x86)
	root=$WORK/initramfs
	out=$WORK/initramfs.cpio.gz
	if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null |
		grep -q 'ok installed' || [ ! -x /bin/busybox ]; then
		die "no static /bin/busybox (run: make setup)"
	fi
	rm -rf "$root"
	mkdir -p "$root/bin"
	cp /bin/busybox "$root/bin/busybox" ;;
arm64)
	need_cmds dpkg-deb
	root=$ARM64_DIR/root
	out=$ARM64_DIR/initramfs.cpio.gz
	[ -d "$ARM64_DIR/debs" ] || die "no $ARM64_DIR/debs (run: make setup-arm64)"
	rm -rf "$root"
	mkdir -p "$root/bin" "$root/usr/bin"
	for p in busybox-static bash-static; do
		f=$(find "$ARM64_DIR/debs" -name "${p}_*_arm64.deb" 2>/dev/null | head -n1)
		[ -n "$f" ] || die "no $p arm64 package in $ARM64_DIR/debs (run: make setup-arm64)"
		dpkg-deb -x "$f" "$root/pkg"
	done
	mv "$root/pkg/usr/bin/busybox" "$root/bin/busybox"
	mv "$root/pkg/usr/bin/bash-static" "$root/bin/bash"
	rm -rf "$root/pkg"
	# The kselftest runner runs tests under "timeout --foreground",
	# which busybox's timeout does not know; without a terminal it
	# changes nothing.
	cat >"$root/usr/bin/timeout" <<-'EOI'
	#!/bin/busybox sh
	[ "$1" = --foreground ] && shift
	exec /bin/busybox timeout "$@"
	EOI
	chmod +x "$root/usr/bin/timeout" ;;
*) die "unknown argument '${1:-}' (want: x86 or arm64)" ;;
esac
mkdir -p "$root"/{sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,newroot,overlay}

cat >"$root/init" <<'EOI'
#!/bin/busybox sh
# /init of the test VMs (scripts/make-initramfs.sh).
export PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/tmp
/bin/busybox --install -s
fail() { echo "init: $*"; poweroff -f; }
p9=trans=virtio,version=9p2000.L,msize=512000
mount -t proc proc /proc
root= run= shares=
set -f	# (the words of the command line are not patterns)
for a in $(cat /proc/cmdline); do
	case "$a" in
	gmem.root=*) root=${a#gmem.root=} ;;
	gmem.share=*:*) shares="$shares ${a#gmem.share=}" ;;
	gmem.run=*) run=${a#gmem.run=} ;;
	esac
done
[ -n "$run" ] || fail "no gmem.run= on the kernel command line"
r=
if [ -n "$root" ]; then
	r=/newroot
	mount -t 9p -o ro,$p9 "$root" $r || fail "mounting the root $root failed"
	mount -t proc proc $r/proc
	mount -t tmpfs tmpfs /overlay
	for d in tmp run; do
		mkdir /overlay/$d /overlay/$d.work
		mount -t overlay overlay -o \
			lowerdir=$r/$d,upperdir=/overlay/$d,workdir=/overlay/$d.work \
			$r/$d || fail "an overlay on /$d failed"
	done
else
	mount -t tmpfs tmpfs /tmp
fi
mount -t sysfs sys $r/sys
mount -t devtmpfs dev $r/dev
mkdir -p $r/dev/shm
mount -t tmpfs tmpfs $r/dev/shm
mount -t cgroup2 cgroup2 $r/sys/fs/cgroup
ln -s /proc/self/fd $r/dev/fd
ln -s /proc/self/fd/0 $r/dev/stdin
ln -s /proc/self/fd/1 $r/dev/stdout
ln -s /proc/self/fd/2 $r/dev/stderr
for a in $shares; do
	mkdir -p "$r${a#*:}"
	mount -t 9p -o $p9 "${a%%:*}" "$r${a#*:}" || fail "mounting ${a%%:*} failed"
done
# (The kernel's own module requests run the initramfs's busybox modprobe,
# which has no modules: the scripts load what they need.)
chroot "${r:-/}" /bin/bash "$run"
echo "init: $run exited $?"
poweroff -f
EOI
chmod +x "$root/init"

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
log "built $out ($(du -k "$out" | cut -f1) KiB)"
