/*
 * keywork-admin: the operator's command.
 *
 *   keywork-admin [-c FILE] check-config   (or -n) validate a configuration
 *   keywork-admin [-c FILE] kore-conf      print Kore's configuration for it
 *   keywork-admin migrate                  apply sql/migrations (DATABASE_URL)
 *   keywork-admin [-c FILE] seed-demo      load the demo data set
 */
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
static char	*slurp(const char *);
static int	 exec_ok(PGconn *, PGresult *);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: keywork-admin [-c FILE] check-config | -n\n"
	    "       keywork-admin [-c FILE] kore-conf\n"
	    "       keywork-admin migrate            (uses DATABASE_URL)\n"
	    "       keywork-admin [-c FILE] seed-demo\n");
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

int
main(int argc, char **argv)
{
	const char	*path;
	char		 err[512];
	int		 ch, check = 0, rc;

	if ((path = getenv("KEYWORK_CONFIG")) == NULL)
		path = "conf/keywork.conf";
	while ((ch = getopt(argc, argv, "c:n")) != -1) {
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
	if (!check && argc != 1)
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
		return cmd_migrate();

	if (config_load(&config, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (strcmp(argv[0], "kore-conf") == 0) {
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
