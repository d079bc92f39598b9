// SPDX-License-Identifier: GPL-2.0
/*
 * gmem_stress: migration of movable guest_memfd memory while it is in use.
 *
 * vCPUs keep writing every word of their pages and checking that each word
 * still holds what they last wrote, while host threads move the pages back
 * and forth between two NUMA nodes with move_pages(2).  A lost write, or a
 * guest mapping left pointing at the old page, fails the guest's check.
 * Then migration races with what else changes guest_memfd and its bindings:
 * vCPU faults, hole punching, munmap() and close() of the guest_memfd, and
 * memslot deletion.  No race may lose data that the guest still owns, and
 * none may leak folios: the unevictable and isolated page counts must come
 * back to where they were.
 *
 * Each case runs in its own process; -S turns a missing prerequisite into a
 * failure.  Build: scripts/build-progs.sh (lib/progs.mk).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/falloc.h>

#include "gmem_host.h"
#include "kselftest.h"
#include "numaif.h"
#include "processor.h"

#define MAX_VCPUS	2
#define MAX_MOVERS	2

#define STAT_REFRESH	"/proc/sys/vm/stat_refresh"

/*
 * A folio leak of more than this many pages fails a case.  The counts are
 * read after draining every CPU's LRU caches (folios waiting there are not
 * on the LRU yet) and folding the per-CPU vmstat deltas (stat_refresh, root
 * only), so they are exact: nothing else in the test VM makes unevictable
 * pages.  Without stat_refresh, the per-CPU deltas (up to the vmstat
 * threshold per CPU) allow LEAK_SLACK_UNFOLDED.
 */
#define LEAK_SLACK		0
#define LEAK_SLACK_UNFOLDED	64

/* How long to wait for freed folios to come off the LRU. */
#define LEAK_WAIT_SECONDS	5

/* Limits, changeable on the command line. */
static long min_moves = 10000;
static long min_seconds = 10;
static long max_seconds = 600;
static int race_iterations = 100;

/* Set by the host when the guest is to stop after its current pass. */
static bool guest_stop;

/*
 * Each pass, check that every word of pages @first .. @first + @nr_pages - 1
 * of the guest_memfd at @gva holds what this vCPU wrote in the previous
 * pass, or zero if @holes (the host punches holes), and write the next value.
 */
static void guest_code(u64 gva, u64 first, u64 nr_pages, u64 psize, u64 holes)
{
	u64 flags = PASS_CHECK | PASS_FILL | (holes ? PASS_ZERO_OK : 0);
	u64 pass;

	for (pass = 0; !READ_ONCE(guest_stop); pass++) {
		GUEST_PAGE_PASS((u64 *)gva, psize, first, first + nr_pages, 1,
				pass, flags);
		GUEST_SYNC(pass + 1);
	}
	GUEST_DONE();
}

struct stress_vm {
	struct kvm_vcpu *vcpus[MAX_VCPUS];
	int nr_vcpus;
	struct gmem g;
	/* The pass each vCPU last completed: its pages hold that pattern. */
	u64 passes[MAX_VCPUS];
};

static void add_gmem_slot(struct stress_vm *s)
{
	vm_set_user_memory_region2(s->g.vm, GMEM_SLOT, KVM_MEM_GUEST_MEMFD,
				   GMEM_GPA, s->g.nr_pages * page_size, NULL,
				   s->g.fd, 0);
}

static void delete_gmem_slot(struct stress_vm *s)
{
	vm_set_user_memory_region2(s->g.vm, GMEM_SLOT, KVM_MEM_GUEST_MEMFD,
				   GMEM_GPA, 0, NULL, s->g.fd, 0);
}

/* @nr_pages split between @nr_vcpus, each its own range. */
static void create_vm(struct stress_vm *s, int nr_vcpus, u64 nr_pages,
		      bool holes)
{
	u64 per_vcpu = nr_pages / nr_vcpus;
	struct kvm_vm *vm;
	int i;

	memset(s, 0, sizeof(*s));
	vm = vm_create_with_vcpus(nr_vcpus, guest_code, s->vcpus);
	s->nr_vcpus = nr_vcpus;
	gmem_create(&s->g, vm, MOVABLE, nr_pages);
	for (i = 0; i < nr_vcpus; i++)
		vcpu_args_set(s->vcpus[i], 5, GMEM_GPA, i * per_vcpu, per_vcpu,
			      page_size, holes);
	fill_pages(s->g.mem, nr_pages, 0);

	guest_stop = false;
	sync_global_to_guest(vm, guest_stop);
}

