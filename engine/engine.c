/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libaioring: a fio external ioengine driving Linux native AIO the way
 * SPDK's AIO bdev does: preadv/pwritev iocbs handed to io_submit() with
 * EAGAIN as backpressure, completions reaped from the kernel's ring in
 * user space, a poller over one context per file, and a reset that drains
 * every in-flight request before it reports.
 *
 * The hot hooks, in the order fio calls them: prep, queue, commit,
 * getevents, event.  Opening and closing files are open.c's; the cold
 * hooks around a job, init, post_init and cleanup, are setup.c's.
 *
 * Accounting invariant: every request fio believes in flight is in
 * exactly one place: a submission queue (queued, not yet accepted), a
 * context (accepted by the kernel), or the parked array (completed,
 * waiting for getevents() to report it).  Nothing leaves one place
 * without entering the next, so nothing is lost.
 *
 * Out of line on purpose.  A hook that calls a function and then has work
 * left must save registers on every request, so each hook's rarer paths
 * are functions of their own, reached as the last thing the hook does (a
 * tail call): AIOR_TAIL marks them, AIOR_COLD the error and fallback
 * paths among them (common/aioring.h).  The guard is a count, not a
 * reading of the code: jobs/insn-floors.json holds the engine's own
 * instructions per request, and CI fails a change that raises them
 * (perf/compare.py insn-floors).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "engine.h"
#include "plant.h"

/* The seed re-polls in-flight counts on a 500 us timer during a reset. */
#define AIOR_DRAIN_RETRY_NS	500000ull

/* Reads and writes go through aio; fio's ddir_rw() also counts trim. */
static inline bool is_data_ddir(enum fio_ddir ddir)
{
	return ddir == DDIR_READ || ddir == DDIR_WRITE;
}

/* ---- prep / queue / commit: the hot submit path ---- */

/*
 * The queue of @f's context.  fio opens block devices to size them before
 * the job's contexts exist (even in another process), so the binding is
 * made on the first I/O, not at open.
 */
static inline struct aior_sq *file_sq(struct aior_data *ld,
				      struct fio_file *f)
{
	struct aior_file *af = f->engine_data;

	if (!af->sq)
		af->sq = &ld->sqs[ld->nr_sqs > 1 ? f->fileno % ld->nr_sqs : 0];
	return af->sq;
}

/*
 * The rarer parts of an iocb: the group's eventfd (a job with several
 * contexts that sleeps, wait_mode=block) and libaio's per-request options
 * (priority, nowait, atomic).  One test in prep() covers both.
 */
static AIOR_TAIL int prep_slow(struct thread_data *td, struct aior_data *ld,
			       struct io_u *io_u, struct iocb *iocb)
{
	aior_group_prep_iocb(&ld->group, iocb);
	if (ld->prep_extra)
		aior_flags_prep(td, ld, io_u, iocb);
	return 0;
}

/*
 * @req's iocb for @io_u's data, which is in @buf.  Only what changes from
 * one request to the next is written: fio_aior_io_u_init() set the rest
 * (the io_u, the iovec, no priority and no flags) once.
 */
static inline int prep_iocb(struct thread_data *td, struct aior_data *ld,
			    struct aior_req *req, struct io_u *io_u,
			    void *buf)
{
	const struct aior_options *o = td->eo;
	struct iocb *iocb = &req->iocb;
	bool read = io_u->ddir == DDIR_READ;

	iocb->aio_fildes = io_u->file->fd;
	iocb->u.c.offset = io_u->offset;
	if (o->vectored) {
		iocb->aio_lio_opcode = read ? IO_CMD_PREADV : IO_CMD_PWRITEV;
		req->iov.iov_base = buf;
		req->iov.iov_len = io_u->xfer_buflen;
	} else {
		/* One buffer: the kernel need not copy in an iovec. */
		iocb->aio_lio_opcode = read ? IO_CMD_PREAD : IO_CMD_PWRITE;
		iocb->u.c.buf = buf;
		iocb->u.c.nbytes = io_u->xfer_buflen;
	}
	if (ld->prep_slow)
		return prep_slow(td, ld, io_u, iocb);
	return 0;
}

