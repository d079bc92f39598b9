#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build bench/gmem_bench.c against the KVM selftest library of the patched
# tree (run "make selftests" first), into $WORK/bench/gmem_bench.
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds make gcc

kdir=$TREE/tools/testing/selftests/kvm
[ -f "$kdir/lib/kvm_util.o" ] || die "KVM selftest library not built (run: make selftests)"
mkdir -p "$WORK/bench" "$WORK/logs"
buildlog=$WORK/logs/build-gmem-bench.log

log "building $WORK/bench/gmem_bench (log: $buildlog)"
if ! env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS \
	make -C "$kdir" -f Makefile -f "$TOP/bench/bench.mk" \
	BENCH_SRC="$TOP/bench/gmem_bench.c" BENCH_OUT="$WORK/bench/gmem_bench" \
	"$WORK/bench/gmem_bench" >"$buildlog" 2>&1; then
	grep -E 'error|warning' "$buildlog" | head -20 >&2 || true
	die "gmem_bench build failed, see $buildlog"
fi
! grep -q 'warning:' "$buildlog" || {
	grep 'warning:' "$buildlog" >&2
	die "gmem_bench built with warnings, see $buildlog"
}
