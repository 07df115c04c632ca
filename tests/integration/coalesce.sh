# shellcheck shell=bash
# Sourced by run-job.sh: run fio in the coalescing mode the
# suite is under test in (AIOR_TEST_COALESCE=off|adaptive|always), by
# adding the engine option coalesce= where the engine is named.
#
#   aior_coalesce_job IN OUT     OUT := job file IN with "coalesce=MODE"
#                                right after its ioengine=external: line(s)
#   aior_coalesce_args VAR ARGS...   VAR := ARGS with --coalesce=MODE
#                                after every --ioengine=external:... word

aior_coalesce_mode() {
	case ${AIOR_TEST_COALESCE:-} in
	off|adaptive|always) printf '%s' "$AIOR_TEST_COALESCE" ;;
	*)
		printf 'AIOR_TEST_COALESCE=%s: must be off, adaptive or always\n' \
			"${AIOR_TEST_COALESCE:-}" >&2
		return 1 ;;
	esac
}

aior_coalesce_job() {
	local mode
	mode=$(aior_coalesce_mode) || exit 2
	awk -v mode="$mode" '
		{ print }
		/^[[:space:]]*ioengine[[:space:]]*=[[:space:]]*external:/ {
			print "coalesce=" mode
		}' "$1" >"$2"
}

aior_coalesce_args() {
	local -n _out=$1
	local a mode
	shift
	mode=$(aior_coalesce_mode) || exit 2
	_out=()
	for a in "$@"; do
		_out+=("$a")
		[[ $a == --ioengine=external:* ]] && _out+=("--coalesce=$mode")
	done
	return 0
}