/*
 * @io_u's buffer is not aligned for O_DIRECT: give the kernel an aligned
 * copy instead.  Write data is copied in at queue(), not here: fio fills
 * in verify headers and scrambles buffers after prep.
 */
static AIOR_TAIL int prep_bounced(struct thread_data *td,
				  struct aior_data *ld, struct aior_req *req,
				  struct io_u *io_u, uint32_t align)
{
	void *buf = aior_bounce_begin(&req->bounce, io_u->xfer_buf,
				      io_u->xfer_buflen, align, false);

	if (!buf)
		return ENOMEM;
	req->bounced = true;
	ld->cnt.bounces++;
	return prep_iocb(td, ld, req, io_u, buf);
}

int fio_aior_prep(struct thread_data *td, struct io_u *io_u)
{
	struct aior_data *ld = job_data(td);
	struct aior_req *req = io_u->engine_data;
	struct aior_file *af = io_u->file->engine_data;

	req->bounced = false;
	if (!is_data_ddir(io_u->ddir))
		return 0;
	if (aior_bounce_needed(io_u->xfer_buf, af->mem_align))
		return prep_bounced(td, ld, req, io_u, af->mem_align);
	return prep_iocb(td, ld, req, io_u, io_u->xfer_buf);
}

/*
 * fio stamps issue time itself unless told we do (3.31+, compat.h): after
 * io_submit().
 */
static void mark_issued(struct thread_data *td, struct iocb **iocbs,
			unsigned int nr)
{
	struct timespec now;
	unsigned int i;

	io_u_mark_submit(td, nr);
	if (!aior_stamps_issue_time(td))
		return;
	fio_gettime(&now, NULL);
	for (i = 0; i < nr; i++) {
		struct io_u *io_u = iocbs[i]->data;

		io_u->issue_time = now;
		io_u_queued(td, io_u);
	}
	if (td->o.read_iolog_file)
		td->last_issue = now;
}

/* mark_issued() of one request, its time stamped in place. */
static inline void mark_issued_one(struct thread_data *td, struct io_u *io_u)
{
	io_u_mark_submit(td, 1);
	if (!aior_stamps_issue_time(td))
		return;
	fio_gettime(&io_u->issue_time, NULL);
	if (td->o.read_iolog_file)
		td->last_issue = io_u->issue_time;
	io_u_queued(td, io_u);
}

/* Complete @iocb's request with @res (-errno) through getevents(). */
static void park(struct aior_data *ld, struct iocb *iocb, long res)
{
	struct io_event *ev = &ld->parked[ld->nr_parked++];

	ev->data = iocb->data;
	ev->obj = iocb;
	ev->res = (unsigned long)res;
	ev->res2 = 0;
}

/*
 * Queue @iocb on @sq for the next submit_dirty().  There is always room:
 * a queue never holds more than fio has in flight, and sq_submit() moves
 * what the kernel left to the front.
 */
static inline void sq_push(struct aior_data *ld, struct aior_sq *sq,
			   struct iocb *iocb)
{
	sq->iocbs[sq->n++] = iocb;
	ld->held = false;
	if (!sq->dirty) {
		sq->dirty = true;
		ld->dirty[ld->nr_dirty++] = sq;
	}
}

/* Completions taken from @sq's context so far. */
static inline uint64_t sq_reaped(const struct aior_sq *sq)
{
	return sq->ctx.st.reaped_ring + sq->ctx.st.reaped_syscall;
}

/*
 * io_submit() took none of @sq's requests from *@done on, and nothing is
 * in flight to make room.  Within stall_timeout: wait a moment, then the
 * caller retries (false).  Past it: fail them all with EAGAIN at once,
 * without a new wait per request, until the kernel takes one (true).
 */
static bool sq_stalled(struct thread_data *td, struct aior_data *ld,
		       struct aior_sq *sq, unsigned int *done)
{
	const struct aior_options *o = td->eo;
	uint64_t now = aior_now_ns();

