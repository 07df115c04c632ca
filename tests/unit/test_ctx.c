/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One aio context: against the real kernel (reads of a temp file, polls
 * of a pipe that stay in flight until written), then through the aior_sys
 * seam for the kernel's answers a test cannot provoke (EAGAIN, partial
 * acceptance, EINTR, a ring that goes bad after setup).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#define BS		4096
#define NR_READS	8

/* The temp file of the "kernel" test cases. */
static int tfd = -1;
static char tpath[PATH_MAX];

static void file_setup(void)
{
	tfd = aior_t_file(tpath, NR_READS * BS);
}

static void file_teardown(void)
{
	aior_t_file_close(tfd, tpath);
	tfd = -1;
}

struct reads {
	struct iocb cb[NR_READS];
	struct iocb *cbs[NR_READS];
	uint8_t buf[NR_READS][BS];
	bool seen[NR_READS];
};

/* @n preads of block i into buf[i]. */
static void reads_prep(struct reads *rd, int n)
{
	int i;

	memset(rd, 0, sizeof(*rd));
	for (i = 0; i < n; i++) {
		io_prep_pread(&rd->cb[i], tfd, rd->buf[i], BS,
			      (long long)i * BS);
		rd->cbs[i] = &rd->cb[i];
	}
}

/* Each event is one of our reads, complete, seen once, with the data. */
static void reads_verify(struct reads *rd, const struct io_event *ev, int n)
{
	int k, j;

	for (k = 0; k < n; k++) {
		long i = ev[k].obj - rd->cb;

		ck_assert_msg(i >= 0 && i < NR_READS, "event %d: foreign obj",
			      k);
		ck_assert_msg(!rd->seen[i], "read %ld completed twice", i);
		rd->seen[i] = true;
		ck_assert_int_eq((long)ev[k].res, BS);
		ck_assert_int_eq((long)ev[k].res2, 0);
		for (j = 0; j < BS; j++)
			if (rd->buf[i][j] !=
			    aior_t_pattern((uint64_t)i * BS + j))
				ck_abort_msg("read %ld: byte %d differs", i, j);
	}
}

/* Reap (non-blocking) until @n completions, failing after 5 s. */
static int reap_all(struct aior_ctx *c, struct io_event *ev, int n,
		    unsigned int max)
{
	uint64_t t0 = aior_now_ns();
	int got = 0, ret;

	while (got < n) {
		ret = aior_ctx_reap(c, ev + got, max);
		ck_assert_int_ge(ret, 0);
		ck_assert_uint_le((unsigned int)ret, max);
		got += ret;
		ck_assert_msg(aior_t_elapsed_ms(t0) < 5000,
			      "only %d of %d completions in 5 s", got, n);
		if (!ret)
			usleep(100);
	}
	return got;
}

/* ---- the real kernel ---- */

static const unsigned int depths[] = { 1, 4, 16, 128, 1000 };

START_TEST(test_setup_ring_covers_depth)
{
	struct aior_ctx c;
	unsigned int nr = 0;

	ck_assert_int_eq(aior_ctx_setup(&c, depths[_i], AIOR_REAP_RING), 0);
	ck_assert_ptr_nonnull((void *)c.io);
	ck_assert_uint_ne(c.ring_nr, 0);
	ck_assert_uint_ge(c.ring_nr, depths[_i]);
	/* ring_nr is what the kernel's header says. */
	ck_assert_int_eq(aior_ring_check(c.io, &nr), 0);
	ck_assert_uint_eq(c.ring_nr, nr);
	ck_assert_uint_eq(c.inflight, 0);
	aior_ctx_teardown(&c);
	ck_assert_ptr_null((void *)c.io);
	ck_assert_uint_eq(c.ring_nr, 0);
}
END_TEST

START_TEST(test_setup_refuses_depth_zero)
{
	struct aior_ctx c;

	ck_assert_int_eq(aior_ctx_setup(&c, 0, AIOR_REAP_RING), -EINVAL);
	ck_assert_ptr_null((void *)c.io);
	aior_ctx_teardown(&c);
}
END_TEST

