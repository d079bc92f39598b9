#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the repository's programs against the KVM selftest library of the
# patched tree (run "make selftests" first), into $PROGS: gmem_bench
# (bench/), gmem_systest and gmem_stress (systest/), each with
# lib/gmem_host.c.  A compiler warning fails the build.
# With "arm64": the system tests (not the x86 benchmark), cross-built
# statically against the arm64 selftest library, into $ARM64_DIR/progs.
#
# Usage: build-progs.sh [arm64]
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds make gcc

tree=$TREE
srcs=(bench/gmem_bench.c systest/gmem_systest.c systest/gmem_stress.c)
tmake=()
suffix=
case "${1:-}" in
"") ;;
arm64)
	need_cmds aarch64-linux-gnu-gcc
	tree=$ARM64_TREE
	PROGS=$ARM64_DIR/progs
	srcs=(systest/gmem_systest.c systest/gmem_stress.c)
	tmake=("${ARM64_CROSS[@]}" EXTRA_CFLAGS=-static)
	suffix=-arm64 ;;
*) die "unknown argument '$1' (want: nothing, or arm64)" ;;
esac
kdir=$tree/tools/testing/selftests/kvm
[ -f "$kdir/lib/kvm_util.o" ] ||
	die "KVM selftest library not built (run: make selftests$suffix)"
mkdir -p "$PROGS" "$WORK/logs"
# Rebuilt every time, so that a warning in it fails every build.
rm -f "$PROGS/gmem_host.o"

for src in "${srcs[@]}"; do
	name=$(basename "$src" .c)
	buildlog=$WORK/logs/build-$name$suffix.log
	log "building $PROGS/$name (log: $buildlog)"
	if ! env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS \
		make -C "$kdir" -f Makefile -f "$TOP/lib/progs.mk" "${tmake[@]}" \
		PROG="$PROGS/$name" PROG_SRC="$TOP/$src" GMEM_LIB="$TOP/lib" \
		"$PROGS/$name" >"$buildlog" 2>&1; then
		grep -E 'error|warning' "$buildlog" | head -20 >&2 || true
		die "$name build failed, see $buildlog"
	fi
	! grep -q 'warning:' "$buildlog" || {
		grep 'warning:' "$buildlog" >&2
		die "$name built with warnings, see $buildlog"
	}
done
