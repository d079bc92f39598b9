#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the test kernel of KIND ("patched", "base" or "control") under QEMU
# TCG (-cpu max: AMD SVM with nested paging, so KVM works inside), two
# sockets in two NUMA nodes, with the initramfs of make-initramfs.sh, and
# run scripts/guest-run.sh in it (the KVM selftests and system tests), or
# for KIND "bench" scripts/guest-bench.sh (the benchmark).  KIND "onenode"
# boots the patched kernel on one node and runs only the series' test,
# which must skip there.  The script runs in the host's root, shared
# read-only over 9p; the results directory is shared read-write.  The
# modules of the kernel's tree are installed, stripped, into
# $WORK/modules/KIND, where the VM's modprobe finds them (GMEM_MODULES).
# Results go to $RESULTS/KIND; a VM that does not finish in VM_TIMEOUT
# seconds is killed.  KERNEL=TREE/arch/x86/boot/bzImage boots the kernel of
# another built tree (a scratch build, say) in place of the one of KIND;
# BENCH_PERF=1 profiles the benchmark with perf.
#
# Usage: run-vm.sh patched|base|control [TEST...]
#        run-vm.sh onenode
#        run-vm.sh bench [GMEM_BENCH_OPTION...]
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds qemu-system-x86_64 timeout make depmod modprobe

kind=${1:-patched}
shift || true
# Node 0 is [0, 2G) and node 1 [4G, 6G) of guest physical memory; one CPU
# per socket and node avoids a topology_sane() warning.
# cma=: a 1 GiB CMA area in node 1, more than half of that node's free
# memory, so that movable allocations there take CMA pages (gmem_systest's
# CMA case).  nokaslr keeps the kernel image at 16 MiB, in node 0: with
# KASLR the image (about 78 MiB) can be placed in node 1, and near the
# node's middle it leaves no free 1 GiB range there.  One boot of session 8
# failed with "cma: Failed to reserve 1024 MiB", probably for that reason
# (its log does not say where the image was).
# shellcheck disable=SC2054 # QEMU's option lists have commas
machine=(-smp 2,sockets=2,cores=1,threads=1 -m 4G
	-object memory-backend-ram,id=m0,size=2G
	-object memory-backend-ram,id=m1,size=2G
	-numa node,nodeid=0,cpus=0,memdev=m0
	-numa node,nodeid=1,cpus=1,memdev=m1)
append="cma=1G@4G-6G"
case "$kind" in
patched | base | control | bench) ;;
onenode)
	machine=(-smp 2 -m 2G)
	append=
	set -- guest_memfd_migrate_test ;;
*) die "unknown kind '$kind' (want: patched, base, control, onenode or bench)" ;;
esac
# The benchmark fills node 1 with unmovable guest_memfd too, which a CMA
# area there would leave short of memory (the OOM killer ended gmem_bench).
[ "$kind" != bench ] || append=
kernel=${KERNEL:-$(tree_for "${kind/onenode/patched}")/arch/x86/boot/bzImage}
initramfs=$WORK/initramfs.cpio.gz
sdir=$TREE/tools/testing/selftests/kvm
out=$RESULTS/$kind
modules=$WORK/modules/$kind

[ -f "$kernel" ] || die "$kernel missing (run: make kernel, base-kernel or bench-kernel)"
[ -f "$initramfs" ] || die "$initramfs missing (run: make initramfs)"
ktree=${kernel%/arch/x86/boot/bzImage}
[ "$ktree" != "$kernel" ] && [ -f "$ktree/include/config/kernel.release" ] ||
	die "$kernel is not the bzImage of a built kernel tree (TREE/arch/x86/boot/bzImage), whose modules the VM needs"
if [ "$kind" = bench ]; then
	[ -x "$BENCH" ] || die "$BENCH not built (run: make bench)"
	perf=()
	if [ -n "${BENCH_PERF:-}" ]; then
		need_cmds perf
		perf=(--perf)
	fi
	guest=("$TOP/scripts/guest-bench.sh" "${perf[@]}" "$out" "$BENCH" "$@")
else
	[ -x "$sdir/guest_memfd_test" ] && [ -x "$KSELFTEST/run_kselftest.sh" ] ||
		die "selftests not built (run: make selftests)"
	# The system tests test the series: the base kernel runs without them.
	pdir=$PROGS
	[ "$kind" != base ] || pdir=none
	[ "$pdir" = none ] || [ -x "$pdir/gmem_systest" ] ||
		die "programs not built (run: make progs)"
	guest=("$TOP/scripts/guest-run.sh" "$out" "$sdir" "$KSELFTEST" "$pdir" "$@")
fi
vm_prepare "$out" env GMEM_MODULES="$modules" "${guest[@]}"

# The kernel's modules, as modules_install puts them (a kernel built
# without modules, as the benchmark's, has KVM built in and needs none).
rm -rf "$modules"
mkdir -p "$modules"
if [ -s "$ktree/modules.order" ]; then
	make -C "$ktree" -s modules_install INSTALL_MOD_PATH="$modules" \
		INSTALL_MOD_STRIP=1 >/dev/null ||
		die "installing the modules of $ktree failed"
	[ -f "$modules/lib/modules/$(cat "$ktree/include/config/kernel.release")/modules.dep" ] ||
		die "no modules.dep in $modules (did depmod run?)"
fi

log "booting $kernel ($kind)"
# Single-threaded TCG avoids stale text-patching breakpoints when KVM flips
# static keys (DESIGN.md, sec. 4).  la57=off: with 5-level paging, the
# unpatched 7.3.4 KASAN kernel reported a wild-memory-access in
# handle_edge_irq() at boot and turned lock debugging off.
vm_boot "$out" qemu-system-x86_64 \
	-M q35 -cpu max,la57=off -accel tcg,thread=single \
	"${machine[@]}" -nographic -vga none -nic none -no-reboot \
	-kernel "$kernel" -initrd "$initramfs" \
	-virtfs "local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap" \
	-virtfs "local,path=$out,mount_tag=results,security_model=none" \
	-append "console=ttyS0 earlyprintk=serial,ttyS0,115200 rdinit=/init panic=-1 panic_on_warn=0 softlockup_panic=0 nokaslr $append gmem.root=root gmem.share=results:$out gmem.run=$out/guest.sh"