START_TEST(test_reap_ring_returns_real_reads)
{
	static struct reads rd;
	struct io_event ev[NR_READS];
	struct aior_ctx c;

	ck_assert_int_eq(aior_ctx_setup(&c, 16, AIOR_REAP_RING), 0);
	reads_prep(&rd, NR_READS);
	ck_assert_int_eq(aior_ctx_submit(&c, rd.cbs, NR_READS), NR_READS);
	ck_assert_uint_eq(c.inflight, NR_READS);
	ck_assert_uint_eq(c.st.submitted, NR_READS);
	ck_assert_uint_eq(c.st.submit_calls, 1);

	/* Odd batches, so the copies start mid-way. */
	reads_verify(&rd, ev, reap_all(&c, ev, NR_READS, 3));
	ck_assert_uint_eq(c.inflight, 0);
	ck_assert_uint_eq(c.st.reaped_ring, NR_READS);
	ck_assert_uint_eq(c.st.reaped_syscall, 0);
	ck_assert_uint_eq(c.st.getevents_calls, 0);
	ck_assert_uint_eq(c.st.ring_fallbacks, 0);
	/* Nothing in flight: nothing more, and no syscall to learn it. */
	ck_assert_int_eq(aior_ctx_reap(&c, ev, NR_READS), 0);
	ck_assert_uint_eq(c.st.getevents_calls, 0);
	aior_ctx_teardown(&c);
}
END_TEST

START_TEST(test_reap_syscall_mode_uses_io_getevents)
{
	static struct reads rd;
	struct io_event ev[NR_READS];
	struct aior_ctx c;

	ck_assert_int_eq(aior_ctx_setup(&c, 16, AIOR_REAP_SYSCALL), 0);
	ck_assert_uint_eq(c.ring_nr, 0);
	reads_prep(&rd, NR_READS);
	ck_assert_int_eq(aior_ctx_submit(&c, rd.cbs, NR_READS), NR_READS);
	reads_verify(&rd, ev, reap_all(&c, ev, NR_READS, NR_READS));
	ck_assert_uint_eq(c.inflight, 0);
	ck_assert_uint_eq(c.st.reaped_syscall, NR_READS);
	ck_assert_uint_eq(c.st.reaped_ring, 0);
	ck_assert_uint_ge(c.st.getevents_calls, 1);
	aior_ctx_teardown(&c);
}
END_TEST

/*
 * Four reads reaped through the ring are gone from the kernel's count:
 * wait(min=4) must not ask io_getevents() for four more and sleep forever.
 */
START_TEST(test_wait_after_ring_reap_returns_at_once)
{
	static struct reads rd;
	struct io_event ev[NR_READS];
	struct aior_ctx c;
	uint64_t t0;

	ck_assert_int_eq(aior_ctx_setup(&c, 16, AIOR_REAP_RING), 0);
	reads_prep(&rd, 4);
	ck_assert_int_eq(aior_ctx_submit(&c, rd.cbs, 4), 4);
	reads_verify(&rd, ev, reap_all(&c, ev, 4, NR_READS));
	ck_assert_uint_eq(c.st.reaped_ring, 4);

	t0 = aior_now_ns();
	ck_assert_int_eq(aior_ctx_wait(&c, ev, 4, NR_READS, NULL), 0);
	ck_assert_double_lt(aior_t_elapsed_ms(t0), 100);
	ck_assert_uint_eq(c.st.getevents_calls, 0);
	aior_ctx_teardown(&c);
}
END_TEST

START_TEST(test_wait_returns_min_real_reads)
{
	static struct reads rd;
	struct io_event ev[NR_READS];
	struct aior_ctx c;
	int got;

	ck_assert_int_eq(aior_ctx_setup(&c, 16, _i ? AIOR_REAP_SYSCALL :
					AIOR_REAP_RING), 0);
	reads_prep(&rd, NR_READS);
	ck_assert_int_eq(aior_ctx_submit(&c, rd.cbs, NR_READS), NR_READS);
	got = aior_ctx_wait(&c, ev, NR_READS, NR_READS, NULL);
	ck_assert_int_eq(got, NR_READS);
	reads_verify(&rd, ev, got);
	ck_assert_uint_eq(c.inflight, 0);
	ck_assert_uint_eq(c.st.reaped_ring + c.st.reaped_syscall, NR_READS);
	aior_ctx_teardown(&c);
}
END_TEST

/* A poll of an empty pipe: in flight until the pipe is written. */
struct pending {
	int pipe[2];
	struct iocb cb;
	struct iocb *cbs[1];
};

static void pending_submit(struct aior_ctx *c, struct pending *p)
{
	ck_assert_int_eq(pipe(p->pipe), 0);
	io_prep_poll(&p->cb, p->pipe[0], POLLIN);
	p->cbs[0] = &p->cb;
	ck_assert_int_eq(aior_ctx_submit(c, p->cbs, 1), 1);
}

