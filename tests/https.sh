#!/bin/sh
# HTTPS through nginx in front of the test server, run by scripts/test.sh
# after the integration tests. It needs: the server's URL in $1, a folder
# of its own in $2, DATABASE_URL (the owner) and KEYWORK_TEST_SERVER_LOG
# (the server's log) exported, and the server started with
# KEYWORK_TRUSTED_PROXIES=127.0.0.1.
#
# A throwaway CA signs a certificate for 127.0.0.1; nginx runs with the
# project's configuration (docker/nginx-entrypoint.sh writes it from
# conf/nginx/keywork.conf.in) on free loopback ports, in front of the test
# server. curl, trusting that CA only, then checks what a client gets
# (answers, HTTP/2, TLS versions, HSTS, limits) and the server's log and
# database what keywork saw (request id, client address).
set -eu
. "$(dirname "$0")/../scripts/lib.sh"
url=${1:?server url}
dir=${2:?a folder for the test files}
: "${DATABASE_URL:?DATABASE_URL (the owner) must be set}"
: "${KEYWORK_TEST_SERVER_LOG:?KEYWORK_TEST_SERVER_LOG must be set}"
cd "$(dirname "$0")/.."

# Clients from loopback addresses of their own: the server sees nginx
# (127.0.0.1) as the peer of every proxied request.
client=127.0.20.1
other=127.0.20.2
# document_max_bytes and nginx's client_max_body_size (10304k).
doc_max=10485760
nginx_max=$((10304 * 1024))

fails=0
nginx_pid=""
pass() { echo "ok - $1"; }
fail() { echo "FAIL - $1"; fails=$((fails + 1)); }
# A fresh id: hex, so that it is a valid X-Request-Id and a safe pattern.
fresh() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }
stop_nginx() {
	[ -n "$nginx_pid" ] || return 0
	kill -TERM "$nginx_pid" 2>/dev/null || true
	wait "$nginx_pid" 2>/dev/null || true
	nginx_pid=""
}
on_exit stop_nginx

mkdir -p "$dir"
chmod 755 "$dir"

# --- A throwaway CA and a certificate it signs -----------------------------

(
	cd "$dir"
	umask 077
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -days 2 -subj "/CN=keywork test CA" -keyout ca.key -out ca.pem \
	    -addext "basicConstraints=critical,CA:true" \
	    -addext "keyUsage=critical,keyCertSign" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
	printf '%s\n' "subjectAltName=IP:127.0.0.1" \
	    "extendedKeyUsage=serverAuth" >server.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -days 2 -extfile server.ext -out server.pem 2>/dev/null
)

# --- nginx -----------------------------------------------------------------

https_port=$(free_port "${TEST_PORT_BASE:-28}443")
http_port=$(free_port "${TEST_PORT_BASE:-28}080")
export NGINX_TEMPLATE=conf/nginx/keywork.conf.in NGINX_CONF="$dir/nginx.conf" \
    NGINX_PREFIX="$dir/nginx/" \
    NGINX_HTTPS_LISTEN="127.0.0.1:$https_port" \
    NGINX_HTTP_LISTEN="127.0.0.1:$http_port" \
    NGINX_CERT="$dir/server.pem" NGINX_KEY="$dir/server.key" \
    NGINX_ACCESS_LOG="$dir/access.log" NGINX_ERROR_LOG="$dir/error.log"
base="https://127.0.0.1:$https_port"
c() { curl -sS --max-time 10 --cacert "$dir/ca.pem" "$@"; }

# nginx in front of $1 (host:port), up when it answers over HTTPS.
start_nginx() {
	NGINX_UPSTREAM=$1 docker/nginx-entrypoint.sh >>"$dir/nginx.out" 2>&1 &
	nginx_pid=$!
	i=0
	until c -o /dev/null "$base/" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt 100 ] || ! kill -0 "$nginx_pid" 2>/dev/null; then
			echo "nginx did not start:"
			cat "$dir/nginx.out" "$dir/error.log" 2>/dev/null
			exit 1
		fi
		sleep 0.1
	done
}
start_nginx "${url#http://}"

# --- What a client gets ----------------------------------------------------

out=$(c -D "$dir/h.txt" -w '%{http_code} %{http_version}' -o "$dir/b.json" \
    --http2 "$base/healthz") || true
if [ "$out" = "200 2" ] && [ "$(jq -r .status "$dir/b.json")" = ok ] &&
    grep -qi '^content-type: application/json' "$dir/h.txt"; then
	pass "GET /healthz over HTTPS, HTTP/2 negotiated"
else
	fail "GET /healthz over HTTP/2: $out $(cat "$dir/b.json")"
fi

out=$(c -o /dev/null -w '%{http_code} %{http_version}' --http1.1 "$base/healthz") || true
[ "$out" = "200 1.1" ] && pass "HTTP/1.1 clients are served too" ||
	fail "HTTP/1.1: $out"

