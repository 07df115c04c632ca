/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bounce buffers for memory O_DIRECT cannot take (the seed's
 * spdk_bdev_io_get_buf against required_alignment).
 */
#include <stdlib.h>
#include <string.h>

#include "aioring.h"

void *aior_bounce_begin(struct aior_bounce *b, void *user, size_t len,
			uint32_t align, bool is_write)
{
	if (!b->buf || b->cap < len || !aior_aligned((uintptr_t)b->buf, align)) {
		void *p;

		if (posix_memalign(&p, align < sizeof(void *) ?
				   sizeof(void *) : align, len))
			return NULL;
		free(b->buf);
		b->buf = p;
		b->cap = len;
	}
	b->user = user;
	b->len = len;
	if (is_write)
		memcpy(b->buf, user, len);
	return b->buf;
}

void aior_bounce_copy_in(struct aior_bounce *b)
{
	if (b->user)
		memcpy(b->buf, b->user, b->len);
}

void aior_bounce_end(struct aior_bounce *b, size_t done, bool is_read)
{
	if (!b->user)
		return;
	if (is_read && done)
		memcpy(b->user, b->buf, done < b->len ? done : b->len);
	b->user = NULL;
}

void aior_bounce_free(struct aior_bounce *b)
{
	free(b->buf);
	b->buf = NULL;
	b->cap = 0;
	b->user = NULL;
}
