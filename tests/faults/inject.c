/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault injection for the test-only engine module aioring_inject: the
 * engine's own sources plus this file.  At load, a constructor points
 * common/'s syscall seam (aior_sys) at a table that calls the real
 * syscalls (aior_sys_linux) and, as the environment asks, answers in
 * their place or rewrites their results.  Nothing here is linked into the
 * real libaioring.so.
 *
 * AIOR_INJECT is a comma-separated list of faults:
 *
 *   submit=eagain_forever        io_submit() takes nothing, ever (EAGAIN)
 *   submit=eagain_every:N        every Nth io_submit() call says EAGAIN
 *   submit=partial:K             io_submit() takes at most K iocbs a call
 *   submit=einval_every:N        the Nth, 2Nth... iocb is rejected (EINVAL)
 *   submit=ebadf_every:N         ... with EBADF
 *   submit=ebadf_once            the first iocb is rejected with EBADF
 *   getevents=eintr_every:N      every Nth io_getevents() call says EINTR
 *   events=res_neg:ERR@every:N   every Nth event reaped by io_getevents()
 *                                gets res = -ERR (ERR: EIO, ENOSPC, a number)
 *   events=res_zero@every:N      ... res = 0
 *   events=res_short:B@every:N   ... res = B when res > B
 *   ring=badmagic_after:N        after N io_submit() calls, the magic of
 *                                every live ring is changed (restored
 *                                before io_destroy())
 *   setup=max_nr:E               io_setup() fails with EAGAIN when the
 *                                events of this process's live contexts
 *                                would exceed E: a per-process
 *                                fs.aio-max-nr that other tests don't feel
 *
 * Rejected iocbs follow the kernel's contract: io_submit() returns how
 * many iocbs before the bad one it took, or the error if the bad one is
 * first.  Iocbs are numbered in the order the engine offers them: the
 * first iocb of a call is always the next one not yet taken.
 *
 * Event rewriting only sees what passes through io_getevents(): with
 * reap_mode=ring most completions are copied from the ring by
 * aior_ring_reap() without a syscall, so result faults need
 * reap_mode=syscall.
 *
 * Counts (every Nth call, iocb, event) are kept per process and are not
 * meant for several jobs sharing one process (thread=1 with numjobs > 1):
 * the tests run one job per process, fio's default.
 *
 * Every fault injected is logged, one line each, to the file named by
 * AIOR_INJECT_LOG (O_APPEND: fio's job processes share it), so tests can
 * compare what was injected with what fio reported.  An AIOR_INJECT that
 * cannot be parsed aborts the process: a typo must not pass as "no fault".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aioring.h"
#include "ring.h"

#define MAX_RINGS	64

enum submit_fault {
	SUB_NONE = 0,
	SUB_EAGAIN_FOREVER,
	SUB_EAGAIN_EVERY,
	SUB_PARTIAL,
	SUB_REJECT_EVERY,
	SUB_REJECT_ONCE,
};

enum event_fault {
	EV_NONE = 0,
	EV_NEG,
	EV_ZERO,
	EV_SHORT,
};

static struct {
	enum submit_fault submit;
	long submit_arg;	/* N or K */
	int submit_err;		/* -errno for rejections */
	long eintr_every;
	enum event_fault ev;
	long ev_arg;		/* errno or bytes */
	long ev_every;
	long badmagic_after;	/* 0: off */
	long setup_max_nr;	/* 0: off */
	int log_fd;
} cfg = { .log_fd = -1 };

/* Counters of this process (fio runs each job in its own process). */
static long n_submit_calls, n_iocbs_done, n_getevents, n_events;
static int magic_flipped;

/* Live contexts (io_setup() called from the job's own thread only). */
static struct {
	io_context_t ctx;
	unsigned int nr;	/* events asked of io_setup() */
	uint32_t magic;		/* the original, to restore */
	int flipped;
} rings[MAX_RINGS];

static long bump(long *v)
{
	return __atomic_add_fetch(v, 1, __ATOMIC_RELAXED);
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void logf_(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	if (cfg.log_fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%d ", (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	/* One write() per line with O_APPEND: lines never interleave. */
	(void)!write(cfg.log_fd, buf, (size_t)n);
}

/* ---- io_setup / io_destroy ---- */

static int inj_io_setup(unsigned int nr, io_context_t *ctx)
{
	unsigned long live = 0;
	int ret, i;

	for (i = 0; i < MAX_RINGS; i++)
		if (rings[i].ctx)
			live += rings[i].nr;
	if (cfg.setup_max_nr && live + nr > (unsigned long)cfg.setup_max_nr) {
		logf_("setup eagain nr=%u live=%lu", nr, live);
		return -EAGAIN;
	}
	ret = aior_sys_linux.io_setup(nr, ctx);
	if (ret < 0)
		return ret;
	for (i = 0; i < MAX_RINGS; i++) {
		if (!rings[i].ctx) {
			rings[i].ctx = *ctx;
			rings[i].nr = nr;
			rings[i].flipped = 0;
			break;
		}
	}
	return ret;
}

static void restore_ring(int i)
{
	struct aior_kring *r = (struct aior_kring *)rings[i].ctx;

	if (rings[i].flipped) {
		__atomic_store_n(&r->magic, rings[i].magic, __ATOMIC_RELAXED);
		rings[i].flipped = 0;
		logf_("ring magic restored");
	}
}

static int inj_io_destroy(io_context_t ctx)
{
	int i;

	for (i = 0; i < MAX_RINGS; i++) {
		if (rings[i].ctx == ctx) {
			restore_ring(i);
			rings[i].ctx = 0;
		}
	}
	return aior_sys_linux.io_destroy(ctx);
}

/*
 * Change the magic of every live ring: the kernel never reads it (it keeps
 * its own head/tail/nr), so only a user-space reaper notices.
 */
static void flip_magic(void)
{
	int i;

	for (i = 0; i < MAX_RINGS; i++) {
		struct aior_kring *r = (struct aior_kring *)rings[i].ctx;

		if (!r || rings[i].flipped)
			continue;
		rings[i].magic = r->magic;
		__atomic_store_n(&r->magic, ~AIOR_RING_MAGIC, __ATOMIC_RELAXED);
		rings[i].flipped = 1;
		logf_("ring magic flipped");
	}
}

/* ---- io_submit ---- */

static int inj_io_submit(io_context_t ctx, long nr, struct iocb **iocbs)
{
	long call = bump(&n_submit_calls);
	long i, take = nr;
	int ret;

	if (cfg.badmagic_after && call > cfg.badmagic_after && !magic_flipped) {
		magic_flipped = 1;
		flip_magic();
	}

	switch (cfg.submit) {
	case SUB_NONE:
		break;
	case SUB_EAGAIN_FOREVER:
		logf_("submit eagain");
		return -EAGAIN;
	case SUB_EAGAIN_EVERY:
		if (call % cfg.submit_arg == 0) {
			logf_("submit eagain");
			return -EAGAIN;
		}
		break;
	case SUB_PARTIAL:
		if (take > cfg.submit_arg) {
			take = cfg.submit_arg;
			logf_("submit partial %ld of %ld", take, nr);
		}
		break;
	case SUB_REJECT_ONCE:
	case SUB_REJECT_EVERY:
		/* iocbs[i] is iocb number n_iocbs_done + 1 + i. */
		for (i = 0; i < nr; i++) {
			long seq = n_iocbs_done + 1 + i;
			int hit = cfg.submit == SUB_REJECT_ONCE ? seq == 1 :
				  seq % cfg.submit_arg == 0;

			if (hit)
				break;
		}
		if (i == 0) {
			n_iocbs_done++;
			logf_("submit reject errno=%d", -cfg.submit_err);
			return cfg.submit_err;
		}
		take = i;
		break;
	}

	ret = aior_sys_linux.io_submit(ctx, take, iocbs);
	if (ret > 0)
		n_iocbs_done += ret;
	return ret;
}

/* ---- io_getevents ---- */

static int inj_io_getevents(io_context_t ctx, long min, long max,
			    struct io_event *events, struct timespec *timeout)
{
	long call = bump(&n_getevents);
	int ret, i;

	if (cfg.eintr_every && call % cfg.eintr_every == 0) {
		logf_("getevents eintr");
		return -EINTR;
	}
	ret = aior_sys_linux.io_getevents(ctx, min, max, events, timeout);
	if (ret <= 0 || cfg.ev == EV_NONE)
		return ret;

	for (i = 0; i < ret; i++) {
		struct io_event *ev = &events[i];
		long res = (long)ev->res;

		if (bump(&n_events) % cfg.ev_every)
			continue;
		switch (cfg.ev) {
		case EV_NEG:
			ev->res = (unsigned long)-cfg.ev_arg;
			logf_("event res=%ld was=%ld", -cfg.ev_arg, res);
			break;
		case EV_ZERO:
			ev->res = 0;
			logf_("event res=0 was=%ld", res);
			break;
		case EV_SHORT:
			if (res > cfg.ev_arg) {
				ev->res = (unsigned long)cfg.ev_arg;
				logf_("event res=%ld was=%ld", cfg.ev_arg,
				      res);
			}
			break;
		case EV_NONE:
			break;
		}
	}
	return ret;
}

static int inj_open(const char *path, int flags, mode_t mode)
{
	return aior_sys_linux.open(path, flags, mode);
}

static const struct aior_sys inject_sys = {
	.io_setup	= inj_io_setup,
	.io_destroy	= inj_io_destroy,
	.io_submit	= inj_io_submit,
	.io_getevents	= inj_io_getevents,
	.open		= inj_open,
};

/* ---- parsing AIOR_INJECT ---- */

static __attribute__((noreturn)) void bad_spec(const char *spec,
					       const char *why)
{
	fprintf(stderr, "aior_inject: AIOR_INJECT: '%s': %s\n", spec, why);
	abort();
}

static long parse_num(const char *spec, const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v <= 0)
		bad_spec(spec, "expected a positive number");
	return v;
}

static long parse_errno(const char *spec, const char *s)
{
	static const struct { const char *name; int err; } names[] = {
		{ "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EINVAL", EINVAL },
		{ "EBADF", EBADF }, { "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM },
		{ "EROFS", EROFS }, { "ENODEV", ENODEV },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].err;
	return parse_num(spec, s);
}

/* "X@every:N": split off N. */
static long parse_every(const char *spec, char *s)
{
	char *at = strstr(s, "@every:");

	if (!at)
		bad_spec(spec, "expected @every:N");
	*at = '\0';
	return parse_num(spec, at + 7);
}

static int prefix(const char *s, const char *p, const char **rest)
{
	size_t n = strlen(p);

	if (strncmp(s, p, n))
		return 0;
	*rest = s + n;
	return 1;
}

static void parse_one(char *spec)
{
	char copy[128];
	const char *v;
	char *eq;

	snprintf(copy, sizeof(copy), "%s", spec);
	eq = strchr(spec, '=');
	if (!eq)
		bad_spec(copy, "expected seam=fault");
	*eq = '\0';
	v = eq + 1;

	if (!strcmp(spec, "submit")) {
		if (!strcmp(v, "eagain_forever")) {
			cfg.submit = SUB_EAGAIN_FOREVER;
		} else if (prefix(v, "eagain_every:", &v)) {
			cfg.submit = SUB_EAGAIN_EVERY;
			cfg.submit_arg = parse_num(copy, v);
		} else if (prefix(v, "partial:", &v)) {
			cfg.submit = SUB_PARTIAL;
			cfg.submit_arg = parse_num(copy, v);
		} else if (prefix(v, "einval_every:", &v)) {
			cfg.submit = SUB_REJECT_EVERY;
			cfg.submit_arg = parse_num(copy, v);
			cfg.submit_err = -EINVAL;
		} else if (prefix(v, "ebadf_every:", &v)) {
			cfg.submit = SUB_REJECT_EVERY;
			cfg.submit_arg = parse_num(copy, v);
			cfg.submit_err = -EBADF;
		} else if (!strcmp(v, "ebadf_once")) {
			cfg.submit = SUB_REJECT_ONCE;
			cfg.submit_err = -EBADF;
		} else {
			bad_spec(copy, "unknown submit fault");
		}
	} else if (!strcmp(spec, "getevents")) {
		if (!prefix(v, "eintr_every:", &v))
			bad_spec(copy, "unknown getevents fault");
		cfg.eintr_every = parse_num(copy, v);
	} else if (!strcmp(spec, "events")) {
		char val[64];

		snprintf(val, sizeof(val), "%s", v);
		cfg.ev_every = parse_every(copy, val);
		if (prefix(val, "res_neg:", &v)) {
			cfg.ev = EV_NEG;
			cfg.ev_arg = parse_errno(copy, v);
		} else if (!strcmp(val, "res_zero")) {
			cfg.ev = EV_ZERO;
		} else if (prefix(val, "res_short:", &v)) {
			cfg.ev = EV_SHORT;
			cfg.ev_arg = parse_num(copy, v);
		} else {
			bad_spec(copy, "unknown events fault");
		}
	} else if (!strcmp(spec, "ring")) {
		if (!prefix(v, "badmagic_after:", &v))
			bad_spec(copy, "unknown ring fault");
		cfg.badmagic_after = parse_num(copy, v);
	} else if (!strcmp(spec, "setup")) {
		if (!prefix(v, "max_nr:", &v))
			bad_spec(copy, "unknown setup fault");
		cfg.setup_max_nr = parse_num(copy, v);
	} else {
		bad_spec(copy, "unknown seam (submit, getevents, events, "
			 "ring, setup)");
	}
}

__attribute__((constructor)) static void aior_inject_init(void)
{
	const char *env = getenv("AIOR_INJECT");
	const char *logp = getenv("AIOR_INJECT_LOG");
	char buf[512], *save = NULL, *tok;

	if (logp && *logp) {
		cfg.log_fd = open(logp, O_WRONLY | O_CREAT | O_APPEND |
				  O_CLOEXEC, 0644);
		if (cfg.log_fd < 0) {
			fprintf(stderr, "aior_inject: %s: %s\n", logp,
				strerror(errno));
			abort();
		}
	}
	if (env && *env) {
		if (strlen(env) >= sizeof(buf))
			bad_spec(env, "too long");
		strcpy(buf, env);
		for (tok = strtok_r(buf, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save))
			parse_one(tok);
	}
	logf_("active AIOR_INJECT=%s", env ? env : "");
	aior_sys = &inject_sys;
}
