// SPDX-License-Identifier: GPL-2.0
/*
 * gmem_bench: what movable guest_memfd (GUEST_MEMFD_FLAG_MOVABLE) buys,
 * measured side by side in one run, against what a VMM backs guest RAM with
 * today: memfd or anonymous memory in an ordinary memslot, which KVM maps
 * and zaps through the MMU notifier when a page moves ("memfd-kvm",
 * "anon-kvm").  The same memory without a VM ("memfd", "anon") is a control.
 *
 *  demo        a running guest checks and rewrites its pages while the host
 *              moves them between two nodes
 *  throughput  move_pages() rate, node A -> B -> A, for every backend, the
 *              vCPU having written every page of a VM's backend before each
 *              move
 *  compaction  free order-9 blocks that compaction recovers from a region
 *              with every other page punched out: memfd, memfd-kvm, movable
 *              and unmovable guest_memfd
 *  offline     memory blocks holding such a region that can be offlined
 *  stall       a vCPU's first access to a page after it moved, against a
 *              page that did not move: movable guest_memfd and memfd-kvm
 *
 * Every page that moves is checked afterwards: by the guest for what the host
 * or the guest wrote before the move, and by the host for what the guest
 * wrote after it.  A lost or stale page fails the run; so do bad options and
 * nodes without memory.  Needs root, two NUMA nodes with memory and a kernel
 * with the movable guest_memfd series.
 *
 * Build: with the KVM selftests of the patched tree and lib/gmem_host.c, see
 * scripts/build-progs.sh.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <linux/falloc.h>

#include "gmem_host.h"
#include "numaif.h"
#include "processor.h"

/* How long the demo waits for the guest to make its last passes. */
#define DEMO_WAIT_SECONDS	120

#define MAX_STALL_PAGES	8192
#define PHASES		"demo,throughput,compaction,offline,stall"

/*
 * GMEM_UNMAPPED is movable guest_memfd that only the host writes: the guest
 * never maps it, so migration takes KVM's invalidation but has nothing to
 * zap.  It tells the cost of the zap and TLB flush from the rest.
 */
enum backend {
	ANON, MEMFD, ANON_KVM, MEMFD_KVM, GMEM_MOVABLE, GMEM_UNMOVABLE,
	GMEM_UNMAPPED, NR_BACKENDS
};

static const char * const backend_name[NR_BACKENDS] = {
	[ANON] = "anon",
	[MEMFD] = "memfd",
	[ANON_KVM] = "anon-kvm",
	[MEMFD_KVM] = "memfd-kvm",
	[GMEM_MOVABLE] = "gmem-movable",
	[GMEM_UNMOVABLE] = "gmem-unmovable",
	[GMEM_UNMAPPED] = "gmem-unmapped",
};

/* What the guest does when it runs: one command, then GUEST_SYNC. */
enum guest_cmd {
	CMD_FILL,	/* write generation @gen to the pages */
	CMD_CHECK_FILL,	/* check @gen - 1, then write @gen */
	CMD_TIME,	/* time the first read of each page, check @gen */
	CMD_LOOP,	/* check and rewrite until told to stop (demo) */
};

/*
 * Set by the host before each run of the vCPU.  Pages first, first + step,
 * ...  below nr_pages take part; "sparse" touches the first and the last
 * word of a page only (enough to catch a stale page, and much faster under
 * emulation), otherwise every word.
 */
static u64 guest_cmd, guest_gen, guest_nr_pages, guest_first, guest_step;
static u64 guest_sparse, guest_psize;
static u64 guest_stop, guest_passes;
static u64 guest_cycles[MAX_STALL_PAGES];

/* Write generation @gen, after checking @gen - 1 if @check. */
static void guest_pass(u64 *mem, u64 gen, bool check)
{
	u64 flags = PASS_FILL | (check ? PASS_CHECK : 0) |
		    (guest_sparse ? PASS_SPARSE : 0);

	GUEST_PAGE_PASS(mem, guest_psize, guest_first, guest_nr_pages,
			guest_step, check ? gen - 1 : gen, flags);
}

static void guest_time(u64 *mem)
{
	u64 words = guest_psize / sizeof(u64), i, t0, t1, val;

	for (i = 0; i < guest_nr_pages; i++) {
		t0 = rdtsc();
		val = READ_ONCE(mem[i * words]);
		t1 = rdtsc();
		guest_cycles[i] = t1 - t0;
		__GUEST_ASSERT(val == pattern(guest_gen, i, 0),
			       "Page %lu: wanted 0x%lx, got 0x%lx", i,
			       pattern(guest_gen, i, 0), val);
	}
}

static void guest_code(void)
{
	u64 *mem = (u64 *)GMEM_GPA;
	u64 gen;

	for (;;) {
		switch (READ_ONCE(guest_cmd)) {
		case CMD_FILL:
			guest_pass(mem, guest_gen, false);
			break;
		case CMD_CHECK_FILL:
			guest_pass(mem, guest_gen, true);
			break;
		case CMD_TIME:
			guest_time(mem);
			break;
		case CMD_LOOP:
			/* Generation guest_gen - 1 is in place when this starts. */
			for (gen = guest_gen; !READ_ONCE(guest_stop); gen++) {
				guest_pass(mem, gen, true);
				WRITE_ONCE(guest_passes, gen - guest_gen + 1);
			}
			break;
		default:
			GUEST_FAIL("Unknown command %lu", guest_cmd);
		}
		GUEST_SYNC(guest_cmd);
	}
}

