/*
 * keywork-worker: the scheduled worker.
 *
 * A pass runs the reminder rules for today (kw.plan_reminders), which
 * write each reminder due exactly once, with its email and webhook
 * deliveries in the same transaction, however many passes or workers run.
 * Then it ends temporary covers that are over, erases the content of
 * closed episodes past their retention (kw.erase_due_today: on the day's
 * first pass or after a setting changes, a batch at a time), seals the audit trail's new entries into its hash chain
 * (kw.audit_seal), and delivers: it claims due
 * deliveries in batches (FOR UPDATE SKIP LOCKED, under a lease), sends
 * each, and records it sent, or failed (retried later with backoff and
 * jitter, dead after delivery_max_attempts). A worker that dies leaves its
 * claims to the others once the lease runs out; what it sent but had not
 * recorded is sent again, with the same event id.
 *
 * It runs a pass every worker_interval_seconds, as soon as PostgreSQL
 * tells it something became due (LISTEN keywork_due) or another worker
 * wrote reminders (keywork_reminders), and when a retry falls due.
 *
 *   keywork-worker [-c FILE] [--once]     (uses DATABASE_URL: the owner)
 *
 * --once runs one pass with its deliveries and exits: 0 when it ran, 1
 * when it could not. SIGTERM and SIGINT stop it after the batch in hand.
 */
#include <sys/select.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libpq-fe.h>
#include <openssl/rand.h>

#include "config.h"
#include "deliver.h"
#include "log.h"
#include "xmalloc.h"

#define WORKER_ERR_MAX		400
#define WORKER_ERASE_BATCH	50	/* episodes erased per transaction */

struct worker {
	PGconn			*db;
	CURL			*mail;
	CURL			*hook;
	struct deliver_smtp	 smtp;
	int			 email;		/* SMTP is set up */
	char			 id[96];	/* host:pid:random, for claims */
	char			 channels[32];	/* text[] literal */
};

static volatile sig_atomic_t	stopping;

static void	on_signal(int);
static int	worker_init(struct worker *);
static void	worker_cleanup(struct worker *);
static PGconn	*worker_connect(const char *);
static int	worker_pass(struct worker *);
static int	worker_erase(struct worker *);
static int	worker_seal(struct worker *);
static int	worker_deliver(struct worker *);
static int	worker_batch(struct worker *, int *);
static int	worker_send(struct worker *, PGresult *, int, char *, size_t);
static int	worker_record(struct worker *, PGresult *, int, int,
		    const char *);
static void	worker_release(struct worker *, PGresult *, int);
static int	worker_next_due(struct worker *);
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

static int
worker_init(struct worker *w)
{
	unsigned char	rnd[6];
	char		host[48];

	memset(w, 0, sizeof(*w));
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	snprintf(w->id, sizeof(w->id), "%s:%d:%02x%02x%02x%02x%02x%02x", host,
	    (int)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);

	w->email = config.smtp_url != NULL && *config.smtp_url != '\0';
	w->smtp.url = config.smtp_url;
	w->smtp.starttls = config.smtp_starttls;
	w->smtp.username = config.smtp_username;
	w->smtp.password = config.smtp_password;
	w->smtp.from = config.smtp_from;
	w->smtp.ca_file = config.smtp_ca_file;
	w->smtp.timeout = 30;
	snprintf(w->channels, sizeof(w->channels), "{webhook%s}",
	    w->email ? ",email" : "");
	if ((w->mail = curl_easy_init()) == NULL ||
	    (w->hook = curl_easy_init()) == NULL)
		return -1;
	return 0;
}

