// SPDX-License-Identifier: GPL-2.0
/*
 * gmem_systest: every kernel path that migrates memory, on guest_memfd
 * bound to a guest, with and without GUEST_MEMFD_FLAG_MOVABLE.
 *
 * Pages are moved by move_pages(2), migrate_pages(2), soft offline,
 * compaction, a CMA allocation and memory offlining while the vCPU is
 * stopped; after every move the guest checks that it sees exactly what the
 * host wrote, and the host checks what the guest wrote.  A guest mapping
 * left pointing at the old page would read stale data, or write where the
 * host can no longer see it.  Compaction, offlining and CMA also move pages
 * that only the guest wrote, which no host page table maps.  Without the
 * flag the pages must stay where they are, with their contents intact; and
 * automatic NUMA balancing and DAMON must leave movable guest_memfd alone.
 *
 * These tests change the whole system (sysctls, memory blocks, soft-offlined
 * pages, CMA, DAMON), so they run in a throwaway VM, as root.  Each case runs
 * in its own process and restores what it changed when it ends, however it
 * ends.  -S turns a missing prerequisite into a failure.
 *
 * Build: scripts/build-progs.sh (lib/progs.mk).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include <linux/falloc.h>
#include <linux/kernel-page-flags.h>

#include "gmem_host.h"
#include "kselftest.h"
#include "numaif.h"
#include "processor.h"

#define GMEM_PAGES	64

/* Enough pages that compaction finds some of them below its free scanner. */
#define COMPACT_PAGES	1024

/*
 * Compaction leaves alone the pages it finds above the point where its two
 * scanners meet, and where that is varies: in about one run in six, none of
 * the movable pages was below it.  Try again with new pages.
 */
#define COMPACT_ROUNDS	3

/* Pages only the guest writes, for move_pages() and the recipe's cost. */
#define GUEST_ONLY_PAGES	1024

/* Every round, each page moves once and the host and the guest write it. */
#define NR_ROUNDS	4

/* How long to let NUMA balancing move the anonymous control pages. */
#define NUMA_BALANCING_SECONDS	60

/* How long to let DAMON move the anonymous control pages. */
#define DAMON_SECONDS	30

/* How long an offline attempt of an unmovable block may keep retrying. */
#define OFFLINE_SECONDS	10

#define CMA_DIR		"/sys/kernel/debug/cma"
/* Pages of movable guest_memfd moved into the CMA node, at least. */
#define CMA_MIN_PAGES	1024
#define CMA_MAX_PAGES	16384
/* A CMA allocation fails on a page with a transient reference: retry. */
#define CMA_TRIES	5

/* A VM with one vCPU and a guest_memfd that the host also maps. */
struct gmem_vm {
	struct kvm_vcpu *vcpu;
	struct gmem g;
};

/*
 * Round @round of the guest: check what the host wrote, then write round
 * @round + 1.  With @fill_first, the guest writes round 0 itself, so that
 * the host never writes to (and dirties) the pages.
 */
static void guest_code(u64 gpa, u64 nr_pages, u64 psize, u64 nr_rounds,
		       u64 fill_first)
{
	u64 *mem = (u64 *)gpa, round;

	if (fill_first)
		GUEST_PAGE_PASS(mem, psize, 0, nr_pages, 1, 0, PASS_FILL);

	for (round = 0; round < 2 * nr_rounds; round += 2) {
		GUEST_PAGE_PASS(mem, psize, 0, nr_pages, 1, round,
				PASS_CHECK | PASS_FILL);
		GUEST_SYNC(round);
	}
	GUEST_DONE();
}

static void create_vm(struct gmem_vm *v, u64 flags, u64 nr_pages,
		      u64 nr_rounds, bool guest_fills)
{
	struct kvm_vm *vm;

	/* Memslot 0 gets room for the page tables that map the guest_memfd. */
	vm = __vm_create_with_one_vcpu(&v->vcpu, nr_pages, guest_code);
	gmem_create(&v->g, vm, flags, nr_pages);
	vcpu_args_set(v->vcpu, 5, GMEM_GPA, nr_pages, page_size, nr_rounds,
		      guest_fills);
}

static void destroy_vm(struct gmem_vm *v)
{
	gmem_destroy(&v->g);
	kvm_vm_free(v->g.vm);
}

/*
 * The guest checks the host's round @round and writes round @round + 1, the
 * host checks that; then the host writes round @round + 2 for the next call.
 */
static void exchange_round(struct gmem_vm *v, u64 round)
{
	run_to_sync(v->vcpu, round);
	check_pages("host", v->g.mem, v->g.nr_pages, round + 1);
	fill_pages(v->g.mem, v->g.nr_pages, round + 2);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	TEST_ASSERT(p, "calloc() failed");
	return p;
}

/*
 * Pages only the guest touched: the guest of @v (created with @guest_fills)
 * writes every page, which the host never maps; @pfns gets where they are,
 * through probe_pfns().  The movers that find pages by their PFN
 * (compaction, offlining, CMA) must move them as they move the others.
 */
static void guest_only_fill(struct gmem_vm *v, u64 *pfns)
{
	u64 i;

	run_to_sync(v->vcpu, 0);
	for (i = 0; i < v->g.nr_pages; i++)
		TEST_ASSERT(!page_present(v->g.pages[i]),
			    "Page %lu that only the guest wrote is mapped on the host",
			    i);
	probe_pfns(&v->g, pfns, v->g.nr_pages);
}

/*
 * After the move: what the guest wrote moved with the pages, and the guest
 * sees what the host writes next (a stale guest mapping would not).
 */
static void guest_only_check(struct gmem_vm *v)
{
	check_pages("host, guest-only pages", v->g.mem, v->g.nr_pages, 1);
	fill_pages(v->g.mem, v->g.nr_pages, 2);
	exchange_round(v, 2);
}

/* ---- move_pages(), migrate_pages(), bad input ---- */

/* Alternate every page between node_a and node_b, the guest checking. */
static void test_migrate(void)
{
	u64 before[GMEM_PAGES], after[GMEM_PAGES], round, left;
	int targets[GMEM_PAGES], calls, total = 0;
	struct gmem_vm v;
	long ret;

	create_vm(&v, MOVABLE, GMEM_PAGES, NR_ROUNDS, false);

	/* Round 0 lands wherever the host faults it in. */
	fill_pages(v.g.mem, GMEM_PAGES, 0);

	for (round = 0; round < 2 * NR_ROUNDS; round += 2) {
		/* The guest checks @round, writes @round + 1, and stops. */
		run_to_sync(v.vcpu, round);
		check_pages("host", v.g.mem, GMEM_PAGES, round + 1);

		/* Every page goes to the node it is not on, to a new PFN. */
		get_pfns(v.g.pages, before, GMEM_PAGES);
		get_other_nodes(v.g.pages, targets, GMEM_PAGES);
		left = move_to_nodes(v.g.pages, targets, GMEM_PAGES, MOVE_TRIES,
				     &calls, &ret);
		TEST_ASSERT(!left,
			    "Round %lu: %lu of %d pages not moved (last move_pages() = %ld)",
			    round, left, GMEM_PAGES, ret);
		get_pfns(v.g.pages, after, GMEM_PAGES);
		TEST_ASSERT(count_changed(before, after, GMEM_PAGES) == GMEM_PAGES,
			    "Round %lu: pages changed node but kept their PFN", round);
		total += calls;

		/* What the guest wrote moved with the pages... */
		check_pages("host after move", v.g.mem, GMEM_PAGES, round + 1);
		/* ... and the guest must now see what the host writes. */
		fill_pages(v.g.mem, GMEM_PAGES, round + 2);
	}

	vcpu_run(v.vcpu);
	TEST_ASSERT_EQ(get_ucall(v.vcpu, NULL), UCALL_DONE);
	destroy_vm(&v);
	case_pass("%d pages moved %d times (%d move_pages() calls), guest saw all",
		  GMEM_PAGES, NR_ROUNDS, total);
}

/* Without GUEST_MEMFD_FLAG_MOVABLE, nothing moves and nothing is lost. */
static void test_unmovable(void)
{
	u64 pfns[GMEM_PAGES], pfns_after[GMEM_PAGES], left;
	int before[GMEM_PAGES], targets[GMEM_PAGES], after[GMEM_PAGES];
	struct gmem_vm v;
	long ret;

	create_vm(&v, UNMOVABLE, GMEM_PAGES, 2, false);
	fill_pages(v.g.mem, GMEM_PAGES, 0);
	run_to_sync(v.vcpu, 0);

	get_nodes(v.g.pages, before, GMEM_PAGES);
	get_pfns(v.g.pages, pfns, GMEM_PAGES);
	get_other_nodes(v.g.pages, targets, GMEM_PAGES);
	left = move_to_nodes(v.g.pages, targets, GMEM_PAGES, 3, NULL, &ret);
	TEST_ASSERT(left == GMEM_PAGES, "%lu unmovable pages moved",
		    GMEM_PAGES - left);
	TEST_ASSERT(ret == GMEM_PAGES,
		    "move_pages() reported %ld pages not moved, wanted %d",
		    ret, GMEM_PAGES);

	get_nodes(v.g.pages, after, GMEM_PAGES);
	TEST_ASSERT(!memcmp(before, after, sizeof(before)),
		    "Unmovable pages changed nodes");
	get_pfns(v.g.pages, pfns_after, GMEM_PAGES);
	TEST_ASSERT(!count_changed(pfns, pfns_after, GMEM_PAGES),
		    "Unmovable pages changed PFNs");

	check_pages("host", v.g.mem, GMEM_PAGES, 1);
	fill_pages(v.g.mem, GMEM_PAGES, 2);
	exchange_round(&v, 2);

	destroy_vm(&v);
	case_pass("move_pages() left %ld of %d pages", ret, GMEM_PAGES);
}

/*
 * migrate_pages(2) moves every page of the task from one node to another:
 * movable guest_memfd pages go, unmovable ones stay, and the guest sees the
 * same data in both.
 */
static void test_migrate_pages(void)
{
	unsigned long from[MAX_NODES / 64] = {}, to[MAX_NODES / 64] = {};
	struct gmem_vm movable, unmovable;
	int tries, n;
	double t;
	long ret;

	/* All pages on node_a: the unmovable ones by their policy. */
	create_vm(&movable, MOVABLE, GMEM_PAGES, 2, false);
	create_vm(&unmovable, UNMOVABLE, GMEM_PAGES, 2, false);
	bind_to_node(unmovable.g.mem, GMEM_PAGES * page_size, node_a);
	fill_pages(movable.g.mem, GMEM_PAGES, 0);
	fill_pages(unmovable.g.mem, GMEM_PAGES, 0);
	exchange_round(&movable, 0);
	exchange_round(&unmovable, 0);

	move_all(movable.g.pages, GMEM_PAGES, node_a);
	TEST_ASSERT_EQ(count_on_node(unmovable.g.pages, GMEM_PAGES, node_a),
		       GMEM_PAGES);

	from[node_a / 64] |= BIT_ULL(node_a % 64);
	to[node_b / 64] |= BIT_ULL(node_b % 64);
	t = now();
	for (tries = 0; tries < MOVE_TRIES; tries++) {
		ret = migrate_pages(0, MAX_NODES, from, to);
		TEST_ASSERT(ret >= 0, "migrate_pages() failed, errno = %d", errno);
		if (count_on_node(movable.g.pages, GMEM_PAGES, node_b) == GMEM_PAGES)
			break;
	}
	/* (each call moves the whole process, the VMs' other memory too) */
	ksft_print_msg("%d migrate_pages() calls in %.1f s, the last returned %ld\n",
		       min(tries + 1, MOVE_TRIES), now() - t, ret);
	TEST_ASSERT(tries < MOVE_TRIES, "%d movable pages not moved to node %d",
		    GMEM_PAGES - count_on_node(movable.g.pages, GMEM_PAGES, node_b),
		    node_b);
	n = count_on_node(unmovable.g.pages, GMEM_PAGES, node_a);
	TEST_ASSERT(n == GMEM_PAGES, "%d unmovable pages left node %d",
		    GMEM_PAGES - n, node_a);

	exchange_round(&movable, 2);
	exchange_round(&unmovable, 2);
	destroy_vm(&unmovable);
	destroy_vm(&movable);
	case_pass("%d movable pages moved, %d unmovable stayed", GMEM_PAGES,
		  GMEM_PAGES);
}

