/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libaioring common/: a Linux native AIO backend that knows nothing of fio.
 *
 * The design follows SPDK's AIO bdev: one io_context per (file, thread),
 * a poller that visits every context of the thread, completions reaped
 * from the kernel's ring in user space, and a reset that drains every
 * in-flight request before it reports.
 *
 * Contract: a function that can fail returns 0 or a count on success and
 * -errno on failure (the kernel's raw convention; sys.c brings open() to
 * it).  Nothing here prints or leaves its answer in errno.
 */
#ifndef AIORING_H
#define AIORING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <libaio.h>

/*
 * Out of line on purpose.  AIOR_TAIL: a path a hot function reaches by a
 * tail call, kept out so the hot function saves no registers for it.
 * AIOR_COLD: a rare path (errors, fallbacks), also laid out apart.  Why,
 * and what guards it, is in engine/engine.c's header.
 */
#define AIOR_TAIL	__attribute__((noinline))
#define AIOR_COLD	__attribute__((noinline, cold))

/*
 * The syscalls common/ makes, as a table, so tests can inject the kernel's
 * answers (EAGAIN forever, partial acceptance, EINVAL from open...) without
 * linker tricks.  Every entry follows the raw convention: >= 0 or -errno.
 */
struct aior_sys {
	int (*io_setup)(unsigned int nr, io_context_t *ctx);
	int (*io_destroy)(io_context_t ctx);
	int (*io_submit)(io_context_t ctx, long nr, struct iocb **iocbs);
	int (*io_getevents)(io_context_t ctx, long min, long max,
			    struct io_event *events, struct timespec *timeout);
	int (*open)(const char *path, int flags, mode_t mode);
};

/* The table in force; tests point it at their own and restore it. */
extern const struct aior_sys *aior_sys;
extern const struct aior_sys aior_sys_linux;

/* ---- the kernel ring reader (common/ring.c) ---- */

/*
 * Validate the ring header at @ring once, after io_setup: magic,
 * incompat_features, header_length.  Stores the ring's event count in @nr.
 * Returns 0, or -EPROTO if the ring cannot be read from user space.
 */
int aior_ring_check(const void *ring, unsigned int *nr);

/*
 * Copy up to @max completions out of the kernel ring at @ring into
 * @events and hand their slots back to the kernel.  @nr is the event count
 * aior_ring_check() found; a header that no longer agrees with it (magic,
 * incompat_features, header_length, nr) or a tail outside the ring makes
 * this return -EPROTO without touching anything, so the caller can fall
 * back to io_getevents().  A head outside the ring is reduced modulo @nr,
 * as the kernel does.  Never reads outside the ring.  *@left gets how
 * many completions the same read of the tail found beyond @max (0 on
 * -EPROTO): the caller learns what is still ready without a second read.
 *
 * Only one thread may reap a given ring at a time.
 */
int aior_ring_reap(void *ring, unsigned int nr, struct io_event *events,
		   unsigned int max, unsigned int *left);

/*
 * Completions waiting in the ring at @ring (tail - head, modulo @nr),
 * taking none, with the slot of the first in *@head.  -EPROTO (*@head
 * untouched) on the header or tail aior_ring_reap() refuses.
 */
int aior_ring_peek(const void *ring, unsigned int nr, unsigned int *head);

/*
 * Copy the event in slot @head, which aior_ring_peek() found ready, to
 * @ev and hand the slot back to the kernel: aior_ring_reap() of one, for
 * a caller that has peeked.  The same one-reaper rule.
 */
void aior_ring_take_one(void *ring, unsigned int nr, unsigned int head,
			struct io_event *ev);

/* The ring's tail index as the kernel last stored it (acquire). */
unsigned int aior_ring_tail(const void *ring);

/*
 * Did the @n requests at @iocbs complete inside the io_submit() that
 * found the tail of the ring at @ring at @before?  Only if their events
 * are the next @n in the ring, in order, now.  *@ready gets what
 * aior_ring_peek() would say, from the same read of the tail (0 when
 * either index is outside the ring).  Only for a ring that passed
 * aior_ring_check() with @nr.
 */
bool aior_ring_match(const void *ring, unsigned int nr, unsigned int before,
		     struct iocb *const *iocbs, unsigned int n,
		     unsigned int *ready);

/* ---- one aio context (common/ctx.c) ---- */

enum aior_reap_mode {
	AIOR_REAP_RING = 0,	/* user-space ring, syscall when unusable */
	AIOR_REAP_SYSCALL,	/* always io_getevents() */
};

