#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The negative controls of controls/controls.list, one after the other: for
# each, the series with the control's patch applied on top in the worktree
# linux-control, built as the test kernel (build-kernel.sh control), booted in
# the 2-node VM with only the control's test (run-vm.sh control), results in
# $WORK/results-control/NAME.  check-controls.sh judges them.  The worktree
# goes back to the series when a control is done with it.
# With "arm64": the same for arm64 (worktree linux-arm64-control, booted
# with run-vm-arm64.sh, results in $WORK/results-control-arm64/NAME), for
# the controls whose test is not in an x86 MMU mode.
#
# Usage: run-controls.sh [arm64] [NAME...]	(default: every control of the list)
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds git

arch=
tree=$CONTROL_TREE
kind=control
vm=run-vm.sh
results=$WORK/results-control
if [ "${1:-}" = arm64 ]; then
	arch=arm64
	shift
	tree=$ARM64_CONTROL_TREE
	kind="arm64-control"
	vm=run-vm-arm64.sh
	results=$WORK/results-control-arm64
fi

[ -n "$(git -C "$TREE" rev-parse -q --verify series 2>/dev/null)" ] ||
	die "$TREE has no series branch (run: make apply)"

trap '[ ! -d "$tree" ] || git -C "$tree" reset -q --hard' EXIT

mapfile -t names < <(control_names $arch "$@")
for name in "${names[@]}"; do
	line=$(control_line "$name")
	read -r _ test _ <<<"$line"
	patch=$TOP/controls/$name.patch
	[ -f "$patch" ] || die "$patch missing"

	# No result of an earlier run may stand for this one.
	out=$results/$name
	rm -rf "$out"
	[ -d "$tree" ] ||
		git -C "$TREE" worktree add -q --detach "$tree" series
	# (-f: a run that died may have left a control patch applied)
	git -C "$tree" checkout -q -f --detach series
	git -C "$tree" reset -q --hard series
	git -C "$tree" apply "$patch" ||
		die "$name.patch does not apply to the series: regenerate it"
	log "control $name${arch:+ ($arch)}: the series + $name.patch, test $test"

	"$TOP/scripts/build-kernel.sh" "$kind"
	RESULTS=$out "$TOP/scripts/$vm" "$kind" "$test"
	# What ran: check-controls.sh refuses results of another series or patch.
	stamp "$name" >"$out/stamp"
	git -C "$tree" reset -q --hard series
done
