/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Built-in libaio's per-request options, with libaio's semantics, so a
 * libaio job file runs unchanged (docs/options.md, "libaio's own options"):
 *
 *   cmdprio_percentage, cmdprio_class, cmdprio, cmdprio_hint,
 *   cmdprio_bssplit	a share of requests at another priority, set in
 *			the iocb (IOCB_FLAG_IOPRIO, aio_reqprio).  Decided
 *			by fio's own helper (engines/cmdprio.c, in the fio
 *			binary since 3.29), which also picks the request's
 *			clat_prio_index, so fio's per-priority latency
 *			(clat_prio in JSON, log_prio) comes out as under
 *			libaio.  Older fios keep that code private to their
 *			libaio: there the options are refused at init.
 *   nowait		RWF_NOWAIT in aio_rw_flags.  The kernel answers with
 *			-EAGAIN as the request's completion, which event()
 *			hands fio as the request's error; io_submit() itself
 *			does not fail for it, so the engine's io_submit()
 *			EAGAIN backpressure is not involved.
 *   atomic=1		fio's own job option (3.38+): RWF_ATOMIC on every
 *			write, as libaio.  Where the kernel or the file
 *			cannot, each write fails as under libaio, and the
 *			engine says why once.
 *   uncached		fio's io_uring and pvsync2 option (no libaio has
 *			it): RWF_DONTCACHE on every read and write, buffered
 *			I/O that leaves the page cache as it was (Linux
 *			6.14+).  Refused at init with direct=1, and at open
 *			where one real read with the flag is refused (an
 *			older kernel, a file system without it).
 *
 * Everything is decided in aior_flags_init(): a job using none of these
 * leaves ld->prep_extra false and prep() never calls in here.
 *
 * The job's prio/prioclass: fio's libaio does not put them in the iocb
 * (in none of 3.19 .. 3.42); fio applies them to the whole job with
 * ioprio_set() before init, which covers this engine's requests too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/utsname.h>

#include "compat.h"
#include "engine.h"

#if AIOR_FIO_CMDPRIO
#include "engines/cmdprio.h"
#endif

/* Not in every aio_abi.h: the kernel's value since 4.18. */
#ifndef IOCB_FLAG_IOPRIO
#define IOCB_FLAG_IOPRIO	(1 << 1)
#endif

/*
 * RWF_APPEND (4.16) and RWF_NOAPPEND (6.9), the kernel's values: together
 * they make a kernel that knows every flag asked for answer EINVAL (see
 * kernel_lacks_dontcache()).
 */
#define AIOR_RWF_APPEND		0x00000010
#define AIOR_RWF_NOAPPEND	0x00000020

/* The probe reads one block at offset 0. */
#define AIOR_PROBE_LEN		4096

extern const char fio_version_string[];

#if AIOR_FIO_CMDPRIO
struct aior_prio {
	struct cmdprio_options opts;	/* fio's helper keeps a pointer */
	struct cmdprio cmdprio;
};
#else
struct aior_prio {
	int unused;
};
#endif

