/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cold open path: how a file is opened (O_DIRECT, the buffered
 * fallback) and its geometry checked against the job before any I/O;
 * and its close.
 * fio may call open_file() before init (to size a block device), so
 * nothing here may count on the job's state (io_ops_data may be NULL).
 *
 * Helpers return 0 or -errno after saying what is wrong; the sign flips
 * in fio_aior_open_file(), the hook.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"

/*
 * The block sizes, offsets and alignment of the job against the file's
 * logical block size, before any I/O: the kernel would only say EINVAL
 * on the first request.  Returns 0, or -EINVAL after saying what is
 * wrong.
 */
static int check_direct_geometry(struct thread_data *td, struct fio_file *f,
				 uint32_t lbs)
{
	static const char *const dname[] = { "read", "write", "trim" };
	struct thread_options *to = &td->o;
	int d, i;

	if (to->bs_unaligned) {
		aior_log("libaioring: %s: bs_unaligned is set, but direct=1 "
			 "needs block sizes that are multiples of the logical "
			 "block size %u\n", f->file_name, lbs);
		return -EINVAL;
	}
	for (d = DDIR_READ; d <= DDIR_TRIM; d++) {
		const unsigned long long v[] = {
			to->bs[d], to->min_bs[d], to->max_bs[d], to->ba[d],
		};
		static const char *const vname[] = {
			"bs", "bs (min)", "bs (max)", "blockalign",
		};

		if ((d == DDIR_READ && !td_read(td)) ||
		    (d == DDIR_WRITE && !td_write(td)) ||
		    (d == DDIR_TRIM && !td_trim(td)))
			continue;
		for (i = 0; i < (int)(sizeof(v) / sizeof(v[0])); i++) {
			if (v[i] && !aior_aligned(v[i], lbs)) {
				aior_log("libaioring: %s: %s %s=%llu is not a "
					 "multiple of the logical block size "
					 "%u (direct=1 needs sizes and offsets "
					 "aligned to it)\n", f->file_name,
					 dname[d], vname[i], v[i], lbs);
				return -EINVAL;
			}
		}
		for (i = 0; i < (int)to->bssplit_nr[d]; i++) {
			unsigned long long bs = to->bssplit[d][i].bs;

			if (!aior_aligned(bs, lbs)) {
				aior_log("libaioring: %s: %s bssplit entry "
					 "%llu is not a multiple of the "
					 "logical block size %u (direct=1)\n",
					 f->file_name, dname[d], bs, lbs);
				return -EINVAL;
			}
		}
	}
	if (!aior_aligned(f->file_offset, lbs)) {
		aior_log("libaioring: %s: offset=%llu is not a multiple of the "
			 "logical block size %u (direct=1)\n", f->file_name,
			 (unsigned long long)f->file_offset, lbs);
		return -EINVAL;
	}
	return 0;
}

/*
 * The block size in force for @f (detected, or aio_block_size=) and the
 * job's geometry against it.  Returns 0 or -errno after saying why.
 */
static int setup_geometry(struct thread_data *td, struct fio_file *f,
			  struct aior_file *af, int fd)
{
	struct aior_options *o = td->eo;
	struct aior_data *ld = td->io_ops_data;	/* NULL before init */
	struct aior_geometry geo;
	enum aior_bs_err why;
	bool mismatch;
	uint32_t bs;
	int ret;

	ret = aior_geometry(fd, af->is_blockdev, &geo);
	if (ret) {
		aior_log("libaioring: %s: cannot read its block size: %s\n",
			 f->file_name, strerror(-ret));
		return ret;
	}
	if (aior_bs_resolve(geo.lbs, o->block_size, &bs, &mismatch, &why)) {
		aior_log("libaioring: %s: aio_block_size=%u: %s "
			 "(detected %u)\n",
			 f->file_name, o->block_size, aior_bs_strerror(why),
			 geo.lbs);
		return -EINVAL;
	}
	/*
	 * Once per job, like the fallback notice: fio opens a file several
	 * times (to size a block device before the job exists, then again
	 * for the verify pass).
	 */
	if (mismatch && ld && !ld->said_mismatch) {
		aior_log("libaioring: %s: aio_block_size=%u differs from the "
			 "detected block size %u\n", f->file_name, bs, geo.lbs);
		ld->said_mismatch = true;
	}
	if (af->is_blockdev && !aior_aligned(geo.size, bs)) {
		aior_log("libaioring: %s: size %llu is not a multiple of the "
			 "block size %u\n", f->file_name,
			 (unsigned long long)geo.size, bs);
		return -EINVAL;
	}
	/* The seed keeps the detected size as the memory alignment. */
	af->mem_align = geo.mem_align > 1 ? geo.mem_align : 1;
	return check_direct_geometry(td, f, bs);
}

