#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test VM, as root: saves the KUnit results of the boot, runs
# the KVM selftests of scripts/kvm-selftests.list, and saves dmesg, all into
# RESULTS (a directory shared with the host).  Pass/fail is decided on the host
# by check-results.sh; this script only records.
#
# Usage: guest-run.sh RESULTS SELFTEST_DIR [TEST...]
set -uo pipefail

results=$1
sdir=$2
shift 2
list=$(dirname "$0")/kvm-selftests.list

say() { echo "[guest-run] $*"; }

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
for r in /sys/kernel/debug/kunit/*/results; do
	[ -f "$r" ] || continue
	cp "$r" "$results/kunit-$(basename "$(dirname "$r")").ktap"
done

uname -a >"$results/uname.txt"
numactl --hardware >"$results/numa.txt" 2>&1

: >"$results/selftests.rc"
grep -v '^#' "$list" | while read -r t timeout; do
	[ -n "$t" ] || continue
	if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qxF -- "$t"; then
		continue
	fi
	name=${t//\//-}
	say "running $t (timeout ${timeout}s)"
	start=$(date +%s)
	(cd "$sdir/$(dirname "$t")" && timeout "$timeout" "./$(basename "$t")") \
		>"$results/$name.out" 2>&1 </dev/null
	rc=$?
	echo "$t $rc $(($(date +%s) - start))" >>"$results/selftests.rc"
	say "$t exited $rc after $(($(date +%s) - start))s"
done

dmesg >"$results/dmesg.txt"
touch "$results/done"
