#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the test kernel of KIND ("patched", "base" or "control") with
# virtme-ng under QEMU TCG (-cpu max: AMD SVM with nested paging, so KVM
# works inside), two sockets in two NUMA nodes, and run scripts/guest-run.sh in it (the KVM
# selftests and system tests), or for KIND "bench" scripts/guest-bench.sh
# (the benchmark).  KIND "onenode" boots the patched kernel on one node and
# runs only the series' test, which must skip there.  Results go to
# $RESULTS/KIND; a VM that does not finish in VM_TIMEOUT seconds is killed.
# KERNEL=path/to/bzImage boots another kernel (a scratch build, say) in place
# of the one of KIND; BENCH_PERF=1 profiles the benchmark with perf.
#
# Usage: run-vm.sh patched|base|control [TEST...]
#        run-vm.sh onenode
#        run-vm.sh bench [GMEM_BENCH_OPTION...]
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds vng qemu-system-x86_64 timeout

kind=${1:-patched}
shift || true
# The guest's memory must match the NUMA nodes' sum; 2 sockets with one CPU
# each avoid a topology_sane() warning.
# cma=: a 1 GiB CMA area in node 1 ([4G, 6G) of guest physical memory), more
# than half of that node's free memory, so that movable allocations there
# take CMA pages (gmem_systest's CMA case).  nokaslr keeps the kernel image
# at 16 MiB, in node 0: with KASLR the image (about 78 MiB) can be placed in
# node 1, and near the node's middle it leaves no free 1 GiB range there.
# One boot of session 8 failed with "cma: Failed to reserve 1024 MiB",
# probably for that reason (its log does not say where the image was).
topology=(--cpus "2,sockets=2,cores=1,threads=1" --memory 4G
	--numa "2G,cpus=0" --numa "2G,cpus=1")
append="cma=1G@4G-6G"
if [ "$kind" = onenode ]; then
	topology=(--cpus 2 --memory 2G)
	append=
	set -- guest_memfd_migrate_test
fi
# The benchmark fills node 1 with unmovable guest_memfd too, which a CMA
# area there would leave short of memory (the OOM killer ended gmem_bench).
[ "$kind" != bench ] || append=
kernel=${KERNEL:-$(tree_for "${kind/onenode/patched}")/arch/x86/boot/bzImage}
sdir=$TREE/tools/testing/selftests/kvm
out=$RESULTS/$kind
timeout=${VM_TIMEOUT:-3600}

[ -f "$kernel" ] || die "$kernel missing (run: make kernel, base-kernel or bench-kernel)"
if [ "$kind" = bench ]; then
	[ -x "$BENCH" ] || die "$BENCH not built (run: make bench)"
	perf=
	[ -z "${BENCH_PERF:-}" ] || perf=--perf
	guest_cmd="$TOP/scripts/guest-bench.sh $perf $out $BENCH $*"
else
	[ -x "$sdir/guest_memfd_test" ] && [ -x "$KSELFTEST/run_kselftest.sh" ] ||
		die "selftests not built (run: make selftests)"
	# The system tests test the series: the base kernel runs without them.
	pdir=$PROGS
	[ "$kind" != base ] || pdir=none
	guest_cmd="$TOP/scripts/guest-run.sh $out $sdir $KSELFTEST $pdir $*"
fi

rm -rf "$out"
mkdir -p "$out"
log "booting $kernel ($kind), results in $out (timeout ${timeout}s)"
start=$SECONDS
rc=0
# Single-threaded TCG avoids stale text-patching breakpoints when KVM flips
# static keys (DESIGN.md, sec. 4).  la57=off: with 5-level paging, the
# unpatched 7.3.4 KASAN kernel reported a wild-memory-access in
# handle_edge_irq() at boot and turned lock debugging off.
timeout --kill-after=30 "$timeout" vng --run "$kernel" --disable-kvm --verbose \
	"${topology[@]}" \
	--qemu-opts="-cpu max,la57=off -accel tcg,thread=single" \
	--force-9p --user root --rwdir="$out" \
	--append "panic_on_warn=0 softlockup_panic=0 nokaslr $append" \
	--exec "$guest_cmd" \
	>"$out/console.log" 2>&1 </dev/null || rc=$?
log "VM exited with $rc after $((SECONDS - start)) s"
echo "$rc $((SECONDS - start))" >"$out/vm.rc"
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	log "VM hung and was killed after ${timeout}s; console log: $out/console.log"
fi
exit 0
