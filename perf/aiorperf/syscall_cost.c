/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What one system call costs on this machine: the cheapest the kernel has
 * (getppid, no vDSO, no work), called back to back.  The ratios of the
 * engine to fio's libaio depend on it (the engine saves system calls), so
 * every figure of perf/compare.py records it with the runner class
 * (perf/aiorperf/machine.py compiles and runs this).
 *
 * Prints the nanoseconds per call of the fastest of BATCHES batches: the
 * machine's cost without the interruptions a batch may take.  The time is
 * the thread's own CPU time, not the wall clock's: another process on the
 * same CPU doubled a wall-clock reading (954 -> 1976 ns) and with it the
 * runner class, where the CPU time read 971 and 964 ns.
 */
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CALLS	100000
#define BATCHES	7

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(void)
{
	double best = 0;
	int b, i;

	for (b = 0; b < BATCHES; b++) {
		double t0 = now_ns(), ns;

		for (i = 0; i < CALLS; i++)
			syscall(SYS_getppid);
		ns = (now_ns() - t0) / CALLS;
		if (b == 0 || ns < best)
			best = ns;
	}
	printf("%.1f\n", best);
	return 0;
}
