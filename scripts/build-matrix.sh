#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build checks for the series beyond the test kernel:
#  - bisect: after each patch, the kernel objects it touches build with the
#    test kernel's configuration (worktree linux-bisect); the whole kernel
#    with all patches is built and tested by make check;
#  - w1: W=1 adds no warning to the files the series touches;
#  - clang: the same with clang (LLVM $LLVM_SUFFIX, default -19: 7.3 needs
#    LLVM 17 or later, bookworm's clang is 14);
#  - nomig, kvm-m, arm64: the touched objects build with CONFIG_MIGRATION=n
#    and CONFIG_NUMA=n, with CONFIG_KVM=m and CONFIG_KVM_WERROR=y, and for
#    arm64;
#  - i386: the touched mm objects on a 32-bit kernel with CONFIG_MIGRATION
#    (where FOLIO_CONTENT_COPIED is 0; the KUnit test needs 64BIT, which the
#    check also checks);
#  - nomemcg: mm/migrate.o with the KUnit test and CONFIG_MEMCG=n;
#  - distro: with Debian's amd64 config, the touched objects and KVM's
#    modules, linked by modpost (see distro() below).
# O= builds need source trees without in-tree build output, so the checks
# build from their own worktrees: linux-matrix (the series), linux-matrix-base.
# Usage: build-matrix.sh [bisect] [w1] [clang] [nomig] [kvm-m] [arm64] [i386]
#        [nomemcg] [distro]  (default: all)
set -euo pipefail
source "$(dirname "$0")/common.sh"
LLVM_SUFFIX=${LLVM_SUFFIX:--19}
need_cmds make gcc ccache aarch64-linux-gnu-gcc
[ -d "$TREE/.git" ] || die "$TREE missing (run: make kernel-tree apply)"

export CCACHE_BASEDIR=$WORK CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-12G}
out=$WORK/matrix
mkdir -p "$out" "$WORK/logs"
jobs=$(nproc)
checks=("$@")
[ ${#checks[@]} -gt 0 ] ||
	checks=(bisect w1 clang nomig kvm-m arm64 i386 nomemcg distro)
failed=()

MTREE=$WORK/linux-matrix
MBASE=$WORK/linux-matrix-base
for t in "$MTREE:series" "$MBASE:base"; do
	[ -d "${t%%:*}" ] || git -C "$TREE" worktree add -q --detach "${t%%:*}" base
	git -C "${t%%:*}" checkout -q --detach "${t#*:}"
done

X86_OBJS=(mm/migrate.o mm/mempolicy.o mm/damon/ virt/kvm/ arch/x86/kvm/)
ARM64_OBJS=(mm/migrate.o mm/mempolicy.o mm/damon/ arch/arm64/kvm/)
# What the touched objects need: DAMON, and SEV (arch/x86/kvm/svm/sev.o).
DAMON=(DAMON=y DAMON_VADDR=y DAMON_PADDR=y)
SEV=(AMD_IOMMU=y CRYPTO_DEV_CCP=y CRYPTO_DEV_CCP_DD=y CRYPTO_DEV_SP_PSP=y KVM_AMD_SEV=y)

# mk TREE BUILDDIR ARCH ARGS...: make with ccache for ARCH (x86, x86-clang,
# i386 or arm64).
mk()
{
	local tree=$1 b=$2 arch=$3

	shift 3
	case "$arch" in
	arm64)
		make -C "$tree" O="$b" -j"$jobs" ARCH=arm64 \
			CROSS_COMPILE=aarch64-linux-gnu- \
			CC="ccache aarch64-linux-gnu-gcc" HOSTCC="ccache gcc" "$@" ;;
	x86-clang)
		make -C "$tree" O="$b" -j"$jobs" LLVM="$LLVM_SUFFIX" \
			CC="ccache clang$LLVM_SUFFIX" \
			HOSTCC="ccache clang$LLVM_SUFFIX" "$@" ;;
	i386)
		make -C "$tree" O="$b" -j"$jobs" ARCH=i386 CC="ccache gcc" \
			HOSTCC="ccache gcc" "$@" ;;
	*)
		make -C "$tree" O="$b" -j"$jobs" CC="ccache gcc" HOSTCC="ccache gcc" "$@" ;;
	esac
}

# config TREE BUILDDIR ARCH SET...: defconfig plus CONFIG_X=y|m|n settings.
config()
{
	local tree=$1 b=$2 arch=$3 opt how

	shift 3
	mkdir -p "$b"
	mk "$tree" "$b" "$arch" -s defconfig
	for opt in "$@"; do
		case "${opt#*=}" in
		y) how=--enable ;;
		m) how=--module ;;
		*) how=--disable ;;
		esac
		"$tree/scripts/config" --file "$b/.config" "$how" "${opt%%=*}"
	done
	mk "$tree" "$b" "$arch" -s olddefconfig
	for opt in "$@"; do
		case "$opt" in
		*=n) ! grep -q "^CONFIG_${opt%%=*}=[ym]" "$b/.config" ;;
		*) grep -q "^CONFIG_${opt%%=*}=${opt#*=}\$" "$b/.config" ;;
		esac || die "$b: CONFIG_$opt did not stick"
	done
}