static FILE *tsv;

/* A mapping of one backend, with the VM behind it for those a VM maps. */
struct region {
	enum backend type;
	u64 nr_pages;
	u64 *mem;
	void **pages;
	int fd;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
};

static void record(const char *phase, const char *backend, const char *metric,
		   double value)
{
	if (tsv)
		fprintf(tsv, "%s\t%s\t%s\t%.6g\n", phase, backend, metric, value);
}

/* Whether the guest maps the pages (and writes and checks them). */
static bool guest_maps(enum backend type)
{
	return type == ANON_KVM || type == MEMFD_KVM || type == GMEM_MOVABLE ||
	       type == GMEM_UNMOVABLE;
}

/* The index of @type in @types, which must have it. */
static int backend_index(const enum backend *types, int nr, enum backend type)
{
	int i;

	for (i = 0; i < nr && types[i] != type; i++)
		;
	TEST_ASSERT(i < nr, "No backend %s here", backend_name[type]);
	return i;
}

static void region_create(struct region *r, enum backend type, u64 nr_pages,
			  int node)
{
	size_t size = nr_pages * page_size;
	struct gmem g;

	memset(r, 0, sizeof(*r));
	r->type = type;
	r->nr_pages = nr_pages;
	r->fd = -1;

	switch (type) {
	case ANON:
	case ANON_KVM:
		r->mem = kvm_mmap(size, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1);
		/* Same folio size as the others: order 0. */
		TEST_ASSERT(!madvise(r->mem, size, MADV_NOHUGEPAGE),
			    "MADV_NOHUGEPAGE failed, errno = %d", errno);
		break;
	case MEMFD:
	case MEMFD_KVM:
		r->fd = memfd_create("gmem_bench", 0);
		TEST_ASSERT(r->fd >= 0, "memfd_create() failed, errno = %d", errno);
		TEST_ASSERT(!ftruncate(r->fd, size), "ftruncate() failed");
		r->mem = kvm_mmap(size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd);
		/* Order 0 whatever shmem_enabled says, and so KVM's mappings. */
		TEST_ASSERT(!madvise(r->mem, size, MADV_NOHUGEPAGE),
			    "MADV_NOHUGEPAGE failed, errno = %d", errno);
		break;
	case GMEM_MOVABLE:
	case GMEM_UNMOVABLE:
	case GMEM_UNMAPPED:
		/* Memslot 0 gets room for the page tables that map the region. */
		r->vm = __vm_create_with_one_vcpu(&r->vcpu, nr_pages, guest_code);
		gmem_create(&g, r->vm, type == GMEM_UNMOVABLE ? UNMOVABLE : MOVABLE,
			    nr_pages);
		r->fd = g.fd;
		r->mem = g.mem;
		r->pages = g.pages;
		break;
	default:
		TEST_FAIL("Unknown backend %d", type);
	}

	/*
	 * Guest RAM as VMMs have it today: the mapping in an ordinary memslot
	 * at the same guest address, mapped by KVM when the vCPU touches it.
	 */
	if (type == ANON_KVM || type == MEMFD_KVM) {
		r->vm = __vm_create_with_one_vcpu(&r->vcpu, nr_pages, guest_code);
		TEST_ASSERT(r->vm->page_size == page_size,
			    "Guest pages of %u bytes, host pages of %zu: not supported",
			    r->vm->page_size, page_size);
		vm_set_user_memory_region(r->vm, GMEM_SLOT, 0, GMEM_GPA, size,
					  r->mem);
		virt_map(r->vm, GMEM_GPA, GMEM_GPA, nr_pages);
	}

	bind_to_node(r->mem, size, node);
	if (!r->pages)
		r->pages = page_array(r->mem, nr_pages);
}

static void region_destroy(struct region *r)
{
	kvm_munmap(r->mem, r->nr_pages * page_size);
	free(r->pages);
	if (r->fd >= 0)
		close(r->fd);
	if (r->vm)
		kvm_vm_free(r->vm);
}

/* Run the guest once: @cmd on pages @first, @first + @step, ... */
static void guest_run(struct region *r, u64 cmd, u64 gen, u64 first, u64 step,
		      bool sparse)
{
	WRITE_AND_SYNC_TO_GUEST(r->vm, guest_cmd, cmd);
	WRITE_AND_SYNC_TO_GUEST(r->vm, guest_gen, gen);
	WRITE_AND_SYNC_TO_GUEST(r->vm, guest_nr_pages, r->nr_pages);
	WRITE_AND_SYNC_TO_GUEST(r->vm, guest_first, first);
	WRITE_AND_SYNC_TO_GUEST(r->vm, guest_step, step);
	WRITE_AND_SYNC_TO_GUEST(r->vm, guest_sparse, sparse);
	WRITE_AND_SYNC_TO_GUEST(r->vm, guest_psize, page_size);
	run_to_sync(r->vcpu, cmd);
}

/* host_pass() over pages @first, @first + @step, ... of @r. */
static void region_pass(struct region *r, u64 gen, u64 flags, u64 first,
			u64 step, bool sparse)
{
	host_pass(backend_name[r->type], r->mem, first, r->nr_pages, step, gen,
		  flags | (sparse ? PASS_SPARSE : 0));
}

