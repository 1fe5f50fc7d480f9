/*
 * keywork-admin: the operator's command.
 *
 *   keywork-admin [-c FILE] check-config   (or -n, --check-config) validate a
 *                                          configuration
 *   keywork-admin [-c FILE] kore-conf      print Kore's configuration for it
 *   keywork-admin migrate                  apply sql/migrations (DATABASE_URL)
 *   keywork-admin [-c FILE] seed-demo      load the demo data set
 *   keywork-admin [-c FILE] create-admin EMAIL NAME [AGENCY AREA]
 *                                          an admin account (DATABASE_URL);
 *                                          the password from standard input
 *   keywork-admin create-api-client NAME AGENCY
 *                                          a partner system's API key for
 *                                          the agency named (DATABASE_URL)
 *   keywork-admin audit verify [SEQ:HASH]  check the audit trail's hash
 *                                          chain (DATABASE_URL)
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "audit.h"
#include "config.h"
#include "migrate.h"
#include "token.h"
#include "xmalloc.h"

#define DEMO_PASSWORD "keywork-demo"

static void	 usage(void) __attribute__((noreturn));
static int	 cmd_migrate(void);
static int	 cmd_seed_demo(void);
static int	 cmd_create_admin(int, char **);
static int	 cmd_create_api_client(int, char **);
static int	 cmd_audit_verify(const char *);
/* A head printed by an earlier audit verify. */
struct audit_mark {
	long long	seq;
	unsigned char	hash[AUDIT_HASH_LEN];
};

static int	 audit_check_page(PGresult *, long long *, unsigned char *,
		    const struct audit_mark *);
static int	 audit_mark_parse(const char *, struct audit_mark *);
static int	 hex_digit(char);
static int	 hex_hash(const char *, unsigned char *);
static int	 hex_bytea(const char *, unsigned char *);
static void	 hex_print(const unsigned char *);
static PGconn	*owner_connect(void);
static int	 read_password(char *, size_t);
static char	*slurp(const char *);
static int	 exec_ok(PGconn *, PGresult *);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: keywork-admin [-c FILE] check-config | -n | --check-config\n"
	    "       keywork-admin [-c FILE] kore-conf\n"
	    "       keywork-admin migrate            (uses DATABASE_URL)\n"
	    "       keywork-admin [-c FILE] seed-demo\n"
	    "       keywork-admin [-c FILE] create-admin EMAIL NAME [AGENCY AREA]\n"
	    "       keywork-admin create-api-client NAME AGENCY\n"
	    "       keywork-admin audit verify [SEQ:HASH]  (uses DATABASE_URL)\n");
	exit(2);
}

static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 cap = 0, len = 0, n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = xrealloc(buf, cap);
		}
		if ((n = fread(buf + len, 1, 4096, f)) == 0)
			break;
		len += n;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static int
exec_ok(PGconn *db, PGresult *res)
{
	ExecStatusType	st = PQresultStatus(res);
	int		ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "keywork-admin: %s", PQerrorMessage(db));
	PQclear(res);
	return ok ? 0 : -1;
}

static int
cmd_migrate(void)
{
	const char	*url, *dir;
	PGconn		*db;
	int		 rc;

	if ((url = getenv("DATABASE_URL")) == NULL || *url == '\0') {
		fprintf(stderr, "keywork-admin: migrate needs DATABASE_URL "
		    "(a connection as the schema owner)\n");
		return 1;
	}
	if ((dir = getenv("KEYWORK_SQL_DIR")) == NULL)
		dir = "sql/migrations";
	db = PQconnectdb(url);
	if (PQstatus(db) != CONNECTION_OK) {
		fprintf(stderr, "keywork-admin: cannot connect: %s",
		    PQerrorMessage(db));
		PQfinish(db);
		return 1;
	}
	rc = migrate_run(db, dir, stdout);
	PQfinish(db);
	return rc == 0 ? 0 : 1;
}

/*
 * The demo data goes in through the API's own role under row-level security,
 * acting as an administrator for the one transaction, as the API would.
 */
