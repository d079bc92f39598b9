#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Regenerate patches/ from branch "series" of $WORK/linux: git format-patch
# with a cover letter whose subject and text come from series/cover-letter.txt,
# To/Cc from get_maintainer.pl, and --base.
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds git perl

cd "$TREE"
text=$TOP/series/cover-letter.txt
[ -f "$text" ] || die "$text missing"
n=$(git rev-list --count base..series)
[ "$n" -gt 0 ] || die "branch series has no commits on base"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git format-patch -q -o "$tmp" -v2 --thread --cover-letter --base=base base..series

# get_maintainer.pl, in the cover letter (git send-email --to-cover
# --cc-cover copies them to the patches): maintainers in To, reviewers and
# lists in Cc, one address per folded header line.
gm=(perl scripts/get_maintainer.pl --no-rolestats --no-git --no-git-fallback)
fold() { paste -sd, - | sed 's/,/,\n /g'; }
to=$("${gm[@]}" --no-r --no-l "$tmp"/v2-000[1-9]-*.patch | fold)
cc=$("${gm[@]}" --no-m "$tmp"/v2-000[1-9]-*.patch |
	grep -vxF -f <("${gm[@]}" --no-r --no-l "$tmp"/v2-000[1-9]-*.patch) | fold)

subject=$(head -n1 "$text")
TEXT=$text SUBJECT=$subject TO=$to CC=$cc perl -0pi -e '
	open(my $f, "<", $ENV{TEXT}) or die; local $/; my $t = <$f>;
	$t =~ s/\A[^\n]*\n\n?//; $t =~ s/\s+\z//;
	s/\*\*\* SUBJECT HERE \*\*\*/$ENV{SUBJECT}/;
	s/\*\*\* BLURB HERE \*\*\*/$t/;
	s/^(Subject: .*\n)/To: $ENV{TO}\nCc: $ENV{CC}\n$1/m;
' "$tmp/v2-0000-cover-letter.patch"

mkdir -p "$TOP/patches"
rm -f "$TOP"/patches/*.patch
cp "$tmp"/*.patch "$TOP/patches/"

# patches/ and the branch now agree: apply-series.sh has nothing to do.
sum=$(cat "$TOP"/patches/v2-000[1-9]-*.patch | sha256sum | cut -d' ' -f1)
echo "$sum $(git rev-parse series)" >"$WORK/applied"
log "exported $n patches and the cover letter to patches/"
ls "$TOP/patches" >&2
