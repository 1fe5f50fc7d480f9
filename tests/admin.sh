#!/bin/sh
# keywork-admin's account commands against the test cluster, run by
# scripts/test.sh while the server runs, with DATABASE_URL (the owner)
# exported, BUILD set and the server's URL in $1:
#   - create-admin makes an account that signs in with the password given
#     on standard input and holds the admin role; a short password, or an
#     address already taken, is refused;
#   - create-api-client prints a key, once, that works as a partner
#     system's bearer token for the agency named; an unknown agency is
#     refused.
set -eu
url=${1:?server url}
BUILD=${BUILD:-build}
fails=0
pass() { echo "ok - $1"; }
fail() { echo "FAILED - $1"; fails=$((fails + 1)); }
tmp=$(mktemp -d /tmp/keywork-admin.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
email="admin.$$@council.test"

if echo "correct-horse-battery" | KEYWORK_ARGON2_MEMORY_KIB=8192 \
    "$BUILD/keywork-admin" create-admin "$email" "Test Admin" "Test council" "Test area" \
    >"$tmp/out" 2>&1; then
	code=$(curl -s -o "$tmp/login.json" -w '%{http_code}' -H 'content-type: application/json' \
	    -d "{\"email\":\"$email\",\"password\":\"correct-horse-battery\"}" "$url/v1/auth/login")
	tok=$(sed 's/.*"access_token":"\([^"]*\)".*/\1/' "$tmp/login.json")
	users=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "$url/v1/users")
	[ "$code" = 200 ] && [ "$users" = 200 ] &&
		pass "create-admin: the account signs in and administers (GET /v1/users 200)" ||
		fail "create-admin: sign-in $code, GET /v1/users $users"
else
	fail "create-admin: $(cat "$tmp/out")"
fi
echo "short" | "$BUILD/keywork-admin" create-admin "x.$$@council.test" "X" >"$tmp/out" 2>&1 &&
	fail "create-admin took a short password" ||
	pass "create-admin refuses a short password: $(cat "$tmp/out")"
echo "correct-horse-battery" | "$BUILD/keywork-admin" create-admin "$email" "Again" \
    >"$tmp/out" 2>&1 && fail "create-admin took an address already used" ||
	pass "create-admin refuses an address already used"

if "$BUILD/keywork-admin" create-api-client "Test MIS" "Test council" >"$tmp/out" 2>&1; then
	key=$(sed -n 's/^key (shown once): //p' "$tmp/out")
	code=$(curl -s -o "$tmp/hooks.json" -w '%{http_code}' -H "Authorization: Bearer $key" \
	    "$url/v1/webhooks")
	[ "$code" = 200 ] && pass "create-api-client: the key works as a partner system's" ||
		fail "create-api-client: the key gets $code"
else
	fail "create-api-client: $(cat "$tmp/out")"
fi
"$BUILD/keywork-admin" create-api-client "Test MIS" "No such agency" >"$tmp/out" 2>&1 &&
	fail "create-api-client took an unknown agency" ||
	pass "create-api-client refuses an unknown agency"
[ "$fails" = 0 ] || { echo "$fails admin command checks failed"; exit 1; }
