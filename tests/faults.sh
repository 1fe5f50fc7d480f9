#!/bin/sh
# Fault tests, on loopback, against a PostgreSQL cluster and Kore servers of
# their own (the main suite's server and cluster are not touched). Run by
# scripts/test.sh with BUILD set and a scratch folder in $1.
#
#   1. SIGKILL under write load: a server (two workers) taking case notes
#      from concurrent clients is killed, parent and workers at once. Every
#      note answered 2xx is in the database exactly once, and complete (its
#      alert and its idempotency record were written with it); notes whose
#      request had no answer either landed whole or not at all. A new
#      server then serves.
#   2. PostgreSQL stopped and started under read load: while it is down,
#      requests fail fast with 503 problem+json and /readyz answers 503;
#      after the start requests succeed again, without restarting Kore.
#   3. Hostile input through every text field of every JSON request body
#      (tests/faults_input.py): never a 5xx, a dropped connection or a
#      worker's death; a 2xx stores the value verbatim.
#
# Each check prints ok or FAILED with its figures. Under ASAN=1 the load is
# smaller and the time bounds looser.
set -eu
. "$(dirname "$0")/../scripts/lib.sh"
tmp=${1:?scratch folder}
BUILD=${BUILD:-build}
fails=0
pass() { echo "ok - $1"; }
fail() { echo "FAILED - $1"; fails=$((fails + 1)); }
kore_pid=""
pg="$tmp/faults-pg"

if [ -n "${ASAN:-}" ]; then
	clients=4 slow=4
else
	clients=8 slow=1
fi

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

# kill_kore: SIGKILL the server's parent and its workers at once.
kill_kore() {
	[ -n "$kore_pid" ] || return 0
	# shellcheck disable=SC2046
	kill -KILL "$kore_pid" $(pgrep -P "$kore_pid") 2>/dev/null || true
	wait "$kore_pid" 2>/dev/null || true
	kore_pid=""
}

cleanup() {
	kill_kore
	scripts/pg.sh stop "$pg"
}
on_exit cleanup

# start_kore LOG WORKERS: a server on a free port against the fault
# cluster; sets kore_pid and url, and waits until it answers.
start_kore() {
	log=$1
	port=$(free_port "${TEST_PORT_BASE:-28}988")
	# No metrics listener: the main test server's holds its port.
	KEYWORK_PORT=$port KEYWORK_WORKERS=$2 KEYWORK_DB_CONNECTIONS=4 KEYWORK_METRICS_PORT=0 \
		KEYWORK_MODULE_PATH="$BUILD/keywork.so" KEYWORK_PID_FILE="$tmp/faults-kore.pid" \
		KEYWORK_DATABASE_URL="$KEYWORK_DATABASE_URL" KEYWORK_LOG_LEVEL=warn \
		"$BUILD/keywork-admin" kore-conf >"$tmp/faults-kore.conf"
	env ${LD_PRELOAD_ASAN:+LD_PRELOAD=$LD_PRELOAD_ASAN} stdbuf -oL -eL \
		kore -c "$tmp/faults-kore.conf" -f -n -r >>"$log" 2>&1 &
	kore_pid=$!
	url="http://127.0.0.1:$port"
	i=0
	until curl -fsS "$url/healthz" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -gt 200 ] || ! kill -0 "$kore_pid" 2>/dev/null; then
			echo "fault server did not start:"; cat "$log"; exit 1
		fi
		sleep 0.05
	done
}

# crashed LOG: whether the log shows a worker's death or a sanitizer report.
crashed() {
	grep -E " gone$|sandbox violation|AddressSanitizer|runtime error" "$1"
}

# As the cluster's superuser, over its socket (scripts/pg.sh: peer auth).
su_q() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- psql -X -q -t -A -h "$pg/run" -p "$pg_port" -d keywork -c "$1"
	else
		psql -X -q -t -A -h "$pg/run" -p "$pg_port" -U postgres -d keywork -c "$1"
	fi
}

login() {
	curl -s -H 'content-type: application/json' \
		-d "{\"email\":\"$1\",\"password\":\"keywork-demo\"}" "$url/v1/auth/login" |
		sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}

echo "-- a cluster of the fault tests' own"
pg_port=$(free_port "${TEST_PORT_BASE:-28}532")
scripts/pg.sh start "$pg" "$pg_port"
DATABASE_URL= KEYWORK_DATABASE_URL=
. "$pg/keywork.env"
export DATABASE_URL KEYWORK_DATABASE_URL
"$BUILD/keywork-admin" migrate >/dev/null
KEYWORK_DEMO_MODE=yes KEYWORK_ARGON2_MEMORY_KIB=8192 KEYWORK_ARGON2_ITERATIONS=1 \
	"$BUILD/keywork-admin" seed-demo >/dev/null

