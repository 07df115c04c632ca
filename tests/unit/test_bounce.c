/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bounce buffers: when one is needed, the copy in for writes, the copy
 * back of exactly what a read returned, growth, and free.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static const struct needed_case {
	uintptr_t addr;
	uint32_t align;
	bool needed;
} needed_cases[] = {
	{ 0x10000,	512,	false },
	{ 0x10000,	4096,	false },
	{ 0x10200,	512,	false },
	{ 0x10200,	4096,	true },
	{ 0x10001,	512,	true },
	{ 0x10001,	1,	false },
	{ 0x10008,	8,	false },
	{ 0x10004,	8,	true },
	{ 0x1fff,	4096,	true },
};

START_TEST(test_bounce_needed_for_misaligned_only)
{
	const struct needed_case *tc = &needed_cases[_i];

	ck_assert_msg(aior_bounce_needed((const void *)tc->addr, tc->align) ==
		      tc->needed, "%#lx for alignment %u",
		      (unsigned long)tc->addr, tc->align);
}
END_TEST

/* A misaligned user buffer of @len pattern bytes (free(*base)). */
static uint8_t *user_buf(size_t len, void **base)
{
	uint8_t *p;
	size_t i;

	*base = malloc(len + 64);
	ck_assert_ptr_nonnull(*base);
	p = (uint8_t *)*base + 1;	/* never aligned to more than 1 */
	for (i = 0; i < len; i++)
		p[i] = aior_t_pattern(i);
	return p;
}

static const struct write_case {
	size_t len;
	uint32_t align;
} write_cases[] = {
	{ 1,		512 },
	{ 512,		512 },
	{ 5000,		4096 },
	{ 65536,	4096 },
	{ 100,		1 },
	{ 100,		4 },
	{ 1 << 20,	65536 },
};

START_TEST(test_bounce_write_copies_in_aligned)
{
	const struct write_case *tc = &write_cases[_i];
	struct aior_bounce b = { 0 };
	void *base;
	uint8_t *user = user_buf(tc->len, &base);
	uint8_t *kbuf;

	ck_assert(aior_bounce_needed(user, 2) || tc->align < 2);
	kbuf = aior_bounce_begin(&b, user, tc->len, tc->align, true);
	ck_assert_ptr_nonnull(kbuf);
	ck_assert_ptr_ne(kbuf, user);
	ck_assert_ptr_eq(kbuf, b.buf);
	ck_assert(!aior_bounce_needed(kbuf, tc->align));
	ck_assert(aior_aligned((uintptr_t)kbuf, tc->align));
	ck_assert_uint_ge(b.cap, tc->len);
	ck_assert_ptr_eq(b.user, user);
	ck_assert_uint_eq(b.len, tc->len);
	ck_assert_mem_eq(kbuf, user, tc->len);

	/* Ending a write leaves the caller's buffer alone. */
	memset(kbuf, 0, tc->len);
	aior_bounce_end(&b, tc->len, false);
	ck_assert_ptr_null(b.user);
	ck_assert_uint_eq(user[0], aior_t_pattern(0));
	ck_assert_uint_eq(user[tc->len - 1], aior_t_pattern(tc->len - 1));
	aior_bounce_free(&b);
	free(base);
}
END_TEST

/* A read: exactly @done bytes come back, the rest is untouched. */
static const struct read_case {
	const char *name;
	size_t len, done;
} read_cases[] = {
	{ "full",		8192,	8192 },
	{ "short",		8192,	3000 },
	{ "one byte",		8192,	1 },
	{ "nothing",		8192,	0 },
	{ "done > len",		4096,	8192 },
};

