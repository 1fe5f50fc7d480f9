#!/bin/sh
# Slow and stalled clients (tests/slow_clients.py) against a server of its
# own with one worker and short header and body timeouts: each is cut off
# after its timeout, and meanwhile the one worker answers everyone else.
# Run by scripts/test.sh with BUILD set, the suite's database in
# KEYWORK_DATABASE_URL and a scratch folder in $1.
set -eu
. "$(dirname "$0")/../scripts/lib.sh"
tmp=${1:?scratch folder}
BUILD=${BUILD:-build}
kore_pid=""

cleanup() {
	[ -n "$kore_pid" ] || return 0
	# shellcheck disable=SC2046
	kill -KILL "$kore_pid" $(pgrep -P "$kore_pid") 2>/dev/null || true
	wait "$kore_pid" 2>/dev/null || true
}
on_exit cleanup

port=$(free_port "${TEST_PORT_BASE:-28}977")
export KEYWORK_PORT=$port KEYWORK_WORKERS=1 KEYWORK_METRICS_PORT=0 \
	KEYWORK_HEADER_TIMEOUT_SECONDS=2 KEYWORK_BODY_TIMEOUT_SECONDS=3 \
	KEYWORK_MODULE_PATH="$BUILD/keywork.so" KEYWORK_PID_FILE="$tmp/slow-kore.pid" \
	KEYWORK_LOG_LEVEL=warn
"$BUILD/keywork-admin" kore-conf >"$tmp/slow-kore.conf"
env ${LD_PRELOAD_ASAN:+LD_PRELOAD=$LD_PRELOAD_ASAN} stdbuf -oL -eL \
	kore -c "$tmp/slow-kore.conf" -f -n -r >"$tmp/slow-kore.log" 2>&1 &
kore_pid=$!
i=0
until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 200 ] || ! kill -0 "$kore_pid" 2>/dev/null; then
		echo "the server did not start:"; cat "$tmp/slow-kore.log"; exit 1
	fi
	sleep 0.05
done

rc=0
python3 tests/slow_clients.py 127.0.0.1 "$port" 2 3 || rc=1
if grep -E " gone$|sandbox violation|AddressSanitizer|runtime error" "$tmp/slow-kore.log"; then
	echo "FAILED - the server log shows a crashed worker or a sanitizer report"; rc=1
fi
[ "$rc" -eq 0 ] && echo "all slow-client checks passed"
exit "$rc"
