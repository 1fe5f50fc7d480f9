#!/bin/sh
# Start-up and migration behaviour, against real processes. Run by
# scripts/test.sh with the test cluster's DATABASE_URL and
# KEYWORK_DATABASE_URL exported, BUILD set, and a scratch folder in $1.
#
#   - the server refuses to start when an operation has no handler, or a
#     handler has no operation, and says which;
#   - it refuses to start when a file of the API reference page (GET /docs)
#     is missing from docs_dir, and names it;
#   - /readyz answers 503 (and /healthz 200) when the database is down;
#   - migrations: a second run applies nothing; an edited applied migration
#     is refused; a failing migration is rolled back and not recorded;
#   - a configuration is checked without starting (--check-config, -n): a
#     bad setting is named with its file and line, in the file or the
#     environment, and the server refuses to start with it too.
set -eu
. "$(dirname "$0")/../scripts/lib.sh"
tmp=${1:?scratch folder}
BUILD=${BUILD:-build}
fails=0
pass() { echo "ok - $1"; }
fail() { echo "FAILED - $1"; fails=$((fails + 1)); }

# start_server LOG [ENV=VALUE...]: render a config and start kore in the
# background with the extra environment; sets pid.
start_server() {
	log=$1; shift
	env "$@" KEYWORK_PID_FILE="$tmp/startup-$$.pid" \
		"$BUILD/keywork-admin" kore-conf >"$tmp/startup.conf"
	env ${LD_PRELOAD_ASAN:+LD_PRELOAD=$LD_PRELOAD_ASAN} "$@" \
		kore -c "$tmp/startup.conf" -f -n -r >"$log" 2>&1 &
	pid=$!
}

# stop_server: SIGTERM and wait. Under the preloaded sanitizer runtime a
# worker's exit can deadlock in a library destructor (see scripts/test.sh),
# so there it is killed after a grace period instead of failing.
stop_server() {
	kill -TERM "$pid"
	if [ -n "${LD_PRELOAD_ASAN:-}" ]; then
		i=0
		while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 50 ]; do
			i=$((i + 1)); sleep 0.2
		done
		pkill -KILL -P "$pid" 2>/dev/null || true
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		return 0
	fi
	wait "$pid"
}

# 1. An operation without a handler.
sed 's/^  \/healthz:$/  \/extra:\n    get:\n      operationId: notImplementedAnywhere\n      responses:\n        "200": {description: x}\n  \/healthz:/' \
	openapi.yaml >"$tmp/spec-extra.yaml"
port=$(free_port 29000)
start_server "$tmp/extra.log" KEYWORK_PORT="$port" \
	KEYWORK_SPEC_PATH="$tmp/spec-extra.yaml" KEYWORK_MODULE_PATH="$BUILD/keywork.so"
if wait "$pid"; then
	fail "server started with an operation that has no handler"
elif grep -q "notImplementedAnywhere.*has no handler" "$tmp/extra.log"; then
	pass "refuses to start: operation without a handler, named"
else
	fail "refused, but without naming the operation"; cat "$tmp/extra.log"
fi

# 2. A handler without an operation (getReady's operation removed).
awk '/^  \/readyz:$/ {skip = 1; next} skip && /^  \// {skip = 0} !skip' \
	openapi.yaml >"$tmp/spec-missing.yaml"
start_server "$tmp/missing.log" KEYWORK_PORT="$port" \
	KEYWORK_SPEC_PATH="$tmp/spec-missing.yaml" KEYWORK_MODULE_PATH="$BUILD/keywork.so"
if wait "$pid"; then
	fail "server started with a handler that has no operation"
elif grep -q "getReady has no operation" "$tmp/missing.log"; then
	pass "refuses to start: handler without an operation, named"
else
	fail "refused, but without naming the handler"; cat "$tmp/missing.log"
fi