# ---------------------------------------------------------------------------
echo "-- 1. SIGKILL under write load"
ep=$(q "SELECT id FROM kw.episodes WHERE family_name = 'Rivers'")
teacher=$(q "SELECT id FROM kw.users WHERE email = 'teacher@example.org'")
start_kore "$tmp/faults-kill.log" 2
tok=$(login keyworker@example.org)
[ -n "$tok" ] || { echo "cannot sign in as keyworker@"; exit 1; }
rm -f "$tmp/stop"
# Each client writes notes one after another; each note's body and
# Idempotency-Key is its marker. A line per request: marker, HTTP status
# (000: none), curl's exit code.
client() {
	n=0
	while [ ! -f "$tmp/stop" ]; do
		m="kill-$1-$n"
		rc=0
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
			-H "Authorization: Bearer $tok" -H "Idempotency-Key: $m" \
			-H 'content-type: application/json' \
			-d "{\"kind\":\"fact\",\"body\":\"$m\",\"alert_user_ids\":[\"$teacher\"]}" \
			"$url/v1/episodes/$ep/notes") || rc=$?
		echo "$m	$code	$rc" >>"$tmp/kill-$1.tsv"
		n=$((n + 1))
	done
}
pids=""
c=1
while [ "$c" -le "$clients" ]; do
	client "$c" &
	pids="$pids $!"
	c=$((c + 1))
done
sleep 1.5
kill_kore
touch "$tmp/stop"
# shellcheck disable=SC2086
wait $pids
left=$(pgrep -f "$tmp/faults-kore.conf" || true)
[ -z "$left" ] && pass "SIGKILL: parent and workers gone at once" ||
	fail "SIGKILL: processes left: $left"
cat "$tmp"/kill-*.tsv >"$tmp/kill.tsv"
# The database's view of every marker, as the owner. In flight: the
# request reached the server (curl did not fail to connect) but got no
# answer.
psql -X -q -t -A -F ' ' -v ON_ERROR_STOP=1 "$DATABASE_URL" >"$tmp/kill.out" <<SQL
CREATE TEMP TABLE m (marker text, status int, rc int);
\\copy m FROM '$tmp/kill.tsv'
CREATE TEMP TABLE n AS
SELECT x.body, count(*) AS notes,
    bool_and((SELECT count(*) FROM kw.alerts a WHERE a.note_id = x.id
	AND a.user_id = '$teacher' AND a.kind = 'named_in_note') = 1) AS alerted,
    bool_and(EXISTS (SELECT 1 FROM kw.idempotency_keys k WHERE k.key = x.body
	AND k.response->>'id' = x.id::text AND k.response->>'body' = x.body)) AS recorded
FROM kw.notes x WHERE x.body LIKE 'kill-%' GROUP BY x.body;
SELECT
    (SELECT count(*) FROM m),
    (SELECT count(*) FROM m WHERE status BETWEEN 200 AND 299),
    (SELECT count(*) FROM m WHERE status BETWEEN 200 AND 299
	AND NOT EXISTS (SELECT 1 FROM n WHERE n.body = m.marker)),
    (SELECT count(*) FROM n WHERE notes > 1),
    (SELECT count(*) FROM n WHERE NOT alerted OR NOT recorded),
    (SELECT count(*) FROM m WHERE status = 0 AND rc NOT IN (0, 7)),
    (SELECT count(*) FROM m WHERE status = 0 AND rc NOT IN (0, 7)
	AND EXISTS (SELECT 1 FROM n WHERE n.body = m.marker)),
    (SELECT count(*) FROM m WHERE status = 0 AND rc = 7),
    (SELECT count(*) FROM m WHERE status >= 300),
    (SELECT count(*) FROM n WHERE NOT EXISTS (SELECT 1 FROM m WHERE m.marker = n.body)),
    (SELECT count(*) FROM kw.alerts a WHERE a.kind = 'named_in_note'
	AND NOT EXISTS (SELECT 1 FROM kw.notes x WHERE x.id = a.note_id));
