/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cold hooks around a job: init (options that need no file, the
 * job's arrays), post_init (the aio contexts, in the job's own process or
 * thread), cleanup (drain, report, free) and the per-io_u state; and the
 * ops table fio loads, at the end.  The hot hooks, in fio's call order,
 * are engine.c's.
 *
 * Helpers return 0 or -errno; the sign flips in the hooks, which return
 * what fio expects (1 on failure).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "engine.h"

/*
 * coalesce=adaptive holds a context's requests back only after this many
 * io_submit() calls in a row completed everything inside the call: a
 * device that merely completes an earlier request during one call does
 * not pass.
 */
#define AIOR_INLINE_STREAK	16

int fio_aior_init(struct thread_data *td)
{
	struct aior_options *o = td->eo;
	struct aior_data *ld;

	/* The fio version was checked when fio loaded us (guard.c). */
	if (aior_compat_check(td))
		return 1;

	/* The rules that need no file, so buffered jobs are checked too. */
	if (o->block_size) {
		enum aior_bs_err why;
		bool mismatch;
		uint32_t bs;

		if (aior_bs_resolve(0, o->block_size, &bs, &mismatch, &why)) {
			aior_log("libaioring: job '%s': aio_block_size=%u: "
				 "%s\n", td->o.name, o->block_size,
				 aior_bs_strerror(why));
			return 1;
		}
	}

	ld = calloc(1, sizeof(*ld));
	if (!ld)
		return 1;
	ld->group.efd = -1;
	ld->stats_fd = -1;
	ld->depth = td->o.iodepth ? td->o.iodepth : 1;
	ld->events = calloc(ld->depth, sizeof(*ld->events));
	ld->parked = calloc(ld->depth, sizeof(*ld->parked));
	td->io_ops_data = ld;
	if (!ld->events || !ld->parked)
		return 1;
	/* A file that cannot be written fails the job now, before any I/O. */
	if (aior_stats_file_open(td, ld))
		return 1;
	return aior_flags_init(td, ld);
}

static int setup_queues(struct thread_data *td, struct aior_data *ld,
			unsigned int nr, unsigned int ring)
{
	struct aior_options *o = td->eo;
	unsigned int i;
	int ret;

	ld->sqs = calloc(nr, sizeof(*ld->sqs));
	ld->dirty = calloc(nr, sizeof(*ld->dirty));
	if (!ld->sqs || !ld->dirty)
		return -ENOMEM;
	ld->nr_sqs = nr;
	ret = aior_group_init(&ld->group, nr, o->wait_mode);
	if (ret)
		return ret;
	/* What prep() has to add to an iocb beyond the request itself. */
	ld->prep_slow = ld->prep_extra || ld->group.efd >= 0;

	for (i = 0; i < nr; i++) {
		struct aior_sq *sq = &ld->sqs[i];

		sq->iocbs = calloc(ld->depth, sizeof(*sq->iocbs));
		if (!sq->iocbs)
			return -ENOMEM;
		ret = aior_ctx_setup(&sq->ctx, ring, o->reap_mode);
		if (ret)
			return ret;
		/*
		 * Only a submit that might have been held asks whether the
		 * kernel completed it inline: a queue of hold_max never is
		 * (fio's own batches of iodepth_batch_submit, the usual
		 * submit at QD128), and nothing is with coalescing off.
		 */
		sq->ctx.watch_below = ld->hold_max;
		ret = aior_group_add(&ld->group, &sq->ctx);
		if (ret)
			return ret;
	}
	return 0;
}

/* Undo setup_queues(), however far it got. */
static void free_queues(struct aior_data *ld)
{
	unsigned int i;

	for (i = 0; i < ld->nr_sqs; i++) {
		aior_ctx_teardown(&ld->sqs[i].ctx);
		free(ld->sqs[i].iocbs);
	}
	free(ld->sqs);
	free(ld->dirty);
	ld->sqs = NULL;
	ld->dirty = NULL;
	ld->nr_sqs = 0;
	ld->nr_dirty = 0;
	aior_group_destroy(&ld->group);
}

/*
 * The aio contexts belong to the job's process (or thread), so they are
 * made here, not in init, which may run elsewhere.
 */