static void pending_release(struct pending *p)
{
	ck_assert_int_eq(write(p->pipe[1], "x", 1), 1);
}

static void pending_close(struct pending *p)
{
	close(p->pipe[0]);
	close(p->pipe[1]);
}

/*
 * Buffered reads of a file complete inside io_submit(): the ring's tail
 * has moved on by the time the call returns, every call counts as inline
 * and the ring says how many wait.  A poll of an empty pipe stays in
 * flight: that call is not inline and the streak starts again.
 */
START_TEST(test_submit_tells_inline_completion)
{
	static struct reads rd;
	struct io_event ev[NR_READS];
	struct pending p;
	struct aior_ctx c;
	int i;

	ck_assert_int_eq(aior_ctx_setup(&c, 16, AIOR_REAP_RING), 0);
	ck_assert_uint_ne(c.ring_nr, 0);
	ck_assert_uint_eq(aior_ctx_ready(&c), 0);
	reads_prep(&rd, 4);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(aior_ctx_submit(&c, &rd.cbs[i], 1), 1);
		ck_assert_uint_eq(c.inline_streak, i + 1);
		ck_assert_uint_eq(aior_ctx_ready(&c), i + 1);
	}
	ck_assert_uint_eq(c.st.inline_submits, 4);

	pending_submit(&c, &p);
	ck_assert_uint_eq(c.inline_streak, 0);
	ck_assert_uint_eq(c.st.inline_submits, 4);
	ck_assert_uint_eq(aior_ctx_ready(&c), 4);

	reads_verify(&rd, ev, reap_all(&c, ev, 4, 4));
	ck_assert_uint_eq(aior_ctx_ready(&c), 0);
	pending_release(&p);
	ck_assert_int_eq(aior_ctx_wait(&c, ev, 1, NR_READS, NULL), 1);
	ck_assert_ptr_eq(ev[0].obj, &p.cb);
	pending_close(&p);
	aior_ctx_teardown(&c);
}
END_TEST

/*
 * watch_below: only calls of fewer iocbs are watched.  A larger one,
 * inline or not, leaves the streak, the inline count and what is known
 * to be ready as they were (still a lower bound); 0 watches nothing.
 */
START_TEST(test_submit_watches_only_below_watch_below)
{
	static struct reads rd;
	struct io_event ev[NR_READS];
	struct aior_ctx c;

	ck_assert_int_eq(aior_ctx_setup(&c, 16, AIOR_REAP_RING), 0);
	ck_assert_uint_ne(c.ring_nr, 0);
	c.watch_below = 2;
	reads_prep(&rd, 5);

	ck_assert_int_eq(aior_ctx_submit(&c, &rd.cbs[0], 1), 1);
	ck_assert_uint_eq(c.inline_streak, 1);
	ck_assert_uint_eq(aior_ctx_known_ready(&c), 1);

	ck_assert_int_eq(aior_ctx_submit(&c, &rd.cbs[1], 2), 2);
	ck_assert_uint_eq(c.inline_streak, 1);
	ck_assert_uint_eq(c.st.inline_submits, 1);
	ck_assert_uint_eq(aior_ctx_known_ready(&c), 1);
	ck_assert_uint_eq(aior_ctx_ready_read(&c), 3);

	ck_assert_int_eq(aior_ctx_submit(&c, &rd.cbs[3], 1), 1);
	ck_assert_uint_eq(c.inline_streak, 2);
	ck_assert_uint_eq(c.st.inline_submits, 2);

	c.watch_below = 0;
	ck_assert_int_eq(aior_ctx_submit(&c, &rd.cbs[4], 1), 1);
	ck_assert_uint_eq(c.inline_streak, 2);
	ck_assert_uint_eq(c.st.inline_submits, 2);
	ck_assert_uint_eq(c.st.submit_calls, 4);

	reads_verify(&rd, ev, reap_all(&c, ev, 5, NR_READS));
	aior_ctx_teardown(&c);
}
END_TEST

static const long timeouts_ms[] = { 0, 30, 150 };