/*
 * The recipe api.rst gives for pages that only the guest touched: they are
 * not in the VMM's page tables, so move_pages() does not find them (-ENOENT)
 * until the VMM populates its mapping with MADV_POPULATE_READ; then they move,
 * and the guest and the host still agree on every word.  The recipe's cost
 * is printed beside the move's.
 */
static void test_guest_only(void)
{
	u64 *before, *after, left, nr = GUEST_ONLY_PAGES;
	int *status, *targets, i, calls;
	double t_populate, t_move;
	struct gmem_vm v;
	long ret;

	before = xcalloc(nr, sizeof(u64));
	after = xcalloc(nr, sizeof(u64));
	status = xcalloc(nr, sizeof(int));
	targets = xcalloc(nr, sizeof(int));

	/* The guest writes round 0 and 1 itself; the host never touches. */
	create_vm(&v, MOVABLE, nr, 2, true);
	guest_only_fill(&v, before);

	for (i = 0; i < nr; i++)
		targets[i] = node_b;
	ret = move_pages(0, nr, v.g.pages, targets, status, MPOL_MF_MOVE);
	TEST_ASSERT(ret >= 0, "move_pages() failed, errno = %d", errno);
	for (i = 0; i < nr; i++)
		TEST_ASSERT(status[i] == -ENOENT,
			    "Page %d that only the guest touched: status %d, wanted -ENOENT",
			    i, status[i]);
	ksft_print_msg("move_pages(): -ENOENT for all %lu pages only the guest wrote\n",
		       nr);

	t_populate = now();
	TEST_ASSERT(!madvise(v.g.mem, nr * page_size, MADV_POPULATE_READ),
		    "MADV_POPULATE_READ failed, errno = %d", errno);
	t_populate = now() - t_populate;
	get_pfns(v.g.pages, before, nr);
	get_other_nodes(v.g.pages, targets, nr);
	t_move = now();
	left = move_to_nodes(v.g.pages, targets, nr, MOVE_TRIES, &calls, &ret);
	t_move = now() - t_move;
	TEST_ASSERT(!left, "%lu of %lu populated pages not moved (last move_pages() = %ld)",
		    left, nr, ret);
	get_pfns(v.g.pages, after, nr);
	TEST_ASSERT(count_changed(before, after, nr) == nr,
		    "Pages changed node but kept their PFN");
	ksft_print_msg("%lu pages: MADV_POPULATE_READ %.2f ms, move_pages() %.2f ms (%d calls), populate/move %.3f\n",
		       nr, t_populate * 1e3, t_move * 1e3, calls,
		       t_populate / t_move);

	/* What the guest wrote moved with the pages, and both still agree. */
	guest_only_check(&v);

	destroy_vm(&v);
	free(targets);
	free(status);
	free(after);
	free(before);
	case_pass("%lu guest-only pages: -ENOENT, then moved after MADV_POPULATE_READ (%.2f ms, the move %.2f ms)",
		  nr, t_populate * 1e3, t_move * 1e3);
}

/* Errors that userspace can provoke: clean error codes, never a WARN. */
static void test_bad_input(void)
{
	int before[GMEM_PAGES], after[GMEM_PAGES], targets[GMEM_PAGES];
	const int bad_nodes[] = { -1, get_max_numa_node() + 1, 1 << 20 };
	struct gmem_vm v;
	u64 supported;
	int bit, fd, i, n;

	create_vm(&v, MOVABLE, GMEM_PAGES, 2, false);
	fill_pages(v.g.mem, GMEM_PAGES, 0);
	exchange_round(&v, 0);

	/* Every flag that is not offered is refused, with MOVABLE or alone. */
	supported = vm_check_cap(v.g.vm, KVM_CAP_GUEST_MEMFD_FLAGS);
	for (bit = 0; bit < 64; bit++) {
		if (supported & BIT_ULL(bit))
			continue;
		fd = __vm_create_guest_memfd(v.g.vm, page_size, BIT_ULL(bit));
		TEST_ASSERT(fd < 0 && errno == EINVAL,
			    "Flag bit %d: wanted EINVAL, got fd %d errno %d",
			    bit, fd, errno);
		fd = __vm_create_guest_memfd(v.g.vm, page_size,
					     BIT_ULL(bit) | GUEST_MEMFD_FLAG_MOVABLE);
		TEST_ASSERT(fd < 0 && errno == EINVAL,
			    "Flag bit %d with MOVABLE: wanted EINVAL, got fd %d errno %d",
			    bit, fd, errno);
	}

	/* Moving to a node that does not exist fails the call with ENODEV. */
	get_nodes(v.g.pages, before, GMEM_PAGES);
	for (n = 0; n < ARRAY_SIZE(bad_nodes); n++) {
		for (i = 0; i < GMEM_PAGES; i++)
			targets[i] = bad_nodes[n];
		TEST_ASSERT(move_pages(0, GMEM_PAGES, v.g.pages, targets, after,
				       MPOL_MF_MOVE) == -1 && errno == ENODEV,
			    "move_pages() to node %d: wanted ENODEV, got errno %d",
			    bad_nodes[n], errno);
	}
	get_nodes(v.g.pages, after, GMEM_PAGES);
	TEST_ASSERT(!memcmp(before, after, sizeof(before)),
		    "Pages moved on a failed move_pages()");

	exchange_round(&v, 2);
	destroy_vm(&v);
	case_pass("unknown flags EINVAL, nonexistent nodes ENODEV");
}

/* ---- soft offline ---- */

#define SOFT_OFFLINE	"/sys/devices/system/memory/soft_offline_page"

/*
 * After a soft offline of @pfn: a movable page got a new PFN and the old one
 * is poisoned (taken out of use); an unmovable one kept its PFN, unpoisoned.
 */
static void check_soft_offlined(bool movable, u64 pfn, u64 new_pfn)
{
	bool poisoned = pfn_flags(pfn) & BIT_ULL(KPF_HWPOISON);

	if (movable) {
		TEST_ASSERT(new_pfn != pfn, "Soft offlined page still at PFN 0x%lx",
			    pfn);
		TEST_ASSERT(poisoned, "Soft offlined PFN 0x%lx is not HWPoison", pfn);
	} else {
		TEST_ASSERT(new_pfn == pfn, "Unmovable page moved from 0x%lx to 0x%lx",
			    pfn, new_pfn);
		TEST_ASSERT(!poisoned, "PFN 0x%lx of an unmovable page was poisoned",
			    pfn);
	}
}

/*
 * Soft offline a page that only the guest maps (by physical address) and one
 * that the host maps (MADV_SOFT_OFFLINE).  A movable page must move to a new
 * PFN, an unmovable one must stay (EBUSY), and in both cases host and guest
 * must keep seeing the same data.  Soft offline "invalidates" clean page
 * cache that nobody maps instead of migrating it; a guest_memfd page that the
 * guest uses must not be dropped that way (KVM marks the pages it maps dirty).
 */
static void soft_offline(bool movable)
{
	u64 pfn, new_pfn;
	struct gmem_vm v;
	char buf[64];
	void *addr;
	int ret;

	if (access(SOFT_OFFLINE, W_OK))
		case_skip("no %s (CONFIG_MEMORY_FAILURE)", SOFT_OFFLINE);

	create_vm(&v, movable ? MOVABLE : UNMOVABLE, 16, 3, true);
	run_to_sync(v.vcpu, 0);
	check_pages("host", v.g.mem, 16, 1);

	/* A page that only the guest maps: unmap it from the host. */
	addr = v.g.pages[2];
	pfn = page_pfn(addr);
	kvm_munmap(addr, page_size);
	snprintf(buf, sizeof(buf), "0x%lx", pfn * page_size);
	ret = try_write_file(SOFT_OFFLINE, buf);
	TEST_ASSERT(mmap(addr, page_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, v.g.fd, 2 * page_size) == addr,
		    "Remapping page 2 failed, errno = %d", errno);
	new_pfn = page_pfn(addr);
	if (movable)
		TEST_ASSERT(!ret, "Soft offlining PFN 0x%lx failed, errno = %d (%s)",
			    pfn, ret, strerror(ret));
	else
		TEST_ASSERT(ret == EBUSY,
			    "Soft offlining unmovable PFN 0x%lx: errno %d, wanted EBUSY",
			    pfn, ret);
	check_soft_offlined(movable, pfn, new_pfn);

	/* Host and guest must agree on the page, both ways. */
	check_pages("host", v.g.mem, 16, 1);
	fill_pages(v.g.mem, 16, 2);
	exchange_round(&v, 2);

	/* A page that the host maps. */
	pfn = page_pfn(v.g.pages[1]);
	ret = madvise(v.g.pages[1], page_size, MADV_SOFT_OFFLINE);
	new_pfn = page_pfn(v.g.pages[1]);
	if (movable)
		TEST_ASSERT(!ret, "MADV_SOFT_OFFLINE failed, errno = %d (%s)",
			    errno, strerror(errno));
	else
		TEST_ASSERT(ret == -1 && errno == EBUSY,
			    "MADV_SOFT_OFFLINE on unmovable memory: ret %d, errno %d, wanted EBUSY",
			    ret, errno);
	check_soft_offlined(movable, pfn, new_pfn);
	exchange_round(&v, 4);

	destroy_vm(&v);
	if (movable)
		case_pass("unmapped and mapped pages moved, old PFNs poisoned, contents intact");
	else
		case_pass("EBUSY, pages stayed, not poisoned, contents intact");
}

static void test_soft_offline_movable(void)
{
	soft_offline(true);
}

static void test_soft_offline_unmovable(void)
{
	soft_offline(false);
}

/* ---- compaction ---- */

#define COMPACT_UNEVICTABLE	"/proc/sys/vm/compact_unevictable_allowed"

/*
 * Compact all memory with @flags guest_memfd pages among freed anonymous
 * pages, and count how many guest_memfd pages compaction moved.  With
 * @guest_only, as many pages of a second guest_memfd (of the same flags) sit
 * among them too, allocated by fallocate() and written by its guest only;
 * @guest_only gets how many of those moved.
 */
