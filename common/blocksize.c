/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Direct-I/O geometry detection and the seed's block-size rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "aioring.h"

/* What a regular file gets when its file system reports no alignment. */
#define AIOR_FALLBACK_LBS	512u

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int aior_geometry(int fd, bool is_blockdev, struct aior_geometry *geo)
{
	struct statx stx;
	int lbs;

	geo->lbs = 0;
	geo->mem_align = 1;
	geo->size = 0;
	geo->source = AIOR_BS_FALLBACK;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_SIZE | STATX_DIOALIGN, &stx))
		return -errno;
	geo->size = stx.stx_size;

	if (is_blockdev) {
		if (ioctl(fd, BLKSSZGET, &lbs) < 0)
			return -errno;
		if (ioctl(fd, BLKGETSIZE64, &geo->size) < 0)
			return -errno;
		geo->lbs = (uint32_t)lbs;
		geo->mem_align = geo->lbs;
		geo->source = AIOR_BS_BLKSSZGET;
		/* Newer kernels accept smaller buffer alignment: use it. */
		if ((stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_mem_align)
			geo->mem_align = stx.stx_dio_mem_align;
		return 0;
	}

	if ((stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align) {
		geo->lbs = stx.stx_dio_offset_align;
		geo->mem_align = stx.stx_dio_mem_align ?
				 stx.stx_dio_mem_align : geo->lbs;
		geo->source = AIOR_BS_STATX;
		return 0;
	}
	/*
	 * No report (older kernel, or a file system that does not say):
	 * assume the smallest sector any O_DIRECT path takes.  Too small a
	 * guess lets the kernel refuse an I/O with EINVAL; too large would
	 * refuse jobs that work.
	 */
	geo->lbs = AIOR_FALLBACK_LBS;
	geo->mem_align = AIOR_FALLBACK_LBS;
	return 0;
}

int aior_bs_resolve(uint32_t detected, uint32_t override, uint32_t *bs,
		    bool *mismatch, enum aior_bs_err *why)
{
	uint32_t v = override ? override : detected;

	*mismatch = false;
	*why = AIOR_BS_OK;
	if (!override && !detected)
		*why = AIOR_BS_EUNKNOWN;
	else if (override && override < detected)
		*why = AIOR_BS_ESMALLER;
	else if (v < 512)
		*why = AIOR_BS_ETOOSMALL;
	else if (!is_pow2(v))
		*why = AIOR_BS_ENOTPOW2;
	if (*why != AIOR_BS_OK)
		return -EINVAL;

	*mismatch = override && detected && override != detected;
	*bs = v;
	return 0;
}

const char *aior_bs_strerror(enum aior_bs_err why)
{
	switch (why) {
	case AIOR_BS_OK:
		return "valid";
	case AIOR_BS_EUNKNOWN:
		return "block size could not be detected; set one";
	case AIOR_BS_ESMALLER:
		return "must not be smaller than the detected block size";
	case AIOR_BS_ETOOSMALL:
		return "must be at least 512";
	case AIOR_BS_ENOTPOW2:
		return "must be a power of two";
	}
	return "unknown rule";
}
