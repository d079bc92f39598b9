#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Regenerate patches/ from branch "series" of $WORK/linux: git format-patch
# with a cover letter whose subject and text come from series/cover-letter.txt,
# --base, and To/Cc for each patch.  The base-commit is our commit of
# Debian's tarball, which no public tree has: the cover letter says so and
# names the base.
#
# patches/ is the unsigned series: no one has signed it.  Patches whose
# author on the branch is the stand-in "series author" (or the "SENDER NOT
# SET" of an earlier export) come from "SENDER NOT SET <sender-not-set@invalid>",
# a name no one has and an address no mail can go to, and carry no
# Signed-off-by but those that their authors gave.  Patches by a real author
# (e.g. one redone from someone's posting) keep their author and sign-offs.
#
# With SENDER_NAME and SENDER_EMAIL, the identity of the person who reviews,
# signs and sends the series, it also writes the signed series to
# $WORK/outgoing: that person is the author of the stand-in's patches, and
# format-patch --signoff adds their Signed-off-by to every patch after the
# tags already there; a "[SENDER: ...]" note, which says what the sender
# changed in a patch by someone else, becomes "[their address: ...]", and is
# followed by the sender's Co-developed-by.
# checkpatch.pl --strict then checks it.  Placeholder identities are refused:
# git's configured identity is never used.
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds git perl

NOT_SET_NAME="SENDER NOT SET"
NOT_SET_EMAIL="sender-not-set@invalid"

name=${SENDER_NAME:-}
email=${SENDER_EMAIL:-}
if [ -n "$name$email" ]; then
	[ -n "$name" ] && [ -n "$email" ] ||
		die "set both SENDER_NAME and SENDER_EMAIL (or neither, for the unsigned series alone)"
	case "$email" in
	*[[:space:]\<\>]*|*@*@*|@*|*@) die "SENDER_EMAIL='$email' is not an e-mail address" ;;
	*@*.*) ;;
	*) die "SENDER_EMAIL='$email' is not an e-mail address" ;;
	esac
	# Reserved names (RFC 2606, RFC 6761) and no-reply addresses reach no one.
	case "${email,,}" in
	*.example|*.invalid|*.test|*.localhost|*.local|*@localhost*|\
	*@example.com|*@example.org|*@example.net|*.example.com|*noreply*|\
	*no-reply*)
		die "SENDER_EMAIL='$email' is a placeholder: the sender's own address is needed, one that can receive replies" ;;
	esac
	case "${name,,}" in
	*"not set"*|*maintainers*|*"series author"*|*seed*|*placeholder*)
		die "SENDER_NAME='$name' is not a person's name" ;;
	esac
	[[ "$name" == *" "* ]] ||
		log "note: SENDER_NAME='$name' has one word; the kernel asks for a known identity (real name)"
fi

