/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private state of the libaioring fio engine, shared by its files:
 * engine.c (the hot hooks), setup.c (init, post_init, cleanup and the
 * ops table fio loads), open.c (opening and closing files), options.c
 * (the option table), flags.c (priority, nowait, atomic and uncached:
 * what an iocb may carry), report.c (what it prints) and guard.c (the
 * fio version it runs under).
 * Includes fio's headers: nothing in common/ may include this.
 */
#ifndef AIOR_ENGINE_H
#define AIOR_ENGINE_H

#include "fio.h"
#include "optgroup.h"

#include "aioring.h"

enum aior_ctx_mode {
	AIOR_CTX_PER_FILE = 0,	/* the seed's channel per (file, thread) */
	AIOR_CTX_SHARED,	/* one context for all of a job's files */
};

enum aior_submit_mode {
	AIOR_SUBMIT_BATCH = 0,	/* queue, then one io_submit() per commit */
	AIOR_SUBMIT_SINGLE,	/* the seed's io_submit() per request */
};

enum aior_coalesce {
	AIOR_COALESCE_ADAPTIVE = 0,	/* hold while the kernel completes inline */
	AIOR_COALESCE_OFF,		/* submit at every commit */
	AIOR_COALESCE_ALWAYS,		/* hold whenever completions wait */
};

/* Engine options; fio fills this from the job file. */
struct aior_options {
	void *pad;		/* fio treats an option at offset 0 as unset */
	unsigned int ctx_mode;
	unsigned int ring_entries;
	unsigned int reap_mode;
	unsigned int wait_mode;
	unsigned int submit_mode;
	unsigned int vectored;
	unsigned int direct_fallback;
	unsigned int block_size;
	unsigned int reset_every;
	unsigned int drain_timeout;	/* ms */
	unsigned int stall_timeout;	/* ms */
	unsigned int engine_stats;
	char *stats_file;		/* engine_stats_file= */
	unsigned int coalesce;

	/*
	 * Built-in libaio's options, under its names (engine/flags.c).  Kept
	 * here rather than in fio's struct cmdprio_options, whose fields
	 * differ between releases (hint[] since 3.36, none before 3.29):
	 * flags.c copies them into one at init.  [0] reads, [1] writes.
	 */
	unsigned int userspace_reap;
	unsigned int nowait;
	unsigned int uncached;		/* fio's io_uring/pvsync2 option */
	unsigned int cmdprio_percentage[2];
	unsigned int cmdprio_class[2];
	unsigned int cmdprio_level[2];
	unsigned int cmdprio_hint[2];
	char *cmdprio_bssplit;
};

extern struct fio_option aior_fio_options[];

/*
 * A submission queue: the iocbs fio has queued for one context and we
 * have not yet handed to the kernel, in the order fio queued them.
 */
struct aior_sq {
	struct aior_ctx ctx;
	struct iocb **iocbs;
	unsigned int n;
	bool dirty;		/* on the job's dirty list */
	/*
	 * Completions reaped from ctx when io_submit() last said EAGAIN:
	 * until more are reaped the kernel has no room, so don't ask again.
	 */
	uint64_t full_at;
	bool full;
};

/* Per open file (fio_file->engine_data). */
struct aior_file {
	struct aior_sq *sq;	/* own (per-file mode) or the shared one */
	uint32_t mem_align;	/* buffer alignment O_DIRECT needs; 1 if none
				   (buffered: prep() tests only this) */
	bool direct;		/* the fd has O_DIRECT */
	bool is_blockdev;
	bool trim_refused;	/* said once that trim is not supported */
};

/* Per io_u (io_u->engine_data). */
struct aior_req {
	struct iocb iocb;
	struct iovec iov;
	struct aior_bounce bounce;
	bool bounced;
};

/* Counters the engine keeps on top of each context's own. */
struct aior_counters {
	uint64_t resets;
	uint64_t drain_max_ns;
	uint64_t drains;
	uint64_t bounces;
	uint64_t direct_fallbacks;
	uint64_t submit_errors;		/* iocbs io_submit() rejected */
	uint64_t ctx_fallbacks;		/* per-file contexts became shared */
	uint64_t holds;			/* commits that kept requests back */
};

struct aior_prio;

/*
 * RWF_DONTCACHE (uncached=1): the kernel's uapi value since 6.14, for
 * headers (and fio releases) that do not have it.
 */
#ifdef RWF_DONTCACHE
#define AIOR_RWF_DONTCACHE	RWF_DONTCACHE
#else
#define AIOR_RWF_DONTCACHE	0x00000080
#endif

