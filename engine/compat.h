/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What differs between the fio releases the engine is built against
 * (3.19 .. 3.42, see the version table in README.md).  Every difference
 * is decided here, at compile time, from FIO_IOOPS_VERSION: the engine is
 * always built against the configured source of the fio that loads it,
 * and refuses any other (guard.c, when fio loads it).
 *
 * fio's flags are enum constants, not macros, so #ifdef cannot see them:
 * the ops version they arrived with is the test.
 *
 *   FIO_IOOPS_VERSION  fio     difference
 *   25                 3.19    no FIO_NO_OFFLOAD: offload refused at init
 *   26..30             3.20+   FIO_NO_OFFLOAD
 *   31                 3.31+   FIO_ASYNCIO_SETS_ISSUE_TIME: the engine
 *                              stamps issue time after io_submit(); before
 *                              it, fio stamps it right after queue()
 *   35                 3.38+   FIO_ATOMICWRITES (atomic=, RWF_ATOMIC),
 *                              tested through FIO_HAVE_RWF_ATOMIC
 */
#ifndef AIOR_COMPAT_H
#define AIOR_COMPAT_H

#include "fio.h"

#include "engine.h"		/* aior_log() */

/*
 * fio 3.31 (ops version 31) lets an async engine stamp issue time when
 * the request really reaches the kernel.  Before it, fio stamps every
 * queued request itself right after queue() returns, whatever the engine
 * did: stamping there too would be overwritten or, for requests committed
 * inside fio's own queue call, stamp before fio does.  So the engine
 * stamps nothing and reports submission latency (io_u_queued(), which
 * reads fio's stamp) when the request completes, by then always stamped.
 */
#if FIO_IOOPS_VERSION >= 31
#define AIOR_SETS_ISSUE_TIME		1
#define AIOR_FLAG_SETS_ISSUE_TIME	FIO_ASYNCIO_SETS_ISSUE_TIME
#else
#define AIOR_SETS_ISSUE_TIME		0
#define AIOR_FLAG_SETS_ISSUE_TIME	0
#endif

/* fio 3.20 (ops version 26) added FIO_NO_OFFLOAD. */
#if FIO_IOOPS_VERSION >= 26
#define AIOR_FLAG_NO_OFFLOAD		FIO_NO_OFFLOAD
#else
#define AIOR_FLAG_NO_OFFLOAD		0
#endif

/*
 * fio 3.38 added the job option atomic= (RWF_ATOMIC writes), offered only
 * to engines that say FIO_ATOMICWRITES; os-linux.h defines
 * FIO_HAVE_RWF_ATOMIC (a macro, so #ifdef works) in the same release.
 */
#ifdef FIO_HAVE_RWF_ATOMIC
#define AIOR_HAVE_ATOMIC		1
#define AIOR_FLAG_ATOMICWRITES		FIO_ATOMICWRITES
#else
#define AIOR_HAVE_ATOMIC		0
#define AIOR_FLAG_ATOMICWRITES		0
#endif

/* Does the engine stamp issue time for this job (at io_submit())? */
static inline bool aior_stamps_issue_time(struct thread_data *td)
{
	return AIOR_SETS_ISSUE_TIME && fio_fill_issue_time(td);
}

/*
 * A request fio gets back from event(): where fio stamped the issue time
 * itself (before 3.31), account its submission latency now.
 */
static inline void aior_compat_completed(struct thread_data *td,
					 struct io_u *io_u)
{
	if (!AIOR_SETS_ISSUE_TIME && fio_fill_issue_time(td))
		io_u_queued(td, io_u);
}

/*
 * What the flags cannot say to an older fio, checked in init (the fio
 * version itself is guard.c's, at load): returns 0,
 * or 1 after one line saying why the job cannot run.
 */
static inline int aior_compat_check(struct thread_data *td)
{
	if (!AIOR_FLAG_NO_OFFLOAD && td->o.io_submit_mode == IO_MODE_OFFLOAD) {
		aior_log("libaioring: job '%s': io_submit_mode=offload is not "
			 "supported (one thread owns a job's aio contexts)\n",
			 td->o.name);
		return 1;
	}
	return 0;
}

#endif /* AIOR_COMPAT_H */