static void destroy_vm(struct stress_vm *s)
{
	gmem_destroy(&s->g);
	kvm_vm_free(s->g.vm);
}

/* Every word of every page holds what its vCPU last wrote (or zero). */
static void host_check(struct stress_vm *s, bool holes)
{
	u64 per_vcpu = s->g.nr_pages / s->nr_vcpus;
	int i;

	for (i = 0; i < s->nr_vcpus; i++)
		host_pass("host", s->g.mem, i * per_vcpu, (i + 1) * per_vcpu, 1,
			  s->passes[i], PASS_CHECK | (holes ? PASS_ZERO_OK : 0));
}

/* Run vCPU @idx until it reports a pass; true once the guest is done. */
static bool run_one_pass(struct stress_vm *s, int idx)
{
	struct kvm_vcpu *vcpu = s->vcpus[idx];
	struct ucall uc;

	vcpu_run(vcpu);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT(uc.args[1] == s->passes[idx] + 1,
			    "vCPU %d finished pass %lu, wanted %lu", idx,
			    uc.args[1], s->passes[idx] + 1);
		s->passes[idx] = uc.args[1];
		return false;
	case UCALL_DONE:
		return true;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
	default:
		TEST_FAIL("Unexpected ucall %lu", uc.cmd);
	}
	return true;
}

struct vcpu_thread {
	pthread_t thread;
	struct stress_vm *s;
	int idx;
	atomic_bool *stop;
};

static void *vcpu_thread_fn(void *arg)
{
	struct vcpu_thread *t = arg;
	bool *stop_hva = addr_gva2hva(t->s->g.vm, (gva_t)&guest_stop);

	while (!run_one_pass(t->s, t->idx)) {
		if (atomic_load(t->stop))
			WRITE_ONCE(*stop_hva, true);
	}
	return NULL;
}

struct mover {
	pthread_t thread;
	void **pages;
	int nr;
	atomic_bool *stop;
	/* Pages that changed node, counted by this mover. */
	long moves;
	long calls;
};

/*
 * Move each of @m->pages to the other node, over and over.  Only this
 * thread moves these pages, so a page that changed node was moved once.
 * Failures are expected (the pages may be going away): no retries here.
 */
static void *mover_fn(void *arg)
{
	struct mover *m = arg;
	int *nodes = calloc(m->nr, sizeof(int));
	int *targets = calloc(m->nr, sizeof(int));
	int *status = calloc(m->nr, sizeof(int));
	int i;

	TEST_ASSERT(nodes && targets && status, "calloc() failed");

	while (!atomic_load(m->stop)) {
		if (move_pages(0, m->nr, m->pages, NULL, nodes, 0))
			break;
		for (i = 0; i < m->nr; i++)
			targets[i] = nodes[i] == node_a ? node_b : node_a;

		move_pages(0, m->nr, m->pages, targets, status, MPOL_MF_MOVE);
		WRITE_ONCE(m->calls, m->calls + 1);

		if (move_pages(0, m->nr, m->pages, NULL, status, 0))
			break;
		for (i = 0; i < m->nr; i++)
			m->moves += status[i] >= 0 && nodes[i] >= 0 &&
				    status[i] != nodes[i];
	}

	free(nodes);
	free(targets);
	free(status);
	return NULL;
}

/* Mover @idx of @nr_movers takes every @nr_movers-th page of @pages. */
static void start_movers(struct mover *movers, int nr_movers, void **pages,
			 int nr_pages, atomic_bool *stop)
{
	int i, j;

	for (i = 0; i < nr_movers; i++) {
		struct mover *m = &movers[i];

		memset(m, 0, sizeof(*m));
		m->pages = calloc(nr_pages, sizeof(void *));
		TEST_ASSERT(m->pages, "calloc() failed");
		for (j = i; j < nr_pages; j += nr_movers)
			m->pages[m->nr++] = pages[j];
		m->stop = stop;
		TEST_ASSERT(!pthread_create(&m->thread, NULL, mover_fn, m),
			    "pthread_create() failed");
	}
}

