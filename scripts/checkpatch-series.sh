#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch.pl --strict on every patch of patches/.  The patches are fed on
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
rc=0
for p in "$TOP"/patches/v*-[0-9][0-9][0-9][0-9]-*.patch; do
	case "$p" in *-0000-cover-letter.patch) continue ;; esac
	echo "== $(basename "$p")"
	(cd "$TREE" && PATH=/usr/bin:$PATH perl "$cp" --strict --terse \
		--ignore UNKNOWN_COMMIT_ID - <"$p") || rc=1
done
exit $rc