static void
worker_cleanup(struct worker *w)
{
	PQfinish(w->db);
	w->db = NULL;
	if (w->mail != NULL)
		curl_easy_cleanup(w->mail);
	if (w->hook != NULL)
		curl_easy_cleanup(w->hook);
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
	/*
	 * JIT compiling a pass's queries costs more than it saves: they are
	 * many index lookups, not long scans.
	 */
	res = PQexec(db, "SET application_name = 'keywork-worker'; SET jit = off; "
	    "LISTEN keywork_due; LISTEN keywork_reminders");
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

/*
 * Seal the audit entries committed since the last pass, a batch per
 * transaction, until a batch comes back short. Entries still being
 * written are sealed by a later pass. Returns the number sealed, or -1.
 */
#define SEAL_BATCH 5000
#define SEAL_BATCH_TEXT "5000"

static int
worker_seal(struct worker *w)
{
	const char	*state;
	PGresult	*res;
	int		 n, total = 0;

	do {
		res = PQexec(w->db, "SELECT kw.audit_seal(" SEAL_BATCH_TEXT ")");
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			log_msg(LOG_LVL_ERROR, "worker", NULL,
			    "sealing the audit trail failed, sqlstate %s",
			    state != NULL ? state : "none");
			PQclear(res);
			return -1;
		}
		n = atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
		total += n;
	} while (n == SEAL_BATCH && !stopping);
	if (total > 0)
		log_msg(LOG_LVL_INFO, "worker", NULL, "%d audit entries sealed",
		    total);
	return total;
}

/*
 * The rules for today, then the end of temporary covers that are over,
 * then erasure of what is past its retention, then the audit trail's
 * sealing. Returns the reminders written, or -1.
 */