/*
 * Write generation @gen to the pages: by the vCPU where a VM maps them (so
 * that KVM must zap its mapping when a page moves), else by the host.
 */
static void touch(struct region *r, u64 gen, u64 first, u64 step, bool sparse)
{
	u64 words = page_size / sizeof(u64), i;

	if (!guest_maps(r->type)) {
		region_pass(r, gen, PASS_FILL, first, step, sparse);
		return;
	}
	/*
	 * move_pages() and pagemap see only pages the host has mapped: KVM's
	 * faults map those of an ordinary memslot, not guest_memfd's.
	 */
	if (r->type == GMEM_MOVABLE || r->type == GMEM_UNMOVABLE)
		for (i = first; i < r->nr_pages; i += step)
			READ_ONCE(r->mem[i * words]);
	guest_run(r, CMD_FILL, gen, first, step, sparse);
}

/*
 * After pages moved: they must hold generation @gen; then @gen + 1 is
 * written.  Where a VM maps the pages, the guest checks and writes, and the
 * host checks what the guest wrote: a guest write to a stale page would not
 * show.
 */
static void verify(struct region *r, u64 gen, u64 first, u64 step, bool sparse)
{
	if (!guest_maps(r->type)) {
		region_pass(r, gen, PASS_CHECK | PASS_FILL, first, step, sparse);
		return;
	}
	guest_run(r, CMD_CHECK_FILL, gen + 1, first, step, sparse);
	region_pass(r, gen + 1, PASS_CHECK, first, step, sparse);
}

/* Free memory of @node in blocks of order 9 or more, counted in order-9 units. */
static long free_order9_blocks(int node)
{
	char line[512];
	long blocks = 0;
	FILE *f = fopen("/proc/buddyinfo", "r");

	TEST_ASSERT(f, "Cannot open /proc/buddyinfo");
	while (fgets(line, sizeof(line), f)) {
		char *p, *end;
		int n, order;

		if (sscanf(line, "Node %d,", &n) != 1 || n != node)
			continue;
		p = strstr(line, "zone");
		TEST_ASSERT(p, "Bad /proc/buddyinfo line: %s", line);
		p += 4;
		while (*p == ' ')
			p++;
		p = strchr(p, ' ');	/* skip the zone name */
		for (order = 0; p; order++) {
			long count = strtol(p, &end, 10);

			if (end == p)
				break;
			if (order >= 9)
				blocks += count << (order - 9);
			p = end;
		}
	}
	fclose(f);
	return blocks;
}

/* MemFree of @node, in bytes. */
static u64 node_free_bytes(int node)
{
	char path[64], line[128];
	u64 kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", node);
	f = fopen(path, "r");
	TEST_ASSERT(f, "Cannot open %s", path);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Node %*d MemFree: %lu kB", &kb) == 1)
			break;
	fclose(f);
	TEST_ASSERT(kb, "No MemFree in %s", path);
	return kb * 1024;
}

static void compact_node(int node)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/compact", node);
	write_file(path, "1");
}

/*
 * One pass of compaction often stops far short of what it could do, by a
 * different amount every time: compact until a pass gains no free order-9
 * block, at most COMPACT_PASSES times.  Returns the number of passes.
 */
#define COMPACT_PASSES	8

static int compact_until_done(int node)
{
	long blocks = free_order9_blocks(node), prev;
	int pass = 0;

	do {
		prev = blocks;
		compact_node(node);
		blocks = free_order9_blocks(node);
	} while (++pass < COMPACT_PASSES && blocks > prev);
	return pass;
}

/* Nearest-rank percentile @pct of @v[0..@n), which gets sorted. */
static double percentile(double *v, int n, int pct)
{
	int rank = (pct * n + 99) / 100;

	qsort(v, n, sizeof(*v), cmp_double);
	return v[rank ? rank - 1 : 0];
}

/* ---- demo ---- */

struct loop_arg {
	struct region *r;
	struct ucall uc;
	u64 cmd;
	bool done;
};

static void *vcpu_loop(void *data)
{
	struct loop_arg *arg = data;

	vcpu_run(arg->r->vcpu);
	arg->cmd = get_ucall(arg->r->vcpu, &arg->uc);
	WRITE_ONCE(arg->done, true);
	return NULL;
}

