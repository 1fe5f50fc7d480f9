# keywork: one image for the API (Kore module), its admin command and the
# scheduled worker. Build stage compiles; the runtime stage (the default
# target) has only what runs, as a non-root user. The "proxy" stage is
# nginx terminating HTTPS in front of the API (docker-compose's nginx).

FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	gcc make pkg-config kore libjansson-dev libyaml-dev libpcre2-dev \
	libargon2-dev libpq-dev libssl-dev libcurl4-openssl-dev ca-certificates nodejs npm \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY src ./src
# The API reference page: its lock file, and npm ci from the npm registry.
COPY docs/reference ./docs/reference
# The image needs the programs and the page only; tests run with `make test`.
RUN make SKIP_DEPS=1 build/keywork.so build/keywork-admin build/keywork-worker docs

# nginx in front of the API: Debian's nginx, as tests/https.sh tests it.
# The master runs as root to bind 443; its workers run as nobody.
FROM debian:12-slim AS proxy
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	nginx openssl curl ca-certificates \
	&& rm -rf /var/lib/apt/lists/*
COPY conf/nginx/keywork.conf.in /etc/keywork/nginx/keywork.conf.in
COPY docker/nginx-entrypoint.sh /usr/local/bin/keywork-nginx-entrypoint
EXPOSE 80 443
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
	CMD curl -fsSk -o /dev/null https://127.0.0.1/healthz || exit 1
ENTRYPOINT ["keywork-nginx-entrypoint"]

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	kore libjansson4 libyaml-0-2 libpcre2-8-0 libargon2-1 libpq5 libssl3 libcurl4 curl ca-certificates \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --home /srv/keywork --shell /usr/sbin/nologin keywork
WORKDIR /srv/keywork
COPY --from=build /src/build/keywork.so /src/build/keywork-admin \
    /src/build/keywork-worker ./build/
COPY --from=build /src/build/docs ./build/docs
COPY openapi.yaml ./
COPY conf ./conf
COPY sql ./sql
COPY docker/entrypoint.sh /usr/local/bin/keywork-entrypoint
RUN mkdir -p var && chown keywork:keywork var
USER keywork
ENV KEYWORK_LISTEN=0.0.0.0 KEYWORK_PID_FILE=/srv/keywork/var/kore.pid
EXPOSE 8888
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
	CMD curl -fsS http://127.0.0.1:8888/healthz || exit 1
ENTRYPOINT ["keywork-entrypoint"]
CMD ["serve"]
