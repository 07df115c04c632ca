/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared helpers of the Check unit tests (see unit.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

void aior_t_skip(const char *fmt, ...)
{
	va_list ap;

	fputs("SKIP: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	exit(AIOR_T_SKIP);
}

/*
 * Every file a test makes goes in one directory, made by the runner and
 * removed when it exits: a test that fails (Check's child then _exit()s,
 * skipping teardown and atexit) or times out leaves nothing behind.
 */
static char run_dir[PATH_MAX];
static pid_t run_pid;
static bool running;	/* inside srunner_run_all(): a test asks */

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void rm_run_dir(void)
{
	/* Not from the forked test processes, which exit() too. */
	if (getpid() == run_pid)
		nftw(run_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int make_run_dir(void)
{
	const char *base = getenv("AIOR_TEST_DIR");

	snprintf(run_dir, sizeof(run_dir), "%s/aior-unit-XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(run_dir)) {
		int err = errno;

		run_dir[0] = '\0';
		return -err;
	}
	run_pid = getpid();
	atexit(rm_run_dir);
	return 0;
}

const char *aior_t_dir(void)
{
	int ret;

	if (run_dir[0])
		return run_dir;
	ret = make_run_dir();
	if (!ret)
		return run_dir;
	/* A test fails; a probe in main() says the host cannot. */
	if (running)
		ck_abort_msg("cannot create a directory in AIOR_TEST_DIR: %s",
			     strerror(-ret));
	aior_t_skip("cannot create a directory in AIOR_TEST_DIR: %s",
		    strerror(-ret));
}

int aior_t_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	/*
	 * Fork mode is Check's default; say so, so that a test that crashes
	 * or hangs fails alone.  CK_FORK=no still wins, for gdb.
	 */
	if (!getenv("CK_FORK"))
		srunner_set_fork_status(sr, CK_FORK);
	/* Here, so that it outlives the tests; they fail if it cannot be. */
	if (!run_dir[0])
		make_run_dir();
	running = true;
	/* CK_VERBOSITY=verbose lists every test. */
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int aior_t_file(char *path, uint64_t size)
{
	uint8_t buf[4096];
	uint64_t off = 0;
	int fd;

	if (snprintf(path, PATH_MAX, "%s/file-XXXXXX",
		     aior_t_dir()) >= PATH_MAX)
		ck_abort_msg("AIOR_TEST_DIR is too long");
	fd = mkstemp(path);
	ck_assert_msg(fd >= 0, "mkstemp(%s): %s", path, strerror(errno));
	while (off < size) {
		size_t i, n = sizeof(buf);

		if (size - off < n)
			n = (size_t)(size - off);
		for (i = 0; i < n; i++)
			buf[i] = aior_t_pattern(off + i);
		ck_assert_int_eq(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
		off += n;
	}
	return fd;
}

void aior_t_file_close(int fd, const char *path)
{
	if (fd >= 0)
		close(fd);
	unlink(path);
}

int aior_t_nr_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	/* Not the fd opendir() held while counting. */
	return n - 1;
}

/* ---- fabricated kernel rings ---- */

struct aior_kring *aior_t_ring_new(unsigned int nr)
{
	struct aior_kring *r;

	r = calloc(1, sizeof(*r) + (size_t)nr * sizeof(struct io_event));
	ck_assert_ptr_nonnull(r);
	r->nr = nr;
	r->magic = AIOR_RING_MAGIC;
	r->header_length = sizeof(*r);
	return r;
}

void aior_t_event(struct io_event *ev, uint64_t seq)
{
	ev->data = (void *)(uintptr_t)(seq + 1);
	ev->obj = (struct iocb *)(uintptr_t)(~seq);
	ev->res = (unsigned long)(seq * 3 + 1);
	ev->res2 = (unsigned long)(seq ^ 0x5555);
}

bool aior_t_event_is(const struct io_event *ev, uint64_t seq)
{
	struct io_event want;

	aior_t_event(&want, seq);
	return ev->data == want.data && ev->obj == want.obj &&
	       ev->res == want.res && ev->res2 == want.res2;
}

void aior_t_ring_push(struct aior_kring *r, uint64_t seq0, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		aior_t_event(&r->events[r->tail], seq0 + i);
		r->tail = (r->tail + 1) % r->nr;
	}
}

/* ---- the scriptable seam ---- */

struct aior_t_seam aior_t_seam;

static int script(const int *ret, unsigned int n, unsigned int call)
{
	return ret[call < n ? call : n - 1];
}

static int fake_io_setup(unsigned int nr, io_context_t *ctx)
{
	struct aior_t_seam *s = &aior_t_seam;
	int ret;

	if (!s->setup_n) {
		s->setup_calls++;
		return aior_sys_linux.io_setup(nr, ctx);
	}
	ret = script(s->setup_ret, s->setup_n, s->setup_calls++);
	if (ret == 0)
		*ctx = s->setup_ring;
	return ret;
}

static int fake_io_destroy(io_context_t ctx)
{
	struct aior_t_seam *s = &aior_t_seam;

	s->destroy_calls++;
	/* Scripted io_setup() handed out fabricated rings: the test's. */
	if (s->setup_n)
		return 0;
	return aior_sys_linux.io_destroy(ctx);
}

static int fake_io_submit(io_context_t ctx, long nr, struct iocb **iocbs)
{
	struct aior_t_seam *s = &aior_t_seam;

	unsigned int i;

	if (!s->submit_n) {
		s->submit_calls++;
		return aior_sys_linux.io_submit(ctx, nr, iocbs);
	}
	i = s->submit_calls < s->submit_n ? s->submit_calls : s->submit_n - 1;
	if (s->submit_moves[i] && s->setup_ring) {
		struct aior_kring *r = s->setup_ring;
		int ret = script(s->submit_ret, s->submit_n, s->submit_calls);
		unsigned int j, own = 0;

		for (j = 0; j < s->submit_moves[i]; j++) {
			struct io_event *ev = &r->events[r->tail];

			memset(ev, 0, sizeof(*ev));
			if (j >= s->submit_foreign[i] && ret > 0 &&
			    own < (unsigned int)ret && own < nr)
				ev->obj = iocbs[own++];
			r->tail = (r->tail + 1) % r->nr;
		}
	}
	return script(s->submit_ret, s->submit_n, s->submit_calls++);
}

static int fake_io_getevents(io_context_t ctx, long min, long max,
			     struct io_event *events,
			     struct timespec *timeout)
{
	struct aior_t_seam *s = &aior_t_seam;
	int i, ret;

	s->last_min = min;
	s->last_max = max;
	if (!s->getevents_n) {
		s->getevents_calls++;
		return aior_sys_linux.io_getevents(ctx, min, max, events,
						   timeout);
	}
	ret = script(s->getevents_ret, s->getevents_n, s->getevents_calls++);
	if (ret > max)
		ret = (int)max;
	for (i = 0; i < ret; i++)
		aior_t_event(&events[i], s->getevents_seq++);
	if (ret == 0 && timeout) {
		struct timespec t = *timeout;

		if (t.tv_sec >= 1) {
			t.tv_sec = 1;
			t.tv_nsec = 0;
		}
		nanosleep(&t, NULL);
	}
	return ret;
}

static int fake_open(const char *path, int flags, mode_t mode)
{
	struct aior_t_seam *s = &aior_t_seam;

	if (s->open_calls < AIOR_T_SCRIPT)
		s->open_flags[s->open_calls] = flags;
	s->open_calls++;
	if (s->open_direct_ret && (flags & O_DIRECT))
		return s->open_direct_ret;
	return aior_sys_linux.open(path, flags, mode);
}

static const struct aior_sys fake_sys = {
	.io_setup	= fake_io_setup,
	.io_destroy	= fake_io_destroy,
	.io_submit	= fake_io_submit,
	.io_getevents	= fake_io_getevents,
	.open		= fake_open,
};

void aior_t_seam_install(void)
{
	memset(&aior_t_seam, 0, sizeof(aior_t_seam));
	aior_sys = &fake_sys;
}

void aior_t_seam_remove(void)
{
	aior_sys = &aior_sys_linux;
}