# check NAME COMMAND...: run one check with its own log.  In the background,
# so that errexit holds inside it (it would not in an "if" condition).
check()
{
	local name=$1 start=$SECONDS rc=0

	shift
	log "$name: $* (log: $WORK/logs/matrix-$name.log)"
	("$@") >"$WORK/logs/matrix-$name.log" 2>&1 &
	wait $! || rc=$?
	if [ $rc -eq 0 ]; then
		log "$name: ok ($((SECONDS - start)) s)"
	else
		log "$name: FAILED ($((SECONDS - start)) s), see $WORK/logs/matrix-$name.log"
		failed+=("$name")
	fi
}

bisect()
{
	local t=$WORK/linux-bisect c objs

	[ -d "$t" ] || git -C "$TREE" worktree add -q --detach "$t" base
	cp "$TREE/.config" "$t/.config"
	for c in $(git -C "$TREE" rev-list --reverse base..series); do
		git -C "$t" checkout -q --detach "$c"
		# The objects of the test kernel that this commit touches.
		objs=$(git -C "$t" diff --name-only "$c~1" "$c" -- '*.c' \
			':!tools/' | sed -n 's/\.c$/.o/p' | while read -r o; do
				[ ! -f "$TREE/$o" ] || echo "$o"
			done)
		echo "== $(git -C "$t" log -1 --format=%h\ %s) (${objs//$'\n'/ })"
		[ -n "$objs" ] || continue
		# shellcheck disable=SC2086
		make -C "$t" -j"$jobs" CC="ccache gcc" HOSTCC="ccache gcc" \
			olddefconfig $objs || return 1
	done
}

# W=1 warnings in the touched files, base vs patched, line numbers dropped,
# with gcc (NAME w1, ARCH x86) or clang (clang, x86-clang).
w1_with()
{
	local name=$1 arch=$2 kind files f src n

	files=$(git -C "$TREE" diff --name-only base series -- '*.c' '*.h')
	for kind in base patched; do
		src=$MTREE
		[ $kind = patched ] || src=$MBASE
		n=$out/$name-$kind
		# WERROR off: W=1's warnings must show as warnings, not stop
		# the build as errors.
		config "$src" "$n" "$arch" KVM=y KVM_AMD=y WERROR=n \
			NUMA=y MIGRATION=y KUNIT=y "${DAMON[@]}" "${SEV[@]}"
		[ $kind = base ] || "$src/scripts/config" --file "$n/.config" \
			--enable MIGRATE_KUNIT_TEST
		mk "$src" "$n" "$arch" -s olddefconfig
		if ! mk "$src" "$n" "$arch" W=1 "${X86_OBJS[@]}" mm/ >"$n.log" 2>&1; then
			grep -E 'error' "$n.log" | head -20
			echo "$name: the W=1 build of the $kind failed, see $n.log"
			return 1
		fi
		{ grep -E 'warning:' "$n.log" || true; } |
			sed -E 's/:[0-9]+:[0-9]+:/:/' | sort -u >"$n.warnings"
		echo "$kind: $(wc -l <"$n.warnings") W=1 warnings in all"
	done
	for f in $files; do
		grep -F "$f:" "$out/$name-patched.warnings" || true
	done | sort -u >"$out/$name-touched.warnings"
	comm -13 "$out/$name-base.warnings" "$out/$name-touched.warnings" \
		>"$out/$name-new.warnings"
	echo "new W=1 warnings in touched files: $(wc -l <"$out/$name-new.warnings")"
	cat "$out/$name-new.warnings"
	[ ! -s "$out/$name-new.warnings" ]
}

w1() { w1_with w1 x86; }
w1_clang()
{
	need_cmds "clang$LLVM_SUFFIX" "ld.lld$LLVM_SUFFIX" "llvm-ar$LLVM_SUFFIX"
	w1_with clang x86-clang
}

build_i386()
{
	config "$MTREE" "$out/i386" i386 MIGRATION=y COMPACTION=y KUNIT=y \
		"${DAMON[@]}"
	"$MTREE/scripts/config" --file "$out/i386/.config" --enable MIGRATE_KUNIT_TEST
	mk "$MTREE" "$out/i386" i386 -s olddefconfig
	! grep -q '^CONFIG_MIGRATE_KUNIT_TEST=y' "$out/i386/.config" ||
		die "the KUnit test is offered on a 32-bit kernel"
	mk "$MTREE" "$out/i386" i386 mm/migrate.o mm/damon/ops-common.o
}

