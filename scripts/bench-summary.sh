#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Summarize several gmem_bench runs (the bench.tsv of each "make demo"),
# gmem-movable against memfd in a memslot (memfd-kvm), from each run's raw
# figures: one line per run, then each ratio's median over the runs with the
# lowest and highest, and the throughput pairs of all runs pooled.
#   tput      move_pages() pages/s, gmem-movable / memfd-kvm, each move
#             against the other's move of the same round: the median of a
#             run's pairs [the lowest-highest pair], and how many pairs < 1
#   tput-med  the ratio of the two backends' median pages/s
#   unmapped  the same for gmem-unmapped / memfd-kvm (nothing to zap)
#   stall     first access to a moved page, gmem-movable / memfd-kvm:
#             median and p99 (lower is better)
#   huge      huge pages gained after compaction: memfd-kvm, gmem-movable,
#             gmem-unmovable
#   offline   memory blocks offlined of those holding the region, same
#             backends
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
# median(a, n): of a[1..n], sorted in place.
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# rates(f, b, out): the pages/s of each move of backend b in run f.
function rates(f, b, out,   i) {
	for (i = 1; (f, b, i) in rate; i++)
		out[i] = rate[f, b, i]
	return i - 1
}
function over(name, col,   i, a, lo, hi) {
	for (i = 1; i <= nf; i++) {
		a[i] = r[i, col]
		if (i == 1 || a[i] < lo) lo = a[i]
		if (i == 1 || a[i] > hi) hi = a[i]
	}
	printf "  %-34s %.2f [%.2f-%.2f]\n", name, median(a, nf), lo, hi
}
FNR == 1 {
	if (FILENAME in seen) {
		printf "bench-summary: %s given twice\n", FILENAME > "/dev/stderr"
		bad = 1
	}
	seen[FILENAME] = 1
	files[++nf] = FILENAME
}
NF != 4 || $4 !~ /^-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?$/ {
	printf "bench-summary: %s line %d is not phase, backend, metric, number\n",
	       FILENAME, FNR > "/dev/stderr"
	bad = 1
	next
}
{ v[FILENAME, $1, $2, $3] = $4 }
$1 == "throughput" && $3 == "pages_per_s" {
	if ($4 <= 0) {
		printf "bench-summary: %s line %d: %s pages/s\n", FILENAME, FNR, $4 > "/dev/stderr"
		bad = 1
	}
	rate[FILENAME, $2, ++nrate[FILENAME, $2]] = $4
}
END {
	gm = "gmem-movable"; mk = "memfd-kvm"; um = "gmem-unmovable"
	gu = "gmem-unmapped"
	split("anon memfd anon-kvm memfd-kvm gmem-unmapped gmem-movable", all, " ")
	for (i = 1; i <= nf; i++) {
		f = files[i]
		for (j = 1; j <= 6; j++)
			if (nrate[f, all[j]] < 10 || nrate[f, all[j]] != nrate[f, gm]) {
				printf "bench-summary: %s: %d throughput moves of %s, %d of %s (10 or more each, as many for all)\n",
				       f, nrate[f, all[j]], all[j], nrate[f, gm], gm > "/dev/stderr"
				bad = 1
			}
		val(f, "stall", gm "/" mk, "ratio_median")
		val(f, "stall", gm "/" mk, "ratio_p99")
		for (j = 1; j <= 3; j++) {
			b = j == 1 ? mk : j == 2 ? gm : um
			val(f, "compaction", b, "huge_pages_gained")
			val(f, "offline", b, "offlined")
			val(f, "offline", b, "blocks")
		}
	}
	if (bad) {
		print "bench-summary: stopped: each file must be the bench.tsv of one full make demo run" > "/dev/stderr"
		exit 1
	}
	printf "%-3s %-18s %-6s %-8s %-8s %-11s %-15s %s\n", "run", "tput [min-max]",
	       "<1", "tput-med", "unmapped", "stall p50/p99", "huge mk/gm/um",
	       "offline mk/gm/um"
	np = 0; below = 0
	for (i = 1; i <= nf; i++) {
		f = files[i]
		n = rates(f, gm, g)
		rates(f, mk, m)
		nu = rates(f, gu, u)
		lo = hi = g[1] / m[1]; nb = 0
		for (k = 1; k <= n; k++) {
			p[k] = g[k] / m[k]
			pool[++np] = p[k]
			if (p[k] < 1) { nb++; below++ }
			if (p[k] < lo) lo = p[k]
			if (p[k] > hi) hi = p[k]
		}
		r[i, 1] = median(p, n)
		r[i, 2] = median(g, n) / median(m, n)
		r[i, 3] = median(u, nu) / median(m, n)
		r[i, 4] = val(f, "stall", gm "/" mk, "ratio_median")
		r[i, 5] = val(f, "stall", gm "/" mk, "ratio_p99")
		printf "%-3d %.2f [%.2f-%.2f]  %-6s %-8.2f %-8.2f %.2f/%.2f   ", i,
		       r[i, 1], lo, hi, nb "/" n, r[i, 2], r[i, 3], r[i, 4], r[i, 5]
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
	over("unmapped, from the medians", 3)
	over("stall median (goal <= 1.0)", 4)
	over("stall p99 (goal <= 1.0)", 5)
	printf "all %d pairs of moves: median %.2f, %d below 1.0\n", np,
	       median(pool, np), below
}' "$@"
