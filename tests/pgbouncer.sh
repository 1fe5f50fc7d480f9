#!/bin/sh
# keywork behind PgBouncer in transaction pooling mode. Run by
# scripts/test.sh with the test cluster's DATABASE_URL (owner) and
# KEYWORK_DATABASE_URL (the API's role) exported, BUILD set, the scratch
# folder in $1 and the cluster's folder (scripts/pg.sh) in $2.
#
# Each request is one statement in its own transaction, and the caller's
# identity is set transaction-locally, so server connections can be shared
# between Kore's connections a transaction at a time. PgBouncer refuses
# the `options` startup parameter, so keywork runs with
# db_session_options = false and the role carries statement_timeout and
# kw.report_identity (ALTER ROLE ... SET, as a superuser).
#
#   1. with session options on, the server does not silently lose them:
#      PgBouncer refuses its connections and /readyz says 503;
#   2. the integration suite (but the metrics suite) passes against a server
#      whose connections go through PgBouncer, pool_size 4 for up to 8
#      client connections (one worker's 8): PgBouncer held more client than
#      server connections, and counted the transactions;
#   3. the statement timeout is the role's (3 s, keywork's own setting is 10
#      minutes here): a statement held on a lock is cancelled, 503, and the
#      access line still names the caller;
#   4. no identity leaks through a shared server connection: with
#      pool_size 1, two users' GET /v1/me alternate 200 times, in two loops
#      at once, and each answer and each access line is the right user's.
set -eu
. "$(dirname "$0")/../scripts/lib.sh"
tmp=${1:?scratch folder}
pgdir=${2:?cluster folder}
BUILD=${BUILD:-build}
dir="$tmp/pgbouncer"
fails=0
pass() { echo "ok - $1"; }
fail() { echo "FAILED - $1"; fails=$((fails + 1)); }

# PgBouncer, like PostgreSQL, refuses to run as root: as root it runs as
# the cluster's user (scripts/pg.sh), which also reaches the cluster as its
# superuser through the socket.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}
pg_port=$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$pgdir/data/postgresql.conf" | tail -n 1)
sock=$(cd "$pgdir/run" && pwd)
su_sql() {
	as_pg psql -X -q -At -v ON_ERROR_STOP=1 -h "$sock" -p "$pg_port" -U postgres -d keywork "$@"
}

mkdir -p "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
pgb_port=$(free_port "${TEST_PORT_BASE:-25}632")
admin_pw=$(openssl rand -hex 16)
pids=""
pgb_pid=""
sampler=""
old_timeout=""

cleanup() {
	[ -n "$sampler" ] && kill "$sampler" 2>/dev/null
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null || true
		pkill -KILL -P "$p" 2>/dev/null || true
		kill -KILL "$p" 2>/dev/null || true
	done
	[ -n "$pgb_pid" ] && kill -TERM "$pgb_pid" 2>/dev/null
	if [ -n "$old_timeout" ]; then
		su_sql -c "ALTER ROLE keywork_api SET statement_timeout = '$old_timeout'" \
			-c "ALTER ROLE keywork_api RESET kw.report_identity" || true
	fi
	rm -f "$dir/userlist.txt"
}
trap cleanup EXIT

# The role's settings, which stand in for the connection options. New
# sessions only: the servers already running keep theirs (and send their
# own options, which win over the role's anyway).
old_timeout=$(su_sql -c "SELECT coalesce((SELECT split_part(s, '=', 2)
    FROM pg_db_role_setting, unnest(setconfig) s
    WHERE setrole = 'keywork_api'::regrole AND setdatabase = 0
    AND s LIKE 'statement_timeout=%'), '0')")
su_sql -c "ALTER ROLE keywork_api SET statement_timeout = '3s'" \
	-c "ALTER ROLE keywork_api SET kw.report_identity = 'on'"

