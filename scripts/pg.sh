#!/bin/sh
# A PostgreSQL 15 cluster of keywork's own, in a folder of its own.
#
#   scripts/pg.sh start DIR PORT   create (first time) and start the cluster;
#                                  writes DIR/keywork.env with DATABASE_URL
#                                  (owner, for migrations) and
#                                  KEYWORK_DATABASE_URL (the API's role)
#   scripts/pg.sh stop DIR         stop it (fast shutdown)
#
# PG_CONF_EXTRA, if set when the cluster is created, is appended to its
# postgresql.conf (make bench-data sizes memory for its data set this way).
#
# PostgreSQL refuses to run as root, so as root the server runs as the
# 'postgres' system user, which owns DIR/data.
set -eu

PGBIN=/usr/lib/postgresql/15/bin
cmd=${1:?usage: pg.sh start DIR PORT | stop DIR}
dir=${2:?cluster folder}
data="$dir/data"

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case "$cmd" in
start)
	port=${3:?port}
	mkdir -p "$dir"
	if [ ! -f "$data/PG_VERSION" ]; then
		mkdir -p "$data" "$dir/run"
		[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$data" "$dir/run"
		chmod 700 "$data"
		owner_pw=$(openssl rand -hex 16)
		api_pw=$(openssl rand -hex 16)
		as_pg "$PGBIN/initdb" -D "$data" -U postgres -A peer --auth-host=scram-sha-256 \
			-E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
		cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$(cd "$dir/run" && pwd)'
timezone = 'UTC'
fsync = on
max_connections = 200
shared_buffers = 256MB
log_min_messages = warning
${PG_CONF_EXTRA:-}
CONF
		# The server reads this from DIR/env after start.
		umask 077
		printf 'OWNER_PW=%s\nAPI_PW=%s\n' "$owner_pw" "$api_pw" >"$dir/secrets"
		umask 022
		fresh=1
	else
		fresh=0
		sed -i "s/^port = .*/port = $port/" "$data/postgresql.conf"
	fi
	if ! as_pg "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		if ! as_pg "$PGBIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null; then
			echo "pg.sh: PostgreSQL did not start; its log says:" >&2
			tail -n 20 "$data/server.log" >&2
			exit 1
		fi
	fi
	. "$dir/secrets"
	sock=$(cd "$dir/run" && pwd)
	if [ "$fresh" -eq 1 ]; then
		as_pg psql -X -q -h "$sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 <<SQL
CREATE ROLE keywork LOGIN CREATEROLE PASSWORD '$OWNER_PW';
CREATE ROLE keywork_api LOGIN NOBYPASSRLS PASSWORD '$API_PW';
ALTER ROLE keywork_api SET statement_timeout = '10s';
ALTER ROLE keywork_api SET timezone = 'UTC';
CREATE DATABASE keywork OWNER keywork;
SQL
	fi
	cat >"$dir/keywork.env" <<ENV
DATABASE_URL='postgresql://keywork:$OWNER_PW@127.0.0.1:$port/keywork'
KEYWORK_DATABASE_URL='host=127.0.0.1 port=$port dbname=keywork user=keywork_api password=$API_PW'
ENV
	chmod 600 "$dir/keywork.env"
	;;
stop)
	if [ -f "$data/PG_VERSION" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	;;
*)
	echo "usage: pg.sh start DIR PORT | stop DIR" >&2
	exit 2
	;;
esac
