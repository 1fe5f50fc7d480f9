#!/bin/sh
# nginx in front of the API: the image's "proxy" stage runs this, and so
# does tests/https.sh. It writes nginx's configuration from the template
# (conf/nginx/keywork.conf.in) and the NGINX_* variables below, makes a
# self-signed certificate when none is there (first start: mount real ones
# at NGINX_CERT and NGINX_KEY to use them instead), then runs nginx in the
# foreground. Arguments go to nginx: "-t" checks the result and exits.
#
#   NGINX_HTTPS_LISTEN  [address:]port for HTTPS              443
#   NGINX_HTTP_LISTEN   [address:]port that redirects to it   80
#   NGINX_UPSTREAM      Kore's host:port                      api:8888
#   NGINX_TLS_DIR       where the certificate and key are     /etc/keywork/tls
#   NGINX_CERT          certificate chain (PEM)               $NGINX_TLS_DIR/cert.pem
#   NGINX_KEY           its private key (PEM)                 $NGINX_TLS_DIR/key.pem
#   NGINX_SERVER_NAME   host name of a self-signed certificate  localhost
#   NGINX_ACCESS_LOG    access log                            /dev/stdout
#   NGINX_ERROR_LOG     error log                             stderr
#   NGINX_TEMPLATE      the template                          /etc/keywork/nginx/keywork.conf.in
#   NGINX_CONF          the configuration written             /etc/keywork/nginx/keywork.conf
#   NGINX_PREFIX        nginx's prefix (pid, temporary files) /var/lib/nginx/
set -eu
: "${NGINX_HTTPS_LISTEN:=443}"
: "${NGINX_HTTP_LISTEN:=80}"
: "${NGINX_UPSTREAM:=api:8888}"
: "${NGINX_TLS_DIR:=/etc/keywork/tls}"
: "${NGINX_CERT:=$NGINX_TLS_DIR/cert.pem}"
: "${NGINX_KEY:=$NGINX_TLS_DIR/key.pem}"
: "${NGINX_SERVER_NAME:=localhost}"
: "${NGINX_ACCESS_LOG:=/dev/stdout}"
: "${NGINX_ERROR_LOG:=stderr}"
: "${NGINX_TEMPLATE:=/etc/keywork/nginx/keywork.conf.in}"
: "${NGINX_CONF:=/etc/keywork/nginx/keywork.conf}"
: "${NGINX_PREFIX:=/var/lib/nginx/}"

# Values go into nginx's syntax and into sed: plain words only.
for v in NGINX_HTTPS_LISTEN NGINX_HTTP_LISTEN NGINX_UPSTREAM NGINX_CERT \
    NGINX_KEY NGINX_SERVER_NAME NGINX_ACCESS_LOG NGINX_ERROR_LOG; do
	eval "val=\$$v"
	case "$val" in
	"" | *[!]A-Za-z0-9._:/[-]*)
		echo "keywork-nginx: $v must be a non-empty word of letters, digits and ._:/[]-" >&2
		exit 1
		;;
	esac
done

if [ ! -s "$NGINX_CERT" ] || [ ! -s "$NGINX_KEY" ]; then
	echo "keywork-nginx: no certificate at $NGINX_CERT; making a self-signed one for $NGINX_SERVER_NAME" >&2
	mkdir -p "$(dirname "$NGINX_CERT")" "$(dirname "$NGINX_KEY")"
	(
		umask 077
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -days 825 -subj "/CN=$NGINX_SERVER_NAME" \
		    -addext "subjectAltName=DNS:$NGINX_SERVER_NAME" \
		    -keyout "$NGINX_KEY.new" -out "$NGINX_CERT.new" 2>/dev/null
	)
	chmod 644 "$NGINX_CERT.new"
	mv "$NGINX_KEY.new" "$NGINX_KEY"
	mv "$NGINX_CERT.new" "$NGINX_CERT"
fi

mkdir -p "$(dirname "$NGINX_CONF")" "$NGINX_PREFIX"
sed -e "s|@HTTPS_LISTEN@|$NGINX_HTTPS_LISTEN|g" \
    -e "s|@HTTP_LISTEN@|$NGINX_HTTP_LISTEN|g" \
    -e "s|@UPSTREAM@|$NGINX_UPSTREAM|g" \
    -e "s|@CERT@|$NGINX_CERT|g" \
    -e "s|@KEY@|$NGINX_KEY|g" \
    -e "s|@ACCESS_LOG@|$NGINX_ACCESS_LOG|g" \
    -e "s|@ERROR_LOG@|$NGINX_ERROR_LOG|g" \
    "$NGINX_TEMPLATE" >"$NGINX_CONF.new"
if grep -n '^[^#]*@[A-Z_]*@' "$NGINX_CONF.new" >&2; then
	echo "keywork-nginx: $NGINX_TEMPLATE has fields this script does not fill" >&2
	exit 1
fi
mv "$NGINX_CONF.new" "$NGINX_CONF"

exec nginx -p "$NGINX_PREFIX" -c "$NGINX_CONF" -e "$NGINX_ERROR_LOG" \
    -g 'daemon off;' "$@"
