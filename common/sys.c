/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The real syscalls behind common/'s seam.  libaio's wrappers already
 * return -errno; open() is brought to the same convention.
 */
#include <errno.h>
#include <fcntl.h>

#include "aioring.h"

static int sys_open(const char *path, int flags, mode_t mode)
{
	int fd = open(path, flags, mode);

	return fd < 0 ? -errno : fd;
}

static int sys_io_setup(unsigned int nr, io_context_t *ctx)
{
	return io_setup((int)nr, ctx);
}

static int sys_io_submit(io_context_t ctx, long nr, struct iocb **iocbs)
{
	return io_submit(ctx, nr, iocbs);
}

static int sys_io_getevents(io_context_t ctx, long min, long max,
			    struct io_event *events, struct timespec *timeout)
{
	return io_getevents(ctx, min, max, events, timeout);
}

const struct aior_sys aior_sys_linux = {
	.io_setup	= sys_io_setup,
	.io_destroy	= io_destroy,
	.io_submit	= sys_io_submit,
	.io_getevents	= sys_io_getevents,
	.open		= sys_open,
};

const struct aior_sys *aior_sys = &aior_sys_linux;