cd "$TREE"
text=$TOP/series/cover-letter.txt
recipients=$TOP/series/recipients
[ -f "$text" ] || die "$text missing"
[ -f "$recipients" ] || die "$recipients missing"
n=$(git rev-list --count base..series)
[ "$n" -gt 0 ] || die "branch series has no commits on base"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# rebuild NAME EMAIL NOTE: the series again, with the same trees and author
# dates (also as commit dates, so that the same series gives the same
# commits), the stand-in's patches authored by NAME <EMAIL>, the messages without
# Signed-off-by lines of the stand-in or the sender, and "[SENDER: " notes
# turned into "[NOTE: ".  Prints the new head.
rebuild()
{
	local head c an ae date

	head=$(git rev-parse base)
	for c in $(git rev-list --reverse base..series); do
		an=$(git log -1 --format=%an "$c")
		ae=$(git log -1 --format=%ae "$c")
		case "$an" in
		"series author"|"$NOT_SET_NAME") an=$1 ae=$2 ;;
		esac
		git log -1 --format=%B "$c" |
			NOTE=$3 NS=$NOT_SET_NAME perl -ne '
				next if /^Signed-off-by: (series author|\Q$ENV{NS}\E) /;
				next if /^Co-developed-by: \Q$ENV{NS}\E /;
				s/^\[(SENDER|\Q$ENV{NS}\E|[^ :]+@[^ :]+): /[$ENV{NOTE}: /;
				print' >"$tmp/msg"
		# The sender changed someone else's patch (the note says how):
		# they co-developed it, and sign it off right after this tag.
		if [ "$1" != "$NOT_SET_NAME" ] && [ "$ae" != "$2" ] &&
		   grep -q "^\[$3: " "$tmp/msg"; then
			sed -i -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$tmp/msg"
			echo "Co-developed-by: $1 <$2>" >>"$tmp/msg"
		fi
		date=$(git log -1 --format=%aD "$c")
		head=$(GIT_AUTHOR_NAME=$an GIT_AUTHOR_EMAIL=$ae \
			GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date \
			GIT_COMMITTER_NAME=$1 GIT_COMMITTER_EMAIL=$2 \
			git commit-tree "$c^{tree}" -p "$head" -F "$tmp/msg")
	done
	echo "$head"
}

# gm ARGS...: get_maintainer.pl without git history, keyword matches and
# the authors of commits named by Fixes: tags (the tree has no history).
gm() {
	perl scripts/get_maintainer.pl --no-rolestats --no-git --no-git-fallback \
		--no-keywords --no-fixes "$@"
}

# extra N KIND: the entries of KIND (to, cc, notto, drop) that
# series/recipients gives for patch N (0: the cover letter); for cc, also the
# owners of the files its "owners" entries name.
extra()
{
	local kind which rest

	while read -r kind which rest; do
		case "$kind" in
		''|'#'*) continue ;;
		to|cc|notto|drop|owners) ;;
		*) die "$recipients: unknown entry '$kind'" ;;
		esac
		[ "$which" = all ] || grep -qx "$1" <<<"${which//,/$'\n'}" || continue
		if [ "$kind" = "$2" ]; then
			echo "$rest"
		elif [ "$kind" = owners ] && [ "$2" = cc ]; then
			# shellcheck disable=SC2086
			gm --no-l -f $rest
		fi
	done <"$recipients"
}

# without N KIND: standard input without the addresses that KIND entries
# ("notto" or "drop") name for patch N, and without repeats.
without()
{
	local pats

	pats=$(extra "$1" "$2")
	if [ -n "$pats" ]; then
		grep -viF -f <(printf '%s\n' "$pats") || true
	else
		cat
	fi | awk 'NF && !seen[tolower($0)]++'
}

# set_recipients FILE TO CC: To and Cc headers before the Subject of FILE,
# one address per folded line.
set_recipients()
{
	TO=$(paste -sd, - <<<"$2" | sed 's/,/,\n /g') \
	CC=$(paste -sd, - <<<"$3" | sed 's/,/,\n /g') \
		perl -0pi -e 's/^(Subject: .*\n)/To: $ENV{TO}\nCc: $ENV{CC}\n$1/m' "$1"
}

# finish DIR: recipients of every patch of DIR and of its cover letter, and
# the cover letter's subject and text.
finish()
{
	local dir=$1 p i to cc all_to='' all_cc='' subject cover

	for p in "$dir"/v2-[0-9][0-9][0-9][0-9]-*.patch; do
		case "$p" in *-0000-cover-letter.patch) continue ;; esac
		i=$(basename "$p" | sed -E 's/^v2-0*([0-9]+)-.*/\1/')
		to=$( (extra "$i" to; gm --no-r --no-l "$p") |
			without "$i" drop | without "$i" notto)
		cc=$( (gm --no-r --no-l "$p"; gm --no-m "$p"; extra "$i" cc) |
			without "$i" drop | grep -vixF -f <(printf '%s\n' "$to"))
		set_recipients "$p" "$to" "$cc"
		all_to=$(printf '%s\n%s\n' "$all_to" "$to")
		all_cc=$(printf '%s\n%s\n' "$all_cc" "$cc")
	done
	# The cover letter goes to its own "to" entries, and to all the others
	# on Cc; without such entries, to the patches' To as well.
	if [ -n "$(extra 0 to)" ]; then
		all_cc=$(printf '%s\n%s\n' "$all_to" "$all_cc")
		all_to=$(extra 0 to | without 0 drop)
	else
		all_to=$(without 0 drop <<<"$all_to")
	fi
	all_cc=$( (printf '%s\n' "$all_cc"; extra 0 cc) | without 0 drop |
		grep -vixF -f <(printf '%s\n' "$all_to"))

	subject=$(head -n1 "$text")
	cover=$dir/v2-0000-cover-letter.patch
	TEXT=$text SUBJECT=$subject perl -0pi -e '
		open(my $f, "<", $ENV{TEXT}) or die; local $/; my $t = <$f>;
		$t =~ s/\A[^\n]*\n\n?//; $t =~ s/\s+\z//;
		s/\*\*\* SUBJECT HERE \*\*\*/$ENV{SUBJECT}/;
		s/\*\*\* BLURB HERE \*\*\*/$t/;
	' "$cover"
	set_recipients "$cover" "$all_to" "$all_cc"
}

