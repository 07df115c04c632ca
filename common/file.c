/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Opening files the seed's way (O_DIRECT, buffered retry) and trimming.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aioring.h"

int aior_open(const struct aior_open_req *req, struct aior_open_res *res)
{
	int flags = req->flags | O_CLOEXEC;
	struct stat st;
	int fd, err;

	res->fd = -1;
	res->direct = req->direct;
	res->fell_back = false;
	res->is_blockdev = false;

	fd = aior_sys->open(req->path, flags | (req->direct ? O_DIRECT : 0),
			    0644);
	/*
	 * The seed retries without O_DIRECT for "non-disk files".  Only
	 * EINVAL means "this file system cannot do O_DIRECT"; ENOENT,
	 * EACCES, EROFS... would fail buffered too, and must be seen as
	 * they are.
	 */
	if (fd == -EINVAL && req->direct && req->allow_buffered) {
		fd = aior_sys->open(req->path, flags, 0644);
		if (fd >= 0) {
			res->direct = false;
			res->fell_back = true;
		}
	}
	if (fd < 0)
		return fd;

	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		err = -ENOTBLK;
		goto fail;
	}
	res->fd = fd;
	res->is_blockdev = S_ISBLK(st.st_mode);
	return 0;
fail:
	close(fd);
	res->fd = -1;
	return err;
}

int aior_trim(int fd, bool is_blockdev, uint64_t off, uint64_t len)
{
	if (is_blockdev) {
		uint64_t range[2] = { off, len };

		if (ioctl(fd, BLKDISCARD, range) < 0)
			return -errno;
		return 0;
	}
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) < 0)
		return -errno;
	return 0;
}
