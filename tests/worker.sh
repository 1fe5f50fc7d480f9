#!/bin/sh
# The scheduled worker against the test cluster, run by scripts/test.sh
# after the integration tests, with DATABASE_URL (the owner) exported,
# BUILD set and the server's URL in $1.
#
#   - 1,000 overdue actions owned by a TAF member: two workers at once
#     write each reminder exactly once (owner and keyworker: 2,000, and
#     the step up suggested for stalled progress to the keyworker and
#     their manager), and another pass writes none;
#   - a running worker wakes on NOTIFY when an action changes, long before
#     its interval, and stops cleanly on SIGTERM;
#   - the reminders reach the API: GET /v1/notifications, POST .../read;
#   - a closed episode past its retention (the period after closure set
#     to a day for the test, and restored) is erased by a pass, and reads
#     erased through the API; one closed today is not.
set -eu
. "$(dirname "$0")/../scripts/lib.sh"
url=${1:?server url}
BUILD=${BUILD:-build}
# Its logs stay in KEYWORK_TEST_LOG_DIR when that is set (scripts/test.sh
# reads every log of the run at the end).
if [ -n "${KEYWORK_TEST_LOG_DIR:-}" ]; then
	tmp=$(mktemp -d "$KEYWORK_TEST_LOG_DIR/worker.XXXXXX")
else
	tmp=$(mktemp -d /tmp/keywork-worker.XXXXXX)
	trap 'rm -rf "$tmp"' EXIT
fi
fails=0
pass() { echo "ok - $1"; }
fail() { echo "FAILED - $1"; fails=$((fails + 1)); }

# A fixture episode, as the owner: keyworker@ keyworks, teacher@ owns
# 1,000 actions due ten days ago.
ep=00000000-0000-4000-8000-000000000601
q "
INSERT INTO kw.families (id, name, area_id)
SELECT '00000000-0000-4000-8000-000000000602', 'Worker fixture', area_id
FROM kw.users WHERE email = 'keyworker@example.org';
INSERT INTO kw.episodes (id, family_id, family_name, area_id, keyworker_id,
    lead_agency_id, registered_by, assessment_due, first_taf_meeting_due)
SELECT '$ep', '00000000-0000-4000-8000-000000000602', 'Worker fixture', u.area_id,
    u.id, u.agency_id, u.id, kw.local_date(now()) + 21, kw.local_date(now()) + 42
FROM kw.users u WHERE u.email = 'keyworker@example.org';
INSERT INTO kw.team_members (episode_id, user_id, level, added_by)
SELECT '$ep', t.id, 'full', k.id FROM kw.users t, kw.users k
WHERE t.email = 'teacher@example.org' AND k.email = 'keyworker@example.org';
INSERT INTO kw.actions (episode_id, what, owner_user_id, measure, due_date, created_by)
SELECT '$ep', 'Action ' || g, t.id, 'Done', kw.today() - 10, k.id
FROM generate_series(1, 1000) g, kw.users t, kw.users k
WHERE t.email = 'teacher@example.org' AND k.email = 'keyworker@example.org';" >/dev/null

"$BUILD/keywork-worker" --once 2>"$tmp/w1.log" &
w1=$!
"$BUILD/keywork-worker" --once 2>"$tmp/w2.log" &
w2=$!
rc1=0; rc2=0
wait "$w1" || rc1=$?
wait "$w2" || rc2=$?
n=$(q "SELECT count(*) FROM kw.notifications WHERE episode_id = '$ep' AND rule LIKE 'deadline%'")
dup=$(q "SELECT count(*) FROM (SELECT user_id, deadline_kind, subject_id, rule
    FROM kw.notifications WHERE episode_id = '$ep'
    GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) x")
if [ "$rc1" = 0 ] && [ "$rc2" = 0 ] && [ "$n" = 2000 ] && [ "$dup" = 0 ]; then
	pass "two workers at once over 1,000 overdue actions: 2,000 reminders, none twice"
else
	fail "two workers: exit $rc1/$rc2, $n reminders (want 2000), $dup duplicated"
	cat "$tmp/w1.log" "$tmp/w2.log"