static int
worker_pass(struct worker *w)
{
	const char	*args[1] = { w->email ? "true" : "false" };
	const char	*state;
	PGresult	*res;
	int		 n;

	res = PQexecParams(w->db, "SELECT kw.plan_reminders(kw.today(), $1)",
	    1, NULL, args, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		log_msg(LOG_LVL_ERROR, "worker", NULL, "pass failed, sqlstate %s",
		    state != NULL ? state : "none");
		PQclear(res);
		return -1;
	}
	n = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);

	res = PQexec(w->db, "SELECT kw.end_temporary_covers()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		log_msg(LOG_LVL_ERROR, "worker", NULL,
		    "ending temporary covers failed, sqlstate %s",
		    state != NULL ? state : "none");
	} else if (atoi(PQgetvalue(res, 0, 0)) > 0) {
		log_msg(LOG_LVL_INFO, "worker", NULL, "%s temporary covers ended",
		    PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	(void)worker_erase(w);
	(void)worker_seal(w);
	log_msg(LOG_LVL_INFO, "worker", NULL, "pass done, %d reminders written", n);
	return n;
}

/*
 * Erase the closed episodes due for it, WORKER_ERASE_BATCH to a
 * transaction, until a batch comes back short (which completes the day's
 * check: later passes that day skip it). Logs the count only.
 * Returns the number erased, or -1.
 */
static int
worker_erase(struct worker *w)
{
	char		 batch[16];
	const char	*args[1] = { batch };
	const char	*state;
	PGresult	*res;
	int		 n, total = 0;

	snprintf(batch, sizeof(batch), "%d", WORKER_ERASE_BATCH);
	do {
		res = PQexecParams(w->db,
		    "SELECT kw.erase_due_today(kw.today(), $1)", 1, NULL, args,
		    NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			log_msg(LOG_LVL_ERROR, "worker", NULL,
			    "erasure failed, sqlstate %s", state != NULL ? state : "none");
			PQclear(res);
			total = -1;
			break;
		}
		n = atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
		total += n;
	} while (n == WORKER_ERASE_BATCH && !stopping);
	if (total > 0)
		log_msg(LOG_LVL_INFO, "worker", NULL, "%d episodes erased", total);
	return total;
}

/* Deliver batches until none is due. Returns the number sent, or -1. */
static int
worker_deliver(struct worker *w)
{
	int	claimed, sent, total = 0;

	do {
		if ((sent = worker_batch(w, &claimed)) == -1)
			return -1;
		total += sent;
	} while (claimed > 0 && !stopping);
	if (total > 0)
		log_msg(LOG_LVL_INFO, "worker", NULL, "%d deliveries sent", total);
	return total;
}

/*
 * Claim one batch and send it. Sets *claimed; returns the number sent, or
 * -1 when the database is lost.
 */
static int
worker_batch(struct worker *w, int *claimed)
{
	char		 batch[16], lease[16], err[WORKER_ERR_MAX];
	const char	*args[4] = { w->id, w->channels, batch, lease };
	const char	*state;
	PGresult	*res;
	time_t		 deadline;
	int		 i, n, sent = 0;

	*claimed = 0;
	snprintf(batch, sizeof(batch), "%d", config.delivery_batch);
	snprintf(lease, sizeof(lease), "%d", config.delivery_lease_seconds);
	res = PQexecParams(w->db, "SELECT id, event_id, channel, event_type, "
	    "attempts, email, url, secret, subject, body "
	    "FROM kw.claim_deliveries($1, $2, $3, $4)", 4, NULL, args, NULL,
	    NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		log_msg(LOG_LVL_ERROR, "worker", NULL, "claim failed, sqlstate %s",
		    state != NULL ? state : "none");
		PQclear(res);
		return -1;
	}
	n = *claimed = PQntuples(res);

	/*
	 * Start no send after three quarters of the lease: what is left is
	 * given back rather than risk another worker sending it too.
	 */
	deadline = time(NULL) + config.delivery_lease_seconds * 3 / 4;
	for (i = 0; i < n; i++) {
		if (time(NULL) > deadline) {
			worker_release(w, res, i);
			break;
		}
		if (worker_send(w, res, i, err, sizeof(err)) == 0) {
			if (worker_record(w, res, i, 1, NULL) == -1)
				goto lost;
			sent++;
		} else if (worker_record(w, res, i, 0, err) == -1)
			goto lost;
	}
	PQclear(res);
	return sent;
lost:
	PQclear(res);
	return -1;
}

static int
worker_send(struct worker *w, PGresult *res, int i, char *err, size_t errlen)
{
	const char	*channel = PQgetvalue(res, i, 2);

	if (strcmp(channel, "email") == 0)
		return deliver_email(w->mail, &w->smtp, PQgetvalue(res, i, 5),
		    PQgetvalue(res, i, 8), PQgetvalue(res, i, 9),
		    PQgetvalue(res, i, 1), err, errlen);
	return deliver_webhook(w->hook, PQgetvalue(res, i, 6),
	    PQgetvalue(res, i, 7), PQgetvalue(res, i, 1), PQgetvalue(res, i, 3),
	    PQgetvalue(res, i, 9), config.webhook_timeout_seconds,
	    config.webhook_allow_http, err, errlen);
}

/* Record row i sent (ok) or failed with err. -1 when the database is lost. */
static int
worker_record(struct worker *w, PGresult *res, int i, int ok, const char *err)
{
	char		 max[16], base[16], cap[16];
	const char	*args[6] = { PQgetvalue(res, i, 0), w->id, err, max, base,
			    cap };
	const char	*status;
	PGresult	*r;

	if (ok) {
		r = PQexecParams(w->db, "SELECT kw.delivery_sent($1, $2)", 2,
		    NULL, args, NULL, NULL, 0);
	} else {
		snprintf(max, sizeof(max), "%d", config.delivery_max_attempts);
		snprintf(base, sizeof(base), "%d", config.delivery_backoff_seconds);
		snprintf(cap, sizeof(cap), "%d", config.delivery_backoff_max_seconds);
		r = PQexecParams(w->db,
		    "SELECT kw.delivery_failed($1, $2, $3, $4, $5, $6)", 6, NULL,
		    args, NULL, NULL, 0);
	}
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_msg(LOG_LVL_ERROR, "worker", NULL,
		    "cannot record delivery %s", args[0]);
		PQclear(r);
		return -1;
	}
	status = PQgetvalue(r, 0, 0);
	if (ok && strcmp(status, "t") != 0)
		log_msg(LOG_LVL_WARN, "worker", NULL, "delivery %s sent after its "
		    "lease ran out", args[0]);
	else if (ok)
		log_debug("worker", NULL, "delivery %s sent", args[0]);
	else
		log_msg(strcmp(status, "dead") == 0 ? LOG_LVL_ERROR : LOG_LVL_WARN,
		    "worker", NULL, "%s delivery %s attempt %s failed (%s): %s",
		    PQgetvalue(res, i, 2), args[0], PQgetvalue(res, i, 4),
		    *status != '\0' ? status : "lease ran out", err);
	PQclear(r);
	return 0;
}

