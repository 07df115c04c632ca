/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * aior_ring_check(), aior_ring_peek(), aior_ring_take_one() and
 * aior_ring_reap() over fabricated rings: every header and head/tail
 * shape the reaper may meet, and a producer thread that plays the kernel
 * against the reaper for millions of events.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define SENTINEL	0xa5
/* The contract leaves head alone or reduced: either is fine. */
#define ANY_HEAD	UINT32_MAX

static bool untouched(const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != SENTINEL)
			return false;
	return true;
}

/* A ring of @nr slots, slot i holding the event of sequence number i. */
static struct aior_kring *ring_numbered(unsigned int nr)
{
	struct aior_kring *r = aior_t_ring_new(nr);
	unsigned int i;

	for (i = 0; i < nr; i++)
		aior_t_event(&r->events[i], i);
	return r;
}

/* ---- well-formed rings ---- */

static const struct reap_case {
	const char *name;
	unsigned int nr, head, tail, max;
	int ret;		/* events copied */
	unsigned int first;	/* slot of the first event copied */
	unsigned int head_after;
} reap_cases[] = {
	{ "empty",		8, 5, 5, 16,	0, 0, 5 },
	{ "empty at zero",	8, 0, 0, 16,	0, 0, 0 },
	{ "one event",		8, 2, 3, 16,	1, 2, 3 },
	{ "contiguous",		8, 1, 6, 16,	5, 1, 6 },
	{ "full, tail = head-1", 8, 3, 2, 16,	7, 3, 2 },
	{ "full from zero",	8, 0, 7, 16,	7, 0, 7 },
	{ "wrapped",		8, 6, 3, 16,	5, 6, 3 },
	{ "wrapped, last slot", 8, 7, 0, 16,	1, 7, 0 },
	{ "max < ready",	8, 1, 6, 3,	3, 1, 4 },
	{ "max < ready, wraps", 8, 6, 4, 3,	3, 6, 1 },
	{ "max < ready, to end", 8, 6, 4, 2,	2, 6, 0 },
	{ "max == ready",	8, 2, 5, 3,	3, 2, 5 },
	{ "max one short",	8, 1, 6, 4,	4, 1, 5 },
	{ "max 0",		8, 1, 6, 0,	0, 0, 1 },
	{ "max 1",		8, 1, 6, 1,	1, 1, 2 },
	{ "head >= nr mod nr",	8, 10, 5, 16,	3, 2, 5 },
	{ "head >= nr wraps",	8, 30, 1, 16,	3, 6, 1 },
	{ "head >= nr, empty",	8, 13, 5, 16,	0, 0, ANY_HEAD },
	{ "one slot",		1, 0, 0, 16,	0, 0, 0 },
	{ "two slots, full",	2, 1, 0, 16,	1, 1, 0 },
	{ "odd size wrapped",	7, 5, 4, 100,	6, 5, 4 },
};

/* What aior_ring_reap() says is still ready; only one test reads it. */
static unsigned int left;

START_TEST(test_reap_copies_ready_events_in_order)
{
	const struct reap_case *tc = &reap_cases[_i];
	struct aior_kring *r = ring_numbered(tc->nr);
	struct io_event out[32];
	int k, ret;

	memset(out, SENTINEL, sizeof(out));
	r->head = tc->head;
	r->tail = tc->tail;
	ret = aior_ring_reap(r, tc->nr, out, tc->max, &left);
	ck_assert_msg(ret == tc->ret, "%s: reaped %d, want %d", tc->name,
		      ret, tc->ret);
	/* What the same read of the tail found beyond max. */
	if (ret > 0)
		ck_assert_msg(left == (tc->tail + tc->nr - tc->head % tc->nr) %
				      tc->nr - (unsigned int)ret,
			      "%s: left %u", tc->name, left);
	for (k = 0; k < ret; k++)
		ck_assert_msg(aior_t_event_is(&out[k],
					      (tc->first + k) % tc->nr),
			      "%s: event %d is not slot %u", tc->name, k,
			      (tc->first + k) % tc->nr);
	/* Not one byte past what it returned. */
	ck_assert_msg(untouched(&out[ret], sizeof(out) - ret * sizeof(out[0])),
		      "%s: wrote past the %d events it returned", tc->name,
		      ret);
	if (tc->head_after == ANY_HEAD)
		ck_assert_msg(r->head == tc->head ||
			      r->head == tc->head % tc->nr,
			      "%s: head %u", tc->name, r->head);
	else
		ck_assert_msg(r->head == tc->head_after, "%s: head %u, want %u",
			      tc->name, r->head, tc->head_after);
	ck_assert_uint_eq(r->tail, tc->tail);
	free(r);
}
END_TEST

/* ---- headers and indices the reaper must refuse ---- */