struct aior_ctx_stats {
	uint64_t submitted;	/* iocbs the kernel accepted */
	uint64_t submit_calls;	/* io_submit() calls */
	uint64_t eagain;	/* io_submit() answered EAGAIN/ENOMEM */
	uint64_t reaped_ring;	/* completions copied from the ring */
	uint64_t reaped_syscall;	/* completions from io_getevents() */
	uint64_t getevents_calls;	/* io_getevents() calls */
	uint64_t ring_fallbacks;	/* reaps that found the ring unusable */
	uint64_t inline_submits;	/* io_submit() calls whose requests all
					   completed inside the call */
};

struct aior_ctx {
	io_context_t io;	/* also the address of the kernel ring */
	unsigned int ring_nr;	/* events in the ring; 0: ring not usable */
	unsigned int inflight;	/* accepted by the kernel, not yet reaped */
	/*
	 * Completions known to wait in the ring: never more than it holds,
	 * as only the kernel adds and only we take.  Set from the tail each
	 * reap and each watched submit reads; 0 after io_getevents().
	 */
	unsigned int ready;
	int reaping;		/* one reaper at a time (atomic flag) */
	/*
	 * Watch each io_submit() of fewer than watch_below iocbs for
	 * requests completed inside it (inline_streak, st.inline_submits):
	 * two reads of the tail per call.  Every call after setup; a caller
	 * that holds back only smaller batches lowers it, to 0 if it never
	 * holds any.
	 */
	unsigned int watch_below;
	/*
	 * Consecutive watched io_submit() calls whose accepted iocbs were,
	 * when the call returned, the next events in the ring, in order: the
	 * kernel completed them inside the call (page cache, tmpfs,
	 * RAM-backed files), so the device had no queue for them to wait
	 * in.  0 after any other watched call, and while the ring cannot be
	 * read; a call not watched leaves it as it is.
	 */
	unsigned int inline_streak;
	struct aior_ctx_stats st;
};

/*
 * io_setup(@depth) and validation of the ring for user-space reaping.
 * -EAGAIN: the system-wide limit fs.aio-max-nr would be exceeded;
 * -ENOSYS: the kernel has no AIO; other -errno from io_setup().
 */
int aior_ctx_setup(struct aior_ctx *c, unsigned int depth,
		   enum aior_reap_mode mode);
/* Destroy the context; safe on a zeroed or already torn down one. */
void aior_ctx_teardown(struct aior_ctx *c);

/*
 * Submit @nr iocbs.  Returns how many the kernel took (maybe fewer than
 * @nr: the rest were not submitted), -EAGAIN when it took none for lack of
 * resources (EAGAIN and ENOMEM alike: reap, then retry), or the -errno of
 * iocbs[0], which was rejected (nothing submitted).  Retries EINTR.
 */
int aior_ctx_submit(struct aior_ctx *c, struct iocb **iocbs, long nr);

/*
 * Completions the kernel has put in the ring and nobody has reaped yet,
 * at least; 0 when the ring is not read from user space (syscall mode,
 * or a ring that failed its check).  What the last reap or submit saw is
 * trusted while it is not 0; only then is the ring read again (two
 * words, no syscall).  So a true answer costs no read of the ring, and
 * 0 is always checked against the ring.
 */
unsigned int aior_ctx_ready_read(struct aior_ctx *c);

static inline unsigned int aior_ctx_ready(struct aior_ctx *c)
{
	return c->ready ? c->ready : aior_ctx_ready_read(c);
}

/*
 * What the last reap or watched submit left in the ring, without reading
 * it: a lower bound, and 0 may be stale.  For callers that would rather
 * act on 0 than pay for a look.
 */
static inline unsigned int aior_ctx_known_ready(const struct aior_ctx *c)
{
	return c->ready;
}

/*
 * Non-blocking reap of up to @max completions.  Ring first, io_getevents()
 * with a zero timeout when the ring is unusable or syscall mode is forced.
 * Returns the count, or -errno from io_getevents().  Returns 0 when another
 * thread is reaping the same context.
 */
int aior_ctx_reap(struct aior_ctx *c, struct io_event *events,
		  unsigned int max);

/*
 * Block until at least @min (clamped to what is in flight: never asks the
 * kernel for events already taken) completions are available or @timeout
 * passes (NULL: no limit), copying up to @max.  Returns the count (maybe
 * less than @min on timeout), or -errno (-EINTR when a signal arrived).
 */
int aior_ctx_wait(struct aior_ctx *c, struct io_event *events,
		  unsigned int min, unsigned int max,
		  const struct timespec *timeout);

/* ---- the poller over several contexts (common/group.c) ---- */

