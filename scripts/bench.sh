#!/bin/sh
# make bench SCALE=...: each hot operation measured three ways in one run,
# against the data set of make bench-data SCALE=... (10k by default; loaded
# first if it is not there yet):
#
#   1. the API: wrk, BENCH_CONNECTIONS connections back to back: requests
#      per second, p50, p99;
#   2. the ceiling: pgbench, as many clients, running the statement the API
#      sends for that operation ("SELECT * FROM api.<fn>($1, ...)", one
#      statement per request, in autocommit, extended protocol) with the
#      same parameters: the same caller's token hash, so the same identity
#      and row-level security, and the same session options. Its rate is
#      what the database can do for that operation on this machine, with
#      no HTTP, no Kore, no JSON on the way;
#   3. the API at half of its rate in (1): wrk with random pauses before
#      requests (tests/perf/wrk.lua: Poisson arrivals), p50 and p99; and
#      the database alone at that rate, the statements of (2) from pgbench
#      --rate (Poisson arrivals too), p50 and p99 of its logged latencies:
#      the reference for how much of the tail is the database's.
#
# Printed as a table; the table and the machine's details are written to
# var/bench/<episodes>/results.md and into docs/performance.md between
# the markers for that scale. Then, unless BENCH_WORKER=0, the scheduled
# worker's pass over due reminders (scripts/bench-worker.sh) on the same
# data.
#
# The operations, and who calls them: the demo keyworker (keyworker@,
# who keyworks 20 generated families and sits on about 47 teams), the
# line manager of 19 practitioners (perf-manager-0000@, about 380 episodes),
# and for the writes BENCH_WRITERS (20) generated practitioners in turn,
# others each run:
#   get_episode        GET  /v1/episodes/{id}         keyworker
#   list_episodes_kw   GET  /v1/episodes              keyworker (first page)
#   list_episodes_mgr  GET  /v1/episodes              manager (first page)
#   list_notes         GET  /v1/episodes/{id}/notes   keyworker
#   create_note        POST /v1/episodes/{id}/notes   writer
#   create_episode     POST /v1/episodes              writer (a new family each time)
#   get_caseload       GET  /v1/caseload              manager
#   list_deadlines     GET  /v1/deadlines             keyworker
# plus a bare Kore route (no database) as the HTTP layer's own reference.
#
#   SCALE (10k)  BENCH_SECONDS (10)  BENCH_CONNECTIONS (16: the API's
#   database connections, 2 workers x 8)  BENCH_THREADS (2)
#   BENCH_TIMEOUT (10)  BENCH_ONLY (all: a space-separated list of names)
#   BENCH_WORKER (1)  BENCH_WRITERS (20)
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-16}
threads=${BENCH_THREADS:-2}
timeout=${BENCH_TIMEOUT:-10}
only=${BENCH_ONLY:-}
scale=${SCALE:-10k}

# The API's statement timeout, which pgbench's sessions get too.
timeout_ms=10000
export KEYWORK_STATEMENT_TIMEOUT_MS=$timeout_ms
. scripts/bench-lib.sh
bench_serve "$scale"

# Replace what docs/performance.md holds between "<!-- bench $1 begin -->"
# and "<!-- bench $1 end -->" with the file $2; 1 if there are no markers.
doc_section() {
	grep -qF "<!-- bench $1 begin -->" docs/performance.md || return 1
	awk -v b="<!-- bench $1 begin -->" -v e="<!-- bench $1 end -->" -v f="$2" '
	    $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
	    $0 == e { skip = 0 }
	    !skip' docs/performance.md >"$tmp/perf.md" && cp "$tmp/perf.md" docs/performance.md
}