static u64 compact_with(u64 flags, const char *unevictable_allowed,
			u64 *guest_only)
{
	u64 before[COMPACT_PAGES], after[COMPACT_PAGES], i;
	u64 go_before[COMPACT_PAGES], go_after[COMPACT_PAGES];
	struct gmem_vm v, go;
	char *anon;

	create_vm(&v, flags, COMPACT_PAGES, 2, false);
	if (guest_only)
		create_vm(&go, flags, COMPACT_PAGES, 2, true);

	/* Interleave the allocations, then free the anonymous ones. */
	anon = kvm_mmap(COMPACT_PAGES * page_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1);
	for (i = 0; i < COMPACT_PAGES; i++) {
		host_pass("fill", v.g.mem, i, i + 1, 1, 0, PASS_FILL);
		if (guest_only)
			TEST_ASSERT(!fallocate(go.g.fd, FALLOC_FL_KEEP_SIZE,
					       i * page_size, page_size),
				    "fallocate() failed, errno = %d", errno);
		anon[i * page_size] = 1;
	}
	kvm_munmap(anon, COMPACT_PAGES * page_size);

	/* Let the guest map every page before compaction. */
	exchange_round(&v, 0);
	if (guest_only)
		guest_only_fill(&go, go_before);

	get_pfns(v.g.pages, before, COMPACT_PAGES);
	write_file(COMPACT_UNEVICTABLE, unevictable_allowed);
	write_file("/proc/sys/vm/compact_memory", "1");
	get_pfns(v.g.pages, after, COMPACT_PAGES);

	/* The guest must see the host's data, and the host the guest's. */
	check_pages("host", v.g.mem, COMPACT_PAGES, 2);
	exchange_round(&v, 2);
	destroy_vm(&v);

	if (guest_only) {
		probe_pfns(&go.g, go_after, COMPACT_PAGES);
		*guest_only = count_changed(go_before, go_after, COMPACT_PAGES);
		guest_only_check(&go);
		destroy_vm(&go);
	}
	return count_changed(before, after, COMPACT_PAGES);
}

static void test_compaction(void)
{
	u64 movable = 0, guest_only = 0, m, g, unmovable, disallowed;
	int round;

	if (access("/proc/sys/vm/compact_memory", W_OK))
		case_skip("no /proc/sys/vm/compact_memory (CONFIG_COMPACTION)");

	/* Until each kind has moved in some round. */
	write_restored(COMPACT_UNEVICTABLE, "1");
	for (round = 0; round < COMPACT_ROUNDS && (!movable || !guest_only); round++) {
		m = compact_with(MOVABLE, "1", &g);
		movable = max(movable, m);
		guest_only = max(guest_only, g);
	}
	unmovable = compact_with(UNMOVABLE, "1", NULL);
	disallowed = compact_with(MOVABLE, "0", NULL);
	restore_all();

	TEST_ASSERT(movable > 0, "Compaction moved none of %d movable pages, %d times",
		    COMPACT_PAGES, COMPACT_ROUNDS);
	TEST_ASSERT(guest_only > 0,
		    "Compaction moved none of %d movable pages that only the guest wrote, %d times",
		    COMPACT_PAGES, COMPACT_ROUNDS);
	TEST_ASSERT(!unmovable, "Compaction moved %lu unmovable pages", unmovable);
	TEST_ASSERT(!disallowed,
		    "Compaction moved %lu pages with compact_unevictable_allowed=0",
		    disallowed);

	ksft_print_msg("compaction moved 0 unmovable pages, and 0 movable ones\n");
	ksft_print_msg("with vm.compact_unevictable_allowed=0\n");
	case_pass("moved up to %lu of %d movable pages, %lu of %d only the guest wrote (%d of %d rounds)",
		  movable, COMPACT_PAGES, guest_only, COMPACT_PAGES, round,
		  COMPACT_ROUNDS);
}

/* ---- CMA ---- */

/* A CMA area, or one range of it: PFNs [base, base + count). */
struct cma_area {
	char name[256];
	u64 base, count;
	bool multi;	/* one of several ranges; count is the whole area's */
	int node;
};

/* The node of the memory block that holds @pfn, or -1. */
static int pfn_node(u64 pfn)
{
	u64 block = pfn * page_size / memory_block_size();
	char path[128];
	int node;

	for (node = 0; node <= get_max_numa_node(); node++) {
		snprintf(path, sizeof(path),
			 "/sys/devices/system/memory/memory%lu/node%d", block, node);
		if (!access(path, F_OK))
			return node;
	}
	return -1;
}

static u64 cma_read(const char *name, const char *file)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s/%s", CMA_DIR, name, file);
	return read_u64(path);
}

/* The CMA areas (each range of one), at most @max; -1 without debugfs. */
static int list_cma(struct cma_area *areas, int max)
{
	char path[512];
	struct dirent *de;
	int n = 0, r;
	DIR *d;

	d = opendir(CMA_DIR);
	if (!d)
		return -1;
	while ((de = readdir(d)) && n < max) {
		if (de->d_name[0] == '.')
			continue;
		for (r = 0; n < max; r++) {
			struct cma_area *a = &areas[n];

			snprintf(path, sizeof(path), "%s/%s/ranges/%d/base_pfn",
				 CMA_DIR, de->d_name, r);
			if (access(path, R_OK))
				break;
			snprintf(a->name, sizeof(a->name), "%s", de->d_name);
			a->base = read_u64(path);
			a->count = cma_read(a->name, "count");
			snprintf(path, sizeof(path), "%s/%s/ranges/1", CMA_DIR,
				 de->d_name);
			a->multi = !access(path, F_OK);
			a->node = pfn_node(a->base);
			n += a->count > 0;
		}
	}
	closedir(d);
	return n;
}

/* Whether PFNs [@start, @end) overlap a CMA area (a whole area's size per range). */
static bool overlaps_cma(u64 start, u64 end)
{
	struct cma_area areas[16];
	int i, n = list_cma(areas, ARRAY_SIZE(areas));

	for (i = 0; i < n; i++)
		if (start < areas[i].base + areas[i].count && areas[i].base < end)
			return true;
	return false;
}

/*
 * How many pages of @a are HWPoison (soft offline leaves the old page so):
 * a CMA allocation over one of them cannot succeed.
 */
static u64 count_poisoned(const struct cma_area *a)
{
	u64 *flags = xcalloc(a->count, sizeof(u64)), i, poisoned = 0;
	size_t size = a->count * sizeof(u64);
	int fd = open("/proc/kpageflags", O_RDONLY);

	TEST_ASSERT(fd >= 0, "Opening /proc/kpageflags failed, errno = %d", errno);
	TEST_ASSERT(pread(fd, flags, size, a->base * sizeof(u64)) == size,
		    "Reading /proc/kpageflags failed, errno = %d", errno);
	close(fd);
	for (i = 0; i < a->count; i++)
		poisoned += !!(flags[i] & BIT_ULL(KPF_HWPOISON));
	free(flags);
	return poisoned;
}

static u64 count_in_area(const u64 *pfns, u64 nr, const struct cma_area *a)
{
	u64 i, in = 0;

	for (i = 0; i < nr; i++)
		in += pfns[i] >= a->base && pfns[i] < a->base + a->count;
	return in;
}

/* What /proc/zoneinfo says about one zone. */
struct zone_info {
	int node;
	char name[16];
	u64 start, spanned, cma, free, free_cma, pcp;
};

/* The zones of /proc/zoneinfo, at most @max; returns how many. */
static int read_zones(struct zone_info *zones, int max)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	struct zone_info *z = NULL;
	char line[256], name[16];
	int node, n = 0;
	u64 v;

	TEST_ASSERT(f, "Cannot open /proc/zoneinfo");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone %15s", &node, name) == 2) {
			TEST_ASSERT(n < max, "More than %d zones", max);
			z = &zones[n++];
			*z = (struct zone_info) { .node = node };
			snprintf(z->name, sizeof(z->name), "%s", name);
		} else if (!z) {
			continue;
		} else if (sscanf(line, " spanned %lu", &v) == 1) {
			z->spanned = v;
		} else if (sscanf(line, " cma %lu", &v) == 1) {
			z->cma = v;
		} else if (sscanf(line, " nr_free_pages %lu", &v) == 1) {
			z->free = v;
		} else if (sscanf(line, " nr_free_cma %lu", &v) == 1) {
			z->free_cma = v;
		} else if (sscanf(line, " count: %lu", &v) == 1) {
			z->pcp += v;
		} else if (sscanf(line, " start_pfn: %lu", &v) == 1) {
			z->start = v;
		}
	}
	fclose(f);
	return n;
}

/*
 * The zone with CMA pages whose span holds @pfn.  A ZONE_MOVABLE with free
 * pages on its node would serve movable allocations before it: the case
 * skips if there is one.
 */
static void read_cma_zone(u64 pfn, struct zone_info *out)
{
	struct zone_info zones[32];
	int i, n = read_zones(zones, ARRAY_SIZE(zones));
	bool found = false;

	for (i = 0; i < n; i++) {
		if (zones[i].cma && pfn >= zones[i].start &&
		    pfn < zones[i].start + zones[i].spanned) {
			*out = zones[i];
			found = true;
		}
	}
	TEST_ASSERT(found, "No zone with CMA pages holds PFN 0x%lx", pfn);
	for (i = 0; i < n; i++)
		if (zones[i].node == out->node && !strcmp(zones[i].name, "Movable") &&
		    zones[i].free)
			case_skip("node %d has a ZONE_MOVABLE with %lu free pages, which movable allocations take before CMA",
				  out->node, zones[i].free);
}

static void print_zone(const char *when, const struct zone_info *z)
{
	ksft_print_msg("%s: zone %s of node %d: %lu free pages, %lu of them CMA, %lu on per-CPU lists\n",
		       when, z->name, z->node, z->free, z->free_cma, z->pcp);
}

/* The names of the /proc/kpageflags bits, KPF_LOCKED (0) to KPF_PGTABLE (26). */
static const char * const kpf_names[] = {
	"locked", "error", "referenced", "uptodate", "dirty", "lru", "active",
	"slab", "writeback", "reclaim", "buddy", "mmap", "anon", "swapcache",
	"swapbacked", "compound_head", "compound_tail", "huge", "unevictable",
	"hwpoison", "nopage", "ksm", "thp", "offline", "zero_page", "idle",
	"pgtable",
};

/* What /proc/kpagecount and /proc/kpageflags say about @pfn. */
static void describe_pfn(u64 pfn, char *buf, size_t size)
{
	u64 flags = pfn_flags(pfn);
	int i, n;

	n = snprintf(buf, size, "mapcount %lu, flags 0x%lx:",
		     read_u64_at("/proc/kpagecount", pfn * sizeof(u64)), flags);
	for (i = 0; i < ARRAY_SIZE(kpf_names) && n < size; i++)
		if (flags & BIT_ULL(i))
			n += snprintf(buf + n, size - n, " %s", kpf_names[i]);
}

/*
 * Turn on the tracepoint of test_pages_isolated(), which names the first
 * page that kept a range from being isolated, and empty the trace.  @trace
 * gets the trace file, or an empty string without tracing.
 */
