#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Regenerate patches/ from branch "series" of $WORK/linux: git format-patch
# with a cover letter whose subject and text come from series/cover-letter.txt,
# --base, and To/Cc for each patch.
#
# The patches are authored and signed off by whoever exports them: git's
# user.name and user.email (of $WORK/linux, so the global ones unless set
# there), or SENDER_NAME and SENDER_EMAIL.  The branch's own authors and
# sign-offs are not used; trailers written in its commit messages (e.g. a
# co-developer's) are kept.
#
# Recipients of each patch: scripts/get_maintainer.pl for the files it
# touches (maintainers in To, reviewers and lists in Cc), plus the entries of
# series/recipients; the cover letter goes to all of them.
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds git perl

cd "$TREE"
text=$TOP/series/cover-letter.txt
recipients=$TOP/series/recipients
[ -f "$text" ] || die "$text missing"
[ -f "$recipients" ] || die "$recipients missing"
n=$(git rev-list --count base..series)
[ "$n" -gt 0 ] || die "branch series has no commits on base"

name=${SENDER_NAME:-$(git config user.name || true)}
email=${SENDER_EMAIL:-$(git config user.email || true)}
[ -n "$name" ] && [ -n "$email" ] ||
	die "no identity to sign the patches with: set git's user.name and user.email (git config --global user.name 'Your Name'), or SENDER_NAME and SENDER_EMAIL"
case "$email" in
*@*.*) ;;
*) die "'$email' is not an e-mail address (user.email or SENDER_EMAIL)" ;;
esac
export GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=$email
export GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The series again, authored by the sender, with the same trees and author
# dates, and the messages without sign-offs other than co-developers'; the
# sign-off of the sender comes from format-patch --signoff.
head=$(git rev-parse base)
for c in $(git rev-list --reverse base..series); do
	git log -1 --format=%B "$c" | awk '
		/^Co-developed-by: / { co[substr($0, 18)] = 1 }
		{ line[NR] = $0 }
		END {
			for (i = 1; i <= NR; i++)
				if (line[i] !~ /^Signed-off-by: / ||
				    substr(line[i], 16) in co)
					print line[i]
		}' >"$tmp/msg"
	head=$(GIT_AUTHOR_DATE=$(git log -1 --format=%aD "$c") \
		git commit-tree "$c^{tree}" -p "$head" -F "$tmp/msg")
done
git format-patch -q -o "$tmp" -v2 --thread --cover-letter --signoff \
	--base=base base.."$head"

# gm ARGS...: get_maintainer.pl without git history, keyword matches and
# the authors of commits named by Fixes: tags (the tree has no history).
gm() {
	perl scripts/get_maintainer.pl --no-rolestats --no-git --no-git-fallback \
		--no-keywords --no-fixes "$@"
}

# extra N: the addresses series/recipients adds to patch N.
extra()
{
	local kind which rest

	while read -r kind which rest; do
		case "$kind" in
		''|'#'*) continue ;;
		esac
		[ "$which" = all ] || grep -qx "$1" <<<"${which//,/$'\n'}" || continue
		case "$kind" in
		cc) echo "$rest" ;;
		owners) # shellcheck disable=SC2086
			gm --no-l -f $rest ;;
		*) die "$recipients: unknown entry '$kind'" ;;
		esac
	done <"$recipients"
}

# set_recipients FILE TO CC: To and Cc headers before the Subject of FILE,
# one address per folded line.
set_recipients()
{
	TO=$(paste -sd, - <<<"$2" | sed 's/,/,\n /g') \
	CC=$(paste -sd, - <<<"$3" | sed 's/,/,\n /g') \
		perl -0pi -e 's/^(Subject: .*\n)/To: $ENV{TO}\nCc: $ENV{CC}\n$1/m' "$1"
}

all_to=
all_cc=
for p in "$tmp"/v2-000[1-9]-*.patch; do
	i=$(basename "$p" | sed -E 's/^v2-0*([0-9]+)-.*/\1/')
	to=$(gm --no-r --no-l "$p")
	cc=$( (gm --no-m "$p"; extra "$i") | awk '!seen[tolower($0)]++' |
		grep -vixF -f <(printf '%s\n' "$to"))
	set_recipients "$p" "$to" "$cc"
	all_to=$(printf '%s\n%s\n' "$all_to" "$to")
	all_cc=$(printf '%s\n%s\n' "$all_cc" "$cc")
done
all_to=$(grep -v '^$' <<<"$all_to" | awk '!seen[tolower($0)]++')
all_cc=$( (grep -v '^$' <<<"$all_cc"; extra 0) | awk '!seen[tolower($0)]++' |
	grep -vixF -f <(printf '%s\n' "$all_to"))

subject=$(head -n1 "$text")
cover=$tmp/v2-0000-cover-letter.patch
TEXT=$text SUBJECT=$subject perl -0pi -e '
	open(my $f, "<", $ENV{TEXT}) or die; local $/; my $t = <$f>;
	$t =~ s/\A[^\n]*\n\n?//; $t =~ s/\s+\z//;
	s/\*\*\* SUBJECT HERE \*\*\*/$ENV{SUBJECT}/;
	s/\*\*\* BLURB HERE \*\*\*/$t/;
' "$cover"
set_recipients "$cover" "$all_to" "$all_cc"

mkdir -p "$TOP/patches"
rm -f "$TOP"/patches/*.patch
cp "$tmp"/*.patch "$TOP/patches/"

# patches/ and the branch now agree: apply-series.sh has nothing to do.
sum=$(cat "$TOP"/patches/v2-000[1-9]-*.patch | sha256sum | cut -d' ' -f1)
echo "$sum $(git rev-parse series)" >"$WORK/applied"
log "exported $n patches and the cover letter to patches/, from $name <$email>"
ls "$TOP/patches" >&2
