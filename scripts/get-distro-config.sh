#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch what a distribution build of the kernel version under test starts
# from, through the private apt configuration of setup-host.sh, into
# $DISTRO_DIR: Debian's amd64 config (config.amd64_none_amd64 of
# linux-config-7.3) and the Module.symvers of Debian's amd64 kernel
# (linux-headers-<abi>-amd64), both of the same version as the kernel
# source.  Does nothing when they are there already.
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds apt-get apt-cache dpkg-deb xz

[ -f "$WORK/versions.env" ] || die "$WORK/versions.env missing (run: make setup)"
source "$WORK/versions.env"
[ -f "$APT_DIR/sources.list" ] || die "$APT_DIR/sources.list missing (run: make setup)"

config=$DISTRO_DIR/config.amd64_none_amd64
symvers=$DISTRO_DIR/Module.symvers
if [ -s "$config" ] && [ -s "$symvers" ] &&
   [ "$(cat "$DISTRO_DIR/version" 2>/dev/null)" = "$KSRC_VER" ]; then
	log "$DISTRO_DIR has Debian's config and Module.symvers of $KSRC_VER"
	exit 0
fi

# The headers package of the generic amd64 flavour (not cloud or rt) of
# this version: linux-headers-7.3.4+deb13-amd64 for 7.3.4-1~bpo13+1.
headers=
for p in $(apt-cache "${APT_OPTS[@]}" search --names-only \
	'^linux-headers-[0-9.]+\+[a-z0-9]+-amd64$' | awk '{print $1}'); do
	if apt-cache "${APT_OPTS[@]}" madison "$p" | awk '{print $3}' |
	   grep -qxF -- "$KSRC_VER"; then
		headers=$p
		break
	fi
done
[ -n "$headers" ] ||
	die "no linux-headers-*-amd64 of version $KSRC_VER in the private package lists (run: make setup)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log "downloading linux-config-7.3=$KSRC_VER and $headers=$KSRC_VER"
download()
{
	(cd "$tmp" && apt-get "${APT_OPTS[@]}" download -qq \
		"linux-config-7.3=$KSRC_VER" "$headers=$KSRC_VER")
}
if ! download; then
	log "updating the private package lists and trying again"
	apt-get "${APT_OPTS[@]}" update -qq
	download || die "cannot download linux-config-7.3 and $headers of $KSRC_VER"
fi
for d in "$tmp"/*.deb; do
	dpkg-deb -x "$d" "$tmp/root"
done

mkdir -p "$DISTRO_DIR"
xz -dc "$tmp"/root/usr/src/linux-config-7.3/config.amd64_none_amd64.xz >"$config"
cp "$tmp/root/usr/src/$headers/Module.symvers" "$symvers"
echo "$KSRC_VER" >"$DISTRO_DIR/version"
log "Debian's amd64 config ($(grep -c '^CONFIG_' "$config") options) and Module.symvers ($(wc -l <"$symvers") exports) of $KSRC_VER in $DISTRO_DIR"
