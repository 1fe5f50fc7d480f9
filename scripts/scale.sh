#!/bin/sh
# make explain: row-level security at national scale. A throwaway
# PostgreSQL, migrated, loaded as the owner with tests/perf/load.sql
# (EPISODES, default 100,000 episodes and 1,000,000 notes), then
# tests/perf/explain.sql: EXPLAIN ANALYZE of the statements behind the
# episode list (keyworker, line manager, coordinator), the notes list and
# GET one episode, run as keywork_api with each identity, and the api.*
# functions timed. The output goes to stdout and to EXPLAIN_OUT
# ($BUILD/explain.txt). Fails if a plan reads a case table sequentially,
# runs an InitPlan (a kw.my_* look-up) more than once, or filters away more
# than 1,000 rows in one node, or if api.list_episodes pages differently
# from the plain ordered scan under the policy.
#
#   EPISODES (100000)  EXPLAIN_OUT ($BUILD/explain.txt)
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh
BUILD=${BUILD:-build}
episodes=${EPISODES:-100000}
out=${EXPLAIN_OUT:-$BUILD/explain.txt}
tmp=$(mktemp -d /tmp/keywork-scale.XXXXXX)
chmod 755 "$tmp"
cleanup() {
	scripts/pg.sh stop "$tmp/pg"
	rm -rf "$tmp"
}
on_exit cleanup

scripts/pg.sh start "$tmp/pg" "$(free_port 37432)"
set -a
. "$tmp/pg/keywork.env"
set +a
"$BUILD/keywork-admin" migrate >/dev/null

echo "== loading $episodes episodes (tests/perf/load.sql)"
start=$(date +%s)
psql -X -q -v ON_ERROR_STOP=1 -v episodes="$episodes" "$DATABASE_URL" \
	-f tests/perf/load.sql
echo "loaded in $(($(date +%s) - start)) s"

echo "== plans (tests/perf/explain.sql), also in $out"
mkdir -p "$(dirname "$out")"
if ! psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -f tests/perf/explain.sql \
	>"$out" 2>&1; then
	cat "$out"
	exit 1
fi
cat "$out"

echo
echo "== checks"
fails=0
# (A plan may hold one that never runs: a partner system's arm of
# kw.my_episodes, behind a one-time filter on the role.)
if grep -nE "Seq Scan on (episodes|notes|members|team_members|families|consents)" "$out" |
	grep -v "never executed"; then
	echo "FAILED - a case table is read sequentially"
	fails=$((fails + 1))
else
	echo "ok - no sequential scan of a case table"
fi
# The line after "InitPlan N (returns $m)" is the node it runs: once, or
# never when the policy's earlier arm already decided.
bad=$(awk 'init && !/loops=1\)/ && !/never executed/ { print FILENAME ":" NR ": " $0 }
	{ init = /InitPlan [0-9]+ \(returns/ }' "$out")
if [ -n "$bad" ]; then
	echo "$bad"
	echo "FAILED - an InitPlan ran more than once"
	fails=$((fails + 1))
else
	echo "ok - every InitPlan ran at most once ($(grep -c 'InitPlan [0-9]* (returns' "$out") InitPlans)"
fi
bad=$(awk '/Rows Removed by (Filter|Index Recheck):/ && $NF > 1000 { print FILENAME ":" NR ": " $0 }' "$out")
if [ -n "$bad" ]; then
	echo "$bad"
	echo "FAILED - a node filtered away more than 1,000 rows"
	fails=$((fails + 1))
else
	echo "ok - no node filtered away more than 1,000 rows"
fi
n=$(grep -c "ok - .*: pages 1 to 3 as the plain scan" "$out" || true)
if [ "$n" -eq 4 ]; then
	echo "ok - api.list_episodes pages as the plain ordered scan (4 callers, 3 pages each)"
else
	echo "FAILED - api.list_episodes was not checked against the plain ordered scan"
	fails=$((fails + 1))
fi
[ "$fails" -eq 0 ]
