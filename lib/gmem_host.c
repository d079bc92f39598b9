// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side helpers shared by gmem_bench, gmem_systest and gmem_stress; see
 * gmem_host.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "gmem_host.h"
#include "kselftest.h"
#include "numaif.h"

size_t page_size;
int node_a = -1, node_b = -1;
bool strict;

static void __attribute__((constructor)) gmem_host_init(void)
{
	page_size = getpagesize();
}

/* ---- page patterns ---- */

void host_pass(const char *what, u64 *mem, u64 first, u64 end, u64 step,
	       u64 gen, u64 flags)
{
	struct pass_error e = {};
	/* Not in TEST_ASSERT(): its arguments may be read before it runs. */
	bool ok = page_pass(mem, page_size, first, end, step, gen, flags, &e);

	TEST_ASSERT(ok, "%s: page %lu, word %lu: wanted 0x%lx, got 0x%lx",
		    what, e.page, e.word, e.want, e.got);
}

void fill_pages(u64 *mem, u64 nr, u64 gen)
{
	host_pass("fill", mem, 0, nr, 1, gen, PASS_FILL);
}

void check_pages(const char *what, u64 *mem, u64 nr, u64 gen)
{
	host_pass(what, mem, 0, nr, 1, gen, PASS_CHECK);
}

/* ---- a guest_memfd bound to a VM and mapped by the host ---- */

void **page_array(void *mem, u64 nr)
{
	void **pages = calloc(nr, sizeof(void *));
	u64 i;

	TEST_ASSERT(pages, "calloc() failed");
	for (i = 0; i < nr; i++)
		pages[i] = (char *)mem + i * page_size;
	return pages;
}

void gmem_create(struct gmem *g, struct kvm_vm *vm, u64 flags, u64 nr_pages)
{
	size_t size = nr_pages * page_size;

	TEST_ASSERT(vm->page_size == page_size,
		    "Guest pages of %u bytes, host pages of %zu: not supported",
		    vm->page_size, page_size);
	g->vm = vm;
	g->nr_pages = nr_pages;
	g->fd = vm_create_guest_memfd(vm, size, flags);
	vm_set_user_memory_region2(vm, GMEM_SLOT, KVM_MEM_GUEST_MEMFD,
				   GMEM_GPA, size, NULL, g->fd, 0);
	virt_map(vm, GMEM_GPA, GMEM_GPA, nr_pages);
	g->mem = kvm_mmap(size, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd);
	g->pages = page_array(g->mem, nr_pages);
}

void gmem_destroy(struct gmem *g)
{
	kvm_munmap(g->mem, g->nr_pages * page_size);
	free(g->pages);
	close(g->fd);
}

/* ---- NUMA nodes and moves ---- */

/* Whether @node is in the list @list ("0-1,3") of /sys/devices/system/node. */
static bool node_in_list(const char *list, int node)
{
	const char *p = list;
	char *end;
	long lo, hi;

	while (*p) {
		lo = strtol(p, &end, 10);
		hi = *end == '-' ? strtol(end + 1, &end, 10) : lo;
		if (node >= lo && node <= hi)
			return true;
		if (*end != ',')
			break;
		p = end + 1;
	}
	return false;
}

static void read_node_list(const char *name, char *buf, size_t size)
{
	char path[96];

	snprintf(path, sizeof(path), "/sys/devices/system/node/%s", name);
	buf[0] = '\0';
	if (!access(path, R_OK))
		read_file(path, buf, size);
}

static bool node_usable(int node, const char *mem, const char *cpu,
			const unsigned long *allowed)
{
	return node >= 0 && node < MAX_NODES && node_in_list(mem, node) &&
	       node_in_list(cpu, node) && (allowed[node / 64] & BIT_ULL(node % 64));
}