static long stop_movers(struct mover *movers, int nr_movers, long *calls)
{
	long moves = 0;
	int i;

	for (i = 0; i < nr_movers; i++) {
		pthread_join(movers[i].thread, NULL);
		moves += movers[i].moves;
		if (calls)
			*calls += movers[i].calls;
		free(movers[i].pages);
	}
	return moves;
}

static long moves_so_far(struct mover *movers, int nr_movers)
{
	long moves = 0;
	int i;

	/* Racy reads are fine: this only decides when to stop. */
	for (i = 0; i < nr_movers; i++)
		moves += READ_ONCE(movers[i].moves);
	return moves;
}

/* Folios on the unevictable LRU (guest_memfd's are) and isolated ones. */
struct counters {
	long unevictable;
	long isolated;
};

static void read_counters(struct counters *c)
{
	drain_lru_caches();
	if (!access(STAT_REFRESH, W_OK))
		write_file(STAT_REFRESH, "1");
	c->unevictable = read_vmstat("nr_unevictable");
	c->isolated = read_vmstat("nr_isolated_anon") + read_vmstat("nr_isolated_file");
}

/*
 * After the guest_memfd and its VM are gone, its folios must be freed and
 * nothing may stay isolated: the counts must be back where they were.
 */
static void check_no_leak(const struct counters *before)
{
	long slack = access(STAT_REFRESH, W_OK) ? LEAK_SLACK_UNFOLDED : LEAK_SLACK;
	struct counters after;
	double end = now() + LEAK_WAIT_SECONDS;

	do {
		read_counters(&after);
		if (after.isolated <= before->isolated &&
		    after.unevictable <= before->unevictable + slack)
			break;
		usleep(100000);
	} while (now() < end);

	ksft_print_msg("unevictable pages %ld -> %ld, isolated %ld -> %ld (slack %ld)\n",
		       before->unevictable, after.unevictable, before->isolated,
		       after.isolated, slack);
	TEST_ASSERT(after.isolated <= before->isolated &&
		    after.unevictable <= before->unevictable + slack,
		    "%ld unevictable and %ld isolated pages left over (before: %ld, %ld)",
		    after.unevictable, after.isolated, before->unevictable,
		    before->isolated);
}

/* Punch a hole of 1 to 8 pages at a random offset. */
static void punch_hole(struct stress_vm *s)
{
	u64 len = (random() % 8 + 1) * page_size;
	u64 off = random() % (s->g.nr_pages * page_size - len + 1);

	off &= ~(page_size - 1);
	TEST_ASSERT(!fallocate(s->g.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       off, len),
		    "Punching a hole failed, errno = %d", errno);
}

/* Whether every vCPU has checked all its pages at least @n times. */
static bool vcpus_passed(struct stress_vm *s, u64 n)
{
	int i;

	for (i = 0; i < s->nr_vcpus; i++)
		if (READ_ONCE(s->passes[i]) < n)
			return false;
	return true;
}

/*
 * Run the vCPUs while the movers move their pages, until at least
 * @want_moves pages moved and @want_seconds passed, or max_seconds passed.
 * With @min_punches, keep punching holes, at least that many, counted in
 * @punches.  Every vCPU must have checked its pages at least twice (once
 * while they moved, once after).  Returns the moves done.
 */
