#!/bin/sh
# make run: a local keywork on http://127.0.0.1:8888.
#
# Without DATABASE_URL, starts keywork's own PostgreSQL cluster in var/pg
# (port 5499), migrates it, loads the demo data and serves in demo mode.
# With DATABASE_URL (the schema owner, for migrations) and
# KEYWORK_DATABASE_URL (the API's role), uses that database instead.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
own_pg=0

if [ -z "${DATABASE_URL:-}" ]; then
	scripts/pg.sh start var/pg "${KEYWORK_PG_PORT:-5499}"
	set -a
	. var/pg/keywork.env
	set +a
	export KEYWORK_DEMO_MODE=${KEYWORK_DEMO_MODE:-yes}
	own_pg=1
fi
: "${KEYWORK_DATABASE_URL:?set KEYWORK_DATABASE_URL to the API role\'s connection}"
export KEYWORK_DATABASE_URL
export KEYWORK_MODULE_PATH=${KEYWORK_MODULE_PATH:-$BUILD/keywork.so}
export KEYWORK_DOCS_DIR=${KEYWORK_DOCS_DIR:-$BUILD/docs}
# GET /metrics on an internal listener of its own (loopback).
export KEYWORK_METRICS_PORT=${KEYWORK_METRICS_PORT:-8889}

"$BUILD/keywork-admin" migrate
if [ "${KEYWORK_DEMO_MODE:-no}" = yes ]; then
	"$BUILD/keywork-admin" seed-demo
fi
mkdir -p var
"$BUILD/keywork-admin" kore-conf >var/kore.conf

kore -c var/kore.conf -f -n -r &
kore_pid=$!
# The scheduled worker beside it (reminders into GET /v1/notifications).
"$BUILD/keywork-worker" &
worker_pid=$!
stop() {
	kill -TERM "$kore_pid" "$worker_pid" 2>/dev/null || true
	wait "$kore_pid" 2>/dev/null || true
	wait "$worker_pid" 2>/dev/null || true
	[ "$own_pg" -eq 1 ] && scripts/pg.sh stop var/pg
	exit 0
}
trap stop INT TERM
echo "keywork: serving on http://127.0.0.1:${KEYWORK_PORT:-8888}, metrics on" \
    "http://127.0.0.1:$KEYWORK_METRICS_PORT/metrics (Ctrl-C stops)" >&2
wait "$kore_pid" || true
kill -TERM "$worker_pid" 2>/dev/null || true
wait "$worker_pid" 2>/dev/null || true
[ "$own_pg" -eq 1 ] && scripts/pg.sh stop var/pg
