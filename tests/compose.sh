#!/bin/sh
# docker-compose.yml and the nginx container's start-up, without a Docker
# engine; run by scripts/test.sh with a folder of its own in $1.
#
#   - docker-compose accepts the file, and in the configuration it resolves
#     nginx is the only published service (443, and 80 that redirects),
#     built from the Dockerfile's proxy stage, at the one address the API
#     believes X-Forwarded-For from;
#   - docker/nginx-entrypoint.sh with the container's settings makes a
#     self-signed certificate on first start, keeps it on the next, and
#     nginx -t accepts the configuration it writes.
set -eu
dir=${1:?a folder for the test files}
cd "$(dirname "$0")/.."
fails=0
pass() { echo "ok - $1"; }
fail() { echo "FAIL - $1"; fails=$((fails + 1)); }
mkdir -p "$dir"

if ! command -v docker-compose >/dev/null 2>&1; then
	# scripts/deps.sh installs it as root; only a run without it skips.
	echo "skipped: docker-compose is not installed (scripts/deps.sh installs it)"
else
	if POSTGRES_PASSWORD=pw-db KEYWORK_OWNER_PASSWORD=pw-owner \
	    KEYWORK_API_PASSWORD=pw-api \
	    docker-compose -f docker-compose.yml config >"$dir/compose.yml" 2>"$dir/compose.err"; then
		pass "docker-compose config accepts docker-compose.yml"
	else
		fail "docker-compose config: $(cat "$dir/compose.err")"
	fi
	# docker-compose runs on a Python that has PyYAML: read its answer there.
	py=$(sed -n '1s/^#! *//p' "$(command -v docker-compose)")
	if ! "$py" - "$dir/compose.yml" <<'EOF'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
s = c["services"]
bad = []
def check(ok, what):
    print(("ok - " if ok else "FAIL - ") + what)
    if not ok:
        bad.append(what)
published = sorted(n for n, v in s.items() if v.get("ports"))
check(published == ["nginx"], "only nginx is published (%s)" % published)
ng = s.get("nginx", {})
ports = sorted((int(p["published"]), int(p["target"])) for p in ng.get("ports", []))
check(ports == [(80, 80), (443, 443)], "nginx publishes 443 and 80 (%s)" % ports)
check(ng.get("build", {}).get("target") == "proxy",
      "nginx is the Dockerfile's proxy stage")
check(ng.get("environment", {}).get("NGINX_UPSTREAM") == "api:8888",
      "nginx passes requests to the API")
check(any(v.endswith(":/etc/keywork/tls:rw") or v.endswith(":/etc/keywork/tls")
          for v in ng.get("volumes", [])),
      "the certificate lives in a volume")
addr = ng.get("networks", {}).get("default", {}).get("ipv4_address")
api = s.get("api", {}).get("environment", {})
check(addr is not None and api.get("KEYWORK_TRUSTED_PROXIES") == addr,
      "the API trusts X-Forwarded-For from nginx's address only (%s)" % addr)
check(api.get("KEYWORK_LISTEN") == "0.0.0.0", "the API listens on the network")
sys.exit(1 if bad else 0)
EOF
	then
		fails=$((fails + 1))
	fi
	grep -q '^FROM debian:12-slim AS proxy$' Dockerfile &&
		pass "the Dockerfile has the proxy stage" || fail "no proxy stage in the Dockerfile"
fi

# The container's start-up, with its settings but for paths and the
# upstream (nginx -t resolves it; "api" exists only in compose).
run() {
	NGINX_TEMPLATE=conf/nginx/keywork.conf.in NGINX_CONF="$dir/nginx.conf" \
	    NGINX_PREFIX="$dir/nginx/" NGINX_TLS_DIR="$dir/tls" \
	    NGINX_UPSTREAM=127.0.0.1:8888 NGINX_SERVER_NAME=keywork.example \
	    NGINX_ACCESS_LOG="$dir/access.log" NGINX_ERROR_LOG="$dir/error.log" \
	    docker/nginx-entrypoint.sh -t >"$dir/run.out" 2>&1
}
fp() { openssl x509 -in "$dir/tls/cert.pem" -noout -fingerprint -sha256 2>/dev/null; }
if run && grep -q "test is successful" "$dir/run.out"; then
	pass "the entrypoint writes a configuration nginx -t accepts"
else
	fail "entrypoint: $(cat "$dir/run.out")"
fi
subj=$(openssl x509 -in "$dir/tls/cert.pem" -noout -subject -ext subjectAltName 2>/dev/null | tr -d '\n ')
mode=$(stat -c %a "$dir/tls/key.pem" 2>/dev/null || true)
if [ "$subj" = "subject=CN=keywork.exampleX509v3SubjectAlternativeName:DNS:keywork.example" ] &&
    [ "$mode" = 600 ] && openssl pkey -in "$dir/tls/key.pem" -noout 2>/dev/null; then
	pass "first start: a self-signed certificate for NGINX_SERVER_NAME, key mode 600"
else
	fail "self-signed certificate: '$subj', key mode '$mode'"
fi
first=$(fp)
if run && [ -n "$first" ] && [ "$(fp)" = "$first" ] &&
    ! grep -q "making a self-signed" "$dir/run.out"; then
	pass "next start: the certificate is kept"
else
	fail "the certificate was not kept: $(cat "$dir/run.out")"
fi
# A configuration value that would change nginx's syntax is refused.
rc=0
NGINX_UPSTREAM='api:8888; include /etc/passwd' NGINX_TLS_DIR="$dir/tls" \
    NGINX_CONF="$dir/bad.conf" NGINX_TEMPLATE=conf/nginx/keywork.conf.in \
    docker/nginx-entrypoint.sh -t >"$dir/bad.out" 2>&1 || rc=$?
[ "$rc" != 0 ] && [ ! -e "$dir/bad.conf" ] && grep -q "NGINX_UPSTREAM must be" "$dir/bad.out" &&
	pass "a setting that is not a plain word is refused" ||
	fail "NGINX_UPSTREAM with a ';': exit $rc, $(cat "$dir/bad.out")"

[ "$fails" = 0 ] || { echo "$fails compose checks failed"; exit 1; }
echo "all compose checks passed"