fi
# 1,000 actions overdue stall the episode: a step up is suggested to the
# keyworker and their line manager, once each.
s=$(q "SELECT string_agg(u.email || ':' || n.reason, ' ' ORDER BY u.email)
    FROM kw.notifications n JOIN kw.users u ON u.id = n.user_id
    WHERE n.episode_id = '$ep' AND n.rule = 'step_up_suggested'")
[ "$s" = "keyworker@example.org:actions_overdue manager@example.org:actions_overdue" ] &&
	pass "stalled progress (actions overdue) suggests a step up to the keyworker and manager" ||
	fail "step up suggested: $s"
written=$(grep -ho '[0-9]* reminders written' "$tmp/w1.log" "$tmp/w2.log" | awk '{s += $1} END {print s}')
[ "$written" -ge 2000 ] && pass "the two passes report what they wrote ($written)" ||
	fail "the passes report $written written"

"$BUILD/keywork-worker" --once 2>"$tmp/w3.log"
if grep -q '"pass done, 0 reminders written"' "$tmp/w3.log" &&
    [ "$(q "SELECT count(*) FROM kw.notifications WHERE episode_id = '$ep'")" = 2002 ]; then
	pass "another pass writes nothing"
else
	fail "another pass wrote again"; cat "$tmp/w3.log"
fi

# A running worker with an hour between passes wakes on NOTIFY.
KEYWORK_WORKER_INTERVAL_SECONDS=3600 "$BUILD/keywork-worker" 2>"$tmp/daemon.log" &
wd=$!
sleep 1
q "INSERT INTO kw.actions (episode_id, what, owner_user_id, measure, due_date, created_by)
SELECT '$ep', 'Late action', t.id, 'Done', kw.today() - 1, k.id FROM kw.users t, kw.users k
WHERE t.email = 'teacher@example.org' AND k.email = 'keyworker@example.org'" >/dev/null
i=0
while [ "$(q "SELECT count(*) FROM kw.notifications WHERE episode_id = '$ep'")" != 2004 ]; do
	i=$((i + 1)); [ "$i" -gt 50 ] && break
	sleep 0.1
done
[ "$i" -le 50 ] && pass "a running worker wakes on NOTIFY (within $((i * 100)) ms)" ||
	{ fail "the worker did not wake on NOTIFY"; cat "$tmp/daemon.log"; }
kill -TERM "$wd"
rc=0; wait "$wd" || rc=$?
[ "$rc" = 0 ] && grep -q '"stopped"' "$tmp/daemon.log" &&
	pass "the worker stops cleanly on SIGTERM" || fail "worker exit $rc on SIGTERM"

# The reminders through the API.
login() {
	curl -fsS -H 'content-type: application/json' \
	    -d "{\"email\":\"$1\",\"password\":\"keywork-demo\"}" "$url/v1/auth/login" |
	    sed 's/.*"access_token":"\([^"]*\)".*/\1/'
}
tt=$(login teacher@example.org)
kt=$(login keyworker@example.org)
page=$(curl -fsS -H "Authorization: Bearer $tt" "$url/v1/notifications?unread=true&limit=200")
count=$(printf '%s' "$page" | grep -o '"rule":"deadline_overdue"' | wc -l)
nid=$(printf '%s' "$page" | sed 's/^{"items":\[{"id":"\([^"]*\)".*/\1/')
[ "$count" = 200 ] && pass "GET /v1/notifications pages the owner's reminders" ||
	fail "GET /v1/notifications: $count overdue reminders on a page of 200"
s=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'content-length: 0' \
    -H "Authorization: Bearer $kt" "$url/v1/notifications/$nid/read")
[ "$s" = 404 ] && pass "another user cannot read it (404)" || fail "another user: $s"
s=$(curl -s -o "$tmp/read.json" -w '%{http_code}' -X POST -H 'content-length: 0' \
    -H "Authorization: Bearer $tt" "$url/v1/notifications/$nid/read")
if [ "$s" = 200 ] && grep -q '"read_at":"' "$tmp/read.json"; then
	pass "POST /v1/notifications/{id}/read marks it read"
else
	fail "read: $s $(cat "$tmp/read.json")"
fi

