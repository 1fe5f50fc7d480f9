#!/bin/sh
# SIGTERM with requests in flight, against a server of its own (two
# workers, two database connections each) on the test cluster. Run by
# scripts/test.sh with DATABASE_URL (the owner) and KEYWORK_DATABASE_URL
# exported, BUILD set, and a scratch folder in $1.
#
# Case notes are written while the owner holds kw.notes locked, so that
# their statements wait in PostgreSQL (one per connection) or for a
# connection (the rest); once the server's metrics show all of them in
# flight, SIGTERM, and HOLD seconds later the lock goes. Then:
#   - a new connection is refused at once, while the server still finishes
#     what it has;
#   - every request in flight gets its whole answer, 201, and every note
#     answered is in the database, none lost and none written unanswered;
#   - the server exits 0 within seconds of the lock's release, and its
#     database connections are closed.
set -eu
. "$(dirname "$0")/../scripts/lib.sh"
tmp=${1:?scratch folder}
BUILD=${BUILD:-build}
N=8
HOLD=2
fails=0
pass() { echo "ok - $1"; }
fail() { echo "FAILED - $1"; fails=$((fails + 1)); }

dir="$tmp/shutdown"
mkdir -p "$dir"
port=$(free_port "${TEST_PORT_BASE:-25}990")
mport=$(free_port $((port + 1)))
app=keywork_shutdown_test
# The same settings for Kore's configuration and for the module.
export KEYWORK_PORT="$port" KEYWORK_WORKERS=2 KEYWORK_DB_CONNECTIONS=2 \
	KEYWORK_METRICS_PORT="$mport" KEYWORK_SHUTDOWN_GRACE_SECONDS=20 \
	KEYWORK_PID_FILE="$dir/kore.pid" \
	KEYWORK_DATABASE_URL="$KEYWORK_DATABASE_URL application_name=$app"
"$BUILD/keywork-admin" kore-conf >"$dir/kore.conf"
env ${LD_PRELOAD_ASAN:+LD_PRELOAD=$LD_PRELOAD_ASAN} \
	stdbuf -oL -eL kore -c "$dir/kore.conf" -f -n -r >"$tmp/shutdown-server.log" 2>&1 &
pid=$!
url="http://127.0.0.1:$port"
i=0
until curl -fsS "$url/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "the shutdown test's server did not start:"
		cat "$tmp/shutdown-server.log"; exit 1
	fi
	sleep 0.1
done

