#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The negative controls of controls/controls.list, one after the other: for
# each, the series with the control's patch applied on top in the worktree
# linux-control, built as the test kernel (build-kernel.sh control), booted in
# the 2-node VM with only the control's test (run-vm.sh control), results in
# $WORK/results-control/NAME.  check-controls.sh judges them.  The worktree
# goes back to the series when a control is done with it.
#
# Usage: run-controls.sh [NAME...]	(default: every control of the list)
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds git

[ -n "$(git -C "$TREE" rev-parse -q --verify series 2>/dev/null)" ] ||
	die "$TREE has no series branch (run: make apply)"

trap '[ ! -d "$CONTROL_TREE" ] || git -C "$CONTROL_TREE" reset -q --hard' EXIT

mapfile -t names < <(control_names "$@")
for name in "${names[@]}"; do
	line=$(control_line "$name")
	read -r _ test _ <<<"$line"
	patch=$TOP/controls/$name.patch
	[ -f "$patch" ] || die "$patch missing"

	# No result of an earlier run may stand for this one.
	out=$WORK/results-control/$name
	rm -rf "$out"
	[ -d "$CONTROL_TREE" ] ||
		git -C "$TREE" worktree add -q --detach "$CONTROL_TREE" series
	# (-f: a run that died may have left a control patch applied)
	git -C "$CONTROL_TREE" checkout -q -f --detach series
	git -C "$CONTROL_TREE" reset -q --hard series
	git -C "$CONTROL_TREE" apply "$patch" ||
		die "$name.patch does not apply to the series: regenerate it"
	log "control $name: the series + $name.patch, test $test"

	"$TOP/scripts/build-kernel.sh" control
	RESULTS=$out "$TOP/scripts/run-vm.sh" control "$test"
	# What ran: check-controls.sh refuses results of another series or patch.
	stamp "$name" >"$out/stamp"
	git -C "$CONTROL_TREE" reset -q --hard series
done
