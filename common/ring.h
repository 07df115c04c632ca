/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private mirror of the kernel's struct aio_ring (fs/aio.c).  io_setup()
 * maps it into the process; the io_context_t is its address.  The layout
 * is ABI: the kernel has kept it since 2.6 and flags any change through
 * incompat_features.
 */
#ifndef AIOR_RING_H
#define AIOR_RING_H

#include <stdint.h>
#include <libaio.h>

#define AIOR_RING_MAGIC		0xa10a10a1u

struct aior_kring {
	uint32_t id;		/* kernel internal index */
	uint32_t nr;		/* number of io_events in the ring */
	uint32_t head;		/* written by the reader (us, or the kernel) */
	uint32_t tail;		/* written by the kernel after the event */
	uint32_t magic;
	uint32_t compat_features;
	uint32_t incompat_features;
	uint32_t header_length;	/* sizeof(struct aior_kring) */
	struct io_event events[];
};

/* The tail as the kernel last stored it; acquire pairs with its smp_wmb(). */
static inline uint32_t aior_kring_tail(const struct aior_kring *r)
{
	return __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
}

#endif /* AIOR_RING_H */
