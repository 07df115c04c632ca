/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The user-space completion reaper: a pure function over a ring pointer,
 * so tests can hand it fabricated rings.
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

int aior_ring_check(const void *ring, unsigned int *nr)
{
	const struct aior_kring *r = ring;

	if (!r || !header_ok(r) || r->nr == 0)
		return -EPROTO;
	*nr = r->nr;
	return 0;
}

int aior_ring_reap(void *ring, unsigned int nr, struct io_event *events,
		   unsigned int max)
{
	struct aior_kring *r = ring;
	unsigned int head, tail, avail, first;

	/*
	 * A header that changed under us (or never was a ring) is not read
	 * further: io_getevents() knows the kernel's own view.
	 */
	if (!header_ok(r) || r->nr != nr)
		return -EPROTO;

	tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	if (tail >= nr)
		return -EPROTO;
	head = ring_head(r, nr);

	avail = tail >= head ? tail - head : nr - head + tail;
	if (avail > max)
		avail = max;
	if (!avail)
		return 0;

	first = nr - head;
	if (first >= avail) {
		memcpy(events, &r->events[head], avail * sizeof(*events));
	} else {
		memcpy(events, &r->events[head], first * sizeof(*events));
		memcpy(events + first, &r->events[0],
		       (avail - first) * sizeof(*events));
	}

	head += avail;
	if (head >= nr)
		head -= nr;
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
	return (int)avail;
}

unsigned int aior_ring_tail(const void *ring)
{
	return aior_kring_tail(ring);
}

unsigned int aior_ring_ready(const void *ring, unsigned int nr)
{
	const struct aior_kring *r = ring;
	unsigned int head, tail;

	if (!header_ok(r) || r->nr != nr)
		return 0;
	tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	if (tail >= nr)
		return 0;
	head = ring_head(r, nr);
	return tail >= head ? tail - head : nr - head + tail;
}
