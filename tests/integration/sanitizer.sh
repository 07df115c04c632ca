# shellcheck shell=bash
# Sourced by run-job.sh and lib.sh: an engine built with AIOR_SANITIZE or
# AIOR_TSAN needs its sanitizer runtime loaded first into fio, which is
# not instrumented ("ASan runtime does not come first").
#
# aior_sanitizer_env ENGINE ARRAY: ARRAY := the NAME=VALUE assignments to
# run fio with (env "${ARRAY[@]}" fio ...): LD_PRELOAD of the runtime the
# engine needs, and leak checking off (fio 3.33 leaks a few option
# strings at exit, which would fail every run).  Empty for a plain build.
aior_sanitizer_env() {
	local _eng=$1 _lib _path _here
	local -n _out=$2
	_out=()
	command -v ldd >/dev/null 2>&1 || return 0
	_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	for _lib in libasan libtsan; do
		_path=$(ldd "$_eng" 2>/dev/null |
			awk -v l="$_lib" 'index($1, l ".so") == 1 { print $3; exit }')
		[ -n "$_path" ] || continue
		_out+=("LD_PRELOAD=$_path${LD_PRELOAD:+:$LD_PRELOAD}")
		case $_lib in
		libasan)
			_out+=("ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}")
			_out+=("UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}")
			;;
		libtsan)
			# Races inside fio's own teardown are suppressed
			# (tsan-fio.supp), never the engine's.
			_out+=("TSAN_OPTIONS=${TSAN_OPTIONS:-report_signal_unsafe=0:suppressions=$_here/tsan-fio.supp}")
			;;
		esac
		break
	done
}
