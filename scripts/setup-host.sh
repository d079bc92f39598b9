#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what the harness needs on a Debian 12 (bookworm) host, as root:
# bookworm packages from the host's own sources, then linux-source-7.3
# and b4 from newer suites of the same archive (the host's mirror
# or proxy, from its apt sources) through a private apt configuration that
# leaves the host's sources and preferences untouched; and, with
# get-distro-config.sh, Debian's amd64 config and Module.symvers.
# With "arm64" (make check-arm64), only what the arm64 VM needs on top:
# QEMU for arm64, the cross C library, and the arm64 builds of
# busybox-static and bash-static for its initramfs (downloaded from trixie
# through a private apt configuration of their own, never installed).
#
# Writes $WORK/versions.env (arm64: $WORK/versions-arm64.env) with the
# package versions in use.
#
# Usage: setup-host.sh [arm64]
set -euo pipefail
source "$(dirname "$0")/common.sh"

HOST_PKGS=(
	build-essential bc bison flex libelf-dev libssl-dev cpio kmod xz-utils
	zstd ccache git rsync python3 perl uuid-dev libnuma-dev numactl
	qemu-system-x86 busybox-static gcc-aarch64-linux-gnu shellcheck
	python3-ply python3-git gnuplot-nox linux-perf dwarves
	clang-19 lld-19 llvm-19
)

ARM64_HOST_PKGS=(qemu-system-arm libc6-dev-arm64-cross)
# Static arm64 binaries for the arm64 VM's initramfs.
ARM64_DEBS=(busybox-static bash-static)

[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages with apt-get)"
command -v apt-get >/dev/null || die "apt-get not found: a Debian host is needed"
case "${1:-}" in
"") ;;
arm64) HOST_PKGS=("${ARM64_HOST_PKGS[@]}") ;;
*) die "unknown argument '$1' (want: nothing, or arm64)" ;;
esac

missing=()
for p in "${HOST_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing from the host's sources: ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# archive_uri: the Debian archive that the host's own apt sources use for the
# host's release (whatever mirror or proxy that is), for the newer suites.
archive_uri()
{
	local codename uri

	# shellcheck disable=SC1091 # the host's file
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die "/etc/os-release names no release codename"
	uri=$(apt-get indextargets --no-release-info --format '$(REPO_URI)' 'Created-By: Packages' \
		'Target-Of: deb' "Release: $codename" 'Component: main' | head -n1)
	[ -n "$uri" ] ||
		die "the host's apt sources have no 'deb ... $codename main' entry to take the Debian archive from"
	echo "$uri"
}

archive=$(archive_uri)