static long run_concurrently(struct stress_vm *s, int nr_movers, long want_moves,
			     long want_seconds, int min_punches, int *punches,
			     double *secs)
{
	struct vcpu_thread vcpus[MAX_VCPUS];
	struct mover movers[MAX_MOVERS];
	atomic_bool stop_movers_flag = false, stop_vcpus = false;
	double start = now();
	long moves;
	int i;

	for (i = 0; i < s->nr_vcpus; i++) {
		vcpus[i] = (struct vcpu_thread) {
			.s = s, .idx = i, .stop = &stop_vcpus,
		};
		TEST_ASSERT(!pthread_create(&vcpus[i].thread, NULL, vcpu_thread_fn,
					    &vcpus[i]),
			    "pthread_create() failed");
	}
	start_movers(movers, nr_movers, s->g.pages, s->g.nr_pages,
		     &stop_movers_flag);

	/* Under emulation a vCPU can lag far behind the movers: wait for it. */
	while (now() - start < max_seconds &&
	       (moves_so_far(movers, nr_movers) < want_moves ||
		now() - start < want_seconds || !vcpus_passed(s, 2) ||
		(min_punches && *punches < min_punches))) {
		if (min_punches) {
			punch_hole(s);
			(*punches)++;
		}
		usleep(min_punches ? random() % 20000 : 100000);
	}

	atomic_store(&stop_movers_flag, true);
	moves = stop_movers(movers, nr_movers, NULL);
	/* Let the guest check a pass with all pages where they ended up. */
	atomic_store(&stop_vcpus, true);
	for (i = 0; i < s->nr_vcpus; i++)
		pthread_join(vcpus[i].thread, NULL);

	*secs = now() - start;
	TEST_ASSERT(moves >= want_moves,
		    "Only %ld pages moved in %.0f s, wanted %ld", moves, *secs,
		    want_moves);
	for (i = 0; i < s->nr_vcpus; i++)
		TEST_ASSERT(s->passes[i] >= 2, "vCPU %d made only %lu passes", i,
			    s->passes[i]);
	return moves;
}

/* vCPUs write and check all their pages while all pages ping-pong. */
static void test_concurrent(void)
{
	long moves, migrated;
	struct counters before;
	struct stress_vm s;
	double secs;
	u64 passes;

	read_counters(&before);
	migrated = read_vmstat("pgmigrate_success");
	create_vm(&s, MAX_VCPUS, 256, false);
	moves = run_concurrently(&s, MAX_MOVERS, min_moves, min_seconds, 0, NULL,
				 &secs);
	migrated = read_vmstat("pgmigrate_success") - migrated;
	host_check(&s, false);
	passes = s.passes[0] + s.passes[1];
	destroy_vm(&s);
	check_no_leak(&before);

	TEST_ASSERT(migrated >= moves, "Counted %ld moves, but vmstat has only %ld",
		    moves, migrated);
	ksft_print_msg("%ld page moves (pgmigrate_success +%ld) in %.1f s\n",
		       moves, migrated, secs);
	case_pass("%ld moves, %lu guest passes", moves, passes);
}

/* A vCPU hammers 4 pages that keep moving: most accesses fault. */
static void test_fault_race(void)
{
	struct counters before;
	struct stress_vm s;
	double secs;
	long moves;

	read_counters(&before);
	create_vm(&s, 1, 4, false);
	moves = run_concurrently(&s, 1, min_moves / 5, 0, 0, NULL, &secs);
	host_check(&s, false);
	destroy_vm(&s);
	check_no_leak(&before);

	ksft_print_msg("%ld moves of 4 pages in %.1f s\n", moves, secs);
	case_pass("%ld moves, %lu guest passes", moves, s.passes[0]);
}

/* Holes are punched into the pages while they move and the guest writes. */
static void test_punch_hole_race(void)
{
	struct counters before;
	struct stress_vm s;
	int punches = 0;
	double secs;
	long moves;

	read_counters(&before);
	create_vm(&s, 1, 64, true);
	moves = run_concurrently(&s, 1, min_moves / 5, 0, race_iterations,
				 &punches, &secs);
	host_check(&s, true);
	destroy_vm(&s);
	check_no_leak(&before);

	ksft_print_msg("%d holes punched, %ld moves in %.1f s\n", punches,
		       moves, secs);
	case_pass("%d holes, %ld moves", punches, moves);
}

/*
 * The guest_memfd goes away under a mover: the memslot is deleted, the
 * guest_memfd unmapped and closed (in either order), so that the last
 * reference to the file may drop while folios are being migrated.
 */
