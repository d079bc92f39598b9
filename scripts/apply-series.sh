#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Apply patches/ with git am on the base commit, as branch "series" of
# $WORK/linux.  Does nothing when patches/ has not changed since the last
# apply or export; refuses to drop commits made on the branch since then
# (export them with 'make series', or set FORCE=1).
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds git sha256sum

[ -d "$TREE/.git" ] || die "$TREE missing (run: make kernel-tree)"
cd "$TREE"

series=()
for p in "$TOP"/patches/v*-[0-9][0-9][0-9][0-9]-*.patch; do
	case "$p" in
	*-0000-cover-letter.patch) ;;
	*) [ -f "$p" ] && series+=("$p") ;;
	esac
done
sum=$(cat /dev/null "${series[@]}" | sha256sum | cut -d' ' -f1)
head=$(git rev-parse HEAD)
state=$WORK/applied
if [ -f "$state" ]; then
	read -r old_sum old_head <"$state"
	if [ "$old_sum" = "$sum" ] && [ "$old_head" = "$head" ]; then
		log "patches/ already applied ($(git rev-list --count base..HEAD) patches on base)"
		exit 0
	fi
	if [ "$old_head" != "$head" ] && [ "${FORCE:-0}" != 1 ]; then
		die "$TREE has commits that are not in patches/: run 'make series' to export them, or FORCE=1 to drop them"
	fi
fi
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
	die "$TREE has uncommitted changes; commit or stash them first"

cover=$TOP/patches/v2-0000-cover-letter.patch
if [ -f "$cover" ]; then
	want=$(sed -n 's/^base-commit: //p' "$cover")
	[ -z "$want" ] || [ "$want" = "$(git rev-parse base)" ] ||
		log "WARNING: patches/ were made on base $want, this tree's base is $(git rev-parse base) ($(git log -1 --format=%s base))"
fi

# git am records a committer: git's user.name/user.email, or a stand-in that
# names no one if git has none (the branch stays in this tree; make series
# signs the patches with the sender's identity).
ident=()
git config user.email >/dev/null ||
	ident=(-c user.name="apply-series.sh" -c user.email="apply-series@localhost")
git checkout -q -B series base
for p in "${series[@]}"; do
	if ! out=$(git "${ident[@]}" am -q "$p" 2>&1); then
		printf '%s\n' "$out" >&2
		git am --abort
		die "$(basename "$p") does not apply on $(git log -1 --format=%s base)"
	fi
done
echo "$sum $(git rev-parse HEAD)" >"$state"
log "applied ${#series[@]} patches on base ($(git log -1 --format=%s base))"