int fio_aior_post_init(struct thread_data *td)
{
	struct aior_options *o = td->eo;
	struct aior_data *ld = job_data(td);
	unsigned int nr = td->files_index ? td->files_index : 1;
	unsigned int ring = o->ring_entries ? o->ring_entries : ld->depth;
	unsigned int coalesce;
	int ret;

	if (o->ctx_mode == AIOR_CTX_SHARED)
		nr = 1;
	/*
	 * submit_mode=single submits inside queue().  So does iodepth=1: one
	 * request at a time can be neither batched nor held, and the queue
	 * and commit steps would only cost instructions.  Coalescing needs
	 * fio to commit and reap in turn: with either, there is nothing to
	 * hold.  An explicit iodepth_batch_submit caps what is held; fio's
	 * default (1) does not say anything, so then the cap is iodepth.
	 */
	ld->single = o->submit_mode == AIOR_SUBMIT_SINGLE || ld->depth == 1;
	coalesce = ld->single ? AIOR_COALESCE_OFF : o->coalesce;
	ld->hold_max = ld->depth;
	if (fio_option_is_set(&td->o, iodepth_batch) && td->o.iodepth_batch &&
	    td->o.iodepth_batch < ld->depth)
		ld->hold_max = td->o.iodepth_batch;
	if (coalesce == AIOR_COALESCE_OFF)
		ld->hold_max = 0;
	ld->hold_streak = coalesce == AIOR_COALESCE_ADAPTIVE ?
			  AIOR_INLINE_STREAK : 0;
	ret = setup_queues(td, ld, nr, ring);
	if (ret == -EAGAIN && nr > 1) {
		/* fs.aio-max-nr: one shared context may still fit. */
		free_queues(ld);
		ret = setup_queues(td, ld, 1, ring);
		if (!ret) {
			aior_log("libaioring: job '%s': fs.aio-max-nr leaves no "
				 "room for %u per-file contexts of %u events; "
				 "using one shared context\n", td->o.name, nr,
				 ring);
			ld->cnt.ctx_fallbacks++;
		}
		nr = 1;
	}
	if (ret) {
		if (ret == -ENOMEM)
			aior_log("libaioring: job '%s': out of memory\n",
				 td->o.name);
		else
			aior_report_setup_error(td, ret, ring, nr);
		free_queues(ld);
		td_verror(td, -ret, "io_setup");
		return 1;
	}
	return 0;
}

void fio_aior_cleanup(struct thread_data *td)
{
	struct aior_options *o = td->eo;
	struct aior_data *ld = job_data(td);

	if (!ld)
		return;
	/*
	 * fio reaps what it has in flight before it gets here; anything left
	 * is drained (bounded) so no context is destroyed under the kernel.
	 */
	if (ld->nr_sqs && (ld->nr_dirty || aior_group_inflight(&ld->group)))
		aior_quiesce(td, ld, "cleanup");
	if (o && (o->engine_stats || ld->stats_fd >= 0) && ld->nr_sqs)
		aior_report_counters(td, ld);
	if (ld->stats_fd >= 0)
		close(ld->stats_fd);
	free_queues(ld);
	aior_flags_cleanup(ld);
	free(ld->events);
	free(ld->parked);
	free(ld);
	td->io_ops_data = NULL;
}

int fio_aior_io_u_init(struct thread_data *td, struct io_u *io_u)
{
	struct aior_options *o = td->eo;
	struct aior_req *req = calloc(1, sizeof(*req));

	if (!req)
		return 1;
	/* What prep() does not write per request: see prep_iocb(). */
	req->iocb.data = io_u;
	if (o->vectored) {
		req->iocb.u.c.buf = &req->iov;
		req->iocb.u.c.nbytes = 1;
	}
	io_u->engine_data = req;
	return 0;
}

void fio_aior_io_u_free(struct thread_data *td, struct io_u *io_u)
{
	struct aior_req *req = io_u->engine_data;

	if (req) {
		aior_bounce_free(&req->bounce);
		free(req);
	}
	io_u->engine_data = NULL;
}

/*
 * Not .cancel: in fio 3.33 a cancel that returns 0 lets fio free io_us
 * the kernel still writes into.  FIO_NO_OFFLOAD: only the job's own
 * thread queues and reaps.  FIO_ASYNCIO_SYNC_TRIM: trim completes inside
 * queue(), so fio stamps its issue time itself.
 */
__attribute__((visibility("default")))
struct ioengine_ops ioengine = {
	.name			= "libaioring",
	.version		= FIO_IOOPS_VERSION,
	.flags			= AIOR_FLAG_SETS_ISSUE_TIME |
				  FIO_ASYNCIO_SYNC_TRIM | AIOR_FLAG_NO_OFFLOAD |
				  AIOR_FLAG_ATOMICWRITES,
	.init			= fio_aior_init,
	.post_init		= fio_aior_post_init,
	.open_file		= fio_aior_open_file,
	.close_file		= fio_aior_close_file,
	.get_file_size		= generic_get_file_size,
	.prep			= fio_aior_prep,
	.queue			= fio_aior_queue,
	.commit			= fio_aior_commit,
	.getevents		= fio_aior_getevents,
	.event			= fio_aior_event,
	.cleanup		= fio_aior_cleanup,
	.io_u_init		= fio_aior_io_u_init,
	.io_u_free		= fio_aior_io_u_free,
	.options		= aior_fio_options,
	.option_struct_size	= sizeof(struct aior_options),
};