START_TEST(test_bounce_read_copies_back_done_bytes)
{
	const struct read_case *tc = &read_cases[_i];
	struct aior_bounce b = { 0 };
	size_t i, copied = tc->done < tc->len ? tc->done : tc->len;
	uint8_t *user, *kbuf;
	void *base;

	base = malloc(tc->len + 64);
	ck_assert_ptr_nonnull(base);
	user = (uint8_t *)base + 3;
	memset(user, 0xaa, tc->len + 32);
	kbuf = aior_bounce_begin(&b, user, tc->len, 4096, false);
	ck_assert_ptr_nonnull(kbuf);
	ck_assert(aior_aligned((uintptr_t)kbuf, 4096));
	/* A read copies nothing in: the caller's bytes stay as they were. */
	ck_assert_uint_eq(user[0], 0xaa);

	for (i = 0; i < tc->len; i++)	/* the "kernel" fills it */
		kbuf[i] = aior_t_pattern(i);
	aior_bounce_end(&b, tc->done, true);
	ck_assert_ptr_null(b.user);
	for (i = 0; i < tc->len + 32; i++) {
		uint8_t want = i < copied ? aior_t_pattern(i) : 0xaa;

		ck_assert_msg(user[i] == want, "%s: byte %zu is %#x, want %#x",
			      tc->name, i, user[i], want);
	}
	/* A second end copies nothing: the buffer is no longer in use. */
	memset(user, 0xaa, tc->len);
	aior_bounce_end(&b, tc->len, true);
	ck_assert_uint_eq(user[0], 0xaa);
	aior_bounce_free(&b);
	free(base);
}
END_TEST

START_TEST(test_bounce_grows_and_reuses)
{
	struct aior_bounce b = { 0 };
	void *base;
	uint8_t *user = user_buf(1 << 20, &base);
	uint8_t *small, *big, *again;

	small = aior_bounce_begin(&b, user, 4096, 4096, true);
	ck_assert_ptr_nonnull(small);
	aior_bounce_end(&b, 4096, false);
	ck_assert_uint_ge(b.cap, 4096);

	/* Larger: a new buffer, still aligned, all of it copied. */
	big = aior_bounce_begin(&b, user, 1 << 20, 4096, true);
	ck_assert_ptr_nonnull(big);
	ck_assert_uint_ge(b.cap, 1 << 20);
	ck_assert(aior_aligned((uintptr_t)big, 4096));
	ck_assert_mem_eq(big, user, 1 << 20);
	aior_bounce_end(&b, 1 << 20, false);

	/* Smaller again: no reallocation per I/O. */
	again = aior_bounce_begin(&b, user + 7, 8192, 4096, true);
	ck_assert_ptr_eq(again, big);
	ck_assert_uint_ge(b.cap, 1 << 20);
	ck_assert_mem_eq(again, user + 7, 8192);
	aior_bounce_end(&b, 8192, false);

	/* A stricter alignment than the buffer has: a new one that has it. */
	again = aior_bounce_begin(&b, user, 8192, 1 << 21, true);
	ck_assert_ptr_nonnull(again);
	ck_assert(aior_aligned((uintptr_t)again, 1 << 21));
	ck_assert_mem_eq(again, user, 8192);
	aior_bounce_end(&b, 8192, false);
	aior_bounce_free(&b);
	free(base);
}
END_TEST

START_TEST(test_bounce_free_is_idempotent)
{
	struct aior_bounce b = { 0 };
	uint8_t user[64] = { 1, 2, 3 };

	aior_bounce_free(&b);	/* never used */
	ck_assert_ptr_null(b.buf);

	ck_assert_ptr_nonnull(aior_bounce_begin(&b, user, sizeof(user), 512,
						true));
	aior_bounce_free(&b);	/* while in use */
	ck_assert_ptr_null(b.buf);
	ck_assert_uint_eq(b.cap, 0);
	ck_assert_ptr_null(b.user);
	aior_bounce_free(&b);
	ck_assert_ptr_null(b.buf);

	/* Usable again after free. */
	ck_assert_ptr_nonnull(aior_bounce_begin(&b, user, sizeof(user), 512,
						true));
	ck_assert_mem_eq(b.buf, user, sizeof(user));
	aior_bounce_end(&b, sizeof(user), false);
	aior_bounce_free(&b);
	ck_assert_ptr_null(b.buf);
}
END_TEST

static Suite *bounce_suite(void)
{
	Suite *s = suite_create("bounce");
	TCase *tc = tcase_create("bounce");

	tcase_add_loop_test(tc, test_bounce_needed_for_misaligned_only, 0,
			    sizeof(needed_cases) / sizeof(needed_cases[0]));
	tcase_add_loop_test(tc, test_bounce_write_copies_in_aligned, 0,
			    sizeof(write_cases) / sizeof(write_cases[0]));
	tcase_add_loop_test(tc, test_bounce_read_copies_back_done_bytes, 0,
			    sizeof(read_cases) / sizeof(read_cases[0]));
	tcase_add_test(tc, test_bounce_grows_and_reuses);
	tcase_add_test(tc, test_bounce_free_is_idempotent);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return aior_t_run(bounce_suite());
}
