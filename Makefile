# SPDX-License-Identifier: GPL-2.0
#
# Entry points; see README.md.  Everything is fetched and built under work/
# (ignored by git), ccache lives in $(CCACHE_DIR) (default /var/cache/gmem-ccache).

S := scripts
STAGE := $(S)/stage.sh

# Run only some of the KVM selftests, e.g. TESTS=guest_memfd_migrate_test.
TESTS ?=
# Run only some negative controls, e.g. CONTROLS=no-damon-exclusion.
CONTROLS ?=
# Options for gmem_bench in make demo, e.g. BENCH_ARGS="-p throughput -r 10".
BENCH_ARGS ?=
# BENCH_PERF=1: profile gmem_bench with perf (where the time goes; the
# profile costs time, so its figures are not the benchmark's).
BENCH_PERF ?=

# The stages of a target run in order, one at a time (one kernel build or VM
# at a time on a 2-core machine), even under make -j.
.NOTPARALLEL:

.PHONY: demo check baseline setup kernel-tree apply kernel base-kernel \
	bench-kernel selftests progs bench initramfs run run-base run-onenode run-bench results \
	results-onenode check-onenode \
	results-base bench-report series build-matrix help \
	controls run-controls results-controls \
	check-arm64 baseline-arm64 setup-arm64 kernel-arm64 base-kernel-arm64 \
	selftests-arm64 progs-arm64 initramfs-arm64 run-arm64 run-arm64-onenode \
	run-arm64-pkvm run-base-arm64 results-arm64 results-base-arm64 \
	controls-arm64 run-controls-arm64 results-controls-arm64

## demo: the series at work, measured: non-debug patched kernel, 2-node VM, gmem_bench
demo: setup kernel-tree apply bench-kernel selftests progs initramfs run-bench \
	bench-report

## check: the tests: patched debug kernel in the 2-node VM (the series' tests,
## the series' test in a cpuset of one node, the system tests); a line per test
check: setup kernel-tree apply kernel selftests progs initramfs run results

## check-onenode: the series' test in a VM of one node (slower than the
## cpuset of make check: a VM boot more)
check-onenode: setup kernel-tree apply kernel selftests initramfs run-onenode \
	results-onenode

## controls: negative controls: the series without one of its parts
## (controls/), built and booted in turn; the test of that part must fail
controls: setup kernel-tree apply selftests progs initramfs run-controls \
	results-controls

## baseline: the same tests on the unpatched base kernel (own build)
baseline: setup kernel-tree apply base-kernel selftests initramfs run-base \
	results-base

## check-arm64: the series cross-built for arm64, booted under TCG at EL2
## (KVM inside, two nodes, a CMA area): KUnit, the series' tests, the system
## tests; then a one-node boot and a pKVM boot (the flag is not offered)
check-arm64: setup setup-arm64 kernel-tree apply kernel-arm64 selftests-arm64 \
	progs-arm64 initramfs-arm64 run-arm64 run-arm64-onenode run-arm64-pkvm \
	results-arm64

## baseline-arm64: the arm64 KVM selftests of check-arm64 on the base kernel
baseline-arm64: setup setup-arm64 kernel-tree apply base-kernel-arm64 \
	selftests-arm64 initramfs-arm64 run-base-arm64 results-base-arm64

## controls-arm64: the negative controls on arm64 (those not in an x86 MMU mode)
controls-arm64: setup setup-arm64 kernel-tree apply selftests-arm64 progs-arm64 \
	initramfs-arm64 run-controls-arm64 results-controls-arm64

## setup: install the host packages (root), fetch the Debian packages
setup:
	@$(STAGE) setup $(S)/setup-host.sh

## setup-arm64: what make check-arm64 needs on top (root): QEMU for arm64,
## and arm64 busybox and bash for the VM's initramfs
setup-arm64:
	@$(STAGE) setup-arm64 $(S)/setup-host.sh arm64

