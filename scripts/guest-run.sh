#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test VM, as root: saves the KUnit results of the boot,
# loads the KVM modules, runs the KVM selftests of scripts/kvm-selftests.list
# (on arm64: scripts/kvm-selftests-arm64.list)
# (those marked "runner" through the installed kselftest runner,
# run_kselftest.sh, with the kvm collection's settings), the series' test
# again in a cpuset of one node, then the repository's system tests of
# scripts/system-tests.list (programs in PROG_DIR, unless that is "none"),
# and saves dmesg, all into RESULTS (a directory shared with the host).
# Then the KVM selftests and system test cases of scripts/mmu-modes.list
# again, each with the KVM modules reloaded in its MMU mode (results named
# TEST@MODE; the mode each load really got in RESULTS/mmu-modes.txt; x86
# only).
# Pass/fail is decided on the host by check-results.sh; this script only
# records.  GMEM_MODULES names the root of the kernel's installed modules
# (modprobe -d; run-vm.sh sets it: the VM runs in the host's root).
#
# Usage: guest-run.sh RESULTS SELFTEST_DIR KSELFTEST_DIR PROG_DIR [TEST...]
# (a TEST of the form PROG:CASE runs only that case of a system test)
set -uo pipefail

results=$1
sdir=$2
ksdir=$3
pdir=$4
shift 4
here=$(dirname "$0")

say() { echo "[guest-run] $*"; }