SQL
read -r total ok2 lost dup partial inflight landed refused other unknown orphans <"$tmp/kill.out"
echo "   $total requests from $clients clients: $ok2 answered 2xx, $inflight in flight at the kill" \
	"($landed landed, $((inflight - landed)) did not), $refused refused after it, $other other answers"
if [ "$ok2" -gt 0 ] && [ "$lost" = 0 ] && [ "$dup" = 0 ] && [ "$unknown" = 0 ]; then
	pass "SIGKILL: every note answered 2xx is stored exactly once ($ok2 notes, 0 lost, 0 twice)"
else
	fail "SIGKILL: $ok2 answered 2xx, $lost lost, $dup stored twice, $unknown not asked for"
fi
if [ "$partial" = 0 ] && [ "$orphans" = 0 ]; then
	pass "SIGKILL: every note stored is whole (its alert and idempotency record; $landed of $inflight in flight landed whole)"
else
	fail "SIGKILL: $partial notes without their alert or idempotency record, $orphans alerts without a note"
fi
[ "$other" = 0 ] || fail "SIGKILL: $other requests answered neither 2xx nor nothing"
start_kore "$tmp/faults-kill.log" 2
tok=$(login keyworker@example.org)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
	-H 'content-type: application/json' -d '{"kind":"fact","body":"after the kill"}' \
	"$url/v1/episodes/$ep/notes")
ready=$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")
[ "$code" = 201 ] && [ "$ready" = 200 ] &&
	pass "SIGKILL: a new server serves (/readyz 200, a note 201)" ||
	fail "SIGKILL: after a restart, /readyz $ready, a note $code"
kill_kore


# ---------------------------------------------------------------------------
echo "-- 2. PostgreSQL stopped and started under read load"
start_kore "$tmp/faults-restart.log" 1
tok=$(login keyworker@example.org)
# First, one connection lost mid-statement: a note waits on a lock the
# owner holds, and its backend is terminated (by the superuser, who sees
# and may signal every backend).
PGAPPNAME=faults-locker psql -X -q "$DATABASE_URL" \
	-c "BEGIN; LOCK TABLE kw.notes IN SHARE MODE; SELECT pg_sleep(30);" >/dev/null 2>&1 &
locker=$!
waits() { # waits SQL-CONDITION: until a backend matches it (5 s at most)
	i=0
	until [ "$(su_q "SELECT count(*) FROM pg_stat_activity WHERE $1")" -ge 1 ] ||
	    [ "$i" -gt 100 ]; do
		i=$((i + 1)); sleep 0.05
	done
}
waits "application_name = 'faults-locker' AND wait_event = 'PgSleep'"
curl -s -o /dev/null -w '%{http_code} %{content_type}' --max-time 10 \
	-H "Authorization: Bearer $tok" -H 'content-type: application/json' \
	-d '{"kind":"fact","body":"lost mid-statement"}' "$url/v1/episodes/$ep/notes" \
	>"$tmp/lost.txt" 2>&1 &
note=$!
waits "usename = 'keywork_api' AND wait_event_type = 'Lock'"
t0=$(now_ms)
su_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'keywork_api'
    AND wait_event_type = 'Lock'" >/dev/null
wait "$note" || true
t1=$(now_ms)
su_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE application_name = 'faults-locker'" >/dev/null
wait "$locker" || true
lost=$(cat "$tmp/lost.txt")
me=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $tok" "$url/v1/me")
if [ "$lost" = "503 application/problem+json" ] && [ $((t1 - t0)) -lt $((1000 * slow)) ] &&
    [ "$me" = 200 ]; then
	pass "a connection lost mid-statement: 503 problem+json in $((t1 - t0)) ms, and the worker serves on"
else
	fail "a connection lost mid-statement: '$lost' after $((t1 - t0)) ms; then GET /v1/me $me"
fi
rm -f "$tmp/stop"
# A line per request: start (ms), HTTP status, seconds taken, content type,
# curl's exit code.
reader() {
	while [ ! -f "$tmp/stop" ]; do
		t=$(now_ms)
		rc=0
		out=$(curl -s -o /dev/null -w '%{http_code} %{time_total} %{content_type}' \
			--max-time 10 -H "Authorization: Bearer $tok" \
			"$url/v1/episodes/$ep") || rc=$?
		echo "$t $out $rc" >>"$tmp/read-$1.txt"
	done
}
pids=""
c=1
while [ "$c" -le "$clients" ]; do
	reader "$c" &
	pids="$pids $!"
	c=$((c + 1))