static void phase_demo(u64 nr_pages, int rounds)
{
	struct loop_arg arg = {};
	struct region r;
	pthread_t thread;
	u64 pfn[4], samples[4] = { 0, 1, nr_pages / 2, nr_pages - 1 };
	int round, i, node, calls;
	u64 passes;
	double t;

	printf("\n== demo: a running guest's memory moves between node %d and node %d\n",
	       node_a, node_b);
	region_create(&r, GMEM_MOVABLE, nr_pages, node_a);
	touch(&r, 1, 0, 1, true);
	printf("VM with 1 vCPU and %lu MiB of movable guest_memfd (%lu pages) on node %d\n",
	       nr_pages * page_size >> 20, nr_pages, node_a);
	printf("the vCPU checks and rewrites the first and last word of each page, in a loop\n");

	WRITE_AND_SYNC_TO_GUEST(r.vm, guest_cmd, CMD_LOOP);
	WRITE_AND_SYNC_TO_GUEST(r.vm, guest_gen, 2);
	WRITE_AND_SYNC_TO_GUEST(r.vm, guest_nr_pages, nr_pages);
	WRITE_AND_SYNC_TO_GUEST(r.vm, guest_first, 0);
	WRITE_AND_SYNC_TO_GUEST(r.vm, guest_step, 1);
	WRITE_AND_SYNC_TO_GUEST(r.vm, guest_sparse, 1);
	WRITE_AND_SYNC_TO_GUEST(r.vm, guest_psize, page_size);
	WRITE_AND_SYNC_TO_GUEST(r.vm, guest_stop, 0);
	arg.r = &r;
	TEST_ASSERT(!pthread_create(&thread, NULL, vcpu_loop, &arg),
		    "pthread_create() failed");

	for (round = 1; round <= rounds; round++) {
		node = round % 2 ? node_b : node_a;
		for (i = 0; i < 4; i++)
			pfn[i] = page_pfn(r.pages[samples[i]]);
		t = now();
		calls = move_all(r.pages, nr_pages, node);
		t = now() - t;
		printf("move %d: %lu pages to node %d in %.2f s (%d calls), guest passes: %lu\n",
		       round, nr_pages, node, t, calls,
		       SYNC_FROM_GUEST_AND_READ(r.vm, guest_passes));
		for (i = 0; i < 4; i++)
			printf("    page %5lu: pfn 0x%lx -> 0x%lx\n", samples[i],
			       pfn[i], page_pfn(r.pages[samples[i]]));
	}

	/* Let the guest make two more passes over the pages where they are now. */
	passes = SYNC_FROM_GUEST_AND_READ(r.vm, guest_passes);
	t = now() + DEMO_WAIT_SECONDS;
	while (SYNC_FROM_GUEST_AND_READ(r.vm, guest_passes) < passes + 2 &&
	       !READ_ONCE(arg.done)) {
		TEST_ASSERT(now() < t, "The guest made no pass in %d s",
			    DEMO_WAIT_SECONDS);
		usleep(1000);
	}
	WRITE_AND_SYNC_TO_GUEST(r.vm, guest_stop, 1);
	pthread_join(thread, NULL);
	if (arg.cmd == UCALL_ABORT)
		REPORT_GUEST_ASSERT(arg.uc);
	TEST_ASSERT(arg.cmd == UCALL_SYNC, "Unexpected ucall %lu", arg.cmd);

	/* The guest's last pass wrote generation 2 + passes - 1. */
	passes = SYNC_FROM_GUEST_AND_READ(r.vm, guest_passes);
	region_pass(&r, 2 + passes - 1, PASS_CHECK, 0, 1, true);
	printf("the guest made %lu passes, each checking the one before: no lost write\n",
	       passes);
	printf("the host checked the guest's last pass: all %lu pages as written\n",
	       nr_pages);
	record("demo", "gmem-movable", "moves", (double)rounds * nr_pages);
	record("demo", "gmem-movable", "guest_passes", passes);
	region_destroy(&r);
}

/* ---- throughput ---- */

