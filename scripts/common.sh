# SPDX-License-Identifier: GPL-2.0
# Sourced by the other scripts: paths, pinned versions and small helpers.
# shellcheck shell=bash disable=SC2034

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${GMEM_WORK:-$TOP/work}
export CCACHE_DIR=${CCACHE_DIR:-/var/cache/gmem-ccache}

# Debian packages the harness is pinned to (DESIGN.md section 4).
KSRC_PKG=linux-source-7.3
KSRC_VER=7.3.4-1~bpo13+1
B4_VER=0.14.2-2

APT_DIR=$WORK/apt
DEB_DIR=$WORK/debs
# The private apt configuration that setup-host.sh writes: its own sources
# (newer suites of the host's archive), lists and cache under $APT_DIR; what
# the host's apt.conf.d sets (a proxy, say) still applies.
APT_OPTS=(
	-o "Dir::Etc::SourceList=$APT_DIR/sources.list"
	-o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::Etc::Preferences=/dev/null"
	-o "Dir::Etc::PreferencesParts=$APT_DIR/preferences.d"
	-o "Dir::State::Lists=$APT_DIR/lists"
	-o "Dir::Cache=$APT_DIR/cache"
	-o "APT::Sandbox::User=root"
)
DISTRO_DIR=$WORK/distro	# Debian's amd64 config and Module.symvers (get-distro-config.sh)
TREE=$WORK/linux		# git tree: base commit + the series
BASE_TREE=$WORK/linux-base	# git worktree at the base commit
BENCH_TREE=$WORK/linux-bench	# git worktree at the series, non-debug build
CONTROL_TREE=$WORK/linux-control	# git worktree: the series + a control patch
ARM64_TREE=$WORK/linux-arm64	# git worktree at the series, arm64 build (make check-arm64)
ARM64_BASE_TREE=$WORK/linux-arm64-base	# git worktree at the base commit, arm64 build
ARM64_CONTROL_TREE=$WORK/linux-arm64-control	# the series + a control patch, arm64 build
ARM64_DIR=$WORK/arm64		# arm64 user space: selftests, programs, initramfs
# make's arguments for an arm64 cross build (kernel, selftests, programs)
ARM64_CROSS=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
PROGS=$WORK/progs		# the repository's programs, built by build-progs.sh
BENCH=$PROGS/gmem_bench	# the benchmark (gmem_systest, gmem_stress beside it)
RESULTS=${RESULTS:-$WORK/results}	# or another, to keep a run (a scratch kernel's) apart
KSELFTEST=$WORK/kselftest	# the KVM selftests as installed for run_kselftest.sh

log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$(basename "$0" .sh)" "$*" >&2; exit 1; }

need_cmds()
{
	local c missing=()

	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	[ ${#missing[@]} -eq 0 ] ||
		die "missing commands: ${missing[*]} (run: make setup)"
}

# tree_for KIND: the kernel tree for "patched", "base", "bench", "control",
# "arm64", "arm64-base" or "arm64-control".
tree_for()
{
	case "$1" in
	patched) echo "$TREE" ;;
	base) echo "$BASE_TREE" ;;
	bench) echo "$BENCH_TREE" ;;
	control) echo "$CONTROL_TREE" ;;
	arm64) echo "$ARM64_TREE" ;;
	arm64-base) echo "$ARM64_BASE_TREE" ;;
	arm64-control) echo "$ARM64_CONTROL_TREE" ;;
	*) die "unknown kernel kind '$1' (want: patched, base, bench, control, arm64, arm64-base or arm64-control)" ;;
	esac
}

# worktree_at DIR REF: a git worktree of $TREE at DIR, checked out at REF
# ("series" or "base"), for a tree built apart from $TREE.
worktree_at()
{
	[ -n "$(git -C "$TREE" rev-parse -q --verify "$2" 2>/dev/null)" ] ||
		die "$TREE has no $2 branch (run: make apply)"
	[ -d "$1" ] || git -C "$TREE" worktree add -q --detach "$1" "$2"
	git -C "$1" checkout -q --detach "$2"
}

# What counts as a kernel splat in dmesg or on the console.  (lockdep and
# KASAN reports start with WARNING: or BUG:; arm64 prints "Call trace:",
# x86 "Call Trace:"; a taint that turns lock
# debugging off would hide the rest, so it counts too.)
SPLAT_RE='WARNING:|BUG:|Oops|Call [Tt]race:|kernel BUG|Kernel panic|general protection fault|UBSAN:|INFO: task .* blocked|rcu: .*stall|DEBUG_LOCKS_WARN_ON|Disabling lock debugging'

# The negative controls of make controls: "NAME TEST EXPECTED-FAILURE" lines.
CONTROLS_LIST=$TOP/controls/controls.list

# control_names [arm64] [NAME...]: the names given, or every control of the
# list (with arm64: every one whose test is not in an x86 MMU mode).
control_names()
{
	local arm64=

	[ "${1:-}" != arm64 ] || { arm64=1; shift; }
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@"
	else
		grep -v '^#' "$CONTROLS_LIST" |
			awk -v arm64="$arm64" 'NF && !(arm64 && $2 ~ /@/) {print $1}'
	fi
}

# control_line NAME: the list's line for control NAME, or die.
control_line()
{
	local line

	line=$(awk -v n="$1" '$1 == n' "$CONTROLS_LIST")
	[ -n "$line" ] || die "no control '$1' in $CONTROLS_LIST"
	echo "$line"
}

# stamp NAME: the series commit and the checksum of controls/NAME.patch,
# which a control's results must have been made with.
stamp()
{
	echo "series $(git -C "$TREE" rev-parse series)"
	echo "patch $(sha256sum <"$TOP/controls/$1.patch" | cut -d' ' -f1)"
}

# vm_prepare OUT COMMAND...: a fresh results directory OUT for a test VM,
# with OUT/guest.sh, the script that the VM's /init runs (gmem.run=):
# "exec COMMAND", kept with the results.  The kernel command line names
# OUT and the 9p shares' paths, so they must be absolute, without white
# space.
vm_prepare()
{
	local out=$1 d

	shift
	for d in "$TOP" "$WORK" "$out"; do
		[[ "$d" = /* && "$d" != *[[:space:]]* ]] ||
			die "'$d' is not an absolute path without white space: the kernel command line names it"
	done
	rm -rf "$out"
	mkdir -p "$out"
	{
		printf exec
		printf ' %q' "$@"
		echo
	} >"$out/guest.sh"
}

# vm_boot OUT QEMU-COMMAND...: run the VM, its console into
# OUT/console.log, killed after VM_TIMEOUT seconds (default 3600);
# "EXIT-STATUS SECONDS" into OUT/vm.rc.
vm_boot()
{
	local out=$1 timeout=${VM_TIMEOUT:-3600} start=$SECONDS rc=0

	shift
	log "results in $out (timeout ${timeout}s)"
	timeout --kill-after=30 "$timeout" "$@" >"$out/console.log" 2>&1 </dev/null ||
		rc=$?
	log "VM exited with $rc after $((SECONDS - start)) s"
	echo "$rc $((SECONDS - start))" >"$out/vm.rc"
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		log "VM hung and was killed after ${timeout}s; console log: $out/console.log"
	fi
}
