# SPDX-License-Identifier: BSD-3-Clause
# Sourced by the scripts that install what they need from Debian's archive
# (scripts/setup.sh, scripts/spdk-build.sh, tests/device/run.sh).  Each
# decides what a missing package means to it; these only find and install.
#
#   aior_missing PKG...      print the packages not installed, one per line
#   aior_apt_install PKG...  apt-get update (once per script) and install
#                            them, as root or through sudo, waiting up to
#                            10 minutes for another apt-get's lock

aior_missing() {
	local p
	for p; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || printf '%s\n' "$p"
	done
}

aior_apt_updated=0
aior_apt() {
	local sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo env DEBIAN_FRONTEND=noninteractive \
		apt-get -o DPkg::Lock::Timeout=600 "$@"
}

aior_apt_update() {
	[ "$aior_apt_updated" = 1 ] && return
	aior_apt update -qq >&2
	aior_apt_updated=1
}

aior_apt_install() {
	aior_apt_update
	aior_apt install -y -qq --no-install-recommends "$@" >&2
}