static void phase_throughput(u64 nr_pages, int reps)
{
	static const enum backend types[] = {
		ANON, MEMFD, ANON_KVM, MEMFD_KVM, GMEM_UNMAPPED, GMEM_MOVABLE
	};
	const int nr = ARRAY_SIZE(types), moves = 2 * reps;
	const int an = backend_index(types, nr, ANON);
	const int ak = backend_index(types, nr, ANON_KVM);
	const int mf = backend_index(types, nr, MEMFD);
	const int mk = backend_index(types, nr, MEMFD_KVM);
	const int gu = backend_index(types, nr, GMEM_UNMAPPED);
	const int gm = backend_index(types, nr, GMEM_MOVABLE);
	double rate[ARRAY_SIZE(types)][moves], med[ARRAY_SIZE(types)];
	double ratio[moves], rmed;
	struct region r[ARRAY_SIZE(types)];
	int b, i, rep, dir, node, calls[ARRAY_SIZE(types)] = {};
	u64 gen = 1;
	double t;

	printf("\n== throughput: move_pages() of %lu MiB (%lu pages), %d -> %d -> %d, %d times\n",
	       nr_pages * page_size >> 20, nr_pages, node_a, node_b, node_a, reps);
	printf("(before each move every page is written: by the vCPU of a running VM for\n"
	       " anon-kvm and memfd-kvm (an ordinary memslot, as VMMs back guest RAM today)\n"
	       " and gmem-movable, which KVM therefore maps and must zap, by the host for\n"
	       " the others: anon and memfd in no memslot, and gmem-unmapped, movable\n"
	       " guest_memfd the guest never maps; every word checked after each move)\n");

	for (b = 0; b < nr; b++) {
		region_create(&r[b], types[b], nr_pages, node_a);
		touch(&r[b], gen, 0, 1, false);
	}

	/*
	 * Round robin over the backends, so that drift hits all alike, in
	 * the list's order on the way out and in reverse on the way back, so
	 * that each backend's moves take, on average, the same place in a
	 * round and gmem-movable goes as often before memfd-kvm as after.
	 */
	for (rep = 0; rep < reps; rep++) {
		for (dir = 0; dir < 2; dir++) {
			node = dir ? node_a : node_b;
			for (i = 0; i < nr; i++) {
				b = dir ? nr - 1 - i : i;
				t = now();
				calls[b] += move_all(r[b].pages, nr_pages, node);
				t = now() - t;
				rate[b][2 * rep + dir] = nr_pages / t;
				record("throughput", backend_name[types[b]],
				       "pages_per_s", nr_pages / t);
				verify(&r[b], gen, 0, 1, false);
			}
			gen++;
		}
	}

	/* Each move of gmem-movable against memfd-kvm's of the same round. */
	for (i = 0; i < moves; i++)
		ratio[i] = rate[gm][i] / rate[mk][i];
	rmed = median(ratio, moves);
	for (b = 0; b < nr; b++)
		med[b] = median(rate[b], moves);

	printf("%-16s %12s %12s %12s %10s %8s %10s\n", "backend", "median/s",
	       "min/s", "max/s", "calls", "vs memfd", "vs mfd-kvm");
	for (b = 0; b < nr; b++) {
		/* Sorted by median(). */
		double lo = rate[b][0], hi = rate[b][moves - 1];

		printf("%-16s %12.0f %12.0f %12.0f %10d %8.2f %10.2f\n",
		       backend_name[types[b]], med[b], lo, hi, calls[b],
		       med[b] / med[mf], med[b] / med[mk]);
		record("throughput", backend_name[types[b]], "median_pages_per_s",
		       med[b]);
		record("throughput", backend_name[types[b]], "min_pages_per_s", lo);
		record("throughput", backend_name[types[b]], "max_pages_per_s", hi);
		record("throughput", backend_name[types[b]], "ratio_vs_memfd",
		       med[b] / med[mf]);
		record("throughput", backend_name[types[b]], "ratio_vs_memfd_kvm",
		       med[b] / med[mk]);
		region_destroy(&r[b]);
	}
	printf("every move of %lu pages checked: %d moves per backend, no lost or stale page\n",
	       nr_pages, moves);
	printf("gmem-movable / memfd-kvm, move by move: median %.2f, min %.2f, max %.2f (goal: 1.0 or more)\n",
	       rmed, ratio[0], ratio[moves - 1]);
	record("throughput", "gmem-movable/memfd-kvm", "ratio_median", rmed);
	record("throughput", "gmem-movable/memfd-kvm", "ratio_min", ratio[0]);
	record("throughput", "gmem-movable/memfd-kvm", "ratio_max", ratio[moves - 1]);
	/* Per page, from the medians: what a VM's mapping adds. */
	printf("per page: anon %.1f us, anon-kvm adds %.1f us; memfd %.1f us, memfd-kvm\n"
	       "adds %.1f us (the MMU notifier zaps KVM's mapping); gmem-unmapped adds\n"
	       "%.1f us to memfd (the invalidation, nothing to zap), gmem-movable %.1f us\n"
	       "(invalidation and zap)\n",
	       1e6 / med[an], 1e6 / med[ak] - 1e6 / med[an], 1e6 / med[mf],
	       1e6 / med[mk] - 1e6 / med[mf], 1e6 / med[gu] - 1e6 / med[mf],
	       1e6 / med[gm] - 1e6 / med[mf]);
}

/* ---- compaction and offlining ---- */

struct offline_result {
	int blocks, offlined, busy, timed_out, other;
};

/* Memory blocks holding pages of @r (every @step-th from @first). */
static int region_blocks(struct region *r, u64 first, u64 step, long *blocks,
			 int max)
{
	u64 pages_per_block = memory_block_size() / page_size, i;
	int n = 0, k;

	for (i = first; i < r->nr_pages; i += step) {
		long blk = page_pfn(r->pages[i]) / pages_per_block;

		for (k = 0; k < n && blocks[k] != blk; k++)
			;
		if (k == n) {
			TEST_ASSERT(n < max, "Region spans too many memory blocks");
			blocks[n++] = blk;
		}
	}
	return n;
}

/*
 * Offline memory block @blk, giving up after @timeout seconds (offlining
 * retries the migration of pages that fail to move until it is
 * interrupted), and online it again.  Returns 0, -errno or -ETIMEDOUT.
 */
static int try_offline(long blk, int timeout)
{
	char state[32];
	int err;

	block_state(blk, state, sizeof(state));
	TEST_ASSERT(!strcmp(state, "online"), "Memory block %ld is %s", blk, state);
	err = offline_block(blk, timeout);
	if (!err)
		TEST_ASSERT(!set_block_state(blk, "online"),
			    "Onlining memory block %ld again failed", blk);
	return err;
}

static void offline_blocks(struct region *r, u64 first, u64 step, int timeout,
			   struct offline_result *res)
{
	long blocks[256];
	int i;

	memset(res, 0, sizeof(*res));
	res->blocks = region_blocks(r, first, step, blocks, ARRAY_SIZE(blocks));
	for (i = 0; i < res->blocks; i++) {
		switch (try_offline(blocks[i], timeout)) {
		case 0:
			res->offlined++;
			break;
		case -EBUSY:
			res->busy++;
			break;
		case -ETIMEDOUT:
			res->timed_out++;
			break;
		default:
			res->other++;
		}
	}
}

/*
 * How many 2 MiB huge pages @node can give now: the kernel allocates them
 * one by one, compacting and retrying for each, and stops at the first it
 * cannot get.  They are freed again before returning.
 */
static long alloc_huge_pages(int node, long want)
{
	char path[96], buf[32];
	long got;

	snprintf(path, sizeof(path),
		 "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/nr_hugepages",
		 node);
	snprintf(buf, sizeof(buf), "%ld", want);
	write_file(path, buf);
	read_file(path, buf, sizeof(buf));
	got = atol(buf);
	write_file(path, "0");
	return got;
}