static int open_flags(struct thread_data *td, const struct fio_file *f)
{
	int flags = td->o.sync_io;

	if (td_write(td) || td_trim(td)) {
		flags |= read_only ? O_RDONLY : O_RDWR;
		if (f->filetype == FIO_TYPE_FILE && td->o.allow_create)
			flags |= O_CREAT;
	} else {
		flags |= O_RDONLY;
	}
	return flags;
}

/* aior_open() of @f failed with @ret: say why, as fio's open error. */
static int open_refused(struct thread_data *td, const struct fio_file *f,
			const struct aior_open_req *req, int ret)
{
	if (ret == -EINVAL && req->direct)
		aior_log("libaioring: %s: the file system refuses O_DIRECT "
			 "(EINVAL) and direct_fallback=0\n", f->file_name);
	else if (ret == -ENOTBLK)
		aior_log("libaioring: %s: neither a regular file nor a block "
			 "device\n", f->file_name);
	else
		aior_log("libaioring: %s: cannot open for %s: %s\n",
			 f->file_name,
			 (req->flags & O_ACCMODE) == O_RDONLY ?
			 "reading" : "reading and writing", strerror(-ret));
	td_verror(td, ret == -ENOTBLK ? EINVAL : -ret, "open");
	return 1;
}

/*
 * @f was opened buffered, as its file system refuses O_DIRECT.  fio may
 * open files (for their size) before init, with no @ld: then it is said
 * every time, else once per job.
 */
static void note_fallback(const struct fio_file *f, struct aior_data *ld)
{
	if (!ld || !ld->said_fallback)
		aior_log("libaioring: %s: the file system refuses O_DIRECT; "
			 "using buffered I/O (direct_fallback=0 makes this an "
			 "error)\n", f->file_name);
	if (ld) {
		ld->cnt.direct_fallbacks++;
		ld->said_fallback = true;
	}
}

int fio_aior_open_file(struct thread_data *td, struct fio_file *f)
{
	struct aior_options *o = td->eo;
	struct aior_data *ld = td->io_ops_data;	/* NULL before init */
	struct aior_open_req req = {
		.path = f->file_name,
		.flags = open_flags(td, f),
		.direct = td->o.odirect,
		.allow_buffered = o->direct_fallback,
	};
	struct aior_open_res res;
	struct aior_file *af;
	int ret;

	ret = aior_open(&req, &res);
	if (ret)
		return open_refused(td, f, &req, ret);

	af = f->engine_data;
	if (!af) {
		af = calloc(1, sizeof(*af));
		if (!af) {
			ret = -ENOMEM;
			goto fail;
		}
		f->engine_data = af;
	}
	af->sq = NULL;		/* bound at first use: see file_sq() */
	af->direct = res.direct;
	af->is_blockdev = res.is_blockdev;
	af->mem_align = 1;

	if (res.fell_back)
		note_fallback(f, ld);
	if (af->direct) {
		ret = setup_geometry(td, f, af, res.fd);
		if (ret)
			goto fail;
	} else {
		/* uncached=1: can this file take RWF_DONTCACHE? */
		ret = aior_uncached_open(td, f, res.fd, res.is_blockdev);
		if (ret)
			goto fail;
	}
	f->fd = res.fd;
	return 0;
fail:
	close(res.fd);
	td_verror(td, -ret, "open");
	return 1;
}

int fio_aior_close_file(struct thread_data *td, struct fio_file *f)
{
	struct aior_data *ld = td->io_ops_data;	/* NULL before init */
	struct aior_file *af = f->engine_data;
	int ret = 0;

	/*
	 * fio closes a file once no io_u holds it, so nothing of it should
	 * be in flight; drain anyway rather than close under the kernel.
	 */
	if (ld && af && af->sq && (af->sq->n || af->sq->ctx.inflight))
		aior_quiesce(td, ld, "close");
	if (f->fd != -1 && close(f->fd) < 0)
		ret = errno;
	f->fd = -1;
	free(af);
	f->engine_data = NULL;
	return ret;
}
