# SPDX-License-Identifier: GPL-2.0
#
# Builds gmem_bench with the KVM selftests' flags and library.  Used as a
# second makefile in tools/testing/selftests/kvm of the patched tree:
#   make -C $KVM_SELFTESTS -f Makefile -f bench.mk BENCH_SRC=... BENCH_OUT=...

$(BENCH_OUT): $(BENCH_SRC) $(LIBKVM_OBJS)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(LDFLAGS) $(TARGET_ARCH) $< $(LIBKVM_OBJS) $(LDLIBS) -o $@