rc=0
curl -sS --max-time 10 -o /dev/null "$base/healthz" 2>/dev/null || rc=$?
[ "$rc" = 60 ] && pass "a client that does not trust the test CA refuses the certificate" ||
	fail "without the test CA: curl exit $rc (want 60)"

out=$(c -o /dev/null -w '%{http_code}' --tlsv1.3 --tls-max 1.3 "$base/healthz" 2>&1) || true
[ "$out" = 200 ] && pass "TLS 1.3 is accepted" || fail "TLS 1.3: $out"
out=$(c -o /dev/null -w '%{http_code}' --tlsv1.2 --tls-max 1.2 "$base/healthz" 2>&1) || true
[ "$out" = 200 ] && pass "TLS 1.2 is accepted" || fail "TLS 1.2: $out"
# The client offers TLS 1.0 and 1.1 with every cipher it has (security
# level 0), so a refusal is the server's (the same client gets through to
# an nginx that allows them): exit 35 is a failed handshake.
for v in 1.0 1.1; do
	rc=0
	c -o /dev/null --tlsv1.0 --tls-max "$v" --ciphers 'DEFAULT:@SECLEVEL=0' \
	    "$base/healthz" 2>/dev/null || rc=$?
	[ "$rc" = 35 ] && pass "TLS $v is refused in the handshake" ||
		fail "TLS $v: curl exit $rc (want 35)"
done
if grep -qi '^strict-transport-security: max-age=63072000' "$dir/h.txt"; then
	pass "HSTS header (two years)"
else
	fail "no Strict-Transport-Security header: $(cat "$dir/h.txt")"
fi

out=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{redirect_url}' \
    "http://127.0.0.1:$http_port/healthz?x=1") || true
[ "$out" = "301 https://127.0.0.1/healthz?x=1" ] &&
	pass "plain HTTP is redirected to HTTPS" || fail "plain HTTP: $out"

# --- Sign-in through nginx: the request id reaches keywork -----------------

rid="https-$(fresh)"
out=$(c --interface "$client" -D "$dir/h.txt" -o "$dir/login.json" -w '%{http_code}' \
    -H "X-Request-Id: $rid" -H 'content-type: application/json' \
    -d '{"email":"keyworker@example.org","password":"keywork-demo"}' \
    "$base/v1/auth/login") || true
tok=$(jq -r '.access_token // empty' "$dir/login.json")
[ "$out" = 200 ] && [ -n "$tok" ] && pass "sign-in through HTTPS" ||
	fail "sign-in: $out $(cat "$dir/login.json")"
n=$(grep -ci '^x-request-id:' "$dir/h.txt" || true)
if [ "$n" = 1 ] && grep -qi "^x-request-id: $rid" "$dir/h.txt"; then
	pass "the client's X-Request-Id comes back, once"
else
	fail "X-Request-Id in the answer ($n headers): $(grep -i '^x-request-id' "$dir/h.txt")"
fi
if grep "\"request_id\":\"$rid\"" "$KEYWORK_TEST_SERVER_LOG" |
    grep -q '"operation_id":"login"'; then
	pass "keywork logged the sign-in under the client's request id"
else
	fail "no line with request id $rid in the server log"
fi

out=$(c -o "$dir/me.json" -w '%{http_code} %{http_version}' --http2 \
    -H "Authorization: Bearer $tok" "$base/v1/me") || true
[ "$out" = "200 2" ] && [ "$(jq -r .email "$dir/me.json")" = keyworker@example.org ] &&
	pass "GET /v1/me with the token, over HTTP/2" ||
	fail "GET /v1/me: $out $(cat "$dir/me.json")"

# An id keywork would not echo is replaced by nginx's own, which keywork
# then logs: one id from nginx's access log to keywork's.
c -D "$dir/h.txt" -o /dev/null -H 'X-Request-Id: not a valid id!' "$base/healthz" || true
nid=$(sed -n 's/^[Xx]-[Rr]equest-[Ii][Dd]: \([0-9a-f]\{32\}\)\r*$/\1/p' "$dir/h.txt")
if [ -n "$nid" ] && grep -q "\"request_id\":\"$nid\"" "$KEYWORK_TEST_SERVER_LOG" &&
    grep -q "rid=$nid " "$dir/access.log"; then
	pass "a bad X-Request-Id is replaced by nginx's, in both logs"
else
	fail "bad X-Request-Id: answer has '$nid'"
fi

# --- The client's address --------------------------------------------------

# A failed sign-in is recorded with the address keywork believes.
failed_from() {
	email="https-$(fresh)@nowhere.example.org"
	curl -sS --max-time 10 --cacert "$dir/ca.pem" -o /dev/null "$@" \
	    -H 'content-type: application/json' \
	    -d "{\"email\":\"$email\",\"password\":\"not-the-password\"}" || true
	q "SELECT string_agg(address, ',') FROM kw.login_failures WHERE email = '$email'"
}
a=$(failed_from --interface "$client" -H 'X-Forwarded-For: 203.0.113.7' \
    -H 'X-Real-IP: 203.0.113.7' "$base/v1/auth/login")
