# Shared by make bench and make soak (sourced, from the project folder):
# the scale's data set started, migrated, and a Kore server in front of it.
#
#   bench_serve SCALE   loads the data set if need be (scripts/bench-data.sh),
#                       starts its cluster and a server on a free port;
#                       sets dir, tmp, port, kore_pid, DATABASE_URL and
#                       KEYWORK_DATABASE_URL; cleans all up on exit
#   login EMAIL         an access token (every account has the demo password)
#   hash_of TOKEN       its hash, as the API sends it to the database
#   (and free_port, q and on_exit from scripts/lib.sh)
BUILD=${BUILD:-build}
kore_pid=""

. scripts/lib.sh

bench_cleanup() {
	[ -n "$kore_pid" ] && kill -TERM "$kore_pid" 2>/dev/null && wait "$kore_pid" 2>/dev/null
	kore_pid=""
	scripts/pg.sh stop "$dir"
	rm -rf "$tmp"
}

bench_serve() {
	scripts/bench-data.sh "$1"
	dir=$(scripts/bench-data.sh --dir "$1")
	tmp=$(mktemp -d /tmp/keywork-bench.XXXXXX)
	chmod 755 "$tmp"
	on_exit bench_cleanup
	# Stopped first: a cluster left running keeps its old port.
	scripts/pg.sh stop "$dir" 2>/dev/null || true
	scripts/pg.sh start "$dir" "$(free_port 36432)"
	set -a
	. "$dir/keywork.env"
	set +a
	# New migrations since the data was loaded, if any.
	"$BUILD/keywork-admin" migrate >/dev/null

	port=$(free_port 38888)
	# Rate limits as high as they go: wrk, from one address with one
	# token, would be refused otherwise, and the limiter's cost stays in
	# the figures. Tokens that outlive a soak.
	export KEYWORK_PORT=$port KEYWORK_MODULE_PATH="$BUILD/keywork.so" \
		KEYWORK_DOCS_DIR="$BUILD/docs" KEYWORK_PID_FILE="$tmp/kore.pid" \
		KEYWORK_ACCESS_TOKEN_TTL=7200 \
		KEYWORK_RATE_LIMIT_PER_ADDRESS=60000000 KEYWORK_RATE_LIMIT_ADDRESS_BURST=1000000 \
		KEYWORK_RATE_LIMIT_PER_TOKEN=60000000 KEYWORK_RATE_LIMIT_TOKEN_BURST=1000000
	# The reference route goes before the catch-all, in this run's config
	# only.
	"$BUILD/keywork-admin" kore-conf |
		sed 's|^\troute ^/\.\*\$ kw_http_dispatch|\troute ^/_bench/bare$ kw_bench_bare\n&|' \
		>"$tmp/kore.conf"
	kore -c "$tmp/kore.conf" -f -n -r >"$tmp/server.log" 2>&1 &
	kore_pid=$!
	i=0
	until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
		i=$((i + 1)); [ "$i" -gt 100 ] && { cat "$tmp/server.log"; exit 1; }
		sleep 0.1
	done
	curl -fsS "http://127.0.0.1:$port/_bench/bare" >/dev/null
}

login() {
	curl -fsS -H 'content-type: application/json' \
		-d "{\"email\":\"$1\",\"password\":\"keywork-demo\"}" \
		"http://127.0.0.1:$port/v1/auth/login" | sed 's/.*"access_token":"\([^"]*\)".*/\1/'
}

hash_of() { printf '%s' "$1" | sha256sum | cut -c1-64; }
