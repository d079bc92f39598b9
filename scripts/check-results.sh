#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Decide pass/fail for one VM run from the files it left in $RESULTS/KIND:
# every KUnit case of the boot, every KTAP subtest (or the whole program, when
# it prints no KTAP) of each KVM selftest, and a splat check over dmesg and the
# console log.  Prints one line per test and ends with
# "N passed, N failed, N skipped"; exits non-zero if anything failed.
#
# Usage: check-results.sh KIND
set -euo pipefail
source "$(dirname "$0")/common.sh"

kind=${1:-patched}
out=$RESULTS/$kind
# KUnit suites that the series adds (configs/series.config).
KUNIT_SUITES="migrate_content_copied"
pass=0
fail=0
skip=0

result()
{
	case "$1" in
	ok) pass=$((pass + 1)); printf 'PASS  %s\n' "$2" ;;
	skip) skip=$((skip + 1)); printf 'SKIP  %s\n' "$2" ;;
	*) fail=$((fail + 1)); printf 'FAIL  %s\n' "$2" ;;
	esac
}

# ktap_results FILE PREFIX: one result per "ok N name" / "not ok N name" line
# at the given indentation (KTAP subtests of a suite or program).
ktap_results()
{
	local file=$1 prefix=$2 indent=$3 line status name

	while IFS= read -r line; do
		line=${line#"$indent"}
		case "$line" in
		"ok "*) status=ok ;;
		"not ok "*) status=fail ;;
		*) continue ;;
		esac
		name=$(sed -E 's/^(not )?ok [0-9]+ //; s/ *#.*//' <<<"$line")
		grep -qiE '# *SKIP' <<<"$line" && status=skip
		result "$status" "$prefix: $name"
	done < <(grep -E "^$indent(not )?ok [0-9]+ " "$file")
}

if [ ! -f "$out/done" ]; then
	result fail "vm: the test VM did not finish (vm.rc: $(cat "$out/vm.rc" 2>/dev/null || echo none)); console log: $out/console.log"
fi

# KUnit: the cases of each suite are indented by four spaces.  The suites
# the series adds must have run on the patched kernel.
for k in "$out"/kunit-*.ktap; do
	[ -f "$k" ] || continue
	ktap_results "$k" "kunit $(basename "$k" .ktap | sed 's/^kunit-//')" "    "
done
if [ "$kind" = patched ]; then
	for suite in $KUNIT_SUITES; do
		[ -f "$out/kunit-$suite.ktap" ] ||
			result fail "kunit $suite: the suite did not run"
	done
fi

# KVM selftests: KTAP subtests where the program prints them, else its exit
# status (0 pass, 4 skip); a program that died after its subtests also fails.
if [ -f "$out/selftests.rc" ]; then
	while read -r t rc secs; do
		o=$out/${t//\//-}.out
		n_ktap=$(grep -cE '^(not )?ok [0-9]+ ' "$o" || true)
		ktap_results "$o" "$t" ""
		if [ "$rc" -eq 4 ] && [ "$n_ktap" -eq 0 ]; then
			result skip "$t ($(grep -m1 -iE 'skip|requirement' "$o" | cut -c1-100))"
		elif [ "$rc" -eq 0 ] && [ "$n_ktap" -eq 0 ]; then
			result ok "$t (${secs}s)"
		elif [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; then
			result fail "$t exited $rc after ${secs}s, see $o"
		fi
	done <"$out/selftests.rc"
fi

# Every selftest asked for must have run.
grep -v '^#' "$TOP/scripts/kvm-selftests.list" | awk 'NF {print $1}' |
while read -r t; do
	if [ -n "${TESTS:-}" ] && ! grep -qxF -- "$t" <<<"${TESTS// /$'\n'}"; then
		continue
	fi
	grep -q "^$t " "$out/selftests.rc" 2>/dev/null || echo "$t"
done >"$out/not-run.txt"
while read -r t; do
	result fail "$t: did not run"
done <"$out/not-run.txt"

# Any kernel splat fails the run, whatever the tests printed.
found=$(cat "$out/dmesg.txt" "$out/console.log" 2>/dev/null | grep -E "$SPLAT_RE" | head -5 || true)
if [ -n "$found" ]; then
	result fail "splat check: kernel splat in dmesg or console log:"
	sed 's/^/        /' <<<"$found"
else
	result ok "splat check: no WARNING/BUG/Oops/lockdep/KASAN report in dmesg and console log"
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
