#!/bin/sh
# The API reference page in a real browser, run by scripts/test.sh while
# the test server runs, with BUILD set and the server's URL in $1.
# Debian's chromium, headless, driven by playwright-core (tests/browser,
# installed by make test; it never downloads a browser of its own):
#
#   - GET /docs lists every operation of openapi.yaml, by operationId, and
#     the API's title;
#   - one operation opens to its responses, and "Try it out" on GET
#     /healthz shows the server's answer;
#   - the page requests nothing beyond the server, and meets no failed
#     request, error status, script error or Content-Security-Policy
#     violation.
#
# Screenshots go to $BUILD/artifacts/docs.png and docs-full.png. Bounded
# to 60 seconds.
set -eu
url=${1:?server url}
BUILD=${BUILD:-build}
chromium=${CHROMIUM:-/usr/bin/chromium}
tmp=$(mktemp -d /tmp/keywork-browser.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$chromium" ]; then
	echo "FAILED - no chromium at $chromium (scripts/deps.sh installs it)"; exit 1
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
	echo "FAILED - playwright-core is not installed (make test installs it)"; exit 1
fi

# The operations the page must list, straight from the spec.
sed -n 's/^ *operationId: *//p' openapi.yaml >"$tmp/operations"
n=$(wc -l <"$tmp/operations")
if [ "$n" -lt 1 ]; then
	echo "FAILED - no operationId found in openapi.yaml"; exit 1
fi

mkdir -p "$BUILD/artifacts"
if CHROMIUM=$chromium timeout -k 5 60 node tests/browser/docs.mjs "$url" \
    "$tmp/operations" "$BUILD/artifacts/docs.png"; then
	echo "ok - GET /docs renders all $n operations in chromium, nothing loaded from elsewhere"
else
	echo "FAILED - the API reference page in chromium (see above)"; exit 1
fi
