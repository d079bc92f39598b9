#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM of "make demo", as root: runs gmem_bench with the given
# options and saves its output (bench.out), its TSV results (bench.tsv), its
# exit status and dmesg into RESULTS (a directory shared with the host).
# Pass/fail is decided on the host by bench-report.sh.
#
# Usage: guest-bench.sh RESULTS GMEM_BENCH [OPTION...]
set -uo pipefail

results=$1
bench=$2
shift 2

uname -a >"$results/uname.txt"
numactl --hardware >"$results/numa.txt" 2>&1
echo "[guest-bench] running $bench $*"
start=$(date +%s)
"$bench" -o "$results/bench.tsv" "$@" >"$results/bench.out" 2>&1 </dev/null
rc=$?
echo "$rc $(($(date +%s) - start))" >"$results/bench.rc"
echo "[guest-bench] gmem_bench exited $rc after $(($(date +%s) - start))s"
dmesg >"$results/dmesg.txt"
touch "$results/done"