# The unsigned series, in patches/.
head=$(rebuild "$NOT_SET_NAME" "$NOT_SET_EMAIL" "$NOT_SET_NAME")
mkdir -p "$tmp/unsigned"
# format-patch dates the cover letter and puts in the Message-Ids the time of
# the export; in patches/, which no one sends, both take the latest author
# date of the series instead, so that exporting the same series twice
# changes nothing (and the index lines' blob ids have at least 12 digits,
# however many objects the tree holds).
stamp=$(git log --format=%at base.."$head" | sort -n | tail -n 1)
GIT_COMMITTER_NAME=$NOT_SET_NAME GIT_COMMITTER_EMAIL=$NOT_SET_EMAIL \
	GIT_COMMITTER_DATE="@$stamp +0000" \
	git -c core.abbrev=12 format-patch -q -o "$tmp/unsigned" --rfc -v2 --thread --cover-letter \
	--base=base base.."$head"
finish "$tmp/unsigned"
# (only in the headers: up to the first empty line)
sed -i -E "1,/^\$/{/^(message-id|in-reply-to|references): /I s/\.[0-9]+(\.git\.$NOT_SET_EMAIL>)/.$stamp\1/g}" \
	"$tmp"/unsigned/*.patch
for p in "$tmp"/unsigned/*.patch; do
	hdr=$(sed '/^$/q' "$p")
	grep -qi "^message-id: <.*\.$stamp\.git\.$NOT_SET_EMAIL>\$" <<<"$hdr" ||
		die "$(basename "$p"): Message-Id not as expected (git format-patch changed?)"
done
mkdir -p "$TOP/patches"
rm -f "$TOP"/patches/*.patch
cp "$tmp"/unsigned/*.patch "$TOP/patches/"

# patches/ and the branch now agree: apply-series.sh has nothing to do.
sum=$(for p in "$TOP"/patches/v2-[0-9][0-9][0-9][0-9]-*.patch; do
	case "$p" in *-0000-cover-letter.patch) ;; *) cat "$p" ;; esac
done | sha256sum | cut -d' ' -f1)
echo "$sum $(git rev-parse series)" >"$WORK/applied"
log "exported $n patches and the cover letter, unsigned, to patches/"

[ -n "$name" ] || {
	log "not signed: to make the series you send, give your identity: make series SENDER_NAME='Your Name' SENDER_EMAIL=you@example.org (see README, 'Sending it')"
	exit 0
}

# The signed series, in $WORK/outgoing.
out=$WORK/outgoing
head=$(rebuild "$name" "$email" "$email")
mkdir -p "$tmp/signed"
GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email \
	git -c core.abbrev=12 format-patch -q -o "$tmp/signed" --rfc -v2 --thread --cover-letter \
	--signoff --from="$name <$email>" --base=base base.."$head"
finish "$tmp/signed"
rm -rf "$out"
mkdir -p "$out"
cp "$tmp"/signed/*.patch "$out/"
log "signed by $name <$email>: $out"
"$TOP/scripts/checkpatch-series.sh" "$out"