nomemcg()
{
	config "$MTREE" "$out/nomemcg" x86 MEMCG=n NUMA=y MIGRATION=y KUNIT=y \
		MIGRATE_KUNIT_TEST=y
	mk "$MTREE" "$out/nomemcg" x86 mm/migrate.o
}

nomig()
{
	config "$MTREE" "$out/nomig" x86 KVM=y KVM_AMD=y NUMA=n COMPACTION=n \
		CMA=n MEMORY_HOTREMOVE=n MIGRATION=n "${SEV[@]}"
	mk "$MTREE" "$out/nomig" x86 virt/kvm/ arch/x86/kvm/
}

kvm_m()
{
	config "$MTREE" "$out/kvm-m" x86 KVM=m KVM_AMD=m KVM_INTEL=m NUMA=y \
		MIGRATION=y KVM_WERROR=y "${DAMON[@]}" "${SEV[@]}"
	mk "$MTREE" "$out/kvm-m" x86 "${X86_OBJS[@]}" modules_prepare
}

# distro: Debian's own amd64 config (get-distro-config.sh), olddefconfig'd
# with Rust off (it would depend on whether the host has bindgen), on the
# base and on the series: the objects of the .c files the series changes
# outside KVM, and KVM's modules (kvm.ko, kvm-amd.ko, kvm-intel.ko), built
# as an external module so that modpost resolves their symbols against the
# Module.symvers of Debian's kernel of the same version, less its entries
# for KVM's modules, which the build writes anew.  That file stands for the
# patched vmlinux because the series changes no export of vmlinux but adds
# exports for the kvm module alone (EXPORT_SYMBOL_FOR_MODULES(sym, "kvm")),
# which are entered into the copy (Debian's config has no MODVERSIONS, so
# no CRC): the export markers of the objects it changes are the same on
# both sides but for those, and its diff adds or removes no other export
# macro outside KVM (all checked).
# Fails on a missing module, a modpost or Kbuild ERROR:/WARNING: line on
# either side, or a compiler warning that the base's build does not have.
# vmlinux and the rest of the config's modules (4,043 options =m) are not
# built: the test kernel alone took 2286 s cold here (session 8).  They
# hold none of the series' .c files; the headers it changes (declarations,
# struct fields, inlines) are compiled here only in the objects above.
distro()
{
	local kind src b files objs m sym kvm_exports
	local exports_msg="the series changes exports of vmlinux, for which Debian's Module.symvers cannot stand"

	"$TOP/scripts/get-distro-config.sh"
	files=$(git -C "$TREE" diff --name-only --diff-filter=d base series -- '*.c')
	objs=$(awk '/^(tools|samples|scripts|virt\/kvm|arch\/x86\/kvm)\// { next }
		/^arch\// && !/^arch\/x86\// { next }
		{ sub(/\.c$/, ".o"); print }' <<<"$files")
	git -C "$TREE" diff base series -- ':(exclude)tools/' ':(exclude)virt/kvm/' \
		':(exclude,glob)arch/*/kvm/**' >"$out/distro-series.diff"
	# Exports the series adds for the kvm module alone (as mm does for
	# guest_memfd) are entered into the copy of Debian's Module.symvers
	# below, so that modpost resolves them for kvm.ko; any other change
	# to an export stops the check.
	kvm_exports=$(sed -nE 's/^\+EXPORT_SYMBOL_FOR_MODULES\(([A-Za-z0-9_]+), "kvm"\);$/\1/p' \
		"$out/distro-series.diff")
	! grep -E '^[-+].*EXPORT_(SYMBOL|TRACEPOINT_SYMBOL|PER_CPU_SYMBOL|STATIC_CALL)' \
		"$out/distro-series.diff" |
		grep -vE '^\+EXPORT_SYMBOL_FOR_MODULES\([A-Za-z0-9_]+, "kvm"\);$' || {
		echo "$exports_msg"
		return 1
	}
	grep -q '^# CONFIG_MODVERSIONS is not set' "$DISTRO_DIR/config.amd64_none_amd64" || {
		echo "Debian's config has MODVERSIONS: the CRCs of new exports are not handled"
		return 1
	}
	for kind in base patched; do
		src=$MTREE
		[ $kind = patched ] || src=$MBASE
		b=$out/distro-$kind
		rm -rf "$b"
		mkdir -p "$b"
		cp "$DISTRO_DIR/config.amd64_none_amd64" "$b/.config"
		"$src/scripts/config" --file "$b/.config" --disable RUST
		mk "$src" "$b" x86 -s olddefconfig
		echo "== $kind: Debian's options that differ here (this toolchain, Rust off," \
			"and what Debian's packaging sets itself: signing keys, build salt):"
		diff <(grep '^CONFIG_' "$DISTRO_DIR/config.amd64_none_amd64" | sort) \
			<(grep '^CONFIG_' "$b/.config" | sort) | grep '^[<>]' || true
		mk "$src" "$b" x86 modules_prepare
		awk -F'\t' '$3 !~ /^arch\/x86\/kvm\//' "$DISTRO_DIR/Module.symvers" \
			>"$b/Module.symvers"
		if [ $kind = patched ]; then
			for sym in $kvm_exports; do
				printf '0x00000000\t%s\tvmlinux\tEXPORT_SYMBOL_GPL\tmodule:kvm\n' \
					"$sym" >>"$b/Module.symvers"
				echo "== patched: $sym, exported to kvm by the series, added to Module.symvers"
			done
		fi
		echo "== $kind: ${objs//$'\n'/ } and KVM's modules"
		: >"$b/build.log"
		if [ -n "$objs" ]; then
			# shellcheck disable=SC2086
			mk "$src" "$b" x86 $objs 2>&1 | tee "$b/build.log"
			# shellcheck disable=SC2086
			(cd "$b" && nm $objs) | grep -o '__export_symbol_[A-Za-z0-9_]*' |
				sort >"$out/distro-$kind.exports" || true
		fi
		# An external module build against $b/Module.symvers.  MO= keeps
		# its output out of the source tree; it must sit at the depth of
		# arch/x86/kvm, as virt/kvm's objects go to $MO/../../../virt/kvm.
		mk "$src" "$b" x86 M=arch/x86/kvm MO="$b/arch/x86/kvm" modules 2>&1 |
			tee -a "$b/build.log"
		for m in kvm kvm-amd kvm-intel; do
			[ -f "$b/arch/x86/kvm/$m.ko" ] || {
				echo "$kind: $m.ko was not built"
				return 1
			}
		done
		# modpost's errors and warnings, and Kbuild's (a missing
		# Module.symvers): compilers say "warning:", in lower case.
		! grep -E '^(ERROR|WARNING):' "$b/build.log" || return 1
		# Not sort -u: a second copy of a warning the base has is new.
		grep -E 'warning:' "$b/build.log" | sed -E \
			-e "s#[^ ]*/(${MTREE##*/}|${MBASE##*/})/##g" \
			-e 's/:[0-9]+:[0-9]+:/:/' | sort >"$out/distro-$kind.warnings" || true
	done
	if [ -n "$objs" ]; then
		echo "exports in $(wc -l <"$out/distro-base.exports") markers of the base's objects," \
			"$(wc -l <"$out/distro-patched.exports") of the series'"
		# The markers of the objects, but for the kvm-only exports added.
		diff "$out/distro-base.exports" <(grep -vxF -f <(
			for sym in $kvm_exports; do
				echo "__export_symbol_$sym"
			done) "$out/distro-patched.exports") || {
			echo "$exports_msg"
			return 1
		}
		for sym in $kvm_exports; do
			grep -qx "__export_symbol_$sym" "$out/distro-patched.exports" || {
				echo "$sym: no export marker in the series' objects"
				return 1
			}
		done
	fi
	comm -13 "$out/distro-base.warnings" "$out/distro-patched.warnings" \
		>"$out/distro-new.warnings"
	echo "kvm.ko, kvm-amd.ko, kvm-intel.ko built, their symbols resolved by modpost, on both;" \
		"new warnings with the series: $(wc -l <"$out/distro-new.warnings")"
	cat "$out/distro-new.warnings"
	[ ! -s "$out/distro-new.warnings" ]
}

arm64()
{
	config "$MTREE" "$out/arm64" arm64 KVM=y NUMA=y MIGRATION=y "${DAMON[@]}"
	mk "$MTREE" "$out/arm64" arm64 "${ARM64_OBJS[@]}"
}

for c in "${checks[@]}"; do
	case "$c" in
	bisect) check bisect bisect ;;
	w1) check w1 w1 ;;
	clang) check clang w1_clang ;;
	nomig) check nomig nomig ;;
	kvm-m) check kvm-m kvm_m ;;
	arm64) check arm64 arm64 ;;
	i386) check i386 build_i386 ;;
	nomemcg) check nomemcg nomemcg ;;
	distro) check distro distro ;;
	*) die "unknown check '$c' (want: bisect w1 clang nomig kvm-m arm64 i386 nomemcg distro)" ;;
	esac
done
[ ${#failed[@]} -eq 0 ] || die "failed: ${failed[*]}"
log "all build checks passed: ${checks[*]}"
