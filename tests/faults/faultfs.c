/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * faultfs: a FUSE file system for the fault tests.  It exposes one
 * regular file of fixed size, backed by memory, whose requests can fail,
 * come back short, be slow, or stall until released.
 *
 *   faultfs [options] [fuse options] MOUNTPOINT
 *
 *   --name=NAME          the file's name (default "disk")
 *   --size=BYTES         its size (default 64 MiB); writes past it: ENOSPC
 *   --blksize=BYTES      st_blksize reported (default 512); libaioring
 *                        takes it as the direct-I/O block size, as FUSE
 *                        reports no STATX_DIOALIGN
 *   --eio-read=O[:O...]  a read covering byte O fails with EIO
 *   --eio-write=O[:O...] a write covering byte O fails with EIO
 *   --short-read=O[:O...] a read that starts before O and ends after it
 *                        returns only the bytes before O
 *   --eof=O              the data ends at byte O although the file's size
 *                        says more (a file truncated under the reader):
 *                        reads across O stop there, reads after it get 0
 *   --stall=O[:O...]     a request covering byte O blocks until released:
 *                        SIGUSR1 to the daemon, or the file --release names
 *                        appears; once released, stalls are over for good
 *   --release=PATH       see --stall
 *   --delay-us=N         every read and write sleeps N microseconds first
 *   --log=PATH           one line per fault injected ("eio read OFF",
 *                        "stall OFF", "released"): tests wait on it
 *
 * Every open gets direct_io (FOPEN_DIRECT_IO): no page cache, so each
 * O_DIRECT aio request reaches the daemon as one request, and with the
 * kernel's async direct I/O (FUSE_CAP_ASYNC_DIO, on by default) io_submit()
 * returns while the request is still in the daemon.
 *
 * The daemon asks the kernel for SIGTERM when its parent dies, so a test
 * that is killed does not leave a mount behind for long.
 */
#define FUSE_USE_VERSION 31

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_OFFS	64

struct offs {
	unsigned long long v[MAX_OFFS];
	int n;
};

static struct {
	char *name;
	char *size_s;
	char *blksize_s;
	char *eio_read_s;
	char *eio_write_s;
	char *short_read_s;
	char *stall_s;
	char *eof_s;
	char *release;
	char *delay_s;
	char *log;
} opt;

static unsigned long long fsize = 64ull << 20;
static unsigned long long data_end;	/* --eof; 0: fsize */
static unsigned long blksize = 512;
static unsigned long delay_us;
static struct offs eio_read, eio_write, short_read, stall;
static char *data;
static char path[256];
static FILE *logfp;
static volatile sig_atomic_t released;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

#define OPT(t, p) { t, offsetof(typeof(opt), p), 1 }
static const struct fuse_opt faultfs_opts[] = {
	OPT("--name=%s", name),
	OPT("--size=%s", size_s),
	OPT("--blksize=%s", blksize_s),
	OPT("--eio-read=%s", eio_read_s),
	OPT("--eio-write=%s", eio_write_s),
	OPT("--short-read=%s", short_read_s),
	OPT("--stall=%s", stall_s),
	OPT("--eof=%s", eof_s),
	OPT("--release=%s", release),
	OPT("--delay-us=%s", delay_s),
	OPT("--log=%s", log),
	FUSE_OPT_END
};

static void logline(const char *what, unsigned long long off)
{
	if (!logfp)
		return;
	pthread_mutex_lock(&log_lock);
	fprintf(logfp, "%s %llu\n", what, off);
	fflush(logfp);
	pthread_mutex_unlock(&log_lock);
}

static int parse_offs(const char *s, struct offs *o)
{
	char *end;

	o->n = 0;
	if (!s)
		return 0;
	while (*s) {
		if (o->n == MAX_OFFS)
			return -1;
		o->v[o->n++] = strtoull(s, &end, 0);
		if (end == s || (*end && *end != ':'))
			return -1;
		s = *end ? end + 1 : end;
	}
	return 0;
}

/* The first listed offset in [off, off + len), or -1. */
static long long hit(const struct offs *o, unsigned long long off,
		     size_t len)
{
	int i;

	for (i = 0; i < o->n; i++)
		if (o->v[i] >= off && o->v[i] < off + len)
			return (long long)o->v[i];
	return -1;
}

static void on_usr1(int sig)
{
	(void)sig;
	released = 1;
}

static int is_released(void)
{
	if (!released && opt.release && access(opt.release, F_OK) == 0)
		released = 1;
	return released;
}

static void maybe_stall(unsigned long long off, size_t len)
{
	long long at = hit(&stall, off, len);
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	if (at < 0 || is_released())
		return;
	logline("stall", (unsigned long long)at);
	while (!is_released())
		nanosleep(&ts, NULL);
	logline("released", (unsigned long long)at);
}

