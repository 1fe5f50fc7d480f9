#!/bin/sh
# Nothing sensitive in any log the whole suite produced. Run by
# scripts/test.sh last, after every server and worker has stopped, with
# the scratch folder in $1: the servers' logs (Kore's stdout and stderr,
# keywork's JSON lines), the start-up tests' servers, the scheduled worker's
# logs, and PostgreSQL's own log.
#
# Searched for, as fixed strings: the tokens the suite's own sign-in was
# issued and used (access and refresh, and the SHA-256 the database keeps
# of each), the demo and test passwords, the demo's people and families,
# names and note texts the tests wrote, and e-mail addresses. The logs must
# also hold the access lines, so that an empty log cannot pass.
set -eu
tmp=${1:?scratch folder}
fails=0
pass() { echo "ok - $1"; }
fail() { echo "FAILED - $1"; fails=$((fails + 1)); }

logs=$(find "$tmp" -type f -name '*.log' | sort)
[ -n "$logs" ] || { echo "no logs under $tmp"; exit 1; }

# The logs are real: the main server's has every integration test's access
# lines, and the others are there.
access=$(grep -c '"module":"http","request_id":"[^"]*","method":"[A-Z]*","operation_id":' \
    "$tmp/server.log" || true)
if [ "$access" -ge 500 ] && [ -s "$tmp/pg/data/server.log" ] &&
    [ -n "$(find "$tmp" -path '*worker*' -name '*.log' -size +0)" ] &&
    grep -q '"operation_id":"createNote","status":201' "$tmp/shutdown-server.log"; then
	pass "the logs hold $access access lines, PostgreSQL's and the worker's logs"
else
	fail "the logs are missing: $access access lines in server.log; $(echo "$logs" | wc -l) logs"
fi
# An access line has what an operator needs, and no more.
line=$(grep -m 1 '"operation_id":"createNote","status":201' "$tmp/server.log" || true)
for field in time level module request_id method operation_id status latency_ms user_id; do
	case "$line" in
	*"\"$field\":"*) ;;
	*) fail "the access line has no $field: $line" ;;
	esac
done

# What must never be written. Tokens first, then fixed strings.
set --
if [ -f "$tmp/tokens" ]; then
	while read -r t; do
		[ -n "$t" ] || continue
		set -- "$@" "$t" "$(printf '%s' "$t" | sha256sum | cut -d' ' -f1)"
	done <"$tmp/tokens"
fi
[ "$#" -ge 8 ] || fail "the suite's own tokens were not kept ($# strings)"
set -- "$@" \
	keywork-demo correct-horse-battery-staple async-test-password \
	'@example.org' \
	'Demo Keyworker' 'Demo Teacher' 'Demo Health Visitor' 'Demo Manager' \
	'Demo Coordinator' 'Demo Data Protection Officer' 'Demo Admin' \
	Rivers Oakes Brook Hale \
	'"Sam"' '"Alex"' '"Robin"' '"Chris"' \
	'Home visit: met the family' 'seems more settled in class' \
	'Correction: the visit was with' \
	Quillfeather Marigold 'drew a lighthouse' \
	Tobiah Wrenfield 'was seen at home' \
	'Met both parents' 'On the other family' 'Access Tester' \
	'Admin Test User' 'Worker fixture' 'His mother' 'Her father'
found=0
for s in "$@"; do
	if hits=$(grep -F -n -- "$s" $logs 2>/dev/null); then
		found=$((found + 1))
		echo "  found \"$s\":"
		echo "$hits" | head -n 3 | cut -c 1-300 | sed 's/^/    /'
	fi
done
[ "$found" = 0 ] && pass "no token, password, name, e-mail or note text in $(echo "$logs" | wc -l) logs ($# strings)" ||
	fail "$found sensitive strings in the logs"

[ "$fails" = 0 ] || { echo "$fails log checks failed"; exit 1; }
