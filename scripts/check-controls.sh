#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Judge the runs of run-controls.sh: a control passes when its results carry
# the stamp of the current series and patch (common.sh), its VM finished,
# its test (its case, for PROG:CASE) failed, the output has a line matching
# the control's expected failure (controls/controls.list), and the kernel
# did not splat.  A test that passes on a control kernel cannot tell that
# kernel from the series.  Prints one line per control and
# "N passed, N failed"; exits non-zero if any control failed.
#
# With "arm64": the arm64 runs (run-controls.sh arm64).
#
# Usage: check-controls.sh [arm64] [NAME...]	(default: every control of the list)
set -euo pipefail
source "$(dirname "$0")/common.sh"

arch=
kind=control
results=$WORK/results-control
if [ "${1:-}" = arm64 ]; then
	arch=arm64
	shift
	kind="arm64-control"
	results=$WORK/results-control-arm64
fi

pass=0
fail=0

result()
{
	if [ "$1" = ok ]; then
		pass=$((pass + 1))
		printf 'PASS  control %s%s\n' "${arch:+$arch: }" "$2"
	else
		fail=$((fail + 1))
		printf 'FAIL  control %s%s\n' "${arch:+$arch: }" "$2"
	fi
}

mapfile -t names < <(control_names $arch "$@")
for name in "${names[@]}"; do
	line=$(control_line "$name")
	read -r _ test want <<<"$line"
	[ -n "$want" ] || die "control '$name' in $CONTROLS_LIST names no expected failure"
	out=$results/$name/$kind
	# PROG:CASE is judged by the case's KTAP line, in PROG's output; any
	# other test (TEST@MODE too) by its exit status.
	if [[ "$test" == *:* && "$test" != *@* ]]; then
		o=$out/${test%%:*}.out
		failed=$(grep -cE "^not ok [0-9]+ ${test#*:}\\b" "$o" 2>/dev/null || true)
	else
		o=$out/${test//\//-}.out
		failed=$(awk -v t="$test" '$1 == t && $2 != 0 && $2 != 4' \
			"$out/selftests.rc" 2>/dev/null | wc -l || true)
	fi
	splat=$(cat "$out/dmesg.txt" "$out/console.log" 2>/dev/null |
		grep -E "$SPLAT_RE" | head -1 || true)
	got=$(grep -m1 -E "$want" "$o" 2>/dev/null | sed 's/^[# ]*//' | cut -c1-100 || true)

	if [ "$(cat "$out/../stamp" 2>/dev/null)" != "$(stamp "$name")" ]; then
		result fail "$name: no results of this series and $name.patch (run: make run-controls${arch:+-$arch} CONTROLS=$name)"
	elif [ ! -f "$out/done" ]; then
		result fail "$name: the VM did not finish, see $out/console.log"
	elif [ "${failed:-0}" -eq 0 ]; then
		result fail "$name: $test did not fail (it cannot tell this kernel from the series), see $o"
	elif [ -z "$got" ]; then
		result fail "$name: $test failed, but not with /$want/, see $o"
	elif [ -n "$splat" ]; then
		result fail "$name: kernel splat: $splat"
	else
		result ok "$name: $test failed as it must: $got"
	fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
