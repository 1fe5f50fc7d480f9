# keywork: build, run and test.
#
#   make            build the Kore module, keywork-admin, keywork-worker, the
#                   API reference page (make docs) and the tests
#   make run        build, start a local PostgreSQL, migrate, seed demo data, serve :8888
#   make test       build and run every test against a throwaway PostgreSQL
#   make test-asan  the same under AddressSanitizer and UndefinedBehaviorSanitizer
#   make bench-data SCALE=10k|100k|1M   generate a data set of that many
#                   episodes under var/bench/ (kept for make bench)
#   make bench      SCALE=... (10k): each hot operation through the API (wrk)
#                   and its ceiling (pgbench, the same SQL); prints the ratios
#                   and writes them to docs/performance.md
#   make soak       the API under load for SOAK_SECONDS (600); Kore workers' RSS
#   make explain    row-level security plans at 100,000 episodes (EXPLAIN ANALYZE)
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (default 60)

CC       ?= cc
BUILD    ?= build
PG_CFLAGS = -I/usr/include/postgresql
KORE_CFLAGS = -DKORE_USE_PGSQL -DKORE_USE_TASKS
WARN     = -Wall -Wextra -Werror -Wmissing-prototypes -Wshadow -Wno-unused-parameter
# CFLAGS is the caller's (optimisation, sanitizers); KW_CFLAGS is always on.
CFLAGS  ?= -O2 -g
KW_CFLAGS = -std=gnu11 -fPIC $(WARN) $(PG_CFLAGS) $(KORE_CFLAGS) -Isrc \
           $(shell pkg-config --cflags jansson yaml-0.1 libpcre2-8 2>/dev/null)
LIBS     = -ljansson -lyaml -lpcre2-8 -lcrypto -largon2 -lpq
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# Modules shared by the server, the admin command and the tests.
CORE_SRCS = src/audit.c src/jsonschema.c src/openapi.c src/yamljson.c src/config.c src/cursor.c src/db.c src/xmalloc.c \
            src/token.c src/problem.c src/log.c src/assets.c src/metrics.c src/ratelimit.c src/jsonlimit.c \
            src/jsontext.c
# The Kore application module.
MODULE_SRCS = src/keywork.c src/http.c src/handlers.c \
              src/h_auth.c src/h_admin.c src/h_service.c src/h_docs.c \
              src/h_episodes.c src/h_team.c src/h_notes.c \
              src/h_assessment.c src/h_meetings.c src/h_actions.c \
              src/h_progress.c src/h_documents.c src/h_alerts.c \
              src/h_oversight.c src/h_course.c \
              src/h_notifications.c src/h_webhooks.c src/h_audit.c
ADMIN_SRCS = src/admin.c src/migrate.c
# The scheduled worker.
WORKER_SRCS = src/worker.c src/deliver.c

CORE_OBJS   = $(CORE_SRCS:src/%.c=$(BUILD)/obj/%.o)
MODULE_OBJS = $(MODULE_SRCS:src/%.c=$(BUILD)/obj/%.o)
ADMIN_OBJS  = $(ADMIN_SRCS:src/%.c=$(BUILD)/obj/%.o)
WORKER_OBJS = $(WORKER_SRCS:src/%.c=$(BUILD)/obj/%.o)

UNIT_TESTS  = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
ITEST       = $(BUILD)/tests/integration

.PHONY: all deps docs run test test-unit test-asan bench bench-data soak explain fuzz clean fmt

all: $(BUILD)/keywork.so $(BUILD)/keywork-admin $(BUILD)/keywork-worker docs $(UNIT_TESTS) $(ITEST)

# Installs missing Debian packages (as root) or says how; SKIP_DEPS=1 skips
# the check (container builds, where the Dockerfile installs them).
deps:
	@[ -n "$(SKIP_DEPS)" ] || scripts/deps.sh

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KW_CFLAGS) -c $< -o $@

$(BUILD)/keywork.so: $(CORE_OBJS) $(MODULE_OBJS)
	$(CC) $(CFLAGS) $(KW_CFLAGS) -shared -o $@ $^ $(LIBS)

$(BUILD)/keywork-admin: $(CORE_OBJS) $(ADMIN_OBJS)
	$(CC) $(CFLAGS) $(KW_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/keywork-worker: $(CORE_OBJS) $(WORKER_OBJS)
	$(CC) $(CFLAGS) $(KW_CFLAGS) -o $@ $^ $(LIBS) -lcurl -lm

# The worker's delivery module needs libcurl.
$(BUILD)/tests/test_deliver: tests/unit/test_deliver.c $(CORE_OBJS) $(BUILD)/obj/deliver.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KW_CFLAGS) -o $@ $^ $(LIBS) -lcurl -lcriterion

