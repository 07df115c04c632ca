/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the engine tells the user beyond a job's own errors: every message
 * (aior_log()), why a context could not be created, and the counters at
 * the end of a job.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "engine.h"

/*
 * Every line the engine prints goes through here, to stderr, and never
 * through fio's log_info()/log_err():
 *  - log_info() writes to fio's f_out: stdout, or the --output file, where
 *    a job's line lands in front of the JSON or terse document and breaks
 *    it for any parser (fio's built-in engines print nothing there);
 *  - log_err() writes to f_err, which --output also points at the file;
 *  - in a fio server (is_backend) both are sent to the client, which
 *    writes them to its own f_out, into the same documents; the server
 *    cannot know the client's output format.  So a server's engine
 *    writes to the server's own stderr: the client still gets a failed
 *    job's errno in its results.
 * Where fio logs to syslog (a daemonized server, whose stderr is
 * /dev/null), so does the engine, as fio's log_err() does.
 * One write() per message, so lines of parallel jobs do not interleave.
 */
void aior_log(const char *fmt, ...)
{
	va_list ap;
	char *buf;
	ssize_t ret;
	int len, off;

	va_start(ap, fmt);
	len = vasprintf(&buf, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if (log_syslog) {
		syslog(LOG_INFO, "%s", buf);
	} else {
		for (off = 0; off < len; off += ret) {
			ret = write(STDERR_FILENO, buf + off, len - off);
			if (ret < 0 && errno == EINTR)
				ret = 0;
			else if (ret <= 0)
				break;
		}
	}
	free(buf);
}

static long read_proc_long(const char *path)
{
	FILE *fp = fopen(path, "r");
	long v = -1;

	if (!fp)
		return -1;
	if (fscanf(fp, "%ld", &v) != 1)
		v = -1;
	fclose(fp);
	return v;
}

void aior_report_setup_error(struct thread_data *td, int err,
			     unsigned int depth, unsigned int nr_ctx)
{
	long max = read_proc_long("/proc/sys/fs/aio-max-nr");
	long now = read_proc_long("/proc/sys/fs/aio-nr");

	if (err == -EAGAIN) {
		/* Enough for this job on top of what is in use now. */
		long need = now + (long)depth * 2 * nr_ctx;
		long suggest = max > 0 && max * 2 > need ? max * 2 : need;

		aior_log("libaioring: job '%s': io_setup(%u) x %u context(s) "
			 "refused: the system-wide limit fs.aio-max-nr (%ld, "
			 "%ld in use) would be exceeded; raise it with "
			 "'sysctl -w fs.aio-max-nr=%ld', or lower iodepth, "
			 "ring_entries or numjobs%s\n", td->o.name, depth,
			 nr_ctx, max, now, suggest,
			 nr_ctx > 1 ? ", or use ctx_mode=shared" : "");
	} else if (err == -ENOSYS) {
		aior_log("libaioring: job '%s': this kernel has no native AIO "
			 "(io_setup: ENOSYS; CONFIG_AIO off?)\n", td->o.name);
	} else {
		aior_log("libaioring: job '%s': io_setup(%u) failed: %s\n",
			 td->o.name, depth, strerror(-err));
	}
}

void aior_report_counters(struct thread_data *td, const struct aior_data *ld)
{
	struct aior_ctx_stats s = { 0 };
	unsigned int i;

	for (i = 0; i < ld->nr_sqs; i++) {
		const struct aior_ctx_stats *c = &ld->sqs[i].ctx.st;

		s.submitted += c->submitted;
		s.submit_calls += c->submit_calls;
		s.eagain += c->eagain;
		s.reaped_ring += c->reaped_ring;
		s.reaped_syscall += c->reaped_syscall;
		s.getevents_calls += c->getevents_calls;
		s.ring_fallbacks += c->ring_fallbacks;
		s.inline_submits += c->inline_submits;
	}

	/* One line, key=value: easy to read and to grep in tests. */
	aior_log("libaioring: job '%s': contexts=%u submitted=%llu "
		 "submit_calls=%llu eagain=%llu submit_errors=%llu "
		 "reaped_ring=%llu reaped_syscall=%llu getevents_calls=%llu "
		 "ring_fallbacks=%llu resets=%llu drains=%llu "
		 "drain_max_us=%llu bounces=%llu direct_fallbacks=%llu "
		 "ctx_fallbacks=%llu holds=%llu inline_submits=%llu\n",
		 td->o.name, ld->nr_sqs,
		 (unsigned long long)s.submitted,
		 (unsigned long long)s.submit_calls,
		 (unsigned long long)s.eagain,
		 (unsigned long long)ld->cnt.submit_errors,
		 (unsigned long long)s.reaped_ring,
		 (unsigned long long)s.reaped_syscall,
		 (unsigned long long)s.getevents_calls,
		 (unsigned long long)s.ring_fallbacks,
		 (unsigned long long)ld->cnt.resets,
		 (unsigned long long)ld->cnt.drains,
		 (unsigned long long)(ld->cnt.drain_max_ns / 1000),
		 (unsigned long long)ld->cnt.bounces,
		 (unsigned long long)ld->cnt.direct_fallbacks,
		 (unsigned long long)ld->cnt.ctx_fallbacks,
		 (unsigned long long)ld->cnt.holds,
		 (unsigned long long)s.inline_submits);
}