START_TEST(test_wait_honours_timeout)
{
	const long ms = timeouts_ms[_i];
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	struct io_event ev[4];
	struct pending p;
	struct aior_ctx c;
	uint64_t t0;
	double took;

	ck_assert_int_eq(aior_ctx_setup(&c, 16, AIOR_REAP_RING), 0);
	pending_submit(&c, &p);

	t0 = aior_now_ns();
	ck_assert_int_eq(aior_ctx_wait(&c, ev, 1, 4, &ts), 0);
	took = aior_t_elapsed_ms(t0);
	ck_assert_msg(took >= ms * 0.9 && took < ms + 500,
		      "timeout %ld ms took %.1f ms", ms, took);
	ck_assert_uint_eq(c.inflight, 1);

	pending_release(&p);
	ck_assert_int_eq(aior_ctx_wait(&c, ev, 1, 4, NULL), 1);
	ck_assert_ptr_eq(ev[0].obj, &p.cb);
	ck_assert_uint_eq(c.inflight, 0);
	aior_ctx_teardown(&c);
	pending_close(&p);
}
END_TEST

/* Some ready, one late: wait(min=all) returns both kinds, counted once. */
START_TEST(test_wait_adds_ring_and_syscall_completions)
{
	static struct reads rd;
	struct io_event ev[NR_READS + 1];
	struct timespec ts = { 0, 50 * 1000000 };
	struct pending p;
	struct aior_ctx c;
	int got, k, polls = 0;

	ck_assert_int_eq(aior_ctx_setup(&c, 16, AIOR_REAP_RING), 0);
	reads_prep(&rd, 3);
	ck_assert_int_eq(aior_ctx_submit(&c, rd.cbs, 3), 3);
	pending_submit(&c, &p);

	/* The poll is still pending: the three reads, after the timeout. */
	got = aior_ctx_wait(&c, ev, 4, 4, &ts);
	ck_assert_int_eq(got, 3);
	reads_verify(&rd, ev, got);
	ck_assert_uint_eq(c.inflight, 1);

	pending_release(&p);
	got = aior_ctx_wait(&c, ev, 4, 4, NULL);
	ck_assert_int_eq(got, 1);
	for (k = 0; k < got; k++)
		polls += ev[k].obj == &p.cb;
	ck_assert_int_eq(polls, 1);
	ck_assert_uint_eq(c.inflight, 0);
	ck_assert_uint_eq(c.st.reaped_ring + c.st.reaped_syscall, 4);
	aior_ctx_teardown(&c);
	pending_close(&p);
}
END_TEST

START_TEST(test_teardown_is_idempotent)
{
	struct aior_ctx c;

	aior_t_seam_install();	/* pass-through: counts io_destroy */
	memset(&c, 0, sizeof(c));
	aior_ctx_teardown(&c);
	ck_assert_uint_eq(aior_t_seam.destroy_calls, 0);

	ck_assert_int_eq(aior_ctx_setup(&c, 8, AIOR_REAP_RING), 0);
	aior_ctx_teardown(&c);
	ck_assert_uint_eq(aior_t_seam.destroy_calls, 1);
	ck_assert_ptr_null((void *)c.io);
	aior_ctx_teardown(&c);
	ck_assert_uint_eq(aior_t_seam.destroy_calls, 1);
	aior_t_seam_remove();
}
END_TEST

/* ---- the kernel's answers, injected ---- */

/*
 * A context over a fabricated ring of @nr slots (NULL @r: a ring with a
 * bad magic, so reaping goes through the fake io_getevents).
 */
static void fake_ctx(struct aior_ctx *c, struct aior_kring *r,
		     enum aior_reap_mode mode)
{
	aior_t_seam.setup_ret[0] = 0;
	aior_t_seam.setup_n = 1;
	aior_t_seam.setup_ring = r;
	ck_assert_int_eq(aior_ctx_setup(c, 8, mode), 0);
	ck_assert_ptr_eq((void *)c->io, r);
}

static void fake_ctx_teardown(struct aior_ctx *c, struct aior_kring *r)
{
	aior_ctx_teardown(c);
	aior_t_seam_remove();
	free(r);
}

static const struct submit_case {
	const char *name;
	int script[3];
	unsigned int script_n;
	int ret;		/* aior_ctx_submit() */
	unsigned int accepted;	/* added to inflight and submitted */
	unsigned int eagain;
	unsigned int calls;	/* io_submit() calls */
} submit_cases[] = {
	{ "all taken",		{ 5 },			1, 5, 5, 0, 1 },
	{ "partial, 2 of 5",	{ 2 },			1, 2, 2, 0, 1 },
	{ "EAGAIN",		{ -EAGAIN },		1, -EAGAIN, 0, 1, 1 },
	{ "ENOMEM as EAGAIN",	{ -ENOMEM },		1, -EAGAIN, 0, 1, 1 },
	{ "EINVAL as is",	{ -EINVAL },		1, -EINVAL, 0, 0, 1 },
	{ "EBADF as is",	{ -EBADF },		1, -EBADF, 0, 0, 1 },
	{ "EFAULT as is",	{ -EFAULT },		1, -EFAULT, 0, 0, 1 },
	{ "EINTR retried",	{ -EINTR, 5 },		2, 5, 5, 0, 2 },
	{ "EINTR twice, partial", { -EINTR, -EINTR, 3 }, 3, 3, 3, 0, 3 },
	{ "EINTR then EAGAIN",	{ -EINTR, -EAGAIN },	2, -EAGAIN, 0, 1, 2 },
};