	if (!ld->stall_start) {
		ld->stall_start = now;
	} else if (now - ld->stall_start > o->stall_timeout * 1000000ull) {
		aior_log("libaioring: job '%s': io_submit() refused every "
			 "request (EAGAIN) for %llu ms with nothing in flight: "
			 "aio appears stalled, failing %u request(s)\n",
			 td->o.name,
			 (unsigned long long)((now - ld->stall_start) / 1000000),
			 sq->n - *done);
		while (*done < sq->n)
			park(ld, sq->iocbs[(*done)++], -EAGAIN);
		return true;
	}
	usleep(1);
	return false;
}

/*
 * Hand what @sq holds to the kernel.  EAGAIN with requests in flight is
 * backpressure: stop, the next reap makes room and getevents() comes
 * back here.  EAGAIN with nothing in flight is retried for
 * stall_timeout, then every queued request fails with EAGAIN.  Any other
 * error fails the one iocb the kernel rejected and goes on with the rest.
 * Returns 0, or -EAGAIN when iocbs are left in the queue, moved to its
 * front.
 */
static int sq_submit(struct thread_data *td, struct aior_data *ld,
		     struct aior_sq *sq)
{
	unsigned int done = 0;
	int ret = 0;

	if (sq->full) {
		if (sq->full_at == sq_reaped(sq) && sq->ctx.inflight)
			return -EAGAIN;
		sq->full = false;
	}

	while (done < sq->n) {
		struct iocb **iocbs = sq->iocbs + done;
		int got = aior_ctx_submit(&sq->ctx, iocbs, sq->n - done);

		if (got > 0) {
			mark_issued(td, iocbs, got);
			done += got;
			ld->stall_start = 0;
		} else if (got == -EAGAIN) {
			if (aior_group_inflight(&ld->group)) {
				sq->full = true;
				sq->full_at = sq_reaped(sq);
				ld->stall_start = 0;
				ret = -EAGAIN;
				break;
			}
			if (sq_stalled(td, ld, sq, &done))
				break;
		} else {
			/* The kernel rejected iocbs[0]: fail it alone. */
			ld->cnt.submit_errors++;
			park(ld, iocbs[0], got);
			done++;
		}
	}
	sq->n -= done;
	if (sq->n)
		memmove(sq->iocbs, sq->iocbs + done,
			sq->n * sizeof(*sq->iocbs));
	return ret;
}

/*
 * May @sq's requests wait for the next commit?  Only while its ring holds
 * completions fio has not taken: fio's next getevents() then returns
 * without sleeping, so nothing waits on the held requests, and they go
 * together in one io_submit() once the ring runs dry.  Under
 * coalesce=adaptive, only while the kernel completes this context's
 * requests inside io_submit(): a device with a queue would lose depth.
 *
 * This is all of it but the ring, which the callers ask as they can
 * afford: the hot hooks trust the last look (aior_ctx_known_ready()), the
 * rest may read the ring again (aior_ctx_ready()).
 */
static inline bool sq_may_hold(const struct aior_data *ld,
			       const struct aior_sq *sq)
{
	return sq->n < ld->hold_max &&
	       sq->ctx.inline_streak >= ld->hold_streak;
}

/*
 * Submit every queue with iocbs; keep those the kernel had no room for,
 * and with @hold those sq_may_hold() lets wait.  Returns how many queues
 * were held.
 */
static AIOR_TAIL unsigned int submit_dirty(struct thread_data *td,
					   struct aior_data *ld, bool hold)
{
	unsigned int i, kept = 0, held = 0;

	for (i = 0; i < ld->nr_dirty; i++) {
		struct aior_sq *sq = ld->dirty[i];

		if (hold && sq_may_hold(ld, sq) && aior_ctx_ready(&sq->ctx)) {
			ld->dirty[kept++] = sq;
			held++;
		} else if (sq_submit(td, ld, sq)) {
			ld->dirty[kept++] = sq;
		} else {
			sq->dirty = false;
		}
	}
	ld->nr_dirty = kept;
	return held;
}

