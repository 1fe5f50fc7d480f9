/*
 * keywork-worker: the scheduled worker. Each pass runs the reminder rules
 * (kw.plan_reminders) for today, which write every reminder due exactly
 * once, whatever the number of passes or of workers running at once. It
 * runs a pass every worker_interval_seconds and as soon as PostgreSQL
 * tells it something became due (LISTEN keywork_due).
 *
 *   keywork-worker [-c FILE] [--once]     (uses DATABASE_URL: the owner)
 *
 * --once runs one pass and exits: 0 when it ran, 1 when it could not.
 */
#include <sys/select.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "config.h"
#include "log.h"

static volatile sig_atomic_t	stopping;

static void	on_signal(int);
static PGconn	*worker_connect(const char *);
static int	worker_pass(PGconn *);
static int	worker_wait(PGconn *, int);
static void	usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr, "usage: keywork-worker [-c FILE] [--once]\n");
	exit(2);
}

static void
on_signal(int sig)
{
	stopping = 1;
}

static PGconn *
worker_connect(const char *url)
{
	PGconn		*db;
	PGresult	*res;

	db = PQconnectdb(url);
	if (PQstatus(db) != CONNECTION_OK) {
		log_msg(LOG_LVL_ERROR, "worker", NULL, "cannot connect to the database");
		PQfinish(db);
		return NULL;
	}
	res = PQexec(db, "SET application_name = 'keywork-worker'; LISTEN keywork_due");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		log_msg(LOG_LVL_ERROR, "worker", NULL, "cannot listen: %s",
		    PQresultErrorField(res, PG_DIAG_SQLSTATE));
		PQclear(res);
		PQfinish(db);
		return NULL;
	}
	PQclear(res);
	return db;
}

/* One pass of the rules. Returns the reminders written, or -1. */
static int
worker_pass(PGconn *db)
{
	PGresult	*res;
	const char	*state;
	int		 n;

	res = PQexec(db, "SELECT kw.plan_reminders(kw.today())");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		log_msg(LOG_LVL_ERROR, "worker", NULL, "pass failed, sqlstate %s",
		    state != NULL ? state : "none");
		PQclear(res);
		return -1;
	}
	n = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	log_msg(LOG_LVL_INFO, "worker", NULL, "pass done, %d reminders written", n);
	return n;
}

/*
 * Sleep up to seconds, returning early (1) on a notification, 0 on time
 * out or a signal, -1 when the connection is lost.
 */
static int
worker_wait(PGconn *db, int seconds)
{
	struct timeval	 tv;
	PGnotify	*note;
	fd_set		 fds;
	int		 fd, rc, woke = 0;

	if ((fd = PQsocket(db)) < 0)
		return -1;
	FD_ZERO(&fds);
	FD_SET(fd, &fds);
	tv.tv_sec = seconds;
	tv.tv_usec = 0;
	rc = select(fd + 1, &fds, NULL, NULL, &tv);
	if (rc < 0)
		return errno == EINTR ? 0 : -1;
	if (rc == 0)
		return 0;
	if (!PQconsumeInput(db))
		return -1;
	while ((note = PQnotifies(db)) != NULL) {
		woke = 1;
		PQfreemem(note);
	}
	return woke;
}

int
main(int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction		 sa;
	const char			*path, *url;
	char				 err[512];
	PGconn				*db = NULL;
	int				 ch, once = 0, backoff = 1, rc = 0;

	if ((path = getenv("KEYWORK_CONFIG")) == NULL)
		path = "conf/keywork.conf";
	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'o':
			once = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (config_load(&config, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	log_set_level(config.log_level);
	if ((url = getenv("DATABASE_URL")) == NULL) {
		fprintf(stderr, "keywork-worker: set DATABASE_URL (the schema owner)\n");
		config_cleanup(&config);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (once) {
		if ((db = worker_connect(url)) == NULL || worker_pass(db) == -1)
			rc = 1;
		PQfinish(db);
		config_cleanup(&config);
		return rc;
	}
	log_msg(LOG_LVL_INFO, "worker", NULL, "started, a pass every %d s",
	    config.worker_interval_seconds);
	while (!stopping) {
		if (db == NULL && (db = worker_connect(url)) == NULL) {
			/* Back off while the database is away, up to a minute. */
			sleep((unsigned)backoff);
			backoff = backoff < 60 ? backoff * 2 : 60;
			continue;
		}
		backoff = 1;
		if (worker_pass(db) == -1 && PQstatus(db) != CONNECTION_OK) {
			PQfinish(db);
			db = NULL;
			continue;
		}
		if (worker_wait(db, config.worker_interval_seconds) == -1) {
			PQfinish(db);
			db = NULL;
		}
	}
	log_msg(LOG_LVL_INFO, "worker", NULL, "stopped");
	PQfinish(db);
	config_cleanup(&config);
	return 0;
}