# The writes go in as other practitioners, BENCH_WRITERS (20) new ones
# each run, in turn, so that the readers' caseloads stay as loaded and no
# writer's grows far: a run registers thousands of families.
writers=${BENCH_WRITERS:-20}
run_no=$(($(cat "$dir/runs" 2>/dev/null || echo 0) + 1))
echo "$run_no" >"$dir/runs"
kw_token=$(login keyworker@example.org)
mgr_token=$(login perf-manager-0000@example.org)
kw_hash=$(hash_of "$kw_token")
mgr_hash=$(hash_of "$mgr_token")
kw_id=$(q "SELECT id FROM kw.users WHERE lower(email) = 'keyworker@example.org'")

# A practitioner's open generated episode with the most notes (15 or 16).
busiest() {
	q "SELECT e.id FROM kw.episodes e WHERE e.keyworker_id = '$1'
	    AND e.status <> 'closed' AND e.family_name <> 'Rivers'
	    ORDER BY (SELECT count(*) FROM kw.notes n WHERE n.episode_id = e.id) DESC, e.id LIMIT 1"
}
episode=$(busiest "$kw_id")
[ -n "$episode" ] || { echo "bench: keyworker@ has no generated open episode" >&2; exit 1; }
note_body='{"body":"Phoned the family to arrange the next home visit.","kind":"fact"}'

# Per writer, a line of tab-separated fields: token, its hash, the
# writer's busiest episode, and a new family's registration naming them.
practitioners=$(q "SELECT count(*) FROM kw.users WHERE email LIKE 'perf-practitioner-%'")
: >"$tmp/writers"
w=0
while [ "$w" -lt "$writers" ]; do
	p=$((1 + ((run_no - 1) * writers + w) % (practitioners - 1)))
	email=$(printf 'perf-practitioner-%04d@example.org' "$p")
	token=$(login "$email")
	id=$(q "SELECT id FROM kw.users WHERE email = '$email'")
	ep=$(busiest "$id")
	[ -n "$ep" ] || { echo "bench: $email has no generated open episode" >&2; exit 1; }
	fields=$(q "SELECT area_id || ' ' || agency_id FROM kw.users WHERE id = '$id'")
	body=$(printf '{"family":{"name":"Bench @N@","area_id":"%s","postcode":"NF1 2AB"},'`
		`'"members":[{"given_name":"Sam","family_name":"Bench @N@","date_of_birth":"1988-04-02",'`
		`'"relationship":"mother","is_child":false},{"given_name":"Alex",'`
		`'"family_name":"Bench @N@","date_of_birth":"2015-09-14","relationship":"son",'`
		`'"is_child":true}],"keyworker_id":"%s","lead_agency_id":"%s","verbal_consent":{'`
		`'"obtained_at":"2026-03-02T09:10:00Z","given_by":"Sam Bench",'`
		`'"statement":"Sam agreed to Families First working with the family."}}' \
		"${fields% *}" "$id" "${fields#* }")
	printf '%s\t%s\t%s\t%s\n' "$token" "$(hash_of "$token")" "$ep" "$body" >>"$tmp/writers"
	w=$((w + 1))
done
for t in "$kw_token" "$mgr_token"; do
	curl -fsS -o /dev/null -H "Authorization: Bearer $t" "http://127.0.0.1:$port/v1/me"
done

# The statements, as src/handlers.c builds them: token hash, request id,
# client address, then the operation's own arguments; absent query
# parameters are NULL, the page size 50. $2 is the suffix of the
# variables (a writer's number, or nothing).
sql_of() {
	case "$1" in
	get_episode) echo "SELECT * FROM api.get_episode(:tok$2, :rid, :addr, :ep$2)" ;;
	list_episodes_*) echo "SELECT * FROM api.list_episodes(:tok$2, :rid, :addr, 50, NULL, NULL, NULL, NULL, NULL, NULL)" ;;
	list_notes) echo "SELECT * FROM api.list_notes(:tok$2, :rid, :addr, :ep$2, 50, NULL, NULL)" ;;
	create_note) echo "SELECT * FROM api.create_note(:tok$2, :rid, :addr, :ep$2, NULL, :body$2)" ;;
	# pgbench cannot vary a text variable per transaction: the family's
	# name is made unique in SQL, by replace(), as wrk.lua does in Lua.
	create_episode) echo "SELECT * FROM api.create_episode(:tok$2, :rid, :addr, NULL, replace(:body$2, '@N@', :u::text)::jsonb)" ;;
	get_caseload) echo "SELECT * FROM api.get_caseload(:tok$2, :rid, :addr)" ;;
	list_deadlines) echo "SELECT * FROM api.list_deadlines(:tok$2, :rid, :addr, 50, NULL, NULL, NULL, NULL, NULL)" ;;
	esac
}