/*
 * The seed's reset: stop submitting, wait until every context of the job
 * has nothing in flight, then carry on.  Queued iocbs are submitted first
 * (the kernel may take them only as others complete).  Completions are
 * parked for getevents().  Bounded by drain_timeout.
 */
int aior_quiesce(struct thread_data *td, struct aior_data *ld,
		 const char *why)
{
	struct aior_options *o = td->eo;
	uint64_t start = aior_now_ns(), took;
	uint64_t limit = o->drain_timeout * 1000000ull;
	int ret = 0;

	for (;;) {
		unsigned int got;

		submit_dirty(td, ld, false);
		ret = aior_group_drain(&ld->group, ld->parked + ld->nr_parked,
				       ld->depth - ld->nr_parked, &got,
				       AIOR_DRAIN_RETRY_NS, limit);
		ld->nr_parked += got;
		if (ret || !ld->nr_dirty)
			break;
		if (aior_now_ns() - start >= limit) {
			ret = -ETIMEDOUT;
			break;
		}
	}

	took = aior_now_ns() - start;
	ld->cnt.drains++;
	if (took > ld->cnt.drain_max_ns)
		ld->cnt.drain_max_ns = took;
	if (ret == -ETIMEDOUT)
		aior_log("libaioring: job '%s': %s: %u request(s) still in "
			 "flight after drain_timeout=%u ms: the device is not "
			 "completing I/O\n", td->o.name, why,
			 aior_group_inflight(&ld->group), o->drain_timeout);
	else if (ret)
		aior_log("libaioring: job '%s': %s: draining failed: %s\n",
			 td->o.name, why, strerror(-ret));
	return ret;
}

static AIOR_TAIL enum fio_q_status queue_sync(struct thread_data *td,
				  struct aior_data *ld, struct io_u *io_u)
{
	struct aior_file *af = io_u->file->engine_data;
	int ret;

	ret = aior_quiesce(td, ld, io_u->ddir == DDIR_TRIM ? "trim" : "flush");
	if (ret) {
		io_u->error = -ret;
		return FIO_Q_COMPLETED;
	}
	if (io_u->ddir != DDIR_TRIM) {
		do_io_u_sync(td, io_u);
		return FIO_Q_COMPLETED;
	}
	ret = aior_trim(io_u->file->fd, af->is_blockdev, io_u->offset,
			io_u->xfer_buflen);
	if (ret) {
		io_u->error = -ret;
		if ((ret == -EOPNOTSUPP || ret == -ENOTTY) && !af->trim_refused) {
			aior_log("libaioring: %s: trim is not supported here "
				 "(%s): it needs discard on a block device or "
				 "hole punching on a file\n",
				 io_u->file->file_name, strerror(-ret));
			af->trim_refused = true;
		}
	}
	return FIO_Q_COMPLETED;
}

/*
 * queue_single()'s io_submit() took nothing (@ret: -EAGAIN or the
 * request's -errno).
 */
static AIOR_COLD enum fio_q_status single_refused(struct thread_data *td,
						  struct io_u *io_u, int ret)
{
	struct aior_data *ld = job_data(td);
	struct aior_req *req = io_u->engine_data;

	if (ret == -EAGAIN && aior_group_inflight(&ld->group)) {
		/* Backpressure: fio reaps, then queues it again. */
		return FIO_Q_BUSY;
	}
	if (ret == -EAGAIN) {
		/* Nothing to reap: the queue's stall logic decides. */
		sq_push(ld, file_sq(ld, io_u->file), &req->iocb);
		return FIO_Q_QUEUED;
	}
	ld->cnt.submit_errors++;
	io_u->error = -ret;
	return FIO_Q_COMPLETED;
}

/*
 * iodepth=1: submit now, one io_submit() per request, as fio would at
 * commit.  Only td and io_u live across the io_submit(): the rest is
 * found again if it failed.
 */
static AIOR_TAIL enum fio_q_status queue_single(struct thread_data *td,
						struct aior_sq *sq,
						struct io_u *io_u)
{
	struct aior_req *req = io_u->engine_data;
	struct iocb *iocb = &req->iocb;
	int ret = aior_ctx_submit(&sq->ctx, &iocb, 1);