enum aior_wait_mode {
	AIOR_WAIT_BLOCK = 0,	/* sleep in the kernel until completions */
	AIOR_WAIT_SPIN,		/* poll the rings, like SPDK's poll mode */
};

struct aior_group {
	struct aior_ctx **ctx;	/* the contexts polled, in order */
	unsigned int nr;
	unsigned int cap;	/* room in ctx[] */
	unsigned int next;	/* where the next sweep starts: fairness */
	int efd;		/* eventfd all iocbs signal; -1: not used */
	enum aior_wait_mode wait_mode;
};

/*
 * @nr_ctx contexts are registered later with aior_group_add().  With more
 * than one context and the blocking wait mode, an eventfd is created that
 * every iocb must name (aior_group_prep_iocb()), so one blocking wait
 * covers all contexts.  Returns 0 or -errno.  aior_group_add() returns
 * -ENOSPC past @nr_ctx contexts.
 */
int aior_group_init(struct aior_group *g, unsigned int nr_ctx,
		    enum aior_wait_mode mode);
int aior_group_add(struct aior_group *g, struct aior_ctx *c);
void aior_group_destroy(struct aior_group *g);

/* Attach the group's eventfd, if any, to @iocb. */
static inline void aior_group_prep_iocb(const struct aior_group *g,
					struct iocb *iocb)
{
	if (g->efd >= 0)
		io_set_eventfd(iocb, g->efd);
}

/* Requests in flight across all contexts. */
unsigned int aior_group_inflight(const struct aior_group *g);

/*
 * One sweep over every context, starting one past where the last sweep
 * started so that no context is starved when @max cuts a sweep short.
 * Non-blocking.  Returns the count or -errno.
 */
int aior_group_sweep(struct aior_group *g, struct io_event *events,
		     unsigned int max);

/*
 * A non-blocking reap, as aior_group_sweep().  A group of one context
 * goes straight to it, without the sweep's loop: this runs for every
 * completion.
 */
static inline int aior_group_reap(struct aior_group *g,
				  struct io_event *events, unsigned int max)
{
	if (g->nr == 1)
		return aior_ctx_reap(g->ctx[0], events, max);
	return aior_group_sweep(g, events, max);
}

/*
 * Gather at least @min completions (clamped to what is in flight) and at
 * most @max, waiting as the group's mode says until @timeout (NULL: no
 * limit).  Returns the count (< @min only on timeout) or -errno.
 */
int aior_group_wait(struct aior_group *g, struct io_event *events,
		    unsigned int min, unsigned int max,
		    const struct timespec *timeout);

/*
 * The seed's reset: reap every context until nothing is in flight,
 * re-checking every @retry_ns (the seed's 500 us timer), for at most
 * @timeout_ns.  Completions are appended to @events (room for @cap; @cap
 * must be at least aior_group_inflight()), their count stored in *@got.
 * Returns 0, -ETIMEDOUT (*@got still valid, the rest still in flight),
 * -ENOSPC if @cap is too small, or -errno from the kernel.
 */
int aior_group_drain(struct aior_group *g, struct io_event *events,
		     unsigned int cap, unsigned int *got, uint64_t retry_ns,
		     uint64_t timeout_ns);

/* ---- files (common/file.c, common/blocksize.c) ---- */

struct aior_open_req {
	const char *path;
	int flags;		/* O_RDONLY/O_RDWR, O_CREAT, O_SYNC...; no O_DIRECT */
	bool direct;		/* ask for O_DIRECT */
	bool allow_buffered;	/* on EINVAL for O_DIRECT, open buffered */
};

struct aior_open_res {
	int fd;
	bool direct;		/* the fd has O_DIRECT */
	bool fell_back;		/* O_DIRECT was refused, buffered instead */
	bool is_blockdev;
};

/*
 * Open @req->path.  If O_DIRECT is refused with EINVAL and
 * @req->allow_buffered, open again without it (res->fell_back).  ENOENT,
 * EACCES, EROFS, EISDIR (a directory, for any direction: AIO cannot read
 * one) and every other error are returned as -errno, never retried.
 * A character device, FIFO or socket gives -ENOTBLK.
 */
int aior_open(const struct aior_open_req *req, struct aior_open_res *res);

/*
 * Direct-I/O geometry of an open file.  Block devices: BLKSSZGET for the
 * logical block size, BLKGETSIZE64 for the size.  Regular files:
 * statx(STATX_DIOALIGN) where the kernel and file system report it, else
 * 512, the smallest sector any O_DIRECT path takes, with @source saying
 * so.  mem_align is the buffer address alignment O_DIRECT needs.
 */
