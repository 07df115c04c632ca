/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test-only counted plants (never in a release build): a known cost per
 * request that the A/B's exact counts must catch every time
 * (perf/compare.py sensitivity; its table of 2026-12-05 is in
 * docs/perf/runs/2026-12-05-347eab4-sensitivity/).
 *
 *   -DAIOR_PLANTED_INSNS=N          N more user-space instructions per
 *                                   request in the engine's own code
 *   -DAIOR_PLANTED_SYSCALL_EVERY=K  one more system call (getppid) every
 *                                   K requests of a job thread
 *
 * and the timed plant, the known slowdown the performance gate's
 * sensitivity study must catch:
 *
 *   -DAIOR_PLANTED_DELAY_NS=N       a busy wait of N ns per request
 */
#ifndef AIOR_PLANT_H
#define AIOR_PLANT_H

#if defined(AIOR_PLANTED_SYSCALL_EVERY) && AIOR_PLANTED_SYSCALL_EVERY > 0
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if defined(AIOR_PLANTED_DELAY_NS) && AIOR_PLANTED_DELAY_NS > 0
#include "aioring.h"
#endif

#define AIOR_PLANT_STR_(x) #x
#define AIOR_PLANT_STR(x) AIOR_PLANT_STR_(x)

static inline void planted_count(void)
{
#if defined(AIOR_PLANTED_INSNS) && AIOR_PLANTED_INSNS > 0
	/* Exactly N instructions: nops the compiler cannot drop or merge. */
	__asm__ volatile(".rept " AIOR_PLANT_STR(AIOR_PLANTED_INSNS) "\n\t"
			 "nop\n\t.endr");
#endif
#if defined(AIOR_PLANTED_SYSCALL_EVERY) && AIOR_PLANTED_SYSCALL_EVERY > 0
	/* Per job thread: fio runs each job's hooks on one thread. */
	static __thread unsigned int n;

	if (++n % AIOR_PLANTED_SYSCALL_EVERY == 0)
		syscall(SYS_getppid);
#endif
}

static inline void planted_delay(void)
{
#if defined(AIOR_PLANTED_DELAY_NS) && AIOR_PLANTED_DELAY_NS > 0
	uint64_t t0 = aior_now_ns();

	while (aior_now_ns() - t0 < AIOR_PLANTED_DELAY_NS)
		;
#endif
}

#endif /* AIOR_PLANT_H */
