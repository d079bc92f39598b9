#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Configure and build the test kernel (bzImage) in the tree for KIND
# ("patched" or "base"), with ccache: x86_64 defconfig + kvm_guest.config +
# the fragments in configs/ (series.config only where the series is applied).
# Fails if any option a fragment asks for did not make it into .config.
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds make gcc ccache flex bison bc

kind=${1:-patched}
tree=$(tree_for "$kind")
[ -f "$tree/Makefile" ] || die "$tree missing (run: make kernel-tree)"

frags=("$TOP/configs/vng.config" "$TOP/configs/gmem.config" "$TOP/configs/debug.config")
if [ "$kind" = patched ] && [ -f "$TOP/configs/series.config" ]; then
	frags+=("$TOP/configs/series.config")
fi

export CCACHE_BASEDIR=$WORK CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-12G}
export KBUILD_BUILD_USER=gmem KBUILD_BUILD_HOST=harness
mkdir -p "$CCACHE_DIR" "$WORK/logs"
buildlog=$WORK/logs/build-$kind.log
MAKE=(make -C "$tree" -j"$(nproc)" CC="ccache gcc" HOSTCC="ccache gcc")

log "configuring $tree"
"${MAKE[@]}" -s x86_64_defconfig >"$buildlog" 2>&1
(cd "$tree" && scripts/kconfig/merge_config.sh -m .config \
	kernel/configs/kvm_guest.config "${frags[@]}") >>"$buildlog" 2>&1
"${MAKE[@]}" -s olddefconfig >>"$buildlog" 2>&1

# Every option asked for must be in the final .config as asked.
bad=0
for f in "${frags[@]}"; do
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=n)
			sym=${line%%=*}
			! grep -q "^$sym=" "$tree/.config" && continue ;;
		CONFIG_*=*)
			grep -qxF -- "$line" "$tree/.config" && continue ;;
		*) continue ;;
		esac
		got=$(grep "^${line%%=*}=" "$tree/.config" || echo "not set")
		log "$(basename "$f"): asked for $line, .config has: $got"
		bad=1
	done <"$f"
done
[ $bad -eq 0 ] || die "configuration lost options (a dependency is missing?)"

log "building bzImage ($kind, log: $buildlog)"
start=$SECONDS
if ! "${MAKE[@]}" bzImage >>"$buildlog" 2>&1; then
	grep -E 'error|Error' "$buildlog" | head -20 >&2
	die "kernel build failed, see $buildlog"
fi
log "built $tree/arch/x86/boot/bzImage in $((SECONDS - start)) s ($(ccache -s | grep -iE '^ *hits' | head -n1 | xargs))"
