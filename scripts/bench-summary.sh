#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Summarize several gmem_bench runs (the bench.tsv of each "make demo"): the
# ratios of movable guest_memfd to memfd in a memslot (memfd-kvm) of each run,
# then, for each ratio, its median over the runs with the lowest and highest.
#   tput      move_pages() pages/s, gmem-movable / memfd-kvm, move by move:
#             the median of a run's moves [its min-max]
#   tput-med  the same from the two backends' medians
#   stall     first access to a moved page, gmem-movable / memfd-kvm:
#             median and p99 (lower is better)
#   huge      huge pages gained after compaction: memfd-kvm, gmem-movable,
#             gmem-unmovable
#   offline   memory blocks offlined, same backends
#
# Usage: bench-summary.sh BENCH.TSV...
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds awk

[ $# -ge 1 ] || die "usage: bench-summary.sh BENCH.TSV..."
for f in "$@"; do
	[ -s "$f" ] || die "$f is missing or empty"
done

awk -F'\t' '
function val(f, p, b, m,   k) {
	k = f SUBSEP p SUBSEP b SUBSEP m
	if (!(k in v)) {
		printf "bench-summary: %s has no %s %s %s\n", f, p, b, m > "/dev/stderr"
		bad = 1
		return 0
	}
	return v[k]
}
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function over(name, col,   i, a, lo, hi) {
	for (i = 1; i <= nf; i++) {
		a[i] = r[i, col]
		if (i == 1 || a[i] < lo) lo = a[i]
		if (i == 1 || a[i] > hi) hi = a[i]
	}
	printf "  %-34s %.2f [%.2f-%.2f]\n", name, median(a, nf), lo, hi
}
FNR == 1 { files[++nf] = FILENAME }
{ v[FILENAME, $1, $2, $3] = $4 }
END {
	gm = "gmem-movable"; mk = "memfd-kvm"; um = "gmem-unmovable"
	for (i = 1; i <= nf; i++) {
		f = files[i]
		val(f, "throughput", gm "/" mk, "ratio_median")
		val(f, "stall", gm "/" mk, "ratio_median")
		val(f, "compaction", um, "huge_pages_gained")
		val(f, "offline", um, "blocks")
	}
	if (bad) {
		print "bench-summary: these are not full runs of make demo" > "/dev/stderr"
		exit 1
	}
	printf "%-3s %-18s %-8s %-11s %-15s %s\n", "run", "tput [min-max]",
	       "tput-med", "stall p50/p99", "huge mk/gm/um", "offline mk/gm/um"
	for (i = 1; i <= nf; i++) {
		f = files[i]
		r[i, 1] = val(f, "throughput", gm "/" mk, "ratio_median")
		r[i, 2] = val(f, "throughput", gm, "ratio_vs_memfd_kvm")
		r[i, 3] = val(f, "stall", gm "/" mk, "ratio_median")
		r[i, 4] = val(f, "stall", gm "/" mk, "ratio_p99")
		printf "%-3d %.2f [%.2f-%.2f]  %-8.2f %.2f/%.2f   ", i, r[i, 1],
		       val(f, "throughput", gm "/" mk, "ratio_min"),
		       val(f, "throughput", gm "/" mk, "ratio_max"),
		       r[i, 2], r[i, 3], r[i, 4]
		printf "%d/%d/%-9d %d/%d %d/%d %d/%d\n",
		       val(f, "compaction", mk, "huge_pages_gained"),
		       val(f, "compaction", gm, "huge_pages_gained"),
		       val(f, "compaction", um, "huge_pages_gained"),
		       val(f, "offline", mk, "offlined"), val(f, "offline", mk, "blocks"),
		       val(f, "offline", gm, "offlined"), val(f, "offline", gm, "blocks"),
		       val(f, "offline", um, "offlined"), val(f, "offline", um, "blocks")
	}
	printf "over %d runs, median [min-max] of the runs:\n", nf
	over("tput, move by move (goal >= 1.0)", 1)
	over("tput, from the medians", 2)
	over("stall median (goal <= 1.0)", 3)
	over("stall p99 (goal <= 1.0)", 4)
	exit bad
}' "$@"