enum corrupt {
	BAD_MAGIC,
	BAD_INCOMPAT,
	BAD_HEADER_LEN,
	BAD_HEADER_LEN_ZERO,
	BAD_NR_HEADER,
	BAD_NR_ARG,
	BAD_NR_ZERO,
	BAD_TAIL_NR,
	BAD_TAIL_FAR,
	BAD_TAIL_MAX,
};

static const struct bad_case {
	const char *name;
	enum corrupt what;
} bad_cases[] = {
	{ "bad magic",			BAD_MAGIC },
	{ "incompat_features != 0",	BAD_INCOMPAT },
	{ "header_length short",	BAD_HEADER_LEN },
	{ "header_length 0",		BAD_HEADER_LEN_ZERO },
	{ "header nr != expected",	BAD_NR_HEADER },
	{ "expected nr != header",	BAD_NR_ARG },
	{ "nr 0 on both sides",		BAD_NR_ZERO },
	{ "tail == nr",			BAD_TAIL_NR },
	{ "tail far outside",		BAD_TAIL_FAR },
	{ "tail UINT32_MAX",		BAD_TAIL_MAX },
};

START_TEST(test_reap_refuses_corrupt_ring_untouched)
{
	const struct bad_case *tc = &bad_cases[_i];
	const unsigned int head = 3, tail = 6;
	struct aior_kring *r = ring_numbered(8);
	struct io_event out[16];
	unsigned int nr = 8;
	int ret;

	memset(out, SENTINEL, sizeof(out));
	r->head = head;
	r->tail = tail;
	switch (tc->what) {
	case BAD_MAGIC:
		r->magic = 0xdeadbeef;
		break;
	case BAD_INCOMPAT:
		r->incompat_features = 1;
		break;
	case BAD_HEADER_LEN:
		r->header_length = sizeof(*r) - 4;
		break;
	case BAD_HEADER_LEN_ZERO:
		r->header_length = 0;
		break;
	case BAD_NR_HEADER:
		r->nr = 16;
		break;
	case BAD_NR_ARG:
		nr = 4;
		break;
	case BAD_NR_ZERO:
		r->nr = 0;
		nr = 0;
		break;
	case BAD_TAIL_NR:
		r->tail = 8;
		break;
	case BAD_TAIL_FAR:
		r->tail = 1000;
		break;
	case BAD_TAIL_MAX:
		r->tail = UINT32_MAX;
		break;
	}
	ret = aior_ring_reap(r, nr, out, 16, &left);
	ck_assert_msg(ret == -EPROTO, "%s: returned %d, want -EPROTO",
		      tc->name, ret);
	ck_assert_msg(r->head == head, "%s: head moved to %u", tc->name,
		      r->head);
	ck_assert_msg(untouched(out, sizeof(out)), "%s: copied events",
		      tc->name);
	free(r);
}
END_TEST

/* ---- aior_ring_check() ---- */

#define KRING_LEN	sizeof(struct aior_kring)

static const struct check_case {
	const char *name;
	uint32_t magic, incompat, compat, header_length, nr;
	int ret;
} check_cases[] = {
	{ "good",	 AIOR_RING_MAGIC, 0, 0, KRING_LEN,	128, 0 },
	{ "compat set",	 AIOR_RING_MAGIC, 0, 7, KRING_LEN,	7,   0 },
	{ "bad magic",	 0xa10a10a0,	  0, 0, KRING_LEN,	128, -EPROTO },
	{ "incompat set", AIOR_RING_MAGIC, 1, 0, KRING_LEN,	128, -EPROTO },
	{ "header long", AIOR_RING_MAGIC, 0, 0, KRING_LEN + 8, 128, -EPROTO },
	{ "nr 0",	 AIOR_RING_MAGIC, 0, 0, KRING_LEN,	0,   -EPROTO },
};

/* aior_ring_peek(): what reap would find and where, taking nothing. */
START_TEST(test_ring_peek_counts_without_taking)
{
	unsigned int i, head;

	for (i = 0; i < sizeof(reap_cases) / sizeof(reap_cases[0]); i++) {
		const struct reap_case *tc = &reap_cases[i];
		struct aior_kring *r = ring_numbered(tc->nr);
		unsigned int want;
		int ready;

		r->head = tc->head;
		r->tail = tc->tail;
		want = (tc->tail + tc->nr - tc->head % tc->nr) % tc->nr;
		head = UINT32_MAX;
		ready = aior_ring_peek(r, tc->nr, &head);
		ck_assert_msg(ready == (int)want, "%s: ready %d, want %u",
			      tc->name, ready, want);
		ck_assert_msg(head == tc->head % tc->nr, "%s: head %u, want %u",
			      tc->name, head, tc->head % tc->nr);
		ck_assert_uint_eq(r->head, tc->head);
		ck_assert_uint_eq(aior_ring_tail(r), tc->tail);
		/* A ring that is not what it was: -EPROTO, head untouched. */
		head = UINT32_MAX;
		ck_assert_int_eq(aior_ring_peek(r, tc->nr + 1, &head), -EPROTO);
		r->tail = tc->nr;
		ck_assert_int_eq(aior_ring_peek(r, tc->nr, &head), -EPROTO);
		r->tail = tc->tail;
		r->magic = 0;
		ck_assert_int_eq(aior_ring_peek(r, tc->nr, &head), -EPROTO);
		ck_assert_uint_eq(head, UINT32_MAX);
		free(r);
	}
}
END_TEST