static int
cmd_seed_demo(void)
{
	struct token_argon2	 params;
	char			 hash[TOKEN_PHC_MAX];
	const char		*vals[1];
	char			*sql = NULL;
	PGconn			*db;
	int			 rc = 1;

	if (!config.demo_mode) {
		fprintf(stderr, "keywork-admin: seed-demo needs demo_mode = yes "
		    "(the demo accounts share a published password)\n");
		return 1;
	}
	params.memory_kib = (unsigned)config.argon2_memory_kib;
	params.iterations = (unsigned)config.argon2_iterations;
	params.parallelism = (unsigned)config.argon2_parallelism;
	if (token_password_hash(DEMO_PASSWORD, &params, hash, sizeof(hash)) == -1) {
		fprintf(stderr, "keywork-admin: cannot hash the demo password\n");
		return 1;
	}
	if ((sql = slurp("sql/seed/demo.sql")) == NULL) {
		fprintf(stderr, "keywork-admin: cannot read sql/seed/demo.sql\n");
		return 1;
	}
	db = PQconnectdb(config.database_url);
	if (PQstatus(db) != CONNECTION_OK) {
		fprintf(stderr, "keywork-admin: cannot connect: %s",
		    PQerrorMessage(db));
		goto out;
	}
	vals[0] = hash;
	if (exec_ok(db, PQexec(db, "BEGIN")) == -1 ||
	    exec_ok(db, PQexecParams(db, "SELECT set_config('kw.roles', 'admin', true), "
	    "set_config('kw.demo_password_hash', $1, true)", 1, NULL, vals,
	    NULL, NULL, 0)) == -1 ||
	    exec_ok(db, PQexec(db, sql)) == -1 ||
	    exec_ok(db, PQexec(db, "COMMIT")) == -1)
		goto out;
	printf("keywork-admin: demo data loaded (password: %s)\n", DEMO_PASSWORD);
	rc = 0;
out:
	PQfinish(db);
	free(sql);
	return rc;
}

/* A connection as the schema owner, from DATABASE_URL; NULL after saying why. */
static PGconn *
owner_connect(void)
{
	const char	*url;
	PGconn		*db;

	if ((url = getenv("DATABASE_URL")) == NULL || *url == '\0') {
		fprintf(stderr, "keywork-admin: set DATABASE_URL (a connection as "
		    "the schema owner)\n");
		return NULL;
	}
	db = PQconnectdb(url);
	if (PQstatus(db) != CONNECTION_OK) {
		fprintf(stderr, "keywork-admin: cannot connect: %s",
		    PQerrorMessage(db));
		PQfinish(db);
		return NULL;
	}
	return db;
}

/* One line of standard input, without its newline: 0, or -1 if none. */
static int
read_password(char *buf, size_t len)
{
	size_t	n;

	if (isatty(STDIN_FILENO))
		fprintf(stderr, "password (12 characters or more): ");
	if (fgets(buf, (int)len, stdin) == NULL)
		return -1;
	n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && n == len - 1)
		return -1;		/* longer than the buffer */
	buf[n] = '\0';
	return 0;
}

/*
 * An admin account: the first one on a new installation, or another. The
 * agency and area (names) are made when they do not exist yet; by default
 * "keywork administration" and "All areas".
 */