START_TEST(test_submit_maps_kernel_answers)
{
	const struct submit_case *tc = &submit_cases[_i];
	struct aior_kring *r = aior_t_ring_new(8);
	struct iocb cb[5], *cbs[5];
	struct aior_ctx c;
	int i, ret;

	aior_t_seam_install();
	fake_ctx(&c, r, AIOR_REAP_RING);
	for (i = 0; i < 5; i++) {
		memset(&cb[i], 0, sizeof(cb[i]));
		cbs[i] = &cb[i];
	}
	c.inflight = 3;	/* earlier submissions */
	memcpy(aior_t_seam.submit_ret, tc->script, sizeof(tc->script));
	aior_t_seam.submit_n = tc->script_n;

	ret = aior_ctx_submit(&c, cbs, 5);
	ck_assert_msg(ret == tc->ret, "%s: returned %d, want %d", tc->name,
		      ret, tc->ret);
	ck_assert_msg(c.inflight == 3 + tc->accepted, "%s: inflight %u",
		      tc->name, c.inflight);
	ck_assert_uint_eq(c.st.submitted, tc->accepted);
	ck_assert_msg(c.st.eagain == tc->eagain, "%s: eagain %llu", tc->name,
		      (unsigned long long)c.st.eagain);
	ck_assert_msg(aior_t_seam.submit_calls == tc->calls,
		      "%s: %u io_submit() calls, want %u", tc->name,
		      aior_t_seam.submit_calls, tc->calls);
	ck_assert_uint_ge(c.st.submit_calls, 1);
	fake_ctx_teardown(&c, r);
}
END_TEST

/*
 * The inline test against a scripted kernel: the tail moves by
 * submit_moves[i] during call i, from a ring whose tail is about to wrap.
 * A call is inline when the next events in the ring are its own iocbs, in
 * order; too few events, or another request's first, end the streak.
 * Refused calls leave it alone.
 */
START_TEST(test_submit_inline_streak_follows_tail)
{
	static const struct {
		int ret;
		unsigned int moves, foreign, streak, inline_submits;
	} step[] = {
		{ 2, 2, 0, 1, 1 },	/* exactly what it took, wraps */
		{ 1, 3, 0, 2, 2 },	/* its own first, then others */
		{ 3, 2, 0, 0, 2 },	/* one left in flight */
		{ -EAGAIN, 0, 0, 0, 2 },
		{ 1, 1, 0, 1, 3 },
		{ 2, 3, 1, 0, 3 },	/* an earlier one landed first */
		{ 2, 0, 0, 0, 3 },	/* a device with a queue */
	};
	struct aior_kring *r = aior_t_ring_new(8);
	struct iocb cb[3], *cbs[3];
	struct aior_ctx c;
	unsigned int i;

	aior_t_seam_install();
	r->head = r->tail = 7;
	fake_ctx(&c, r, AIOR_REAP_RING);
	for (i = 0; i < 3; i++) {
		memset(&cb[i], 0, sizeof(cb[i]));
		cbs[i] = &cb[i];
	}
	for (i = 0; i < sizeof(step) / sizeof(step[0]); i++) {
		aior_t_seam.submit_ret[i] = step[i].ret;
		aior_t_seam.submit_moves[i] = step[i].moves;
		aior_t_seam.submit_foreign[i] = step[i].foreign;
	}
	aior_t_seam.submit_n = i;
	for (i = 0; i < sizeof(step) / sizeof(step[0]); i++) {
		int ret = aior_ctx_submit(&c, cbs, 3);

		ck_assert_int_eq(ret, step[i].ret);
		ck_assert_msg(c.inline_streak == step[i].streak,
			      "call %u: streak %u, want %u", i,
			      c.inline_streak, step[i].streak);
		ck_assert_uint_eq(c.st.inline_submits,
				  step[i].inline_submits);
	}
	/* 2+3+2+1+3 events landed after head 7: 11 mod 8. */
	ck_assert_uint_eq(r->tail, (7 + 11) % 8);
	ck_assert_uint_eq(aior_ctx_ready(&c), 3);
	/* What is known stands until read again: a lower bound. */
	r->tail = 3;
	ck_assert_uint_eq(aior_ctx_ready(&c), 3);
	ck_assert_uint_eq(aior_ctx_ready_read(&c), 4);
	fake_ctx_teardown(&c, r);
}
END_TEST