# arm64: the initramfs's static binaries, through an apt configuration of
# their own (arm64 package lists of trixie only), then done.
if [ "${1:-}" = arm64 ]; then
	a=$WORK/apt-arm64
	opts=(
		-o "Dir::Etc::SourceList=$a/sources.list"
		-o "Dir::Etc::SourceParts=/dev/null"
		-o "Dir::Etc::Preferences=/dev/null"
		-o "Dir::Etc::PreferencesParts=$a/preferences.d"
		-o "Dir::State::Lists=$a/lists"
		-o "Dir::Cache=$a/cache"
		-o "APT::Sandbox::User=root"
		-o "APT::Architectures::=arm64"
	)
	mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/preferences.d" \
		"$ARM64_DIR/debs"
	echo "deb [arch=arm64] $archive trixie main" >"$a/sources.list"
	have=()
	for p in "${ARM64_DEBS[@]}"; do
		f=$(find "$ARM64_DIR/debs" -name "${p}_*_arm64.deb" | head -n1)
		[ -n "$f" ] && have+=("$(basename "$f")")
	done
	if [ ${#have[@]} -lt ${#ARM64_DEBS[@]} ]; then
		log "downloading ${ARM64_DEBS[*]} (arm64) from trixie ($archive)"
		apt-get "${opts[@]}" update -qq
		rm -f "$ARM64_DIR"/debs/*.deb
		(cd "$ARM64_DIR/debs" &&
		 apt-get "${opts[@]}" download -qq "${ARM64_DEBS[@]/%/:arm64}")
	fi
	{
		for f in "$ARM64_DIR"/debs/*.deb; do
			echo "$(dpkg-deb -f "$f" Package | tr a-z- A-Z_)_ARM64=$(dpkg-deb -f "$f" Version)"
		done
		echo "QEMU_ARM_VER=$(dpkg-query -W -f='${Version}' qemu-system-arm)"
		echo "CROSS_GCC_VER=$(aarch64-linux-gnu-gcc -dumpfullversion)"
	} >"$WORK/versions-arm64.env"
	log "versions in use (arm64):"
	sed 's/^/    /' "$WORK/versions-arm64.env" >&2
	exit 0
fi

# The private apt configuration (APT_OPTS, common.sh).
mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" \
	"$APT_DIR/preferences.d" "$DEB_DIR"
cat >"$APT_DIR/sources.list" <<EOS
deb $archive trixie-backports main
deb $archive trixie main
EOS

# pick PKG WANTED: print WANTED if the archive has it, else the newest
# version it has (with a warning), else fail.
pick()
{
	local pkg=$1 want=$2 have

	have=$(apt-cache "${APT_OPTS[@]}" madison "$pkg" | awk '{print $3}')
	if grep -qxF -- "$want" <<<"$have"; then
		echo "$want"
		return
	fi
	[ -n "$have" ] || die "$pkg is not in trixie-backports or trixie any more"
	have=$(head -n1 <<<"$have")
	log "WARNING: $pkg $want is gone from the archive; using $have instead"
	echo "$have"
}

# deb_file PKG VERSION: the downloaded .deb, if there is one.
deb_file()
{
	local f="$DEB_DIR/${1}_${2/:/%3a}_all.deb"

	if [ -f "$f" ]; then echo "$f"; fi
}

need_fetch=0
for spec in "$KSRC_PKG=$KSRC_VER" "b4=$B4_VER"; do
	[ -n "$(deb_file "${spec%%=*}" "${spec#*=}")" ] || need_fetch=1
done
if [ $need_fetch -eq 1 ]; then
	log "updating the private package lists (trixie-backports and trixie from $archive)"
	apt-get "${APT_OPTS[@]}" update -qq
	KSRC_VER=$(pick "$KSRC_PKG" "$KSRC_VER")
	B4_VER=$(pick b4 "$B4_VER")
	for spec in "$KSRC_PKG=$KSRC_VER" "b4=$B4_VER"; do
		[ -n "$(deb_file "${spec%%=*}" "${spec#*=}")" ] && continue
		log "downloading $spec"
		(cd "$DEB_DIR" && apt-get "${APT_OPTS[@]}" download -qq "$spec")
	done
fi

# The kernel source package is only unpacked (get-kernel.sh), never
# installed; b4 is installed with its bookworm dependencies.
if [ "$(dpkg-query -W -f='${Version}' b4 2>/dev/null)" != "$B4_VER" ]; then
	log "installing b4 $B4_VER"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		"$(deb_file b4 "$B4_VER")" >/dev/null
fi

cat >"$WORK/versions.env" <<EOV
KSRC_DEB=$(deb_file "$KSRC_PKG" "$KSRC_VER")
KSRC_VER=$KSRC_VER
B4_VER=$(dpkg-query -W -f='${Version}' b4)
QEMU_VER=$(dpkg-query -W -f='${Version}' qemu-system-x86)
GCC_VER=$(gcc -dumpfullversion)
EOV
log "versions in use:"
sed 's/^/    /' "$WORK/versions.env" >&2

# Debian's config and Module.symvers of this version (make build-matrix's
# distro check), fetched now, while the archive still has this version.
"$TOP/scripts/get-distro-config.sh"
