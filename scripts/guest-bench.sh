#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM of "make demo", as root: runs gmem_bench with the given
# options and saves its output (bench.out), its TSV results (bench.tsv), its
# exit status and dmesg into RESULTS (a directory shared with the host).
# With --perf, gmem_bench runs under "perf record -a -g" and the profile,
# whole and sorted by inclusive time, goes to perf.txt.
# Pass/fail is decided on the host by bench-report.sh.
#
# Usage: guest-bench.sh [--perf] RESULTS GMEM_BENCH [OPTION...]
set -uo pipefail

perf=()
if [ "${1:-}" = --perf ]; then
	perf=(perf record -q -a -g -F 499 -o /tmp/perf.data --)
	shift
fi
results=$1
bench=$2
shift 2

uname -a >"$results/uname.txt"
numactl --hardware >"$results/numa.txt" 2>&1
echo "[guest-bench] running ${perf[*]} $bench $*"
start=$(date +%s)
"${perf[@]}" "$bench" -o "$results/bench.tsv" "$@" >"$results/bench.out" 2>&1 </dev/null
rc=$?
echo "$rc $(($(date +%s) - start))" >"$results/bench.rc"
echo "[guest-bench] gmem_bench exited $rc after $(($(date +%s) - start))s"
if [ ${#perf[@]} -gt 0 ]; then
	perf report -i /tmp/perf.data --stdio --children --sort symbol -g none \
		--percent-limit 0.1 >"$results/perf.txt" 2>&1
	echo "[guest-bench] profile: $(grep -m1 'of event' "$results/perf.txt")"
fi
dmesg >"$results/dmesg.txt"
touch "$results/done"