# A pgbench script for operation $1, variables suffixed $2: a request id
# and a number unique to each transaction, then the statement.
pgb_script() {
	printf '%s\n' '\set rid random(1, 1000000000000)' '\set u random(1, 9000000000000000)'
	sql_of "$1" "$2"
}

# The requests of operation $1 for wrk ($tmp/$1.wrk: token, path, body per
# line) and pgbench (scripts $tmp/$1.*.sql and their -D options in
# $tmp/$1.vars, one per line): $2 the path ({ep} for the episode), $3 the
# caller (kw, mgr, or wr: every writer in turn), $4 the body.
requests() {
	name=$1 path=$2 who=$3 body=$4
	: >"$tmp/$name.wrk"
	: >"$tmp/$name.vars"
	rm -f "$tmp/$name".*.sql
	if [ "$who" = wr ]; then
		i=0
		while IFS="$(printf '\t')" read -r token hash ep ebody; do
			i=$((i + 1))
			b=$body
			[ "$name" = create_episode ] && b=$ebody
			printf '%s\t%s\t%s\n' "$token" "$(echo "$path" | sed "s/{ep}/$ep/")" "$b" \
				>>"$tmp/$name.wrk"
			printf '%s\n' "tok$i=$hash" "ep$i=$ep" "body$i=$b" >>"$tmp/$name.vars"
			pgb_script "$name" "$i" >"$tmp/$name.$i.sql"
		done <"$tmp/writers"
	else
		if [ "$who" = kw ]; then token=$kw_token hash=$kw_hash; else token=$mgr_token hash=$mgr_hash; fi
		printf '%s\t%s\t%s\n' "$token" "$(echo "$path" | sed "s/{ep}/$episode/")" "$body" \
			>"$tmp/$name.wrk"
		printf '%s\n' "tok=$hash" "ep=$episode" "body=${body:-none}" >"$tmp/$name.vars"
		pgb_script "$name" "" >"$tmp/$name.1.sql"
	fi
}

# pgbench over operation $1's scripts and variables, $2 seconds, then any
# further options; output to stdout.
pgb() {
	name=$1 t=$2
	shift 2
	set -- "$@" -n -M extended -c "$conns" -j "$threads" -T "$t" -D addr=127.0.0.1
	for f in "$tmp/$name".*.sql; do set -- "$@" -f "$f"; done
	while IFS= read -r v; do set -- "$@" -D "$v"; done <"$tmp/$name.vars"
	PGOPTIONS="-c statement_timeout=$timeout_ms -c kw.report_identity=on" \
		pgbench "$@" "$KEYWORK_DATABASE_URL application_name=keywork-bench" 2>&1
}