/* aior_ring_take_one(): the event at head, and head one on, wrapping. */
START_TEST(test_ring_take_one_moves_head)
{
	static const struct { unsigned int nr, head, head_after; } tc[] = {
		{ 8, 2, 3 }, { 8, 7, 0 }, { 1, 0, 0 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		struct aior_kring *r = ring_numbered(tc[i].nr);
		struct io_event out[2];

		memset(out, SENTINEL, sizeof(out));
		r->head = tc[i].head;
		r->tail = tc[i].head_after;
		aior_ring_take_one(r, tc[i].nr, tc[i].head, out);
		ck_assert(aior_t_event_is(&out[0], tc[i].head));
		ck_assert(untouched(&out[1], sizeof(out[1])));
		ck_assert_uint_eq(r->head, tc[i].head_after);
		free(r);
	}
}
END_TEST

START_TEST(test_ring_check_validates_header)
{
	const struct check_case *tc = &check_cases[_i];
	struct aior_kring *r = aior_t_ring_new(4);
	unsigned int nr = 12345;
	int ret;

	r->magic = tc->magic;
	r->incompat_features = tc->incompat;
	r->compat_features = tc->compat;
	r->header_length = tc->header_length;
	r->nr = tc->nr;
	ret = aior_ring_check(r, &nr);
	ck_assert_msg(ret == tc->ret, "%s: returned %d, want %d", tc->name,
		      ret, tc->ret);
	if (tc->ret == 0)
		ck_assert_uint_eq(nr, tc->nr);
	else
		ck_assert_msg(nr == 12345, "%s: stored nr %u on failure",
			      tc->name, nr);
	free(r);
}
END_TEST

START_TEST(test_ring_check_refuses_null)
{
	unsigned int nr = 12345;

	ck_assert_int_eq(aior_ring_check(NULL, &nr), -EPROTO);
	ck_assert_uint_eq(nr, 12345);
}
END_TEST

/*
 * Single-threaded: push and reap uneven amounts around a 5-slot ring for
 * many laps; every event comes out once, in order.
 */
START_TEST(test_reap_interleaved_push_keeps_order)
{
	const unsigned int nr = 5;
	struct aior_kring *r = aior_t_ring_new(nr);
	uint64_t pushed = 0, reaped = 0;
	uint32_t rng = 12345;
	struct io_event out[8];
	int i, k, ret;

	for (i = 0; i < 20000; i++) {
		unsigned int room = nr - 1 - (unsigned int)(pushed - reaped);
		unsigned int n;

		rng = rng * 1103515245 + 12345;
		n = (rng >> 16) % (room + 1);
		aior_t_ring_push(r, pushed, n);
		pushed += n;
		ret = aior_ring_reap(r, nr, out, 1 + (rng >> 8) % 6, &left);
		ck_assert_int_ge(ret, 0);
		for (k = 0; k < ret; k++)
			ck_assert_msg(aior_t_event_is(&out[k], reaped + k),
				      "lap %d: event %d out of order", i, k);
		reaped += ret;
	}
	ret = aior_ring_reap(r, nr, out, 8, &left);
	ck_assert_int_eq(ret, (int)(pushed - reaped));
	reaped += ret;
	ck_assert_uint_eq(reaped, pushed);
	ck_assert_uint_gt(pushed / nr, 1000);	/* it did wrap, often */
	free(r);
}
END_TEST

/* ---- the kernel against the reaper, concurrently ---- */

/* TSan runs this ~10x slower: a fifth of the events, still many laps. */
#ifdef AIOR_TEST_TSAN
#define STRESS_DIV	5
#else
#define STRESS_DIV	1
#endif

struct stress {
	struct aior_kring *r;
	uint64_t n;
	uint64_t full_waits;
};

static inline void relax(unsigned int *spins)
{
	/* Two cores and two spinners: yield now and then, not always. */
	if (++*spins % 16 == 0)
		sched_yield();
	else
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#else
		__asm__ __volatile__("" ::: "memory");
#endif
}

/*
 * aio_complete()'s side of the ring: write the event at tail, release
 * tail; never fill the last free slot (tail + 1 == head means full), and
 * read head with acquire so the reaper's copies are done before a slot is
 * reused.
 */
static void *producer(void *arg)
{
	struct stress *s = arg;
	struct aior_kring *r = s->r;
	unsigned int nr = r->nr, tail = 0;
	uint64_t seq;

	for (seq = 0; seq < s->n; seq++) {
		unsigned int next = tail + 1 == nr ? 0 : tail + 1;
		unsigned int spins = 0;

		if (next == __atomic_load_n(&r->head, __ATOMIC_ACQUIRE)) {
			s->full_waits++;
			while (next == __atomic_load_n(&r->head,
						       __ATOMIC_ACQUIRE))
				relax(&spins);
		}
		aior_t_event(&r->events[tail], seq);
		__atomic_store_n(&r->tail, next, __ATOMIC_RELEASE);
		tail = next;
	}
	return NULL;
}

/*
 * Ring sizes and event counts.  A 2-slot ring (one event at a time) is a
 * ping-pong of cache lines that another process on a 2-core host slows
 * tenfold: fewer events there.  AIOR_STRESS_EVENTS overrides every count.
 */
static const struct stress_case {
	unsigned int nr;
	uint64_t events;
} stress_cases[] = {
	{ 2,	1000000 / STRESS_DIV },
	{ 7,	5000000 / STRESS_DIV },
	{ 128,	10000000 / STRESS_DIV },
	{ 4096,	10000000 / STRESS_DIV },
};

static uint64_t stress_events(const struct stress_case *tc)
{
	const char *e = getenv("AIOR_STRESS_EVENTS");

	return e && *e ? strtoull(e, NULL, 0) : tc->events;
}

START_TEST(test_reap_against_concurrent_producer)
{
	const unsigned int nr = stress_cases[_i].nr;
	struct stress s = {
		.r = aior_t_ring_new(nr),
		.n = stress_events(&stress_cases[_i]),
	};
	unsigned int spins = 0, maxspan = 2 * nr + 3;
	uint64_t expected = 0, calls = 0, t0 = aior_now_ns();
	struct io_event *out;
	uint32_t rng = 2463534242u;
	pthread_t t;
	int ret, k;

	if (maxspan > 300)
		maxspan = 300;
	out = calloc(maxspan, sizeof(*out));
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(pthread_create(&t, NULL, producer, &s), 0);

	while (expected < s.n) {
		unsigned int max;

		rng ^= rng << 13;
		rng ^= rng >> 17;
		rng ^= rng << 5;
		max = 1 + rng % maxspan;
		ret = aior_ring_reap(s.r, nr, out, max, &left);
		calls++;
		/* No ck_assert in the loop: Check marks every one it passes. */
		if (ret < 0 || (unsigned int)ret > max)
			ck_abort_msg("nr %u: reap returned %d for max %u", nr,
				     ret, max);
		for (k = 0; k < ret; k++, expected++)
			if (!aior_t_event_is(&out[k], expected))
				ck_abort_msg("nr %u: event %d of a batch of %d "
					     "is not seq %llu", nr, k, ret,
					     (unsigned long long)expected);
		if (!ret)
			relax(&spins);
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(expected, s.n);
	/* Nothing more: no event was produced twice. */
	ck_assert_int_eq(aior_ring_reap(s.r, nr, out, maxspan, &left), 0);
	ck_assert_uint_eq(s.r->head, s.r->tail);
	ck_assert_uint_eq(s.r->tail, (unsigned int)(s.n % nr));
	printf("stress nr %u: %llu events, %llu laps, %llu reaps, %llu waits "
	       "on a full ring, %.0f ms\n", nr, (unsigned long long)s.n,
	       (unsigned long long)(s.n / nr), (unsigned long long)calls,
	       (unsigned long long)s.full_waits, aior_t_elapsed_ms(t0));
	free(out);
	free(s.r);
}
END_TEST

static Suite *ring_suite(void)
{
	Suite *s = suite_create("ring");
	TCase *tc;

	tc = tcase_create("reap");
	tcase_add_loop_test(tc, test_reap_copies_ready_events_in_order, 0,
			    sizeof(reap_cases) / sizeof(reap_cases[0]));
	tcase_add_loop_test(tc, test_reap_refuses_corrupt_ring_untouched, 0,
			    sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, test_reap_interleaved_push_keeps_order);
	tcase_add_test(tc, test_ring_peek_counts_without_taking);
	tcase_add_test(tc, test_ring_take_one_moves_head);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_loop_test(tc, test_ring_check_validates_header, 0,
			    sizeof(check_cases) / sizeof(check_cases[0]));
	tcase_add_test(tc, test_ring_check_refuses_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("stress");
	tcase_set_timeout(tc, 100);
	tcase_add_loop_test(tc, test_reap_against_concurrent_producer, 0,
			    sizeof(stress_cases) / sizeof(stress_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return aior_t_run(ring_suite());
}