static int
cmd_create_admin(int argc, char **argv)
{
	struct token_argon2	 params;
	char			 password[1100], hash[TOKEN_PHC_MAX];
	const char		*vals[5];
	PGconn			*db;
	PGresult		*res;
	int			 rc = 1;

	if (argc != 3 && argc != 5)
		usage();
	if (read_password(password, sizeof(password)) == -1 ||
	    strlen(password) < 12) {
		fprintf(stderr, "keywork-admin: give a password of 12 characters "
		    "or more on standard input\n");
		return 1;
	}
	params.memory_kib = (unsigned)config.argon2_memory_kib;
	params.iterations = (unsigned)config.argon2_iterations;
	params.parallelism = (unsigned)config.argon2_parallelism;
	if (token_password_hash(password, &params, hash, sizeof(hash)) == -1) {
		fprintf(stderr, "keywork-admin: cannot hash the password\n");
		return 1;
	}
	explicit_bzero(password, sizeof(password));
	if ((db = owner_connect()) == NULL)
		return 1;
	vals[0] = argv[1];
	vals[1] = argv[2];
	vals[2] = hash;
	vals[3] = argc == 5 ? argv[3] : "keywork administration";
	vals[4] = argc == 5 ? argv[4] : "All areas";
	res = PQexecParams(db,
	    "WITH ag AS (INSERT INTO kw.agencies (name, kind) VALUES ($4, 'local_authority') "
	    "    ON CONFLICT (lower(name)) DO UPDATE SET name = kw.agencies.name "
	    "    RETURNING id), "
	    "ar AS (INSERT INTO kw.areas (name) VALUES ($5) "
	    "    ON CONFLICT (lower(name)) DO UPDATE SET name = kw.areas.name "
	    "    RETURNING id) "
	    "INSERT INTO kw.users (email, name, password_hash, agency_id, area_id, roles) "
	    "SELECT $1, $2, $3, ag.id, ar.id, '{admin}' FROM ag, ar RETURNING id",
	    5, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "keywork-admin: cannot create the account: %s",
		    PQresultErrorMessage(res));
		goto out;
	}
	printf("keywork-admin: admin account %s created\n", PQgetvalue(res, 0, 0));
	rc = 0;
out:
	PQclear(res);
	PQfinish(db);
	return rc;
}

/*
 * A partner system's API key, bound to the agency named (or given by id),
 * issued in the name of the earliest active admin. The key is printed
 * once; only its hash is kept.
 */
static int
cmd_create_api_client(int argc, char **argv)
{
	char		 key[TOKEN_LEN + 1], hash[TOKEN_HASH_LEN + 1];
	const char	*vals[3];
	PGconn		*db;
	PGresult	*res;
	int		 rc = 1;

	if (argc != 3)
		usage();
	if (token_new(TOKEN_PREFIX_APIKEY, key, sizeof(key)) == -1)
		return 1;
	token_hash_hex(key, strlen(key), hash);
	if ((db = owner_connect()) == NULL)
		return 1;
	vals[0] = argv[1];
	vals[1] = argv[2];
	vals[2] = hash;
	res = PQexecParams(db,
	    "INSERT INTO kw.api_clients (name, agency_id, key_hash, created_by) "
	    "SELECT $1, a.id, $3, (SELECT u.id FROM kw.users u WHERE 'admin' = ANY (u.roles) "
	    "    AND u.active ORDER BY u.created_at LIMIT 1) "
	    "FROM kw.agencies a WHERE a.id::text = $2 OR lower(a.name) = lower($2) "
	    "RETURNING id", 3, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "keywork-admin: cannot create the API client "
		    "(is there an admin account?): %s", PQresultErrorMessage(res));
		goto out;
	}
	if (PQntuples(res) != 1) {
		fprintf(stderr, "keywork-admin: no agency %s\n", argv[2]);
		goto out;
	}
	printf("API client %s\nkey (shown once): %s\n", PQgetvalue(res, 0, 0), key);
	rc = 0;
out:
	explicit_bzero(key, sizeof(key));
	PQclear(res);
	PQfinish(db);
	return rc;
}

/*
 * The audit trail's chain, recomputed here from each entry's columns
 * (src/audit.c), not by SQL: positions 1, 2, ... without a gap, each
 * entry's prev_hash the hash before it, each hash SHA-256(prev_hash ||
 * canonical text), and the head table at the last. Pages of 5,000 by seq
 * in one repeatable-read snapshot, so that millions of entries stream in
 * constant memory and concurrent sealing does not move the head meanwhile.
 */
