/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The seed's block-size rules, aior_bs_resolve(), one row per rule and
 * per edge, and the texts that name the broken rule.
 */
#include <errno.h>
#include <string.h>

#include "unit.h"

#define UNSET	0xdeadbeefu

static const struct bs_case {
	const char *name;
	uint32_t detected, override;
	int ret;
	uint32_t bs;
	bool mismatch;
	enum aior_bs_err why;
} bs_cases[] = {
	/* No override: the detected size, which must be known. */
	{ "detected 512",	512,  0,    0, 512,  false, AIOR_BS_OK },
	{ "detected 4096",	4096, 0,    0, 4096, false, AIOR_BS_OK },
	{ "detected 64k",	65536, 0,   0, 65536, false, AIOR_BS_OK },
	{ "nothing known",		0,    0,    -EINVAL, UNSET, false,
					AIOR_BS_EUNKNOWN },
	/* An override: >= detected, >= 512, a power of two. */
	{ "override = detected", 4096, 4096, 0, 4096, false, AIOR_BS_OK },
	{ "override > detected", 512,  4096, 0, 4096, true,  AIOR_BS_OK },
	{ "override, none detected", 0, 4096, 0, 4096, false, AIOR_BS_OK },
	{ "override 512, none detected", 0, 512, 0, 512, false, AIOR_BS_OK },
	{ "override 2^31",		512,  1u << 31, 0, 1u << 31, true,
					AIOR_BS_OK },
	{ "override < detected",	4096, 512,  -EINVAL, UNSET, false,
					AIOR_BS_ESMALLER },
	{ "override 2048 < 4096",	4096, 2048, -EINVAL, UNSET, false,
					AIOR_BS_ESMALLER },
	{ "override 256 < 512",		512,  256,  -EINVAL, UNSET, false,
					AIOR_BS_ESMALLER },
	{ "override 256, none detected", 0,   256,  -EINVAL, UNSET, false,
					AIOR_BS_ETOOSMALL },
	{ "override 1, none detected",	0,    1,    -EINVAL, UNSET, false,
					AIOR_BS_ETOOSMALL },
	{ "override 511, none detected", 0,   511,  -EINVAL, UNSET, false,
					AIOR_BS_ETOOSMALL },
	{ "override 1536",		0,    1536, -EINVAL, UNSET, false,
					AIOR_BS_ENOTPOW2 },
	{ "override 1536 > detected",	512,  1536, -EINVAL, UNSET, false,
					AIOR_BS_ENOTPOW2 },
	{ "override 4097",		4096, 4097, -EINVAL, UNSET, false,
					AIOR_BS_ENOTPOW2 },
	{ "override UINT32_MAX",	512,  UINT32_MAX, -EINVAL, UNSET, false,
					AIOR_BS_ENOTPOW2 },
};

START_TEST(test_bs_resolve_rules)
{
	const struct bs_case *tc = &bs_cases[_i];
	enum aior_bs_err why = (enum aior_bs_err)-1;
	bool mismatch = !tc->mismatch;
	uint32_t bs = UNSET;
	int ret;

	ret = aior_bs_resolve(tc->detected, tc->override, &bs, &mismatch,
			      &why);
	ck_assert_msg(ret == tc->ret, "%s: returned %d, want %d", tc->name,
		      ret, tc->ret);
	ck_assert_msg(why == tc->why, "%s: why %d (%s), want %d (%s)",
		      tc->name, why, aior_bs_strerror(why), tc->why,
		      aior_bs_strerror(tc->why));
	ck_assert_msg(mismatch == tc->mismatch, "%s: mismatch %d", tc->name,
		      mismatch);
	/* On failure *bs says nothing; on success it is the size in force. */
	if (!tc->ret)
		ck_assert_msg(bs == tc->bs, "%s: bs %u, want %u", tc->name,
			      bs, tc->bs);
}
END_TEST

static const enum aior_bs_err all_why[] = {
	AIOR_BS_OK, AIOR_BS_EUNKNOWN, AIOR_BS_ESMALLER, AIOR_BS_ETOOSMALL,
	AIOR_BS_ENOTPOW2,
};

START_TEST(test_bs_strerror_distinct_texts)
{
	size_t n = sizeof(all_why) / sizeof(all_why[0]), i, j;

	for (i = 0; i < n; i++) {
		const char *a = aior_bs_strerror(all_why[i]);

		ck_assert_ptr_nonnull(a);
		ck_assert_uint_gt(strlen(a), 0);
		for (j = 0; j < i; j++)
			ck_assert_msg(strcmp(a, aior_bs_strerror(all_why[j])),
				      "rules %d and %d read alike: %s",
				      all_why[i], all_why[j], a);
	}
	/* A value out of range still gets text, and no crash. */
	ck_assert_ptr_nonnull(aior_bs_strerror((enum aior_bs_err)99));
	ck_assert_uint_gt(strlen(aior_bs_strerror((enum aior_bs_err)99)), 0);
}
END_TEST

static const struct aligned_case {
	uint64_t v, align;
	bool aligned;
} aligned_cases[] = {
	{ 0, 512, true },
	{ 512, 512, true },
	{ 4096, 512, true },
	{ 4608, 4096, false },
	{ 1, 512, false },
	{ 511, 512, false },
	{ 12345, 1, true },
	{ 1ull << 40, 4096, true },
	{ (1ull << 40) + 512, 4096, false },
};

START_TEST(test_aligned)
{
	const struct aligned_case *tc = &aligned_cases[_i];

	ck_assert_msg(aior_aligned(tc->v, tc->align) == tc->aligned,
		      "%llu aligned to %llu", (unsigned long long)tc->v,
		      (unsigned long long)tc->align);
}
END_TEST

static Suite *blocksize_suite(void)
{
	Suite *s = suite_create("blocksize");
	TCase *tc = tcase_create("rules");

	tcase_add_loop_test(tc, test_bs_resolve_rules, 0,
			    sizeof(bs_cases) / sizeof(bs_cases[0]));
	tcase_add_test(tc, test_bs_strerror_distinct_texts);
	tcase_add_loop_test(tc, test_aligned, 0,
			    sizeof(aligned_cases) / sizeof(aligned_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return aior_t_run(blocksize_suite());
}
