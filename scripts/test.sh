#!/bin/sh
# make test: every test, against a throwaway PostgreSQL and a real server.
#
#   1. unit tests (Criterion), one binary per module
#   1b. docker-compose.yml and the nginx container's start-up (tests/compose.sh)
#   2. a fresh PostgreSQL cluster in a temporary folder, migrated
#   3. SQL tests of roles and row-level security (tests/sql/*.sql)
#   4. the server (Kore, one worker, seccomp on) on a free port
#   5. integration tests (Criterion + libcurl) against it, then the
#      metrics suite on its own (its counts must be the server's only traffic);
#      the rate limits' tests against a second server with low limits
#   5b. the scheduled worker (tests/worker.sh), and its email and webhook
#       deliveries to real SMTP and HTTP peers (tests/delivery.sh)
#   5c. keywork-admin's account commands (tests/admin.sh)
#   5c'. the audit trail's hash chain: sealing and verify (tests/audit.sh)
#   5d. HTTPS through nginx in front of the server (tests/https.sh)
#   5e. the API reference page in headless chromium (tests/browser.sh)
#   5f. fault tests (tests/faults.sh): SIGKILL under write load, PostgreSQL
#       restarted under read load, hostile input, on a cluster and servers
#       of their own
#   5g. slow and stalled clients cut off by Kore's timeouts while others are
#       served (tests/slow.sh), on a server of its own
#   5h. the integration suite again, through PgBouncer in transaction
#       pooling mode, and identities alternating on one shared server
#       connection (tests/pgbouncer.sh)
#   6. SIGTERM: the server must stop cleanly; then SIGTERM with requests in
#      flight, on a server of its own (tests/shutdown.sh)
#   7. nothing sensitive in any log of the whole run (tests/logs.sh)
#
# SKIP_UNIT=1 skips step 1 (while iterating on the others).
# TEST_PORT_BASE=NN moves the ports searched from (NN432 for PostgreSQL,
# NN888 for the server, NN443 and NN080 for nginx, NN632 for PgBouncer), so that runs side by
# side do not race for them.
# Keep NN below the kernel's ephemeral range (ip_local_port_range, from
# 32768 by default): a client socket may hold any port inside it.
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh
BUILD=${BUILD:-build}
tmp=$(mktemp -d /tmp/keywork-test.XXXXXX)
chmod 755 "$tmp"
kore_pid=""
limited_pid=""

cleanup() {
	[ -n "$kore_pid" ] && kill -TERM "$kore_pid" 2>/dev/null && wait "$kore_pid" 2>/dev/null
	[ -n "$limited_pid" ] && kill -TERM "$limited_pid" 2>/dev/null && wait "$limited_pid" 2>/dev/null
	scripts/pg.sh stop "$tmp/pg"
	if [ "${KEEP_TEST_DIR:-0}" = 1 ]; then echo "test files kept in $tmp"; else rm -rf "$tmp"; fi
}
on_exit cleanup

if [ -n "${ASAN:-}" ]; then
	# Kore itself is not instrumented: load the sanitizer runtime first.
	LD_PRELOAD_ASAN=$(gcc -print-file-name=libasan.so)
	export LD_PRELOAD_ASAN
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi

echo "== unit tests"
for t in "$BUILD"/tests/test_*; do
	[ "${SKIP_UNIT:-0}" = 1 ] && { echo "skipped (SKIP_UNIT=1)"; break; }
	echo "-- $t"
	"$t" --jobs 2
done

echo "== docker compose"
tests/compose.sh "$tmp/compose"

echo "== database"
pg_port=$(free_port "${TEST_PORT_BASE:-25}432")
scripts/pg.sh start "$tmp/pg" "$pg_port"
set -a
. "$tmp/pg/keywork.env"
set +a
"$BUILD/keywork-admin" migrate
KEYWORK_DEMO_MODE=yes KEYWORK_ARGON2_MEMORY_KIB=8192 KEYWORK_ARGON2_ITERATIONS=1 \
	"$BUILD/keywork-admin" seed-demo