done
sleep 1
t_stop=$(now_ms)
scripts/pg.sh stop "$pg"
t_down=$(now_ms)
sleep 0.5
r_down=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$url/readyz")
sleep 1.5
t_start=$(now_ms)
scripts/pg.sh start "$pg" "$pg_port"
t_up=$(now_ms)
sleep $((3 * slow))
touch "$tmp/stop"
# shellcheck disable=SC2086
wait $pids
r_up=$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")
cat "$tmp"/read-*.txt | sort -n >"$tmp/read.txt"
echo "   PostgreSQL stopped in $((t_down - t_stop)) ms, down $((t_start - t_down)) ms, started in $((t_up - t_start)) ms"
# While down: requests that started after the stop completed and ended
# before the start began.
awk -v d="$t_down" -v s="$t_start" '$1 >= d && $1 + $3 * 1000 < s' "$tmp/read.txt" >"$tmp/read-down.txt"
n_down=$(wc -l <"$tmp/read-down.txt")
n_503=$(awk '$2 == 503 && $4 == "application/problem+json"' "$tmp/read-down.txt" | wc -l)
lat=$(awk '{print $3 * 1000}' "$tmp/read-down.txt" | sort -n | awk '
	{ v[NR] = $1 } END { if (NR == 0) { print "0 0"; exit }
	  i = int(NR * 0.99); if (i < 1) i = 1; printf "%.1f %.1f\n", v[i], v[NR] }')
p99=${lat% *} max=${lat#* }
if [ "$n_down" -gt 0 ] && [ "$n_503" = "$n_down" ] &&
    awk -v m="$max" -v b=$((500 * slow)) 'BEGIN { exit !(m < b) }'; then
	pass "database down: $n_down requests, all 503 problem+json, fast (p99 $p99 ms, max $max ms)"
else
	fail "database down: $n_503 of $n_down requests 503 problem+json; p99 $p99 ms, max $max ms"
	awk '$2 != 503' "$tmp/read-down.txt" | head -n 5
fi
[ "$r_down" = "503 application/problem+json" ] && [ "$r_up" = 200 ] &&
	pass "/readyz: 503 problem+json while down, 200 after" ||
	fail "/readyz: '$r_down' while down, $r_up after"
# Across the whole run: only 200 and 503, never an unanswered request.
bad=$(awk '!($2 == 200 || ($2 == 503 && $4 == "application/problem+json"))' "$tmp/read.txt" | wc -l)
total=$(wc -l <"$tmp/read.txt")
[ "$bad" = 0 ] && pass "under load across the restart: $total requests, each 200 or 503 problem+json" ||
	{ fail "$bad of $total requests neither 200 nor 503 problem+json (status 000: no answer)"
	  awk '!($2 == 200 || $2 == 503)' "$tmp/read.txt" | head -n 5; }
# Recovered: from the first request after which every request succeeded.
rec=$(awk -v u="$t_start" '$1 >= u { if ($2 != 200) first = ""; else if (first == "") first = $1 }
	END { print first == "" ? -1 : first - u }' "$tmp/read.txt")
after=$(awk -v u="$t_up" '$1 >= u' "$tmp/read.txt" | wc -l)
if [ "$rec" -ge 0 ] && [ "$rec" -le $((t_up - t_start + 1000 * slow)) ] && [ "$after" -gt 0 ] &&
    kill -0 "$kore_pid" 2>/dev/null; then
	pass "after the start: requests succeed again $rec ms after PostgreSQL was started ($((t_up - t_start)) ms to start), same Kore ($after requests since, all 200)"
else
	fail "after the start: no steady success within $((t_up - t_start + 1000 * slow)) ms of starting PostgreSQL (at $rec ms; -1: never)"
	awk -v u="$t_up" '$1 >= u && $2 != 200' "$tmp/read.txt" | head -n 5
fi
if crashed "$tmp/faults-restart.log"; then
	fail "restart: the server log shows a worker's death"
fi
kill_kore


# ---------------------------------------------------------------------------
echo "-- 3. hostile input through every text field"
start_kore "$tmp/faults-input.log" 1
if python3 tests/faults_input.py "$url"; then
	pass "hostile input: no 5xx, every answer 2xx or 4xx problem+json, 2xx read back verbatim"
else
	fail "hostile input (see above)"
fi
if crashed "$tmp/faults-input.log"; then
	fail "hostile input: the server log shows a worker's death"
else
	pass "hostile input: no worker died"
fi
kill_kore

[ "$fails" -eq 0 ] || { echo "$fails fault test(s) failed"; exit 1; }
