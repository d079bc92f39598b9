#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Unpack Debian's linux-source-7.3 into $WORK/linux as a git repository with
# a single base commit (tagged "base") naming the exact package version, and
# add the worktree $WORK/linux-base at that commit for baseline runs.
# Does nothing when the tree already holds this package version.
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds git tar xz dpkg-deb

[ -f "$WORK/versions.env" ] || die "$WORK/versions.env missing (run: make setup)"
source "$WORK/versions.env"
[ -f "$KSRC_DEB" ] || die "$KSRC_DEB missing (run: make setup)"

subject="Debian $KSRC_PKG $KSRC_VER"
if [ -d "$TREE/.git" ]; then
	have=$(git -C "$TREE" log -1 --format=%s base 2>/dev/null || true)
	if [ "$have" = "$subject" ]; then
		log "$TREE: base is $subject"
		[ -d "$BASE_TREE" ] || git -C "$TREE" worktree add -q --detach "$BASE_TREE" base
		exit 0
	fi
	die "$TREE holds '$have', not '$subject'; remove $WORK/linux* to start over"
fi

log "unpacking $(basename "$KSRC_DEB")"
tmp=$WORK/linux.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
dpkg-deb --fsys-tarfile "$KSRC_DEB" |
	tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
	tar -xJ -C "$tmp" --strip-components=1

# Fixed identity and dates (the tarball's own timestamp) make the base
# commit id the same on every machine, so the series' base-commit: line
# names a commit any user of this harness can recreate.
stamp=$(dpkg-deb --fsys-tarfile "$KSRC_DEB" | tar -tv --full-time |
	awk '/linux-source-.*\.tar\.xz$/ {print $4 "T" $5 "Z"}')
export GIT_AUTHOR_NAME="Debian linux-source" GIT_AUTHOR_EMAIL="debian-kernel@lists.debian.org"
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
export GIT_AUTHOR_DATE=$stamp GIT_COMMITTER_DATE=$stamp

log "creating the base commit"
git -C "$tmp" init -q -b base-import
# Debian's top-level .gitignore ignores every top-level entry: force.
git -C "$tmp" add -A -f
git -C "$tmp" commit -q -m "$subject" \
	-m "Unpacked from $(basename "$KSRC_DEB") (Linux $(make -s -C "$tmp" kernelversion))."
git -C "$tmp" tag base
mv "$tmp" "$TREE"
git -C "$TREE" worktree add -q --detach "$BASE_TREE" base

# Debian's .gitignore ignores every top-level entry, so git would not see
# files that the series adds.  Drop that rule in the work trees only: the
# base commit stays exactly what Debian ships.
for t in "$TREE" "$BASE_TREE"; do
	git -C "$t" update-index --skip-worktree .gitignore
	sed -i '/^# Debian packaging: ignore everything/,$d' "$t/.gitignore"
done
log "$TREE: base is $(git -C "$TREE" rev-parse --short=12 base) ($subject)"
