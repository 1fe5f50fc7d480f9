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
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

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
	    "       keywork-admin create-api-client NAME AGENCY\n");
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

	if (config_load(&config, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (strcmp(argv[0], "create-admin") == 0)
		rc = cmd_create_admin(argc, argv);
	else if (argc != 1)
		usage();
	else if (strcmp(argv[0], "kore-conf") == 0)
		rc = config_write_kore(&config, stdout) == 0 ? 0 : 1;
	else if (strcmp(argv[0], "seed-demo") == 0)
		rc = cmd_seed_demo();
	else
		usage();
	config_cleanup(&config);
	return rc;
}
