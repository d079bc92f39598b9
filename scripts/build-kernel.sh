#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Configure and build the test kernel (bzImage, modules) in the tree for
# KIND, with ccache: x86_64 defconfig + kvm_guest.config + the fragments in
# configs/ (lean.config takes out what the VM has no use for).
#   patched  the series, debug options (debug.config), KVM in modules as
#            distributions have it (kvm-distro.config): for make check
#   base     the base commit, the same options: for make baseline
#   bench    the series without debug options, KVM built in, in a worktree
#            of its own at the series' head: for the benchmark of make demo
#   control  as patched, in the worktree that run-controls.sh prepares (the
#            series and one patch of controls/): for make controls
#   arm64    the series cross-built for arm64 (Image, no modules: KVM is
#            built in there), arm64 defconfig + the fragments + arm64.config,
#            debug options, in a worktree of its own: for make check-arm64
#   arm64-base  the same at the base commit: for make baseline-arm64
#   arm64-control  as arm64, in the worktree that run-controls.sh arm64
#            prepares: for make controls-arm64
# Fails if any option a fragment asks for did not make it into .config.
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds make gcc ccache flex bison bc

kind=${1:-patched}
tree=$(tree_for "$kind")
# The worktrees of their own: at the series (bench, arm64) or the base.
case "$kind" in
bench | arm64) ref=series ;;
arm64-base) ref=base ;;
*) ref= ;;
esac
[ -z "$ref" ] || worktree_at "$tree" "$ref"
[ -f "$tree/Makefile" ] || die "$tree missing (run: make kernel-tree)"

frags=("$TOP/configs/lean.config" "$TOP/configs/gmem.config")
case "$kind" in
arm64*) ;;
*) frags=("$TOP/configs/vm.config" "${frags[@]}") ;;
esac
case "$kind" in
patched | control) frags+=("$TOP/configs/kvm-distro.config" "$TOP/configs/debug.config"
	"$TOP/configs/series.config") ;;
base) frags+=("$TOP/configs/kvm-distro.config" "$TOP/configs/debug.config") ;;
bench) frags+=("$TOP/configs/kvm-builtin.config" "$TOP/configs/series.config") ;;
arm64 | arm64-control) frags+=("$TOP/configs/arm64.config" "$TOP/configs/debug.config"
	"$TOP/configs/series.config") ;;
arm64-base) frags+=("$TOP/configs/arm64.config" "$TOP/configs/debug.config") ;;
esac

export CCACHE_BASEDIR=$WORK CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-12G}
export KBUILD_BUILD_USER=gmem KBUILD_BUILD_HOST=harness
mkdir -p "$CCACHE_DIR" "$WORK/logs"
buildlog=$WORK/logs/build-$kind.log
MAKE=(make -C "$tree" -j"$(nproc)" CC="ccache gcc" HOSTCC="ccache gcc")
defconfig=x86_64_defconfig
image=arch/x86/boot/bzImage
# The test kernels have KVM in modules, which run-vm.sh installs from the
# tree for the VM; the benchmark's kernel has it built in, and so has
# arm64's.
targets=(bzImage modules)
case "$kind" in
bench) targets=(bzImage) ;;
arm64*)
	need_cmds aarch64-linux-gnu-gcc
	MAKE=(make -C "$tree" -j"$(nproc)" "${ARM64_CROSS[@]}"
		CC="ccache aarch64-linux-gnu-gcc" HOSTCC="ccache gcc")
	defconfig=defconfig
	image=arch/arm64/boot/Image
	targets=(Image) ;;
esac

log "configuring $tree"
"${MAKE[@]}" -s "$defconfig" >"$buildlog" 2>&1
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

log "building ${targets[*]} ($kind, log: $buildlog)"
start=$SECONDS
if ! "${MAKE[@]}" "${targets[@]}" >>"$buildlog" 2>&1; then
	grep -E 'error|Error' "$buildlog" | head -20 >&2 || true
	die "kernel build failed, see $buildlog"
fi
log "built $tree/$image${targets[1]:+ and modules} in $((SECONDS - start)) s ($(ccache -s | grep -iE '^ *hits' | head -n1 | xargs))"
