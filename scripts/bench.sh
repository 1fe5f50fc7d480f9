#!/bin/sh
# make bench: wrk against API routes and against a bare Kore route in the
# same run, same server, same settings; prints each rate and its ratio to
# the bare route. The database holds the demo data plus BENCH_EPISODES
# episodes loaded by tests/perf/load.sql (10,000: 100,000 notes), in which
# keyworker@example.org has a caseload of 50 besides the demo families.
#
#   GET  /v1/me                    bearer token lookup plus one query
#   GET  /v1/episodes              the keyworker's first page (50)
#   GET  /v1/episodes/{id}         the keyworker's demo episode (Rivers)
#   POST /v1/episodes/{id}/notes   a case note on it (tests/perf/create_note.lua)
#   then keywork-worker's pass over BENCH_REMINDERS due reminders
#   (scripts/bench-worker.sh)
#
#   BENCH_SECONDS (10)  BENCH_CONNECTIONS (32)  BENCH_THREADS (2)
#   BENCH_EPISODES (10000; 0: the demo data only)
#   BENCH_TIMEOUT (10): seconds before wrk counts a request as an error;
#   a slower answer is still counted, in the max column
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
episodes=${BENCH_EPISODES:-10000}
timeout=${BENCH_TIMEOUT:-10}
tmp=$(mktemp -d /tmp/keywork-bench.XXXXXX)
chmod 755 "$tmp"
kore_pid=""
cleanup() {
	[ -n "$kore_pid" ] && kill -TERM "$kore_pid" 2>/dev/null && wait "$kore_pid" 2>/dev/null
	scripts/pg.sh stop "$tmp/pg"
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() {
	p=$1
	while ss -Htan "sport = :$p" 2>/dev/null | grep -q .; do p=$((p + 1)); done
	echo "$p"
}

scripts/pg.sh start "$tmp/pg" "$(free_port 35432)"
set -a
. "$tmp/pg/keywork.env"
set +a
"$BUILD/keywork-admin" migrate >/dev/null
KEYWORK_DEMO_MODE=yes "$BUILD/keywork-admin" seed-demo >/dev/null
if [ "$episodes" -gt 0 ]; then
	psql -X -q -v ON_ERROR_STOP=1 -v episodes="$episodes" "$DATABASE_URL" \
		-f tests/perf/load.sql >"$tmp/load.out"
fi

port=$(free_port 38888)
# Rate limits as high as they go: wrk, from one address with one token,
# would be refused otherwise, and the limiter's cost stays in the figures.
export KEYWORK_PORT=$port KEYWORK_MODULE_PATH="$BUILD/keywork.so" KEYWORK_DOCS_DIR="$BUILD/docs" \
	KEYWORK_PID_FILE="$tmp/kore.pid" \
	KEYWORK_RATE_LIMIT_PER_ADDRESS=60000000 KEYWORK_RATE_LIMIT_ADDRESS_BURST=1000000 \
	KEYWORK_RATE_LIMIT_PER_TOKEN=60000000 KEYWORK_RATE_LIMIT_TOKEN_BURST=1000000
# The reference route goes before the catch-all, in this run's config only.
"$BUILD/keywork-admin" kore-conf |
	sed 's|^\troute ^/\.\*\$ kw_http_dispatch|\troute ^/_bench/bare$ kw_bench_bare\n&|' >"$tmp/kore.conf"
kore -c "$tmp/kore.conf" -f -n -r >"$tmp/server.log" 2>&1 &
kore_pid=$!
i=0
until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
	i=$((i + 1)); [ "$i" -gt 100 ] && { cat "$tmp/server.log"; exit 1; }
	sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/_bench/bare" >/dev/null
token=$(curl -fsS -H 'content-type: application/json' \
	-d '{"email":"keyworker@example.org","password":"keywork-demo"}' \
	"http://127.0.0.1:$port/v1/auth/login" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
auth="Authorization: Bearer $token"
curl -fsS -H "$auth" "http://127.0.0.1:$port/v1/me" >/dev/null
# The demo episode, from the keyworker's whole list: one item per line (an
# item's own "id" follows "[" or ","; nested objects' follow ":").
curl -fsS -H "$auth" "http://127.0.0.1:$port/v1/episodes?limit=200" >"$tmp/episodes.json"
listed=$(sed 's/[[,]{"id":"/\n/g' "$tmp/episodes.json" | grep -c '"family_name":"')
episode=$(sed 's/[[,]{"id":"/\n/g' "$tmp/episodes.json" |
	grep '"family_name":"Rivers"' | cut -c1-36)
case "$episode" in
[0-9a-f]*-*-*-*-*) ;;
*) echo "bench: the keyworker's list has no Rivers episode" >&2; exit 1 ;;
esac
curl -fsS -H "$auth" "http://127.0.0.1:$port/v1/episodes/$episode" >/dev/null