[ "$a" = "$client" ] &&
	pass "through nginx keywork records the client's address, not a forged X-Forwarded-For" ||
	fail "through nginx, recorded '$a' (want $client)"
a=$(failed_from --interface "$other" -H 'X-Forwarded-For: 203.0.113.8' "$url/v1/auth/login")
[ "$a" = "$other" ] &&
	pass "from a peer not in trusted_proxies X-Forwarded-For is ignored" ||
	fail "direct from $other, recorded '$a' (want $other)"
a=$(failed_from --interface 127.0.0.1 -H 'X-Forwarded-For: 203.0.113.9, 198.51.100.4' \
    "$url/v1/auth/login")
[ "$a" = 198.51.100.4 ] &&
	pass "from a trusted proxy the last X-Forwarded-For entry is the client" ||
	fail "from trusted 127.0.0.1, recorded '$a' (want 198.51.100.4)"

# --- Bodies: nginx passes what keywork accepts -----------------------------

# A chunked body (no Content-Length, which Kore refuses with 411) reaches
# keywork whole: nginx buffers it.
out=$(c -o "$dir/login.json" -w '%{http_code}' --http1.1 -H 'Transfer-Encoding: chunked' \
    -H 'content-type: application/json' \
    -d '{"email":"keyworker@example.org","password":"keywork-demo"}' \
    "$base/v1/auth/login") || true
[ "$out" = 200 ] && pass "a chunked request body reaches keywork" ||
	fail "chunked body: $out $(cat "$dir/login.json")"

ep=$(c -H "Authorization: Bearer $tok" "$base/v1/episodes?limit=1" | jq -r '.items[0].id // empty')
up() {
	head -c "$1" /dev/zero | tr '\0' 'a' >"$dir/upload.txt"
	c -o "$dir/up.json" -D "$dir/h.txt" -w '%{http_code}' -H "Authorization: Bearer $tok" \
	    -H 'content-type: text/plain' --data-binary "@$dir/upload.txt" \
	    "$base/v1/episodes/$ep/documents?filename=https-check.txt" || true
}
if [ -z "$ep" ]; then
	fail "the keyworker has no episode to upload to"
else
	out=$(up "$doc_max")
	[ "$out" = 201 ] && [ "$(jq -r .size_bytes "$dir/up.json")" = "$doc_max" ] &&
		pass "an upload of document_max_bytes passes nginx and is stored" ||
		fail "upload of $doc_max bytes: $out $(head -c 300 "$dir/up.json")"
	out=$(up $((doc_max + 1)))
	r=$(sed -n 's/^[Xx]-[Rr]equest-[Ii][Dd]: \([^\r]*\)\r*$/\1/p' "$dir/h.txt")
	if [ "$out" = 413 ] && grep -qi '^content-type: application/problem+json' "$dir/h.txt" &&
	    grep -q "\"request_id\":\"$r\"" "$KEYWORK_TEST_SERVER_LOG"; then
		pass "one byte more is keywork's own 413"
	else
		fail "upload of $((doc_max + 1)) bytes: $out $(head -c 300 "$dir/up.json")"
	fi
	out=$(up $((nginx_max + 1)))
	if [ "$out" = 413 ] && [ "$(jq -r .type "$dir/up.json")" = \
	    urn:keywork:problem:content-too-large ] &&
	    grep -qi '^strict-transport-security:' "$dir/h.txt"; then
		pass "past client_max_body_size nginx answers 413 as problem+json"
	else
		fail "upload of $((nginx_max + 1)) bytes: $out $(head -c 300 "$dir/up.json")"
	fi
	rm -f "$dir/upload.txt"
fi

# --- Kore not answering ----------------------------------------------------

stop_nginx
start_nginx "127.0.0.1:$(free_port "${TEST_PORT_BASE:-28}999")"
out=$(c -D "$dir/h.txt" -o "$dir/b.json" -w '%{http_code}' "$base/healthz") || true
if [ "$out" = 503 ] && [ "$(jq -r .type "$dir/b.json")" = urn:keywork:problem:unavailable ] &&
    grep -qi '^x-request-id: [0-9a-f]\{32\}' "$dir/h.txt"; then
	pass "with Kore down nginx answers 503 as problem+json, with a request id"
else
	fail "Kore down: $out $(cat "$dir/b.json")"
fi

# --- nginx itself ----------------------------------------------------------

if grep -E '\[(emerg|alert|crit)\]' "$dir/error.log" "$dir/nginx.out"; then
	fail "nginx logged an emergency, alert or critical error"
else
	pass "nginx's error log has no emergency, alert or critical error"
fi
stop_nginx

[ "$fails" = 0 ] || { echo "$fails HTTPS checks failed"; exit 1; }
echo "all HTTPS checks passed"
