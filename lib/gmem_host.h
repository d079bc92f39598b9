/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host-side helpers shared by gmem_bench, gmem_systest and gmem_stress: page
 * patterns, page placement and moves, PFNs, procfs/sysfs files, a log of
 * system settings to restore, and a runner that gives every test case its
 * own process and one KTAP result.
 *
 * Built with the KVM selftest library of the patched tree, see lib/progs.mk.
 */
#ifndef GMEM_HOST_H
#define GMEM_HOST_H

#include <stdbool.h>
#include <sys/types.h>

#include <linux/sizes.h>

#include "kvm_util.h"
#include "test_util.h"
#include "ucall_common.h"

/* Where the guest_memfd under test sits, for the guest (identity mapped). */
#define GMEM_GPA	SZ_4G
#define GMEM_SLOT	1

#define MOVABLE		(GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED | \
			 GUEST_MEMFD_FLAG_MOVABLE)
#define UNMOVABLE	(GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED)

/* move_pages() fails pages with transient references: retry them. */
#define MOVE_TRIES	100

/* Node masks passed to the kernel have room for this many nodes. */
#define MAX_NODES	1024

/* The host's page size, and the two NUMA nodes pick_nodes() chose. */
extern size_t page_size;
extern int node_a, node_b;

/* -S: a missing prerequisite fails a case instead of skipping it. */
extern bool strict;

/* ---- page patterns; the inline helpers are also guest code ---- */

#define PASS_CHECK	BIT(0)	/* check each word */
#define PASS_FILL	BIT(1)	/* then write the next generation */
#define PASS_SPARSE	BIT(2)	/* first and last word of a page only */
#define PASS_ZERO_OK	BIT(3)	/* a zero word passes (a punched hole) */

struct pass_error {
	u64 page, word, want, got;
};

/* The value of word @word of page @page in generation @gen. */
static inline u64 pattern(u64 gen, u64 page, u64 word)
{
	return (gen << 48) ^ (page << 24) ^ word ^ 0x5a5a5a5a5a5a5a5aull;
}

/*
 * One pass over pages @first, @first + @step, ... below @end of @mem, pages
 * of @psize bytes.  PASS_CHECK: every word must hold generation @gen (or
 * zero, with PASS_ZERO_OK).  PASS_FILL: every word gets generation @gen, or
 * @gen + 1 after a check.  Returns false at the first word that fails, which
 * @err describes.
 */
static inline bool page_pass(u64 *mem, u64 psize, u64 first, u64 end,
			     u64 step, u64 gen, u64 flags,
			     struct pass_error *err)
{
	u64 words = psize / sizeof(u64), i, j, val;
	u64 fill = flags & PASS_CHECK ? gen + 1 : gen;

	for (i = first; i < end; i += step) {
		u64 *p = mem + i * words;

		for (j = 0; j < words;
		     j = !(flags & PASS_SPARSE) ? j + 1 : j ? words : words - 1) {
			val = p[j];
			if ((flags & PASS_CHECK) && val != pattern(gen, i, j) &&
			    !((flags & PASS_ZERO_OK) && !val)) {
				*err = (struct pass_error) {
					.page = i, .word = j,
					.want = pattern(gen, i, j), .got = val,
				};
				return false;
			}
			if (flags & PASS_FILL)
				p[j] = pattern(fill, i, j);
		}
	}
	return true;
}

/* page_pass() in the guest, which fails the test at a wrong word. */
#define GUEST_PAGE_PASS(mem, psize, first, end, step, gen, flags) do {	\
	struct pass_error __e = {};					\
									\
	__GUEST_ASSERT(page_pass(mem, psize, first, end, step, gen,	\
				 flags, &__e),				\
		       "Page %lu, word %lu: wanted 0x%lx, got 0x%lx",	\
		       __e.page, __e.word, __e.want, __e.got);		\
} while (0)