/*
 * Compaction moves pages from the bottom of a zone into free pages at its
 * top, so a fragmented region only yields free blocks if it cannot be
 * sidestepped: by default the region fills node B but for a margin.
 */
#define COMPACT_MARGIN	(192ull << 20)

static void phase_compact_offline(u64 region_mib, bool do_compact,
				  bool do_offline, int timeout)
{
	static const enum backend types[] = {
		MEMFD, MEMFD_KVM, GMEM_MOVABLE, GMEM_UNMOVABLE
	};
	const int nr = ARRAY_SIZE(types);
	const int mf = backend_index(types, nr, MEMFD);
	const int mk = backend_index(types, nr, MEMFD_KVM);
	const int gm = backend_index(types, nr, GMEM_MOVABLE);
	const int gu = backend_index(types, nr, GMEM_UNMOVABLE);
	long before, after, ideal, yield[ARRAY_SIZE(types)], huge[ARRAY_SIZE(types)];
	struct offline_result off[ARRAY_SIZE(types)];
	long fail[ARRAY_SIZE(types)];
	int b, moved[ARRAY_SIZE(types)], passes[ARRAY_SIZE(types)];
	u64 i, *pfns, step = do_compact ? 2 : 1, nr_pages, size;

	write_file("/proc/sys/vm/drop_caches", "3");
	compact_node(node_b);
	size = region_mib << 20;
	if (!size) {
		size = node_free_bytes(node_b);
		TEST_ASSERT(size > COMPACT_MARGIN + (64ull << 20),
			    "Node %d has only %lu MiB free", node_b, size >> 20);
		size = (size - COMPACT_MARGIN) & ~(u64)(SZ_2M - 1);
	}
	nr_pages = size / page_size;
	ideal = nr_pages / 2 / 512;
	pfns = calloc(nr_pages, sizeof(u64));
	TEST_ASSERT(pfns, "calloc() failed");
	write_restored("/proc/sys/vm/compact_unevictable_allowed", "1");

	if (do_compact)
		printf("\n== compaction: %lu MiB on node %d, every other page punched out\n",
		       nr_pages * page_size >> 20, node_b);
	for (b = 0; b < nr; b++) {
		const char *name = backend_name[types[b]];
		struct region r;

		/* Start every backend from a compacted node. */
		write_file("/proc/sys/vm/drop_caches", "3");
		compact_node(node_b);

		region_create(&r, types[b], nr_pages, node_b);
		touch(&r, 1, 0, 1, true);

		if (do_compact) {
			for (i = 1; i < nr_pages; i += 2)
				TEST_ASSERT(!fallocate(r.fd, FALLOC_FL_PUNCH_HOLE |
						       FALLOC_FL_KEEP_SIZE,
						       i * page_size, page_size),
					    "Punching page %lu failed, errno = %d", i,
					    errno);
			for (i = 0; i < nr_pages; i += 2)
				pfns[i] = page_pfn(r.pages[i]);
			before = free_order9_blocks(node_b);
			passes[b] = compact_until_done(node_b);
			after = free_order9_blocks(node_b);
			yield[b] = after - before;
			for (i = 0, moved[b] = 0; i < nr_pages; i += 2)
				moved[b] += pfns[i] != page_pfn(r.pages[i]);
			/* Beyond the free blocks there were before compaction. */
			huge[b] = alloc_huge_pages(node_b, before + ideal + 64) - before;
			verify(&r, 1, 0, 2, true);
			record("compaction", name, "order9_blocks_before", before);
			record("compaction", name, "order9_blocks_after", after);
			record("compaction", name, "order9_blocks_gained", yield[b]);
			record("compaction", name, "pages_moved", moved[b]);
			record("compaction", name, "huge_pages_gained", huge[b]);
		}

		if (do_offline) {
			long failed = read_vmstat("pgmigrate_fail");

			offline_blocks(&r, 0, step, timeout, &off[b]);
			fail[b] = read_vmstat("pgmigrate_fail") - failed;
			/* Pages of offlined blocks moved: check them all. */
			verify(&r, do_compact ? 2 : 1, 0, step, true);
			record("offline", name, "blocks", off[b].blocks);
			record("offline", name, "offlined", off[b].offlined);
			record("offline", name, "fraction",
			       (double)off[b].offlined / off[b].blocks);
		}
		region_destroy(&r);
	}
	restore_all();

	if (do_compact) {
		TEST_ASSERT(huge[mf] > 0,
			    "No huge page to gain from memfd either: the region did not fragment node %d (try a larger -c)",
			    node_b);
		printf("%-16s %12s %8s %12s %12s %10s\n", "backend", "order-9 free",
		       "passes", "pages moved", "huge pages", "of ideal");
		for (b = 0; b < nr; b++) {
			printf("%-16s %12ld %8d %12d %12ld %9.0f%%\n",
			       backend_name[types[b]], yield[b], passes[b], moved[b],
			       huge[b], 100.0 * huge[b] / ideal);
			record("compaction", backend_name[types[b]], "ratio_vs_memfd",
			       (double)huge[b] / huge[mf]);
		}
		printf("(order-9 free: blocks freed by compaction, run until a pass gains\n"
		       " nothing; huge pages: 2 MiB pages the kernel could then allocate on\n"
		       " the node, beyond the free blocks before; ideal: the %ld blocks that\n"
		       " the punched pages add up to)\n", ideal);
		printf("huge pages: memfd-kvm gets %.0f%% of memfd's, gmem-movable %.0f%%, gmem-unmovable %.0f%%\n",
		       100.0 * huge[mk] / huge[mf], 100.0 * huge[gm] / huge[mf],
		       100.0 * huge[gu] / huge[mf]);
	}

	if (do_offline) {
		TEST_ASSERT(off[mf].offlined > 0,
			    "No memory block holding memfd went offline either (%d busy, %d timed out, %d other errors)",
			    off[mf].busy, off[mf].timed_out, off[mf].other);
		printf("\n== offlining: the memory blocks holding the %sregion (%d s each)\n",
		       do_compact ? "compacted " : "", timeout);
		printf("%-16s %8s %9s %9s %6s %9s %8s %14s\n", "backend", "blocks",
		       "offlined", "fraction", "busy", "timed out", "other",
		       "migrate fails");
		for (b = 0; b < nr; b++)
			printf("%-16s %8d %9d %8.0f%% %6d %9d %8d %14ld\n",
			       backend_name[types[b]], off[b].blocks,
			       off[b].offlined,
			       100.0 * off[b].offlined / off[b].blocks,
			       off[b].busy, off[b].timed_out, off[b].other,
			       fail[b]);
		printf("(busy: pages that cannot move, e.g. the kernel's;\n"
		       " timed out: migration kept failing)\n");
	}
	free(pfns);
}