	if (ret <= 0)
		return single_refused(td, io_u, ret);
	mark_issued_one(td, io_u);
	return FIO_Q_QUEUED;
}

/* A data request to its file's queue: submitted now, or at commit. */
static inline enum fio_q_status queue_data(struct thread_data *td,
					   struct aior_data *ld,
					   struct io_u *io_u)
{
	struct aior_req *req = io_u->engine_data;
	struct aior_sq *sq = file_sq(ld, io_u->file);

	if (ld->single)
		return queue_single(td, sq, io_u);
	sq_push(ld, sq, &req->iocb);
	return FIO_Q_QUEUED;
}

/* The reset that reset_every asks for, and a bounced write's copy-in. */
static AIOR_TAIL enum fio_q_status queue_slow(struct thread_data *td,
					      struct aior_data *ld,
					      struct io_u *io_u, bool reset)
{
	struct aior_req *req = io_u->engine_data;

	if (reset) {
		int ret;

		ld->since_reset = 0;
		ld->cnt.resets++;
		ret = aior_quiesce(td, ld, "reset");
		if (ret) {
			io_u->error = -ret;
			return FIO_Q_COMPLETED;
		}
	}
	if (req->bounced && io_u->ddir == DDIR_WRITE)
		aior_bounce_copy_in(&req->bounce);
	return queue_data(td, ld, io_u);
}

enum fio_q_status fio_aior_queue(struct thread_data *td, struct io_u *io_u)
{
	const struct aior_options *o = td->eo;
	struct aior_data *ld = job_data(td);
	struct aior_req *req = io_u->engine_data;
	bool reset;

	fio_ro_check(td, io_u);
	planted_delay();
	planted_count();

	if (!is_data_ddir(io_u->ddir))
		return queue_sync(td, ld, io_u);
	reset = o->reset_every && ++ld->since_reset >= o->reset_every;
	if (reset || req->bounced)
		return queue_slow(td, ld, io_u, reset);
	return queue_data(td, ld, io_u);
}

/* The commit that has to submit, or to read a ring to decide. */
static AIOR_TAIL int commit_dirty(struct thread_data *td,
				  struct aior_data *ld)
{
	unsigned int held = submit_dirty(td, ld, true);

	if (held) {
		ld->cnt.holds++;
		ld->held = held == ld->nr_dirty;
	}
	return 0;
}

int fio_aior_commit(struct thread_data *td)
{
	struct aior_data *ld = job_data(td);
	struct aior_sq *sq = ld->dirty[0];

	/* fio commits again before each getevents(): nothing has changed. */
	if (!ld->nr_dirty || ld->held)
		return 0;
	/*
	 * The usual answer at depth, without a call: the one queue may wait,
	 * as the last look at its ring left completions in it.
	 */
	if (ld->nr_dirty == 1 && sq_may_hold(ld, sq) &&
	    aior_ctx_known_ready(&sq->ctx)) {
		ld->cnt.holds++;
		ld->held = true;
		return 0;
	}
	return commit_dirty(td, ld);
}

/* ---- getevents / event: the hot completion path ---- */

static AIOR_TAIL unsigned int take_parked(struct aior_data *ld,
					  unsigned int at, unsigned int max)
{
	unsigned int n = ld->nr_parked;

	if (!n)
		return 0;
	if (n > max - at)
		n = max - at;
	memcpy(ld->events + at, ld->parked, n * sizeof(*ld->events));
	ld->nr_parked -= n;
	memmove(ld->parked, ld->parked + n,
		ld->nr_parked * sizeof(*ld->parked));
	return n;
}

/*
 * The rest of getevents(), once what was ready is not the answer: submit
 * what is queued or held, then wait for at least @min with @got events
 * already taken.
 */