/* page_pass() on the host, over pages of page_size; @what names the memory. */
void host_pass(const char *what, u64 *mem, u64 first, u64 end, u64 step,
	       u64 gen, u64 flags);

/* Every word of pages [0, @nr) gets, or must hold, generation @gen. */
void fill_pages(u64 *mem, u64 nr, u64 gen);
void check_pages(const char *what, u64 *mem, u64 nr, u64 gen);

/* ---- a guest_memfd bound to a VM and mapped by the host ---- */

struct gmem {
	struct kvm_vm *vm;
	int fd;
	u64 nr_pages;
	u64 *mem;
	void **pages;	/* the address of each page in mem */
};

/*
 * Give @vm a guest_memfd of @nr_pages with @flags, in memslot GMEM_SLOT at
 * GMEM_GPA (mapped 1:1 for the guest), and map it on the host.
 */
void gmem_create(struct gmem *g, struct kvm_vm *vm, u64 flags, u64 nr_pages);
/* Unmap and close it (the VM stays). */
void gmem_destroy(struct gmem *g);
/* An array of the addresses of the @nr pages from @mem. */
void **page_array(void *mem, u64 nr);

/* ---- NUMA nodes and moves ---- */

/*
 * Pick node_a and node_b, unless already set: the first two nodes with
 * memory and CPUs that this task may use.  False, with the reason in @why,
 * if there are no such two (or the ones set are not).
 */
bool pick_nodes(char *why, size_t size);
/* Whether this kernel offers GUEST_MEMFD_FLAG_MOVABLE to a default VM. */
bool has_movable_gmem(void);
/*
 * What the programs need and may lack: KVM, the flag, two nodes (picked).
 * Returns NULL, or why they cannot run (in @why, or a constant).
 */
const char *check_prerequisites(char *why, size_t size);
/* Run @vcpu until it reports GUEST_SYNC(@want), or fail. */
void run_to_sync(struct kvm_vcpu *vcpu, u64 want);
/* Run @vcpu until the guest is done (GUEST_DONE()), or fail. */
void run_to_done(struct kvm_vcpu *vcpu);
/* MPOL_BIND [@mem, @mem + @size) to @node. */
void bind_to_node(void *mem, size_t size, int node);
/* The node of each page (all must be mapped). */
void get_nodes(void **pages, int *nodes, u64 nr);
int count_on_node(void **pages, u64 nr, int node);
/* The node of the two that each page is not on. */
void get_other_nodes(void **pages, int *others, u64 nr);
/*
 * Ask for page i to move to node @targets[i], up to @tries times for the
 * pages that are not there yet.  Returns how many pages are not on their
 * target in the end (read back: move_pages() does not report the node of
 * every page it failed to move); @calls and @last_ret (if not NULL) get the
 * number of move_pages() calls and what the last one returned.
 */
u64 move_to_nodes(void **pages, const int *targets, u64 nr, int tries,
		  int *calls, long *last_ret);
/* Move all pages to @node, retrying, or fail.  Returns the calls made. */
int move_all(void **pages, u64 nr, int node);
/* Drain every CPU's LRU caches (a move_pages() call does it). */
void drain_lru_caches(void);

/* ---- statistics ---- */

/* qsort() comparison of doubles. */
int cmp_double(const void *a, const void *b);
/*
 * Median of @v[0..@n), which gets sorted: for an even @n, the mean of the
 * middle two.
 */
double median(double *v, int n);

/* ---- PFNs and /proc ---- */

/* The PFN behind a mapped address (read, so faulted in), from pagemap. */
u64 page_pfn(void *addr);
void get_pfns(void **pages, u64 *pfns, u64 nr);
/* Whether @addr is mapped in this process, per pagemap; it is not touched. */
bool page_present(void *addr);
/*
 * The PFN of each of the first @nr pages of @g, read through a mapping of
 * its own that is gone again when this returns: pages that no host page
 * table mapped before (only the guest touched them) map nowhere after.
 */
