#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the KVM selftests listed in scripts/kvm-selftests.list from the
# patched tree, against its own UAPI headers, and install the kvm collection
# with the kselftest runner (run_kselftest.sh) into $KSELFTEST, as CI systems
# run it.  The same binaries run on the patched and on the base kernel, so
# that a baseline run shows what the series changes.
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds make gcc rsync

kdir=$TREE/tools/testing/selftests/kvm
[ -d "$kdir" ] || die "$TREE missing (run: make apply)"
mkdir -p "$WORK/logs"
buildlog=$WORK/logs/build-selftests.log

mapfile -t tests < <(grep -v '^#' "$TOP/scripts/kvm-selftests.list" | awk 'NF {print $1}')
log "installing UAPI headers of $TREE"
make -C "$TREE" -s headers >"$buildlog" 2>&1 || die "make headers failed, see $buildlog"

# The whole suite: lib.mk has no rule for naming single tests in subdirs.
# It sets OUTPUT only in a top-level make, so hide the outer make's level.
log "building the KVM selftests (log: $buildlog)"
if ! env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS \
	make -C "$kdir" -j"$(nproc)" >>"$buildlog" 2>&1; then
	grep -E 'error' "$buildlog" | head -20 >&2 || true
	die "KVM selftests build failed, see $buildlog"
fi
for t in "${tests[@]}"; do
	[ -x "$kdir/$t" ] || die "$kdir/$t was not built"
done

log "installing the kvm collection with run_kselftest.sh into $KSELFTEST"
rm -rf "$KSELFTEST"
if ! env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS \
	make -C "$TREE/tools/testing/selftests" TARGETS=kvm \
	INSTALL_PATH="$KSELFTEST" install >>"$buildlog" 2>&1; then
	die "installing the KVM selftests failed, see $buildlog"
fi
[ -x "$KSELFTEST/run_kselftest.sh" ] || die "$KSELFTEST/run_kselftest.sh was not installed"
