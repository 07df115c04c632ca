/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The version guard, at load time.  fio ships no headers and its structs
 * change between releases, so the engine runs only under the fio whose
 * source it was built against (AIOR_FIO_VERSION).
 *
 * It has to act when fio dlopen()s the engine: fio checks an engine's ops
 * version before it calls anything, and every release of the version
 * matrix has its own (25 in 3.19 .. 39 in 3.42), so a mismatch would
 * otherwise end in fio's "bad ioops version 31 (want 39)", which names
 * neither fio.  Here it ends with one line naming both, and exit status 1:
 * fio cannot run a job with this engine anyway, and at load time (option
 * parsing, before any job starts) nothing is lost by stopping.
 *
 * The only check: fio loads an external engine with dlopen(), so this
 * runs before any hook can.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern const char fio_version_string[];

__attribute__((constructor))
static void aior_version_guard(void)
{
	if (!strcmp(fio_version_string, AIOR_FIO_VERSION))
		return;
	fprintf(stderr, "libaioring: built for %s, loaded by %s: rebuild the "
		"engine against this fio's source\n", AIOR_FIO_VERSION,
		fio_version_string);
	fflush(stderr);
	_exit(1);
}