static void trace_isolation(char *trace, size_t size)
{
	static const char * const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[256];
	int i;

	trace[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path),
			 "%s/events/page_isolation/test_pages_isolated/enable",
			 dirs[i]);
		if (access(path, W_OK))
			continue;
		write_restored(path, "1");
		snprintf(trace, size, "%s/trace", dirs[i]);
		close(open(trace, O_WRONLY | O_TRUNC));
		return;
	}
}

/* The last PFN that test_pages_isolated() found busy, per @trace, or -1. */
static long traced_busy_pfn(const char *trace)
{
	char line[512], *p;
	long pfn = -1;
	FILE *f;

	f = trace[0] ? fopen(trace, "r") : NULL;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if ((p = strstr(line, "fin_pfn=")) && strstr(line, "ret=fail"))
			pfn = strtol(p + strlen("fin_pfn="), NULL, 16);
	fclose(f);
	return pfn;
}

/*
 * A CMA allocation of @chunk pages failed with @err: say what kept it from
 * moving pages out, as far as known, and fail.
 */
static void __noreturn cma_alloc_failed(const struct cma_area *a,
					struct gmem *g, struct gmem *go,
					u64 chunk, u64 total, int err,
					const char *trace)
{
	u64 nr = g->nr_pages + go->nr_pages, i, lowest = -1ull;
	u64 *pfns = xcalloc(nr, sizeof(u64));
	long busy = traced_busy_pfn(trace);
	char what[512] = "not traced (no tracefs)";
	size_t n;

	/* The host-written pages, then those only the guest wrote. */
	get_pfns(g->pages, pfns, g->nr_pages);
	probe_pfns(go, pfns + g->nr_pages, go->nr_pages);
	for (i = 0; i < nr; i++)
		if (count_in_area(&pfns[i], 1, a) && pfns[i] < lowest)
			lowest = pfns[i];
	if (busy >= 0) {
		for (i = 0; i < nr && pfns[i] != busy; i++)
			;
		n = snprintf(what, sizeof(what), "PFN 0x%lx, %s, ", busy,
			     i < g->nr_pages ? "a movable guest_memfd page" :
			     i < nr ? "a movable guest_memfd page only the guest wrote" :
				      "not guest_memfd");
		describe_pfn(busy, what + n, sizeof(what) - n);
	}
	TEST_FAIL("Allocating %lu pages of CMA area %s (PFNs 0x%lx-0x%lx, %lu allocated so far) failed %d times, errno %d (%s).\n"
		  "  The page that kept it busy: %s.\n"
		  "  %lu of the %lu movable guest_memfd pages are still in the area, the lowest at PFN 0x%lx\n"
		  "  (cma_alloc() reports the failure in dmesg).",
		  chunk, a->name, a->base, a->base + a->count - 1, total,
		  CMA_TRIES, err, strerror(err), what,
		  count_in_area(pfns, nr, a), nr, lowest);
}

/*
 * Allocate all free memory of CMA area @a through debugfs, chunk by chunk,
 * each freed again by restore_all().  The allocation migrates every movable
 * page out of the area; a failure tells what was in the way, and whether
 * it is a page of @g (host-written) or of @go (only the guest wrote).
 * Returns the pages allocated.
 */
static u64 cma_alloc_all(const struct cma_area *a, struct gmem *g,
			 struct gmem *go)
{
	char alloc[512], free_path[512], val[32], trace[256];
	int tries, chunks, err = 0;
	u64 chunk, total = 0;

	snprintf(alloc, sizeof(alloc), "%s/%s/alloc", CMA_DIR, a->name);
	snprintf(free_path, sizeof(free_path), "%s/%s/free", CMA_DIR, a->name);
	trace_isolation(trace, sizeof(trace));
	for (chunks = 0; chunks < 64; chunks++) {
		chunk = cma_read(a->name, "maxchunk");
		if (!chunk)
			break;
		snprintf(val, sizeof(val), "%lu", chunk);
		for (tries = 0; tries < CMA_TRIES; tries++) {
			err = try_write_file(alloc, val);
			if (!err)
				break;
			usleep(200000);
		}
		if (err)
			cma_alloc_failed(a, g, go, chunk, total, err, trace);
		restore_later(free_path, val);
		total += chunk;
	}
	TEST_ASSERT(!cma_read(a->name, "maxchunk"),
		    "CMA area %s still has free pages after %d allocations", a->name,
		    chunks);
	return total;
}

/*
 * Make the per-CPU free lists short (the smallest high mark the kernel sets,
 * four batches), restored when the case ends, and let every CPU free what
 * is above it (each stat_refresh decays the lists), so that fewer pages
 * need to move for some to come from the buddy allocator, and CMA: under
 * TCG, the guest's passes over them are most of the case's time.
 */
static void shrink_pcp_lists(u64 pfn)
{
	struct zone_info z;
	int i;

	write_restored("/proc/sys/vm/percpu_pagelist_high_fraction", "1000000");
	/* Each refresh takes at most an eighth off a list's high mark. */
	for (i = 0; i < 40; i++) {
		read_cma_zone(pfn, &z);
		if (z.pcp + 512 <= CMA_MIN_PAGES)
			break;
		write_file("/proc/sys/vm/stat_refresh", "1");
	}
}

/*
 * The largest CMA area of one range, all of it on node_a or node_b, from
 * @areas (room for @max); skip the case if there is none.
 */
static struct cma_area *pick_cma_area(struct cma_area *areas, int max)
{
	struct cma_area *a = NULL;
	int i, n;

	n = list_cma(areas, max);
	if (n < 0)
		case_skip("no %s (CONFIG_CMA_DEBUGFS, debugfs mounted?)", CMA_DIR);
	for (i = 0; i < n; i++)
		if (!areas[i].multi && (areas[i].node == node_a || areas[i].node == node_b) &&
		    pfn_node(areas[i].base + areas[i].count - 1) == areas[i].node &&
		    (!a || areas[i].count > a->count))
			a = &areas[i];
	if (!a)
		case_skip("no single-range CMA area on node %d or %d (boot with cma=)",
			  node_a, node_b);
	return a;
}

/*
 * A CMA area takes movable allocations while it is free, and must be
 * emptied when its owner allocates it: movable guest_memfd pages moved to
 * the area's node land in it (the page allocator serves movable
 * allocations from CMA first while CMA holds more than half of the zone's
 * free pages), and so do movable pages allocated there that only the guest
 * wrote; a CMA allocation of the whole area then moves them all out, with
 * host and guest seeing the same data; and unmovable guest_memfd allocated
 * on the same node in the same conditions never lands in it.
 */
static void test_cma(void)
{
	u64 nr, in_moved, in_unmovable, in_after, allocated, used_before, used;
	u64 *pfns, *unmov_before, *unmov_after, *go_pfns, in_go, in_go_after;
	struct gmem_vm mv, um, go;
	struct zone_info z0, z1;
	struct cma_area areas[16], *a;
	int cma_node, other, n;
	double t, alloc_secs;

	a = pick_cma_area(areas, ARRAY_SIZE(areas));
	cma_node = a->node;
	other = cma_node == node_a ? node_b : node_a;
	/* Page cache left by earlier tests may sit in CMA: free it. */
	write_file("/proc/sys/vm/drop_caches", "3");
	used_before = cma_read(a->name, "used");
	ksft_print_msg("CMA area %s: PFNs 0x%lx-0x%lx (%lu MiB) on node %d, %lu pages used\n",
		       a->name, a->base, a->base + a->count - 1,
		       a->count * page_size >> 20, cma_node, used_before);

	n = count_poisoned(a);
	if (n)
		case_skip("%d HWPoison pages in CMA area %s (soft offlined since boot): no CMA allocation can cover them",
			  n, a->name);

	shrink_pcp_lists(a->base);
	read_cma_zone(a->base, &z0);
	print_zone("before", &z0);
	if (z0.free_cma * 2 <= z0.free)
		case_skip("CMA has %lu of the %lu free pages of zone %s of node %d: the allocator prefers it only above half",
			  z0.free_cma, z0.free, z0.name, z0.node);
	/* More pages than the per-CPU lists hold, which may be no CMA at all. */
	nr = max_t(u64, CMA_MIN_PAGES, ((z0.pcp + 512 + 63) & ~63ull));
	nr = min_t(u64, nr, CMA_MAX_PAGES);
	pfns = xcalloc(nr, sizeof(u64));
	unmov_before = xcalloc(nr, sizeof(u64));
	unmov_after = xcalloc(nr, sizeof(u64));
	go_pfns = xcalloc(nr, sizeof(u64));

	/* Movable pages on the other node, written by host and guest. */
	create_vm(&mv, MOVABLE, nr, 3, false);
	bind_to_node(mv.g.mem, nr * page_size, other);
	fill_pages(mv.g.mem, nr, 0);
	exchange_round(&mv, 0);
	TEST_ASSERT_EQ(count_on_node(mv.g.pages, nr, other), nr);

	/* (a) Moved to the CMA node, they land in the area... */
	t = now();
	move_all(mv.g.pages, nr, cma_node);
	t = now() - t;
	get_pfns(mv.g.pages, pfns, nr);
	in_moved = count_in_area(pfns, nr, a);

	/* Pages only the guest wrote, allocated on the CMA node, land there too. */
	create_vm(&go, MOVABLE, nr, 2, true);
	bind_to_node(go.g.mem, nr * page_size, cma_node);
	guest_only_fill(&go, go_pfns);
	in_go = count_in_area(go_pfns, nr, a);

	/* (c) ... where unmovable pages allocated there next never land. */
	create_vm(&um, UNMOVABLE, nr, 2, false);
	bind_to_node(um.g.mem, nr * page_size, cma_node);
	fill_pages(um.g.mem, nr, 0);
	exchange_round(&um, 0);
	n = count_on_node(um.g.pages, nr, cma_node);
	TEST_ASSERT(n == nr, "Only %d of %lu unmovable pages on node %d", n, nr,
		    cma_node);
	get_pfns(um.g.pages, unmov_before, nr);
	in_unmovable = count_in_area(unmov_before, nr, a);
	read_cma_zone(a->base, &z1);
	print_zone("after both", &z1);
	ksft_print_msg("%lu of %lu movable pages moved to node %d in %.2f s landed in CMA, %lu of %lu unmovable ones\n",
		       in_moved, nr, cma_node, t, in_unmovable, nr);
	ksft_print_msg("%lu of %lu movable pages that only the guest wrote landed in CMA\n",
		       in_go, nr);

	TEST_ASSERT(in_moved > 0,
		    "None of %lu movable pages moved to node %d landed in CMA area %s, which held %lu of the zone's %lu free pages",
		    nr, cma_node, a->name, z0.free_cma, z0.free);
	TEST_ASSERT(in_go > 0,
		    "None of %lu guest-only movable pages allocated on node %d landed in CMA area %s",
		    nr, cma_node, a->name);
	TEST_ASSERT(!in_unmovable, "%lu unmovable guest_memfd pages in CMA area %s",
		    in_unmovable, a->name);
	TEST_ASSERT(z1.free_cma * 2 > z1.free,
		    "CMA fell to %lu of %lu free pages during the test: not the same conditions",
		    z1.free_cma, z1.free);

	/* The guest sees what the host wrote before the move, and vice versa. */
	exchange_round(&mv, 2);

	/* (b) Allocating the area moves the movable pages out. */
	t = now();
	allocated = cma_alloc_all(a, &mv.g, &go.g);
	alloc_secs = now() - t;
	get_pfns(mv.g.pages, pfns, nr);
	in_after = count_in_area(pfns, nr, a);
	get_pfns(um.g.pages, unmov_after, nr);
	/* (the whole area is allocated: a sanity check, as in_after) */
	probe_pfns(&go.g, go_pfns, nr);
	in_go_after = count_in_area(go_pfns, nr, a);
	ksft_print_msg("CMA allocation of %lu pages in %.2f s; %lu movable pages left in the area, %d on node %d; %lu guest-only ones\n",
		       allocated, alloc_secs, in_after,
		       count_on_node(mv.g.pages, nr, cma_node), cma_node,
		       in_go_after);
	TEST_ASSERT(!in_after, "%lu movable pages still in the allocated CMA area",
		    in_after);
	TEST_ASSERT(!in_go_after,
		    "%lu guest-only movable pages still in the allocated CMA area",
		    in_go_after);
	TEST_ASSERT(!count_changed(unmov_before, unmov_after, nr),
		    "The CMA allocation moved unmovable pages");
	exchange_round(&mv, 4);
	exchange_round(&um, 2);
	guest_only_check(&go);

	restore_all();
	used = cma_read(a->name, "used");
	TEST_ASSERT(used <= used_before,
		    "CMA area %s has %lu pages used after the free, %lu before",
		    a->name, used, used_before);

	destroy_vm(&go);
	destroy_vm(&um);
	destroy_vm(&mv);
	free(go_pfns);
	free(unmov_after);
	free(unmov_before);
	free(pfns);
	case_pass("%lu of %lu movable pages and %lu of %lu guest-only ones landed in CMA, a %lu-page CMA allocation (%.1f s) moved them out, 0 of %lu unmovable in CMA",
		  in_moved, nr, in_go, nr, allocated, alloc_secs, nr);
}