static void maybe_delay(void)
{
	struct timespec ts;

	if (!delay_us)
		return;
	ts.tv_sec = (time_t)(delay_us / 1000000);
	ts.tv_nsec = (long)(delay_us % 1000000) * 1000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int ff_getattr(const char *p, struct stat *st,
		      struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (!strcmp(p, "/")) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (strcmp(p, path))
		return -ENOENT;
	st->st_mode = S_IFREG | 0644;
	st->st_nlink = 1;
	st->st_size = (off_t)fsize;
	st->st_blksize = (blksize_t)blksize;
	st->st_blocks = (blkcnt_t)(fsize / 512);
	return 0;
}

static int ff_readdir(const char *p, void *buf, fuse_fill_dir_t fill,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(p, "/"))
		return -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, path + 1, NULL, 0, 0);
	return 0;
}

static int ff_open(const char *p, struct fuse_file_info *fi)
{
	if (strcmp(p, path))
		return -ENOENT;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	return 0;
}

static int ff_truncate(const char *p, off_t size, struct fuse_file_info *fi)
{
	(void)fi;
	if (strcmp(p, path))
		return -ENOENT;
	/* A fixed-size disk: truncating to its size or less is a no-op. */
	return (unsigned long long)size <= fsize ? 0 : -ENOSPC;
}

/*
 * What every read and write does first: refuse another path, then the
 * delay, a stall and an injected EIO (logged as @what) for @eio's offsets
 * in [off, off + len).  Returns 0 to go on, or the -errno to answer.
 */
static int io_prologue(const char *p, unsigned long long off, size_t len,
		       const struct offs *eio, const char *what)
{
	long long at;

	if (strcmp(p, path))
		return -ENOENT;
	maybe_delay();
	maybe_stall(off, len);
	at = hit(eio, off, len);
	if (at >= 0) {
		logline(what, (unsigned long long)at);
		return -EIO;
	}
	return 0;
}

static int ff_read(const char *p, char *buf, size_t len, off_t off,
		   struct fuse_file_info *fi)
{
	unsigned long long o = (unsigned long long)off;
	long long at;
	int ret;

	(void)fi;
	ret = io_prologue(p, o, len, &eio_read, "eio read");
	if (ret)
		return ret;
	if (o >= data_end) {
		if (data_end < fsize)
			logline("eof zero", o);
		return 0;
	}
	if (len > data_end - o) {
		len = (size_t)(data_end - o);
		if (data_end < fsize)
			logline("eof read", o);
	}
	at = hit(&short_read, o, len);
	if (at > (long long)o) {
		logline("short read", (unsigned long long)at);
		len = (size_t)((unsigned long long)at - o);
	}
	memcpy(buf, data + o, len);
	return (int)len;
}

static int ff_write(const char *p, const char *buf, size_t len, off_t off,
		    struct fuse_file_info *fi)
{
	unsigned long long o = (unsigned long long)off;
	int ret;

	(void)fi;
	ret = io_prologue(p, o, len, &eio_write, "eio write");
	if (ret)
		return ret;
	if (o >= fsize)
		return -ENOSPC;
	if (len > fsize - o)
		len = (size_t)(fsize - o);
	memcpy(data + o, buf, len);
	return (int)len;
}

static int ff_fsync(const char *p, int datasync, struct fuse_file_info *fi)
{
	(void)p;
	(void)datasync;
	(void)fi;
	return 0;
}

static void *ff_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	cfg->attr_timeout = 0;
	cfg->entry_timeout = 0;
	return NULL;
}

static const struct fuse_operations ff_ops = {
	.init		= ff_init,
	.getattr	= ff_getattr,
	.readdir	= ff_readdir,
	.open		= ff_open,
	.truncate	= ff_truncate,
	.read		= ff_read,
	.write		= ff_write,
	.fsync		= ff_fsync,
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct sigaction sa = { .sa_handler = on_usr1 };
	int ret;

	if (fuse_opt_parse(&args, &opt, faultfs_opts, NULL) == -1)
		return 2;
	if (opt.size_s)
		fsize = strtoull(opt.size_s, NULL, 0);
	data_end = opt.eof_s ? strtoull(opt.eof_s, NULL, 0) : fsize;
	if (data_end > fsize)
		data_end = fsize;
	if (opt.blksize_s)
		blksize = strtoul(opt.blksize_s, NULL, 0);
	if (opt.delay_s)
		delay_us = strtoul(opt.delay_s, NULL, 0);
	if (parse_offs(opt.eio_read_s, &eio_read) ||
	    parse_offs(opt.eio_write_s, &eio_write) ||
	    parse_offs(opt.short_read_s, &short_read) ||
	    parse_offs(opt.stall_s, &stall)) {
		fprintf(stderr, "faultfs: offsets are O[:O...] (at most %d)\n",
			MAX_OFFS);
		return 2;
	}
	snprintf(path, sizeof(path), "/%s", opt.name ? opt.name : "disk");
	if (opt.log) {
		logfp = fopen(opt.log, "a");
		if (!logfp) {
			perror(opt.log);
			return 2;
		}
	}
	data = calloc(1, fsize ? fsize : 1);
	if (!data) {
		fprintf(stderr, "faultfs: cannot allocate %llu bytes\n", fsize);
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);

	ret = fuse_main(args.argc, args.argv, &ff_ops, NULL);
	fuse_opt_free_args(&args);
	free(data);
	return ret;
}