# $1 name, $2 method, $3 path ({ep}: the episode), $4 "kw", "mgr" or "wr",
# $5 body (or empty)
measure() {
	name=$1 method=$2
	case " ${only:-$name} " in *" $name "*) ;; *) return 0 ;; esac
	requests "$name" "$3" "$4" "$5"
	url="http://127.0.0.1:$port"
	wrk_run() {
		# $1 seconds, $2 mean delay (ms), $3 output
		BENCH_METHOD=$method BENCH_REQUESTS="$tmp/$name.wrk" BENCH_DELAY_MS=$2 \
			wrk -t"$threads" -c"$conns" -d"$1s" --latency --timeout "${timeout}s" \
			-s tests/perf/wrk.lua "$url" >"$3"
		errs=$(awk '/Non-2xx|Socket errors/ {print}' "$3")
		[ -z "$errs" ] || { echo "$name: $errs" >&2; tail -n 20 "$tmp/server.log" >&2; exit 1; }
	}
	# A warm-up, not measured: each worker opens its connections on first
	# use, and the pages the operation reads come into memory.
	wrk_run 3 0 /dev/null
	wrk_run "$secs" 0 "$tmp/$name.api"
	rps=$(awk '/^Requests\/sec/ {print $2}' "$tmp/$name.api")

	# The ceiling: the same statements and parameters through pgbench. Its
	# connections are new, so the first seconds are spent planning and
	# filling caches (the API's connections were warmed above): 3 s more,
	# and the rate is the mean of the per-second rates after them.
	pgb "$name" "$((secs + 3))" -P 1 >"$tmp/$name.pgb" ||
		{ echo "$name: pgbench failed" >&2; grep -v NOTICE "$tmp/$name.pgb" >&2; exit 1; }
	grep -q 'number of failed transactions: 0 ' "$tmp/$name.pgb" ||
		{ echo "$name: pgbench transactions failed" >&2; grep -v NOTICE "$tmp/$name.pgb" >&2; exit 1; }
	tps=$(awk '/^progress: / { t = $2 + 0; if (t > 3) { sum += $4; n++ } }
	    END { if (n) printf "%.1f", sum / n }' "$tmp/$name.pgb")
	[ -n "$tps" ] || { echo "$name: no pgbench progress" >&2; exit 1; }

	# Half the API's rate: requests at random (Poisson) times, from wrk
	# with exponential pauses: each connection waits on average
	# conns / (rps / 2) seconds less its time waiting for an answer,
	# measured by a short calibration run first.
	gap=$(awk -v c="$conns" -v r="$rps" 'BEGIN { printf "%.3f", 2000 * c / r }')
	wrk_run 4 "$gap" "$tmp/$name.cal"
	gap=$(awk -v c="$conns" -v r="$rps" -v g="$gap" \
		-v got="$(awk '/^Requests\/sec/ {print $2}' "$tmp/$name.cal")" \
		'BEGIN { lat = 1000 * c / got - g; g2 = 2000 * c / r - lat; if (g2 < 0.1) g2 = 0.1;
		    printf "%.3f", g2 }')
	wrk_run "$secs" "$gap" "$tmp/$name.half"
	# The database alone at the same rate, Poisson arrivals too (pgbench
	# --rate), every transaction's latency logged: p50 and p99 of those
	# after its first 3 s.
	hrps=$(awk '/^Requests\/sec/ {print $2}' "$tmp/$name.half")
	rm -f "$tmp/$name.log".*
	pgb "$name" "$((secs + 3))" -R "$(printf '%.0f' "$hrps")" -l --log-prefix="$tmp/$name.log" \
		>"$tmp/$name.pgr" ||
		{ echo "$name: pgbench --rate failed" >&2; grep -v NOTICE "$tmp/$name.pgr" >&2; exit 1; }
	cat "$tmp/$name.log".* | sort -k5,5n -k6,6n | awk '
	    NR == 1 { t0 = $5 } $5 - t0 >= 3 { print ($3 + 0) / 1000 }' | sort -n >"$tmp/$name.lat"
	dp50=$(awk '{ a[NR] = $1 } END { printf "%.2f", a[int(NR * 0.50) + 1] }' "$tmp/$name.lat")
	dp99=$(awk '{ a[NR] = $1 } END { printf "%.2f", a[int(NR * 0.99) + 1] }' "$tmp/$name.lat")
	printf '%s %s %s %s %s %s %s %s %s %s %s\n' "$name" "$method" "-" \
		"$rps" "$(awk '$1 == "50%" {print $2}' "$tmp/$name.api")" \
		"$(awk '$1 == "99%" {print $2}' "$tmp/$name.api")" "$tps" "$hrps" \
		"$(awk '$1 == "50%" {print $2} $1 == "99%" {print $2}' "$tmp/$name.half" | tr '\n' ' ')" \
		"$dp50 $dp99" >>"$tmp/results"
	echo "bench: $name done" >&2
}