/* Per job (td->io_ops_data). */
struct aior_data {
	struct aior_group group;
	struct aior_sq *sqs;		/* nr_sqs of them */
	unsigned int nr_sqs;
	struct aior_sq **dirty;		/* queues with iocbs to submit */
	unsigned int nr_dirty;
	unsigned int depth;		/* fio's iodepth: requests per job */
	/*
	 * Submit coalescing (coalesce=): a queue is held back at commit
	 * only while its ring holds completions fio has not taken, with
	 * fewer than hold_max requests in it, and after hold_streak
	 * io_submit() calls in a row completed inside the call.  hold_max
	 * is 0 where nothing is held.
	 */
	unsigned int hold_max;
	unsigned int hold_streak;
	bool single;			/* submit inside queue(): see post_init */
	/*
	 * The last commit held every queue with iocbs, and nothing was
	 * queued or reaped since: a commit now would hold them again (the
	 * rings only gain completions meanwhile), so it returns at once.
	 */
	bool held;

	struct io_event *events;	/* what getevents() hands event() */
	struct io_event *parked;	/* reaped early (drains) or failed */
	unsigned int nr_parked;

	unsigned int since_reset;	/* requests since the last reset */
	/*
	 * When io_submit() started refusing everything (EAGAIN) with nothing
	 * in flight; 0 while the kernel takes requests.  Kept across calls:
	 * stall_timeout bounds the whole stall, not each request's wait.
	 */
	uint64_t stall_start;
	bool said_fallback;		/* O_DIRECT refused: said once */
	bool said_mismatch;		/* aio_block_size differs: said once */
	/*
	 * prep() calls aior_flags_prep() only if set: without nowait,
	 * uncached, atomic and cmdprio the per-request cost is this one test.
	 */
	bool prep_extra;
	bool prep_slow;			/* prep_extra, or an eventfd to name */
	bool said_atomic;		/* an atomic write refused: said once */
	int rw_flags;			/* RWF_* for every read and write */
	int wr_flags;			/* RWF_* for writes only (RWF_ATOMIC) */
	struct aior_prio *prio;		/* cmdprio state; NULL if unused */
	/*
	 * uncached=1: the context of the probe read each file gets at open
	 * (flags.c), made at the first and kept to cleanup (io_destroy()
	 * costs tens of milliseconds).  Zeroed until then.
	 */
	struct aior_ctx probe;
	struct aior_counters cnt;
	int stats_fd;			/* engine_stats_file, O_APPEND; or -1 */
};

static inline struct aior_data *job_data(struct thread_data *td)
{
	return td->io_ops_data;
}

/* engine.c: the hot hooks */
int fio_aior_prep(struct thread_data *td, struct io_u *io_u);
enum fio_q_status fio_aior_queue(struct thread_data *td, struct io_u *io_u);
int fio_aior_commit(struct thread_data *td);
int fio_aior_getevents(struct thread_data *td, unsigned int min,
		       unsigned int max, const struct timespec *t);
struct io_u *fio_aior_event(struct thread_data *td, int event);
/* setup.c: the cold hooks around a job */
int fio_aior_init(struct thread_data *td);
int fio_aior_post_init(struct thread_data *td);
void fio_aior_cleanup(struct thread_data *td);
int fio_aior_io_u_init(struct thread_data *td, struct io_u *io_u);
void fio_aior_io_u_free(struct thread_data *td, struct io_u *io_u);
/* engine.c: the seed's reset, also cleanup's last drain */
int aior_quiesce(struct thread_data *td, struct aior_data *ld,
		 const char *why);
/* open.c: the open_file() and close_file() hooks */
int fio_aior_open_file(struct thread_data *td, struct fio_file *f);
int fio_aior_close_file(struct thread_data *td, struct fio_file *f);
/* flags.c: per-request options (cmdprio*, nowait, atomic, uncached) */
int aior_flags_init(struct thread_data *td, struct aior_data *ld);
void aior_flags_prep(struct thread_data *td, struct aior_data *ld,
		    struct io_u *io_u, struct iocb *iocb);
void aior_flags_cleanup(struct aior_data *ld);
void aior_flags_failed(struct thread_data *td, struct aior_data *ld,
		      struct io_u *io_u, long res);
int aior_uncached_open(struct thread_data *td, struct fio_file *f, int fd,
		       bool is_blockdev);

/*
 * report.c.  Every message of the engine goes through aior_log(): to
 * stderr (syslog where fio logs there), never into fio's output.
 */
void aior_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int aior_stats_file_open(struct thread_data *td, struct aior_data *ld);
void aior_report_setup_error(struct thread_data *td, int err,
			     unsigned int depth, unsigned int nr_ctx);
void aior_report_counters(struct thread_data *td, const struct aior_data *ld);

#endif /* AIOR_ENGINE_H */
