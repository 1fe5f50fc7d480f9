#!/bin/sh
# make soak SCALE=...: the API under steady mixed load for SOAK_SECONDS
# (600), on the data set of make bench-data SCALE=... (10k by default), with
# each Kore worker's resident memory (VmRSS) sampled every SOAK_SAMPLE
# seconds (30). Readers: 12 connections as keyworker@ cycling through GET
# /v1/episodes/{id}, /v1/episodes, /v1/episodes/{id}/notes, /v1/deadlines
# and /v1/me; writers: 4 connections as a generated practitioner adding
# case notes. Prints each worker's RSS at the start (after a 30 s warm-up),
# its largest, and at the end, and fails if a worker's memory grew by more
# than SOAK_MAX_GROWTH_KB (4096) from start to end or if any request
# failed.
set -eu
cd "$(dirname "$0")/.."
secs=${SOAK_SECONDS:-600}
every=${SOAK_SAMPLE:-30}
max_growth=${SOAK_MAX_GROWTH_KB:-4096}
scale=${SCALE:-10k}
. scripts/bench-lib.sh
bench_serve "$scale"

kw_token=$(login keyworker@example.org)
writer=perf-practitioner-0002@example.org
wr_token=$(login "$writer")
kw_id=$(q "SELECT id FROM kw.users WHERE lower(email) = 'keyworker@example.org'")
wr_id=$(q "SELECT id FROM kw.users WHERE email = '$writer'")
episode=$(q "SELECT id FROM kw.episodes WHERE keyworker_id = '$kw_id' AND status <> 'closed'
    AND family_name <> 'Rivers' ORDER BY id LIMIT 1")
wr_episode=$(q "SELECT id FROM kw.episodes WHERE keyworker_id = '$wr_id' AND status <> 'closed'
    ORDER BY id LIMIT 1")

cat >"$tmp/read.lua" <<LUA
local paths = { "/v1/episodes/$episode", "/v1/episodes", "/v1/episodes/$episode/notes",
    "/v1/deadlines", "/v1/me" }
local i = 0
function request()
	i = i % #paths + 1
	return wrk.format("GET", paths[i])
end
LUA

workers() { ps -o pid=,args= --ppid "$kore_pid" | awk '/wrk/ {print $1}'; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
[ -n "$(workers)" ] || { echo "soak: no Kore worker processes found" >&2; ps -f --ppid "$kore_pid" >&2; exit 1; }

wrk -t1 -c12 -d"$((secs + 30))s" --timeout 10s -s "$tmp/read.lua" \
	-H "Authorization: Bearer $kw_token" "http://127.0.0.1:$port" >"$tmp/read.out" &
rd=$!
printf '%s\t%s\t%s\n' "$wr_token" "/v1/episodes/$wr_episode/notes" \
	'{"body":"Soak: phoned the family.","kind":"fact"}' >"$tmp/write.requests"
BENCH_METHOD=POST BENCH_REQUESTS="$tmp/write.requests" \
	wrk -t1 -c4 -d"$((secs + 30))s" --timeout 10s -s tests/perf/wrk.lua \
	"http://127.0.0.1:$port" >"$tmp/write.out" &
wr=$!
sleep 30
for w in $(workers); do echo "$w $(rss "$w")"; done >"$tmp/start"
echo "soak: $(wc -l <"$tmp/start") workers; ${secs} s of load, RSS every ${every} s"
cp "$tmp/start" "$tmp/max"
t=0
while [ "$t" -lt "$secs" ]; do
	sleep "$every"
	t=$((t + every))
	line="soak: ${t} s:"
	for w in $(workers); do
		r=$(rss "$w")
		line="$line $w=${r} kB"
		awk -v w="$w" -v r="$r" '$1 == w && r > $2 {$2 = r} {print}' "$tmp/max" >"$tmp/max.new"
		mv "$tmp/max.new" "$tmp/max"
	done
	echo "$line"
done
for w in $(workers); do echo "$w $(rss "$w")"; done >"$tmp/end"
rc=0
wait "$rd" || rc=$?
wait "$wr" || rc=$?

echo
echo "| Kore worker (pid) | RSS at start (kB) | largest (kB) | at end (kB) | growth (kB) |"
echo "|---|---:|---:|---:|---:|"
fail=0
[ "$rc" -eq 0 ] || { echo "soak: wrk exited with $rc" >&2; fail=1; }
while read -r w s; do
	m=$(awk -v w="$w" '$1 == w {print $2}' "$tmp/max")
	e=$(awk -v w="$w" '$1 == w {print $2}' "$tmp/end")
	[ -n "$e" ] || { echo "soak: worker $w is gone (restarted?)" >&2; fail=1; continue; }
	echo "| $w | $s | $m | $e | $((e - s)) |"
	[ $((e - s)) -le "$max_growth" ] || fail=1
done <"$tmp/start"
echo
for f in read write; do
	reqs=$(awk '/requests in/ {print $1}' "$tmp/$f.out")
	rate=$(awk '/^Requests\/sec/ {print $2}' "$tmp/$f.out")
	[ -n "$reqs" ] || { echo "soak: the $f load did not run:" >&2; cat "$tmp/$f.out" >&2; fail=1; continue; }
	echo "soak: $f: $reqs requests, $rate/s"
	if grep -q 'Non-2xx\|Socket errors' "$tmp/$f.out"; then
		grep 'Non-2xx\|Socket errors' "$tmp/$f.out" >&2
		fail=1
	fi
done
if [ "$fail" -ne 0 ]; then
	echo "soak: FAILED (a worker grew more than $max_growth kB, went away, or requests failed)" >&2
	exit 1
fi
echo "soak: every worker's memory within $max_growth kB of where it started"
