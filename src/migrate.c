/*
 * migrate: see migrate.h.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "migrate.h"
#include "token.h"
#include "xmalloc.h"

static int	 migrate_exec(PGconn *, const char *, FILE *);
static int	 migrate_cmp(const void *, const void *);
static char	*migrate_slurp(const char *, size_t *);
static int	 migrate_one(PGconn *, const char *, const char *, FILE *);

static int
migrate_exec(PGconn *db, const char *sql, FILE *out)
{
	PGresult	*res;
	int		 ok;

	res = PQexec(db, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(out, "migrate: %s", PQerrorMessage(db));
	PQclear(res);
	return ok ? 0 : -1;
}

static int
migrate_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
migrate_slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	*len = (size_t)n;
	fclose(f);
	return buf;
}

/* Apply one file unless it is recorded; refuse one recorded with other text. */
static int
migrate_one(PGconn *db, const char *dir, const char *name, FILE *out)
{
	char		 path[4096], sum[TOKEN_HASH_LEN + 1];
	const char	*params[2];
	PGresult	*res;
	char		*sql;
	size_t		 len;
	int		 rc = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((sql = migrate_slurp(path, &len)) == NULL) {
		fprintf(out, "migrate: %s: %s\n", path, strerror(errno));
		return -1;
	}
	token_hash_hex(sql, len, sum);
	params[0] = name;
	params[1] = sum;

	res = PQexecParams(db, "SELECT checksum FROM keywork_migrations "
	    "WHERE version = $1", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(out, "migrate: %s", PQerrorMessage(db));
		goto out;
	}
	if (PQntuples(res) == 1) {
		if (strcmp(PQgetvalue(res, 0, 0), sum) != 0) {
			fprintf(out, "migrate: %s was changed after it was "
			    "applied; add a new migration instead\n", name);
			goto out;
		}
		rc = 0;
		goto out;
	}
	PQclear(res);
	res = NULL;

	if (migrate_exec(db, "BEGIN", out) == -1)
		goto out;
	if (migrate_exec(db, sql, out) == -1) {
		fprintf(out, "migrate: %s failed, rolled back\n", name);
		(void)migrate_exec(db, "ROLLBACK", out);
		goto out;
	}
	res = PQexecParams(db, "INSERT INTO keywork_migrations (version, checksum) "
	    "VALUES ($1, $2)", 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(out, "migrate: %s", PQerrorMessage(db));
		(void)migrate_exec(db, "ROLLBACK", out);
		goto out;
	}
	if (migrate_exec(db, "COMMIT", out) == -1)
		goto out;
	fprintf(out, "migrate: applied %s\n", name);
	rc = 0;
out:
	PQclear(res);
	free(sql);
	return rc;
}

int
migrate_run(PGconn *db, const char *dir, FILE *out)
{
	DIR		 *d;
	struct dirent	 *e;
	char		**names = NULL;
	size_t		  n = 0, cap = 0, i, len;
	int		  rc = -1, locked = 0;

	if ((d = opendir(dir)) == NULL) {
		fprintf(out, "migrate: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".sql") != 0 ||
		    e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), migrate_cmp);

	if (migrate_exec(db, "SET client_min_messages = warning", out) == -1 ||
	    migrate_exec(db, "SELECT pg_advisory_lock(7738134296718403435)",
	    out) == -1)
		goto out;
	locked = 1;
	if (migrate_exec(db, "CREATE TABLE IF NOT EXISTS keywork_migrations ("
	    "version text PRIMARY KEY, checksum text NOT NULL, "
	    "applied_at timestamptz NOT NULL DEFAULT now())", out) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		if (migrate_one(db, dir, names[i], out) == -1)
			goto out;
	}
	rc = 0;
out:
	if (locked)
		(void)migrate_exec(db, "SELECT pg_advisory_unlock_all()", out);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}
