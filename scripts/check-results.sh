#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Decide pass/fail for VM runs from the files they left in $RESULTS/KIND:
# every KUnit case of the boot, every KTAP subtest (or the whole program, when
# it prints no KTAP) of each KVM selftest and system test, and a splat check
# over dmesg and the console log.  For KIND "onenode" (the one-node VM), and
# in a cpuset of one node in the patched run, the series' test must have
# skipped under the kselftest runner.  The arm64 KINDs (run-vm-arm64.sh) are
# judged the same way against arm64's list of tests and KVM built in; under
# pKVM (arm64-pkvm) the series' test must skip its movable cases because
# the flag is not offered.  Prints one line
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
	local file=$1 prefix=$2 indent=$3 line status name why

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
		# (a named skip: its reason after the name)
		if grep -qiE '# *SKIP' <<<"$line"; then
			status=skip
			why=$(sed -nE 's/^.*# *SKIP *//ip' <<<"$line")
			[[ -z "$why" || "$name" == "$why" ]] || name="$name: $why"
		fi
		result "$status" "$prefix: $name"
	done < <(grep -E "^$indent(not )?ok [0-9]+ " "$file")
}

# check_run KIND: the results of the VM run of KIND.
check_run()
{
	local kind=$1 out=$RESULTS/$1 TESTS=${TESTS:-} t rc secs o n_ktap found lists mods
	local mode want got series=0 base=0 onenode=0
	local selftests_list=$TOP/scripts/kvm-selftests.list modes_list=$TOP/scripts/mmu-modes.list
	local want_mods="kvm live kvm_amd live"
	local want_mods_why="kvm and kvm_amd loaded as modules before the tests"
	local bad_mods_why="the test kernels build KVM as modules (configs/kvm-distro.config)"

	# Lines of other runs than the patched one are prefixed with their kind.
	kind_prefix=
	[ "$kind" = patched ] || kind_prefix="$kind: "
	case "$kind" in
	patched | arm64) series=1 ;;
	base | arm64-base) base=1 ;;
	# The one-node VM runs only the series' test.
	onenode | arm64-onenode)
		onenode=1
		TESTS=guest_memfd_migrate_test ;;
	arm64-pkvm) TESTS="guest_memfd_test guest_memfd_migrate_test" ;;
	esac
	if [[ "$kind" == arm64* ]]; then
		# KVM/arm64 cannot be a module; the MMU modes are x86's.
		selftests_list=$TOP/scripts/kvm-selftests-arm64.list
		modes_list=/dev/null
		want_mods="kvm built-in"
		want_mods_why="kvm built in"
		bad_mods_why="arm64's test kernels build KVM in (configs/arm64.config)"
	fi

	if [ ! -d "$out" ]; then
		result fail "vm: no results in $out (the VM of $kind did not run)"
		return
	fi
	if [ ! -f "$out/done" ]; then
		result fail "vm: the test VM did not finish (vm.rc: $(cat "$out/vm.rc" 2>/dev/null || echo none)); console log: $out/console.log"
	fi

	# KVM as distributions ship it: in modules, loaded before the tests.
	mods="no modules.txt"
	[ ! -f "$out/modules.txt" ] || mods=$(paste -sd' ' "$out/modules.txt")
	if [ "$mods" = "$want_mods" ]; then
		result ok "kvm modules: $want_mods_why"
	else
		result fail "kvm modules: wanted '$want_mods', got '$mods'; $bad_mods_why"
	fi
	# KVM/arm64 built in: it must have initialized (under pKVM, protected).
	if [[ "$kind" == arm64* ]]; then
		want='kvm \[[0-9]+\]: .*mode initialized successfully'
		[ "$kind" != arm64-pkvm ] ||
			want='kvm \[[0-9]+\]: Protected .*mode initialized successfully'
		got=$(grep -m1 -oE "$want" "$out/dmesg.txt" 2>/dev/null || true)
		if [ -n "$got" ]; then
			result ok "kvm: $got"
		else
			result fail "kvm: no line /$want/ in dmesg"
		fi
	fi

	# KUnit: the cases of each suite are indented by four spaces.  The suites
	# the series adds must have run on the patched kernel.
	for k in "$out"/kunit-*.ktap; do
		[ -f "$k" ] || continue
		ktap_results "$k" "kunit $(basename "$k" .ktap | sed 's/^kunit-//')" "    "
	done
	if [ $series -eq 1 ]; then
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
				[ $onenode -eq 1 ] ||
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
	lists=("$selftests_list")
	[ $base -eq 1 ] || lists+=("$TOP/scripts/system-tests.list")
	# (the base kernel runs no system test, in no mode)
	{
		grep -hv '^#' "${lists[@]}" | awk 'NF {print $1}'
		awk -v base="$([ $base -eq 1 ] && echo 1)" \
		    '!/^#/ && NF && !(base && $3 ~ /:/) {print $3 "@" $1}' "$modes_list"
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
	if [ $onenode -eq 1 ]; then
		o=$out/guest_memfd_migrate_test.out
	elif [ $series -eq 1 ] && [ -z "$TESTS" ]; then
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

	# Under pKVM the flag must not be offered: the series' test skips its
	# two movable cases for that reason (and runs its unmovable one);
	# guest_memfd_test checks that creating a guest_memfd with a flag not
	# offered fails with EINVAL.
	o=$out/guest_memfd_migrate_test.out
	if [ "$kind" != arm64-pkvm ]; then
		:
	elif [ "$(grep -cE '^# ok [0-9]+ # SKIP (migrate|concurrent): GUEST_MEMFD_FLAG_MOVABLE is not supported$' "$o" 2>/dev/null)" = 2 ] &&
	     grep -qE '^# ok [0-9]+ unmovable: ' "$o"; then
		result ok "guest_memfd_migrate_test under pKVM: GUEST_MEMFD_FLAG_MOVABLE not offered, its movable cases skip"
	else
		result fail "guest_memfd_migrate_test under pKVM: its movable cases did not skip for want of the flag, see $o"
	fi
}

for kind in "$@"; do
	check_run "$kind"
done

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