bool pick_nodes(char *why, size_t size)
{
	unsigned long allowed[MAX_NODES / 64] = {};
	char mem[256], cpu[256];
	int node;

	read_node_list("has_memory", mem, sizeof(mem));
	read_node_list("has_cpu", cpu, sizeof(cpu));
	if (is_numa_available() &&
	    get_mempolicy(NULL, allowed, MAX_NODES, NULL, MPOL_F_MEMS_ALLOWED))
		memset(allowed, 0, sizeof(allowed));

	for (node = 0; node < MAX_NODES && (node_a < 0 || node_b < 0); node++) {
		if (!node_usable(node, mem, cpu, allowed) ||
		    node == node_a || node == node_b)
			continue;
		if (node_a < 0)
			node_a = node;
		else
			node_b = node;
	}
	if (!node_usable(node_a, mem, cpu, allowed) ||
	    !node_usable(node_b, mem, cpu, allowed) || node_a == node_b) {
		snprintf(why, size,
			 "needs two nodes with memory and CPUs, not %d, %d (memory: '%s', CPUs: '%s')",
			 node_a, node_b, mem, cpu);
		return false;
	}
	return true;
}

bool has_movable_gmem(void)
{
	struct kvm_vm *vm;
	bool ret;

	if (!kvm_has_cap(KVM_CAP_GUEST_MEMFD) ||
	    !kvm_has_cap(KVM_CAP_GUEST_MEMFD_FLAGS))
		return false;
	vm = vm_create_barebones();
	ret = vm_check_cap(vm, KVM_CAP_GUEST_MEMFD_FLAGS) & GUEST_MEMFD_FLAG_MOVABLE;
	kvm_vm_free(vm);
	return ret;
}

const char *check_prerequisites(char *why, size_t size)
{
	if (access("/dev/kvm", R_OK | W_OK))
		return "no usable /dev/kvm";
	if (!has_movable_gmem())
		return "no GUEST_MEMFD_FLAG_MOVABLE in this kernel";
	if (!pick_nodes(why, size))
		return why;
	return NULL;
}

/* Run @vcpu to its next ucall, which must be @cmd; its argument if a sync. */
static void run_to(struct kvm_vcpu *vcpu, u64 cmd, u64 want)
{
	struct ucall uc;

	vcpu_run(vcpu);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT(cmd == UCALL_SYNC, "Guest synced %lu, wanted it done",
			    uc.args[1]);
		TEST_ASSERT(uc.args[1] == want, "Guest synced %lu, wanted %lu",
			    uc.args[1], want);
		break;
	case UCALL_DONE:
		TEST_ASSERT(cmd == UCALL_DONE, "Guest done, wanted sync %lu", want);
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		TEST_FAIL("Unexpected ucall %lu", uc.cmd);
	}
}

void run_to_sync(struct kvm_vcpu *vcpu, u64 want)
{
	run_to(vcpu, UCALL_SYNC, want);
}

void run_to_done(struct kvm_vcpu *vcpu)
{
	run_to(vcpu, UCALL_DONE, 0);
}

void bind_to_node(void *mem, size_t size, int node)
{
	unsigned long mask[MAX_NODES / 64] = {};

	mask[node / 64] = BIT_ULL(node % 64);
	TEST_ASSERT(!mbind(mem, size, MPOL_BIND, mask, MAX_NODES, 0),
		    "mbind() to node %d failed, errno = %d (%s)", node, errno,
		    strerror(errno));
}

void get_nodes(void **pages, int *nodes, u64 nr)
{
	TEST_ASSERT(!move_pages(0, nr, pages, NULL, nodes, 0),
		    "move_pages() query failed, errno = %d", errno);
}

int count_on_node(void **pages, u64 nr, int node)
{
	int *nodes = calloc(nr, sizeof(int)), count = 0;
	u64 i;

	TEST_ASSERT(nodes, "calloc() failed");
	get_nodes(pages, nodes, nr);
	for (i = 0; i < nr; i++)
		count += nodes[i] == node;
	free(nodes);
	return count;
}

void get_other_nodes(void **pages, int *others, u64 nr)
{
	u64 i;

	get_nodes(pages, others, nr);
	for (i = 0; i < nr; i++)
		others[i] = others[i] == node_a ? node_b : node_a;
}

