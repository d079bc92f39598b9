#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the root of the arm64 test VM: an initramfs of busybox-static and
# bash-static (arm64 Debian packages that setup-host.sh arm64 downloaded)
# and an /init that mounts the host's directories over 9p at the paths they
# have on the host, runs the script that the kernel command line names, and
# powers the VM off.  The tests, the programs and scripts/guest-run.sh come
# over 9p, so the initramfs changes only with this script.
#
# The kernel command line's gmem.share=TAG:PATH (any number) mounts the 9p
# share TAG at PATH; gmem.run=SCRIPT runs SCRIPT with bash.
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds dpkg-deb cpio gzip

root=$ARM64_DIR/root
out=$ARM64_DIR/initramfs.cpio.gz
debs=()
[ -d "$ARM64_DIR/debs" ] || die "no $ARM64_DIR/debs (run: make setup-arm64)"
for p in busybox-static bash-static; do
	f=$(find "$ARM64_DIR/debs" -name "${p}_*_arm64.deb" 2>/dev/null | head -n1)
	[ -n "$f" ] || die "no $p arm64 package in $ARM64_DIR/debs (run: make setup-arm64)"
	debs+=("$f")
done

rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc}
for f in "${debs[@]}"; do
	dpkg-deb -x "$f" "$root/pkg"
done
mv "$root/pkg/usr/bin/busybox" "$root/bin/busybox"
mv "$root/pkg/usr/bin/bash-static" "$root/bin/bash"
rm -rf "$root/pkg"

cat >"$root/init" <<'EOI'
#!/bin/busybox sh
# /init of the arm64 test VM (scripts/make-initramfs.sh).
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/shm /sys/fs/cgroup
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
ln -s /proc/self/fd /dev/fd
run=
set -f	# (the words of the command line are not patterns)
for a in $(cat /proc/cmdline); do
	case "$a" in
	gmem.share=*:*)
		a=${a#gmem.share=}
		mkdir -p "${a#*:}"
		mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 \
			"${a%%:*}" "${a#*:}" || echo "init: mounting ${a%%:*} failed"
		;;
	gmem.run=*) run=${a#gmem.run=} ;;
	esac
done
if [ -n "$run" ]; then
	/bin/bash "$run"
	echo "init: $run exited $?"
else
	echo "init: no gmem.run= on the kernel command line"
fi
poweroff -f
EOI

# The kselftest runner runs tests under "timeout --foreground", which
# busybox's timeout does not know; without a terminal it changes nothing.
cat >"$root/usr/bin/timeout" <<'EOI'
#!/bin/busybox sh
[ "$1" = --foreground ] && shift
exec /bin/busybox timeout "$@"
EOI
chmod +x "$root/init" "$root/usr/bin/timeout"

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
log "built $out ($(du -k "$out" | cut -f1) KiB)"