/* Give back rows from..n of a claim, untried. */
static void
worker_release(struct worker *w, PGresult *res, int from)
{
	const char	*args[2];
	char		*ids, *p;
	PGresult	*r;
	int		 i, n = PQntuples(res);

	p = ids = xmalloc((size_t)(n - from) * 37 + 3);
	*p++ = '{';
	for (i = from; i < n; i++) {
		p += sprintf(p, "%s%s", i > from ? "," : "", PQgetvalue(res, i, 0));
	}
	*p++ = '}';
	*p = '\0';
	args[0] = w->id;
	args[1] = ids;
	r = PQexecParams(w->db, "SELECT kw.release_deliveries($1, $2)", 2, NULL,
	    args, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		log_msg(LOG_LVL_WARN, "worker", NULL, "lease nearly out: %s "
		    "deliveries given back", PQgetvalue(r, 0, 0));
	PQclear(r);
	free(ids);
}

/* Seconds until the next retry falls due (at most the interval). */
static int
worker_next_due(struct worker *w)
{
	const char	*args[1] = { w->channels };
	PGresult	*res;
	int		 s = config.worker_interval_seconds;
	double		 d;

	res = PQexecParams(w->db, "SELECT extract(epoch FROM min(next_attempt_at) "
	    "- now()) FROM kw.deliveries WHERE status = 'pending' "
	    "AND channel = ANY ($1)", 1, NULL, args, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && !PQgetisnull(res, 0, 0)) {
		d = ceil(atof(PQgetvalue(res, 0, 0)));
		if (d < s)
			s = d < 1 ? 1 : (int)d;
	}
	PQclear(res);
	return s;
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
	/* Notifications that came in during the pass count at once. */
	if (!PQconsumeInput(db))
		return -1;
	while ((note = PQnotifies(db)) != NULL) {
		woke = 1;
		PQfreemem(note);
	}
	if (woke)
		return 1;
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
	struct worker			 w;
	const char			*path, *url;
	char				 err[512];
	int				 ch, once = 0, backoff = 1, rc = 1;

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
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    worker_init(&w) == -1) {
		fprintf(stderr, "keywork-worker: cannot set up libcurl\n");
		config_cleanup(&config);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (once) {
		if ((w.db = worker_connect(url)) != NULL && worker_pass(&w) != -1 &&
		    worker_deliver(&w) != -1)
			rc = 0;
		goto out;
	}
	log_msg(LOG_LVL_INFO, "worker", NULL, "started, a pass every %d s, "
	    "email %s", config.worker_interval_seconds, w.email ? "on" : "off");
	while (!stopping) {
		if (w.db == NULL && (w.db = worker_connect(url)) == NULL) {
			/* Back off while the database is away, up to a minute. */
			sleep((unsigned)backoff);
			backoff = backoff < 60 ? backoff * 2 : 60;
			continue;
		}
		backoff = 1;
		if ((worker_pass(&w) == -1 || worker_deliver(&w) == -1) &&
		    PQstatus(w.db) != CONNECTION_OK) {
			PQfinish(w.db);
			w.db = NULL;
			continue;
		}
		if (stopping)
			break;
		if (worker_wait(w.db, worker_next_due(&w)) == -1) {
			PQfinish(w.db);
			w.db = NULL;
		}
	}
	log_msg(LOG_LVL_INFO, "worker", NULL, "stopped");
	rc = 0;
out:
	worker_cleanup(&w);
	curl_global_cleanup();
	config_cleanup(&config);
	return rc;
}