echo "== SQL tests"
for f in tests/sql/*.sql; do
	[ -f "$f" ] || continue
	echo "-- $f"
	psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"
done

# The API reference page's files, as this build made them (make docs).
export KEYWORK_DOCS_DIR="$BUILD/docs"
# Every server of the run serves tests that send hundreds of requests a
# second from 127.0.0.1, often with one token: rate limits far above that.
# The limits themselves are tested on a server of their own (below).
export KEYWORK_RATE_LIMIT_PER_ADDRESS=6000000 KEYWORK_RATE_LIMIT_ADDRESS_BURST=100000
export KEYWORK_RATE_LIMIT_PER_TOKEN=6000000 KEYWORK_RATE_LIMIT_TOKEN_BURST=100000

echo "== start-up and migrations"
BUILD=$BUILD tests/startup.sh "$tmp"

echo "== server"
api_port=$(free_port "${TEST_PORT_BASE:-28}888")
metrics_port=$(free_port $((api_port + 1)))
export KEYWORK_PORT=$api_port KEYWORK_WORKERS=1 KEYWORK_DB_CONNECTIONS=4 KEYWORK_MODULE_PATH="$BUILD/keywork.so" KEYWORK_PID_FILE="$tmp/kore.pid"
export KEYWORK_METRICS_PORT=$metrics_port
export KEYWORK_DATABASE_URL KEYWORK_LOG_LEVEL=info
# As behind nginx in production: the proxy in tests/https.sh is on loopback.
export KEYWORK_TRUSTED_PROXIES=127.0.0.1
"$BUILD/keywork-admin" kore-conf >"$tmp/kore.conf"
# Line-buffered, so Kore's own lines (a worker gone, a sandbox violation)
# reach the log while the tests still run.
env ${LD_PRELOAD_ASAN:+LD_PRELOAD=$LD_PRELOAD_ASAN} stdbuf -oL -eL \
	kore -c "$tmp/kore.conf" -f -n -r >"$tmp/server.log" 2>&1 &
kore_pid=$!
i=0
until curl -fsS "http://127.0.0.1:$api_port/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$kore_pid" 2>/dev/null; then
		echo "server did not start:"; cat "$tmp/server.log"; exit 1
	fi
	sleep 0.1
done

# The run's own sign-in, whose tokens tests/logs.sh looks for in the logs:
# an access and a refresh token, both used, then the pair the refresh gave.
url="http://127.0.0.1:$api_port"
curl -fsS -H 'content-type: application/json' \
    -d '{"email":"keyworker@example.org","password":"keywork-demo"}' \
    "$url/v1/auth/login" >"$tmp/signin.json"
access=$(sed 's/.*"access_token":"\([^"]*\)".*/\1/' "$tmp/signin.json")
refresh=$(sed 's/.*"refresh_token":"\([^"]*\)".*/\1/' "$tmp/signin.json")
curl -fsS -o /dev/null -H "Authorization: Bearer $access" "$url/v1/me"
curl -fsS -H 'content-type: application/json' -d "{\"refresh_token\":\"$refresh\"}" \
    "$url/v1/auth/refresh" >"$tmp/refresh.json"
access2=$(sed 's/.*"access_token":"\([^"]*\)".*/\1/' "$tmp/refresh.json")
refresh2=$(sed 's/.*"refresh_token":"\([^"]*\)".*/\1/' "$tmp/refresh.json")
curl -fsS -o /dev/null -H "Authorization: Bearer $access2" "$url/v1/me"
printf '%s\n' "$access" "$refresh" "$access2" "$refresh2" >"$tmp/tokens"
rm -f "$tmp/signin.json" "$tmp/refresh.json"

# A second server with low rate limits for tests/integration/test_limits.c:
# 60 a minute (one a second, so a refused client waits 1 s) with bursts of
# 20 per address and 5 per token; two workers, which share the buckets.
limited_port=$(free_port $((metrics_port + 1)))
(
	export KEYWORK_PORT=$limited_port KEYWORK_METRICS_PORT=0 KEYWORK_PID_FILE="$tmp/limited.pid" KEYWORK_WORKERS=2
	export KEYWORK_RATE_LIMIT_PER_ADDRESS=60 KEYWORK_RATE_LIMIT_ADDRESS_BURST=20
	export KEYWORK_RATE_LIMIT_PER_TOKEN=60 KEYWORK_RATE_LIMIT_TOKEN_BURST=5
	"$BUILD/keywork-admin" kore-conf >"$tmp/limited.conf"
	exec env ${LD_PRELOAD_ASAN:+LD_PRELOAD=$LD_PRELOAD_ASAN} stdbuf -oL -eL \
		kore -c "$tmp/limited.conf" -f -n -r >"$tmp/limited.log" 2>&1
) &
limited_pid=$!
i=0
until curl -fsS "http://127.0.0.1:$limited_port/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$limited_pid" 2>/dev/null; then
		echo "the rate-limited server did not start:"; cat "$tmp/limited.log"; exit 1
	fi
	sleep 0.1