# The data set before this run's writes.
counts=$(q "SELECT format('%s episodes, %s members, %s notes, %s practitioners',
    (SELECT count(*) FROM kw.episodes), (SELECT count(*) FROM kw.members),
    (SELECT count(*) FROM kw.notes), (SELECT count(*) FROM kw.users WHERE 'practitioner' = ANY (roles)))")
: >"$tmp/results"
measure get_episode GET "/v1/episodes/{ep}" kw ""
measure list_episodes_kw GET /v1/episodes kw ""
measure list_episodes_mgr GET /v1/episodes mgr ""
measure list_notes GET "/v1/episodes/{ep}/notes" kw ""
measure get_caseload GET /v1/caseload mgr ""
measure list_deadlines GET /v1/deadlines kw ""
# Writes last, so that every read sees the data set as it was loaded.
measure create_note POST "/v1/episodes/{ep}/notes" wr "$note_body"
measure create_episode POST /v1/episodes wr ""
# The HTTP layer alone, for reference.
wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$port/_bench/bare" >"$tmp/bare.api"
bare=$(awk '/^Requests\/sec/ {print $2}' "$tmp/bare.api")

workers=$(awk '/^workers/ {print $2}' "$tmp/kore.conf")
conn_max=$(awk '/^pgsql_conn_max/ {print $2}' "$tmp/kore.conf")
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo)
pgv=$(q "SHOW server_version" | cut -d' ' -f1)
size=$(q "SELECT pg_size_pretty(pg_database_size(current_database()))")

# wrk's "1.23ms", "456.00us" or "1.20s" as milliseconds: an awk function,
# for the tables below, and the same as a command.
ms_awk='function ms(v) { if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
	if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
	if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000; return v + 0 }'
ms() { echo "$1" | awk "$ms_awk"' { printf "%.2f", ms($1) }'; }
{
	echo "Scale $scale: $counts; database $size. $(date -u +%Y-%m-%d)."
	echo "Machine: $(nproc) cores ($cpu), $mem; PostgreSQL $pgv, shared_buffers 4 GB;"
	echo "Kore $workers workers, $conn_max database connections each; wrk and pgbench"
	echo "$conns connections, $threads threads, ${secs} s each, on the same machine."
	echo
	echo "| operation | API req/s | p50 ms | p99 ms | ceiling (pgbench) tx/s | API / ceiling | target | at half rate: req/s | p50 ms | p99 ms | p99 / p50 | database alone at that rate: p50 ms | p99 ms | p99 / p50 |"
	echo "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
	while read -r name method path rps p50 p99 tps hrps hp50 hp99 dp50 dp99; do
		case "$method" in GET) target=0.70 ;; *) target=0.60 ;; esac
		p50m=$(ms "$p50") p99m=$(ms "$p99") hp50m=$(ms "$hp50") hp99m=$(ms "$hp99")
		awk -v n="$name" -v m="$method" -v r="$rps" -v a="$p50m" -v b="$p99m" -v t="$tps" \
			-v tg="$target" -v hr="$hrps" -v ha="$hp50m" -v hb="$hp99m" \
			-v da="$dp50" -v db="$dp99" 'BEGIN {
			ratio = r / t
			printf "| %s `%s` | %.0f | %s | %s | %.0f | %.2f | %s %s | %.0f | %s | %s | %.1f%s | %s | %s | %.1f |\n",
			    n, m, r, a, b, t, ratio, (ratio >= tg ? "met:" : "MISSED:"), "≥" tg,
			    hr, ha, hb, hb / ha, (hb / ha <= 3 ? "" : " MISSED: ≤3"), da, db, db / da }'
	done <"$tmp/results"
	echo
	echo "Bare Kore route (no database), for reference: $bare req/s."
} >"$tmp/table.md"
cp "$tmp/results" "$dir/results.txt"
cp "$tmp/table.md" "$dir/results.md"
echo
cat "$tmp/table.md"

