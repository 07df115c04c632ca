/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Opening files the seed's way (O_DIRECT, buffered retry), trimming, and
 * what the kernel takes on a file (aior_probe_read, aior_fs_name).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
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

int aior_probe_read(struct aior_ctx *c, int fd, int rw_flags, size_t len,
		    const struct timespec *timeout)
{
	struct timespec left;
	struct io_event ev;
	struct iocb iocb, *p = &iocb;
	void *buf;
	int ret;

	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	io_prep_pread(&iocb, fd, buf, len, 0);
	iocb.aio_rw_flags = rw_flags;
	/*
	 * The seam's calls, not aior_ctx_submit()/aior_ctx_wait(): those
	 * are inlined into the hot path while it is their only caller
	 * (perf/compare.py insn-floors counts what another caller costs it).
	 */
	do {
		ret = aior_sys->io_submit(c->io, 1, &p);
	} while (ret == -EINTR);
	if (ret <= 0) {
		free(buf);
		return ret ? ret : -EAGAIN;	/* 0: nothing taken */
	}
	/* A signal restarts the wait with the whole @timeout: still bounded. */
	do {
		left = *timeout;
		ret = aior_sys->io_getevents(c->io, 1, 1, &ev, &left);
	} while (ret == -EINTR);
	/*
	 * The buffer is the kernel's until the read is reaped: if the wait
	 * ended without it, it stays allocated.
	 */
	if (ret <= 0)
		return ret ? ret : -ETIMEDOUT;
	free(buf);
	return (long)ev.res < 0 ? (int)(long)ev.res : 0;
}

int aior_fs_name(int fd, char *buf, size_t len)
{
	char want[32], *line = NULL, *sep, *type, *end;
	size_t cap = 0;
	struct statfs sfs;
	struct stat st;
	FILE *mi;
	int ret = -ENOENT;

	if (fstat(fd, &st) < 0)
		return -errno;
	snprintf(want, sizeof(want), "%u:%u", major(st.st_dev),
		 minor(st.st_dev));
	/*
	 * "36 35 98:0 /root /mnt opts [optional fields] - ext4 /dev/x opts":
	 * the third field is the device, the type follows " - ".
	 */
	mi = fopen("/proc/self/mountinfo", "re");
	while (mi && getline(&line, &cap, mi) > 0) {
		char *dev = strchr(line, ' ');

		if (!dev || !(dev = strchr(dev + 1, ' ')))
			continue;
		dev++;
		if (strncmp(dev, want, strlen(want)) ||
		    dev[strlen(want)] != ' ')
			continue;
		sep = strstr(dev, " - ");
		if (!sep)
			continue;
		type = sep + 3;
		end = strchr(type, ' ');
		if (end)
			*end = '\0';
		snprintf(buf, len, "%s", type);
		ret = 0;
		break;
	}
	free(line);
	if (mi)
		fclose(mi);
	if (!ret)
		return 0;
	if (fstatfs(fd, &sfs) < 0)
		return -errno;
	snprintf(buf, len, "f_type 0x%lx", (unsigned long)sfs.f_type);
	return 0;
}