# Retention: closed three days ago, a child of 30; and one closed today.
old=00000000-0000-4000-8000-000000000603
new=00000000-0000-4000-8000-000000000604
q "
INSERT INTO kw.families (id, name, area_id)
SELECT f.id::uuid, 'Worker erasure ' || f.n, u.area_id
FROM kw.users u, (VALUES ('00000000-0000-4000-8000-000000000605', 'old'),
    ('00000000-0000-4000-8000-000000000606', 'new')) f (id, n)
WHERE u.email = 'keyworker@example.org';
INSERT INTO kw.episodes (id, family_id, family_name, area_id, keyworker_id,
    lead_agency_id, registered_by, registered_at, assessment_due, first_taf_meeting_due,
    status, closed_at)
SELECT v.id::uuid, v.f::uuid, 'Worker erasure', u.area_id, u.id, u.agency_id, u.id,
    now() - interval '100 days', kw.local_date(now() - interval '100 days') + 21,
    kw.local_date(now() - interval '100 days') + 42, 'closed', v.closed
FROM kw.users u, (VALUES ('$old', '00000000-0000-4000-8000-000000000605',
    now() - interval '3 days'), ('$new', '00000000-0000-4000-8000-000000000606', now())) v
    (id, f, closed)
WHERE u.email = 'keyworker@example.org';
INSERT INTO kw.members (episode_id, given_name, family_name, date_of_birth, relationship,
    is_child)
SELECT id, 'Worker erasure child', 'Worker erasure', kw.today() - interval '30 years', 'son',
    true FROM kw.episodes WHERE id IN ('$old', '$new');
INSERT INTO kw.notes (episode_id, author_id, kind, body)
SELECT e.id, e.keyworker_id, 'fact', 'Worker erasure note' FROM kw.episodes e
WHERE e.id IN ('$old', '$new');" >/dev/null
days=$(q "SELECT value FROM kw.settings WHERE name = 'retention_days_after_closure'")
q "UPDATE kw.settings SET value = 1 WHERE name = 'retention_days_after_closure'" >/dev/null
rc=0
"$BUILD/keywork-worker" --once 2>"$tmp/erase.log" || rc=$?
q "UPDATE kw.settings SET value = $days WHERE name = 'retention_days_after_closure'" >/dev/null
s=$(q "SELECT string_agg(e.id || ':' || (e.erased_at IS NOT NULL) || ':' || e.family_name
    || ':' || n.body || ':' || m.given_name, ' ' ORDER BY e.id)
    FROM kw.episodes e JOIN kw.notes n ON n.episode_id = e.id
    JOIN kw.members m ON m.episode_id = e.id WHERE e.id IN ('$old', '$new')")
if [ "$rc" = 0 ] && [ "$s" = "$old:true:erased:erased:erased $new:false:Worker erasure:Worker erasure note:Worker erasure child" ] &&
    grep -q 'episodes erased"' "$tmp/erase.log" && ! grep -q 'Worker erasure' "$tmp/erase.log"; then
	pass "a pass erases the episode past its retention, not the one closed today; the log holds counts only"
else
	fail "erasure: exit $rc, $s"; cat "$tmp/erase.log"
fi
s=$(curl -fsS -H "Authorization: Bearer $kt" "$url/v1/episodes/$old")
case "$s" in
*'"family_name":"erased"'*'"erased_at":"'*|*'"erased_at":"'*'"family_name":"erased"'*)
	pass "GET /v1/episodes/{id} reads the erased episode: markers and erased_at" ;;
*) fail "GET the erased episode: $s" ;;
esac
s=$(curl -s -o "$tmp/reopen.json" -w '%{http_code}' -H "Authorization: Bearer $kt" \
    -H 'content-type: application/json' -d '{"reason":"back"}' "$url/v1/episodes/$old/reopen")
[ "$s" = 422 ] && grep -q '"rule":"erased_episode_cannot_reopen"' "$tmp/reopen.json" &&
	pass "reopening the erased episode: 422 erased_episode_cannot_reopen" ||
	fail "reopen the erased episode: $s $(cat "$tmp/reopen.json")"

[ "$fails" = 0 ] || { echo "$fails worker checks failed"; exit 1; }
