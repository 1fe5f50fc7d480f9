#!/bin/sh
# Email and webhook delivery by the scheduled worker, against real peers on
# loopback: an SMTP server (STARTTLS and AUTH required) and an HTTP receiver
# that checks each webhook's signature (tests/peers/). Run by scripts/test.sh
# after tests/worker.sh, with DATABASE_URL (the owner) exported, BUILD set
# and the server's URL in $1.
#
#   - two workers at once over 1,000 due reminders: each email and each
#     webhook is sent exactly once (by Message-ID and event id), every
#     signature checks out, and the outbox shows them all sent;
#   - a worker killed (SIGKILL) in the middle of a batch: another takes
#     over once its lease runs out; nothing is lost, and a delivery is made
#     again at most once, with the same id;
#   - an SMTP server that refuses (421) and then recovers gets every
#     message, after retries with backoff;
#   - with STARTTLS required, a server without TLS gets nothing;
#   - a receiver that always fails: the delivery is dead after
#     delivery_max_attempts, with its last error, and admins see it
#     (GET /v1/deliveries?status=dead) and can put it back.
set -eu
. "$(dirname "$0")/../scripts/lib.sh"
url=${1:?server url}
BUILD=${BUILD:-build}
tmp=$(mktemp -d /tmp/keywork-delivery.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
on_exit cleanup
fails=0
pass() { echo "ok - $1"; }
fail() { echo "FAILED - $1"; fails=$((fails + 1)); }
# wait_for SECONDS SQL VALUE: poll until the query answers VALUE.
wait_for() {
	i=0
	while [ "$(q "$2")" != "$3" ]; do
		i=$((i + 1)); [ "$i" -gt $(($1 * 10)) ] && return 1
		sleep 0.1
	done
}
# start_peer NAME ARGS...: start a peer, wait for its "ready" line.
start_peer() {
	name=$1; shift
	python3 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pids="$pids $!"
	echo $! >"$tmp/$name.pid"
	i=0
	until grep -q '^ready' "$tmp/$name.out" 2>/dev/null; do
		i=$((i + 1)); [ "$i" -gt 50 ] && { echo "$name did not start"; cat "$tmp/$name.err"; exit 1; }
		sleep 0.1
	done
}
stop_peer() {
	kill -TERM "$(cat "$tmp/$1.pid")" 2>/dev/null || true
	wait "$(cat "$tmp/$1.pid")" 2>/dev/null || true
}

# --- Peers ------------------------------------------------------------------
# A throwaway CA and the SMTP server's certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=keywork test CA" \
    -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$tmp/smtp.key" -out "$tmp/smtp.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tmp/san.ext"
openssl x509 -req -in "$tmp/smtp.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
    -CAcreateserial -days 1 -extfile "$tmp/san.ext" -out "$tmp/smtp.pem" 2>/dev/null

base=${TEST_PORT_BASE:-25}
smtp_port=$(free_port "${base}025")
mkdir -p "$tmp/mail" "$tmp/hooks" "$tmp/plainmail"
start_peer smtp tests/peers/smtp_server.py --port "$smtp_port" --dir "$tmp/mail" \
    --tls-cert "$tmp/smtp.pem" --tls-key "$tmp/smtp.key" --require-tls \
    --auth "keywork:smtp-test-pass" --refuse-file "$tmp/refuse"
secret=$(openssl rand -hex 24)
hook_port=$(free_port "${base}099")
start_peer hooks tests/peers/webhook_receiver.py --port "$hook_port" \
    --secret "kws_$secret" --dir "$tmp/hooks" --delay-ms 5

export KEYWORK_SMTP_URL="smtp://127.0.0.1:$smtp_port" KEYWORK_SMTP_STARTTLS=true
export KEYWORK_SMTP_CA_FILE="$tmp/ca.pem" KEYWORK_SMTP_USERNAME=keywork
export KEYWORK_SMTP_PASSWORD=smtp-test-pass KEYWORK_SMTP_FROM=reminders@keywork.test
export KEYWORK_WEBHOOK_ALLOW_HTTP=true KEYWORK_WEBHOOK_TIMEOUT_SECONDS=5
export KEYWORK_DELIVERY_BACKOFF_SECONDS=1 KEYWORK_DELIVERY_BACKOFF_MAX_SECONDS=2
export KEYWORK_DELIVERY_LEASE_SECONDS=6 KEYWORK_DELIVERY_BATCH=50
export KEYWORK_WORKER_INTERVAL_SECONDS=3600

# --- Fixture ----------------------------------------------------------------
# A partner agency with two practitioners on a new episode that
# keyworker@ holds, and the agency's webhook (set up as the owner, with a
# known secret; the API's side of subscriptions is in the integration
# tests). Reminders are made by giving a practitioner actions due today
# (deadline_due: one reminder per action, to its owner).
q "
INSERT INTO kw.agencies (id, name, kind) VALUES
    ('00000000-0000-4000-8000-000000000701', 'Delivery test partner', 'voluntary');
INSERT INTO kw.users (id, email, name, password_hash, agency_id, area_id, roles)
SELECT x.id, x.email, 'Delivery test practitioner', k.password_hash,
    '00000000-0000-4000-8000-000000000701', k.area_id, '{practitioner}'
FROM kw.users k, (VALUES
    ('00000000-0000-4000-8000-000000000702'::uuid, 'dp1@partner.test'),
    ('00000000-0000-4000-8000-000000000703'::uuid, 'dp2@partner.test'),
    ('00000000-0000-4000-8000-000000000704'::uuid, 'dp3@partner.test'),
    ('00000000-0000-4000-8000-000000000705'::uuid, 'dp4@partner.test')) x (id, email)
WHERE k.email = 'keyworker@example.org';
INSERT INTO kw.families (id, name, area_id)
SELECT '00000000-0000-4000-8000-000000000711', 'Delivery fixture', area_id
FROM kw.users WHERE email = 'keyworker@example.org';
INSERT INTO kw.episodes (id, family_id, family_name, area_id, keyworker_id,
    lead_agency_id, registered_by, assessment_due, first_taf_meeting_due)
SELECT '00000000-0000-4000-8000-000000000712', '00000000-0000-4000-8000-000000000711',
    'Delivery fixture', u.area_id, u.id, u.agency_id, u.id,
    kw.local_date(now()) + 21, kw.local_date(now()) + 42
FROM kw.users u WHERE u.email = 'keyworker@example.org';
INSERT INTO kw.team_members (episode_id, user_id, level, added_by)
SELECT '00000000-0000-4000-8000-000000000712', t.id, 'full', k.id
FROM kw.users t, kw.users k
WHERE t.agency_id = '00000000-0000-4000-8000-000000000701'
    AND k.email = 'keyworker@example.org';
INSERT INTO kw.webhooks (id, agency_id, url, secret, event_types, created_by)
SELECT '00000000-0000-4000-8000-000000000721', '00000000-0000-4000-8000-000000000701',
    'http://127.0.0.1:$hook_port/hook', 'kws_$secret',
    '{reminder.deadline_due,reminder.deadline_overdue}', id
FROM kw.users WHERE email = 'admin@example.org';" >/dev/null

# due_actions USER N: N actions due today owned by USER (dpN@partner.test).
due_actions() {
	q "INSERT INTO kw.actions (episode_id, what, owner_user_id, measure, due_date, created_by)
	SELECT '00000000-0000-4000-8000-000000000712', 'Action ' || g, o.id, 'Done',
	    kw.today(), k.id
	FROM generate_series(1, $2) g, kw.users o, kw.users k
	WHERE o.email = '$1' AND k.email = 'keyworker@example.org'" >/dev/null
}
# The deliveries of USER's reminders, by channel and status.
deliveries() {
	q "SELECT count(*) FROM kw.deliveries d JOIN kw.notifications n ON n.id = d.notification_id
	JOIN kw.users u ON u.id = n.user_id WHERE u.email = '$1' AND d.channel = '$2'
	    AND d.status = '$3'"
}
event_ids() {
	q "SELECT d.event_id FROM kw.deliveries d JOIN kw.notifications n ON n.id = d.notification_id
	JOIN kw.users u ON u.id = n.user_id WHERE u.email = '$1' AND d.channel = '$2'
	ORDER BY 1"
}
# Message-IDs of the mail received for USER, one per message received.
mail_ids() {
	grep -l "^X-Peer-Rcpt-To: $1" "$tmp/mail"/*.eml 2>/dev/null |
	    xargs -r grep -h '^Message-ID:' | tr -d '\r' | sed 's/Message-ID: <\(.*\)@keywork>/\1/'
}
hook_ids() {
	awk '{print $1}' "$tmp/hooks/accepted.log" 2>/dev/null
}

# --- Two workers at once over 1,000 due reminders ---------------------------
due_actions dp1@partner.test 1000
t0=$(date +%s.%N)
"$BUILD/keywork-worker" --once 2>"$tmp/w1.log" &
w1=$!
"$BUILD/keywork-worker" --once 2>"$tmp/w2.log" &
w2=$!
rc1=0; rc2=0
wait "$w1" || rc1=$?
wait "$w2" || rc2=$?
secs=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t0 }")
event_ids dp1@partner.test email >"$tmp/want_mail"
event_ids dp1@partner.test webhook >"$tmp/want_hooks"
mail_ids dp1@partner.test | sort >"$tmp/got_mail"
hook_ids | sort >"$tmp/got_hooks"
nm=$(wc -l <"$tmp/want_mail"); nh=$(wc -l <"$tmp/want_hooks")
sent_m=$(deliveries dp1@partner.test email sent)
sent_h=$(deliveries dp1@partner.test webhook sent)
if [ "$rc1" = 0 ] && [ "$rc2" = 0 ] && [ "$nm" = 1000 ] && [ "$nh" = 1000 ] &&
    cmp -s "$tmp/want_mail" "$tmp/got_mail" && cmp -s "$tmp/want_hooks" "$tmp/got_hooks" &&
    [ "$sent_m" = 1000 ] && [ "$sent_h" = 1000 ]; then
	pass "two workers at once over 1,000 due reminders: 1,000 emails and 1,000 webhooks, each exactly once (${secs} s)"
else
	fail "two workers: exit $rc1/$rc2; $nm/$nh deliveries; received $(wc -l <"$tmp/got_mail") mails, $(wc -l <"$tmp/got_hooks") webhooks; sent $sent_m/$sent_h"
	tail -n 5 "$tmp/w1.log" "$tmp/w2.log"
fi
both=$(grep -c '"[0-9]* deliveries sent"' "$tmp/w1.log" "$tmp/w2.log" | grep -c ':[1-9]')
[ "$both" = 2 ] && pass "both workers took a share of the work" ||
	fail "only $both of the two workers sent anything"
bad=$(grep -vc ' 204 sig:ok$' "$tmp/hooks/requests.log" || true)
[ "$bad" = 0 ] && pass "every webhook carried a valid signature (the receiver checked each)" ||
	fail "$bad webhook requests were refused by the receiver"
f=$(grep -l "^X-Peer-Rcpt-To: dp1@partner.test" "$tmp/mail"/*.eml | head -n 1)
if grep -q '^X-Peer-TLS: yes' "$f" && grep -q '^X-Peer-Auth: keywork' "$f" &&
    grep -q '^Subject: Due today: an action' "$f" && ! grep -q 'Delivery fixture' "$f"; then
	pass "mail went over STARTTLS with AUTH, says what is due, and names no family"
else
	fail "mail: $(head -c 600 "$f")"
fi
if grep -q '"type":"reminder.deadline_due"' "$tmp/hooks/requests.log" 2>/dev/null ||
    grep -q 'reminder.deadline_due' "$tmp/hooks/accepted.log"; then
	pass "webhook events carry their type"
else
	fail "webhook events: no type"
fi

# --- SIGKILL in the middle of a batch ----------------------------------------
stop_peer hooks
: >"$tmp/hooks/accepted.log"; : >"$tmp/hooks/requests.log"
start_peer hooks tests/peers/webhook_receiver.py --port "$hook_port" \
    --secret "kws_$secret" --dir "$tmp/hooks" --delay-ms 20
due_actions dp2@partner.test 200
q "SELECT kw.plan_reminders(kw.today(), false)" >/dev/null
"$BUILD/keywork-worker" 2>"$tmp/killed.log" &
wk=$!
i=0
while [ "$(hook_ids | wc -l)" -lt 70 ]; do
	i=$((i + 1)); [ "$i" -gt 300 ] && break
	sleep 0.05
done
kill -KILL "$wk"
wait "$wk" 2>/dev/null || true
before=$(hook_ids | wc -l)
claimed=$(q "SELECT count(*) FROM kw.deliveries d JOIN kw.notifications n ON n.id = d.notification_id
    JOIN kw.users u ON u.id = n.user_id WHERE u.email = 'dp2@partner.test'
    AND d.status = 'pending' AND d.claimed_by IS NOT NULL")
"$BUILD/keywork-worker" 2>"$tmp/taker.log" &
wt=$!
pids="$pids $wt"
ok=1
wait_for 40 "SELECT count(*) FROM kw.deliveries d JOIN kw.notifications n ON n.id = d.notification_id
    JOIN kw.users u ON u.id = n.user_id WHERE u.email = 'dp2@partner.test' AND d.status = 'sent'" 200 || ok=0
kill -TERM "$wt"; wait "$wt" 2>/dev/null || true
event_ids dp2@partner.test webhook >"$tmp/want_hooks"
hook_ids | sort >"$tmp/got_all"
sort -u "$tmp/got_all" >"$tmp/got_hooks"
redelivered=$(($(wc -l <"$tmp/got_all") - $(wc -l <"$tmp/got_hooks")))
twice=$(uniq -c "$tmp/got_all" | awk '$1 > 2' | wc -l)
if [ "$ok" = 1 ] && [ "$claimed" -gt 0 ] && cmp -s "$tmp/want_hooks" "$tmp/got_hooks" &&
    [ "$twice" = 0 ] && [ "$redelivered" -le 1 ]; then
	pass "SIGKILL after $before of 200 webhooks, $claimed left claimed: the next worker sent the rest after the lease; none lost, $redelivered re-delivered with its event id"
else
	fail "SIGKILL: done=$ok, $before before the kill, $claimed claimed, $(wc -l <"$tmp/got_hooks") of $(wc -l <"$tmp/want_hooks") distinct received, $redelivered re-delivered, $twice more than twice"
	tail -n 5 "$tmp/taker.log"
fi

# --- An SMTP server that refuses, then recovers -------------------------------
: >"$tmp/refuse"
due_actions dp3@partner.test 20
KEYWORK_DELIVERY_MAX_ATTEMPTS=30 "$BUILD/keywork-worker" 2>"$tmp/refused.log" &
wr=$!
pids="$pids $wr"
i=0
until [ "$(q "SELECT count(*) FROM kw.deliveries d JOIN kw.notifications n ON n.id = d.notification_id
    JOIN kw.users u ON u.id = n.user_id WHERE u.email = 'dp3@partner.test'
    AND d.channel = 'email' AND d.attempts >= 2 AND d.status = 'pending'")" = 20 ]; do
	i=$((i + 1)); [ "$i" -gt 100 ] && break
	sleep 0.1
done
refused=$(mail_ids dp3@partner.test | wc -l)
err=$(q "SELECT DISTINCT last_error FROM kw.deliveries d JOIN kw.notifications n ON n.id = d.notification_id
    JOIN kw.users u ON u.id = n.user_id WHERE u.email = 'dp3@partner.test' AND d.channel = 'email'" | head -n 1)
rm -f "$tmp/refuse"
ok=1
wait_for 30 "SELECT count(*) FROM kw.deliveries d JOIN kw.notifications n ON n.id = d.notification_id
    JOIN kw.users u ON u.id = n.user_id WHERE u.email = 'dp3@partner.test'
    AND d.channel = 'email' AND d.status = 'sent'" 20 || ok=0
kill -TERM "$wr"; wait "$wr" 2>/dev/null || true
event_ids dp3@partner.test email >"$tmp/want_mail"
mail_ids dp3@partner.test | sort >"$tmp/got_mail"
if [ "$i" -le 100 ] && [ "$refused" = 0 ] && [ "$ok" = 1 ] &&
    cmp -s "$tmp/want_mail" "$tmp/got_mail"; then
	pass "an SMTP server refusing (\"$err\") then recovering got all 20 messages, once each, after retries"
else
	fail "refuse then recover: retried=$i, $refused received while refusing, done=$ok, $(wc -l <"$tmp/got_mail") of 20 received"
	tail -n 5 "$tmp/refused.log"
fi

# --- STARTTLS required, the server offers none ---------------------------------
plain_port=$(free_port "${base}026")
start_peer plain tests/peers/smtp_server.py --port "$plain_port" --dir "$tmp/plainmail"
q "UPDATE kw.deliveries SET status = 'sent', sent_at = now() WHERE status = 'pending'" >/dev/null
due_actions dp4@partner.test 1
KEYWORK_SMTP_URL="smtp://127.0.0.1:$plain_port" KEYWORK_SMTP_USERNAME= \
    "$BUILD/keywork-worker" --once 2>"$tmp/plain.log" || true
err=$(q "SELECT last_error FROM kw.deliveries d JOIN kw.notifications n ON n.id = d.notification_id
    JOIN kw.users u ON u.id = n.user_id WHERE u.email = 'dp4@partner.test' AND d.channel = 'email'")
if [ -z "$(ls "$tmp/plainmail")" ] && [ -n "$err" ]; then
	pass "with STARTTLS required, a server without TLS gets nothing (\"$err\")"
else
	fail "STARTTLS: $(ls "$tmp/plainmail" | wc -l) messages sent in clear, error \"$err\""
fi
stop_peer plain

# --- Dead after delivery_max_attempts, and what admins see --------------------
q "UPDATE kw.deliveries SET status = 'sent', sent_at = now() WHERE status = 'pending';
UPDATE kw.webhooks SET url = 'http://127.0.0.1:$hook_port/fail'
WHERE id = '00000000-0000-4000-8000-000000000721'" >/dev/null
due_actions dp4@partner.test 2
KEYWORK_DELIVERY_MAX_ATTEMPTS=3 "$BUILD/keywork-worker" 2>"$tmp/dead.log" &
wd=$!
pids="$pids $wd"
ok=1
wait_for 20 "SELECT count(*) FROM kw.deliveries d JOIN kw.notifications n ON n.id = d.notification_id
    JOIN kw.users u ON u.id = n.user_id WHERE u.email = 'dp4@partner.test'
    AND d.channel = 'webhook' AND d.status = 'dead' AND d.attempts = 3" 2 || ok=0
kill -TERM "$wd"; wait "$wd" 2>/dev/null || true
tries=$(grep -c ' /fail 500 ' "$tmp/hooks/requests.log" || true)
login() {
	curl -fsS -H 'content-type: application/json' \
	    -d "{\"email\":\"$1\",\"password\":\"keywork-demo\"}" "$url/v1/auth/login" |
	    sed 's/.*"access_token":"\([^"]*\)".*/\1/'
}
at=$(login admin@example.org)
curl -fsS -H "Authorization: Bearer $at" "$url/v1/deliveries?status=dead&channel=webhook&limit=200" >"$tmp/dead.json"
seen=$(grep -o '"last_error":"the receiver answered HTTP 500"' "$tmp/dead.json" | wc -l)
if [ "$ok" = 1 ] && [ "$tries" = 6 ] && [ "$seen" -ge 2 ]; then
	pass "a receiver that always fails: dead after 3 attempts each ($tries tries), listed for admins with the last error"
else
	fail "dead: done=$ok, $tries tries (want 6), $seen dead listed"
	tail -n 5 "$tmp/dead.log"
fi
did=$(q "SELECT d.id FROM kw.deliveries d JOIN kw.notifications n ON n.id = d.notification_id
    JOIN kw.users u ON u.id = n.user_id WHERE u.email = 'dp4@partner.test'
    AND d.channel = 'webhook' AND d.status = 'dead' LIMIT 1")
s=$(curl -s -o "$tmp/retry.json" -w '%{http_code}' -X POST -H 'content-length: 0' \
    -H "Authorization: Bearer $at" "$url/v1/deliveries/$did/retry")
if [ "$s" = 200 ] && grep -q '"status":"pending"' "$tmp/retry.json" &&
    grep -q '"attempts":0' "$tmp/retry.json"; then
	pass "an admin puts a dead delivery back (POST /v1/deliveries/{id}/retry)"
else
	fail "retry: $s $(cat "$tmp/retry.json")"
fi
# Leave nothing pending for later tests.
q "UPDATE kw.deliveries SET status = 'dead', dead_at = now(), last_error = 'test over'
WHERE status = 'pending'; UPDATE kw.webhooks SET deleted_at = now()
WHERE id = '00000000-0000-4000-8000-000000000721'" >/dev/null

if grep -h 'smtp-test-pass\|kws_' "$tmp"/*.log; then
	fail "a worker logged a secret"
else
	pass "no worker logged the SMTP password or a webhook secret"
fi

[ "$fails" = 0 ] || { echo "$fails delivery checks failed"; exit 1; }