u64 move_to_nodes(void **pages, const int *targets, u64 nr, int tries,
		  int *calls, long *last_ret)
{
	int *want = malloc(nr * sizeof(int)), *status = malloc(nr * sizeof(int));
	void **left = malloc(nr * sizeof(void *));
	u64 i, n, nr_left = nr;
	int ncalls = 0;
	long ret = 0;

	TEST_ASSERT(want && status && left, "malloc() failed");
	memcpy(left, pages, nr * sizeof(void *));
	memcpy(want, targets, nr * sizeof(int));

	while (nr_left && ncalls < tries) {
		ncalls++;
		ret = move_pages(0, nr_left, left, want, status, MPOL_MF_MOVE);
		TEST_ASSERT(ret >= 0, "move_pages() failed, errno = %d (%s)",
			    errno, strerror(errno));
		/* The status of pages that failed is not always a node. */
		get_nodes(left, status, nr_left);
		for (i = 0, n = 0; i < nr_left; i++) {
			TEST_ASSERT(status[i] >= 0, "Page %p: status %d (not mapped?)",
				    left[i], status[i]);
			if (status[i] != want[i]) {
				left[n] = left[i];
				want[n++] = want[i];
			}
		}
		nr_left = n;
	}

	if (calls)
		*calls = ncalls;
	if (last_ret)
		*last_ret = ret;
	free(left);
	free(status);
	free(want);
	return nr_left;
}

int move_all(void **pages, u64 nr, int node)
{
	int *targets = malloc(nr * sizeof(int)), calls;
	u64 i, left;

	TEST_ASSERT(targets, "malloc() failed");
	for (i = 0; i < nr; i++)
		targets[i] = node;
	left = move_to_nodes(pages, targets, nr, MOVE_TRIES, &calls, NULL);
	TEST_ASSERT(!left, "%lu of %lu pages not moved to node %d after %d tries",
		    left, nr, node, calls);
	free(targets);
	return calls;
}

void drain_lru_caches(void)
{
	int node = 0;

	/* do_pages_move() drains all CPUs' caches before it looks at pages. */
	TEST_ASSERT(!move_pages(0, 0, NULL, &node, NULL, 0),
		    "move_pages() of no page failed, errno = %d", errno);
}

/* ---- statistics ---- */

int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- PFNs and /proc ---- */

u64 page_pfn(void *addr)
{
	u64 entry;

	READ_ONCE(*(u64 *)addr);
	entry = read_u64_at("/proc/self/pagemap",
			    (unsigned long)addr / page_size * sizeof(u64));
	TEST_ASSERT(entry & BIT_ULL(63), "Page at %p is not present", addr);
	TEST_ASSERT(entry & GENMASK_ULL(54, 0),
		    "No PFN in /proc/self/pagemap (needs CAP_SYS_ADMIN)");
	return entry & GENMASK_ULL(54, 0);
}

void get_pfns(void **pages, u64 *pfns, u64 nr)
{
	u64 i;

	for (i = 0; i < nr; i++)
		pfns[i] = page_pfn(pages[i]);
}

bool page_present(void *addr)
{
	return read_u64_at("/proc/self/pagemap",
			   (unsigned long)addr / page_size * sizeof(u64)) &
	       BIT_ULL(63);
}

void probe_pfns(struct gmem *g, u64 *pfns, u64 nr)
{
	size_t size = nr * page_size;
	void **pages;
	void *probe;

	probe = kvm_mmap(size, PROT_READ, MAP_SHARED, g->fd);
	pages = page_array(probe, nr);
	get_pfns(pages, pfns, nr);
	free(pages);
	kvm_munmap(probe, size);
}

u64 count_changed(const u64 *before, const u64 *after, u64 nr)
{
	u64 i, changed = 0;

	for (i = 0; i < nr; i++)
		changed += before[i] != after[i];
	return changed;
}

u64 pfn_flags(u64 pfn)
{
	return read_u64_at("/proc/kpageflags", pfn * sizeof(u64));
}

long read_vmstat(const char *name)
{
	size_t len = strlen(name);
	char line[128];
	long val = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	TEST_ASSERT(f, "Cannot open /proc/vmstat");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ' ')
			val = atol(line + len + 1);
	fclose(f);
	TEST_ASSERT(val >= 0, "No %s in /proc/vmstat", name);
	return val;
}

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- procfs and sysfs files ---- */