enum aior_bs_source {
	AIOR_BS_BLKSSZGET = 0,
	AIOR_BS_STATX,
	AIOR_BS_FALLBACK,
};

struct aior_geometry {
	uint32_t lbs;		/* logical block size detected; 0: unknown */
	uint32_t mem_align;	/* buffer address alignment, >= 1 */
	uint64_t size;		/* bytes */
	enum aior_bs_source source;
};

int aior_geometry(int fd, bool is_blockdev, struct aior_geometry *geo);

/*
 * The seed's block-size rules: with no override (@override == 0) the
 * detected size is used and must be known; an override must be >= the
 * detected size, >= 512 and a power of two.  *@bs gets the block size in
 * force; *@mismatch is set when an override differs from a detected size
 * (the seed warns).  Returns 0, or -EINVAL with the broken rule in *@why
 * (aior_bs_strerror() names it).
 */
enum aior_bs_err {
	AIOR_BS_OK = 0,
	AIOR_BS_EUNKNOWN,	/* nothing detected and no override */
	AIOR_BS_ESMALLER,	/* override < detected */
	AIOR_BS_ETOOSMALL,	/* < 512 */
	AIOR_BS_ENOTPOW2,	/* not a power of two */
};

int aior_bs_resolve(uint32_t detected, uint32_t override, uint32_t *bs,
		    bool *mismatch, enum aior_bs_err *why);
const char *aior_bs_strerror(enum aior_bs_err why);

/* Is @v a multiple of the power of two @align? */
static inline bool aior_aligned(uint64_t v, uint64_t align)
{
	return (v & (align - 1)) == 0;
}

/*
 * Discard [@off, @off+@len): BLKDISCARD on a block device, a punched hole
 * (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) on a regular file.
 * -EOPNOTSUPP when the file cannot do either.
 */
int aior_trim(int fd, bool is_blockdev, uint64_t off, uint64_t len);

/*
 * One real read of @len bytes at offset 0 of @fd with @rw_flags (RWF_*) in
 * its iocb, through @c (set up by the caller, nothing else in flight on
 * it; its counters are not kept), waited for: does the kernel take such
 * flags on this file?  Buffered aio usually completes inside io_submit();
 * a device that does not answer is waited for up to @timeout, then the
 * read is left in flight on @c with its buffer (-ETIMEDOUT).  Returns 0 if
 * the read completed (with any number of bytes), else its -errno: a
 * refusal of the flags at submission (-EOPNOTSUPP: unknown to the kernel,
 * or not supported by the file's file system; -EINVAL: a combination the
 * kernel rejects), or what the read itself met; -ETIMEDOUT; -ENOMEM.
 */
int aior_probe_read(struct aior_ctx *c, int fd, int rw_flags, size_t len,
		    const struct timespec *timeout);

/*
 * The type of the file system @fd is on, as /proc/self/mountinfo names it
 * ("ext4", "tmpfs", "fuse.sshfs"), into @buf; where no mount matches the
 * file's device (btrfs subvolumes), "f_type 0x..." from fstatfs().
 * Returns 0 or -errno.
 */
int aior_fs_name(int fd, char *buf, size_t len);

/* ---- bounce buffers (common/bounce.c) ---- */

struct aior_bounce {
	void *buf;		/* aligned; NULL until first needed */
	size_t cap;
	void *user;		/* the caller's buffer while in use */
	size_t len;
};

/* Does @addr need a bounce for a direct-I/O alignment of @align? */
static inline bool aior_bounce_needed(const void *addr, uint32_t align)
{
	return ((uintptr_t)addr & (align - 1)) != 0;
}

/*
 * Route an I/O of @len bytes at @user through @b, allocating or growing
 * its buffer to @len aligned to @align.  For a write (@is_write) the data
 * is copied in now.  Returns the buffer to give the kernel, or NULL
 * (out of memory).
 */
void *aior_bounce_begin(struct aior_bounce *b, void *user, size_t len,
			uint32_t align, bool is_write);
/*
 * Copy the caller's buffer into the bounce buffer again: for a write whose
 * data the caller filled after aior_bounce_begin() (fio writes verify
 * headers after prep).
 */
void aior_bounce_copy_in(struct aior_bounce *b);
/* Finish: for a read, copy @done bytes back to the caller's buffer. */
void aior_bounce_end(struct aior_bounce *b, size_t done, bool is_read);
void aior_bounce_free(struct aior_bounce *b);

/* ---- time (inline, used on the hot path): the one clock ---- */

static inline uint64_t aior_ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000ull + (uint64_t)t->tv_nsec;
}

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t aior_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return aior_ts_ns(&ts);
}

#endif /* AIORING_H */
