#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Print what gmem_bench printed in the VM of "make demo", fail if it failed
# or if the kernel splatted, and plot its results to $RESULTS/bench/bench.png.
set -euo pipefail
source "$(dirname "$0")/common.sh"

out=$RESULTS/bench
[ -f "$out/done" ] ||
	die "the bench VM did not finish (vm.rc: $(cat "$out/vm.rc" 2>/dev/null || echo none)); console log: $out/console.log"
cat "$out/bench.out"
echo

read -r rc secs <"$out/bench.rc"
found=$(cat "$out/dmesg.txt" "$out/console.log" | grep -E "$SPLAT_RE" | head -5 || true)
[ -z "$found" ] || die "kernel splat during the benchmark:
$found"
[ "$rc" -eq 0 ] || die "gmem_bench failed (exit $rc after ${secs}s), see $out/bench.out"

# BENCH_PERF=1: the share of the samples (inclusive) of what a move does.
funcs="migrate_pages|try_to_migrate|move_to_new_folio|folio_mc_copy"
funcs+="|__mmu_notifier_invalidate_range_start|__mmu_notifier_invalidate_range_end"
funcs+="|kvm_mmu_notifier_invalidate_range_start|kvm_mmu_notifier_invalidate_range_end"
funcs+="|kvm_gmem_migrate_folio|__kvm_gmem_invalidate_start|kvm_gmem_invalidate_end"
funcs+="|kvm_unmap_gfn_range|tdp_mmu_zap_leafs|kvm_make_all_cpus_request"
if [ -f "$out/perf.txt" ]; then
	echo "== where the time goes: perf, share of all samples including callees"
	echo "   (profiled: these figures are not the benchmark's; all: $out/perf.txt)"
	grep -E "\] ($funcs) " "$out/perf.txt" | sed 's/ *- *- *$//' ||
		echo "   (no migration function was sampled)"
	echo
fi

"$TOP/scripts/plot-bench.sh" "$out/bench.tsv" "$out/bench.png"
log "gmem_bench passed in ${secs}s on $(cut -d' ' -f3 "$out/uname.txt"), no kernel splat; plot: $out/bench.png"