/* ---- guest stall ---- */

/* Rounds of the stall phase; the backends take turns at going first. */
#define STALL_ROUNDS	2

/*
 * Half the pages of @type move; then the vCPU reads every page once, timing
 * each first read: a moved page faults back in, one that stayed does not.
 * The times, in microseconds, go to @moved and @stayed (nr_pages / 2 each).
 */
static void measure_stall(enum backend type, u64 nr_pages, double *moved,
			  double *stayed)
{
	void **odd = calloc(nr_pages / 2, sizeof(void *));
	double us_per_cycle;
	struct region r;
	u64 i, gva;
	int n = nr_pages / 2;

	TEST_ASSERT(odd, "calloc() failed");
	region_create(&r, type, nr_pages, node_a);
	/* Set by the VM's creation. */
	TEST_ASSERT(guest_tsc_khz, "No guest TSC frequency");
	us_per_cycle = 1000.0 / guest_tsc_khz;
	touch(&r, 1, 0, 1, true);

	/* Map every page for the guest and warm the path, then move half. */
	guest_run(&r, CMD_TIME, 1, 0, 1, true);
	for (i = 0; i < n; i++)
		odd[i] = r.pages[2 * i + 1];
	move_all(odd, n, node_b);
	guest_run(&r, CMD_TIME, 1, 0, 1, true);

	for (i = 0; i < nr_pages; i++) {
		gva = (u64)&guest_cycles[i];
		guest_cycles[i] = *(u64 *)addr_gva2hva(r.vm, gva);
		if (i % 2)
			moved[i / 2] = guest_cycles[i] * us_per_cycle;
		else
			stayed[i / 2] = guest_cycles[i] * us_per_cycle;
	}
	verify(&r, 1, 0, 1, true);
	region_destroy(&r);
	free(odd);
}

static void phase_stall(u64 nr_pages)
{
	static const enum backend types[] = { MEMFD_KVM, GMEM_MOVABLE };
	const int nr = ARRAY_SIZE(types), n = nr_pages / 2;
	const int mk = backend_index(types, nr, MEMFD_KVM);
	const int gm = backend_index(types, nr, GMEM_MOVABLE);
	double *moved[ARRAY_SIZE(types)], *stayed[ARRAY_SIZE(types)];
	double m50[ARRAY_SIZE(types)], m99[ARRAY_SIZE(types)];
	double s50, s99;
	int b, i, round, total = STALL_ROUNDS * n;
	char name[64];

	printf("\n== stall: a vCPU's first read of a page after it moved (%lu pages, half moved,\n"
	       "   %d rounds, the backends taking turns at going first)\n",
	       nr_pages, STALL_ROUNDS);
	for (b = 0; b < nr; b++) {
		moved[b] = calloc(total, sizeof(double));
		stayed[b] = calloc(total, sizeof(double));
		TEST_ASSERT(moved[b] && stayed[b], "calloc() failed");
	}
	for (round = 0; round < STALL_ROUNDS; round++)
		for (i = 0; i < nr; i++) {
			b = round % 2 ? nr - 1 - i : i;
			measure_stall(types[b], nr_pages, moved[b] + round * n,
				      stayed[b] + round * n);
		}

	printf("%-16s %-22s %12s %12s\n", "backend", "page", "median (us)",
	       "p99 (us)");
	for (b = 0; b < nr; b++) {
		const char *bn = backend_name[types[b]];

		m50[b] = median(moved[b], total);
		m99[b] = percentile(moved[b], total, 99);
		s50 = median(stayed[b], total);
		s99 = percentile(stayed[b], total, 99);
		printf("%-16s %-22s %12.2f %12.2f\n", bn, "not moved", s50, s99);
		printf("%-16s %-22s %12.2f %12.2f\n", bn, "moved (fault back in)",
		       m50[b], m99[b]);
		snprintf(name, sizeof(name), "%s/not-moved", bn);
		record("stall", name, "median_us", s50);
		record("stall", name, "p99_us", s99);
		snprintf(name, sizeof(name), "%s/moved", bn);
		record("stall", name, "median_us", m50[b]);
		record("stall", name, "p99_us", m99[b]);
		free(moved[b]);
		free(stayed[b]);
	}
	printf("moved page, gmem-movable / memfd-kvm: median %.2f, p99 %.2f (goal: 1.0 or less; guest TSC %lu kHz)\n",
	       m50[gm] / m50[mk], m99[gm] / m99[mk], guest_tsc_khz);
	record("stall", "gmem-movable/memfd-kvm", "ratio_median", m50[gm] / m50[mk]);
	record("stall", "gmem-movable/memfd-kvm", "ratio_p99", m99[gm] / m99[mk]);
}