$(BUILD)/tests/%: tests/unit/%.c $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KW_CFLAGS) -o $@ $< $(CORE_OBJS) $(LIBS) -lcriterion

$(ITEST): $(wildcard tests/integration/*.c) $(wildcard tests/integration/*.h) $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KW_CFLAGS) -Itests/integration -o $@ $(wildcard tests/integration/*.c) $(CORE_OBJS) $(LIBS) -lcriterion -lcurl

# The API reference page (GET /docs): keywork's page in docs/reference and
# Swagger UI's browser bundle from the npm registry, at the versions of the
# committed package-lock.json (npm ci; node_modules is never committed).
# No install scripts run: one of swagger-ui-dist's dependencies would report
# the install to a server. The files the page uses go to $(BUILD)/docs
# (docs_dir), which the server reads at start-up; src/h_docs.c lists them.
DOCS_NPM   = docs/reference/node_modules/.package-lock.json
DOCS_OWN   = index.html keywork-docs.js keywork-docs.css
DOCS_DIST  = swagger-ui.css swagger-ui-bundle.js favicon-32x32.png
DOCS_FILES = $(DOCS_OWN:%=$(BUILD)/docs/%) $(DOCS_DIST:%=$(BUILD)/docs/%)
NPM_CI     = npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

docs: $(DOCS_FILES)

$(DOCS_NPM): docs/reference/package.json docs/reference/package-lock.json | deps
	cd docs/reference && $(NPM_CI)
	@touch $@

$(DOCS_OWN:%=$(BUILD)/docs/%): $(BUILD)/docs/%: docs/reference/%
	@mkdir -p $(dir $@)
	cp $< $@

$(DOCS_DIST:%=$(BUILD)/docs/%): $(BUILD)/docs/%: $(DOCS_NPM)
	@mkdir -p $(dir $@)
	cp docs/reference/node_modules/swagger-ui-dist/$* $@

# The browser test's driver (tests/browser.sh): playwright-core, which
# drives Debian's chromium and never downloads a browser of its own.
BROWSER_NPM = tests/browser/node_modules/.package-lock.json

$(BROWSER_NPM): tests/browser/package.json tests/browser/package-lock.json | deps
	cd tests/browser && $(NPM_CI)
	@touch $@

run: deps all
	@scripts/run.sh

test-unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t --jobs 2 -q || exit 1; done

test: deps all $(BROWSER_NPM)
	@scripts/test.sh

test-asan: deps $(BROWSER_NPM)
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g $(SAN_FLAGS)" all
	@BUILD=build-asan ASAN=1 scripts/test.sh

SCALE ?= 10k
bench-data: deps all
	@scripts/bench-data.sh $(SCALE)

bench: deps all
	@SCALE=$(SCALE) scripts/bench.sh

soak: deps all
	@SCALE=$(SCALE) scripts/soak.sh

explain: deps all
	@scripts/scale.sh

# libFuzzer targets (clang), one per parser: each runs FUZZ_SECONDS from the
# seed corpus in tests/fuzz/corpus/<name>; new inputs go to build-fuzz/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = jsonschema yaml router config problem jsontext
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
              -std=gnu11 -Isrc $(PG_CFLAGS)

fuzz:
	@scripts/deps.sh fuzz
	@mkdir -p build-fuzz
	@set -e; for t in $(FUZZ_TARGETS); do \
		clang $(FUZZ_CFLAGS) -o build-fuzz/fuzz_$$t tests/fuzz/fuzz_$$t.c \
		    $(CORE_SRCS) $(LIBS); \
		mkdir -p build-fuzz/corpus/$$t; \
		echo "== fuzz_$$t ($(FUZZ_SECONDS) s)"; \
		build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		    -print_final_stats=1 build-fuzz/corpus/$$t tests/fuzz/corpus/$$t \
		    2>build-fuzz/fuzz_$$t.log || { tail -n 40 build-fuzz/fuzz_$$t.log; exit 1; }; \
		grep -E "stat::number_of_executed_units|Done" build-fuzz/fuzz_$$t.log | tail -n 2; \
	done

fmt:
	clang-format -i src/*.c src/*.h tests/unit/*.c tests/integration/*.c tests/integration/*.h

clean:
	rm -rf build build-asan docs/reference/node_modules tests/browser/node_modules
