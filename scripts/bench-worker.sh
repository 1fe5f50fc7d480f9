#!/bin/sh
# The scheduled worker's pass, run by make bench on its loaded database
# (DATABASE_URL: the owner; BUILD set): for N in BENCH_REMINDERS (default
# "10000 100000"), N actions fall due today on open episodes, and one pass
# of keywork-worker --once (in-app channel: no SMTP, no webhooks) writes
# their N reminders. Printed per N: the pass's wall time, reminders per
# second, and the ratio to a reference measured in the same run: a plain
# INSERT of N rows of the same shape with the same unique key, the
# database's own ceiling for writing them. Then a later pass with nothing
# changed (what every pass costs for the rest of the day), and the first
# pass of a day (every open episode planned again, the N reminders among
# them already written, and the day's retention check; kw.plan_state's and
# kw.erase_state's days cleared to make it one). The
# actions and reminders of one N are removed before the next.
# Inserting the N actions leaves N audit entries to seal: they are sealed
# (kw.audit_seal, as the worker's pass does) before the timed pass, and
# that sealing is timed on its own.
set -eu
. "$(dirname "$0")/../scripts/lib.sh"
BUILD=${BUILD:-build}
sizes=${BENCH_REMINDERS:-10000 100000}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

# Everything already due is written first, so each timed pass writes
# exactly its N.
KEYWORK_SMTP_URL= "$BUILD/keywork-worker" --once 2>/dev/null
q "CREATE TABLE IF NOT EXISTS bench_reminders (LIKE kw.notifications INCLUDING ALL)" >/dev/null
open=$(q "SELECT count(*) FROM kw.episodes WHERE status <> 'closed'")

echo
echo "keywork-worker pass (in-app channel), $open open episodes:"
echo
echo "| reminders due | pass (s) | reminders/s | reference INSERT (s) | ratio to reference | later pass, nothing changed (s) | first pass of a day (s) | sealing N audit entries (s) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in $sizes; do
	q "WITH e AS (SELECT id, keyworker_id, row_number() OVER (ORDER BY id) - 1 AS i
	    FROM kw.episodes WHERE status <> 'closed')
	INSERT INTO kw.actions (episode_id, what, owner_user_id, measure, due_date, created_by)
	SELECT e.id, 'Bench action', e.keyworker_id, 'Done', kw.today(), e.keyworker_id
	FROM generate_series(1, $n) g JOIN e ON e.i = g % $open" >/dev/null
	q "VACUUM ANALYZE kw.actions" >/dev/null
	t=$(now)
	q "DO \$\$ BEGIN WHILE kw.audit_seal(5000) = 5000 LOOP END LOOP; END \$\$" >/dev/null
	seal=$(since "$t")
	t=$(now)
	KEYWORK_SMTP_URL= "$BUILD/keywork-worker" --once 2>"$BUILD/bench-worker.log"
	pass=$(since "$t")
	got=$(q "SELECT count(*) FROM kw.notifications n JOIN kw.actions a ON a.id = n.subject_id
	    WHERE a.what = 'Bench action'")
	[ "$got" = "$n" ] || { echo "bench-worker: the pass wrote $got of $n reminders" >&2; exit 1; }
	t=$(now)
	KEYWORK_SMTP_URL= "$BUILD/keywork-worker" --once 2>/dev/null
	idle=$(since "$t")
	q "UPDATE kw.plan_state SET planned_on = NULL; UPDATE kw.erase_state SET checked_on = NULL" >/dev/null
	t=$(now)
	KEYWORK_SMTP_URL= "$BUILD/keywork-worker" --once 2>/dev/null
	daily=$(since "$t")
	# The reference: the same rows written by a plain INSERT, unique key and
	# indexes as kw.notifications, no rules evaluated.
	q "TRUNCATE bench_reminders" >/dev/null
	t=$(now)
	q "INSERT INTO bench_reminders (user_id, rule, dedupe_key, episode_id, deadline_kind,
	    subject_id, due)
	SELECT n.user_id, n.rule, n.dedupe_key || ':ref', n.episode_id, n.deadline_kind,
	    n.subject_id, n.due
	FROM kw.notifications n JOIN kw.actions a ON a.id = n.subject_id
	WHERE a.what = 'Bench action'
	ON CONFLICT (dedupe_key) DO NOTHING" >/dev/null
	ref=$(since "$t")
	awk -v n="$n" -v p="$pass" -v r="$ref" -v i="$idle" -v f="$daily" -v s="$seal" 'BEGIN {
		printf "| %d | %.2f | %.0f | %.2f | %.3f | %.2f | %.2f | %.2f |\n", n, p, n / p, r, r / p, i, f, s }'
	q "DELETE FROM kw.notifications n USING kw.actions a
	WHERE a.id = n.subject_id AND a.what = 'Bench action';
	DELETE FROM kw.actions WHERE what = 'Bench action'" >/dev/null
	q "DO \$\$ BEGIN WHILE kw.audit_seal(5000) = 5000 LOOP END LOOP; END \$\$" >/dev/null
done
q "DROP TABLE bench_reminders" >/dev/null
echo
echo "ratio to reference: the plain INSERT's time over the pass's (1.0: the pass costs"
echo "no more than writing its rows); the rate should hold from the smallest N to the"
echo "largest."
