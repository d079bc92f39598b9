#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Plot the results of one gmem_bench run (its TSV: phase, backend, metric,
# value) as a PNG with four panels: move_pages() throughput, order-9 blocks
# recovered by compaction, memory blocks offlined, and the vCPU's first-access
# stall.
#
# Usage: plot-bench.sh BENCH.TSV OUT.PNG
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds gnuplot awk

[ $# -eq 2 ] || die "usage: plot-bench.sh BENCH.TSV OUT.PNG"
tsv=$1
png=$2
[ -s "$tsv" ] || die "$tsv is missing or empty"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# pick PHASE METRIC FILE [BACKEND LABEL]: "backend value" lines
pick()
{
	awk -F'\t' -v p="$1" -v m="$2" -v b="${4:-}" -v l="${5:-}" \
		'$1 == p && $3 == m && (b == "" || $2 == b) { print l ? l : $2, $4 }' \
		"$tsv" >>"$tmp/$3"
}
pick throughput median_pages_per_s tput
pick compaction order9_blocks_gained compact
pick offline fraction offline
pick stall median_us stall not-moved not-moved-p50
pick stall p99_us stall not-moved not-moved-p99
pick stall median_us stall moved moved-p50
pick stall p99_us stall moved moved-p99
for f in tput compact offline stall; do
	[ -s "$tmp/$f" ] || die "$tsv has no results for the $f panel"
done

gnuplot <<EOG
set terminal pngcairo size 1200,900 font "sans,11" noenhanced
set output "$png"
set offsets 0, 0, graph 0.1, 0
set style fill solid 0.6 border -1
set boxwidth 0.6
set yrange [0:*]
set grid ytics
set multiplot layout 2,2 title "movable guest_memfd, measured in one VM run (QEMU TCG: compare ratios, not absolute values)"
set title "move_pages() throughput (median)"
set ylabel "pages/s"
plot "$tmp/tput" using 0:2:xtic(1) with boxes notitle, \
     "" using 0:2:(sprintf("%.0f", \$2)) with labels offset 0,0.7 notitle
set title "order-9 blocks recovered by compaction"
set ylabel "blocks"
plot "$tmp/compact" using 0:2:xtic(1) with boxes notitle, \
     "" using 0:2:(sprintf("%.0f", \$2)) with labels offset 0,0.7 notitle
set title "memory blocks holding the region that went offline"
set ylabel "%"
set yrange [0:115]
plot "$tmp/offline" using 0:(100*\$2):xtic(1) with boxes notitle, \
     "" using 0:(100*\$2):(sprintf("%.0f%%", 100*\$2)) with labels offset 0,0.7 notitle
set title "vCPU first access to a page (guest_memfd)"
set ylabel "microseconds"
set yrange [0:*]
plot "$tmp/stall" using 0:2:xtic(1) with boxes notitle, \
     "" using 0:2:(sprintf("%.1f", \$2)) with labels offset 0,0.7 notitle
unset multiplot
EOG
log "wrote $png"