static const int setup_errors[] = { -EAGAIN, -ENOSYS, -ENOMEM, -EINVAL };

START_TEST(test_setup_returns_io_setup_error)
{
	struct aior_ctx c;

	aior_t_seam_install();
	aior_t_seam.setup_ret[0] = setup_errors[_i];
	aior_t_seam.setup_n = 1;
	ck_assert_int_eq(aior_ctx_setup(&c, 8, AIOR_REAP_RING),
			 setup_errors[_i]);
	ck_assert_ptr_null((void *)c.io);
	ck_assert_uint_eq(c.ring_nr, 0);
	aior_ctx_teardown(&c);
	ck_assert_uint_eq(aior_t_seam.destroy_calls, 0);
	aior_t_seam_remove();
}
END_TEST

START_TEST(test_setup_unreadable_ring_reaps_by_syscall)
{
	struct aior_kring *r = aior_t_ring_new(8);
	struct io_event ev[8];
	struct aior_ctx c;

	r->magic = 0;
	aior_t_seam_install();
	fake_ctx(&c, r, AIOR_REAP_RING);
	ck_assert_uint_eq(c.ring_nr, 0);

	c.inflight = 4;
	aior_t_seam.getevents_ret[0] = 3;
	aior_t_seam.getevents_n = 1;
	ck_assert_int_eq(aior_ctx_reap(&c, ev, 8), 3);
	ck_assert(aior_t_event_is(&ev[0], 0));
	ck_assert(aior_t_event_is(&ev[2], 2));
	ck_assert_uint_eq(c.st.reaped_syscall, 3);
	ck_assert_uint_eq(c.st.reaped_ring, 0);
	/* Known unusable from the start: not a fallback. */
	ck_assert_uint_eq(c.st.ring_fallbacks, 0);
	ck_assert_uint_eq(c.inflight, 1);
	fake_ctx_teardown(&c, r);
}
END_TEST

START_TEST(test_setup_syscall_mode_ignores_good_ring)
{
	struct aior_kring *r = aior_t_ring_new(8);
	struct aior_ctx c;

	aior_t_seam_install();
	fake_ctx(&c, r, AIOR_REAP_SYSCALL);
	ck_assert_uint_eq(c.ring_nr, 0);
	fake_ctx_teardown(&c, r);
}
END_TEST

static const struct getevents_case {
	const char *name;
	int script[3];
	unsigned int script_n;
	int ret;
	unsigned int calls;
} getevents_cases[] = {
	{ "events",		{ 3 },			1, 3, 1 },
	{ "EINTR retried",	{ -EINTR, 3 },		2, 3, 2 },
	{ "EINTR twice",	{ -EINTR, -EINTR, 2 },	3, 2, 3 },
	{ "none ready",		{ 0 },			1, 0, 1 },
	{ "EBADF as is",	{ -EBADF },		1, -EBADF, 1 },
	{ "EFAULT as is",	{ -EFAULT },		1, -EFAULT, 1 },
};

START_TEST(test_reap_syscall_maps_kernel_answers)
{
	const struct getevents_case *tc = &getevents_cases[_i];
	struct aior_kring *r = aior_t_ring_new(8);
	struct io_event ev[8];
	struct aior_ctx c;
	int ret;

	aior_t_seam_install();
	fake_ctx(&c, r, AIOR_REAP_SYSCALL);
	c.inflight = 4;
	memcpy(aior_t_seam.getevents_ret, tc->script, sizeof(tc->script));
	aior_t_seam.getevents_n = tc->script_n;

	ret = aior_ctx_reap(&c, ev, 8);
	ck_assert_msg(ret == tc->ret, "%s: returned %d, want %d", tc->name,
		      ret, tc->ret);
	ck_assert_msg(aior_t_seam.getevents_calls == tc->calls,
		      "%s: %u io_getevents() calls", tc->name,
		      aior_t_seam.getevents_calls);
	/* Non-blocking, and never more than is in flight. */
	ck_assert_int_eq(aior_t_seam.last_min, 0);
	ck_assert_int_eq(aior_t_seam.last_max, 4);
	ck_assert_uint_eq(c.inflight, 4 - (ret > 0 ? ret : 0));
	ck_assert_uint_eq(c.st.reaped_syscall, ret > 0 ? ret : 0);
	fake_ctx_teardown(&c, r);
}
END_TEST