#if AIOR_FIO_CMDPRIO
static int cmdprio_init(struct thread_data *td, struct aior_data *ld,
			const struct aior_options *o)
{
	struct aior_prio *p;
	int i;

	if (!AIOR_FIO_CMDPRIO_HINT &&
	    (o->cmdprio_hint[0] || o->cmdprio_hint[1])) {
		aior_log("libaioring: job '%s': cmdprio_hint needs fio 3.36 or "
			 "later (this is %s, whose libaio has no such "
			 "option)\n",
			 td->o.name, fio_version_string);
		return 1;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return 1;
	for (i = 0; i < CMDPRIO_RWDIR_CNT; i++) {
		p->opts.percentage[i] = o->cmdprio_percentage[i];
		p->opts.class[i] = o->cmdprio_class[i];
		p->opts.level[i] = o->cmdprio_level[i];
#if AIOR_FIO_CMDPRIO_HINT
		p->opts.hint[i] = o->cmdprio_hint[i];
#endif
	}
	p->opts.bssplit_str = o->cmdprio_bssplit;
	ld->prio = p;
	/*
	 * fio's helper says what is wrong (e.g. percentage and bssplit);
	 * the job's error is EINVAL, as libaio makes it.
	 */
	if (fio_cmdprio_init(td, &p->cmdprio, &p->opts)) {
		td_verror(td, EINVAL, "fio_cmdprio_init");
		return 1;
	}
	if (p->cmdprio.mode != CMDPRIO_MODE_NONE)
		ld->prep_extra = true;
	return 0;
}
#else
/* Which cmdprio option does the job set, if any?  NULL if none. */
static const char *cmdprio_used(const struct aior_options *o)
{
	int i;

	if (o->cmdprio_bssplit && o->cmdprio_bssplit[0])
		return "cmdprio_bssplit";
	for (i = 0; i < 2; i++) {
		if (o->cmdprio_percentage[i])
			return "cmdprio_percentage";
		if (o->cmdprio_hint[i])
			return "cmdprio_hint";
	}
	return NULL;
}

/*
 * fio before 3.29 has no shared cmdprio helper to call: its libaio does
 * the work itself and marks requests for the high/low priority latency
 * split in ways that changed between releases.  Refuse rather than
 * copy each release's private code.
 */
static int cmdprio_init(struct thread_data *td, struct aior_data *ld,
			const struct aior_options *o)
{
	const char *name = cmdprio_used(o);

	if (!name)
		return 0;
	aior_log("libaioring: job '%s': %s needs fio 3.29 or later (%s has no "
		 "shared cmdprio helper for the engine to call)\n", td->o.name,
		 name, fio_version_string);
	return 1;
}
#endif

/* Returns 0, or 1 after one line saying why the job cannot run. */
int aior_flags_init(struct thread_data *td, struct aior_data *ld)
{
	const struct aior_options *o = td->eo;

	/*
	 * fio's io_uring and pvsync2 drop the flag silently with direct=1,
	 * so such a job measures O_DIRECT while its file says uncached; a
	 * direct file that falls back to buffered (direct_fallback) would
	 * then be neither.  Refuse the contradiction before any I/O.
	 */
	if (o->uncached && td->o.odirect) {
		aior_log("libaioring: job '%s': uncached=1 is for buffered "
			 "I/O and the job has direct=1: set direct=0 "
			 "(RWF_DONTCACHE keeps buffered I/O out of the page "
			 "cache, which O_DIRECT does not use)\n", td->o.name);
		return 1;
	}
	if (o->uncached) {
		ld->rw_flags |= AIOR_RWF_DONTCACHE;
		ld->prep_extra = true;
	}
	if (o->nowait) {
		ld->rw_flags |= RWF_NOWAIT;
		ld->prep_extra = true;
	}
#if AIOR_HAVE_ATOMIC
	/* fio clears oatomic for a job that does not write. */
	if (td->o.oatomic) {
		ld->wr_flags |= RWF_ATOMIC;
		ld->prep_extra = true;
	}
#endif
	return cmdprio_init(td, ld, o);
}

/*
 * A read or write whose iocb prep() has just filled in: add what the
 * job's options ask for.  The iocb still holds what its last request
 * set, so every field this sets is written each time.
 */
void aior_flags_prep(struct thread_data *td, struct aior_data *ld,
		    struct io_u *io_u, struct iocb *iocb)
{
	iocb->aio_rw_flags = ld->rw_flags;
	if (io_u->ddir == DDIR_WRITE)
		iocb->aio_rw_flags |= ld->wr_flags;
#if AIOR_FIO_CMDPRIO
	iocb->aio_reqprio = 0;
	iocb->u.c.flags &= ~IOCB_FLAG_IOPRIO;
	if (ld->prio && ld->prio->cmdprio.mode != CMDPRIO_MODE_NONE &&
	    fio_cmdprio_set_ioprio(td, &ld->prio->cmdprio, io_u)) {
		iocb->aio_reqprio = io_u->ioprio;
		iocb->u.c.flags |= IOCB_FLAG_IOPRIO;
	}
#endif
}

/*
 * A request that completed with @res < 0 (event()'s error branch only):
 * if it was an atomic write the kernel refused outright, say once why.
 */
void aior_flags_failed(struct thread_data *td, struct aior_data *ld,
		      struct io_u *io_u, long res)
{
	if (!ld->wr_flags || io_u->ddir != DDIR_WRITE || ld->said_atomic ||
	    (res != -EINVAL && res != -EOPNOTSUPP))
		return;
	ld->said_atomic = true;
	aior_log("libaioring: %s: the kernel refused an atomic write "
		 "(atomic=1, RWF_ATOMIC, %llu bytes at %llu): %s; it needs "
		 "O_DIRECT and a file system or device whose atomic write unit "
		 "covers the block size\n", io_u->file->file_name,
		 (unsigned long long)io_u->xfer_buflen,
		 (unsigned long long)io_u->offset, strerror((int)-res));
}

/* Is the running kernel's release older than @maj.@min? */
static bool kernel_before(const char *release, int maj, int min)
{
	int a = 0, b = 0;

	if (sscanf(release, "%d.%d", &a, &b) != 2)
		return false;
	return a < maj || (a == maj && b < min);
}

/*
 * A read with RWF_DONTCACHE came back EOPNOTSUPP: the flag unknown to the
 * kernel, or the file's file system without it (FOP_DONTCACHE), alike.
 * The kernel checks for unknown flags first, then for RWF_APPEND with
 * RWF_NOAPPEND (EINVAL), then what the file supports: so EINVAL for all
 * three together means it knows RWF_DONTCACHE.  Blamed on the kernel only
 * if it also says a release before 6.14, so a backport is not.
 */
static bool kernel_lacks_dontcache(struct aior_ctx *c, int fd,
				   const char *release,
				   const struct timespec *timeout)
{
	int ret = aior_probe_read(c, fd, AIOR_RWF_DONTCACHE | AIOR_RWF_APPEND |
				  AIOR_RWF_NOAPPEND, AIOR_PROBE_LEN, timeout);

	return ret != -EINVAL && kernel_before(release, 6, 14);
}

/*
 * uncached=1, a file just opened buffered: one real read with
 * RWF_DONTCACHE, as every request of the job will carry it, so a kernel
 * or file system without it fails the job here, before any I/O, rather
 * than every request.  Files fio opens before init (to size them) are
 * not probed: the job probes them again when it opens them for I/O.
 * Returns 0, or -errno after one line naming the file and why.
 */
int aior_uncached_open(struct thread_data *td, struct fio_file *f, int fd,
		       bool is_blockdev)
{
	const struct aior_options *o = td->eo;
	struct aior_data *ld = td->io_ops_data;
	struct timespec timeout = {
		.tv_sec = o->drain_timeout / 1000,
		.tv_nsec = (long)(o->drain_timeout % 1000) * 1000000,
	};
	struct utsname u;
	char fs[64];
	int ret;

	if (!o->uncached || !ld)
		return 0;
	if (!ld->probe.io) {
		ret = aior_ctx_setup(&ld->probe, 1, AIOR_REAP_SYSCALL);
		if (ret) {
			aior_log("libaioring: %s: uncached=1: no aio context "
				 "for the RWF_DONTCACHE probe read: io_setup: "
				 "%s\n", f->file_name, strerror(-ret));
			return ret;
		}
	}
	ret = aior_probe_read(&ld->probe, fd, AIOR_RWF_DONTCACHE,
			      AIOR_PROBE_LEN, &timeout);
	if (!ret)
		return 0;
	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "unknown");
	if (ret == -ETIMEDOUT)
		aior_log("libaioring: %s: uncached=1: the probe read with "
			 "RWF_DONTCACHE did not complete within "
			 "drain_timeout=%u ms: the device is not completing "
			 "I/O\n", f->file_name, o->drain_timeout);
	else if (ret != -EOPNOTSUPP)
		aior_log("libaioring: %s: uncached=1: a read with "
			 "RWF_DONTCACHE failed: %s (kernel %s)\n",
			 f->file_name, strerror(-ret), u.release);
	else if (kernel_lacks_dontcache(&ld->probe, fd, u.release, &timeout))
		aior_log("libaioring: %s: uncached=1 needs RWF_DONTCACHE, "
			 "which this kernel (%s) does not support: it needs "
			 "Linux 6.14 or later\n", f->file_name, u.release);
	else if (is_blockdev)
		aior_log("libaioring: %s: uncached=1: block devices do not "
			 "support RWF_DONTCACHE (kernel %s refused a read with "
			 "it: EOPNOTSUPP); use a file on a file system that "
			 "does, such as ext4 or xfs\n", f->file_name,
			 u.release);
	else
		aior_log("libaioring: %s: uncached=1: its file system (%s) "
			 "does not support RWF_DONTCACHE (kernel %s refused a "
			 "read with it: EOPNOTSUPP); use a file on one that "
			 "does, such as ext4 or xfs\n", f->file_name,
			 aior_fs_name(fd, fs, sizeof(fs)) ? "unknown" : fs,
			 u.release);
	return ret;
}

void aior_flags_cleanup(struct aior_data *ld)
{
	aior_ctx_teardown(&ld->probe);
	if (!ld->prio)
		return;
#if AIOR_FIO_CMDPRIO
	fio_cmdprio_cleanup(&ld->prio->cmdprio);
#endif
	free(ld->prio);
	ld->prio = NULL;
}