static void test_close_race(void)
{
	atomic_bool stop = false;
	struct counters before;
	struct mover mover;
	struct stress_vm s;
	long moves = 0, calls = 0;
	int i;

	read_counters(&before);
	for (i = 0; i < race_iterations; i++) {
		create_vm(&s, 1, 64, false);
		atomic_store(&stop, false);
		start_movers(&mover, 1, s.g.pages, s.g.nr_pages, &stop);

		/* Close while the mover is between moves or in one. */
		while (!READ_ONCE(mover.calls))
			usleep(100);
		usleep(random() % 5000);
		delete_gmem_slot(&s);
		if (i % 2) {
			close(s.g.fd);
			kvm_munmap(s.g.mem, s.g.nr_pages * page_size);
		} else {
			kvm_munmap(s.g.mem, s.g.nr_pages * page_size);
			close(s.g.fd);
		}

		atomic_store(&stop, true);
		moves += stop_movers(&mover, 1, &calls);
		free(s.g.pages);
		kvm_vm_free(s.g.vm);
	}
	check_no_leak(&before);

	ksft_print_msg("%ld moves in %ld move_pages() calls\n", moves, calls);
	case_pass("%d munmap()/close() races", race_iterations);
}

/*
 * The memslot is deleted and created again while the pages move, and the
 * guest checks a pass over its pages in between.
 */
static void test_memslot_race(void)
{
	atomic_bool stop = false;
	struct mover movers[MAX_MOVERS];
	struct counters before;
	struct stress_vm s;
	long moves;
	int i;

	read_counters(&before);
	create_vm(&s, 1, 64, false);
	start_movers(movers, MAX_MOVERS, s.g.pages, s.g.nr_pages, &stop);

	for (i = 0; i < race_iterations; i++) {
		TEST_ASSERT(!run_one_pass(&s, 0), "Guest stopped early");
		delete_gmem_slot(&s);
		add_gmem_slot(&s);
	}

	atomic_store(&stop, true);
	moves = stop_movers(movers, MAX_MOVERS, NULL);
	TEST_ASSERT(!run_one_pass(&s, 0), "Guest stopped early");
	host_check(&s, false);
	destroy_vm(&s);
	check_no_leak(&before);

	case_pass("%d memslot deletions, %ld moves", race_iterations, moves);
}

static const struct test_case cases[] = {
	{ "concurrent", test_concurrent },
	{ "fault_race", test_fault_race },
	{ "punch_hole_race", test_punch_hole_race },
	{ "close_race", test_close_race },
	{ "memslot_race", test_memslot_race },
};

static void usage(const char *name)
{
	printf("Usage: %s [-S] [-c CASES] [-m MOVES] [-s SECONDS] [-t SECONDS] [-r ITERATIONS]\n"
	       CASE_USAGE
	       "  -m  page moves the concurrent test must do at least (default %ld)\n"
	       "  -s  seconds the concurrent test runs at least (default %ld)\n"
	       "  -t  seconds after which a test that has not done its moves fails (default %ld)\n"
	       "  -r  iterations of each race (default %d)\n"
	       "cases: concurrent fault_race punch_hole_race close_race memslot_race\n",
	       name, min_moves, min_seconds, max_seconds, race_iterations);
}

static bool option(int opt)
{
	switch (opt) {
	case 'm':
		min_moves = parse_num("gmem_stress", 'm', optarg, 1, 1L << 40);
		break;
	case 's':
		min_seconds = parse_num("gmem_stress", 's', optarg, 0, 86400);
		break;
	case 't':
		max_seconds = parse_num("gmem_stress", 't', optarg, 1, 86400);
		break;
	case 'r':
		race_iterations = parse_num("gmem_stress", 'r', optarg, 1, 1000000);
		break;
	default:
		return false;
	}
	return true;
}

int main(int argc, char *argv[])
{
	const char *skip;
	char why[256];

	parse_options(argc, argv, "m:s:t:r:", option, usage);
	srandom(getpid());
	skip = check_prerequisites(why, sizeof(why));

	/* A case that does not reach its moves fails at max_seconds itself. */
	run_cases(cases, ARRAY_SIZE(cases), max_seconds + 600, skip);
}
