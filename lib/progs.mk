# SPDX-License-Identifier: GPL-2.0
#
# Builds one program of this repository (gmem_bench, gmem_systest,
# gmem_stress) from its main source and lib/gmem_host.c, with the KVM
# selftests' flags and library.  Used as a second makefile in
# tools/testing/selftests/kvm of the patched tree:
#   make -C $KVM_SELFTESTS -f Makefile -f lib/progs.mk \
#	PROG=$WORK/progs/NAME PROG_SRC=.../NAME.c GMEM_LIB=$TOP/lib $WORK/progs/NAME
# gmem_host.o is built next to PROG.

GMEM_HOST_OBJ := $(dir $(PROG))gmem_host.o

$(GMEM_HOST_OBJ): $(GMEM_LIB)/gmem_host.c $(GMEM_LIB)/gmem_host.h $(LIBKVM_OBJS)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(TARGET_ARCH) -c $< -o $@

$(PROG): $(PROG_SRC) $(GMEM_LIB)/gmem_host.h $(GMEM_HOST_OBJ) $(LIBKVM_OBJS)
	$(CC) $(CFLAGS) -I$(GMEM_LIB) $(CPPFLAGS) $(LDFLAGS) $(TARGET_ARCH) \
		$< $(GMEM_HOST_OBJ) $(LIBKVM_OBJS) $(LDLIBS) -o $@
