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
 * Sleep until a completion may be ready, for at most @left_ns (or without
 * limit when @limited is false).  Returns 0 or -errno.
 */
static int wait_efd(struct aior_group *g, bool limited, uint64_t left_ns)
{
	struct pollfd pfd = { .fd = g->efd, .events = POLLIN };
	struct timespec t = ns_ts(left_ns);
	int ret;

	ret = ppoll(&pfd, 1, limited ? &t : NULL, NULL);
	if (ret < 0)
		return errno == EINTR ? 0 : -errno;
	return 0;
}

int aior_group_wait(struct aior_group *g, struct io_event *events,
		    unsigned int min, unsigned int max,
		    const struct timespec *timeout)
{
	uint64_t deadline = 0, now = 0;
	unsigned int got = 0;
	bool cleared = false;
	int ret;

	if (min > max)
		min = max;

	for (;;) {
		struct aior_ctx *busy;
		unsigned int inflight;

		ret = aior_group_reap(g, events + got, max - got);
		if (ret < 0)
			return got ? (int)got : ret;
		got += ret;
		if (got >= min)
			break;
		inflight = aior_group_inflight(g);
		if (!inflight)
			break;
		if (min - got > inflight)
			min = got + inflight;

		/* Only a call that has to wait pays for the clock. */
		if (timeout) {
			now = aior_now_ns();
			if (!deadline)
				deadline = now + aior_ts_ns(timeout);
			if (now >= deadline)
				break;
		}

		if (g->wait_mode == AIOR_WAIT_SPIN) {
			cpu_relax();
			continue;
		}
		busy = g->nr == 1 ? g->ctx[0] : sole_busy(g);
		if (busy) {
			struct timespec left;

			if (timeout)
				left = ns_ts(deadline - now);
			ret = aior_ctx_wait(busy, events + got, min - got,
					    max - got, timeout ? &left : NULL);
			if (ret == -EINTR)
				continue;
			if (ret < 0)
				return got ? (int)got : ret;
			got += ret;
			if (got >= min)
				break;
			continue;
		}
		/*
		 * Clear the eventfd, then sweep once more before sleeping:
		 * a completion after the clear wakes the sleep, one before it
		 * is found by the sweep.  Clearing only here keeps the read()
		 * off calls that find enough in the rings.
		 */
		if (!cleared) {
			uint64_t count;

			(void)!read(g->efd, &count, sizeof(count));
			cleared = true;
			continue;
		}
		ret = wait_efd(g, timeout != NULL, timeout ? deadline - now : 0);
		if (ret < 0)
			return got ? (int)got : ret;
		cleared = false;
	}
	return (int)got;
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
