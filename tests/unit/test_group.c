/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The poller over several contexts: three real aio contexts over three
 * temp files for fairness, waits and drains; pipe polls for requests that
 * stay in flight; the seam for a request the kernel never completes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "unit.h"

#define NR_CTX		3
#define BS		4096
#define PER_CTX		8	/* reads a context can take at once */
#define NR_IOCB		(NR_CTX * PER_CTX)
/* linux/aio_abi.h's, which cannot be included next to libaio.h. */
#define IOCB_FLAG_RESFD	(1u << 0)

static struct {
	int fd[NR_CTX];
	char path[NR_CTX][PATH_MAX];
	struct aior_ctx ctx[NR_CTX];
	struct aior_group g;
	struct iocb cb[NR_CTX][PER_CTX];
	uint8_t buf[NR_CTX][PER_CTX][BS];
	bool seen[NR_CTX][PER_CTX];
	int pipe[NR_CTX][2];
	struct iocb poll_cb[NR_CTX];
	bool poll_seen[NR_CTX];
} t;

static void files_setup(void)
{
	int i;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < NR_CTX; i++) {
		t.fd[i] = aior_t_file(t.path[i], PER_CTX * BS);
		t.pipe[i][0] = t.pipe[i][1] = -1;
	}
}

static void files_teardown(void)
{
	int i;

	aior_group_destroy(&t.g);
	for (i = 0; i < NR_CTX; i++) {
		aior_ctx_teardown(&t.ctx[i]);
		aior_t_file_close(t.fd[i], t.path[i]);
		if (t.pipe[i][0] >= 0) {
			close(t.pipe[i][0]);
			close(t.pipe[i][1]);
		}
	}
}

/* The group of the NR_CTX real contexts, in @mode. */
static void group_up(enum aior_wait_mode mode)
{
	int i;

	ck_assert_int_eq(aior_group_init(&t.g, NR_CTX, mode), 0);
	for (i = 0; i < NR_CTX; i++) {
		ck_assert_int_eq(aior_ctx_setup(&t.ctx[i], 32, AIOR_REAP_RING),
				 0);
		ck_assert_int_eq(aior_group_add(&t.g, &t.ctx[i]), 0);
	}
	ck_assert_uint_eq(t.g.nr, NR_CTX);
}

/* @n reads of file @k's blocks 0..n-1 through context @k. */
static void submit_reads(int k, int n)
{
	struct iocb *cbs[PER_CTX];
	int i;

	for (i = 0; i < n; i++) {
		io_prep_pread(&t.cb[k][i], t.fd[k], t.buf[k][i], BS,
			      (long long)i * BS);
		aior_group_prep_iocb(&t.g, &t.cb[k][i]);
		cbs[i] = &t.cb[k][i];
	}
	ck_assert_int_eq(aior_ctx_submit(&t.ctx[k], cbs, n), n);
}

/* A poll of an empty pipe through context @k: in flight until written. */
static void submit_pending(int k)
{
	struct iocb *cbs[1] = { &t.poll_cb[k] };

	ck_assert_int_eq(pipe(t.pipe[k]), 0);
	io_prep_poll(&t.poll_cb[k], t.pipe[k][0], POLLIN);
	aior_group_prep_iocb(&t.g, &t.poll_cb[k]);
	ck_assert_int_eq(aior_ctx_submit(&t.ctx[k], cbs, 1), 1);
}

static void release_pending(int k)
{
	ck_assert_int_eq(write(t.pipe[k][1], "x", 1), 1);
}

/* Which context's request @ev completes; checks read data.  -1: none. */
static int owner(const struct io_event *ev)
{
	int k, i, j;

	for (k = 0; k < NR_CTX; k++) {
		if (ev->obj == &t.poll_cb[k]) {
			ck_assert_msg(!t.poll_seen[k], "poll %d twice", k);
			t.poll_seen[k] = true;
			return k;
		}
		if (ev->obj < t.cb[k] || ev->obj >= t.cb[k] + PER_CTX)
			continue;
		i = (int)(ev->obj - t.cb[k]);
		ck_assert_msg(!t.seen[k][i], "ctx %d read %d twice", k, i);
		t.seen[k][i] = true;
		ck_assert_int_eq((long)ev->res, BS);
		for (j = 0; j < BS; j++)
			if (t.buf[k][i][j] !=
			    aior_t_pattern((uint64_t)i * BS + j))
				ck_abort_msg("ctx %d read %d: byte %d", k, i,
					     j);
		return k;
	}
	ck_abort_msg("event of no request of ours");
	return -1;
}

