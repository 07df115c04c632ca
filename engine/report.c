/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the engine tells the user beyond a job's own errors: why a context
 * could not be created, and the counters at the end of a job.
 */
#include <stdio.h>

#include "engine.h"

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

		log_err("libaioring: job '%s': io_setup(%u) x %u context(s) "
			"refused: the system-wide limit fs.aio-max-nr (%ld, "
			"%ld in use) would be exceeded; raise it with "
			"'sysctl -w fs.aio-max-nr=%ld', or lower iodepth, "
			"ring_entries or numjobs%s\n", td->o.name, depth, nr_ctx,
			max, now, suggest,
			nr_ctx > 1 ? ", or use ctx_mode=shared" : "");
	} else if (err == -ENOSYS) {
		log_err("libaioring: job '%s': this kernel has no native AIO "
			"(io_setup: ENOSYS; CONFIG_AIO off?)\n", td->o.name);
	} else {
		log_err("libaioring: job '%s': io_setup(%u) failed: %s\n",
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
	log_info("libaioring: job '%s': contexts=%u submitted=%llu "
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
	/*
	 * A job process leaves with _exit(): with --output=FILE, what sits
	 * in its stdio buffer would be lost.
	 */
	log_info_flush();
}