# The API role's SCRAM verifier, as the cluster keeps it: PgBouncer checks
# the client's proof with it and, with the keys the proof gives, signs in to
# PostgreSQL in turn. No clear-text password in the file.
verifier=$(su_sql -c "SELECT rolpassword FROM pg_authid WHERE rolname = 'keywork_api'")
umask 077
printf '"keywork_api" "%s"\n"kwbouncer" "%s"\n' "$verifier" "$admin_pw" >"$dir/userlist.txt"
umask 022
cat >"$dir/pgbouncer.ini" <<INI
[databases]
keywork = host=127.0.0.1 port=$pg_port dbname=keywork
keywork_one = host=127.0.0.1 port=$pg_port dbname=keywork pool_size=1

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $pgb_port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
admin_users = kwbouncer
pool_mode = transaction
default_pool_size = 4
max_client_conn = 200
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir/userlist.txt" "$dir/pgbouncer.ini"
if ! as_pg pgbouncer -d "$dir/pgbouncer.ini"; then
	echo "pgbouncer did not start"; cat "$dir/pgbouncer.log" 2>/dev/null; exit 1
fi
i=0
until [ -s "$dir/pgbouncer.pid" ] && ss -Htln "sport = :$pgb_port" | grep -q .; do
	i=$((i + 1)); [ "$i" -gt 100 ] && { echo "pgbouncer is not listening"; exit 1; }
	sleep 0.05
done
pgb_pid=$(cat "$dir/pgbouncer.pid")

