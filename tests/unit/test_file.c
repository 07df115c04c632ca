/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Opening files (O_DIRECT, the buffered retry and what must not be
 * retried), trimming and direct-I/O geometry, on temp files, devices and
 * a loop device.
 *
 * Usage: test_file            open and geometry
 *        test_file trim       punching holes (skips if the fs cannot)
 *        test_file fallback   geometry without STATX_DIOALIGN, on
 *                             /dev/shm (skips if that reports it)
 *        test_file loopdev    a 4096-byte-sector loop device (skips
 *                             without root or losetup)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "unit.h"

static int tfd = -1;
static char tpath[PATH_MAX];

static void file_setup(void)
{
	tfd = aior_t_file(tpath, 64 * 1024);
}

static void file_teardown(void)
{
	aior_t_file_close(tfd, tpath);
	tfd = -1;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* ---- aior_open() on the real file system ---- */

static const struct regular_case {
	const char *name;
	int flags;
	bool direct;
	bool allow_buffered;
} regular_cases[] = {
	{ "read-only",			O_RDONLY,	false, false },
	{ "read-write",			O_RDWR,		false, false },
	{ "direct",			O_RDWR,		true,  false },
	{ "direct, may fall back",	O_RDONLY,	true,  true },
};

START_TEST(test_open_regular_file)
{
	const struct regular_case *tc = &regular_cases[_i];
	struct aior_open_req req = {
		.path = tpath,
		.flags = tc->flags,
		.direct = tc->direct,
		.allow_buffered = tc->allow_buffered,
	};
	struct aior_open_res res;
	int ret, fl;

	ret = aior_open(&req, &res);
	ck_assert_msg(ret == 0, "%s: %s", tc->name, strerror(-ret));
	ck_assert_int_ge(res.fd, 0);
	ck_assert(!res.is_blockdev);
	ck_assert(!res.is_blockdev);
	fl = fcntl(res.fd, F_GETFL);
	ck_assert_int_ge(fl, 0);
	ck_assert_int_eq(fl & O_ACCMODE, tc->flags & O_ACCMODE);
	/* res.direct says what the fd has, whatever was asked. */
	ck_assert_int_eq(!!(fl & O_DIRECT), res.direct);
	if (!res.fell_back)
		ck_assert_int_eq(res.direct, tc->direct);
	else
		ck_assert(tc->direct && tc->allow_buffered && !res.direct);
	close(res.fd);
}
END_TEST

START_TEST(test_open_creates_file)
{
	char path[PATH_MAX];
	struct aior_open_req req = {
		.path = path,
		.flags = O_RDWR | O_CREAT | O_EXCL,
	};
	struct aior_open_res res;
	struct stat st;
	mode_t mask = umask(022);

	snprintf(path, sizeof(path), "%s/new-%d", aior_t_dir(),
		 (int)getpid());
	unlink(path);
	ck_assert_int_eq(aior_open(&req, &res), 0);
	umask(mask);
	ck_assert(!res.is_blockdev);
	ck_assert_int_eq(fstat(res.fd, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	close(res.fd);
	/* O_EXCL: the flags went to open() as given. */
	ck_assert_int_eq(aior_open(&req, &res), -EEXIST);
	unlink(path);
}
END_TEST

/* A path that aior_open() must refuse, and with what. */
enum kind { DIR_, MISSING, DEVNULL, FIFO };

static const struct refuse_case {
	const char *name;
	enum kind kind;
	int flags;
	bool direct;
	int ret;
} refuse_cases[] = {
	{ "directory, read",		DIR_,	 O_RDONLY, false, -EISDIR },
	{ "directory, write",		DIR_,	 O_RDWR,   false, -EISDIR },
	{ "directory, direct",		DIR_,	 O_RDONLY, true,  -EISDIR },
	{ "missing",			MISSING, O_RDONLY, false, -ENOENT },
	{ "missing, direct",		MISSING, O_RDWR,   true,  -ENOENT },
	{ "/dev/null, read",		DEVNULL, O_RDONLY, false, -ENOTBLK },
	{ "/dev/null, write",		DEVNULL, O_RDWR,   false, -ENOTBLK },
	{ "FIFO",			FIFO,	 O_RDWR,   false, -ENOTBLK },
};

START_TEST(test_open_refuses_non_files)
{
	const struct refuse_case *tc = &refuse_cases[_i];
	char path[PATH_MAX];
	struct aior_open_req req = {
		.path = path,
		.flags = tc->flags,
		.direct = tc->direct,
		.allow_buffered = true,
	};
	struct aior_open_res res;
	int fds, ret;

	switch (tc->kind) {
	case DIR_:
		snprintf(path, sizeof(path), "%s", aior_t_dir());
		break;
	case MISSING:
		snprintf(path, sizeof(path), "%s/no-such-%d",
			 aior_t_dir(), (int)getpid());
		break;
	case DEVNULL:
		snprintf(path, sizeof(path), "/dev/null");
		break;
	case FIFO:
		snprintf(path, sizeof(path), "%s/fifo-%d",
			 aior_t_dir(), (int)getpid());
		unlink(path);
		ck_assert_int_eq(mkfifo(path, 0600), 0);
		break;
	}
	aior_t_seam_install();	/* pass-through: counts open() */
	fds = aior_t_nr_fds();
	ret = aior_open(&req, &res);
	ck_assert_msg(ret == tc->ret, "%s: returned %d (%s), want %d",
		      tc->name, ret, strerror(-ret), tc->ret);
	ck_assert_int_eq(res.fd, -1);
	ck_assert_msg(aior_t_nr_fds() == fds, "%s: leaked an fd", tc->name);
	/*
	 * Nothing here is retried, except that ext4 and others answer
	 * O_DIRECT on a directory with EINVAL, which is the retry's cue: the
	 * buffered open then finds the directory.
	 */
	ck_assert_msg(aior_t_seam.open_calls == 1 ||
		      (tc->kind == DIR_ && tc->direct &&
		       aior_t_seam.open_calls == 2),
		      "%s: %u open() calls", tc->name, aior_t_seam.open_calls);
	aior_t_seam_remove();
	if (tc->kind == FIFO)
		unlink(path);
}
END_TEST

/* ---- aior_open() with open() answers injected for O_DIRECT ---- */

static const struct inject_case {
	const char *name;
	int direct_ret;		/* what open() says when O_DIRECT is set */
	bool direct;
	bool allow_buffered;
	int ret;
	unsigned int calls;
	bool fell_back;
} inject_cases[] = {
	{ "EINVAL, may fall back",  -EINVAL, true,  true,  0,	    2, true },
	{ "EINVAL, must be direct", -EINVAL, true,  false, -EINVAL, 1, false },
	{ "ENOENT not retried",	    -ENOENT, true,  true,  -ENOENT, 1, false },
	{ "EACCES not retried",	    -EACCES, true,  true,  -EACCES, 1, false },
	{ "EROFS not retried",	    -EROFS,  true,  true,  -EROFS,  1, false },
	{ "EPERM not retried",	    -EPERM,  true,  true,  -EPERM,  1, false },
	{ "EISDIR not retried",	    -EISDIR, true,  true,  -EISDIR, 1, false },
	{ "buffered: no O_DIRECT",  -EINVAL, false, true,  0,	    1, false },
};

START_TEST(test_open_direct_refusal)
{
	const struct inject_case *tc = &inject_cases[_i];
	struct aior_open_req req = {
		.path = tpath,
		.flags = O_RDWR,
		.direct = tc->direct,
		.allow_buffered = tc->allow_buffered,
	};
	struct aior_open_res res;
	int fds, ret;

	aior_t_seam_install();
	aior_t_seam.open_direct_ret = tc->direct_ret;
	fds = aior_t_nr_fds();
	ret = aior_open(&req, &res);
	ck_assert_msg(ret == tc->ret, "%s: returned %d, want %d", tc->name,
		      ret, tc->ret);
	ck_assert_msg(aior_t_seam.open_calls == tc->calls,
		      "%s: %u open() calls, want %u", tc->name,
		      aior_t_seam.open_calls, tc->calls);
	ck_assert_int_eq(!!(aior_t_seam.open_flags[0] & O_DIRECT), tc->direct);
	if (ret) {
		ck_assert_int_eq(res.fd, -1);
		ck_assert(!res.fell_back);
		ck_assert_int_eq(aior_t_nr_fds(), fds);
		aior_t_seam_remove();
		return;
	}
	ck_assert_int_ge(res.fd, 0);
	ck_assert(!res.is_blockdev);
	ck_assert_int_eq(res.fell_back, tc->fell_back);
	ck_assert(!res.direct);
	ck_assert(!(fcntl(res.fd, F_GETFL) & O_DIRECT));
	if (tc->calls == 2) {
		/* The retry is the same open, less O_DIRECT. */
		ck_assert_int_eq(aior_t_seam.open_flags[1],
				 aior_t_seam.open_flags[0] & ~O_DIRECT);
	}
	close(res.fd);
	aior_t_seam_remove();
}
END_TEST

/* The buffered retry fails too: its error, not EINVAL, and no fd. */
START_TEST(test_open_fallback_failure_reported)
{
	char path[PATH_MAX];
	struct aior_open_req req = {
		.path = path,
		.flags = O_RDONLY,
		.direct = true,
		.allow_buffered = true,
	};
	struct aior_open_res res;

	snprintf(path, sizeof(path), "%s/no-such-%d", aior_t_dir(),
		 (int)getpid());
	aior_t_seam_install();
	aior_t_seam.open_direct_ret = -EINVAL;
	ck_assert_int_eq(aior_open(&req, &res), -ENOENT);
	ck_assert_uint_eq(aior_t_seam.open_calls, 2);
	ck_assert_int_eq(res.fd, -1);
	ck_assert(!res.fell_back);
	aior_t_seam_remove();
}
END_TEST

/* ---- aior_geometry() of regular files ---- */

static const uint64_t geo_sizes[] = { 0, 12345, 1 << 20 };

START_TEST(test_geometry_regular_file)
{
	struct aior_geometry geo;
	struct statx stx;
	char path[PATH_MAX];
	int fd;

	fd = aior_t_file(path, geo_sizes[_i]);
	ck_assert_int_eq(aior_geometry(fd, false, &geo), 0);
	ck_assert_uint_eq(geo.size, geo_sizes[_i]);
	ck_assert_msg(is_pow2(geo.lbs) && geo.lbs >= 512, "lbs %u", geo.lbs);
	ck_assert_msg(is_pow2(geo.mem_align), "mem_align %u", geo.mem_align);
	ck_assert_uint_ge(geo.mem_align, 1);

	/* It says where the numbers came from, and they agree. */
	ck_assert_int_eq(statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx), 0);
	if ((stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align) {
		ck_assert_int_eq(geo.source, AIOR_BS_STATX);
		ck_assert_uint_eq(geo.lbs, stx.stx_dio_offset_align);
		ck_assert_uint_eq(geo.mem_align, stx.stx_dio_mem_align);
	} else {
		ck_assert_int_eq(geo.source, AIOR_BS_FALLBACK);
	}
	aior_t_file_close(fd, path);
}
END_TEST

/*
 * A file system that reports no STATX_DIOALIGN (tmpfs): the fallback,
 * said so, with a block size O_DIRECT can take.
 */
static const char *const fallback_dir = "/dev/shm";

START_TEST(test_geometry_fallback_without_dioalign)
{
	char path[PATH_MAX];
	struct aior_geometry geo;
	int fd;

	snprintf(path, sizeof(path), "%s/aior-unit-XXXXXX", fallback_dir);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(ftruncate(fd, 8192), 0);
	ck_assert_int_eq(aior_geometry(fd, false, &geo), 0);
	ck_assert_int_eq(geo.source, AIOR_BS_FALLBACK);
	ck_assert_msg(is_pow2(geo.lbs) && geo.lbs >= 512 && geo.lbs <= 4096,
		      "lbs %u", geo.lbs);
	ck_assert_msg(is_pow2(geo.mem_align) && geo.mem_align <= geo.lbs,
		      "mem_align %u", geo.mem_align);
	ck_assert_uint_eq(geo.size, 8192);
	close(fd);
}
END_TEST

START_TEST(test_geometry_bad_fd)
{
	struct aior_geometry geo;

	ck_assert_int_eq(aior_geometry(-1, false, &geo), -EBADF);
	ck_assert_int_eq(aior_geometry(-1, true, &geo), -EBADF);
}
END_TEST

/* ---- aior_trim() of regular files ---- */

#define TRIM_FILE	(1024 * 1024)

static const struct trim_case {
	const char *name;
	uint64_t off, len;
	bool aligned;	/* whole blocks: st_blocks must shrink */
} trim_cases[] = {
	{ "middle",		256 * 1024,	512 * 1024,	true },
	{ "start",		0,		64 * 1024,	true },
	{ "end",		TRIM_FILE - 128 * 1024, 128 * 1024, true },
	{ "past the end",	TRIM_FILE - 64 * 1024, 256 * 1024, true },
	{ "unaligned",		1000,		70000,		false },
};

START_TEST(test_trim_punches_hole)
{
	const struct trim_case *tc = &trim_cases[_i];
	static uint8_t buf[TRIM_FILE];
	char path[PATH_MAX];
	struct stat before, after;
	uint64_t i, end = tc->off + tc->len;
	int fd;

	fd = aior_t_file(path, TRIM_FILE);
	ck_assert_int_eq(fsync(fd), 0);
	ck_assert_int_eq(fstat(fd, &before), 0);
	ck_assert_int_eq(aior_trim(fd, false, tc->off, tc->len), 0);
	ck_assert_int_eq(fstat(fd, &after), 0);
	/* KEEP_SIZE: a hole, not a truncation. */
	ck_assert_int_eq(after.st_size, TRIM_FILE);
	if (tc->aligned) {
		uint64_t in = (end > TRIM_FILE ? TRIM_FILE : end) - tc->off;

		ck_assert_msg((uint64_t)(before.st_blocks - after.st_blocks) *
			      512 >= in, "%s: freed %lld blocks of 512",
			      tc->name,
			      (long long)(before.st_blocks - after.st_blocks));
	}
	ck_assert_int_eq(pread(fd, buf, TRIM_FILE, 0), TRIM_FILE);
	for (i = 0; i < TRIM_FILE; i++) {
		uint8_t want = i >= tc->off && i < end ? 0 : aior_t_pattern(i);

		if (buf[i] != want)
			ck_abort_msg("%s: byte %llu is %#x, want %#x", tc->name,
				     (unsigned long long)i, buf[i], want);
	}
	aior_t_file_close(fd, path);
}
END_TEST

START_TEST(test_trim_needs_writable_fd)
{
	int fd = open(tpath, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(aior_trim(fd, false, 0, 4096), -EBADF);
	close(fd);
}
END_TEST

/* ---- a loop device with 4096-byte sectors ---- */

#define LOOP_SIZE	(4 * 1024 * 1024)

static char loop_dev[PATH_MAX];
static char loop_file[PATH_MAX];

static void loop_up(void)
{
	char cmd[PATH_MAX + 128];
	FILE *p;
	int fd;

	if (geteuid())
		aior_t_skip("loop devices need root");
	snprintf(loop_file, sizeof(loop_file), "%s/loop-XXXXXX",
		 aior_t_dir());
	fd = mkstemp(loop_file);
	if (fd < 0 || ftruncate(fd, LOOP_SIZE))
		aior_t_skip("cannot create %s: %s", loop_file, strerror(errno));
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "losetup --find --show --sector-size 4096 %s 2>&1", loop_file);
	p = popen(cmd, "r");
	if (!p || !fgets(loop_dev, sizeof(loop_dev), p)) {
		if (p)
			pclose(p);
		unlink(loop_file);
		aior_t_skip("losetup gave nothing");
	}
	loop_dev[strcspn(loop_dev, "\n")] = '\0';
	if (pclose(p) || strncmp(loop_dev, "/dev/", 5)) {
		unlink(loop_file);
		aior_t_skip("losetup is not usable here: %s", loop_dev);
	}
}

static void loop_down(void)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "losetup -d %s", loop_dev);
	if (system(cmd))
		fprintf(stderr, "warning: %s failed\n", cmd);
	unlink(loop_file);
}

static void loop_open(struct aior_open_res *res, bool direct)
{
	struct aior_open_req req = {
		.path = loop_dev,
		.flags = O_RDWR,
		.direct = direct,
	};

	ck_assert_int_eq(aior_open(&req, res), 0);
}

START_TEST(test_open_loop_device)
{
	struct aior_open_res res;

	loop_open(&res, true);
	ck_assert(res.is_blockdev);
	ck_assert(res.direct);
	ck_assert(!res.fell_back);
	ck_assert(fcntl(res.fd, F_GETFL) & O_DIRECT);
	close(res.fd);
}
END_TEST

START_TEST(test_geometry_loop_device_4k)
{
	struct aior_open_res res;
	struct aior_geometry geo;

	loop_open(&res, true);
	ck_assert_int_eq(aior_geometry(res.fd, true, &geo), 0);
	ck_assert_uint_eq(geo.lbs, 4096);
	ck_assert_int_eq(geo.source, AIOR_BS_BLKSSZGET);
	ck_assert_uint_eq(geo.size, LOOP_SIZE);
	ck_assert_msg(is_pow2(geo.mem_align) && geo.mem_align <= 4096,
		      "mem_align %u", geo.mem_align);
	close(res.fd);
}
END_TEST

START_TEST(test_trim_loop_device_discards)
{
	static uint8_t buf[4 * 4096] __attribute__((aligned(4096)));
	struct aior_open_res res;
	size_t i;
	int ret;

	loop_open(&res, true);
	memset(buf, 0xee, sizeof(buf));
	ck_assert_int_eq(pwrite(res.fd, buf, sizeof(buf), 4096), sizeof(buf));
	ck_assert_int_eq(fsync(res.fd), 0);
	/* The middle two of the four blocks written. */
	ret = aior_trim(res.fd, true, 2 * 4096, 2 * 4096);
	if (ret == -EOPNOTSUPP) {
		/* The backing file system cannot punch holes. */
		printf("loop device has no discard: not checked\n");
		close(res.fd);
		return;
	}
	ck_assert_int_eq(ret, 0);
	ck_assert_int_eq(pread(res.fd, buf, sizeof(buf), 4096), sizeof(buf));
	for (i = 0; i < sizeof(buf); i++) {
		uint8_t want = i >= 4096 && i < 3 * 4096 ? 0 : 0xee;

		if (buf[i] != want)
			ck_abort_msg("byte %zu is %#x, want %#x", 4096 + i,
				     buf[i], want);
	}
	/* Not on a sector boundary: the kernel's EINVAL, as is. */
	ck_assert_int_eq(aior_trim(res.fd, true, 512, 4096), -EINVAL);
	close(res.fd);
}
END_TEST

/* ---- aior_probe_read(), aior_fs_name() ---- */

static const struct timespec probe_wait = { 5, 0 };

START_TEST(test_probe_read_takes_known_flags)
{
	struct aior_ctx c;

	ck_assert_int_eq(aior_ctx_setup(&c, 1, AIOR_REAP_SYSCALL), 0);
	/* No flags, and RWF_HIPRI's neighbour RWF_DSYNC (4.7): taken. */
	ck_assert_int_eq(aior_probe_read(&c, tfd, 0, 4096, &probe_wait), 0);
	ck_assert_int_eq(aior_probe_read(&c, tfd, RWF_DSYNC, 4096, &probe_wait),
			 0);
	/* Past the end of the file: 0 bytes, still a completed read. */
	ck_assert_int_eq(aior_probe_read(&c, tfd, 0, 1 << 20, &probe_wait), 0);
	ck_assert_uint_eq(c.inflight, 0);
	aior_ctx_teardown(&c);
}
END_TEST

START_TEST(test_probe_read_refusals)
{
	struct aior_ctx c;
	int wfd;

	ck_assert_int_eq(aior_ctx_setup(&c, 1, AIOR_REAP_SYSCALL), 0);
	/* A flag no kernel knows: refused at submission, as unknown. */
	ck_assert_int_eq(aior_probe_read(&c, tfd, 1 << 30, 4096, &probe_wait),
			 -EOPNOTSUPP);
	/* A file that cannot be read: the kernel's answer, as is. */
	wfd = open(tpath, O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(wfd, 0);
	ck_assert_int_eq(aior_probe_read(&c, wfd, 0, 4096, &probe_wait),
			 -EBADF);
	close(wfd);
	ck_assert_uint_eq(c.inflight, 0);
	aior_ctx_teardown(&c);
}
END_TEST

START_TEST(test_probe_read_no_room)
{
	struct aior_ctx c;

	/* io_submit() taking nothing (EAGAIN): said so, nothing in flight. */
	ck_assert_int_eq(aior_ctx_setup(&c, 1, AIOR_REAP_SYSCALL), 0);
	aior_t_seam_install();
	aior_t_seam.submit_ret[0] = -EAGAIN;
	aior_t_seam.submit_n = 1;
	ck_assert_int_eq(aior_probe_read(&c, tfd, 0, 4096, &probe_wait),
			 -EAGAIN);
	ck_assert_uint_eq(aior_t_seam.getevents_calls, 0);
	ck_assert_uint_eq(c.inflight, 0);
	aior_t_seam_remove();
	aior_ctx_teardown(&c);
}
END_TEST

START_TEST(test_probe_read_bounded_wait)
{
	const struct timespec short_wait = { 0, 50 * 1000 * 1000 };
	struct aior_ctx c;

	/*
	 * A device that does not answer: io_getevents() finds nothing in
	 * the time given.  The probe says so instead of waiting for ever.
	 */
	ck_assert_int_eq(aior_ctx_setup(&c, 1, AIOR_REAP_SYSCALL), 0);
	aior_t_seam_install();
	aior_t_seam.getevents_ret[0] = 0;
	aior_t_seam.getevents_n = 1;
	ck_assert_int_eq(aior_probe_read(&c, tfd, 0, 4096, &short_wait),
			 -ETIMEDOUT);
	ck_assert_uint_eq(aior_t_seam.getevents_calls, 1);
	aior_t_seam_remove();
	aior_ctx_teardown(&c);
}
END_TEST

START_TEST(test_fs_name_names_the_mount)
{
	char name[64], path[PATH_MAX];
	struct statfs sfs;
	int fd;

	ck_assert_int_eq(aior_fs_name(tfd, name, sizeof(name)), 0);
	ck_assert_msg(name[0] != '\0', "empty file system name");
	/* /dev/shm is tmpfs on Linux systems with a RAM-backed /dev/shm. */
	fd = open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstatfs(fd, &sfs) || sfs.f_type != 0x01021994) {
		if (fd >= 0)
			close(fd);
		return;
	}
	ck_assert_int_eq(aior_fs_name(fd, name, sizeof(name)), 0);
	ck_assert_str_eq(name, "tmpfs");
	close(fd);
	ck_assert_int_eq(aior_fs_name(-1, path, sizeof(path)), -EBADF);
}
END_TEST

static Suite *file_suite(void)
{
	Suite *s = suite_create("file");
	TCase *tc;

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, file_setup, file_teardown);
	tcase_add_loop_test(tc, test_open_regular_file, 0,
			    sizeof(regular_cases) / sizeof(regular_cases[0]));
	tcase_add_test(tc, test_open_creates_file);
	tcase_add_loop_test(tc, test_open_refuses_non_files, 0,
			    sizeof(refuse_cases) / sizeof(refuse_cases[0]));
	tcase_add_loop_test(tc, test_open_direct_refusal, 0,
			    sizeof(inject_cases) / sizeof(inject_cases[0]));
	tcase_add_test(tc, test_open_fallback_failure_reported);
	suite_add_tcase(s, tc);

	tc = tcase_create("probe");
	tcase_add_checked_fixture(tc, file_setup, file_teardown);
	tcase_add_test(tc, test_probe_read_takes_known_flags);
	tcase_add_test(tc, test_probe_read_refusals);
	tcase_add_test(tc, test_probe_read_no_room);
	tcase_add_test(tc, test_probe_read_bounded_wait);
	tcase_add_test(tc, test_fs_name_names_the_mount);
	suite_add_tcase(s, tc);

	tc = tcase_create("geometry");
	tcase_add_loop_test(tc, test_geometry_regular_file, 0,
			    sizeof(geo_sizes) / sizeof(geo_sizes[0]));
	tcase_add_test(tc, test_geometry_bad_fd);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *trim_suite(void)
{
	Suite *s = suite_create("file trim");
	TCase *tc = tcase_create("trim");

	tcase_add_checked_fixture(tc, file_setup, file_teardown);
	tcase_add_loop_test(tc, test_trim_punches_hole, 0,
			    sizeof(trim_cases) / sizeof(trim_cases[0]));
	tcase_add_test(tc, test_trim_needs_writable_fd);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *fallback_suite(void)
{
	Suite *s = suite_create("file fallback");
	TCase *tc = tcase_create("fallback");

	tcase_add_test(tc, test_geometry_fallback_without_dioalign);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *loop_suite(void)
{
	Suite *s = suite_create("file loopdev");
	TCase *tc = tcase_create("loopdev");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_open_loop_device);
	tcase_add_test(tc, test_geometry_loop_device_4k);
	tcase_add_test(tc, test_trim_loop_device_discards);
	suite_add_tcase(s, tc);
	return s;
}

/* Skip unless the test directory's file system can punch holes. */
static void trim_probe(void)
{
	char path[PATH_MAX];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/probe-XXXXXX", aior_t_dir());
	fd = mkstemp(path);
	if (fd < 0)
		aior_t_skip("cannot create %s: %s", path, strerror(errno));
	if (ftruncate(fd, 65536) ||
	    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096))
		err = errno;
	close(fd);
	unlink(path);
	if (err == EOPNOTSUPP)
		aior_t_skip("%s cannot punch holes (EOPNOTSUPP)", aior_t_dir());
}

/* Skip unless fallback_dir's file system reports no DIO alignment. */
static void fallback_probe(void)
{
	char path[PATH_MAX];
	struct statx stx;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/aior-unit-XXXXXX", fallback_dir);
	fd = mkstemp(path);
	if (fd < 0)
		aior_t_skip("cannot create %s: %s", path, strerror(errno));
	unlink(path);
	ret = statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx);
	close(fd);
	if (ret)
		aior_t_skip("statx: %s", strerror(errno));
	if ((stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align)
		aior_t_skip("%s reports STATX_DIOALIGN: no fallback to test",
			    fallback_dir);
}

int main(int argc, char **argv)
{
	int ret;

	if (argc < 2)
		return aior_t_run(file_suite());
	if (!strcmp(argv[1], "trim")) {
		trim_probe();
		return aior_t_run(trim_suite());
	}
	if (!strcmp(argv[1], "fallback")) {
		fallback_probe();
		return aior_t_run(fallback_suite());
	}
	if (!strcmp(argv[1], "loopdev")) {
		loop_up();
		ret = aior_t_run(loop_suite());
		loop_down();
		return ret;
	}
	fprintf(stderr, "usage: %s [trim|fallback|loopdev]\n", argv[0]);
	return 2;
}
