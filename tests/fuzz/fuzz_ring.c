/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target over the user-space ring reaper (common/ring.c):
 * aior_ring_check() and aior_ring_reap() handed arbitrary ring headers and
 * event areas.
 *
 * The ring is allocated with exactly as many events as the reaper is
 * entitled to read (the nr it is given, as io_setup() would have mapped),
 * and the output array with exactly @max entries, so AddressSanitizer
 * catches any read or write outside them.  On top of that:
 *
 *   - the return value is -EPROTO or in [0, max];
 *   - on -EPROTO nothing in the ring changed;
 *   - otherwise head moved by exactly the count and is below nr (when
 *     nothing was reaped it is left as found: the kernel reduces it
 *     modulo nr itself), tail and everything else is untouched, a count
 *     short of max means everything up to tail was taken, and the events
 *     copied are the ones from head on, in ring order;
 *   - aior_ring_check() accepts only a header the reaper would accept.
 *
 * Input layout (short inputs are padded with zeros):
 *   byte 0      flags: 1 magic valid, 2 header_length valid,
 *               4 incompat_features forced to 0, 8 reap with the nr
 *               aior_ring_check() found (else: nr from the input, as if
 *               the header changed after the check)
 *   bytes 1-32  the header: id nr head tail magic compat incompat hlen
 *   bytes 33-34 max (events asked for)
 *   bytes 35-36 nr given to the reaper when flag 8 is clear
 *   the rest    the event area (repeated to fill it)
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -I common
 *        common/ring.c tests/fuzz/fuzz_ring.c   (tests/faults does it)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aioring.h"
#include "ring.h"

/* Keep allocations small; the kernel caps nr far lower (fs.aio-max-nr). */
#define FUZZ_MAX_NR	1024u

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_ring: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t in[37] = { 0 };
	struct aior_kring hdr, *ring, *before;
	struct io_event *events;
	unsigned int nr, max, checked_nr = 0, i;
	size_t ring_bytes, evbytes, left, area_bytes, off, chunk = 0;
	unsigned int rest;
	uint8_t *area;
	uint32_t head0;
	int check, ret;

	memcpy(in, data, size < sizeof(in) ? size : sizeof(in));
	hdr.id = get32(in + 1);
	hdr.nr = get32(in + 5);
	hdr.head = get32(in + 9);
	hdr.tail = get32(in + 13);
	hdr.magic = in[0] & 1 ? AIOR_RING_MAGIC : get32(in + 17);
	hdr.compat_features = get32(in + 21);
	hdr.incompat_features = in[0] & 4 ? 0 : get32(in + 25);
	hdr.header_length = in[0] & 2 ? (uint32_t)sizeof(hdr) :
			    get32(in + 29);
	max = get16(in + 33) % (FUZZ_MAX_NR + 2);

	/* A header the checker accepts must be one the reaper accepts. */
	if (hdr.nr > FUZZ_MAX_NR)
		hdr.nr = hdr.nr % FUZZ_MAX_NR;
	check = aior_ring_check(&hdr, &checked_nr);
	CHECK(check == 0 || check == -EPROTO);
	if (check == 0) {
		CHECK(hdr.magic == AIOR_RING_MAGIC);
		CHECK(hdr.incompat_features == 0);
		CHECK(hdr.header_length == sizeof(hdr));
		CHECK(checked_nr == hdr.nr && checked_nr > 0);
	}
	CHECK(aior_ring_check(NULL, &checked_nr) == -EPROTO);

	if (in[0] & 8 && check == 0)
		nr = checked_nr;
	else
		nr = get16(in + 35) % FUZZ_MAX_NR + 1;

	/* Exactly nr events: one past the end is an ASan report. */
	ring_bytes = sizeof(hdr) + (size_t)nr * sizeof(struct io_event);
	ring = malloc(ring_bytes);
	before = malloc(ring_bytes);
	evbytes = (size_t)(max ? max : 1) * sizeof(struct io_event);
	events = malloc(evbytes);
	CHECK(ring && before && events);
	memcpy(ring, &hdr, sizeof(hdr));
	/* The event area: the rest of the input, repeated. */
	left = size > sizeof(in) ? size - sizeof(in) : 0;
	area = (uint8_t *)ring->events;
	area_bytes = (size_t)nr * sizeof(struct io_event);
	if (!left)
		memset(area, 0x5a, area_bytes);
	for (off = 0; left && off < area_bytes; off += chunk) {
		chunk = area_bytes - off < left ? area_bytes - off : left;
		memcpy(area + off, data + sizeof(in), chunk);
	}
	memcpy(before, ring, ring_bytes);
	memset(events, 0xa5, evbytes);
	head0 = hdr.head;

	ret = aior_ring_reap(ring, nr, events, max, &rest);

	CHECK(ret == -EPROTO || (ret >= 0 && (unsigned int)ret <= max));
	if (ret == -EPROTO) {
		CHECK(!memcmp(ring, before, ring_bytes));
	} else {
		unsigned int h = head0 % nr, head1 = ring->head;

		/* Never more than the ring holds: one slot stays empty. */
		CHECK((unsigned int)ret < nr);
		CHECK(ring->tail == hdr.tail && hdr.tail < nr);
		if (ret > 0) {
			/* Moved by exactly the count, wrapped into the ring. */
			CHECK(head1 < nr);
			CHECK(head1 == (h + (unsigned int)ret) % nr);
		} else {
			/* Nothing reaped: head left as found (the kernel
			 * reduces it modulo nr itself). */
			CHECK(head1 == head0);
		}
		/* Short of max only when everything available was taken. */
		if (max && (unsigned int)ret < max)
			CHECK((h + (unsigned int)ret) % nr == hdr.tail);
		for (i = 0; i < (unsigned int)ret; i++)
			CHECK(!memcmp(&events[i], &before->events[(h + i) % nr],
				      sizeof(events[i])));
		/* Nothing but head changed. */
		ring->head = before->head;
		CHECK(!memcmp(ring, before, ring_bytes));
	}

	free(events);
	free(before);
	free(ring);
	return 0;
}
