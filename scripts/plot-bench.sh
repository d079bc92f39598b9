#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Plot the results of one gmem_bench run (its TSV: phase, backend, metric,
# value) as a PNG with four panels: move_pages() throughput, huge pages
# gained after compaction, memory blocks offlined, and the vCPU's first-access
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

# pick PHASE METRIC FILE [SUFFIX [BACKEND-RE]]: "backend value" lines (of the
# backends that match BACKEND-RE), the backend's name followed by SUFFIX
pick()
{
	awk -F'\t' -v p="$1" -v m="$2" -v s="${4:-}" -v re="${5:-}" \
		'$1 == p && $3 == m && $2 ~ re { printf "\"%s%s\" %s\n", $2, s, $4 }' \
		"$tsv" >>"$tmp/$3"
}
pick throughput median_pages_per_s tput
pick compaction huge_pages_gained compact
pick offline fraction offline
# (stall rows are per backend and page: "memfd-kvm/moved", ...)
pick stall median_us stall " p50" "/moved$"
pick stall p99_us stall " p99" "/moved$"
[ -s "$tmp/tput" ] || [ -s "$tmp/compact" ] || [ -s "$tmp/offline" ] ||
	[ -s "$tmp/stall" ] || die "$tsv has no results to plot"

# panel FILE TITLE YLABEL Y-EXPR LABEL-FORMAT: one bar chart, or an empty
# cell for a phase that did not run.
panel()
{
	if [ ! -s "$tmp/$1" ]; then
		printf 'set multiplot next\n'
		return
	fi
	cat <<EOP
set title "$2"
set ylabel "$3"
plot "$tmp/$1" using 0:($4):xtic(1) with boxes notitle, \\
     "" using 0:($4):(sprintf("$5", $4)) with labels offset 0,0.7 notitle
EOP
}

# '$2' in the panel lines is gnuplot's column 2, not a shell variable.
# shellcheck disable=SC2016
{
	cat <<EOG
set terminal pngcairo size 1200,900 font "sans,11" noenhanced
set output "$png"
set offsets 0, 0, graph 0.1, 0
set style fill solid 0.6 border -1
set boxwidth 0.6
set yrange [0:*]
set grid ytics
set xtics font ",8" rotate by -20
set multiplot layout 2,2 title "guest_memfd vs memfd and anon memory (-kvm: in a memslot), one VM run, QEMU TCG"
EOG
	panel tput "move_pages() throughput (median)" "pages/s" '$2' "%.0f"
	panel compact "2 MiB huge pages gained after fragmenting a node" "huge pages" '$2' "%.0f"
	panel offline "memory blocks holding the region that went offline" "%" '100*$2' "%.0f%%"
	panel stall "vCPU first access to a page after it moved" "microseconds" '$2' "%.1f"
	echo "unset multiplot"
} >"$tmp/plot.gp"
gnuplot "$tmp/plot.gp"
log "wrote $png"
