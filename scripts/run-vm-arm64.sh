#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot an arm64 test kernel under QEMU TCG at EL2 (virt machine, GICv3,
# -cpu max: KVM runs inside, in VHE mode, or in pKVM's protected mode for
# arm64-pkvm), two NUMA nodes of one CPU each
# (3 and 2 GiB), with the initramfs of make-initramfs.sh, and run
# scripts/guest-run.sh in it, as run-vm.sh does on x86.  The repository and
# $WORK are shared read-only over 9p at their host paths, the results
# directory read-write.  KIND:
#   arm64          the series (make check-arm64)
#   arm64-base     the base kernel, without the system tests (make baseline-arm64)
#   arm64-onenode  the series on one node: only the series' test, which must skip
#   arm64-pkvm     the series with kvm-arm.mode=protected (pKVM), where the
#                  flag must not be offered: guest_memfd_test and the series' test
#   arm64-control  a negative control (run-controls.sh arm64): the TESTs given
# Results go to $RESULTS/KIND; a VM that does not finish in VM_TIMEOUT
# seconds is killed.  KERNEL=path/to/Image boots another kernel.
#
# Usage: run-vm-arm64.sh [KIND] [TEST...]
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds qemu-system-aarch64 timeout

kind=${1:-arm64}
shift || true
tree=$ARM64_TREE
pdir=$ARM64_DIR/progs
# The guest's memory: RAM starts at 1 GiB on QEMU's virt machine; node 0 is
# [1G, 4G) and node 1 [4G, 6G) of guest physical memory, so that node 1 is
# all ZONE_NORMAL (arm64's ZONE_DMA ends at 4G), as on x86.  cma=: a 1 GiB
# CMA area in node 1 (gmem_systest's CMA case), more than half of that
# node's free memory, as on x86 (an area across 4G, in two zones, is
# reserved but not activated).  nokaslr keeps the kernel image at the start
# of node 0.
# shellcheck disable=SC2054 # QEMU's option lists have commas
memory=(-m 5G
	-object memory-backend-ram,id=m0,size=3G
	-object memory-backend-ram,id=m1,size=2G
	-numa node,nodeid=0,cpus=0,memdev=m0
	-numa node,nodeid=1,cpus=1,memdev=m1)
append="cma=1G@4G-6G"
case "$kind" in
arm64) ;;
arm64-base)
	tree=$ARM64_BASE_TREE
	pdir=none ;;
arm64-onenode)
	memory=(-m 2G)
	append=
	set -- guest_memfd_migrate_test ;;
arm64-pkvm)
	append="$append kvm-arm.mode=protected"
	set -- guest_memfd_test guest_memfd_migrate_test ;;
arm64-control) tree=$ARM64_CONTROL_TREE ;;
*) die "unknown kind '$kind' (want: arm64, arm64-base, arm64-onenode, arm64-pkvm or arm64-control)" ;;
esac
kernel=${KERNEL:-$tree/arch/arm64/boot/Image}
initramfs=$ARM64_DIR/initramfs.cpio.gz
sdir=$ARM64_TREE/tools/testing/selftests/kvm
ksdir=$ARM64_DIR/kselftest
out=$RESULTS/$kind

[ -f "$kernel" ] || die "$kernel missing (run: make kernel-arm64 or base-kernel-arm64)"
[ -f "$initramfs" ] || die "$initramfs missing (run: make initramfs-arm64)"
[ -x "$sdir/guest_memfd_test" ] && [ -x "$ksdir/run_kselftest.sh" ] ||
	die "arm64 selftests not built (run: make selftests-arm64)"
[ "$pdir" = none ] || [ -x "$pdir/gmem_systest" ] ||
	die "arm64 programs not built (run: make progs-arm64)"
vm_prepare "$out" "$TOP/scripts/guest-run.sh" "$out" "$sdir" "$ksdir" "$pdir" "$@"

log "booting $kernel ($kind)"
# Single-threaded TCG, as on x86 (run-vm.sh).  Under multi-threaded TCG,
# one hot_page run of session 15's cold make check-arm64 hit
# KVM_BUG_ON(vcpu_get_flag(vcpu, SYSREGS_ON_CPU)) in kvm_vcpu_load_debug()
# on sched-in: the vCPU's registers loaded again without having been put,
# as a skipped sched-out notifier would leave them (we found no other way
# in the sources).  That notifier sits behind a static key that KVM
# patches when the first VM is created and the last destroyed, and under
# QEMU 7.2's multi-threaded TCG x86 vCPUs ran stale code after such
# patches (README, "make check-arm64").
vm_boot "$out" qemu-system-aarch64 \
	-M virt,virtualization=on,gic-version=3 -cpu max,pauth-impdef=on \
	-smp 2 "${memory[@]}" -accel tcg,thread=single \
	-nographic -no-reboot \
	-kernel "$kernel" -initrd "$initramfs" \
	-virtfs "local,path=$TOP,mount_tag=top,security_model=none,readonly=on" \
	-virtfs "local,path=$WORK,mount_tag=work,security_model=none,readonly=on" \
	-virtfs "local,path=$out,mount_tag=results,security_model=none" \
	-append "console=ttyAMA0 rdinit=/init panic=-1 panic_on_warn=0 softlockup_panic=0 nokaslr $append gmem.share=top:$TOP gmem.share=work:$WORK gmem.share=results:$out gmem.run=$out/guest.sh"