int try_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, val, strlen(val)) != strlen(val))
		err = errno;
	close(fd);
	return err;
}

void write_file(const char *path, const char *val)
{
	int err = try_write_file(path, val);

	TEST_ASSERT(!err, "Writing '%s' to %s failed, errno = %d (%s)", val,
		    path, err, strerror(err));
}

int write_file_timeout(const char *path, const char *val, double timeout)
{
	double end = now() + timeout;
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork() failed, errno = %d", errno);
	if (!pid)
		_exit(try_write_file(path, val));

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now() > end) {
			kill(pid, SIGKILL);
			TEST_ASSERT(waitpid(pid, &status, 0) == pid,
				    "waitpid() failed, errno = %d", errno);
			return -ETIMEDOUT;
		}
		usleep(10000);
	}
	TEST_ASSERT(WIFEXITED(status), "The child writing %s died", path);
	return -WEXITSTATUS(status);
}

void read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t len;

	TEST_ASSERT(fd >= 0, "open(%s) failed, errno = %d", path, errno);
	len = read(fd, buf, size - 1);
	TEST_ASSERT(len > 0, "Reading %s failed, errno = %d", path, errno);
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	close(fd);
}

u64 read_u64(const char *path)
{
	char buf[64], *end;
	u64 val;

	read_file(path, buf, sizeof(buf));
	errno = 0;
	val = strtoull(buf, &end, 10);
	TEST_ASSERT(!errno && end != buf, "%s holds '%s', not a number", path, buf);
	return val;
}

u64 read_u64_at(const char *path, off_t offset)
{
	int fd = open(path, O_RDONLY);
	u64 val;

	TEST_ASSERT(fd >= 0, "open(%s) failed, errno = %d", path, errno);
	TEST_ASSERT(pread(fd, &val, sizeof(val), offset) == sizeof(val),
		    "Reading %s failed, errno = %d", path, errno);
	close(fd);
	return val;
}

/* ---- memory blocks ---- */

u64 memory_block_size(void)
{
	char buf[64];
	u64 size;

	read_file("/sys/devices/system/memory/block_size_bytes", buf, sizeof(buf));
	size = strtoull(buf, NULL, 16);
	TEST_ASSERT(size >= page_size, "Bad memory block size '%s'", buf);
	return size;
}

static void block_path(char *path, size_t size, u64 block)
{
	snprintf(path, size, "/sys/devices/system/memory/memory%lu/state", block);
}

void block_state(u64 block, char *buf, size_t size)
{
	char path[96];

	block_path(path, sizeof(path), block);
	read_file(path, buf, size);
}

int set_block_state(u64 block, const char *state)
{
	char path[96];

	block_path(path, sizeof(path), block);
	return try_write_file(path, state);
}

int offline_block(u64 block, double timeout)
{
	char path[96], state[32];
	int ret;

	block_path(path, sizeof(path), block);
	ret = write_file_timeout(path, "offline", timeout);
	if (ret == -ETIMEDOUT) {
		block_state(block, state, sizeof(state));
		if (!strcmp(state, "offline"))
			ret = 0;
	}
	return ret;
}

/* ---- settings restored when a case ends, however it ends ---- */

#define MAX_RESTORE	32

/*
 * Shared with the runner's children: what to restore, and the result of
 * the case that runs.  A case notes what it changes; the note is carried out
 * at its exit, or by the runner if the case was killed.
 */
struct shared_state {
	int nr_restore;
	int restore_failed;
	struct {
		char path[160];
		char val[32];
		u64 block;	/* if path is empty: a memory block */
	} restore[MAX_RESTORE];
	int result;
	bool not_applicable;	/* a skip that strict does not fail */
	char msg[512];
};

static struct shared_state *shared;
static pid_t atexit_pid;

static struct shared_state *get_shared(void)
{
	if (!shared) {
		shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		TEST_ASSERT(shared != MAP_FAILED, "mmap() failed, errno = %d", errno);
		shared->result = -1;
	}
	return shared;
}