void probe_pfns(struct gmem *g, u64 *pfns, u64 nr);
/* How many of @nr PFNs differ between @before and @after. */
u64 count_changed(const u64 *before, const u64 *after, u64 nr);
/* The flags of @pfn in /proc/kpageflags (KPF_*). */
u64 pfn_flags(u64 pfn);
long read_vmstat(const char *name);
double now(void);

/* ---- procfs and sysfs files ---- */

void write_file(const char *path, const char *val);
/* Returns 0 or the errno of the open() or write(). */
int try_write_file(const char *path, const char *val);
/*
 * Write @val to @path in a child that is killed after @timeout seconds (a
 * write that makes the kernel retry until interrupted, such as offlining).
 * Returns 0, the -errno of the write, or -ETIMEDOUT.
 */
int write_file_timeout(const char *path, const char *val, double timeout);
/* The first line of @path, without its newline. */
void read_file(const char *path, char *buf, size_t size);
u64 read_u64(const char *path);
u64 read_u64_at(const char *path, off_t offset);

/* ---- memory blocks ---- */

u64 memory_block_size(void);
/* "online", "offline", ... */
void block_state(u64 block, char *buf, size_t size);
int set_block_state(u64 block, const char *state);
/*
 * Offline @block, giving up after @timeout seconds.  Returns 0 (also when it
 * went offline just as it was given up), -errno or -ETIMEDOUT.
 */
int offline_block(u64 block, double timeout);

/* ---- settings restored when a case ends, however it ends ---- */

/* Write @val to @path, to be set back to what it holds now. */
void write_restored(const char *path, const char *val);
/* Write @val to @path when the case ends (the newest such note first). */
void restore_later(const char *path, const char *val);
/* Offline @block and online it with @how ("online_kernel"...) at the end. */
void restore_block_later(u64 block, const char *how);
/* Restore everything noted so far, now. */
void restore_all(void);

/* ---- test cases, each in its own process, one KTAP result each ---- */

struct test_case {
	const char *name;
	void (*fn)(void);
};

/* The options that parse_options() adds for run_cases(): -S, -c CASES. */
#define CASE_USAGE \
	"  -S  strict: a missing prerequisite fails a case instead of skipping it\n" \
	"  -c  run only these cases (comma-separated)\n"

/*
 * Parse the options: -S, -c, -h and those of @optstring, which @option
 * handles (false: not one of them).  Prints @usage and exits on -h, a bad
 * option or an argument left over.
 */
void parse_options(int argc, char *argv[], const char *optstring,
		   bool (*option)(int opt), void (*usage)(const char *));

/*
 * Run the @nr cases (only those of -c, if given) each in a child, killed
 * after @timeout seconds, print one KTAP result each, restore what the case
 * changed, and exit.  With @skip_all, every case skips (or fails, if
 * strict) for that reason instead.
 */
void __noreturn run_cases(const struct test_case *cases, int nr, int timeout,
			  const char *skip_all);
/* The case passed; @fmt tells what it showed. */
void __printf(1, 2) case_pass(const char *fmt, ...);
/* A prerequisite is missing: skip the case (fail it if strict), and exit. */
void __noreturn __printf(1, 2) case_skip(const char *fmt, ...);
/*
 * The case cannot apply to this kernel, whatever the machine has (arm64
 * never offlines boot memory, say): skip it, also if strict, and exit.
 */
void __noreturn __printf(1, 2) case_not_applicable(const char *fmt, ...);

/* ---- options ---- */

/* The decimal number @arg of option -@opt, from @min to @max, or exit. */
unsigned long parse_num(const char *prog, char opt, const char *arg,
			unsigned long min, unsigned long max);
/* Whether @word is one of the comma-separated words of @list. */
bool list_has(const char *list, const char *word);
/* After getopt(): print @usage and exit if an argument is left. */
void no_more_args(int argc, char *argv[], void (*usage)(const char *));

#endif /* GMEM_HOST_H */