tok=$(curl -fsS -H 'content-type: application/json' \
    -d '{"email":"keyworker@example.org","password":"keywork-demo"}' \
    "$url/v1/auth/login" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
ep=$(q "SELECT id FROM kw.episodes WHERE family_name = 'Rivers'")
[ -n "$ep" ] || { echo "no Rivers episode in the demo data"; exit 1; }
marker="Shutdown note $$"

# The owner takes kw.notes, in a session fed through a pipe, and keeps it
# until this script commits.
mkfifo "$dir/lock.fifo"
psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" <"$dir/lock.fifo" >"$dir/lock.out" 2>&1 &
lock_pid=$!
exec 3>"$dir/lock.fifo"
echo "BEGIN; LOCK TABLE kw.notes IN EXCLUSIVE MODE;" >&3
i=0
until [ "$(q "SELECT count(*) FROM pg_locks WHERE granted AND mode = 'ExclusiveLock'
    AND relation = 'kw.notes'::regclass")" = 1 ]; do
	i=$((i + 1)); [ "$i" -gt 100 ] && { echo "the lock was not taken"; exit 1; }
	sleep 0.05
done

# N notes at once; each curl records its status and body.
k=1
while [ "$k" -le "$N" ]; do
	curl -s -m 30 -o "$dir/note$k.json" -w '%{http_code}' \
	    -H "authorization: Bearer $tok" -H 'content-type: application/json' \
	    -d "{\"kind\":\"fact\",\"body\":\"$marker/$k: Tobiah Wrenfield was seen at home.\"}" \
	    "$url/v1/episodes/$ep/notes" >"$dir/note$k.status" 2>/dev/null &
	k=$((k + 1))
done
# Until all N are in the server, holding a connection (their statement
# waits on the lock) or queued for one, as its metrics say.
inflight() {
	curl -fsS "http://127.0.0.1:$mport/metrics" | awk '
	    /^keywork_db_connections_busy / || /^keywork_db_requests_queued / { n += $2 }
	    END { print n + 0 }'
}
i=0
until [ "$(inflight)" -ge "$N" ]; do
	i=$((i + 1)); [ "$i" -gt 600 ] && { echo "the notes did not all reach the server"; break; }
	sleep 0.05
done

kill -TERM "$pid"
sleep 0.3
rc=0
curl -s -m 3 -o /dev/null "$url/healthz" 2>/dev/null || rc=$?
if [ "$rc" = 7 ] && kill -0 "$pid" 2>/dev/null &&
    [ "$(q "SELECT count(*) FROM pg_locks WHERE NOT granted
    AND relation = 'kw.notes'::regclass")" -ge 1 ]; then
	pass "after SIGTERM a new connection is refused while requests are still in flight"
else
	fail "after SIGTERM: curl exit $rc (7 is refused), server alive: $(kill -0 "$pid" 2>/dev/null && echo yes || echo no)"
fi

# A while in flight after SIGTERM, then the lock goes; the server exits
# once its answers are out.
sleep "$HOLD"
echo "COMMIT;" >&3
exec 3>&-
t0=$(date +%s%N)
bound=7
i=0
while kill -0 "$pid" 2>/dev/null && [ "$i" -lt $((bound * 10)) ]; do
	i=$((i + 1)); sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
	if [ -n "${LD_PRELOAD_ASAN:-}" ]; then
		# A worker's exit can deadlock under the preloaded sanitizer
		# runtime (see scripts/test.sh); the uninstrumented run checks it.
		echo "note: sanitizer build did not exit within ${bound}s of the lock's release; killed"
	else
		fail "the server did not exit within ${bound}s of the lock's release"
	fi
	pkill -KILL -P "$pid" 2>/dev/null || true
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
else
	rc=0
	wait "$pid" || rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$rc" = 0 ]; then
		pass "the server exited 0, ${ms} ms after the lock's release (${HOLD} s after SIGTERM)"
	elif [ -n "${LD_PRELOAD_ASAN:-}" ]; then
		echo "note: sanitizer build exited $rc"
	else
		fail "the server exited $rc"
	fi
fi
wait "$lock_pid" || true
wait

# Every request answered, whole, and every answer's note stored.
ok=0; stored=0
k=1
while [ "$k" -le "$N" ]; do
	s=$(cat "$dir/note$k.status" 2>/dev/null || echo none)
	# The body is whole JSON; jsonb puts the note's own id first.
	id=$(grep -o '^{"id":"[0-9a-f-]*"' "$dir/note$k.json" 2>/dev/null | cut -d'"' -f4)
	tail -c 1 "$dir/note$k.json" 2>/dev/null | grep -q '}' || id=""
	if [ "$s" = 201 ] && [ -n "$id" ]; then
		ok=$((ok + 1))
		[ "$(q "SELECT count(*) FROM kw.notes WHERE id = '$id' AND body LIKE '$marker/$k:%'")" = 1 ] &&
			stored=$((stored + 1))
	else
		echo "  note $k: status $s, body $(head -c 200 "$dir/note$k.json" 2>/dev/null)"
	fi
	k=$((k + 1))
done
written=$(q "SELECT count(*) FROM kw.notes WHERE body LIKE '$marker/%'")
if [ "$ok" = "$N" ] && [ "$stored" = "$N" ] && [ "$written" = "$N" ]; then
	pass "all $N requests in flight answered 201 in full, and their $N notes are stored"
else
	fail "$ok of $N answered 201 in full, $stored of them stored, $written notes written"
fi

i=0
while [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$app'")" != 0 ]; do
	i=$((i + 1)); [ "$i" -gt 20 ] && break
	sleep 0.1
done
open=$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$app'")
[ "$open" = 0 ] && pass "its database connections are closed" ||
	fail "$open database connections still open after the server exited"

# "kore: ..." is how Kore's fatal() ends a process.
if grep -E " gone$|sandbox violation|AddressSanitizer|runtime error|^kore: " "$tmp/shutdown-server.log"; then
	fail "the shutdown test's server log shows a crash, a fatal error or a sanitizer report"
fi
[ "$(grep -c 'every request answered"' "$tmp/shutdown-server.log")" -ge 1 ] ||
	fail "no worker reported answering every request"

[ "$fails" = 0 ] || { echo "---- its log"; tail -n 30 "$tmp/shutdown-server.log"; echo "$fails shutdown checks failed"; exit 1; }