# Into docs/performance.md, between this scale's markers.
echo
if doc_section "$scale" "$tmp/table.md"; then
	echo "bench: written to docs/performance.md ($scale) and $dir/results.md"
else
	echo "bench: written to $dir/results.md (docs/performance.md has no markers for $scale)"
fi

# Latency by scale, from every scale measured on this machine so far: the
# p50 at half rate (each request's own time, little queueing) and at full
# concurrency, and the largest scale's against the smallest's.
scales=$(for r in var/bench/*/results.txt; do [ -f "$r" ] && basename "$(dirname "$r")"; done | sort -n)
if [ "$(echo "$scales" | wc -w)" -ge 2 ]; then
	for n in $scales; do
		awk -v n="$n" '{print n, $1, $9, $5, $4, $7}' "var/bench/$n/results.txt"
	done | awk -v scales="$scales" "$ms_awk"'
	function label(n) { return n >= 1000000 ? n / 1000000 "M" : n >= 1000 ? n / 1000 "k" : n }
	{ half[$2, $1] = ms($3); full[$2, $1] = ms($4); if (!($2 in seen)) { seen[$2] = 1; ops[++k] = $2 } }
	END {
		c = split(scales, sc, " ")
		printf "| operation |"; for (i = 1; i <= c; i++) printf " p50 at half rate, %s (ms) |", label(sc[i])
		printf " %s / %s |", label(sc[c]), label(sc[1])
		for (i = 1; i <= c; i++) printf " p50 at full load, %s (ms) |", label(sc[i])
		printf " %s / %s |\n|---|", label(sc[c]), label(sc[1])
		for (i = 1; i <= 2 * c + 2; i++) printf "---:|"; printf "\n"
		for (j = 1; j <= k; j++) {
			o = ops[j]; printf "| %s |", o
			for (i = 1; i <= c; i++) printf " %s |", ((o, sc[i]) in half) ? sprintf("%.2f", half[o, sc[i]]) : "-"
			if (((o, sc[c]) in half) && half[o, sc[1]] > 0) {
				r = half[o, sc[c]] / half[o, sc[1]]
				printf " %.2f%s |", r, r <= 1.5 ? "" : " MISSED: ≤1.5"
			} else printf " - |"
			for (i = 1; i <= c; i++) printf " %s |", ((o, sc[i]) in full) ? sprintf("%.2f", full[o, sc[i]]) : "-"
			if (((o, sc[c]) in full) && full[o, sc[1]] > 0) printf " %.2f |", full[o, sc[c]] / full[o, sc[1]]
			else printf " - |"
			printf "\n"
		}
	}' >"$tmp/scales.md"
	echo
	cat "$tmp/scales.md"
	doc_section scales "$tmp/scales.md" || true
fi

# The data sets on this machine, as make bench-data loaded them.
{
	echo "| data set | episodes | family members | case notes | practitioners | database | loaded in |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	for n in $(for l in var/bench/*/loaded; do basename "$(dirname "$l")"; done | sort -n); do
		sed 's/[,;]//g' "var/bench/$n/loaded" | awk -v n="$n" '{
		    label = n >= 1000000 ? n / 1000000 "M" : n / 1000 "k"
		    printf "| %s | %s | %s | %s | %s | %s %s | %s s |\n", label, $1, $3, $5, $7, $9, $10, $13 }'
	done
} >"$tmp/data.md"
doc_section data "$tmp/data.md" || true

if [ "${BENCH_WORKER:-1}" != 0 ]; then
	kill -TERM "$kore_pid" 2>/dev/null && wait "$kore_pid" 2>/dev/null
	kore_pid=""
	BUILD="$BUILD" scripts/bench-worker.sh
fi