# selected TEST: whether TEST is among the tests asked for (all if none).
selected() { [ ${#tests[@]} -eq 0 ] || printf '%s\n' "${tests[@]}" | grep -qxF -- "$1"; }

# run_test TEST DIR TIMEOUT COMMAND...: run COMMAND in DIR, its output into
# RESULTS/TEST.out and "TEST exit-status seconds" into RESULTS/selftests.rc.
run_test()
{
	local t=$1 dir=$2 timeout=$3 o=$results/${1//\//-}.out start rc

	shift 3
	say "running $t: $* (timeout ${timeout}s)"
	start=$(date +%s)
	(cd "$dir" && timeout "$timeout" "$@") >"$o" 2>&1 </dev/null
	rc=$?
	echo "$t $rc $(($(date +%s) - start))" >>"$results/selftests.rc"
	say "$t exited $rc after $(($(date +%s) - start))s"
}

tests=("$@")

# modprobe_vm ARG...: modprobe with the kernel's modules (GMEM_MODULES, if
# set: the root of their lib/modules)
modprobe_vm()
{
	if [ -n "${GMEM_MODULES:-}" ]; then
		modprobe -d "$GMEM_MODULES" "$@"
	else
		modprobe "$@"
	fi
}

# x86 (KVM in modules) or arm64 (KVM built in)
# (mmu-modes.list has x86's MMU modes: none on arm64)
selftests_list=$here/kvm-selftests.list
modes_list=$here/mmu-modes.list
kvm_modules=(kvm kvm_amd)
if [ "$(uname -m)" = aarch64 ]; then
	selftests_list=$here/kvm-selftests-arm64.list
	modes_list=/dev/null
	kvm_modules=(kvm)
fi

grep -q " /sys/kernel/debug " /proc/mounts || mount -t debugfs none /sys/kernel/debug
for r in /sys/kernel/debug/kunit/*/results; do
	[ -f "$r" ] || continue
	cp "$r" "$results/kunit-$(basename "$(dirname "$r")").ktap"
done

# KVM is in modules, as distributions build it (configs/kvm-distro.config):
# load them before any test; check-results.sh fails the run unless both are
# loadable modules, live ("built-in" if the kernel has them built in, as
# arm64's always has).
for m in "${kvm_modules[@]}"; do
	[ -d "/sys/module/$m" ] || modprobe_vm "$m" || say "modprobe $m failed"
	if [ -f "/sys/module/$m/initstate" ]; then
		echo "$m $(cat "/sys/module/$m/initstate")"
	elif [ -d "/sys/module/$m" ]; then
		echo "$m built-in"
	else
		echo "$m not-loaded"
	fi
done >"$results/modules.txt"

uname -a >"$results/uname.txt"
if command -v numactl >/dev/null; then
	numactl --hardware
else
	for n in /sys/devices/system/node/node[0-9]*; do
		echo "$(basename "$n"): cpus $(cat "$n/cpulist"), $(grep MemTotal "$n/meminfo")"
	done
fi >"$results/numa.txt" 2>&1

: >"$results/selftests.rc"
while read -r t timeout how; do
	selected "$t" || continue
	if [ "$how" = runner ]; then
		# With -p the runner keeps the test's own output in a file of
		# its own, added to TEST.out.
		run_test "$t" "$ksdir" "$timeout" ./run_kselftest.sh \
			-p "$results/kselftest" -t "kvm:$t"
		cat "$results/kselftest/$(basename "$t")" >>"$results/${t//\//-}.out"
	else
		run_test "$t" "$sdir/$(dirname "$t")" "$timeout" "./$(basename "$t")"
	fi
done < <(grep -v -e '^#' -e '^[[:space:]]*$' "$selftests_list")

# The series' test where the task may use one node only, as on most CI
# machines: in a cpuset of the first node with memory it must skip, and why
# is checked by check-results.sh.  The test picks its nodes from the task's
# allowed ones, so this is the path a one-node machine takes.
if selected guest_memfd_migrate_test@one-node; then
	cg=/sys/fs/cgroup/one-node
	node=$(sed 's/[,-].*//' /sys/devices/system/node/has_memory)
	say "running guest_memfd_migrate_test in a cpuset of node $node"
	if { grep -qw cpuset /sys/fs/cgroup/cgroup.subtree_control ||
	     echo +cpuset >/sys/fs/cgroup/cgroup.subtree_control; } &&
	   mkdir "$cg" && echo "$node" >"$cg/cpuset.mems"; then
		(echo "$BASHPID" >"$cg/cgroup.procs" && cd "$ksdir" &&
		 exec timeout 300 ./run_kselftest.sh -p "$results/one-node" \
			-t kvm:guest_memfd_migrate_test) \
			>"$results/one-node.out" 2>&1 </dev/null
		cat "$results/one-node/guest_memfd_migrate_test" \
			>>"$results/one-node.out" 2>/dev/null
		# (on arm64, busybox's timeout leaves a watchdog that polls
		# once a second for the test's exit)
		for _ in 1 2 3 4 5; do
			rmdir "$cg" 2>/dev/null && break
			sleep 1
		done
		[ ! -d "$cg" ] || say "rmdir $cg failed"
	else
		say "no cpuset of node $node: the one-node check cannot run"
	fi
fi

# A system test asked for as PROG:CASES (and not as PROG) runs only those
# cases (-c CASES).
while read -r t timeout args; do
	[ "$pdir" != none ] || continue
	cases=
	if ! selected "$t"; then
		for x in "${tests[@]}"; do
			[[ "$x" == "$t:"* && "$x" != *@* ]] && cases+=${x#"$t:"},
		done
		[ -n "$cases" ] || continue
		cases=${cases%,}
	fi
	# shellcheck disable=SC2086 # the list's arguments, split on purpose
	run_test "$t" "$pdir" "$timeout" "./$t" $args ${cases:+-c "$cases"}
done < <(grep -v -e '^#' -e '^[[:space:]]*$' "$here/system-tests.list")

# mode_load MODE EXPECT: reload kvm and kvm_amd with MODE (module.param=
# value), and record in RESULTS/mmu-modes.txt the mode, what it should give
# (EXPECT) and what it gave: the parameters EXPECT names, whether kvm_amd
# is live and whether /dev/kvm exists.
mode_load()
{
	local mode=$1 expect=$2 mod=${1%%.*} param=${1#*.} kvm_args=() amd_args=()
	local state=() kp got

	case "$mod" in
	kvm) kvm_args=("$param") ;;
	kvm_amd) amd_args=("$param") ;;
	esac
	modprobe_vm -r kvm_amd kvm || say "modprobe -r kvm_amd kvm failed"
	if ! modprobe_vm kvm "${kvm_args[@]}" || ! modprobe_vm kvm_amd "${amd_args[@]}"; then
		say "loading kvm, kvm_amd with $mode failed"
	fi
	for kp in ${expect//,/ }; do
		kp=${kp%%=*}
		state+=("$kp=$(cat "/sys/module/${kp%%.*}/parameters/${kp#*.}" 2>/dev/null || echo none)")
	done
	state+=("kvm_amd=$(cat /sys/module/kvm_amd/initstate 2>/dev/null || echo none)")
	state+=("dev_kvm=$([ -c /dev/kvm ] && echo yes || echo no)")
	got=$(IFS=,; echo "${state[*]}")
	echo "$mode $expect $got" >>"$results/mmu-modes.txt"
	say "MMU mode $mode: $got"
}

: >"$results/mmu-modes.txt"
loaded=
while read -r mode expect t timeout; do
	selected "$t@$mode" || continue
	# PROG:CASES: those cases of a system test, with its list's arguments
	prog=${t%%:*}
	[ "$prog" = "$t" ] || [ "$pdir" != none ] || continue
	[ "$loaded" = "$mode" ] || mode_load "$mode" "$expect"
	loaded=$mode
	if [ "$prog" = "$t" ]; then
		run_test "$t@$mode" "$sdir/$(dirname "$t")" "$timeout" "./$(basename "$t")"
	else
		args=$(awk -v p="$prog" '$1 == p {$1 = $2 = ""; print}' \
			"$here/system-tests.list")
		# shellcheck disable=SC2086 # the list's arguments, split on purpose
		run_test "$t@$mode" "$pdir" "$timeout" "./$prog" $args -c "${t#*:}"
	fi
done < <(grep -v -e '^#' -e '^[[:space:]]*$' "$modes_list")

dmesg >"$results/dmesg.txt"
touch "$results/done"