/* ---- memory offlining ---- */

/* Whether @block is a memory block of @node. */
static bool block_of_node(u64 block, int node)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/memory%lu",
		 node, block);
	return !access(path, F_OK);
}

/*
 * Memory blocks whose offlining a MEM_GOING_OFFLINE notifier vetoed (EPERM)
 * after their pages were isolated: arm64 keeps every block of boot memory
 * online (prevent_memory_remove_notifier()), whatever is in it.
 */
static int offline_vetoed;

/* Skip a case that needs a block offlined, if the kernel vetoes it. */
static void skip_if_offline_vetoed(void)
{
	if (offline_vetoed)
		case_not_applicable("the kernel refused to offline %d blocks of boot memory (EPERM; arm64 never offlines boot memory) and the VM has no other",
				    offline_vetoed);
}

/*
 * Turn an online memory block of @node into an empty ZONE_MOVABLE block:
 * offline it (which fails on blocks with unmovable kernel memory) and online
 * it movable; when the case ends it goes back to its zone.  Try the highest
 * blocks first, they are the least used; never a block of a CMA area, whose
 * pageblocks cannot be offlined.
 */
static bool make_movable_block(int node, u64 block_pages, u64 *block)
{
	int err;

	char state[32], zones[64], path[128];
	long n;

	for (n = 4096; n >= 0; n--) {
		if (!block_of_node(n, node) ||
		    overlaps_cma(n * block_pages, (n + 1) * block_pages))
			continue;
		block_state(n, state, sizeof(state));
		if (strcmp(state, "online"))
			continue;
		snprintf(path, sizeof(path),
			 "/sys/devices/system/memory/memory%ld/valid_zones", n);
		read_file(path, zones, sizeof(zones));
		err = set_block_state(n, "offline");
		offline_vetoed += err == EPERM;
		if (err)
			continue;
		restore_block_later(n, strcmp(zones, "Movable") ? "online_kernel" :
								 "online_movable");
		if (!set_block_state(n, "online_movable")) {
			*block = n;
			return true;
		}
		/* Leave the block as it was found. */
		restore_all();
	}
	return false;
}

static void require_hotplug(void)
{
	/* (not memory0: on arm64, RAM and its first block start higher) */
	if (access("/sys/devices/system/memory/block_size_bytes", F_OK))
		case_skip("no memory hotplug (CONFIG_MEMORY_HOTREMOVE)");
}

/* A guest_memfd whose pages are allocated on node_b, per its mempolicy. */
static void create_vm_on_node_b(struct gmem_vm *v, u64 flags)
{
	create_vm(v, flags, GMEM_PAGES, 2, false);
	bind_to_node(v->g.mem, GMEM_PAGES * page_size, node_b);
	fill_pages(v->g.mem, GMEM_PAGES, 0);
	exchange_round(v, 0);
}

/*
 * Fail unless all @nr PFNs of @what are in memory block @block (of
 * @block_pages pages), or with assert_out_of_block(), none of them is.
 */
static void assert_in_block(const char *what, const u64 *pfns, u64 nr,
			    u64 block, u64 block_pages)
{
	u64 i;

	for (i = 0; i < nr; i++)
		TEST_ASSERT(pfns[i] / block_pages == block,
			    "Page %lu of %s at PFN 0x%lx, outside movable block %lu",
			    i, what, pfns[i], block);
}

static void assert_out_of_block(const char *what, const u64 *pfns, u64 nr,
				u64 block, u64 block_pages)
{
	u64 i;

	for (i = 0; i < nr; i++)
		TEST_ASSERT(pfns[i] / block_pages != block,
			    "Page %lu of %s still in offline block %lu", i, what,
			    block);
}

/*
 * Movable guest_memfd allocated on node_b lands in the ZONE_MOVABLE block
 * made there; offlining the block must move every page out of it, those
 * the host wrote and those only the guest did.
 */
static void test_offline_movable(void)
{
	u64 before[GMEM_PAGES], after[GMEM_PAGES], block;
	u64 go_before[GMEM_PAGES], go_after[GMEM_PAGES];
	u64 block_pages;
	struct gmem_vm v, go;
	int ret;

	require_hotplug();
	block_pages = memory_block_size() / page_size;
	if (!make_movable_block(node_b, block_pages, &block)) {
		skip_if_offline_vetoed();
		case_skip("no offlinable block on node %d outside CMA", node_b);
	}

	create_vm_on_node_b(&v, MOVABLE);
	get_pfns(v.g.pages, before, GMEM_PAGES);
	assert_in_block("host-written guest_memfd", before, GMEM_PAGES, block,
			block_pages);
	create_vm(&go, MOVABLE, GMEM_PAGES, 2, true);
	bind_to_node(go.g.mem, GMEM_PAGES * page_size, node_b);
	guest_only_fill(&go, go_before);
	assert_in_block("guest-only guest_memfd", go_before, GMEM_PAGES, block,
			block_pages);

	ret = set_block_state(block, "offline");
	TEST_ASSERT(!ret, "Offlining block %lu failed, errno = %d (%s)", block,
		    ret, strerror(ret));

	get_pfns(v.g.pages, after, GMEM_PAGES);
	assert_out_of_block("host-written guest_memfd", after, GMEM_PAGES, block,
			    block_pages);
	/*
	 * Offlining succeeded, so no page can be left in the block: these two
	 * are sanity checks; whether the pages moved correctly is what the
	 * checks of their contents below tell.
	 */
	probe_pfns(&go.g, go_after, GMEM_PAGES);
	assert_out_of_block("guest-only guest_memfd", go_after, GMEM_PAGES, block,
			    block_pages);

	check_pages("host", v.g.mem, GMEM_PAGES, 2);
	exchange_round(&v, 2);
	guest_only_check(&go);
	destroy_vm(&go);
	destroy_vm(&v);

	/* Back to its own zone. */
	restore_all();
	case_pass("block %lu offlined, %d host-written and %d guest-only pages moved",
		  block, GMEM_PAGES, GMEM_PAGES);
}

/*
 * No block that holds unmovable guest_memfd may go offline.  Unmovable
 * guest_memfd cannot come from ZONE_MOVABLE, and blocks of other zones may
 * also hold unmovable kernel memory, which fails offlining before anything
 * is migrated; a block where offlining got as far as migration failing
 * (pgmigrate_fail grew) was held by guest_memfd.
 */
static void test_offline_unmovable(void)
{
	u64 before[GMEM_PAGES], after[GMEM_PAGES], block, last = -1ull;
	int tried = 0, held = 0, ret, i;
	u64 block_pages;
	struct gmem_vm v;
	char state[32];
	long fails;

	require_hotplug();
	block_pages = memory_block_size() / page_size;
	create_vm_on_node_b(&v, UNMOVABLE);
	get_pfns(v.g.pages, before, GMEM_PAGES);

	for (i = 0; i < GMEM_PAGES; i++) {
		block = before[i] / block_pages;
		if (block == last)
			continue;
		last = block;

		fails = read_vmstat("pgmigrate_fail");
		ret = offline_block(block, OFFLINE_SECONDS);
		/* (a veto is not guest_memfd's pages holding the block) */
		if (ret == -EPERM) {
			offline_vetoed++;
			continue;
		}
		block_state(block, state, sizeof(state));
		if (!ret && !strcmp(state, "offline"))
			set_block_state(block, "online");
		TEST_ASSERT(ret, "Block %lu with unmovable guest_memfd went offline",
			    block);
		TEST_ASSERT(!strcmp(state, "online"), "Block %lu is %s", block, state);
		tried++;
		held += read_vmstat("pgmigrate_fail") > fails;
	}

	get_pfns(v.g.pages, after, GMEM_PAGES);
	TEST_ASSERT(!count_changed(before, after, GMEM_PAGES),
		    "Unmovable pages moved");
	check_pages("host", v.g.mem, GMEM_PAGES, 2);
	exchange_round(&v, 2);
	destroy_vm(&v);

	ksft_print_msg("%d of %d blocks failed to migrate guest_memfd\n", held, tried);
	if (!tried)
		skip_if_offline_vetoed();
	case_pass("%d blocks stayed online", tried);
}

/* ---- NUMA balancing ---- */

static void set_cpu_of_node(int node)
{
	char path[64], list[256];
	cpu_set_t set;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", node);
	read_file(path, list, sizeof(list));
	TEST_ASSERT(list[0], "Node %d has no CPU", node);

	CPU_ZERO(&set);
	CPU_SET(atoi(list), &set);
	TEST_ASSERT(!sched_setaffinity(0, sizeof(set), &set),
		    "sched_setaffinity() failed, errno = %d", errno);
}

/* Whether a page is dirty, per /proc/kpageflags. */
static bool page_dirty(void *addr)
{
	return pfn_flags(page_pfn(addr)) & BIT_ULL(KPF_DIRTY);
}

/*
 * Place movable guest_memfd pages (read by the host only, so clean) and
 * anonymous control pages (written) of @v on node_a.  Returns the anonymous
 * mapping; @anon_pages gets its pages.
 */
static u64 *place_with_control(struct gmem_vm *v, void **anon_pages)
{
	u64 words = page_size / sizeof(u64), *anon, i;

	anon = kvm_mmap(GMEM_PAGES * page_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1);
	for (i = 0; i < GMEM_PAGES; i++) {
		anon[i * words] = i;
		anon_pages[i] = &anon[i * words];
	}
	move_all(v->g.pages, GMEM_PAGES, node_a);
	move_all(anon_pages, GMEM_PAGES, node_a);
	return anon;
}

