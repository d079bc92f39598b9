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
# Fails if any option a fragment asks for did not make it into .config.
set -euo pipefail
source "$(dirname "$0")/common.sh"
need_cmds make gcc ccache flex bison bc

kind=${1:-patched}
tree=$(tree_for "$kind")
if [ "$kind" = bench ]; then
	[ -n "$(git -C "$TREE" rev-parse -q --verify series 2>/dev/null)" ] ||
		die "$TREE has no series branch (run: make apply)"
	[ -d "$tree" ] || git -C "$TREE" worktree add -q --detach "$tree" series
	git -C "$tree" checkout -q --detach series
fi
[ -f "$tree/Makefile" ] || die "$tree missing (run: make kernel-tree)"

frags=("$TOP/configs/vng.config" "$TOP/configs/lean.config" "$TOP/configs/gmem.config")
case "$kind" in
patched | control) frags+=("$TOP/configs/kvm-distro.config" "$TOP/configs/debug.config"
	"$TOP/configs/series.config") ;;
base) frags+=("$TOP/configs/kvm-distro.config" "$TOP/configs/debug.config") ;;
bench) frags+=("$TOP/configs/kvm-builtin.config" "$TOP/configs/series.config") ;;
esac

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

# The test kernels have KVM in modules, which virtme-ng installs from the
# tree (modules.order) into the VM; the benchmark's kernel has it built in.
targets=(bzImage)
[ "$kind" = bench ] || targets+=(modules)
log "building ${targets[*]} ($kind, log: $buildlog)"
start=$SECONDS
if ! "${MAKE[@]}" "${targets[@]}" >>"$buildlog" 2>&1; then
	grep -E 'error|Error' "$buildlog" | head -20 >&2 || true
	die "kernel build failed, see $buildlog"
fi
log "built $tree/arch/x86/boot/bzImage${targets[1]:+ and modules} in $((SECONDS - start)) s ($(ccache -s | grep -iE '^ *hits' | head -n1 | xargs))"