/* Completions ready in context @k's ring, unreaped. */
static unsigned int ready(int k)
{
	const struct aior_kring *r = (const void *)t.ctx[k].io;
	unsigned int tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	return (tail + r->nr - r->head % r->nr) % r->nr;
}

static void wait_ready(int k, unsigned int n)
{
	uint64_t t0 = aior_now_ns();

	while (ready(k) < n) {
		ck_assert_msg(aior_t_elapsed_ms(t0) < 5000,
			      "ctx %d: %u of %u ready after 5 s", k, ready(k),
			      n);
		usleep(100);
	}
}

/* CPU time this thread has used: a blocking wait must not spin. */
static double thread_cpu_ms(void)
{
	struct rusage ru;

	ck_assert_int_eq(getrusage(RUSAGE_THREAD, &ru), 0);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* A thread that writes to the pipes of some contexts after a delay. */
struct releaser {
	pthread_t thread;
	unsigned int mask;
	unsigned int delay_ms;
};

static void *releaser_main(void *arg)
{
	struct releaser *rel = arg;
	int k;

	usleep(rel->delay_ms * 1000);
	for (k = 0; k < NR_CTX; k++)
		if (rel->mask & (1u << k))
			(void)!write(t.pipe[k][1], "x", 1);
	return NULL;
}

static void releaser_start(struct releaser *rel, unsigned int mask,
			   unsigned int delay_ms)
{
	rel->mask = mask;
	rel->delay_ms = delay_ms;
	ck_assert_int_eq(pthread_create(&rel->thread, NULL, releaser_main,
					rel), 0);
}

static void releaser_join(struct releaser *rel)
{
	ck_assert_int_eq(pthread_join(rel->thread, NULL), 0);
}

/* ---- init ---- */

static const struct init_case {
	unsigned int nr_ctx;
	enum aior_wait_mode mode;
	bool efd;
} init_cases[] = {
	{ 1, AIOR_WAIT_BLOCK, false },
	{ 2, AIOR_WAIT_BLOCK, true },
	{ 3, AIOR_WAIT_BLOCK, true },
	{ 1, AIOR_WAIT_SPIN, false },
	{ 3, AIOR_WAIT_SPIN, false },
};

START_TEST(test_init_eventfd_only_for_blocking_groups)
{
	const struct init_case *tc = &init_cases[_i];
	struct aior_group g;
	char link[64], target[64];
	ssize_t n;
	int efd;

	ck_assert_int_eq(aior_group_init(&g, tc->nr_ctx, tc->mode), 0);
	ck_assert_ptr_nonnull(g.ctx);
	ck_assert_uint_eq(g.nr, 0);
	ck_assert_int_eq(aior_group_inflight(&g), 0);
	if (!tc->efd) {
		ck_assert_int_eq(g.efd, -1);
		aior_group_destroy(&g);
		return;
	}
	ck_assert_int_ge(g.efd, 0);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", g.efd);
	n = readlink(link, target, sizeof(target) - 1);
	ck_assert_int_gt(n, 0);
	target[n] = '\0';
	ck_assert_str_eq(target, "anon_inode:[eventfd]");
	/* The wait drains it without blocking. */
	ck_assert(fcntl(g.efd, F_GETFL) & O_NONBLOCK);

	efd = g.efd;
	aior_group_destroy(&g);
	ck_assert_int_eq(g.efd, -1);
	ck_assert_ptr_null(g.ctx);
	ck_assert_int_eq(fcntl(efd, F_GETFD), -1);
	aior_group_destroy(&g);	/* twice is fine */
}
END_TEST

START_TEST(test_prep_iocb_names_eventfd)
{
	struct iocb cb;
	int efd;

	group_up(AIOR_WAIT_BLOCK);
	io_prep_pread(&cb, t.fd[0], t.buf[0][0], BS, 0);
	aior_group_prep_iocb(&t.g, &cb);
	ck_assert(cb.u.c.flags & IOCB_FLAG_RESFD);
	ck_assert_int_eq((int)cb.u.c.resfd, t.g.efd);

	/* Without an eventfd the iocb stays as it was. */
	efd = t.g.efd;
	t.g.efd = -1;
	io_prep_pread(&cb, t.fd[0], t.buf[0][0], BS, 0);
	aior_group_prep_iocb(&t.g, &cb);
	ck_assert(!(cb.u.c.flags & IOCB_FLAG_RESFD));
	t.g.efd = efd;
}
END_TEST

/* ---- reap ---- */

/*
 * Every context has more ready than @max: each sweep starts one context
 * further, so sweep i is served by context i % 3 and none starves.
 */
START_TEST(test_reap_sweeps_start_round_robin)
{
	struct io_event ev[NR_IOCB];
	unsigned int per[NR_CTX] = { 0 };
	int k, sweep, i, ret;

	group_up(AIOR_WAIT_SPIN);
	for (k = 0; k < NR_CTX; k++) {
		submit_reads(k, PER_CTX);
		wait_ready(k, PER_CTX);
	}
	ck_assert_uint_eq(aior_group_inflight(&t.g), NR_IOCB);

	for (sweep = 0; sweep < 4 * NR_CTX; sweep++) {
		ret = aior_group_reap(&t.g, ev, 2);
		ck_assert_int_eq(ret, 2);
		for (i = 0; i < ret; i++) {
			k = owner(&ev[i]);
			ck_assert_msg(k == sweep % NR_CTX,
				      "sweep %d served by ctx %d", sweep, k);
			per[k]++;
		}
	}
	for (k = 0; k < NR_CTX; k++)
		ck_assert_uint_eq(per[k], 8);
	ck_assert_uint_eq(aior_group_inflight(&t.g), 0);
	ck_assert_int_eq(aior_group_reap(&t.g, ev, NR_IOCB), 0);
}
END_TEST

/* A sweep with room takes from every context, starting at g->next. */
START_TEST(test_reap_sweep_visits_every_context)
{
	struct io_event ev[NR_IOCB];
	int k, i, ret, first;

	group_up(AIOR_WAIT_SPIN);
	t.g.next = 2;
	for (k = 0; k < NR_CTX; k++) {
		submit_reads(k, 2 + k);
		wait_ready(k, 2 + k);
	}
	ret = aior_group_reap(&t.g, ev, NR_IOCB);
	ck_assert_int_eq(ret, 2 + 3 + 4);
	first = owner(&ev[0]);
	ck_assert_int_eq(first, 2);
	for (i = 1; i < ret; i++)
		owner(&ev[i]);
	for (k = 0; k < NR_CTX; k++)
		ck_assert_uint_eq(t.ctx[k].inflight, 0);
	ck_assert_uint_eq(t.g.next, 0);
}
END_TEST

/* ---- wait ---- */

static const enum aior_wait_mode modes[] = { AIOR_WAIT_BLOCK, AIOR_WAIT_SPIN };

START_TEST(test_wait_min_all_returns_all)
{
	struct io_event ev[NR_IOCB];
	int k, i, ret;

	group_up(modes[_i]);
	ck_assert_int_eq(t.g.efd >= 0, modes[_i] == AIOR_WAIT_BLOCK);
	for (k = 0; k < NR_CTX; k++)
		submit_reads(k, PER_CTX);
	ret = aior_group_wait(&t.g, ev, NR_IOCB, NR_IOCB, NULL);
	ck_assert_int_eq(ret, NR_IOCB);
	for (i = 0; i < ret; i++)
		owner(&ev[i]);
	ck_assert_uint_eq(aior_group_inflight(&t.g), 0);
}
END_TEST

/*
 * Requests complete 100 ms after the wait starts: one busy context (the
 * blocking wait sleeps in io_getevents()), two (it sleeps on the
 * eventfd), or spinning.
 */
static const struct sleep_case {
	enum aior_wait_mode mode;
	unsigned int mask;	/* contexts with a pending poll */
} sleep_cases[] = {
	{ AIOR_WAIT_BLOCK, 1u << 1 },
	{ AIOR_WAIT_BLOCK, 1u << 0 | 1u << 2 },
	{ AIOR_WAIT_BLOCK, 7 },
	{ AIOR_WAIT_SPIN, 1u << 1 },
	{ AIOR_WAIT_SPIN, 7 },
};

START_TEST(test_wait_sleeps_until_completion)
{
	const struct sleep_case *tc = &sleep_cases[_i];
	struct io_event ev[NR_IOCB];
	struct releaser rel;
	int k, want = 0, ret, got = 0;
	uint64_t t0;
	double took, cpu;

	group_up(tc->mode);
	for (k = 0; k < NR_CTX; k++)
		if (tc->mask & (1u << k)) {
			submit_pending(k);
			want++;
		}
	/* Something ready too: the wait returns it with the late ones. */
	submit_reads(1, 2);

	t0 = aior_now_ns();
	cpu = thread_cpu_ms();
	releaser_start(&rel, tc->mask, 100);
	ret = aior_group_wait(&t.g, ev, want + 2, NR_IOCB, NULL);
	took = aior_t_elapsed_ms(t0);
	cpu = thread_cpu_ms() - cpu;
	releaser_join(&rel);
	/*
	 * Sleeping, not spinning (the reads already signalled the eventfd:
	 * a wait that did not clear it would spin on it).
	 */
	if (tc->mode == AIOR_WAIT_BLOCK)
		ck_assert_msg(cpu < took / 2, "blocking wait used %.1f ms of "
			      "CPU in %.1f ms", cpu, took);
	ck_assert_int_ge(ret, 1);
	got = ret;
	/*
	 * A blocking wait over one busy context may return once the
	 * io_getevents() it sleeps in has its minimum; collect the rest.
	 */
	while (got < want + 2) {
		ret = aior_group_wait(&t.g, ev + got, want + 2 - got, NR_IOCB,
				      NULL);
		ck_assert_int_gt(ret, 0);
		got += ret;
	}
	ck_assert_int_eq(got, want + 2);
	for (k = 0; k < got; k++)
		owner(&ev[k]);
	for (k = 0; k < NR_CTX; k++)
		ck_assert_int_eq(t.poll_seen[k], !!(tc->mask & (1u << k)));
	ck_assert_msg(took >= 90 && took < 5000, "returned after %.1f ms",
		      took);
	ck_assert_uint_eq(aior_group_inflight(&t.g), 0);
}
END_TEST

/*
 * Two contexts busy, the second completes first: the blocking wait must
 * sleep on both (the eventfd), not on the first one's io_getevents().
 */
START_TEST(test_wait_wakes_for_any_context)
{
	struct timespec ts = { 2, 0 };
	struct io_event ev[4];
	struct releaser rel;
	uint64_t t0;
	double took;

	group_up(AIOR_WAIT_BLOCK);
	submit_pending(0);
	submit_pending(2);
	t0 = aior_now_ns();
	releaser_start(&rel, 1u << 2, 100);
	ck_assert_int_eq(aior_group_wait(&t.g, ev, 1, 4, &ts), 1);
	took = aior_t_elapsed_ms(t0);
	releaser_join(&rel);
	ck_assert_ptr_eq(ev[0].obj, &t.poll_cb[2]);
	ck_assert_msg(took >= 90 && took < 1000, "woke after %.1f ms", took);
	ck_assert_uint_eq(t.ctx[0].inflight, 1);

	release_pending(0);
	ck_assert_int_eq(aior_group_wait(&t.g, ev, 1, 4, &ts), 1);
	ck_assert_ptr_eq(ev[0].obj, &t.poll_cb[0]);
}
END_TEST

START_TEST(test_wait_nothing_in_flight_returns_promptly)
{
	struct timespec ts = { 5, 0 };
	struct io_event ev[4];
	uint64_t t0;

	group_up(modes[_i]);
	t0 = aior_now_ns();
	ck_assert_int_eq(aior_group_wait(&t.g, ev, 4, 4, &ts), 0);
	ck_assert_int_eq(aior_group_wait(&t.g, ev, 4, 4, NULL), 0);
	ck_assert_double_lt(aior_t_elapsed_ms(t0), 100);
}
END_TEST

static const struct timeout_case {
	enum aior_wait_mode mode;
	unsigned int mask;
} timeout_cases[] = {
	{ AIOR_WAIT_BLOCK, 1u << 2 },
	{ AIOR_WAIT_BLOCK, 7 },
	{ AIOR_WAIT_SPIN, 1u << 2 },
	{ AIOR_WAIT_SPIN, 7 },
};

START_TEST(test_wait_times_out_with_requests_pending)
{
	const struct timeout_case *tc = &timeout_cases[_i];
	struct timespec ts = { 0, 100 * 1000000 };
	struct io_event ev[4];
	unsigned int pending = 0;
	uint64_t t0;
	double took, cpu;
	int k;

	group_up(tc->mode);
	for (k = 0; k < NR_CTX; k++)
		if (tc->mask & (1u << k)) {
			submit_pending(k);
			pending++;
		}
	t0 = aior_now_ns();
	cpu = thread_cpu_ms();
	ck_assert_int_eq(aior_group_wait(&t.g, ev, 1, 4, &ts), 0);
	took = aior_t_elapsed_ms(t0);
	cpu = thread_cpu_ms() - cpu;
	ck_assert_msg(took >= 90 && took < 1000, "timed out after %.1f ms",
		      took);
	if (tc->mode == AIOR_WAIT_BLOCK)
		ck_assert_msg(cpu < took / 2, "blocking wait used %.1f ms of "
			      "CPU in %.1f ms", cpu, took);
	ck_assert_uint_eq(aior_group_inflight(&t.g), pending);
}
END_TEST

/* ---- drain ---- */

START_TEST(test_drain_returns_everything_in_flight)
{
	struct io_event ev[NR_IOCB + NR_CTX];
	unsigned int got = 12345, per[NR_CTX] = { 0 };
	struct releaser rel;
	int k, i;

	group_up(modes[_i]);
	for (k = 0; k < NR_CTX; k++)
		submit_reads(k, 3 + 2 * k);
	submit_pending(0);
	submit_pending(2);
	ck_assert_uint_eq(aior_group_inflight(&t.g), 3 + 5 + 7 + 2);

	releaser_start(&rel, 1u << 0 | 1u << 2, 50);
	ck_assert_int_eq(aior_group_drain(&t.g, ev, NR_IOCB + NR_CTX, &got,
					  500 * 1000, 5000000000ull), 0);
	releaser_join(&rel);
	ck_assert_uint_eq(got, 3 + 5 + 7 + 2);
	for (i = 0; i < (int)got; i++)
		per[owner(&ev[i])]++;
	ck_assert_uint_eq(per[0], 3 + 1);
	ck_assert_uint_eq(per[1], 5);
	ck_assert_uint_eq(per[2], 7 + 1);
	ck_assert_uint_eq(aior_group_inflight(&t.g), 0);

	/* Nothing in flight: done at once. */
	ck_assert_int_eq(aior_group_drain(&t.g, ev, 0, &got, 500 * 1000,
					  1000000), 0);
	ck_assert_uint_eq(got, 0);
}
END_TEST

START_TEST(test_drain_refuses_too_small_cap)
{
	struct io_event ev[NR_IOCB];
	unsigned int got = 12345;
	int k;

	group_up(AIOR_WAIT_BLOCK);
	for (k = 0; k < NR_CTX; k++) {
		submit_reads(k, 5);
		wait_ready(k, 5);
	}
	ck_assert_int_eq(aior_group_drain(&t.g, ev, 14, &got, 500 * 1000,
					  1000000000), -ENOSPC);
	ck_assert_uint_eq(got, 0);
	/* Nothing was taken: all 15 are still there for a drain that fits. */
	ck_assert_uint_eq(aior_group_inflight(&t.g), 15);
	ck_assert_int_eq(aior_group_drain(&t.g, ev, 15, &got, 500 * 1000,
					  1000000000), 0);
	ck_assert_uint_eq(got, 15);
}
END_TEST

/* A real request that does not complete in time, then does. */
START_TEST(test_drain_times_out_on_pending_request)
{
	struct io_event ev[NR_IOCB];
	unsigned int got = 12345;
	uint64_t t0;
	double took;

	group_up(modes[_i]);
	submit_reads(1, 4);
	submit_pending(2);
	t0 = aior_now_ns();
	ck_assert_int_eq(aior_group_drain(&t.g, ev, NR_IOCB, &got, 500 * 1000,
					  100 * 1000000), -ETIMEDOUT);
	took = aior_t_elapsed_ms(t0);
	ck_assert_msg(took >= 95 && took < 1000, "gave up after %.1f ms",
		      took);
	ck_assert_uint_eq(got, 4);
	ck_assert_uint_eq(aior_group_inflight(&t.g), 1);

	release_pending(2);
	ck_assert_int_eq(aior_group_drain(&t.g, ev, NR_IOCB, &got, 500 * 1000,
					  5000000000ull), 0);
	ck_assert_uint_eq(got, 1);
	ck_assert_ptr_eq(ev[0].obj, &t.poll_cb[2]);
}
END_TEST

/*
 * The kernel took requests and never completes them (the seam's
 * io_getevents() finds nothing; fabricated rings stay empty): the drain
 * gives up after its timeout with what did complete.
 */
static const struct lost_case {
	unsigned int nr_ctx;
	enum aior_wait_mode mode;
} lost_cases[] = {
	{ 1, AIOR_WAIT_BLOCK },
	{ 2, AIOR_WAIT_BLOCK },
	{ 3, AIOR_WAIT_BLOCK },
	{ 1, AIOR_WAIT_SPIN },
	{ 3, AIOR_WAIT_SPIN },
};

START_TEST(test_drain_times_out_on_lost_request)
{
	const struct lost_case *tc = &lost_cases[_i];
	struct aior_kring *r[NR_CTX];
	struct aior_ctx c[NR_CTX];
	struct aior_group g;
	struct iocb cb[2] = { { 0 } }, *cbs[2] = { &cb[0], &cb[1] };
	struct io_event ev[16];
	unsigned int k, got = 12345, done = 0;
	uint64_t t0;
	double took;

	aior_t_seam_install();
	aior_t_seam.setup_n = 1;
	aior_t_seam.submit_ret[0] = 2;	/* "took both" */
	aior_t_seam.submit_n = 1;
	aior_t_seam.getevents_n = 1;	/* answers 0, after the timeout */
	ck_assert_int_eq(aior_group_init(&g, tc->nr_ctx, tc->mode), 0);
	for (k = 0; k < tc->nr_ctx; k++) {
		r[k] = aior_t_ring_new(8);
		aior_t_seam.setup_ring = r[k];
		ck_assert_int_eq(aior_ctx_setup(&c[k], 8, AIOR_REAP_RING), 0);
		ck_assert_uint_eq(c[k].ring_nr, 8);
		aior_group_add(&g, &c[k]);
		/*
		 * The last of several completes its two, the others lost
		 * theirs: with three, the blocking wait sleeps on the
		 * eventfd (two busy), with two in io_getevents() (one).
		 */
		ck_assert_int_eq(aior_ctx_submit(&c[k], cbs, 2), 2);
		if (k && k == tc->nr_ctx - 1) {
			aior_t_ring_push(r[k], 10 * k, 2);
			done += 2;
		}
	}

	t0 = aior_now_ns();
	ck_assert_int_eq(aior_group_drain(&g, ev, 16, &got, 1000 * 1000,
					  50 * 1000000), -ETIMEDOUT);
	took = aior_t_elapsed_ms(t0);
	ck_assert_msg(took >= 49 && took < 1000, "gave up after %.1f ms",
		      took);
	ck_assert_uint_eq(got, done);
	ck_assert_uint_eq(c[0].inflight, 2);
	ck_assert_uint_eq(aior_group_inflight(&g), 2 * tc->nr_ctx - done);
	for (k = 0; k < got; k++)
		ck_assert(aior_t_event_is(&ev[k], 10 * (tc->nr_ctx - 1) + k));

	aior_group_destroy(&g);
	for (k = 0; k < tc->nr_ctx; k++) {
		aior_ctx_teardown(&c[k]);
		free(r[k]);
	}
	aior_t_seam_remove();
}
END_TEST

static Suite *group_suite(void)
{
	Suite *s = suite_create("group");
	TCase *tc;

	tc = tcase_create("init");
	tcase_add_loop_test(tc, test_init_eventfd_only_for_blocking_groups, 0,
			    sizeof(init_cases) / sizeof(init_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("kernel");
	tcase_set_timeout(tc, 20);
	tcase_add_checked_fixture(tc, files_setup, files_teardown);
	tcase_add_test(tc, test_prep_iocb_names_eventfd);
	tcase_add_test(tc, test_reap_sweeps_start_round_robin);
	tcase_add_test(tc, test_reap_sweep_visits_every_context);
	tcase_add_loop_test(tc, test_wait_min_all_returns_all, 0, 2);
	tcase_add_loop_test(tc, test_wait_sleeps_until_completion, 0,
			    sizeof(sleep_cases) / sizeof(sleep_cases[0]));
	tcase_add_test(tc, test_wait_wakes_for_any_context);
	tcase_add_loop_test(tc, test_wait_nothing_in_flight_returns_promptly,
			    0, 2);
	tcase_add_loop_test(tc, test_wait_times_out_with_requests_pending, 0,
			    sizeof(timeout_cases) / sizeof(timeout_cases[0]));
	tcase_add_loop_test(tc, test_drain_returns_everything_in_flight, 0, 2);
	tcase_add_test(tc, test_drain_refuses_too_small_cap);
	tcase_add_loop_test(tc, test_drain_times_out_on_pending_request, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("seam");
	tcase_set_timeout(tc, 20);
	tcase_add_loop_test(tc, test_drain_times_out_on_lost_request, 0,
			    sizeof(lost_cases) / sizeof(lost_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return aior_t_run(group_suite());
}