/* ---- options ---- */

static void usage(const char *name)
{
	printf("Usage: %s [-a NODE] [-b NODE] [-d MiB] [-s MiB] [-r REPS] [-c MiB]\n"
	       "          [-n PAGES] [-t SECONDS] [-p PHASES] [-o FILE]\n"
	       "  -a, -b  the two nodes (default: the first two this task may use)\n"
	       "  -d      demo: guest_memfd size (default 16)\n"
	       "  -s      throughput: size per backend (default 64)\n"
	       "  -r      throughput: repetitions of node a -> b -> a (default and least 5)\n"
	       "  -c      compaction and offlining: region size (default: node b's free memory - 192)\n"
	       "  -n      stall: pages (default 2048, at most %d)\n"
	       "  -t      offlining: seconds one block may take (default 5)\n"
	       "  -p      comma-separated phases (default " PHASES ")\n"
	       "  -o      also write results as TSV (phase, backend, metric, value) to FILE\n",
	       name, MAX_STALL_PAGES);
}

static unsigned long num_arg(char opt, unsigned long min, unsigned long max)
{
	return parse_num("gmem_bench", opt, optarg, min, max);
}

int main(int argc, char *argv[])
{
	u64 demo_mib = 16, tput_mib = 64, region_mib = 0, stall_pages = 2048;
	bool demo = true, tput = true, compact = true, offline = true;
	bool stall = true;
	int reps = 5, timeout = 5, opt;
	unsigned long mask[MAX_NODES / 64] = {};
	char *phases = NULL, *tok, why[256];
	const char *missing;

	while ((opt = getopt(argc, argv, "a:b:d:s:r:c:n:t:p:o:h")) != -1) {
		switch (opt) {
		case 'a':
			node_a = num_arg('a', 0, MAX_NODES - 1);
			break;
		case 'b':
			node_b = num_arg('b', 0, MAX_NODES - 1);
			break;
		case 'd':
			demo_mib = num_arg('d', 1, 1024);
			break;
		case 's':
			tput_mib = num_arg('s', 1, 4096);
			break;
		case 'r':
			reps = num_arg('r', 5, 1000);
			break;
		case 'c':
			region_mib = num_arg('c', 4, 4096);
			break;
		case 'n':
			stall_pages = num_arg('n', 2, MAX_STALL_PAGES);
			break;
		case 't':
			timeout = num_arg('t', 1, 3600);
			break;
		case 'p':
			phases = optarg;
			break;
		case 'o':
			tsv = fopen(optarg, "w");
			if (!tsv) {
				fprintf(stderr, "gmem_bench: cannot write %s: %s\n",
					optarg, strerror(errno));
				exit(KSFT_FAIL);
			}
			break;
		default:
			usage(argv[0]);
			exit(opt == 'h' ? 0 : KSFT_FAIL);
		}
	}
	no_more_args(argc, argv, usage);
	if (phases) {
		demo = list_has(phases, "demo");
		tput = list_has(phases, "throughput");
		compact = list_has(phases, "compaction");
		offline = list_has(phases, "offline");
		stall = list_has(phases, "stall");
		for (tok = strtok(phases, ","); tok; tok = strtok(NULL, ","))
			if (!list_has(PHASES, tok)) {
				fprintf(stderr, "gmem_bench: unknown phase '%s'\n", tok);
				exit(KSFT_FAIL);
			}
	}

	if (geteuid()) {
		fprintf(stderr, "gmem_bench: needs root (pagemap PFNs, compaction, offlining)\n");
		exit(KSFT_FAIL);
	}
	missing = check_prerequisites(why, sizeof(why));
	if (missing) {
		fprintf(stderr, "gmem_bench: %s\n", missing);
		exit(KSFT_FAIL);
	}
	/* Everything but the regions measured stays off node b. */
	mask[node_a / 64] = BIT_ULL(node_a % 64);
	TEST_ASSERT(!set_mempolicy(MPOL_PREFERRED, mask, MAX_NODES),
		    "set_mempolicy() failed, errno = %d", errno);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("gmem_bench: nodes %d and %d, page size %zu\n", node_a, node_b, page_size);

	if (demo)
		phase_demo(demo_mib * SZ_1M / page_size, 4);
	if (tput)
		phase_throughput(tput_mib * SZ_1M / page_size, reps);
	if (compact || offline)
		phase_compact_offline(region_mib, compact, offline, timeout);
	if (stall)
		phase_stall(stall_pages & ~1ull);

	if (tsv)
		fclose(tsv);
	printf("\ngmem_bench: done, every moved page checked\n");
	return 0;
}