# 2b. A file of the API reference page missing from docs_dir.
mkdir -p "$tmp/docs-partial"
cp "${KEYWORK_DOCS_DIR:-$BUILD/docs}"/* "$tmp/docs-partial/"
rm "$tmp/docs-partial/swagger-ui-bundle.js"
start_server "$tmp/nodocs.log" KEYWORK_PORT="$port" \
	KEYWORK_DOCS_DIR="$tmp/docs-partial" KEYWORK_MODULE_PATH="$BUILD/keywork.so"
if wait "$pid"; then
	fail "server started without a file of the API reference page"
elif grep -q "docs-partial/swagger-ui-bundle.js: No such file" "$tmp/nodocs.log"; then
	pass "refuses to start: a file of the API reference page missing, named"
else
	fail "refused, but without naming the missing file"; cat "$tmp/nodocs.log"
fi

# 3. Readiness follows the database.
start_server "$tmp/down.log" KEYWORK_PORT="$port" KEYWORK_WORKERS=1 \
	KEYWORK_MODULE_PATH="$BUILD/keywork.so" \
	KEYWORK_DATABASE_URL="host=127.0.0.1 port=1 dbname=keywork user=nobody connect_timeout=2"
i=0
until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 || [ "$i" -gt 100 ]; do
	i=$((i + 1)); sleep 0.1
done
h=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")
r=$(curl -s -o "$tmp/ready.json" -w '%{http_code} %{content_type}' "http://127.0.0.1:$port/readyz")
if [ "$h" = 200 ] && [ "$r" = "503 application/problem+json" ]; then
	pass "database down: /healthz 200, /readyz 503 problem+json"
else
	fail "database down: /healthz $h, /readyz $r"
fi
stop_server || fail "server with no database did not stop cleanly"

# 4. Migrations.
if ! out=$("$BUILD/keywork-admin" migrate 2>&1); then
	fail "migrations: a second run failed: $out"
elif [ -z "$out" ]; then
	pass "migrations: a second run applies nothing"
else
	fail "migrations: a second run applied: $out"
fi
mkdir -p "$tmp/mig"
cp sql/migrations/*.sql "$tmp/mig/"
echo "-- edited" >>"$tmp/mig/0001_spine.sql"
if KEYWORK_SQL_DIR="$tmp/mig" "$BUILD/keywork-admin" migrate >"$tmp/mig.out" 2>&1; then
	fail "an edited, applied migration was accepted"
elif grep -q "0001_spine.sql was changed after it was applied" "$tmp/mig.out"; then
	pass "migrations: an edited applied migration is refused"
else
	fail "edited migration refused without saying why"; cat "$tmp/mig.out"
fi
cp sql/migrations/0001_spine.sql "$tmp/mig/"
printf 'CREATE TABLE kw.half_done (x int);\nSELECT 1/0;\n' >"$tmp/mig/9999_broken.sql"
if KEYWORK_SQL_DIR="$tmp/mig" "$BUILD/keywork-admin" migrate >"$tmp/mig.out" 2>&1; then
	fail "a failing migration reported success"
else
	n=$(psql -X -At "$DATABASE_URL" -c "SELECT count(*) FROM keywork_migrations WHERE version = '9999_broken.sql'")
	t=$(psql -X -At "$DATABASE_URL" -c "SELECT to_regclass('kw.half_done') IS NULL")
	if [ "$n" = 0 ] && [ "$t" = t ]; then
		pass "migrations: a failing migration is rolled back and not recorded"
	else
		fail "failing migration left traces (recorded: $n, table gone: $t)"
	fi
fi

# Checking a configuration without starting anything.
printf '# a comment\nport = 8080\nworkers = 0\n' >"$tmp/bad.conf"
out=$("$BUILD/keywork-admin" -c "$tmp/bad.conf" --check-config 2>&1) && rc=0 || rc=$?
[ "$rc" = 1 ] && [ "$out" = "$tmp/bad.conf:3: workers: 0 is out of range 1..64" ] &&
	pass "--check-config names file, line and reason: $out" ||
	fail "--check-config on a bad file: exit $rc, \"$out\""
out=$(KEYWORK_SMTP_STARTTLS=perhaps "$BUILD/keywork-admin" -n 2>&1) && rc=0 || rc=$?
[ "$rc" = 1 ] && echo "$out" | grep -q "KEYWORK_SMTP_STARTTLS" &&
	pass "-n names a bad environment variable: $out" ||
	fail "-n with a bad environment variable: exit $rc, \"$out\""
"$BUILD/keywork-admin" --check-config >/dev/null && pass "--check-config accepts conf/keywork.conf" ||
	fail "--check-config refuses conf/keywork.conf"
out=$(KEYWORK_CONFIG="$tmp/bad.conf" "$BUILD/keywork-worker" --once 2>&1) && rc=0 || rc=$?
[ "$rc" = 1 ] && echo "$out" | grep -q "bad.conf:3: workers" &&
	pass "the worker refuses to start with it, naming file and line" ||
	fail "the worker with a bad config: exit $rc, \"$out\""

[ "$fails" -eq 0 ] || { echo "$fails start-up test(s) failed"; exit 1; }
