#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the KVM selftests listed in scripts/kvm-selftests.list from the
# patched tree, against its own UAPI headers, and install the kvm collection
# with the kselftest runner (run_kselftest.sh) into $KSELFTEST, as CI systems
# run it.  The same binaries run on the patched and on the base kernel, so
# that a baseline run shows what the series changes.
# With "arm64": those of scripts/kvm-selftests-arm64.list, cross-built
# statically (the arm64 VM's initramfs has no C library) in the arm64
# worktree, installed into $ARM64_DIR/kselftest.
#
# Usage: build-selftests.sh [arm64]
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds make gcc rsync

tree=$TREE
list=$TOP/scripts/kvm-selftests.list
# make arguments of the kernel tree (kmake) and of the selftests (tmake)
kmake=()
tmake=()
suffix=
case "${1:-}" in
"") ;;
arm64)
	need_cmds aarch64-linux-gnu-gcc
	tree=$ARM64_TREE
	worktree_at "$tree" series
	list=$TOP/scripts/kvm-selftests-arm64.list
	KSELFTEST=$ARM64_DIR/kselftest
	kmake=("${ARM64_CROSS[@]}")
	tmake=("${kmake[@]}" EXTRA_CFLAGS=-static)
	suffix=-arm64 ;;
*) die "unknown argument '$1' (want: nothing, or arm64)" ;;
esac
kdir=$tree/tools/testing/selftests/kvm
[ -d "$kdir" ] || die "$tree missing (run: make apply)"
mkdir -p "$WORK/logs"
buildlog=$WORK/logs/build-selftests$suffix.log

mapfile -t tests < <(grep -v '^#' "$list" | awk 'NF {print $1}')
log "installing UAPI headers of $tree"
make -C "$tree" -s "${kmake[@]}" headers >"$buildlog" 2>&1 ||
	die "make headers failed, see $buildlog"

# The whole suite: lib.mk has no rule for naming single tests in subdirs.
# It sets OUTPUT only in a top-level make, so hide the outer make's level.
log "building the KVM selftests (log: $buildlog)"
if ! env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS \
	make -C "$kdir" -j"$(nproc)" "${tmake[@]}" >>"$buildlog" 2>&1; then
	grep -E 'error' "$buildlog" | head -20 >&2 || true
	die "KVM selftests build failed, see $buildlog"
fi
for t in "${tests[@]}"; do
	[ -x "$kdir/$t" ] || die "$kdir/$t was not built"
done

log "installing the kvm collection with run_kselftest.sh into $KSELFTEST"
rm -rf "$KSELFTEST"
if ! env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS \
	make -C "$tree/tools/testing/selftests" TARGETS=kvm "${tmake[@]}" \
	INSTALL_PATH="$KSELFTEST" install >>"$buildlog" 2>&1; then
	die "installing the KVM selftests failed, see $buildlog"
fi
[ -x "$KSELFTEST/run_kselftest.sh" ] || die "$KSELFTEST/run_kselftest.sh was not installed"
