#!/bin/sh
# keywork container entrypoint.
#   serve     render Kore's configuration from the settings and run the API
#   migrate   apply sql/migrations (needs DATABASE_URL, the schema owner)
#   worker    the scheduled worker (needs DATABASE_URL, the schema owner)
#   admin ... any keywork-admin command
set -eu
cmd=${1:-serve}
[ $# -gt 0 ] && shift
case "$cmd" in
serve)
	build/keywork-admin kore-conf >var/kore.conf
	# Foreground; the container is the sandbox boundary for chroot and user.
	exec kore -c var/kore.conf -f -n -r
	;;
migrate)
	exec build/keywork-admin migrate
	;;
worker)
	exec build/keywork-worker "$@"
	;;
admin)
	exec build/keywork-admin "$@"
	;;
*)
	exec "$cmd" "$@"
	;;
esac
