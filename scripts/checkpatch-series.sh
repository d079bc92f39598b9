#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch.pl --strict on every patch of DIR (default: patches/).  The
# unsigned series in patches/ has no sender's Signed-off-by, which
# MISSING_SIGN_OFF would report on every patch but one: it is ignored there,
# and only there (make series checks the signed series in full).  The
# patches are fed on
# standard input: checkpatch checks a file that git tracks in the current
# repository as a source file (--file), not as a patch, and patches/ is
# tracked here.  The system python3 is put first for its spdxcheck.py (ply).
# UNKNOWN_COMMIT_ID is ignored: the kernel tree is Debian's tarball in one
# commit, without upstream's history, so checkpatch can find no commit that
# a Fixes: tag names (those ids were checked against upstream's history).
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds perl

cp=$TREE/scripts/checkpatch.pl
[ -f "$cp" ] || die "$cp missing (run: make kernel-tree)"
dir=${1:-$TOP/patches}
[ -d "$dir" ] || die "$dir: no such directory"
dir=$(cd "$dir" && pwd)	# checkpatch runs in the kernel tree
ignore=UNKNOWN_COMMIT_ID
[ "$dir" != "$TOP/patches" ] || ignore+=,MISSING_SIGN_OFF
found=0
rc=0
for p in "$dir"/v*-[0-9][0-9][0-9][0-9]-*.patch; do
	case "$p" in *-0000-cover-letter.patch) continue ;; esac
	[ -f "$p" ] || continue
	found=$((found + 1))
	echo "== $(basename "$p")"
	(cd "$TREE" && PATH=/usr/bin:$PATH perl "$cp" --strict --terse \
		--ignore "$ignore" - <"$p") || rc=1
done
[ "$found" -gt 0 ] || die "no patches in $dir"
exit $rc