## kernel-tree: unpack linux-source-7.3 as a git tree with one base commit
kernel-tree:
	@$(STAGE) kernel-tree $(S)/get-kernel.sh

## apply: git am patches/ on the base (only when patches/ changed)
apply:
	@$(STAGE) apply $(S)/apply-series.sh

kernel:
	@$(STAGE) build-patched $(S)/build-kernel.sh patched

base-kernel:
	@$(STAGE) build-base $(S)/build-kernel.sh base

bench-kernel:
	@$(STAGE) build-bench $(S)/build-kernel.sh bench

kernel-arm64:
	@$(STAGE) build-arm64 $(S)/build-kernel.sh arm64

base-kernel-arm64:
	@$(STAGE) build-arm64-base $(S)/build-kernel.sh arm64-base

selftests-arm64:
	@$(STAGE) selftests-arm64 $(S)/build-selftests.sh arm64

progs-arm64:
	@$(STAGE) progs-arm64 $(S)/build-progs.sh arm64

# initramfs: the x86 test VMs' root (busybox; the tests run in the host's
# root, shared read-only)
initramfs:
	@$(STAGE) initramfs $(S)/make-initramfs.sh x86

initramfs-arm64:
	@$(STAGE) initramfs-arm64 $(S)/make-initramfs.sh arm64

run-arm64:
	@$(STAGE) vm-arm64 $(S)/run-vm-arm64.sh arm64 $(TESTS)

run-arm64-onenode:
	@$(STAGE) vm-arm64-onenode $(S)/run-vm-arm64.sh arm64-onenode

run-arm64-pkvm:
	@$(STAGE) vm-arm64-pkvm $(S)/run-vm-arm64.sh arm64-pkvm

run-base-arm64:
	@$(STAGE) vm-arm64-base $(S)/run-vm-arm64.sh arm64-base $(TESTS)

results-arm64:
	@TESTS="$(TESTS)" $(S)/check-results.sh arm64 arm64-onenode arm64-pkvm

results-base-arm64:
	@TESTS="$(TESTS)" $(S)/check-results.sh arm64-base

selftests:
	@$(STAGE) selftests $(S)/build-selftests.sh

# gmem_bench, gmem_systest and gmem_stress, into work/progs
progs:
	@$(STAGE) progs $(S)/build-progs.sh

bench: progs

run:
	@$(STAGE) vm-patched $(S)/run-vm.sh patched $(TESTS)

run-base:
	@$(STAGE) vm-base $(S)/run-vm.sh base $(TESTS)

run-onenode:
	@$(STAGE) vm-onenode $(S)/run-vm.sh onenode

run-bench:
	@BENCH_PERF="$(BENCH_PERF)" $(STAGE) vm-bench $(S)/run-vm.sh bench $(BENCH_ARGS)

bench-report:
	@$(S)/bench-report.sh

# CONTROLS=NAME... runs only those of controls/controls.list
run-controls:
	@$(STAGE) controls $(S)/run-controls.sh $(CONTROLS)

run-controls-arm64:
	@$(STAGE) controls-arm64 $(S)/run-controls.sh arm64 $(CONTROLS)

results-controls-arm64:
	@$(S)/check-controls.sh arm64 $(CONTROLS)

results-controls:
	@$(S)/check-controls.sh $(CONTROLS)

results:
	@TESTS="$(TESTS)" $(S)/check-results.sh patched

results-onenode:
	@$(S)/check-results.sh onenode

results-base:
	@TESTS="$(TESTS)" $(S)/check-results.sh base

## series: regenerate patches/ from branch "series" of work/linux
series:
	@$(S)/export-series.sh

help:
	@sed -n 's/^## //p' Makefile

## build-matrix: bisect, W=1, MIGRATION=n/NUMA=n, KVM=m, arm64 and Debian-config builds
build-matrix:
	@$(S)/build-matrix.sh $(CHECKS)

## checkpatch: checkpatch.pl --strict on every patch of patches/
checkpatch:
	@$(S)/checkpatch-series.sh
