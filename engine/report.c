/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the engine tells the user beyond a job's own errors: every message
 * (aior_log()), why a context could not be created, and the counters at
 * the end of a job, as a line for people and a JSON line for programs.
 */
#include <errno.h>
#include <fcntl.h>
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

/* One counter of a job, under the name both of its reports use. */
struct aior_stat {
	const char *key;
	unsigned long long val;
};

enum { AIOR_NR_STATS = 17 };

/* The counters of the job's contexts, added up. */
static struct aior_ctx_stats ctx_totals(const struct aior_data *ld)
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
	return s;
}

/* The job's counters, in the order of its line. */
static void job_stats(const struct aior_data *ld,
		      struct aior_stat st[AIOR_NR_STATS])
{
	const struct aior_ctx_stats s = ctx_totals(ld);
	const struct aior_stat t[] = {
		{ "contexts", ld->nr_sqs },
		{ "submitted", s.submitted },
		{ "submit_calls", s.submit_calls },
		{ "eagain", s.eagain },
		{ "submit_errors", ld->cnt.submit_errors },
		{ "reaped_ring", s.reaped_ring },
		{ "reaped_syscall", s.reaped_syscall },
		{ "getevents_calls", s.getevents_calls },
		{ "ring_fallbacks", s.ring_fallbacks },
		{ "resets", ld->cnt.resets },
		{ "drains", ld->cnt.drains },
		{ "drain_max_us", ld->cnt.drain_max_ns / 1000 },
		{ "bounces", ld->cnt.bounces },
		{ "direct_fallbacks", ld->cnt.direct_fallbacks },
		{ "ctx_fallbacks", ld->cnt.ctx_fallbacks },
		{ "holds", ld->cnt.holds },
		{ "inline_submits", s.inline_submits },
	};

	_Static_assert(sizeof(t) / sizeof(t[0]) == AIOR_NR_STATS,
		       "AIOR_NR_STATS is the number of counters");
	memcpy(st, t, sizeof(t));
}

/* @s as a JSON string: quotes, backslashes and control bytes escaped. */
static void json_string(FILE *m, const char *s)
{
	const unsigned char *p;

	fputc('"', m);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(m, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(m, "\\u%04x", *p);
		else
			fputc(*p, m);
	}
	fputc('"', m);
}

int aior_stats_file_open(struct thread_data *td, struct aior_data *ld)
{
	struct aior_options *o = td->eo;
	int err;

	ld->stats_fd = -1;
	if (!o->stats_file || !*o->stats_file)
		return 0;
	/*
	 * O_APPEND: every job's line goes at the end of the file in one
	 * write(), so jobs in other processes or threads never split it.
	 */
	ld->stats_fd = open(o->stats_file,
			    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (ld->stats_fd < 0) {
		err = errno;
		aior_log("libaioring: job '%s': engine_stats_file=%s: cannot "
			 "open for appending: %s (errno %d)\n", td->o.name,
			 o->stats_file, strerror(err), err);
		td_verror(td, err, "open(engine_stats_file)");
		return 1;
	}
	return 0;
}

/* One JSON object on one line, appended to engine_stats_file. */
static void write_stats_file(struct thread_data *td,
			     const struct aior_data *ld,
			     const struct aior_stat st[AIOR_NR_STATS])
{
	struct aior_options *o = td->eo;
	size_t size;
	ssize_t ret;
	char *buf;
	FILE *m;
	int i;

	m = open_memstream(&buf, &size);
	if (!m) {
		aior_log("libaioring: job '%s': engine_stats_file=%s: %s\n",
			 td->o.name, o->stats_file, strerror(errno));
		return;
	}
	fprintf(m, "{\"engine\":\"libaioring\",\"fio\":");
	json_string(m, fio_version_string);
	fprintf(m, ",\"job\":");
	json_string(m, td->o.name ? td->o.name : "");
	fprintf(m, ",\"job_number\":%u", td->thread_number);
	for (i = 0; i < AIOR_NR_STATS; i++)
		fprintf(m, ",\"%s\":%llu", st[i].key, st[i].val);
	fprintf(m, "}\n");
	if (fclose(m)) {
		aior_log("libaioring: job '%s': engine_stats_file=%s: out of "
			 "memory\n", td->o.name, o->stats_file);
		free(buf);
		return;
	}
	ret = write(ld->stats_fd, buf, size);
	if (ret != (ssize_t)size)
		aior_log("libaioring: job '%s': engine_stats_file=%s: write "
			 "failed: %s\n", td->o.name, o->stats_file,
			 ret < 0 ? strerror(errno) : "short write");
	free(buf);
}

void aior_report_counters(struct thread_data *td, const struct aior_data *ld)
{
	struct aior_options *o = td->eo;
	struct aior_stat st[AIOR_NR_STATS];
	size_t size;
	char *line;
	FILE *m;
	int i;

	job_stats(ld, st);
	if (ld->stats_fd >= 0)
		write_stats_file(td, ld, st);
	if (!o->engine_stats)
		return;
	/* One line, key=value: easy to read and to grep in tests. */
	m = open_memstream(&line, &size);
	if (!m)
		return;
	fprintf(m, "libaioring: job '%s':", td->o.name);
	for (i = 0; i < AIOR_NR_STATS; i++)
		fprintf(m, " %s=%llu", st[i].key, st[i].val);
	fputc('\n', m);
	if (!fclose(m))
		aior_log("%s", line);
	free(line);
}
