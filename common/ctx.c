/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One aio context: setup/teardown (cold) and submit/reap (hot).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "aioring.h"

int aior_ctx_setup(struct aior_ctx *c, unsigned int depth,
		   enum aior_reap_mode mode)
{
	int ret;

	memset(c, 0, sizeof(*c));
	if (!depth)
		return -EINVAL;
	ret = aior_sys->io_setup(depth, &c->io);
	if (ret < 0) {
		c->io = 0;
		return ret;
	}
	c->watch_below = UINT_MAX;
	/* A ring we cannot read leaves ring_nr at 0: syscall reaping. */
	if (mode == AIOR_REAP_RING && aior_ring_check(c->io, &c->ring_nr))
		c->ring_nr = 0;
	return 0;
}

void aior_ctx_teardown(struct aior_ctx *c)
{
	if (c->io)
		aior_sys->io_destroy(c->io);
	c->io = 0;
	c->inflight = 0;
	c->ring_nr = 0;
}

/*
 * Did the kernel complete the @done requests at @iocbs inside the
 * io_submit() that found the ring's tail at @before?  What the kernel
 * completes inside the call it completes one request at a time as it
 * takes them, so their events are then the next in the ring, in order.
 * A completion of an earlier request landing during the call (a fast
 * device, by chance) breaks the match, so such a call does not count.
 * What the ring holds now is known to be ready.
 */
static void note_inline(struct aior_ctx *c, unsigned int before,
			struct iocb **iocbs, int done)
{
	if (aior_ring_match(c->io, c->ring_nr, before, iocbs,
			    (unsigned int)done, &c->ready)) {
		c->st.inline_submits++;
		if (c->inline_streak < UINT_MAX)
			c->inline_streak++;
	} else {
		c->inline_streak = 0;
	}
}

unsigned int aior_ctx_ready_read(struct aior_ctx *c)
{
	unsigned int head;
	int ready;

	if (c->ring_nr) {
		ready = aior_ring_peek(c->io, c->ring_nr, &head);
		c->ready = ready > 0 ? (unsigned int)ready : 0;
	}
	return c->ready;
}

/* io_submit(), EINTR retried, and the counts it changes. */
static inline int submit_call(struct aior_ctx *c, struct iocb **iocbs,
			      long nr)
{
	int ret;

	do {
		ret = aior_sys->io_submit(c->io, nr, iocbs);
	} while (ret == -EINTR);
	c->st.submit_calls++;

	if (ret > 0) {
		c->inflight += ret;
		c->st.submitted += ret;
		return ret;
	}
	if (ret == 0 || ret == -EAGAIN || ret == -ENOMEM) {
		/* The kernel took nothing for lack of room: backpressure. */
		c->st.eagain++;
		return -EAGAIN;
	}
	return ret;
}

/* submit_call(), watched for requests completed inside it. */
static AIOR_TAIL int submit_watched(struct aior_ctx *c, struct iocb **iocbs,
				    long nr)
{
	unsigned int before = aior_ring_tail(c->io);
	int ret = submit_call(c, iocbs, nr);

	if (ret > 0)
		note_inline(c, before, iocbs, ret);
	return ret;
}

int aior_ctx_submit(struct aior_ctx *c, struct iocb **iocbs, long nr)
{
	if ((unsigned long)nr < c->watch_below && c->ring_nr)
		return submit_watched(c, iocbs, nr);
	return submit_call(c, iocbs, nr);
}

/*
 * The counts an io_getevents() that returned @ret changes, and the end of
 * the reap it was part of (the reaping flag is given back).  Returns @ret.
 */
static int getevents_done(struct aior_ctx *c, int ret)
{
	c->st.getevents_calls++;
	/* io_getevents() takes from the same ring: what was known is not. */
	c->ready = 0;
	if (ret > 0) {
		c->st.reaped_syscall += ret;
		c->inflight -= ret;
	}
	__atomic_store_n(&c->reaping, 0, __ATOMIC_RELEASE);
	return ret;
}

/*
 * io_getevents() with a zero timeout, for a context whose ring is not
 * read (or failed a check), from aior_ctx_reap() with the reaping flag
 * taken: this ends that call.
 */
static AIOR_TAIL int reap_syscall(struct aior_ctx *c, struct io_event *events,
				  unsigned int max)
{
	struct timespec zero = { 0, 0 };
	int ret;

	do {
		ret = aior_sys->io_getevents(c->io, 0, max, events, &zero);
	} while (ret == -EINTR);
	return getevents_done(c, ret);
}

/*
 * aior_ctx_reap() of more than one event, with the reaping flag taken:
 * this ends that call.
 */
static AIOR_TAIL int reap_ring(struct aior_ctx *c, struct io_event *events,
			       unsigned int max)
{
	int ret = aior_ring_reap(c->io, c->ring_nr, events, max, &c->ready);

	if (ret < 0) {
		c->st.ring_fallbacks++;
		return reap_syscall(c, events, max);
	}
	c->st.reaped_ring += ret;
	c->inflight -= ret;
	__atomic_store_n(&c->reaping, 0, __ATOMIC_RELEASE);
	return ret;
}

int aior_ctx_reap(struct aior_ctx *c, struct io_event *events,
		  unsigned int max)
{
	unsigned int head;
	int ready;

	if (!c->inflight || !max)
		return 0;
	if (max > c->inflight)
		max = c->inflight;
	if (__atomic_exchange_n(&c->reaping, 1, __ATOMIC_ACQUIRE))
		return 0;
	if (!c->ring_nr)
		return reap_syscall(c, events, max);

	/* One event, the usual answer at low depth, is taken without a call. */
	ready = aior_ring_peek(c->io, c->ring_nr, &head);
	if (ready < 0) {
		c->st.ring_fallbacks++;
		return reap_syscall(c, events, max);
	}
	if (ready > 1 && max > 1)
		return reap_ring(c, events, max);
	c->ready = 0;
	if (ready) {
		aior_ring_take_one(c->io, c->ring_nr, head, events);
		c->ready = (unsigned int)ready - 1;
		c->st.reaped_ring++;
		c->inflight--;
	}
	__atomic_store_n(&c->reaping, 0, __ATOMIC_RELEASE);
	return ready ? 1 : 0;
}

int aior_ctx_wait(struct aior_ctx *c, struct io_event *events,
		  unsigned int min, unsigned int max,
		  const struct timespec *timeout)
{
	struct timespec ts, *tp = NULL;
	int got, ret;

	if (min > max)
		min = max;
	got = aior_ctx_reap(c, events, max);
	if (got < 0)
		return got;
	if ((unsigned int)got >= min || !c->inflight)
		return got;

	/*
	 * What we reaped is gone from the ring: ask the kernel only for what
	 * is still in flight, or io_getevents() would wait for events that
	 * will never come (fio 3.33's libaio can hang exactly so).
	 */
	min -= got;
	if (min > c->inflight)
		min = c->inflight;
	max -= got;
	if (max > c->inflight)
		max = c->inflight;
	if (timeout) {
		ts = *timeout;
		tp = &ts;
	}
	if (__atomic_exchange_n(&c->reaping, 1, __ATOMIC_ACQUIRE))
		return got;
	ret = getevents_done(c, aior_sys->io_getevents(c->io, min, max,
						       events + got, tp));
	if (ret < 0)
		return got ? got : ret;
	return got + ret;
}
