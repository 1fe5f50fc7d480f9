# keywork: build, run and test.
#
#   make            build the Kore module, keywork-admin, keywork-worker and the tests
#   make run        build, start a local PostgreSQL, migrate, seed demo data, serve :8888
#   make test       build and run every test against a throwaway PostgreSQL
#   make test-asan  the same under AddressSanitizer and UndefinedBehaviorSanitizer
#   make bench      wrk against API routes and a bare route; prints the ratios
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
CORE_SRCS = src/jsonschema.c src/openapi.c src/yamljson.c src/config.c src/cursor.c src/db.c src/xmalloc.c \
            src/token.c src/problem.c src/log.c src/metrics.c
# The Kore application module.
MODULE_SRCS = src/keywork.c src/http.c src/handlers.c \
              src/h_auth.c src/h_admin.c src/h_service.c \
              src/h_episodes.c src/h_team.c src/h_notes.c \
              src/h_assessment.c src/h_meetings.c src/h_actions.c \
              src/h_progress.c src/h_documents.c src/h_alerts.c \
              src/h_oversight.c src/h_course.c \
              src/h_notifications.c
ADMIN_SRCS = src/admin.c src/migrate.c
# The scheduled worker.
WORKER_SRCS = src/worker.c

CORE_OBJS   = $(CORE_SRCS:src/%.c=$(BUILD)/obj/%.o)
MODULE_OBJS = $(MODULE_SRCS:src/%.c=$(BUILD)/obj/%.o)
ADMIN_OBJS  = $(ADMIN_SRCS:src/%.c=$(BUILD)/obj/%.o)
WORKER_OBJS = $(WORKER_SRCS:src/%.c=$(BUILD)/obj/%.o)

UNIT_TESTS  = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
ITEST       = $(BUILD)/tests/integration

.PHONY: all deps run test test-unit test-asan bench explain fuzz clean fmt

all: $(BUILD)/keywork.so $(BUILD)/keywork-admin $(BUILD)/keywork-worker $(UNIT_TESTS) $(ITEST)

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
	$(CC) $(CFLAGS) $(KW_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KW_CFLAGS) -o $@ $< $(CORE_OBJS) $(LIBS) -lcriterion

$(ITEST): $(wildcard tests/integration/*.c) $(wildcard tests/integration/*.h) $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KW_CFLAGS) -Itests/integration -o $@ $(wildcard tests/integration/*.c) $(CORE_OBJS) $(LIBS) -lcriterion -lcurl

run: deps all
	@scripts/run.sh

test-unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t --jobs 2 -q || exit 1; done

test: deps all
	@scripts/test.sh

test-asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g $(SAN_FLAGS)" all
	@BUILD=build-asan ASAN=1 scripts/test.sh

bench: deps all
	@scripts/bench.sh

explain: deps all
	@scripts/scale.sh

# libFuzzer targets (clang), one per parser: each runs FUZZ_SECONDS from the
# seed corpus in tests/fuzz/corpus/<name>; new inputs go to build-fuzz/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = jsonschema yaml router config
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
	rm -rf build build-asan