# admin SQL: the admin console's answer as "name=value ..." lines, one per
# row, for awk.
admin() {
	PGPASSWORD=$admin_pw psql -X -A -F '|' -P footer=off \
	    "host=127.0.0.1 port=$pgb_port dbname=pgbouncer user=kwbouncer" -c "$1" |
	    awk -F '|' 'NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i; next }
		{ s = ""; for (i = 1; i <= NF; i++) s = s h[i] "=" $i " "; print s }'
}
# field ROWS DATABASE NAME...: the sum of the named fields in the row of
# that database.
field() {
	printf '%s\n' "$1" | awk -v db="$2" -v names="$3" '
	    BEGIN { n = split(names, f, " ") }
	    { delete v; for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
	    v["database"] == db { for (i = 1; i <= n; i++) s += v[f[i]] }
	    END { print s + 0 }'
}

api_pw=$(printf '%s\n' "$KEYWORK_DATABASE_URL" | sed -n 's/.*password=\([^ ]*\).*/\1/p')

# start_server NAME DBNAME [ENV=VALUE...]: a Kore server whose connections
# go through PgBouncer to DBNAME; sets url, pid and log.
start_server() {
	name=$1 db=$2; shift 2
	port=$(free_port "${TEST_PORT_BASE:-25}920")
	mport=$(free_port $((port + 1)))
	# Each server's folder holds its kore.conf beside its log, where the
	# integration suite reads pgsql_conn_max.
	mkdir -p "$dir/$name"
	log="$dir/$name/server.log"
	set -- KEYWORK_PORT="$port" KEYWORK_METRICS_PORT="$mport" \
		KEYWORK_PID_FILE="$dir/$name/kore.pid" KEYWORK_STATEMENT_TIMEOUT_MS=600000 \
		KEYWORK_DATABASE_URL="host=127.0.0.1 port=$pgb_port dbname=$db user=keywork_api password=$api_pw" \
		"$@"
	env "$@" "$BUILD/keywork-admin" kore-conf >"$dir/$name/kore.conf"
	env ${LD_PRELOAD_ASAN:+LD_PRELOAD=$LD_PRELOAD_ASAN} "$@" stdbuf -oL -eL \
		kore -c "$dir/$name/kore.conf" -f -n -r >"$log" 2>&1 &
	pid=$!
	pids="$pids $pid"
	url="http://127.0.0.1:$port"
	murl="http://127.0.0.1:$mport"
	i=0
	until curl -fsS "$url/healthz" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "the $name server did not start:"; cat "$log"; exit 1
		fi
		sleep 0.1
	done
}

# stop_server: SIGTERM and wait (under the preloaded sanitizer runtime a
# worker's exit can hang in a library destructor: see scripts/test.sh).
stop_server() {
	kill -TERM "$pid"
	i=0
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
		i=$((i + 1)); sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		[ -n "${LD_PRELOAD_ASAN:-}" ] || fail "the $name server did not stop on SIGTERM"
		pkill -KILL -P "$pid" 2>/dev/null || true
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	pids=$(echo "$pids" | sed "s/ $pid\b//")
}

login() {
	curl -fsS -H 'content-type: application/json' \
	    -d "{\"email\":\"$1\",\"password\":\"keywork-demo\"}" "$url/v1/auth/login" |
	    sed 's/.*"access_token":"\([^"]*\)".*/\1/'
}

# 1. Session options on: refused by PgBouncer, and it shows.
start_server options keywork KEYWORK_WORKERS=1
r=$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")
if [ "$r" = 503 ] && grep -q "unsupported startup parameter: options" "$dir/pgbouncer.log"; then
	pass "with db_session_options on, PgBouncer refuses the options and /readyz is 503"
else
	fail "with db_session_options on: /readyz $r; PgBouncer's log: $(tail -n 3 "$dir/pgbouncer.log")"
fi
stop_server

# 2. The integration suite through PgBouncer: one worker of 8 connections,
# 8 client connections for PgBouncer's 4 server connections. (The suite's
# test of slow statements beyond the pool is told the pool is PgBouncer's:
# 4 reach PostgreSQL, the others wait in PgBouncer.) The sign-in throttle
# forgets the main run's failures, which the suite's throttle tests would
# otherwise meet.
q "DELETE FROM kw.login_failures" >/dev/null
start_server pooled keywork KEYWORK_WORKERS=1 KEYWORK_DB_CONNECTIONS=8 \
	KEYWORK_DB_SESSION_OPTIONS=false KEYWORK_TRUSTED_PROXIES=127.0.0.1
# PgBouncer's pool, sampled while the suite runs: "clients servers" lines.
(
	while :; do
		p=$(admin "SHOW POOLS") || break
		echo "$(field "$p" keywork "cl_active cl_waiting")" \
		    "$(field "$p" keywork "sv_active sv_idle sv_used sv_tested sv_login")"
		sleep 0.2
	done
) >"$dir/pools.txt" 2>/dev/null &
sampler=$!
t0=$(date +%s.%N)
if KEYWORK_TEST_URL=$url KEYWORK_TEST_METRICS_URL=$murl KEYWORK_TEST_SERVER_LOG=$log \
    KEYWORK_PID_FILE="$dir/pooled/kore.pid" KEYWORK_WORKERS=1 KEYWORK_TEST_DB_POOL=4 \
    "$BUILD/tests/integration" --jobs 4 --filter '!(metrics|limits)/*'; then
	pass "the integration suite passes through PgBouncer ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s)"
else
	fail "the integration suite through PgBouncer"
	echo "---- server log (last 30 lines)"; tail -n 30 "$log"
fi
kill "$sampler"
wait "$sampler" 2>/dev/null || true
sampler=""
stats=$(admin "SHOW STATS")
clients=$(awk '$1 > m { m = $1 } END { print m + 0 }' "$dir/pools.txt")
servers=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$dir/pools.txt")
xacts=$(field "$stats" keywork total_xact_count)
waited=$(field "$stats" keywork total_wait_time)
requests=$(grep -c '"module":"http","request_id":"[^"]*","method":"[A-Z]*","operation_id":"[A-Za-z]' "$log" || true)
echo "# PgBouncer, at most: $clients client connections, $servers server connections;" \
	"$xacts transactions for $requests answered operations; clients waited $((waited / 1000)) ms in all"
if [ "$servers" -ge 1 ] && [ "$servers" -le 4 ] && [ "$clients" -gt "$servers" ]; then
	pass "at most $clients client connections over at most $servers server connections"
else
	fail "no sharing shown: $clients client, $servers server connections"
fi
if [ "$xacts" -ge "$requests" ] && [ "$requests" -ge 500 ]; then
	pass "PgBouncer counted $xacts transactions for $requests answered operations"
else
	fail "PgBouncer counted $xacts transactions for $requests requests"
fi
if grep -q '"operation_id":"createNote","status":201,"latency_ms":[0-9.]*,"user_id":"[0-9a-f-]\{36\}"' "$log"; then
	pass "access lines name the caller (kw.report_identity from the role)"
else
	fail "no access line names its caller"
fi

# 3. The role's statement timeout: a note's insert waits on a lock the
# owner holds for 8 s, and is cancelled after 3.
tok=$(login keyworker@example.org)
ep=$(q "SELECT id FROM kw.episodes WHERE family_name = 'Rivers'")
psql -X -q "$DATABASE_URL" \
	-c "BEGIN; LOCK TABLE kw.notes IN EXCLUSIVE MODE; SELECT pg_sleep(8); COMMIT;" >/dev/null 2>&1 &
lock_pid=$!
i=0
until [ "$(q "SELECT count(*) FROM pg_locks WHERE granted AND mode = 'ExclusiveLock'
    AND relation = 'kw.notes'::regclass")" = 1 ]; do
	i=$((i + 1)); [ "$i" -gt 100 ] && { fail "the lock was not taken"; break; }
	sleep 0.05
done
r=$(curl -s -m 30 -o "$dir/timeout.json" -w '%{http_code} %{time_total}' \
    -H "authorization: Bearer $tok" -H 'content-type: application/json' \
    -d '{"kind":"fact","body":"Statement timeout test."}' "$url/v1/episodes/$ep/notes")
wait "$lock_pid" || true
status=${r% *} took=${r#* }
if [ "$status" = 503 ] && awk -v t="$took" 'BEGIN { exit !(t >= 2.9 && t < 7) }'; then
	pass "the role's statement timeout applies through PgBouncer: 503 after $took s"
else
	fail "a statement held on a lock: $status after $took s (want 503 after about 3 s)"
fi
if grep -q '"operation_id":"createNote","status":503,"latency_ms":[0-9.]*,"user_id":"[0-9a-f-]\{36\}"' "$log"; then
	pass "the cancelled request's access line names the caller"
else
	fail "the cancelled request's access line: $(grep '"status":503' "$log" | tail -n 1)"
fi
stop_server

# 4. One server connection for every client: identities alternate on it.
start_server single keywork_one KEYWORK_WORKERS=2 KEYWORK_DB_CONNECTIONS=4 \
	KEYWORK_DB_SESSION_OPTIONS=false
a=$(q "SELECT id FROM kw.users WHERE email = 'keyworker@example.org'")
b=$(q "SELECT id FROM kw.users WHERE email = 'teacher@example.org'")
ta=$(login keyworker@example.org)
tb=$(login teacher@example.org)
# alternate FIRST SECOND: 200 rounds of GET /v1/me as one user then the
# other; prints one line per wrong answer.
alternate() {
	k=0
	while [ "$k" -lt 200 ]; do
		for who in "$1" "$2"; do
			case $who in a) tk=$ta id=$a ;; *) tk=$tb id=$b ;; esac
			curl -s -H "authorization: Bearer $tk" "$url/v1/me" >"$dir/me.$1.json" || true
			grep -q "\"id\":\"$id\"" "$dir/me.$1.json" || echo "wrong: $who"
		done
		k=$((k + 1))
	done
}
alternate a b >"$dir/alt1.out" &
p1=$!
alternate b a >"$dir/alt2.out" &
p2=$!
wait "$p1" "$p2"
wrong=$(cat "$dir/alt1.out" "$dir/alt2.out" | wc -l)
pools=$(admin "SHOW POOLS")
clients=$(field "$pools" keywork_one "cl_active cl_waiting")
servers=$(field "$pools" keywork_one "sv_active sv_idle sv_used sv_tested sv_login")
na=$(grep -c "\"operation_id\":\"getMe\",\"status\":200,.*\"user_id\":\"$a\"" "$log" || true)
nb=$(grep -c "\"operation_id\":\"getMe\",\"status\":200,.*\"user_id\":\"$b\"" "$log" || true)
if [ "$wrong" -eq 0 ] && [ "$servers" -eq 1 ] && [ "$clients" -ge 2 ]; then
	pass "800 GET /v1/me, two users alternating on $clients client connections over 1 server connection: each got their own"
else
	fail "identities over one server connection: $wrong wrong answers; $clients client, $servers server connections"
fi
if [ "$na" -eq 400 ] && [ "$nb" -eq 400 ]; then
	pass "the access log names each user for their 400 requests"
else
	fail "the access log names the keyworker $na times and the teacher $nb times (want 400 each)"
fi
stop_server

[ "$fails" -eq 0 ] || { echo "$fails PgBouncer test(s) failed"; exit 1; }