done

echo "== integration tests"
export KEYWORK_TEST_LIMITED_URL="http://127.0.0.1:$limited_port"
export KEYWORK_TEST_URL=$url KEYWORK_TEST_SERVER_LOG="$tmp/server.log"
export KEYWORK_TEST_METRICS_URL="http://127.0.0.1:$metrics_port"
if ! "$BUILD/tests/integration" --jobs 4 --filter '!(metrics)/*' ||
    ! "$BUILD/tests/integration" --jobs 1 --filter 'metrics/*'; then
	echo "---- server log (last 50 lines)"; tail -n 50 "$tmp/server.log"
	exit 1
fi
kill -TERM "$limited_pid"
i=0
while kill -0 "$limited_pid" 2>/dev/null && [ "$i" -lt 50 ]; do
	i=$((i + 1)); sleep 0.2
done
if kill -0 "$limited_pid" 2>/dev/null; then
	# See the shutdown step below: under the sanitizer runtime only.
	[ -n "${ASAN:-}" ] || { echo "the rate-limited server did not stop on SIGTERM"; exit 1; }
	pkill -KILL -P "$limited_pid" 2>/dev/null || true
	kill -KILL "$limited_pid" 2>/dev/null || true
fi
wait "$limited_pid" 2>/dev/null || [ -n "${ASAN:-}" ] || { echo "the rate-limited server did not stop cleanly"; tail -n 20 "$tmp/limited.log"; exit 1; }
limited_pid=""
if grep -E " gone$|sandbox violation|AddressSanitizer|runtime error" "$tmp/limited.log"; then
	echo "the rate-limited server's log shows a crashed worker, a sandbox violation or a sanitizer report"; exit 1
fi

echo "== the scheduled worker"
# Not under the preloaded sanitizer runtime: the worker is instrumented
# itself, and psql and curl stall in GSSAPI set-up with it preloaded.
BUILD="$BUILD" KEYWORK_TEST_LOG_DIR="$tmp" tests/worker.sh "$KEYWORK_TEST_URL"

echo "== delivery by email and webhook"
BUILD="$BUILD" tests/delivery.sh "$KEYWORK_TEST_URL"

echo "== keywork-admin's account commands"
BUILD="$BUILD" tests/admin.sh "$KEYWORK_TEST_URL"

echo "== the audit trail's chain"
BUILD="$BUILD" tests/audit.sh "$KEYWORK_TEST_URL"

echo "== HTTPS through nginx"
tests/https.sh "$KEYWORK_TEST_URL" "$tmp/https"

echo "== the API reference page in a browser"
BUILD="$BUILD" tests/browser.sh "$KEYWORK_TEST_URL"

echo "== fault tests"
BUILD="$BUILD" tests/faults.sh "$tmp"

echo "== slow and stalled clients"
BUILD="$BUILD" tests/slow.sh "$tmp"

echo "== PgBouncer in transaction mode"
BUILD="$BUILD" tests/pgbouncer.sh "$tmp" "$tmp/pg"

echo "== shutdown"
kill -TERM "$kore_pid"
if [ -n "${ASAN:-}" ]; then
	# Under the preloaded sanitizer runtime, a Kore worker's exit can
	# deadlock in a library destructor (p11-kit's freelocale, pulled in by
	# libpq); the clean-shutdown check is the uninstrumented run's job.
	i=0
	while kill -0 "$kore_pid" 2>/dev/null && [ "$i" -lt 50 ]; do
		i=$((i + 1)); sleep 0.2
	done
	if kill -0 "$kore_pid" 2>/dev/null; then
		echo "note: sanitizer build did not exit on SIGTERM within 10s; killed"
		pkill -KILL -P "$kore_pid" 2>/dev/null || true
		kill -KILL "$kore_pid" 2>/dev/null || true
	fi
	wait "$kore_pid" 2>/dev/null || true
elif ! wait "$kore_pid"; then
	echo "server did not stop cleanly on SIGTERM"; tail -n 20 "$tmp/server.log"; exit 1
fi
kore_pid=""
if grep -E " gone$|sandbox violation|AddressSanitizer|runtime error|LeakSanitizer" "$tmp/server.log"; then
	echo "the server log shows a crashed worker, a sandbox violation or a sanitizer report"; exit 1
fi

echo "== SIGTERM with requests in flight"
BUILD=$BUILD tests/shutdown.sh "$tmp"

echo "== logs"
tests/logs.sh "$tmp"
echo "== all tests passed"
