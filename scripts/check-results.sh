#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Decide pass/fail for VM runs from the files they left in $RESULTS/KIND:
# every KUnit case of the boot, every KTAP subtest (or the whole program, when
# it prints no KTAP) of each KVM selftest and system test, and a splat check
# over dmesg and the console log.  For KIND "onenode" (the one-node VM), and
# in a cpuset of one node in the patched run, the series' test must have
# skipped under the kselftest runner.  Prints one line
# per test and ends with "N passed, N failed, N skipped" over all KINDs;
# exits non-zero if anything failed.
#
# Usage: check-results.sh KIND...
set -euo pipefail
source "$(dirname "$0")/common.sh"

[ $# -gt 0 ] || set -- patched
# KUnit suites that the series adds (configs/series.config).
KUNIT_SUITES="migrate_content_copied"
pass=0
fail=0
skip=0
kind_prefix=

result()
{
	case "$1" in
	ok) pass=$((pass + 1)); printf 'PASS  %s%s\n' "$kind_prefix" "$2" ;;
	skip) skip=$((skip + 1)); printf 'SKIP  %s%s\n' "$kind_prefix" "$2" ;;
	*) fail=$((fail + 1)); printf 'FAIL  %s%s\n' "$kind_prefix" "$2" ;;
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
		# ksft_test_result_skip() prints "ok N # SKIP <message>", with
		# no name: the message stands for it.
		[ -n "$name" ] ||
			name=$(sed -E 's/^(not )?ok [0-9]+ *# *[A-Za-z]+ *//' <<<"$line")
		grep -qiE '# *SKIP' <<<"$line" && status=skip
		result "$status" "$prefix: $name"
	done < <(grep -E "^$indent(not )?ok [0-9]+ " "$file")
}

# check_run KIND: the results of the VM run of KIND.
check_run()
{
	local kind=$1 out=$RESULTS/$1 TESTS=${TESTS:-} t rc secs o n_ktap found lists mods
	local mode want got

	# Lines of other runs than the patched one are prefixed with their kind.
	kind_prefix=
	[ "$kind" = patched ] || kind_prefix="$kind: "
	# The one-node VM runs only the series' test.
	[ "$kind" != onenode ] || TESTS=guest_memfd_migrate_test

	if [ ! -f "$out/done" ]; then
		result fail "vm: the test VM did not finish (vm.rc: $(cat "$out/vm.rc" 2>/dev/null || echo none)); console log: $out/console.log"
	fi

	# KVM as distributions ship it: in modules, loaded before the tests.
	mods="no modules.txt"
	[ ! -f "$out/modules.txt" ] || mods=$(paste -sd' ' "$out/modules.txt")
	if [ "$mods" = "kvm live kvm_amd live" ]; then
		result ok "kvm modules: kvm and kvm_amd loaded as modules before the tests"
	else
		result fail "kvm modules: not both loaded as modules ($mods); the test kernels build KVM as modules (configs/kvm-distro.config)"
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

	# KVM selftests and system tests: KTAP subtests where the program prints
	# them, else its exit status (0 pass, 4 skip); a program that died after its
	# subtests also fails.  Under the kselftest runner, the program's own KTAP is
	# prefixed with "# ", and the runner adds one line for the whole program.
	if [ -f "$out/selftests.rc" ]; then
		while read -r t rc secs; do
			o=$out/${t//\//-}.out
			n_ktap=$(grep -cE '^(not )?ok [0-9]+ ' "$o" || true)
			ktap_results "$o" "$t" "# "
			# (the runner's own line, with the time the program took; on
			# one node, the check at the end judges it instead)
			if grep -q '^# selftests: ' "$o"; then
				[ "$kind" = onenode ] ||
					ktap_results "$o" "$t (${secs}s)" ""
			else
				ktap_results "$o" "$t" ""
			fi
			if [ "$rc" -eq 4 ] && [[ "$t" == *@* ]]; then
				# a test of mmu-modes.list must run in its mode
				result fail "$t skipped in its MMU mode, see $o"
			elif [ "$rc" -eq 4 ] && [ "$n_ktap" -eq 0 ]; then
				result skip "$t ($(grep -m1 -iE 'skip|requirement' "$o" | cut -c1-100))"
			elif [ "$rc" -eq 0 ] && [ "$n_ktap" -eq 0 ]; then
				result ok "$t (${secs}s)"
			elif [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; then
				result fail "$t exited $rc after ${secs}s, see $o"
			fi
		done <"$out/selftests.rc"
	fi

	# The MMU modes: each must have given what mmu-modes.list expects, with
	# kvm_amd live and /dev/kvm there (else its tests would only skip).
	if [ -s "$out/mmu-modes.txt" ]; then
		while read -r mode want got; do
			if [ "$got" = "$want,kvm_amd=live,dev_kvm=yes" ]; then
				result ok "mmu mode $mode: $got"
			else
				result fail "mmu mode $mode: wanted $want with kvm_amd live and /dev/kvm, got $got"
			fi
		done <"$out/mmu-modes.txt"
	fi

	# Every test asked for must have run (those of mmu-modes.list as
	# TEST@MODE).
	lists=("$TOP/scripts/kvm-selftests.list")
	[ "$kind" = base ] || lists+=("$TOP/scripts/system-tests.list")
	# (the base kernel runs no system test, in no mode)
	{
		grep -hv '^#' "${lists[@]}" | awk 'NF {print $1}'
		grep -v '^#' "$TOP/scripts/mmu-modes.list" |
			awk -v base="$([ "$kind" = base ] && echo 1)" \
			    'NF && !(base && $3 ~ /:/) {print $3 "@" $1}'
	} |
	while read -r t; do
		# (PROG:CASE asks for PROG, unless it is PROG:CASE@MODE)
		if [ -n "${TESTS:-}" ] &&
		   ! sed '/@/!s/:.*//' <<<"${TESTS// /$'\n'}" | grep -qxF -- "$t"; then
			continue
		fi
		awk -v t="$t" '$1 == t {found = 1} END {exit !found}' \
			"$out/selftests.rc" 2>/dev/null || echo "$t"
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

	# On one node (the one-node VM, or a cpuset of one node in the
	# patched run), the series' test must skip, for that reason, rather
	# than pass or skip for another.
	o=
	if [ "$kind" = onenode ]; then
		o=$out/guest_memfd_migrate_test.out
	elif [ "$kind" = patched ] && [ -z "$TESTS" ]; then
		o=$out/one-node.out
	fi
	if [ -z "$o" ]; then
		:
	elif grep -qE '^ok 1 selftests: kvm: guest_memfd_migrate_test # SKIP' "$o" 2>/dev/null &&
	     grep -qxF '# 1..0 # SKIP - Needs two NUMA nodes with memory' "$o"; then
		result ok "guest_memfd_migrate_test skips on one node: $(grep -m1 -oE 'SKIP - .*' "$o")"
	else
		result fail "guest_memfd_migrate_test did not skip on one node, see $o"
	fi
}

for kind in "$@"; do
	check_run "$kind"
done

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
