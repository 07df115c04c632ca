/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-thread poller over several contexts (the seed's group channel),
 * its waits, and the reset-drain.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "aioring.h"

int aior_group_init(struct aior_group *g, unsigned int nr_ctx,
		    enum aior_wait_mode mode)
{
	g->nr = 0;
	g->next = 0;
	g->efd = -1;
	g->wait_mode = mode;
	g->cap = nr_ctx ? nr_ctx : 1;
	g->ctx = calloc(g->cap, sizeof(*g->ctx));
	if (!g->ctx)
		return -ENOMEM;
	/*
	 * io_getevents() sleeps on one context only; with several, every
	 * iocb signals one eventfd and the wait sleeps on that instead.
	 */
	if (nr_ctx > 1 && mode == AIOR_WAIT_BLOCK) {
		g->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (g->efd < 0) {
			int err = -errno;

			free(g->ctx);
			g->ctx = NULL;
			return err;
		}
	}
	return 0;
}

int aior_group_add(struct aior_group *g, struct aior_ctx *c)
{
	if (g->nr == g->cap)
		return -ENOSPC;
	g->ctx[g->nr++] = c;
	return 0;
}

void aior_group_destroy(struct aior_group *g)
{
	if (g->efd >= 0)
		close(g->efd);
	g->efd = -1;
	free(g->ctx);
	g->ctx = NULL;
	g->nr = 0;
	g->cap = 0;
}

unsigned int aior_group_inflight(const struct aior_group *g)
{
	unsigned int i, n = 0;

	for (i = 0; i < g->nr; i++)
		n += g->ctx[i]->inflight;
	return n;
}

int aior_group_sweep(struct aior_group *g, struct io_event *events,
		     unsigned int max)
{
	unsigned int i, start = g->next, got = 0;
	int ret;

	for (i = 0; i < g->nr && got < max; i++) {
		unsigned int k = start + i;

		if (k >= g->nr)
			k -= g->nr;
		ret = aior_ctx_reap(g->ctx[k], events + got, max - got);
		if (ret < 0)
			return got ? (int)got : ret;
		got += ret;
	}
	if (g->nr)
		g->next = start + 1 < g->nr ? start + 1 : 0;
	return (int)got;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static struct timespec ns_ts(uint64_t ns)
{
	struct timespec t = {
		.tv_sec = (time_t)(ns / 1000000000ull),
		.tv_nsec = (long)(ns % 1000000000ull),
	};

	return t;
}

/* The only context with requests in flight, or NULL. */
static struct aior_ctx *sole_busy(const struct aior_group *g)
{
	struct aior_ctx *busy = NULL;
	unsigned int i;

	for (i = 0; i < g->nr; i++) {
		if (!g->ctx[i]->inflight)
			continue;
		if (busy)
			return NULL;
		busy = g->ctx[i];
	}
	return busy;
}

/*
 * The deadline of one aior_group_wait(): read off the clock only when a
 * call has to wait, so a call that finds enough in the rings pays nothing.
 */
struct deadline {
	const struct timespec *timeout;	/* NULL: none */
	uint64_t at;			/* 0 until the first wait */
	uint64_t now;			/* at the last check */
};

static bool deadline_passed(struct deadline *d)
{
	if (!d->timeout)
		return false;
	d->now = aior_now_ns();
	if (!d->at)
		d->at = d->now + aior_ts_ns(d->timeout);
	return d->now >= d->at;
}

/* What is left of @d at its last check, in @t; NULL for no limit. */
static struct timespec *deadline_left(const struct deadline *d,
				      struct timespec *t)
{
	if (!d->timeout)
		return NULL;
	*t = ns_ts(d->at - d->now);
	return t;
}

/*
 * One context holds every request in flight: sleep in its io_getevents()
 * (through aior_ctx_wait()).  Returns the events got, or -errno; an
 * interrupted sleep got none.
 */
static int wait_busy(struct aior_ctx *busy, struct io_event *events,
		     unsigned int min, unsigned int max,
		     const struct deadline *d)
{
	struct timespec left;
	int ret;

	ret = aior_ctx_wait(busy, events, min, max, deadline_left(d, &left));
	return ret == -EINTR ? 0 : ret;
}

/*
 * Several contexts hold requests: one round on the eventfd every iocb
 * signals.  The first round clears it and goes back for one more sweep;
 * the next sleeps.  A completion after the clear wakes the sleep, one
 * before it is found by the sweep; clearing only here keeps the read()
 * off calls that find enough in the rings.  Returns 0 or -errno.
 */
static int wait_round(struct aior_group *g, const struct deadline *d,
		      bool *cleared)
{
	struct pollfd pfd = { .fd = g->efd, .events = POLLIN };
	struct timespec left;
	uint64_t count;

	if (!*cleared) {
		(void)!read(g->efd, &count, sizeof(count));
		*cleared = true;
		return 0;
	}
	*cleared = false;
	if (ppoll(&pfd, 1, deadline_left(d, &left), NULL) < 0 &&
	    errno != EINTR)
		return -errno;
	return 0;
}

int aior_group_wait(struct aior_group *g, struct io_event *events,
		    unsigned int min, unsigned int max,
		    const struct timespec *timeout)
{
	struct deadline dl = { .timeout = timeout };
	unsigned int got = 0, inflight;
	bool cleared = false;
	struct aior_ctx *busy;
	int ret;

	if (min > max)
		min = max;
	for (;;) {
		ret = aior_group_reap(g, events + got, max - got);
		if (ret < 0)
			break;
		got += ret;
		if (got >= min)
			break;
		inflight = aior_group_inflight(g);
		if (!inflight)
			break;
		if (min - got > inflight)
			min = got + inflight;
		if (deadline_passed(&dl))
			break;

		if (g->wait_mode == AIOR_WAIT_SPIN) {
			cpu_relax();
			continue;
		}
		busy = g->nr == 1 ? g->ctx[0] : sole_busy(g);
		if (!busy) {
			ret = wait_round(g, &dl, &cleared);
			if (ret < 0)
				break;
			continue;
		}
		ret = wait_busy(busy, events + got, min - got, max - got, &dl);
		if (ret < 0)
			break;
		got += ret;
		if (got >= min)
			break;
	}
	return ret < 0 && !got ? ret : (int)got;
}

int aior_group_drain(struct aior_group *g, struct io_event *events,
		     unsigned int cap, unsigned int *got, uint64_t retry_ns,
		     uint64_t timeout_ns)
{
	uint64_t start = aior_now_ns();
	struct timespec retry = ns_ts(retry_ns);
	unsigned int inflight;
	int ret;

	*got = 0;
	while ((inflight = aior_group_inflight(g)) != 0) {
		if (cap - *got < inflight)
			return -ENOSPC;
		/* The seed re-polls on a 500 us timer; we sleep that long. */
		ret = aior_group_wait(g, events + *got, inflight,
				      cap - *got, &retry);
		if (ret < 0 && ret != -EINTR)
			return ret;
		if (ret > 0)
			*got += ret;
		if (aior_group_inflight(g) &&
		    aior_now_ns() - start >= timeout_ns)
			return -ETIMEDOUT;
	}
	return 0;
}