static void restore_note(const char *path, const char *val, u64 block)
{
	struct shared_state *s = get_shared();

	TEST_ASSERT(s->nr_restore < MAX_RESTORE, "Too many settings to restore");
	snprintf(s->restore[s->nr_restore].path, sizeof(s->restore[0].path),
		 "%s", path);
	snprintf(s->restore[s->nr_restore].val, sizeof(s->restore[0].val),
		 "%s", val);
	s->restore[s->nr_restore].block = block;
	s->nr_restore++;
	if (atexit_pid != getpid()) {
		atexit_pid = getpid();
		atexit(restore_all);
	}
}

void restore_later(const char *path, const char *val)
{
	restore_note(path, val, 0);
}

void restore_block_later(u64 block, const char *how)
{
	restore_note("", how, block);
}

void write_restored(const char *path, const char *val)
{
	char old[32];

	read_file(path, old, sizeof(old));
	restore_later(path, old);
	write_file(path, val);
}

static int restore_block(u64 block, const char *how)
{
	char state[32];
	int ret = 0;

	block_state(block, state, sizeof(state));
	if (strcmp(state, "offline"))
		ret = offline_block(block, 60);
	return ret ? ret : -set_block_state(block, how);
}

void restore_all(void)
{
	struct shared_state *s = get_shared();
	int i, ret;

	while (s->nr_restore) {
		i = --s->nr_restore;
		if (s->restore[i].path[0])
			ret = write_file_timeout(s->restore[i].path,
						 s->restore[i].val, 60);
		else
			ret = restore_block(s->restore[i].block, s->restore[i].val);
		if (!ret)
			continue;
		s->restore_failed++;
		if (s->restore[i].path[0])
			ksft_print_msg("Restoring %s to '%s' failed: %s\n",
				       s->restore[i].path, s->restore[i].val,
				       strerror(-ret));
		else
			ksft_print_msg("Restoring memory block %lu (%s) failed: %s\n",
				       s->restore[i].block, s->restore[i].val,
				       strerror(-ret));
	}
}

/* ---- test cases ---- */

/* The child running a case, for the signal handler. */
static pid_t case_pid;

static void set_result(int result, const char *fmt, va_list ap)
{
	struct shared_state *s = get_shared();

	vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
	s->result = result;
}

void case_pass(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_result(KSFT_PASS, fmt, ap);
	va_end(ap);
}

void case_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_result(KSFT_SKIP, fmt, ap);
	va_end(ap);
	exit(0);
}

void case_not_applicable(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_result(KSFT_SKIP, fmt, ap);
	va_end(ap);
	get_shared()->not_applicable = true;
	exit(0);
}

static void report_skip(const char *name, const char *why)
{
	if (strict && !get_shared()->not_applicable)
		ksft_test_result_fail("%s: %s (missing prerequisite, -S)\n", name, why);
	else
		ksft_test_result_code(KSFT_SKIP, name, "%s", why);
}

/* The runner got SIGTERM or SIGINT: stop the case, restore, and go. */
static void on_signal(int sig)
{
	pid_t pid = READ_ONCE(case_pid);

	if (pid > 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	restore_all();
	ksft_print_msg("Killed by signal %d\n", sig);
	_exit(KSFT_FAIL);
}

static void run_one(const struct test_case *c, int timeout)
{
	struct shared_state *s = get_shared();
	double start = now(), end = start + timeout;
	int status = 0, sig = 0;
	bool timed_out = false;
	pid_t pid;

	s->result = -1;
	s->not_applicable = false;
	s->msg[0] = '\0';
	s->restore_failed = 0;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork() failed, errno = %d", errno);
	if (!pid) {
		setpgid(0, 0);
		/* TEST_ASSERT() takes a failure with errno EACCES for a skip. */
		errno = 0;
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		c->fn();
		if (s->result < 0) {
			fprintf(stderr, "%s: returned without a result\n", c->name);
			exit(KSFT_FAIL);
		}
		exit(0);
	}
	setpgid(pid, pid);
	WRITE_ONCE(case_pid, pid);

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now() > end) {
			timed_out = true;
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(20000);
	}
	/* A killed case's helpers (offlining children) go with it. */
	kill(-pid, SIGKILL);
	WRITE_ONCE(case_pid, 0);
	restore_all();
	ksft_print_msg("%s: %.0f s\n", c->name, now() - start);

	if (WIFSIGNALED(status))
		sig = WTERMSIG(status);
	if (timed_out)
		ksft_test_result_fail("%s: timed out after %d s\n", c->name, timeout);
	else if (sig)
		ksft_test_result_fail("%s: killed by signal %d\n", c->name, sig);
	else if (s->restore_failed)
		ksft_test_result_fail("%s: %d settings not restored, see above\n",
				      c->name, s->restore_failed);
	else if (WEXITSTATUS(status) == KSFT_SKIP && s->result < 0)
		report_skip(c->name, "exited with KSFT_SKIP, see its output");
	else if (WEXITSTATUS(status) || s->result < 0)
		ksft_test_result_fail("%s: exited with %d, see the assertion above\n",
				      c->name, WEXITSTATUS(status));
	else if (s->result == KSFT_SKIP)
		report_skip(c->name, s->msg);
	else
		ksft_test_result_pass("%s: %s\n", c->name, s->msg);
}