static AIOR_TAIL int wait_events(struct thread_data *td, struct aior_data *ld,
				 unsigned int got, unsigned int min,
				 unsigned int max, const struct timespec *t)
{
	int ret;

	for (;;) {
		if (ld->nr_dirty)
			submit_dirty(td, ld, false);
		got += take_parked(ld, got, max);

		ret = aior_group_wait(&ld->group, ld->events + got,
				      got < min ? min - got : 0, max - got, t);
		if (ret < 0)
			return got ? (int)got : ret;
		got += ret;
		if (got >= min || t)
			break;
		/*
		 * Short of min with no timeout: requests are still queued
		 * (the kernel had no room) or parked; go round again.
		 */
		if (!ld->nr_dirty && !ld->nr_parked &&
		    !aior_group_inflight(&ld->group))
			break;
	}
	return (int)got;
}

/*
 * Do the queues the last commit held still have completions waiting in
 * their rings, as the reap just left them?  Then they may wait on.
 */
static inline bool still_ready(const struct aior_data *ld)
{
	unsigned int i;

	for (i = 0; i < ld->nr_dirty; i++)
		if (!aior_ctx_known_ready(&ld->dirty[i]->ctx))
			return false;
	return true;
}

int fio_aior_getevents(struct thread_data *td, unsigned int min,
		       unsigned int max, const struct timespec *t)
{
	struct aior_data *ld = job_data(td);
	bool held = ld->held;
	int got;

	ld->held = false;
	if (max > ld->depth)
		max = ld->depth;
	if (min > max)
		min = max;
	/* Completions parked by a drain or a failure: wait_events() first. */
	if (ld->nr_parked)
		return wait_events(td, ld, 0, min, max, t);

	/*
	 * What the rings hold, without a wait: most calls end here.  Requests
	 * held back at commit may wait for the next one if this is enough and
	 * their rings still hold more, as fio will not sleep before it;
	 * otherwise they are submitted now, before any wait (never held
	 * across a sleep).  A reap error goes on to wait_events(), which
	 * reports it.
	 */
	got = aior_group_reap(&ld->group, ld->events, max);
	if (got >= (int)min && (!ld->nr_dirty || (held && still_ready(ld))))
		return got;
	return wait_events(td, ld, got > 0 ? (unsigned int)got : 0, min, max,
			   t);
}

/* A request the kernel failed: its error, and what atomic=1 says. */
static AIOR_COLD struct io_u *event_failed(struct thread_data *td,
					   struct aior_data *ld,
					   struct io_u *io_u, long res)
{
	io_u->error = (int)-res;
	if (ld->prep_extra)
		aior_flags_failed(td, ld, io_u, res);
	aior_compat_completed(td, io_u);
	return io_u;
}

/* What the kernel's result @res says of @io_u. */
static inline struct io_u *event_result(struct thread_data *td,
					struct aior_data *ld,
					struct io_u *io_u, long res)
{
	if (res < 0)
		return event_failed(td, ld, io_u, res);
	if (res == 0 && io_u->xfer_buflen)
		io_u->error = EIO;	/* nothing moved: fio's "full resid" */
	else if ((unsigned long long)res > io_u->xfer_buflen)
		io_u->error = EIO;
	else
		io_u->resid = io_u->xfer_buflen - res;
	aior_compat_completed(td, io_u);
	return io_u;
}

/* A bounced request: read data goes back to fio's buffer first. */
static AIOR_TAIL struct io_u *event_bounced(struct thread_data *td,
					   struct aior_data *ld,
					   struct io_u *io_u, long res)
{
	struct aior_req *req = io_u->engine_data;

	aior_bounce_end(&req->bounce, res > 0 ? (size_t)res : 0,
			io_u->ddir == DDIR_READ);
	return event_result(td, ld, io_u, res);
}

struct io_u *fio_aior_event(struct thread_data *td, int event)
{
	struct aior_data *ld = job_data(td);
	struct io_event *ev = &ld->events[event];
	struct io_u *io_u = ev->data;
	struct aior_req *req = io_u->engine_data;
	/* The kernel writes a signed result; libaio declares it unsigned. */
	long res = (long)ev->res;

	if (req->bounced)
		return event_bounced(td, ld, io_u, res);
	return event_result(td, ld, io_u, res);
}