/*
 * Wait up to @seconds for @who to move the anonymous control pages to
 * node_b, reading them and the guest_memfd pages of @v all along if @touch.
 * Returns the control pages moved; @gmem_moved gets the guest_memfd pages
 * that moved.
 */
static int wait_for_control(const char *who, struct gmem_vm *v, u64 *anon,
			    void **anon_pages, int seconds, bool touch,
			    int *gmem_moved)
{
	u64 words = page_size / sizeof(u64), i;
	double start = now();
	int moved = 0;

	while (now() - start < seconds) {
		for (i = 0; touch && i < GMEM_PAGES * words; i += words) {
			READ_ONCE(anon[i]);
			READ_ONCE(v->g.mem[i]);
		}
		moved = count_on_node(anon_pages, GMEM_PAGES, node_b);
		if (moved == GMEM_PAGES)
			break;
		usleep(touch ? 1000 : 100000);
	}
	*gmem_moved = count_on_node(v->g.pages, GMEM_PAGES, node_b);
	ksft_print_msg("%s moved %d of %d anonymous pages in %.0f s\n", who,
		       moved, GMEM_PAGES, now() - start);
	return moved;
}

/*
 * Automatic NUMA balancing must leave guest_memfd alone: run on node_b's CPU
 * and keep reading guest_memfd and anonymous pages that sit on node_a until
 * NUMA balancing has moved the anonymous ones.  Pages that a guest or the
 * host wrote are dirty, and NUMA balancing does not migrate dirty file
 * folios anyway, so the guest_memfd pages are ones the host only read: clean
 * and migratable, only AS_NO_ACCESS_BASED_MIGRATION keeps them where they are.
 */
static void test_numa_balancing(void)
{
	const char *path = "/proc/sys/kernel/numa_balancing";
	u64 words = page_size / sizeof(u64), i, *anon;
	int moved = 0, gmem_moved;
	void *anon_pages[GMEM_PAGES];
	struct gmem_vm v;

	if (access(path, F_OK))
		case_skip("no %s (CONFIG_NUMA_BALANCING)", path);

	create_vm(&v, MOVABLE, GMEM_PAGES, 1, false);
	for (i = 0; i < GMEM_PAGES; i++)
		READ_ONCE(v.g.mem[i * words]);
	anon = place_with_control(&v, anon_pages);
	for (i = 0; i < GMEM_PAGES; i++)
		TEST_ASSERT(!page_dirty(v.g.pages[i]),
			    "Page %lu is dirty: the test would not show anything", i);

	write_restored(path, "1");
	set_cpu_of_node(node_b);

	moved = wait_for_control("NUMA balancing", &v, anon, anon_pages,
				 NUMA_BALANCING_SECONDS, true, &gmem_moved);

	restore_all();
	set_cpu_of_node(node_a);

	TEST_ASSERT(moved, "NUMA balancing moved no anonymous page in %d s",
		    NUMA_BALANCING_SECONDS);
	TEST_ASSERT(!gmem_moved, "NUMA balancing moved %d guest_memfd pages",
		    gmem_moved);
	for (i = 0; i < GMEM_PAGES; i++)
		TEST_ASSERT(!page_dirty(v.g.pages[i]), "Page %lu became dirty", i);
	/* Never written: still as INIT_SHARED made them. */
	for (i = 0; i < GMEM_PAGES * words; i++)
		TEST_ASSERT(!v.g.mem[i], "Word %lu of guest_memfd is 0x%lx, not 0",
			    i, v.g.mem[i]);

	kvm_munmap(anon, GMEM_PAGES * page_size);
	destroy_vm(&v);
	case_pass("0 of %d guest_memfd pages moved", GMEM_PAGES);
}

/* ---- DAMON ---- */

#define DAMON_ADMIN	"/sys/kernel/mm/damon/admin/kdamonds"
#define DAMON_CTX	"0/contexts/0"

/* Write @val to the file of DAMON's sysfs interface that @fmt names. */
static void __printf(2, 3) damon_set(const char *val, const char *fmt, ...)
{
	char path[256];
	va_list ap;
	int n;

	n = snprintf(path, sizeof(path), "%s/", DAMON_ADMIN);
	va_start(ap, fmt);
	vsnprintf(path + n, sizeof(path) - n, fmt, ap);
	va_end(ap);
	write_file(path, val);
}

/* Whether DAMON offers the operations set @ops (listed one a line). */
static bool damon_has_ops(const char *ops)
{
	char buf[256];
	ssize_t len;
	int fd;

	fd = open(DAMON_ADMIN "/" DAMON_CTX "/avail_operations", O_RDONLY);
	TEST_ASSERT(fd >= 0, "Opening DAMON's avail_operations failed, errno = %d",
		    errno);
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[len > 0 ? len : 0] = '\0';
	return strstr(buf, ops);
}

/*
 * DAMON's migrate_cold action, applied to every page of a guest_memfd mapping
 * and of an anonymous control mapping, both on node_a, must move the
 * anonymous pages to node_b and leave the guest_memfd pages where they are.
 */
static void test_damon(void)
{
	static const char * const ranges[] = { "sz", "nr_accesses", "age" };
	int moved = 0, gmem_moved, i;
	void *anon_pages[GMEM_PAGES];
	unsigned long starts[2];
	struct gmem_vm v;
	char val[32];
	u64 *anon;

	if (access(DAMON_ADMIN, F_OK))
		case_skip("no %s (CONFIG_DAMON_SYSFS)", DAMON_ADMIN);
	read_file(DAMON_ADMIN "/nr_kdamonds", val, sizeof(val));
	if (strcmp(val, "0"))
		case_skip("DAMON is in use (%s kdamonds)", val);

	create_vm(&v, MOVABLE, GMEM_PAGES, 2, false);
	fill_pages(v.g.mem, GMEM_PAGES, 0);
	exchange_round(&v, 0);
	anon = place_with_control(&v, anon_pages);

	/* One context over the two mappings, one scheme that takes all. */
	restore_later(DAMON_ADMIN "/nr_kdamonds", "0");
	damon_set("1", "nr_kdamonds");
	damon_set("1", "0/contexts/nr_contexts");
	if (!damon_has_ops("fvaddr"))
		case_skip("no fvaddr DAMON operations (CONFIG_DAMON_VADDR)");
	damon_set("fvaddr", DAMON_CTX "/operations");
	damon_set("1", DAMON_CTX "/targets/nr_targets");
	snprintf(val, sizeof(val), "%d", getpid());
	damon_set(val, DAMON_CTX "/targets/0/pid_target");
	damon_set("2", DAMON_CTX "/targets/0/regions/nr_regions");
	/* DAMON wants the regions in ascending order. */
	starts[0] = min_t(unsigned long, anon, v.g.mem);
	starts[1] = max_t(unsigned long, anon, v.g.mem);
	for (i = 0; i < 2; i++) {
		snprintf(val, sizeof(val), "%lu", starts[i]);
		damon_set(val, DAMON_CTX "/targets/0/regions/%d/start", i);
		snprintf(val, sizeof(val), "%lu", starts[i] + GMEM_PAGES * page_size);
		damon_set(val, DAMON_CTX "/targets/0/regions/%d/end", i);
	}
	damon_set("1", DAMON_CTX "/schemes/nr_schemes");
	damon_set("migrate_cold", DAMON_CTX "/schemes/0/action");
	snprintf(val, sizeof(val), "%d", node_b);
	damon_set(val, DAMON_CTX "/schemes/0/target_nid");
	for (i = 0; i < ARRAY_SIZE(ranges); i++) {
		damon_set("0", DAMON_CTX "/schemes/0/access_pattern/%s/min", ranges[i]);
		damon_set("4294967295", DAMON_CTX "/schemes/0/access_pattern/%s/max",
			  ranges[i]);
	}
	restore_later(DAMON_ADMIN "/0/state", "off");
	damon_set("on", "0/state");

	moved = wait_for_control("DAMON", &v, anon, anon_pages, DAMON_SECONDS,
				 false, &gmem_moved);

	/* Stop DAMON and drop its kdamond. */
	restore_all();

	TEST_ASSERT(moved == GMEM_PAGES, "DAMON moved %d of %d anonymous pages in %d s",
		    moved, GMEM_PAGES, DAMON_SECONDS);
	TEST_ASSERT(!gmem_moved, "DAMON moved %d guest_memfd pages", gmem_moved);
	exchange_round(&v, 2);
	kvm_munmap(anon, GMEM_PAGES * page_size);
	destroy_vm(&v);
	case_pass("0 of %d guest_memfd pages moved", GMEM_PAGES);
}

/* ---- a page the guest keeps using ---- */

#define HOT_VCPUS	2
/* The most pages the vCPUs keep using; they are among HOT_POOL pages. */
#define HOT_MAX		64
#define HOT_POOL	1024
/*
 * Runs of each mover on each number of pages: movable guest_memfd's, and
 * its controls' (anonymous memory and memfd in an ordinary memslot; memfd
 * again with the host's faults).
 */
#define HOT_RUNS	3
#define HOT_CONTROL_RUNS	2
#define HOT_HOST_CONTROL_RUNS	1
/* Tries of a VM whose pages must land in the CMA area or the block. */
#define HOT_PLACE_TRIES	3
/*
 * How long a mover may take to move the pages in use.  Under QEMU TCG with
 * a debug kernel, a CMA allocation of 1 GiB that succeeds at once takes 4 to
 * 21 s, depending on the load of the host.
 */
#define HOT_BOUND	60

enum hot_backend { HOT_GMEM, HOT_MEMFD_KVM, HOT_ANON_KVM, NR_HOT_BACKENDS };
enum hot_mover { HOT_MOVE_PAGES, HOT_CMA, HOT_OFFLINE, NR_HOT_MOVERS };

static const char * const hot_backend_name[NR_HOT_BACKENDS] = {
	[HOT_GMEM] = "gmem-movable",
	[HOT_MEMFD_KVM] = "memfd-kvm",
	[HOT_ANON_KVM] = "anon-kvm",
};

static const char * const hot_mover_name[NR_HOT_MOVERS] = {
	[HOT_MOVE_PAGES] = "move_pages",
	[HOT_CMA] = "cma",
	[HOT_OFFLINE] = "offline",
};

/* The pages the vCPUs use (indices into the pool), and their progress. */
static u64 hot_idx[HOT_MAX], hot_nr, hot_stop, hot_passes[HOT_VCPUS];

/*
 * vCPU @id checks and rewrites word @id of each hot page, as fast as it
 * can, until told to stop: each pass, the word must hold what this vCPU
 * wrote in the pass before (the host wrote pass 0).  It never leaves the
 * guest but to fault, so a page that moves faults back in at once.
 */
static void hot_guest_code(u64 id, u64 psize)
{
	u64 *mem = (u64 *)GMEM_GPA, words = psize / sizeof(u64);
	u64 pass, i, p, val;

	for (pass = 0; !READ_ONCE(hot_stop); pass++) {
		for (i = 0; i < hot_nr; i++) {
			p = hot_idx[i];
			val = READ_ONCE(mem[p * words + id]);
			__GUEST_ASSERT(val == pattern(pass, p, id),
				       "vCPU %lu, page %lu: wanted 0x%lx, got 0x%lx",
				       id, p, pattern(pass, p, id), val);
			WRITE_ONCE(mem[p * words + id], pattern(pass + 1, p, id));
		}
		WRITE_ONCE(hot_passes[id], pass + 1);
	}
	GUEST_DONE();
}

