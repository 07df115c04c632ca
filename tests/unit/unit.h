/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared helpers of the Check unit tests: the runner, skip, temp files
 * with a known pattern, fabricated kernel rings and a scriptable syscall
 * seam.  Tests only, never linked into common/ or the engine.
 */
#ifndef AIOR_UNIT_H
#define AIOR_UNIT_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include "aioring.h"
#include "ring.h"

/* liburing's T_EXIT_SKIP: CTest's SKIP_RETURN_CODE. */
#define AIOR_T_SKIP	77

/* Print why the host cannot run this executable, exit 77. */
noreturn void aior_t_skip(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * Run @s in fork mode (unless CK_FORK=no is set, for a debugger) and
 * return the process exit status: 0 when every test passed.
 */
int aior_t_run(Suite *s);

/* The byte a test file holds at @off: known data to verify reads with. */
static inline uint8_t aior_t_pattern(uint64_t off)
{
	return (uint8_t)(off * 131 + (off >> 9) * 7 + 0x5a);
}

/*
 * A file of @size pattern bytes in aior_t_dir(), created with mkstemp.
 * Returns an O_RDWR fd, the name in @path (PATH_MAX); fails the calling
 * test on error.  aior_t_file_close() unlinks it.
 */
int aior_t_file(char *path, uint64_t size);
void aior_t_file_close(int fd, const char *path);
/*
 * The directory temp files go to: a fresh one in AIOR_TEST_DIR (default
 * /tmp), made by aior_t_run() or a probe before it, removed with its
 * contents when that process exits.
 */
const char *aior_t_dir(void);

/* Count of open fds of this process (from /proc/self/fd). */
int aior_t_nr_fds(void);

/* ---- fabricated kernel rings ---- */

/* A ring with @nr event slots and a valid header; free() it. */
struct aior_kring *aior_t_ring_new(unsigned int nr);
/* The event a fabricated ring holds for sequence number @seq. */
void aior_t_event(struct io_event *ev, uint64_t seq);
/* Does @ev carry every field aior_t_event() wrote for @seq? */
bool aior_t_event_is(const struct io_event *ev, uint64_t seq);
/* Put @n events seq0, seq0+1... at the ring's tail (caller ensures room). */
void aior_t_ring_push(struct aior_kring *r, uint64_t seq0, unsigned int n);

/* ---- a scriptable seam ---- */

#define AIOR_T_SCRIPT	8

/*
 * Fake syscalls: each answers from its script in turn (the last answer
 * repeats), counts its calls and remembers its arguments.  Entries with no
 * script pass through to the real syscall (aior_sys_linux).
 *
 * io_setup answers 0 by handing out setup_ring; io_destroy then leaves
 * the (fabricated) ring alone.  io_getevents answers n >= 0 by copying n
 * fabricated events (aior_t_event(getevents_seq++)), after sleeping for
 * the timeout if it answers 0 and a timeout was given (capped at 1 s), as
 * the kernel would.  open answers open_direct_ret, when set, to flags
 * with O_DIRECT, and passes everything else through.
 */
struct aior_t_seam {
	int setup_ret[AIOR_T_SCRIPT];	/* io_setup */
	unsigned int setup_n;
	void *setup_ring;		/* io_setup's *ctx on success */
	int submit_ret[AIOR_T_SCRIPT];	/* io_submit */
	unsigned int submit_n;
	/*
	 * Events the scripted io_submit() "completes" during call i: it
	 * moves the fabricated ring's tail on by submit_moves[i] (wrapping),
	 * as the kernel does for requests it completes inside the call.
	 */
	unsigned int submit_moves[AIOR_T_SCRIPT];
	/*
	 * Of those, how many come first and are not the call's own iocbs
	 * (earlier requests completing during the call); the rest are the
	 * call's iocbs in order, then foreign ones again.
	 */
	unsigned int submit_foreign[AIOR_T_SCRIPT];
	int getevents_ret[AIOR_T_SCRIPT];	/* io_getevents */
	unsigned int getevents_n;
	uint64_t getevents_seq;
	int open_direct_ret;		/* open with O_DIRECT, when != 0 */

	/* What the fakes saw. */
	unsigned int setup_calls, destroy_calls, submit_calls;
	unsigned int getevents_calls, open_calls;
	long last_min, last_max;
	int open_flags[AIOR_T_SCRIPT];
};

extern struct aior_t_seam aior_t_seam;

/* Reset aior_t_seam and point aior_sys at the fakes. */
void aior_t_seam_install(void);
/* Point aior_sys back at aior_sys_linux. */
void aior_t_seam_remove(void);

/* ---- time ---- */

static inline double aior_t_elapsed_ms(uint64_t since_ns)
{
	return (double)(aior_now_ns() - since_ns) / 1e6;
}

#endif /* AIOR_UNIT_H */
