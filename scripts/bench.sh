#!/bin/sh
# make bench: wrk against GET /v1/me (bearer token lookup plus one query)
# and against a bare Kore route in the same run, same server, same settings;
# prints both rates and their ratio.
#
#   BENCH_SECONDS (10)  BENCH_CONNECTIONS (32)  BENCH_THREADS (2)
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
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
	while ss -Htln "sport = :$p" 2>/dev/null | grep -q .; do p=$((p + 1)); done
	echo "$p"
}

scripts/pg.sh start "$tmp/pg" "$(free_port 35432)"
set -a
. "$tmp/pg/keywork.env"
set +a
"$BUILD/keywork-admin" migrate >/dev/null
KEYWORK_DEMO_MODE=yes "$BUILD/keywork-admin" seed-demo >/dev/null

port=$(free_port 38888)
export KEYWORK_PORT=$port KEYWORK_MODULE_PATH="$BUILD/keywork.so" \
	KEYWORK_PID_FILE="$tmp/kore.pid"
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
curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/me" >/dev/null

run() {
	# $1 label, $2 path, $3 optional header. A 2 s warm-up first, not
	# measured: each worker opens its database connections on first use.
	if [ -n "${3:-}" ]; then
		wrk -t"$threads" -c"$conns" -d2s -H "$3" "http://127.0.0.1:$port$2" >/dev/null
	else
		wrk -t"$threads" -c"$conns" -d2s "http://127.0.0.1:$port$2" >/dev/null
	fi
	if [ -n "${3:-}" ]; then
		wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -H "$3" \
			"http://127.0.0.1:$port$2" >"$tmp/$1.out"
	else
		wrk -t"$threads" -c"$conns" -d"${secs}s" --latency \
			"http://127.0.0.1:$port$2" >"$tmp/$1.out"
	fi
	rps=$(awk '/^Requests\/sec/ {print $2}' "$tmp/$1.out")
	p50=$(awk '$1 == "50%" {print $2}' "$tmp/$1.out")
	p99=$(awk '$1 == "99%" {print $2}' "$tmp/$1.out")
	errs=$(awk '/Non-2xx|Socket errors/ {print}' "$tmp/$1.out")
	[ -z "$errs" ] || { echo "$1: $errs" >&2; exit 1; }
	echo "$1 $rps $p50 $p99"
}

bare=$(run bare /_bench/bare)
me=$(run me /v1/me "Authorization: Bearer $token")
workers=$(awk '/^workers/ {print $2}' "$tmp/kore.conf")
conn_max=$(awk '/^pgsql_conn_max/ {print $2}' "$tmp/kore.conf")

echo
echo "keywork bench: wrk $threads threads, $conns connections, ${secs}s each;"
echo "Kore $workers workers, pgsql_conn_max $conn_max; $(nproc) cores, $(uname -m)"
echo
echo "| route | requests/s | p50 | p99 |"
echo "|---|---:|---:|---:|"
echo "$bare" | awk '{printf "| bare Kore route (reference) | %s | %s | %s |\n", $2, $3, $4}'
echo "$me" | awk '{printf "| GET /v1/me (token + query) | %s | %s | %s |\n", $2, $3, $4}'
b=$(echo "$bare" | awk '{print $2}')
m=$(echo "$me" | awk '{print $2}')
echo
awk -v b="$b" -v m="$m" 'BEGIN { printf "ratio GET /v1/me / bare route: %.3f\n", m / b }'