/* A VM with two vCPUs and HOT_POOL pages of one backend at GMEM_GPA. */
struct hot_vm {
	struct kvm_vcpu *vcpus[HOT_VCPUS];
	pthread_t threads[HOT_VCPUS];
	enum hot_backend type;
	struct gmem g;	/* also the memfd or anonymous memory: mem, pages */
	void *hot[HOT_MAX];
	u64 *passes;	/* the guest's hot_passes */
	/* A host thread faulting the hot pages in through a second mapping. */
	pthread_t host_thread;
	u64 *alias;
	atomic_bool host_stop;
	long host_faults;
};

static void hot_vm_create(struct hot_vm *h, enum hot_backend type, int node)
{
	size_t size = HOT_POOL * page_size;
	struct kvm_vm *vm;
	int i, fd;

	memset(h, 0, sizeof(*h));
	h->type = type;
	/* Memslot 0 gets room for the page tables that map the pool. */
	vm = __vm_create_with_vcpus(VM_SHAPE_DEFAULT, HOT_VCPUS, HOT_POOL,
				    hot_guest_code, h->vcpus);
	if (type == HOT_GMEM) {
		gmem_create(&h->g, vm, MOVABLE, HOT_POOL);
	} else {
		/* Guest RAM as VMMs back it today, in an ordinary memslot. */
		fd = -1;
		if (type == HOT_MEMFD_KVM) {
			fd = memfd_create("gmem_systest", 0);
			TEST_ASSERT(fd >= 0, "memfd_create() failed, errno = %d", errno);
			TEST_ASSERT(!ftruncate(fd, size), "ftruncate() failed");
		}
		h->g.vm = vm;
		h->g.fd = fd;
		h->g.nr_pages = HOT_POOL;
		h->g.mem = kvm_mmap(size, PROT_READ | PROT_WRITE,
				    fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED,
				    fd);
		/* Order 0, as guest_memfd's folios. */
		TEST_ASSERT(!madvise(h->g.mem, size, MADV_NOHUGEPAGE),
			    "MADV_NOHUGEPAGE failed, errno = %d", errno);
		h->g.pages = page_array(h->g.mem, HOT_POOL);
		vm_set_user_memory_region(vm, GMEM_SLOT, 0, GMEM_GPA, size,
					  h->g.mem);
		virt_map(vm, GMEM_GPA, GMEM_GPA, HOT_POOL);
	}
	/*
	 * offline_block() forks: a child sharing anonymous pages would make
	 * the guest's next writes copy them out of the block instead.
	 */
	TEST_ASSERT(!madvise(h->g.mem, size, MADV_DONTFORK),
		    "MADV_DONTFORK failed, errno = %d", errno);
	bind_to_node(h->g.mem, size, node);
	fill_pages(h->g.mem, HOT_POOL, 0);
	for (i = 0; i < HOT_VCPUS; i++)
		vcpu_args_set(h->vcpus[i], 2, i, page_size);
	h->passes = addr_gva2hva(vm, (gva_t)hot_passes);
}

static void hot_vm_destroy(struct hot_vm *h)
{
	if (h->alias)
		kvm_munmap(h->alias, HOT_POOL * page_size);
	kvm_munmap(h->g.mem, HOT_POOL * page_size);
	free(h->g.pages);
	if (h->g.fd >= 0)
		close(h->g.fd);
	kvm_vm_free(h->g.vm);
}

static void *hot_vcpu_fn(void *arg)
{
	run_to_done(arg);
	return NULL;
}

/*
 * The host's own lookups of the pages in the file: fallocate() of a page
 * that is there, and a fault through a mapping that does not map it (a
 * second mapping, so that the first keeps the pages that move_pages() must
 * find).  Both look the folio up in the page cache and lock it, as arm64's
 * vCPU faults on guest_memfd do before they check for an invalidation.
 */
static void *hot_host_fn(void *arg)
{
	struct hot_vm *h = arg;
	u64 words = page_size / sizeof(u64), i;
	u64 *p;

	while (!atomic_load(&h->host_stop))
		for (i = 0; i < hot_nr; i++) {
			TEST_ASSERT(!fallocate(h->g.fd, FALLOC_FL_KEEP_SIZE,
					       hot_idx[i] * page_size, page_size),
				    "fallocate() failed, errno = %d", errno);
			p = h->alias + hot_idx[i] * words;
			TEST_ASSERT(!madvise(p, page_size, MADV_DONTNEED),
				    "MADV_DONTNEED failed, errno = %d", errno);
			READ_ONCE(*p);
			h->host_faults += 2;
		}
	return NULL;
}

/* The passes each vCPU has made so far, into @passes. */
static void hot_read_passes(struct hot_vm *h, u64 *passes)
{
	int i;

	for (i = 0; i < HOT_VCPUS; i++)
		passes[i] = READ_ONCE(h->passes[i]);
}

/* The fewest passes a vCPU made since @before. */
static u64 hot_min_passes(struct hot_vm *h, const u64 *before)
{
	u64 now_passes[HOT_VCPUS], p = -1ull;
	int i;

	hot_read_passes(h, now_passes);
	for (i = 0; i < HOT_VCPUS; i++)
		p = min(p, now_passes[i] - before[i]);
	return p;
}

/* Wait until each vCPU has made @n passes since @before. */
static void hot_wait_passes(struct hot_vm *h, const u64 *before, u64 n)
{
	double end = now() + 60;

	while (hot_min_passes(h, before) < n) {
		TEST_ASSERT(now() < end, "A vCPU made no %lu passes in 60 s", n);
		usleep(1000);
	}
}

/*
 * Let the vCPUs use @idx[0..@nr) of the pool, and wait until each has made
 * two passes over them: the guest maps them all.  With @host, a host thread
 * keeps faulting them in too.
 */
static void hot_start(struct hot_vm *h, const u64 *idx, int nr, bool host)
{
	u64 zero[HOT_VCPUS] = {};
	int i;

	for (i = 0; i < nr; i++) {
		hot_idx[i] = idx[i];
		h->hot[i] = h->g.pages[idx[i]];
	}
	hot_nr = nr;
	hot_stop = 0;
	sync_global_to_guest(h->g.vm, hot_idx);
	sync_global_to_guest(h->g.vm, hot_nr);
	sync_global_to_guest(h->g.vm, hot_stop);
	for (i = 0; i < HOT_VCPUS; i++)
		TEST_ASSERT(!pthread_create(&h->threads[i], NULL, hot_vcpu_fn,
					    h->vcpus[i]),
			    "pthread_create() failed");
	hot_wait_passes(h, zero, 2);
	if (!host)
		return;
	h->alias = kvm_mmap(HOT_POOL * page_size, PROT_READ, MAP_SHARED, h->g.fd);
	TEST_ASSERT(!madvise(h->alias, HOT_POOL * page_size, MADV_DONTFORK),
		    "MADV_DONTFORK failed, errno = %d", errno);
	atomic_store(&h->host_stop, false);
	TEST_ASSERT(!pthread_create(&h->host_thread, NULL, hot_host_fn, h),
		    "pthread_create() failed");
}

/*
 * Stop the vCPUs; then every word of the pool must hold what the host
 * wrote, but word i of each hot page, what vCPU i wrote last.
 */
static void hot_stop_and_check(struct hot_vm *h)
{
	u64 words = page_size / sizeof(u64), i, w, want, got;
	bool hot[HOT_POOL] = {};
	int n;

	if (h->alias) {
		atomic_store(&h->host_stop, true);
		pthread_join(h->host_thread, NULL);
	}
	write_guest_global(h->g.vm, hot_stop, 1);
	for (n = 0; n < HOT_VCPUS; n++)
		pthread_join(h->threads[n], NULL);
	for (n = 0; n < hot_nr; n++)
		hot[hot_idx[n]] = true;
	for (i = 0; i < HOT_POOL; i++)
		for (w = 0; w < words; w++) {
			want = hot[i] && w < HOT_VCPUS ?
			       pattern(h->passes[w], i, w) : pattern(0, i, w);
			got = h->g.mem[i * words + w];
			TEST_ASSERT(got == want,
				    "%s page %lu, word %lu: wanted 0x%lx, got 0x%lx",
				    hot_backend_name[h->type], i, w, want, got);
		}
}

/* Up to @max pool pages of @h whose PFN is in [@lo, @hi), into @idx. */
static int hot_pick(struct hot_vm *h, u64 lo, u64 hi, u64 *idx, int max)
{
	u64 pfns[HOT_POOL], i;
	int n = 0;

	get_pfns(h->g.pages, pfns, HOT_POOL);
	for (i = 0; i < HOT_POOL && n < max; i++)
		if (pfns[i] >= lo && pfns[i] < hi)
			idx[n++] = i;
	return n;
}

/* Whether any of the hot pages of @h is at a PFN in [@lo, @hi). */
static bool hot_in(struct hot_vm *h, int nr, u64 lo, u64 hi)
{
	u64 pfns[HOT_MAX];
	int i;

	get_pfns(h->hot, pfns, nr);
	for (i = 0; i < nr; i++)
		if (pfns[i] >= lo && pfns[i] < hi)
			return true;
	return false;
}

/*
 * Allocate the whole of CMA area @a through debugfs, retrying a failed
 * allocation until @bound seconds have passed, and free it again.  Returns
 * 0 or the last error; @tries gets the allocations that failed.
 */
static int hot_cma_alloc(const struct cma_area *a, double bound, long *tries)
{
	char alloc[512], free_path[512], val[32];
	double end = now() + bound;
	u64 chunk, total = 0;
	int err = 0;

	snprintf(alloc, sizeof(alloc), "%s/%s/alloc", CMA_DIR, a->name);
	snprintf(free_path, sizeof(free_path), "%s/%s/free", CMA_DIR, a->name);
	while ((chunk = cma_read(a->name, "maxchunk"))) {
		snprintf(val, sizeof(val), "%lu", chunk);
		err = try_write_file(alloc, val);
		if (!err)
			total += chunk;
		else if (++*tries, now() > end)
			break;
	}
	if (total) {
		snprintf(val, sizeof(val), "%lu", total);
		write_file(free_path, val);
	}
	return err;
}

struct hot_result {
	int ok, runs, nr;
	long tries, fails;
	double secs[HOT_RUNS];
	u64 passes;
};

/*
 * One run: a VM whose two vCPUs keep using @nr pages of backend @type (and
 * with @host, a host thread faulting them in) while @mover moves them:
 * move_pages() from node_a to node_b, the allocation of CMA area @a, or
 * offlining memory block @block.  Records in @res whether the pages moved
 * within HOT_BOUND seconds, how long it took, the tries, the failed page
 * migrations (pgmigrate_fail) and the guest's passes meanwhile.
 */