run() {
	# $1 label, $2 path, $3 optional header, $4 optional wrk script. A 2 s
	# warm-up first, not measured: each worker opens its database
	# connections on first use.
	set -- "$1" "$2" "${3:-}" "${4:-}"
	opts="--timeout ${timeout}s"
	[ -n "$4" ] && opts="$opts -s $4"
	# shellcheck disable=SC2086
	if [ -n "$3" ]; then
		wrk -t"$threads" -c"$conns" -d2s $opts -H "$3" "http://127.0.0.1:$port$2" >/dev/null
		wrk -t"$threads" -c"$conns" -d"${secs}s" --latency $opts -H "$3" \
			"http://127.0.0.1:$port$2" >"$tmp/$1.out"
	else
		wrk -t"$threads" -c"$conns" -d2s $opts "http://127.0.0.1:$port$2" >/dev/null
		wrk -t"$threads" -c"$conns" -d"${secs}s" --latency $opts \
			"http://127.0.0.1:$port$2" >"$tmp/$1.out"
	fi
	rps=$(awk '/^Requests\/sec/ {print $2}' "$tmp/$1.out")
	p50=$(awk '$1 == "50%" {print $2}' "$tmp/$1.out")
	p99=$(awk '$1 == "99%" {print $2}' "$tmp/$1.out")
	max=$(awk '$1 == "Latency" {print $4; exit}' "$tmp/$1.out")
	errs=$(awk '/Non-2xx|Socket errors/ {print}' "$tmp/$1.out")
	[ -z "$errs" ] || { echo "$1: $errs" >&2; tail -n 20 "$tmp/server.log" >&2; exit 1; }
	echo "$1 $rps $p50 $p99 $max"
}

bare=$(run bare /_bench/bare)
me=$(run me /v1/me "$auth")
list=$(run list /v1/episodes "$auth")
get=$(run get "/v1/episodes/$episode" "$auth")
note=$(run note "/v1/episodes/$episode/notes" "$auth" tests/perf/create_note.lua)
workers=$(awk '/^workers/ {print $2}' "$tmp/kore.conf")
conn_max=$(awk '/^pgsql_conn_max/ {print $2}' "$tmp/kore.conf")
counts=$(psql -X -q -At -F ' ' "$DATABASE_URL" -c "SELECT (SELECT count(*) FROM kw.episodes),
    (SELECT count(*) FROM kw.notes)")

echo
echo "keywork bench: wrk $threads threads, $conns connections, ${secs}s each;"
echo "Kore $workers workers, pgsql_conn_max $conn_max; $(nproc) cores, $(uname -m);"
echo "$counts" | awk -v l="$listed" '{printf "%s episodes, %s notes (after the POST run); the keyworker lists %s\n", $1, $2, l}'
echo
b=$(echo "$bare" | awk '{print $2}')
echo "| route | requests/s | p50 | p99 | max | ratio to bare |"
echo "|---|---:|---:|---:|---:|---:|"
row() {
	echo "$2" | awk -v label="$1" -v b="$b" \
		'{printf "| %s | %s | %s | %s | %s | %.4f |\n", label, $2, $3, $4, $5, $2 / b}'
}
row "bare Kore route (reference)" "$bare"
row "GET /v1/me (token + query)" "$me"
row "GET /v1/episodes (keyworker, 50)" "$list"
row "GET /v1/episodes/{id}" "$get"
row "POST /v1/episodes/{id}/notes" "$note"
echo
awk -v b="$b" -v m="$(echo "$me" | awk '{print $2}')" \
	'BEGIN { printf "ratio GET /v1/me / bare route: %.3f\n", m / b }'

# The scheduled worker's pass over 10,000 and 100,000 due reminders.
BUILD="$BUILD" scripts/bench-worker.sh