enum ring_damage {
	DAMAGE_MAGIC,
	DAMAGE_INCOMPAT,
	DAMAGE_HEADER_LEN,
	DAMAGE_NR,
	DAMAGE_TAIL,
};

static const char *const damage_names[] = {
	"magic", "incompat_features", "header_length", "nr", "tail",
};

/* The ring goes bad after setup: the reaper falls back, counts it. */
START_TEST(test_reap_falls_back_when_ring_goes_bad)
{
	struct aior_kring *r = aior_t_ring_new(8);
	struct io_event ev[8];
	struct aior_ctx c;
	unsigned int head;

	aior_t_seam_install();
	fake_ctx(&c, r, AIOR_REAP_RING);
	ck_assert_uint_eq(c.ring_nr, 8);
	aior_t_seam.getevents_ret[0] = 2;
	aior_t_seam.getevents_n = 1;
	aior_t_seam.getevents_seq = 100;

	/* Healthy: from the ring, no syscall. */
	c.inflight = 5;
	aior_t_ring_push(r, 0, 3);
	ck_assert_int_eq(aior_ctx_reap(&c, ev, 8), 3);
	ck_assert(aior_t_event_is(&ev[0], 0));
	ck_assert(aior_t_event_is(&ev[2], 2));
	ck_assert_uint_eq(c.st.reaped_ring, 3);
	ck_assert_uint_eq(aior_t_seam.getevents_calls, 0);
	ck_assert_uint_eq(c.inflight, 2);

	aior_t_ring_push(r, 3, 1);	/* must not be read once it is bad */
	head = r->head;
	switch (_i) {
	case DAMAGE_MAGIC:
		r->magic ^= 1;
		break;
	case DAMAGE_INCOMPAT:
		r->incompat_features = 2;
		break;
	case DAMAGE_HEADER_LEN:
		r->header_length = 64;
		break;
	case DAMAGE_NR:
		r->nr = 16;
		break;
	case DAMAGE_TAIL:
		r->tail = 8;
		break;
	}
	ck_assert_msg(aior_ctx_reap(&c, ev, 8) == 2, "%s",
		      damage_names[_i]);
	ck_assert_msg(aior_t_event_is(&ev[0], 100), "%s: not the syscall's",
		      damage_names[_i]);
	ck_assert_uint_eq(c.st.ring_fallbacks, 1);
	ck_assert_uint_eq(c.st.reaped_syscall, 2);
	ck_assert_uint_eq(c.st.reaped_ring, 3);
	ck_assert_uint_eq(aior_t_seam.getevents_calls, 1);
	ck_assert_uint_eq(r->head, head);
	ck_assert_uint_eq(c.inflight, 0);
	fake_ctx_teardown(&c, r);
}
END_TEST

/*
 * One event in the ring, three in flight: wait(min=8) takes the ring's
 * and asks io_getevents() for the two still in flight, no more.
 */
START_TEST(test_wait_asks_kernel_only_for_inflight)
{
	struct aior_kring *r = aior_t_ring_new(8);
	struct io_event ev[8];
	struct aior_ctx c;

	aior_t_seam_install();
	fake_ctx(&c, r, AIOR_REAP_RING);
	c.inflight = 3;
	aior_t_ring_push(r, 0, 1);
	aior_t_seam.getevents_ret[0] = 2;
	aior_t_seam.getevents_n = 1;
	aior_t_seam.getevents_seq = 1;

	ck_assert_int_eq(aior_ctx_wait(&c, ev, 8, 8, NULL), 3);
	ck_assert_int_eq(aior_t_seam.last_min, 2);
	ck_assert_int_eq(aior_t_seam.last_max, 2);
	ck_assert(aior_t_event_is(&ev[0], 0));
	ck_assert(aior_t_event_is(&ev[1], 1));
	ck_assert(aior_t_event_is(&ev[2], 2));
	ck_assert_uint_eq(c.inflight, 0);
	ck_assert_uint_eq(c.st.reaped_ring, 1);
	ck_assert_uint_eq(c.st.reaped_syscall, 2);
	fake_ctx_teardown(&c, r);
}
END_TEST

