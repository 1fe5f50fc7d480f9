#!/bin/sh
# Install the Debian packages keywork needs to build, run and test
# (scripts/deps.sh fuzz: and to fuzz).
# As root: installs what is missing with apt-get. Otherwise: prints the one
# command that installs them, and fails.
set -eu

PKGS="gcc make pkg-config curl kore libjansson-dev libyaml-dev libpcre2-dev
libcriterion-dev libargon2-dev libpq-dev libssl-dev libcurl4-openssl-dev
postgresql-15 postgresql-client-15 json-schema-test-suite wrk openssl iproute2
coreutils util-linux python3 nginx jq docker-compose nodejs chromium
pgbouncer"

# make fuzz needs clang's libFuzzer runtime as well.
[ "${1:-}" = fuzz ] && PKGS="$PKGS clang libclang-rt-14-dev"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
# npm comes with some builds of nodejs and is a package of its own in
# Debian's: ask for the package only when the command is missing.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	echo "keywork: installing missing packages:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
	echo "keywork: missing Debian packages. Install them with:" >&2
	echo "  sudo apt-get install -y$missing" >&2
	exit 1
fi
