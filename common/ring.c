/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Everything that reads the kernel's aio ring: its check, the reaper, how
 * many completions wait in it, and whether a submission's requests came
 * back inside the call.  Pure functions over a ring pointer, so tests can
 * hand them fabricated rings; nothing else in common/ knows the layout.
 *
 * Pairing: the kernel (aio_complete) stores the event, then smp_wmb(),
 * then ring->tail.  We load tail with acquire, so the event stores are
 * visible before we copy them; we store head with release, so our copies
 * are finished before the kernel may reuse the slots.
 */
#include <errno.h>
#include <string.h>

#include "aioring.h"
#include "ring.h"

static int header_ok(const struct aior_kring *r)
{
	return r->magic == AIOR_RING_MAGIC && r->incompat_features == 0 &&
	       r->header_length == sizeof(*r);
}

/*
 * Only the reaper writes head; the kernel clamps it the same way.  Only
 * a head out of range pays for the division: this runs per completion.
 */
static inline unsigned int ring_head(const struct aior_kring *r,
				     unsigned int nr)
{
	unsigned int head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);

	return head < nr ? head : head % nr;
}

/* Slots from @from up to @to, both in [0, @nr): the one wrap distance. */
static inline unsigned int span(unsigned int from, unsigned int to,
				unsigned int nr)
{
	return to >= from ? to - from : nr - from + to;
}

int aior_ring_check(const void *ring, unsigned int *nr)
{
	const struct aior_kring *r = ring;

	if (!r || !header_ok(r) || r->nr == 0)
		return -EPROTO;
	*nr = r->nr;
	return 0;
}

/* @head advanced by @n slots of a ring of @nr. */
static inline unsigned int advance(unsigned int head, unsigned int n,
				   unsigned int nr)
{
	head += n;
	return head >= nr ? head - nr : head;
}

/*
 * Take @n events from @head on, across the wrap, and move head past
 * them: the whole of the work, reached by a tail call.
 */
static AIOR_TAIL int take_events(struct aior_kring *r, unsigned int nr,
				 unsigned int head, struct io_event *events,
				 unsigned int n)
{
	unsigned int first = nr - head;

	if (first >= n) {
		memcpy(events, &r->events[head], n * sizeof(*events));
	} else {
		memcpy(events, &r->events[head], first * sizeof(*events));
		memcpy(events + first, &r->events[0],
		       (n - first) * sizeof(*events));
	}
	__atomic_store_n(&r->head, advance(head, n, nr), __ATOMIC_RELEASE);
	return (int)n;
}

/*
 * Inline wherever the build can see it: in aior_ctx_reap() too, under the
 * build's link-time optimization.  A call would cost the one-event reap
 * more than the work it does.
 */
__attribute__((always_inline)) inline int aior_ring_peek(const void *ring,
						    unsigned int nr,
						    unsigned int *head)
{
	const struct aior_kring *r = ring;
	unsigned int tail;

	/*
	 * A header that changed under us (or never was a ring) is not read
	 * further: io_getevents() knows the kernel's own view.
	 */
	if (!header_ok(r) || r->nr != nr)
		return -EPROTO;
	tail = aior_kring_tail(r);
	if (tail >= nr)
		return -EPROTO;
	*head = ring_head(r, nr);
	return (int)span(*head, tail, nr);
}

void aior_ring_take_one(void *ring, unsigned int nr, unsigned int head,
			struct io_event *ev)
{
	struct aior_kring *r = ring;

	*ev = r->events[head];
	__atomic_store_n(&r->head, advance(head, 1, nr), __ATOMIC_RELEASE);
}

int aior_ring_reap(void *ring, unsigned int nr, struct io_event *events,
		   unsigned int max, unsigned int *left)
{
	unsigned int head, avail;
	int ready = aior_ring_peek(ring, nr, &head);

	*left = 0;
	if (ready < 0)
		return ready;
	avail = (unsigned int)ready > max ? max : (unsigned int)ready;
	*left = (unsigned int)ready - avail;
	if (!avail)
		return 0;
	if (avail > 1)
		return take_events(ring, nr, head, events, avail);
	/* The common case at low depth: no call, no memcpy(). */
	aior_ring_take_one(ring, nr, head, events);
	return 1;
}

unsigned int aior_ring_tail(const void *ring)
{
	return aior_kring_tail(ring);
}

bool aior_ring_match(const void *ring, unsigned int nr, unsigned int before,
		     struct iocb *const *iocbs, unsigned int n,
		     unsigned int *ready)
{
	const struct aior_kring *r = ring;
	unsigned int after = aior_kring_tail(r), i, k;

	*ready = 0;
	if (after >= nr || before >= nr)
		return false;
	*ready = span(ring_head(r, nr), after, nr);
	if (span(before, after, nr) < n)
		return false;
	for (i = 0, k = before; i < n; i++) {
		if (r->events[k].obj != iocbs[i])
			return false;
		if (++k == nr)
			k = 0;
	}
	return true;
}