/* A signal during the wait: -EINTR, or what was reaped before it. */
START_TEST(test_wait_reports_eintr)
{
	struct aior_kring *r = aior_t_ring_new(8);
	struct io_event ev[8];
	struct aior_ctx c;

	aior_t_seam_install();
	fake_ctx(&c, r, AIOR_REAP_RING);
	aior_t_seam.getevents_ret[0] = -EINTR;
	aior_t_seam.getevents_n = 1;

	c.inflight = 3;
	ck_assert_int_eq(aior_ctx_wait(&c, ev, 1, 8, NULL), -EINTR);
	ck_assert_uint_eq(c.inflight, 3);

	aior_t_ring_push(r, 0, 1);
	ck_assert_int_eq(aior_ctx_wait(&c, ev, 2, 8, NULL), 1);
	ck_assert(aior_t_event_is(&ev[0], 0));
	ck_assert_uint_eq(c.inflight, 2);
	fake_ctx_teardown(&c, r);
}
END_TEST

/* Another thread holds the reaper flag: reap and wait take nothing. */
START_TEST(test_reap_yields_to_other_reaper)
{
	struct aior_kring *r = aior_t_ring_new(8);
	struct io_event ev[8];
	struct aior_ctx c;

	aior_t_seam_install();
	fake_ctx(&c, r, AIOR_REAP_RING);
	aior_t_seam.getevents_ret[0] = 2;
	aior_t_seam.getevents_n = 1;
	c.inflight = 4;
	aior_t_ring_push(r, 0, 2);
	c.reaping = 1;

	ck_assert_int_eq(aior_ctx_reap(&c, ev, 8), 0);
	ck_assert_int_eq(aior_ctx_wait(&c, ev, 4, 8, NULL), 0);
	ck_assert_uint_eq(r->head, 0);
	ck_assert_uint_eq(c.inflight, 4);
	ck_assert_uint_eq(aior_t_seam.getevents_calls, 0);

	c.reaping = 0;
	ck_assert_int_eq(aior_ctx_reap(&c, ev, 8), 2);
	ck_assert_int_eq(c.reaping, 0);
	fake_ctx_teardown(&c, r);
}
END_TEST

static Suite *ctx_suite(void)
{
	Suite *s = suite_create("ctx");
	TCase *tc;

	tc = tcase_create("kernel");
	tcase_set_timeout(tc, 20);
	tcase_add_checked_fixture(tc, file_setup, file_teardown);
	tcase_add_loop_test(tc, test_setup_ring_covers_depth, 0,
			    sizeof(depths) / sizeof(depths[0]));
	tcase_add_test(tc, test_setup_refuses_depth_zero);
	tcase_add_test(tc, test_reap_ring_returns_real_reads);
	tcase_add_test(tc, test_reap_syscall_mode_uses_io_getevents);
	tcase_add_test(tc, test_wait_after_ring_reap_returns_at_once);
	tcase_add_loop_test(tc, test_wait_returns_min_real_reads, 0, 2);
	tcase_add_loop_test(tc, test_wait_honours_timeout, 0,
			    sizeof(timeouts_ms) / sizeof(timeouts_ms[0]));
	tcase_add_test(tc, test_wait_adds_ring_and_syscall_completions);
	tcase_add_test(tc, test_teardown_is_idempotent);
	tcase_add_test(tc, test_submit_tells_inline_completion);
	tcase_add_test(tc, test_submit_watches_only_below_watch_below);
	suite_add_tcase(s, tc);

	tc = tcase_create("seam");
	tcase_set_timeout(tc, 20);
	tcase_add_loop_test(tc, test_submit_maps_kernel_answers, 0,
			    sizeof(submit_cases) / sizeof(submit_cases[0]));
	tcase_add_loop_test(tc, test_setup_returns_io_setup_error, 0,
			    sizeof(setup_errors) / sizeof(setup_errors[0]));
	tcase_add_test(tc, test_setup_unreadable_ring_reaps_by_syscall);
	tcase_add_test(tc, test_setup_syscall_mode_ignores_good_ring);
	tcase_add_loop_test(tc, test_reap_syscall_maps_kernel_answers, 0,
			    sizeof(getevents_cases) /
			    sizeof(getevents_cases[0]));
	tcase_add_loop_test(tc, test_reap_falls_back_when_ring_goes_bad, 0,
			    sizeof(damage_names) / sizeof(damage_names[0]));
	tcase_add_test(tc, test_wait_asks_kernel_only_for_inflight);
	tcase_add_test(tc, test_wait_reports_eintr);
	tcase_add_test(tc, test_reap_yields_to_other_reaper);
	tcase_add_test(tc, test_submit_inline_streak_follows_tail);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return aior_t_run(ctx_suite());
}
