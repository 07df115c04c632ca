#!/usr/bin/env bash
# fio --enghelp=<engine> lists every option engine/options.c defines, each
# with its help text, and --enghelp=<engine>,<option> shows its default.
# The option names are read from engine/options.c itself, so an option
# added without help (or misnamed) fails here.  docs/options.md must
# document each one in fio's HOWTO form ("**name=type** : [libaioring]")
# with its default, and README.md's table name it, in the same change; and
# neither may list an option fio does not.
#
# usage: AIOR_ENGINE=/abs/libaioring.so enghelp.sh
# lib.sh helpers assign the variables they are named through printf -v:
# shellcheck disable=SC2154
set -euo pipefail
AIOR_TEST_NAME=enghelp
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

src=$AIOR_REPO/engine/options.c
[ -f "$src" ] || die "$src not found"
mapfile -t names < <(sed -n 's/^[[:space:]]*\.name[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$src")
[ "${#names[@]}" -ge 1 ] || die "no .name = \"...\" found in $src"
say "options in $src: ${names[*]}"

options=$AIOR_REPO/docs/options.md
[ -f "$options" ] || die "$options not found"

scratch_dir dir
out=$dir/enghelp.out
aior_fio --enghelp="$AIOR_ENGINE" >"$out" 2>&1 || {
	cat "$out" >&2
	die "fio --enghelp=$AIOR_ENGINE failed"
}
listed=$(grep -c '^[a-z_]* *: ' "$out" || true)
[ "$listed" = "${#names[@]}" ] || {
	cat "$out" >&2
	die "fio lists $listed options, engine/options.c defines ${#names[@]}"
}
for n in "${names[@]}"; do
	grep -Eq "^$n +: [^ ]" "$out" || {
		cat "$out" >&2
		die "option '$n' is not listed with a help text by fio --enghelp"
	}
	aior_fio --enghelp="$AIOR_ENGINE,$n" >"$out.one" 2>&1 || die "fio --enghelp=...,$n failed"
	grep -Eq '^ +default: ' "$out.one" || {
		cat "$out.one" >&2
		die "option '$n' shows no default"
	}
	# The options page's entry: its heading, then a "Default:" before
	# the next; and the README table's row.
	awk -v n="$n" '
		index($0, "**" n "=") == 1 && /: \[libaioring\]/ { on = 1; next }
		on && /^\*\*[a-z_]+=/ { exit }
		on && /Default:/ { found = 1; exit }
		END { exit !found }' "$options" ||
		die "docs/options.md has no '**$n=type** : [libaioring]' entry with its Default:"
	grep -Fq "| [\`$n\`](docs/options.md#$n) |" "$AIOR_REPO/README.md" ||
		die "README.md's option table has no row for '$n'"
done

# Nothing documented that fio does not list (a renamed or removed option).
documented() {
	sed -n 's/^\*\*\([a-z_]*\)=[^*]*\*\* : \[libaioring\].*/\1/p' "$options"
	sed -n 's/^| \[`\([a-z_]*\)`\](docs\/options\.md#[a-z_]*) |.*/\1/p' \
		"$AIOR_REPO/README.md"
}
for d in $(documented | sort -u); do
	printf '%s\n' "${names[@]}" | grep -qx "$d" ||
		die "'$d' is documented (docs/options.md or README.md) but engine/options.c has no such option"
done
say ok