static void hot_run(enum hot_backend type, enum hot_mover mover, int nr,
		    bool host, const struct cma_area *a, u64 block,
		    struct hot_result *res)
{
	u64 block_pages = memory_block_size() / page_size, idx[HOT_MAX];
	u64 lo = 0, hi = -1ull, before[HOT_VCPUS], passes;
	int targets[HOT_MAX], status[HOT_MAX], node = node_a, i, got, place;
	long fails, tries = 0, ret;
	struct hot_vm h;
	bool ok;
	double t;

	if (mover == HOT_CMA) {
		node = a->node;
		lo = a->base;
		hi = a->base + a->count;
	} else if (mover == HOT_OFFLINE) {
		node = node_b;
		lo = block * block_pages;
		hi = lo + block_pages;
	}
	/* Where pages land is up to the page allocator: try again. */
	for (place = 1; ; place++) {
		hot_vm_create(&h, type, node);
		got = hot_pick(&h, lo, hi, idx, nr);
		if (got == nr)
			break;
		hot_vm_destroy(&h);
		TEST_ASSERT(place < HOT_PLACE_TRIES,
			    "%s: only %d of %d pages on node %d at PFNs 0x%lx-0x%lx for %s, %d times",
			    hot_backend_name[type], got, nr, node, lo, hi - 1,
			    hot_mover_name[mover], HOT_PLACE_TRIES);
	}
	hot_start(&h, idx, nr, host);
	for (i = 0; i < nr; i++)
		targets[i] = node_b;
	if (mover == HOT_MOVE_PAGES)
		TEST_ASSERT_EQ(count_on_node(h.hot, nr, node_a), nr);

	fails = read_vmstat("pgmigrate_fail");
	hot_read_passes(&h, before);
	t = now();
	switch (mover) {
	case HOT_MOVE_PAGES:
		/*
		 * MPOL_MF_MOVE_ALL: the host thread's mapping makes the pages
		 * shared, which MPOL_MF_MOVE skips.
		 */
		for (;;) {
			ret = move_pages(0, nr, h.hot, targets, status,
					 MPOL_MF_MOVE_ALL);
			TEST_ASSERT(ret >= 0, "move_pages() failed, errno = %d",
				    errno);
			ok = count_on_node(h.hot, nr, node_b) == nr;
			if (ok || now() - t > HOT_BOUND)
				break;
			tries++;
		}
		break;
	case HOT_CMA:
		ok = !hot_cma_alloc(a, HOT_BOUND, &tries);
		break;
	case HOT_OFFLINE:
		ok = !offline_block(block, HOT_BOUND);
		break;
	default:
		TEST_FAIL("Unknown mover %d", mover);
	}
	t = now() - t;
	passes = hot_min_passes(&h, before);
	fails = read_vmstat("pgmigrate_fail") - fails;
	/* A move that only completed after the bound is no success. */
	ok = ok && t <= HOT_BOUND;
	if (ok && mover != HOT_MOVE_PAGES)
		TEST_ASSERT(!hot_in(&h, nr, lo, hi),
			    "%s: %s succeeded and left pages in place",
			    hot_backend_name[type], hot_mover_name[mover]);
	/* The guest uses the pages where they are now, then the host checks. */
	hot_read_passes(&h, before);
	hot_wait_passes(&h, before, 2);
	hot_stop_and_check(&h);
	if (mover == HOT_OFFLINE && ok)
		TEST_ASSERT(!set_block_state(block, "online_movable"),
			    "Onlining memory block %lu again failed", block);

	ksft_print_msg("%s%-12s %2d page%s %-10s %s in %6.2f s, %3ld failed tries, %4ld pgmigrate_fail, %lu guest passes, %ld host lookups\n",
		       host ? "host+" : "", hot_backend_name[type], nr,
		       nr > 1 ? "s" : " ", hot_mover_name[mover],
		       ok ? "moved " : "FAILED", t, tries, fails, passes,
		       h.host_faults);
	hot_vm_destroy(&h);
	res->secs[res->runs++] = t;
	res->ok += ok;
	res->tries += tries;
	res->fails += fails;
	res->passes += passes;
	res->nr = nr;
}

static void hot_table(struct hot_result (*res)[NR_HOT_BACKENDS][2], bool host)
{
	int m, b, s;

	ksft_print_msg("%-10s %-17s %5s %6s %9s %9s %7s %14s %12s\n", "mover",
		       host ? "host+backend" : "backend", "pages", "moved",
		       "median s", "max s", "failed", "pgmigrate_fail",
		       "guest passes");
	for (m = 0; m < NR_HOT_MOVERS; m++)
		for (s = 0; s < 2; s++)
			for (b = 0; b < NR_HOT_BACKENDS; b++) {
				struct hot_result *x = &res[m][b][s];
				double med;

				if (!x->runs)
					continue;
				/* Sorts secs. */
				med = median(x->secs, x->runs);
				ksft_print_msg("%-10s %s%-12s %5d %3d/%-2d %9.2f %9.2f %7ld %14ld %12lu\n",
					       hot_mover_name[m],
					       host ? "host+" : "     ",
					       hot_backend_name[b], x->nr,
					       x->ok, x->runs, med,
					       x->secs[x->runs - 1], x->tries,
					       x->fails, x->passes / x->runs);
			}
}

/*
 * Pages that two vCPUs keep using must still move, within HOT_BOUND
 * seconds, under each mover that must move them (move_pages(), a CMA
 * allocation, memory offlining): movable guest_memfd as memfd and
 * anonymous memory in an ordinary memslot, the guest's controls.  With
 * @host (case hot_page_host), the same while a host thread also keeps
 * looking the pages up (hot_host_fn()): the lookup of a folio that
 * migration has locked, which arm64's vCPU faults on guest_memfd also make,
 * must not keep a movable guest_memfd page from moving; memfd, whose
 * lookups sleep on the lock with a reference, runs once per mover and size
 * for comparison, and anonymous memory, which MADV_DONTNEED would drop, not
 * at all.  Every run is a new VM; after each, the guest makes two more
 * passes and the host checks every word of the pool.  Only movable
 * guest_memfd's runs must all succeed: the others are what it is measured
 * against.
 */
static void hot_page(bool host)
{
	static const int sizes[2] = { 1, HOT_MAX };
	struct hot_result res[NR_HOT_MOVERS][NR_HOT_BACKENDS][2];
	struct cma_area areas[16], *a;
	u64 block = 0, block_pages;
	int m, b, k, s, r, runs, bad = 0, total = 0;
	char free_path[512], val[32];
	bool no_block = false;
	struct zone_info z;

	require_hotplug();
	a = pick_cma_area(areas, ARRAY_SIZE(areas));
	if (count_poisoned(a))
		case_skip("HWPoison pages in CMA area %s: run in a fresh VM", a->name);
	block_pages = memory_block_size() / page_size;
	/* Whatever hot_cma_alloc() has not freed if the case dies. */
	snprintf(free_path, sizeof(free_path), "%s/%s/free", CMA_DIR, a->name);
	snprintf(val, sizeof(val), "%lu", a->count);
	restore_later(free_path, val);
	write_file("/proc/sys/vm/drop_caches", "3");
	shrink_pcp_lists(a->base);
	read_cma_zone(a->base, &z);
	if (z.free_cma * 2 <= z.free)
		case_skip("CMA has %lu of the %lu free pages of zone %s of node %d: the allocator prefers it only above half",
			  z.free_cma, z.free, z.name, z.node);
	memset(res, 0, sizeof(res));

	for (m = 0; m < NR_HOT_MOVERS; m++) {
		/* Only now: a ZONE_MOVABLE block would take the pages before CMA. */
		if (m == HOT_OFFLINE &&
		    !make_movable_block(node_b, block_pages, &block)) {
			no_block = true;
			break;
		}
		for (s = 0; s < ARRAY_SIZE(sizes); s++)
			for (r = 0; r < HOT_RUNS; r++)
				/* The backends take turns at going first. */
				for (k = 0; k < NR_HOT_BACKENDS; k++) {
					b = (k + r) % NR_HOT_BACKENDS;
					runs = b == HOT_GMEM ? HOT_RUNS :
					       host ? HOT_HOST_CONTROL_RUNS :
						      HOT_CONTROL_RUNS;
					if ((host && b == HOT_ANON_KVM) ||
					    res[m][b][s].runs >= runs)
						continue;
					hot_run(b, m, sizes[s], host, a, block,
						&res[m][b][s]);
				}
	}
	restore_all();

	hot_table(res, host);
	for (m = 0; m < NR_HOT_MOVERS; m++)
		for (s = 0; s < 2; s++) {
			struct hot_result *x = &res[m][HOT_GMEM][s];

			bad += x->runs - x->ok;
			total += x->runs;
		}
	TEST_ASSERT(!bad,
		    "%d of %d runs did not move movable guest_memfd pages within %d s (tables above)",
		    bad, total, HOT_BOUND);
	if (no_block && offline_vetoed)
		case_pass("%d runs: movable guest_memfd pages in use moved within %d s under move_pages() and CMA; offlining does not apply (the kernel refused to offline %d blocks of boot memory, EPERM)",
			  total, HOT_BOUND, offline_vetoed);
	else if (no_block)
		case_skip("no offlinable block on node %d outside CMA: %d runs of move_pages() and CMA passed, offlining not run",
			  node_b, total);
	else
		case_pass("%d runs: movable guest_memfd pages in use moved within %d s under move_pages(), CMA and offlining",
			  total, HOT_BOUND);
}

static void test_hot_page(void)
{
	hot_page(false);
}

static void test_hot_page_host(void)
{
	hot_page(true);
}

/* ---- main ---- */

static const struct test_case cases[] = {
	{ "migrate", test_migrate },
	{ "unmovable", test_unmovable },
	{ "migrate_pages", test_migrate_pages },
	{ "guest_only", test_guest_only },
	{ "bad_input", test_bad_input },
	/*
	 * Before soft offline, whose poisoned pages may be in the CMA area, and
	 * offlining, whose ZONE_MOVABLE block would take the pages before CMA.
	 */
	{ "cma", test_cma },
	/* Before soft offline too (CMA), and after cma (fewer pages to move). */
	{ "hot_page", test_hot_page },
	{ "hot_page_host", test_hot_page_host },
	{ "soft_offline_movable", test_soft_offline_movable },
	{ "soft_offline_unmovable", test_soft_offline_unmovable },
	{ "compaction", test_compaction },
	{ "offline_movable", test_offline_movable },
	{ "offline_unmovable", test_offline_unmovable },
	{ "numa_balancing", test_numa_balancing },
	{ "damon", test_damon },
};

static void usage(const char *name)
{
	int i;

	printf("Usage: %s [-S] [-c CASES] [-t SECONDS]\n" CASE_USAGE
	       "  -t  seconds after which a case is killed and fails (default 900)\n"
	       "cases:", name);
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		printf(" %s", cases[i].name);
	printf("\n");
}

static int case_timeout = 900;

static bool option(int opt)
{
	if (opt != 't')
		return false;
	case_timeout = parse_num("gmem_systest", 't', optarg, 1, 86400);
	return true;
}

int main(int argc, char *argv[])
{
	const char *skip;
	char why[256];

	parse_options(argc, argv, "t:", option, usage);
	skip = geteuid() ? "needs root" : check_prerequisites(why, sizeof(why));

	run_cases(cases, ARRAY_SIZE(cases), case_timeout, skip);
}