#define AUDIT_PAGE "5000"

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A hash as exactly 64 hex digits: 0, or -1 if it is not one. */
static int
hex_hash(const char *s, unsigned char *out)
{
	size_t	i;
	int	hi, lo;

	if (s == NULL || strlen(s) != 2 * AUDIT_HASH_LEN)
		return -1;
	for (i = 0; i < AUDIT_HASH_LEN; i++) {
		if ((hi = hex_digit(s[2 * i])) == -1 ||
		    (lo = hex_digit(s[2 * i + 1])) == -1)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* A hash as PostgreSQL prints a bytea: "\\x" and its hex digits. */
static int
hex_bytea(const char *s, unsigned char *out)
{
	if (s == NULL || strncmp(s, "\\x", 2) != 0)
		return -1;
	return hex_hash(s + 2, out);
}

static void
hex_print(const unsigned char *h)
{
	size_t	i;

	for (i = 0; i < AUDIT_HASH_LEN; i++)
		printf("%02x", h[i]);
}

/*
 * One page: -1 after printing the first fault; *last and head advance. A
 * mark (seq > 0) is a head printed by an earlier verify: the entry at its
 * position must still have its hash.
 */
static int
audit_check_page(PGresult *res, long long *last, unsigned char *head,
    const struct audit_mark *mark)
{
	struct audit_entry	 e;
	unsigned char		 prev[AUDIT_HASH_LEN], stored[AUDIT_HASH_LEN];
	unsigned char		 h[AUDIT_HASH_LEN];
	const char		*v[16];
	long long		 seq;
	int			 row, c;

	for (row = 0; row < PQntuples(res); row++) {
		for (c = 0; c < 16; c++)
			v[c] = PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
		e = (struct audit_entry){ v[0], v[1], v[2], v[3], v[4], v[5], v[6],
		    v[7], v[8], v[9], v[10], v[11], v[12], v[13] };
		seq = strtoll(v[0], NULL, 10);
		if (seq != *last + 1) {
			printf("audit chain BROKEN at seq %lld (id %s): expected "
			    "seq %lld: an entry was removed or moved\n", seq, v[1],
			    *last + 1);
			return -1;
		}
		if (hex_bytea(v[14], prev) == -1 || hex_bytea(v[15], stored) == -1) {
			printf("audit chain BROKEN at seq %lld (id %s): its chain "
			    "fields are not hashes\n", seq, v[1]);
			return -1;
		}
		if (memcmp(prev, head, AUDIT_HASH_LEN) != 0) {
			printf("audit chain BROKEN at seq %lld (id %s): prev_hash is "
			    "not the hash of seq %lld: entries were removed, "
			    "reordered or re-chained\n", seq, v[1], *last);
			return -1;
		}
		if (audit_hash(prev, &e, h) == -1) {
			printf("audit chain BROKEN at seq %lld (id %s): the entry "
			    "cannot be read\n", seq, v[1]);
			return -1;
		}
		if (memcmp(h, stored, AUDIT_HASH_LEN) != 0) {
			printf("audit chain BROKEN at seq %lld (id %s): its hash does "
			    "not match its content: the entry was altered\n", seq,
			    v[1]);
			return -1;
		}
		if (seq == mark->seq && memcmp(h, mark->hash, AUDIT_HASH_LEN) != 0) {
			printf("audit chain BROKEN at seq %lld (id %s): the chain "
			    "holds together but this entry's hash is not the head "
			    "recorded for it: the chain was rewritten\n", seq, v[1]);
			return -1;
		}
		memcpy(head, h, AUDIT_HASH_LEN);
		*last = seq;
	}
	return 0;
}

/* "SEQ:HASH", as audit verify prints its head: 0, or -1 if it is not. */
static int
audit_mark_parse(const char *s, struct audit_mark *mark)
{
	char	*end;

	errno = 0;
	mark->seq = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != ':' || mark->seq < 1 ||
	    !isdigit((unsigned char)*s))
		return -1;
	return hex_hash(end + 1, mark->hash);
}

static int
cmd_audit_verify(const char *expect)
{
	PGconn			*db;
	PGresult		*res = NULL;
	struct audit_mark	 mark = { 0 };
	unsigned char		 head[AUDIT_HASH_LEN], want[AUDIT_HASH_LEN];
	char			 after[24];
	const char		*args[1];
	long long		 last = 0, head_seq;
	int			 n, rc = 1;

	if (expect != NULL && audit_mark_parse(expect, &mark) == -1) {
		fprintf(stderr, "keywork-admin: audit verify: %s is not a head "
		    "as verify prints it (SEQ:HASH, the hash in 64 hex "
		    "digits)\n", expect);
		return 2;
	}
	if ((db = owner_connect()) == NULL)
		return 1;
	if (exec_ok(db, PQexec(db, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; "
	    "SET bytea_output = 'hex'; "
	    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")) == -1)
		goto out;
	res = PQexec(db, "SELECT seq, hash FROM kw.audit_head");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    hex_bytea(PQgetvalue(res, 0, 1), want) == -1) {
		fprintf(stderr, "keywork-admin: cannot read the audit head: %s",
		    PQerrorMessage(db));
		goto out;
	}
	head_seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	res = NULL;
	memset(head, 0, sizeof(head));
	do {
		snprintf(after, sizeof(after), "%lld", last);
		args[0] = after;
		res = PQexecParams(db, "SELECT seq, id, at, user_id, client_id, "
		    "agency_id, roles, action, entity, record_id, record_ids, "
		    "episode_id, request_id, client_addr, prev_hash, hash "
		    "FROM kw.audit WHERE seq > $1 ORDER BY seq LIMIT " AUDIT_PAGE,
		    1, NULL, args, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			fprintf(stderr, "keywork-admin: %s", PQerrorMessage(db));
			goto out;
		}
		if (audit_check_page(res, &last, head, &mark) == -1)
			goto out;
		n = PQntuples(res);
		PQclear(res);
		res = NULL;
	} while (n > 0);
	if (last != head_seq || memcmp(head, want, sizeof(head)) != 0) {
		printf("audit chain BROKEN at the head: the chain ends at seq %lld "
		    "but the head records seq %lld with another hash: entries "
		    "at the end were removed or re-chained\n", last, head_seq);
		goto out;
	}
	if (last < mark.seq) {
		printf("audit chain BROKEN at the head: the chain ends at seq "
		    "%lld, before the recorded head at seq %lld: entries were "
		    "removed\n", last, mark.seq);
		goto out;
	}
	res = PQexec(db, "SELECT count(*) FROM kw.audit WHERE seq IS NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "keywork-admin: %s", PQerrorMessage(db));
		goto out;
	}
	printf("audit chain OK: %lld entries, head ", last);
	hex_print(head);
	printf("; %s not yet sealed", PQgetvalue(res, 0, 0));
	if (mark.seq > 0)
		printf("; extends the head recorded at seq %lld", mark.seq);
	printf("\nkeep this head to check the next verify against: %lld:", last);
	hex_print(head);
	printf("\n");
	rc = 0;
out:
	PQclear(res);
	PQfinish(db);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "check-config", no_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*path;
	char		 err[512];
	int		 ch, check = 0, rc;

	if ((path = getenv("KEYWORK_CONFIG")) == NULL)
		path = "conf/keywork.conf";
	while ((ch = getopt_long(argc, argv, "c:n", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (!check && argc < 1)
		usage();
	if (check || strcmp(argv[0], "check-config") == 0) {
		if (config_load(&config, path, err, sizeof(err)) == -1) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		printf("%s: configuration OK\n", path);
		config_cleanup(&config);
		return 0;
	}
	if (strcmp(argv[0], "migrate") == 0)
		return argc == 1 ? cmd_migrate() : (usage(), 1);
	if (strcmp(argv[0], "create-api-client") == 0)
		return cmd_create_api_client(argc, argv);
	if (strcmp(argv[0], "audit") == 0)
		return (argc == 2 || argc == 3) && strcmp(argv[1], "verify") == 0 ?
		    cmd_audit_verify(argc == 3 ? argv[2] : NULL) : (usage(), 1);

	if (config_load(&config, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (strcmp(argv[0], "create-admin") == 0)
		rc = cmd_create_admin(argc, argv);
	else if (argc != 1)
		usage();
	else if (strcmp(argv[0], "kore-conf") == 0) {
		rc = config_write_kore(&config, stdout) == 0 ? 0 : 1;
		if (rc != 0)
			fprintf(stderr, "keywork-admin: cannot write Kore's "
			    "configuration: listen, metrics_listen and "
			    "module_path must be one word each, and "
			    "metrics_port must differ from port\n");
	}
	else if (strcmp(argv[0], "seed-demo") == 0)
		rc = cmd_seed_demo();
	else
		usage();
	config_cleanup(&config);
	return rc;
}