/* Exit if a word of the comma-separated @only names no case. */
static void check_case_names(const struct test_case *cases, int nr,
			     const char *only)
{
	char *copy = strdup(only), *tok, *save;
	int i;

	TEST_ASSERT(copy, "strdup() failed");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < nr && strcmp(cases[i].name, tok); i++)
			;
		if (i == nr) {
			fprintf(stderr, "No case '%s'; the cases are:", tok);
			for (i = 0; i < nr; i++)
				fprintf(stderr, " %s", cases[i].name);
			fprintf(stderr, "\n");
			exit(KSFT_FAIL);
		}
	}
	free(copy);
}

static const char *only;


void run_cases(const struct test_case *cases, int nr, int timeout,
	       const char *skip_all)
{
	int i, plan = 0;

	if (only)
		check_case_names(cases, nr, only);
	for (i = 0; i < nr; i++)
		plan += !only || list_has(only, cases[i].name);

	setvbuf(stdout, NULL, _IOLBF, 0);
	get_shared();
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	ksft_print_header();
	ksft_set_plan(plan);
	if (!skip_all && node_a >= 0)
		ksft_print_msg("nodes %d and %d, page size %zu\n", node_a, node_b,
			       page_size);
	for (i = 0; i < nr; i++) {
		if (only && !list_has(only, cases[i].name))
			continue;
		if (skip_all)
			report_skip(cases[i].name, skip_all);
		else
			run_one(&cases[i], timeout);
	}
	ksft_finished();
}

/* ---- options ---- */

unsigned long parse_num(const char *prog, char opt, const char *arg,
			unsigned long min, unsigned long max)
{
	unsigned long val;
	char *end;

	errno = 0;
	val = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || val < min || val > max) {
		fprintf(stderr, "%s: -%c wants a number from %lu to %lu, not '%s'\n",
			prog, opt, min, max, arg);
		exit(KSFT_FAIL);
	}
	return val;
}

bool list_has(const char *list, const char *word)
{
	size_t len = strlen(word);
	const char *p;

	for (p = list; (p = strstr(p, word)); p += len)
		if ((p == list || p[-1] == ',') && (!p[len] || p[len] == ','))
			return true;
	return false;
}

void no_more_args(int argc, char *argv[], void (*usage)(const char *))
{
	if (optind >= argc)
		return;
	fprintf(stderr, "%s: unexpected argument '%s'\n",
		program_invocation_short_name, argv[optind]);
	usage(argv[0]);
	exit(KSFT_FAIL);
}

void parse_options(int argc, char *argv[], const char *optstring,
		   bool (*option)(int opt), void (*usage)(const char *))
{
	char opts[64];
	int opt;

	snprintf(opts, sizeof(opts), "Sc:h%s", optstring);
	while ((opt = getopt(argc, argv, opts)) != -1) {
		if (opt == 'S')
			strict = true;
		else if (opt == 'c')
			only = optarg;
		else if (opt == 'h' || opt == '?' || !option(opt)) {
			usage(argv[0]);
			exit(opt == 'h' ? 0 : KSFT_FAIL);
		}
	}
	no_more_args(argc, argv, usage);
}
