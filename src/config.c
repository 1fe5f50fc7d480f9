/*
 * config: keywork's settings, from defaults, a file and the environment.
 *
 * The table below is the only place a setting is described; the parser,
 * the environment overrides, config_dump and the documentation all follow
 * it. Values are checked against the table's bounds before they reach the
 * struct, so the rest of the program never sees a value out of range.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

/* Above this a "configuration" is a mistake (or an attack on the parser). */
#define CONFIG_FILE_MAX		(1024 * 1024)
#define CONFIG_REASON_MAX	256
/* Smaller than a reason, which prefixes it with the setting's name. */
#define CONFIG_WHY_MAX		192
#define CONFIG_ENV_PREFIX	"KEYWORK_"
#define CONFIG_ENV_MAX		64
/* Values echoed back in error messages are cut to this many bytes. */
#define CONFIG_ECHO_MAX		40

/* Kore must accept a larger body than we do, see config_write_kore. */
#define CONFIG_KORE_BODY_SLACK	65536

enum config_type {
	CONFIG_STRING,
	CONFIG_INT,
	CONFIG_BOOL,
};

/* The value ends up in Kore's whitespace-separated syntax. */
#define CONFIG_F_WORD		0x01
/* Never printed (config_dump shows only whether it is set). */
#define CONFIG_F_SECRET		0x02
/* A list of addresses and prefixes, kept parsed (trusted_proxies). */
#define CONFIG_F_NETS		0x04

/* Entries of an address list; more is a mistake. */
#define CONFIG_NETS_MAX		64

struct config_setting {
	const char		*name;
	enum config_type	 type;
	const char		*def;
	/* int: smallest and largest value; string: shortest and longest. */
	long long		 min;
	long long		 max;
	size_t			 offset;
	int			 flags;
	const char *const	*choices;
	const char		*help;
};

static const char *const config_log_levels[] = {
	"debug", "info", "warn", "error", NULL
};

#define S(n)	offsetof(struct config, n)

static const struct config_setting config_settings[] = {
	/* HTTP server */
	{ "listen", CONFIG_STRING, "127.0.0.1", 1, 255, S(listen),
	    CONFIG_F_WORD, NULL,
	    "address Kore binds to (IPv4 or IPv6 address or host name)" },
	{ "port", CONFIG_INT, "8888", 1, 65535, S(port), 0, NULL,
	    "TCP port Kore listens on" },
	{ "workers", CONFIG_INT, "2", 1, 64, S(workers), 0, NULL,
	    "Kore worker processes" },
	{ "worker_max_connections", CONFIG_INT, "512", 1, 65536,
	    S(worker_max_connections), 0, NULL,
	    "open connections per worker" },
	{ "worker_accept_threshold", CONFIG_INT, "1", 1, 1024,
	    S(worker_accept_threshold), 0, NULL,
	    "connections a worker accepts in a row before another may (1: "
	    "new connections spread over the workers)" },
	{ "seccomp_tracing", CONFIG_BOOL, "false", 0, 1, S(seccomp_tracing),
	    0, NULL,
	    "log system calls Kore's seccomp filter would refuse (debugging)" },
	{ "module_path", CONFIG_STRING, "build/keywork.so", 1, 4096,
	    S(module_path), CONFIG_F_WORD, NULL,
	    "keywork's Kore module (shared object) Kore loads" },
	{ "spec_path", CONFIG_STRING, "openapi.yaml", 1, 4096, S(spec_path),
	    0, NULL,
	    "OpenAPI document that defines and validates the API" },
	{ "docs_dir", CONFIG_STRING, "build/docs", 1, 4096, S(docs_dir),
	    0, NULL,
	    "folder of the API reference page (GET /docs), built by make docs "
	    "and read at start-up" },
	{ "pid_file", CONFIG_STRING, "var/kore.pid", 1, 4096, S(pid_file),
	    CONFIG_F_WORD, NULL,
	    "file where Kore writes its process id" },
	{ "trusted_proxies", CONFIG_STRING, "", 0, 1024, S(trusted_proxies),
	    CONFIG_F_NETS, NULL,
	    "addresses or prefixes (a.b.c.d/n, x::/n) of proxies whose "
	    "X-Forwarded-For gives the client's address; empty: none" },

	{ "metrics_listen", CONFIG_STRING, "127.0.0.1", 1, 255,
	    S(metrics_listen), CONFIG_F_WORD, NULL,
	    "address of the internal listener that serves GET /metrics" },
	{ "metrics_port", CONFIG_INT, "0", 0, 65535, S(metrics_port), 0, NULL,
	    "port of the internal listener that serves GET /metrics; 0: none" },
	{ "shutdown_grace_seconds", CONFIG_INT, "20", 1, 3600,
	    S(shutdown_grace_seconds), 0, NULL,
	    "seconds a worker has on SIGTERM to finish the requests in flight" },

	/* Limits and timeouts */
	{ "keepalive_seconds", CONFIG_INT, "20", 1, 3600,
	    S(keepalive_seconds), 0, NULL,
	    "seconds an idle keep-alive connection stays open" },
	{ "header_timeout_seconds", CONFIG_INT, "10", 1, 3600,
	    S(header_timeout_seconds), 0, NULL,
	    "seconds a client has to send the request headers" },
	{ "body_timeout_seconds", CONFIG_INT, "30", 1, 3600,
	    S(body_timeout_seconds), 0, NULL,
	    "seconds a client has to send the request body" },
	{ "header_max_bytes", CONFIG_INT, "8192", 1024, 65535,
	    S(header_max_bytes), 0, NULL,
	    "largest request line and headers, in bytes" },
	{ "body_max_bytes", CONFIG_INT, "1048576", 1024, 67108864,
	    S(body_max_bytes), 0, NULL,
	    "largest request body in bytes; larger bodies get 413" },
	{ "document_max_bytes", CONFIG_INT, "10485760", 1024, 104857600,
	    S(document_max_bytes), 0, NULL,
	    "largest document upload in bytes; larger ones get 413" },
	{ "request_limit", CONFIG_INT, "1000", 1, 100000, S(request_limit),
	    0, NULL,
	    "requests in flight per worker" },
	{ "rate_limit_per_token", CONFIG_INT, "600", 0, 60000000,
	    S(rate_limit_per_token), 0, NULL,
	    "requests a minute one bearer token may make (sustained); over "
	    "it: 429; 0: no limit" },
	{ "rate_limit_token_burst", CONFIG_INT, "120", 1, 1000000,
	    S(rate_limit_token_burst), 0, NULL,
	    "requests one bearer token may make at once, above the rate" },
	{ "rate_limit_per_address", CONFIG_INT, "1200", 0, 60000000,
	    S(rate_limit_per_address), 0, NULL,
	    "requests a minute one client address may make (sustained); over "
	    "it: 429; 0: no limit" },
	{ "rate_limit_address_burst", CONFIG_INT, "300", 1, 1000000,
	    S(rate_limit_address_burst), 0, NULL,
	    "requests one client address may make at once, above the rate" },
	{ "rate_limit_table_size", CONFIG_INT, "65536", 64, 16777216,
	    S(rate_limit_table_size), 0, NULL,
	    "rate limit buckets shared by the workers (about 33 bytes each); when "
	    "full, the least recently used are reused" },
	{ "json_max_depth", CONFIG_INT, "32", 2, 2000, S(json_max_depth), 0,
	    NULL,
	    "deepest nesting of arrays and objects in a JSON request body; "
	    "deeper: 400" },
	{ "json_max_array", CONFIG_INT, "10000", 1, 10000000,
	    S(json_max_array), 0, NULL,
	    "most elements of any one array in a JSON request body; more: 400" },

	/* Database */
	{ "database_url", CONFIG_STRING, "dbname=keywork user=keywork_api",
	    1, 4096, S(database_url), 0, NULL,
	    "libpq connection string (conninfo or URL) of the API role" },
	{ "db_connections", CONFIG_INT, "8", 1, 256, S(db_connections), 0,
	    NULL,
	    "PostgreSQL connections per worker" },
	{ "db_queue_limit", CONFIG_INT, "1000", 1, 100000, S(db_queue_limit),
	    0, NULL,
	    "requests per worker waiting for a free connection" },
	{ "statement_timeout_ms", CONFIG_INT, "10000", 100, 3600000,
	    S(statement_timeout_ms), 0, NULL,
	    "PostgreSQL statement_timeout, in milliseconds" },
	{ "db_session_options", CONFIG_BOOL, "true", 0, 1,
	    S(db_session_options), 0, NULL,
	    "send statement_timeout and kw.report_identity as connection "
	    "options (false behind PgBouncer: set them on the role)" },

	/* Sign-in */
	{ "access_token_ttl", CONFIG_INT, "900", 60, 86400,
	    S(access_token_ttl), 0, NULL,
	    "lifetime of an access token, in seconds" },
	{ "refresh_token_ttl", CONFIG_INT, "2592000", 3600, 31536000,
	    S(refresh_token_ttl), 0, NULL,
	    "lifetime of a refresh token, in seconds" },
	{ "argon2_memory_kib", CONFIG_INT, "19456", 8192, 1048576,
	    S(argon2_memory_kib), 0, NULL,
	    "Argon2id memory cost of new password hashes, in KiB" },
	{ "argon2_iterations", CONFIG_INT, "2", 1, 16, S(argon2_iterations),
	    0, NULL,
	    "Argon2id time cost (passes) of new password hashes" },
	{ "argon2_parallelism", CONFIG_INT, "1", 1, 16,
	    S(argon2_parallelism), 0, NULL,
	    "Argon2id lanes (threads) of new password hashes" },
	{ "login_account_failures", CONFIG_INT, "5", 1, 1000,
	    S(login_account_failures), 0, NULL,
	    "failed sign-ins per account within the window before refusing" },
	{ "login_address_failures", CONFIG_INT, "20", 1, 100000,
	    S(login_address_failures), 0, NULL,
	    "failed sign-ins per client address within the window before "
	    "refusing" },
	{ "login_window_seconds", CONFIG_INT, "900", 60, 86400,
	    S(login_window_seconds), 0, NULL,
	    "window over which failed sign-ins are counted, in seconds" },

	/* Logging */
	{ "log_level", CONFIG_STRING, "info", 1, 16, S(log_level), 0,
	    config_log_levels,
	    "least severe messages logged: debug, info, warn or error" },
	{ "demo_mode", CONFIG_BOOL, "false", 0, 1, S(demo_mode), 0, NULL,
	    "allow seeding demo accounts (published password); never in "
	    "production" },

	/* The scheduled worker and its delivery channels */
	{ "worker_interval_seconds", CONFIG_INT, "60", 1, 86400,
	    S(worker_interval_seconds), 0, NULL,
	    "seconds between the scheduled worker's passes (it also wakes "
	    "when something becomes due)" },
	{ "smtp_url", CONFIG_STRING, "", 0, 1024, S(smtp_url), 0, NULL,
	    "SMTP server for reminder email, smtp://host:port or "
	    "smtps://host:port; empty: no email" },
	{ "smtp_starttls", CONFIG_BOOL, "true", 0, 1, S(smtp_starttls), 0,
	    NULL, "require STARTTLS on smtp:// (never send mail in clear)" },
	{ "smtp_username", CONFIG_STRING, "", 0, 256, S(smtp_username), 0,
	    NULL, "SMTP AUTH user name; empty: no AUTH" },
	{ "smtp_password", CONFIG_STRING, "", 0, 256, S(smtp_password),
	    CONFIG_F_SECRET, NULL, "SMTP AUTH password (set it in the "
	    "environment)" },
	{ "smtp_from", CONFIG_STRING, "keywork@localhost", 3, 254,
	    S(smtp_from), 0, NULL, "sender address of reminder email" },
	{ "smtp_ca_file", CONFIG_STRING, "", 0, 1024, S(smtp_ca_file), 0,
	    NULL, "CA certificates (PEM) that the SMTP server's certificate "
	    "is checked against; empty: the system's" },
	{ "webhook_timeout_seconds", CONFIG_INT, "10", 1, 120,
	    S(webhook_timeout_seconds), 0, NULL,
	    "seconds a webhook receiver has to answer" },
	{ "webhook_allow_http", CONFIG_BOOL, "false", 0, 1,
	    S(webhook_allow_http), 0, NULL,
	    "accept plain http:// webhook URLs (local testing only)" },
	{ "delivery_max_attempts", CONFIG_INT, "8", 1, 100,
	    S(delivery_max_attempts), 0, NULL,
	    "attempts at an email or webhook before it is marked dead" },
	{ "delivery_backoff_seconds", CONFIG_INT, "30", 1, 86400,
	    S(delivery_backoff_seconds), 0, NULL,
	    "wait before the first retry; doubled each attempt, with jitter" },
	{ "delivery_backoff_max_seconds", CONFIG_INT, "3600", 1, 604800,
	    S(delivery_backoff_max_seconds), 0, NULL,
	    "longest wait between retries" },
	{ "delivery_lease_seconds", CONFIG_INT, "300", 5, 86400,
	    S(delivery_lease_seconds), 0, NULL,
	    "how long a worker holds the deliveries it claimed; a worker that "
	    "dies leaves them to others after this" },
	{ "delivery_batch", CONFIG_INT, "50", 1, 1000, S(delivery_batch), 0,
	    NULL, "deliveries a worker claims at a time" },
};

#undef S

#define CONFIG_NSETTINGS	\
	(sizeof(config_settings) / sizeof(config_settings[0]))

struct config	config;

static int	config_read_file(const char *, char **, size_t *, char *,
		    size_t);
static int	config_parse(struct config *, const char *, char *, size_t,
		    char *, size_t);
static int	config_parse_line(struct config *, char *, unsigned long,
		    unsigned long *, char *, size_t);
static int	config_unquote(char *, char **, char *, size_t);
static int	config_environment(struct config *, char *, size_t);
static int	config_set(struct config *, const struct config_setting *,
		    const char *, char *, size_t);
static int	config_set_int(struct config *,
		    const struct config_setting *, const char *, char *,
		    size_t);
static int	config_set_bool(struct config *,
		    const struct config_setting *, const char *, char *,
		    size_t);
static int	config_set_string(struct config *,
		    const struct config_setting *, const char *, char *,
		    size_t);
static int	config_parse_nets(const char *, struct config_net **,
		    size_t *, char *, size_t);
static int	config_parse_net(char *, struct config_net *);
static int	config_net_match(const struct config_net *, int,
		    const unsigned char *);
static const struct config_setting	*config_find(const char *, size_t);
static void	config_printable(char *, size_t, const char *, size_t);
static int	config_is_word(const char *);
static void	config_print_quoted(FILE *, const char *, int);
static char	**config_str(struct config *, const struct config_setting *);
static int	*config_int(struct config *, const struct config_setting *);
static char	*config_strdup(const char *);

int
config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	const struct config_setting	*s;
	char				 reason[CONFIG_REASON_MAX];
	char				*buf;
	size_t				 i, len;
	int				 ret;

	/*
	 * c may be uninitialised, so nothing in it is freed: reloading into
	 * a loaded struct needs config_cleanup first. On failure c is left
	 * empty, and config_cleanup on it is still safe.
	 */
	ret = -1;
	buf = NULL;
	memset(c, 0, sizeof(*c));
	if (errlen > 0)
		err[0] = '\0';

	for (i = 0; i < CONFIG_NSETTINGS; i++) {
		s = &config_settings[i];
		if (config_set(c, s, s->def, reason, sizeof(reason)) == -1) {
			/* A default out of its own bounds is a bug here. */
			fprintf(stderr, "config: default of %s: %s\n",
			    s->name, reason);
			abort();
		}
	}

	if (path != NULL) {
		if (config_read_file(path, &buf, &len, err, errlen) == -1)
			goto out;
		if (config_parse(c, path, buf, len, err, errlen) == -1)
			goto out;
	}

	if (config_environment(c, err, errlen) == -1)
		goto out;

	ret = 0;

out:
	free(buf);
	if (ret == -1)
		config_cleanup(c);
	return (ret);
}

void
config_cleanup(struct config *c)
{
	size_t		i;
	char		**p;

	for (i = 0; i < CONFIG_NSETTINGS; i++) {
		if (config_settings[i].type != CONFIG_STRING)
			continue;
		p = config_str(c, &config_settings[i]);
		free(*p);
		*p = NULL;
	}
	free(c->trusted_nets);
	c->trusted_nets = NULL;
	c->ntrusted_nets = 0;
}

int
config_proxy_trusted(const struct config *c, int family, const void *addr)
{
	const unsigned char	*a = addr;
	size_t			 i;

	if (family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)addr)) {
		family = AF_INET;
		a += 12;
	} else if (family != AF_INET && family != AF_INET6) {
		return (0);
	}

	for (i = 0; i < c->ntrusted_nets; i++) {
		if (config_net_match(&c->trusted_nets[i], family, a))
			return (1);
	}

	return (0);
}

int
config_write_kore(const struct config *c, FILE *out)
{
	long long	body_max;

	/* A space or newline here would change the meaning of Kore's file. */
	if (!config_is_word(c->listen) || !config_is_word(c->module_path) ||
	    !config_is_word(c->metrics_listen))
		return (-1);
	if (c->metrics_port == c->port && c->metrics_port != 0)
		return (-1);

	body_max = (long long)c->body_max_bytes * 2 + CONFIG_KORE_BODY_SLACK;
	if ((long long)c->document_max_bytes + CONFIG_KORE_BODY_SLACK > body_max)
		body_max = (long long)c->document_max_bytes + CONFIG_KORE_BODY_SLACK;

	fprintf(out,
	    "# Generated by keywork-admin kore-conf from keywork's settings "
	    "(defaults,\n"
	    "# configuration file, KEYWORK_* environment): do not edit.\n"
	    "# This Kore has no 'deployment' setting; run it as\n"
	    "#   kore -c <this file> -f -n -r\n"
	    "# (foreground, no chroot, no change of user).\n"
	    "server keywork {\n"
	    "\tbind %s %d\n"
	    "\ttls no\n"
	    "}\n"
	    "load %s kw_init\n"
	    "workers %d\n"
	    "worker_max_connections %d\n"
	    "worker_accept_threshold %d\n"
	    "http_keepalive_time %d\n"
	    "http_header_timeout %d\n"
	    "http_body_timeout %d\n"
	    "http_header_max %d\n"
	    "# Kore answers a body over http_body_max itself, with an empty 413;\n"
	    "# keywork answers one over body_max_bytes (%d), or for an upload\n"
	    "# document_max_bytes (%d), with a problem+json 413 of its own, so\n"
	    "# Kore's cap is larger: the larger of body_max_bytes * 2 and\n"
	    "# document_max_bytes, + %d.\n"
	    "http_body_max %lld\n"
	    "http_request_limit %d\n"
	    "http_server_version keywork\n"
	    "# HTTPS and its HSTS header belong to the proxy in front (nginx).\n"
	    "http_hsts_enable 0\n"
	    "pidfile %s\n"
	    "pgsql_conn_max %d\n"
	    "pgsql_queue_limit %d\n"
	    "seccomp_tracing %s\n"
	    "domain * {\n"
	    "\tattach keywork\n"
	    "\troute ^/.*$ kw_http_dispatch\n"
	    "}\n",
	    c->listen, c->port,
	    c->module_path,
	    c->workers,
	    c->worker_max_connections,
	    c->worker_accept_threshold,
	    c->keepalive_seconds,
	    c->header_timeout_seconds,
	    c->body_timeout_seconds,
	    c->header_max_bytes,
	    c->body_max_bytes, c->document_max_bytes, CONFIG_KORE_BODY_SLACK,
	    body_max,
	    c->request_limit,
	    c->pid_file,
	    c->db_connections,
	    c->db_queue_limit,
	    c->seccomp_tracing ? "yes" : "no");

	/*
	 * Monitoring (GET /metrics) has a listener of its own, never to be
	 * published: the module serves it there only (see src/http.h).
	 */
	if (c->metrics_port != 0) {
		fprintf(out,
		    "server internal {\n"
		    "\tbind %s %d\n"
		    "\ttls no\n"
		    "}\n"
		    "domain * {\n"
		    "\tattach internal\n"
		    "\troute ^/.*$ kw_http_dispatch\n"
		    "}\n",
		    c->metrics_listen, c->metrics_port);
	}

	if (fflush(out) == EOF || ferror(out))
		return (-1);

	return (0);
}

void
config_dump(const struct config *c, FILE *out)
{
	const struct config_setting	*s;
	size_t				 i;
	int				 v;
	char				*str;

	for (i = 0; i < CONFIG_NSETTINGS; i++) {
		s = &config_settings[i];
		fprintf(out, "%s = ", s->name);
		switch (s->type) {
		case CONFIG_STRING:
			str = *config_str((struct config *)c, s);
			if (s->flags & CONFIG_F_SECRET) {
				fputs(str != NULL && *str != '\0' ?
				    "\"(set)\"" : "\"\"", out);
				break;
			}
			config_print_quoted(out, str != NULL ? str : "",
			    strcmp(s->name, "database_url") == 0);
			break;
		case CONFIG_INT:
			fprintf(out, "%d", *config_int((struct config *)c, s));
			break;
		case CONFIG_BOOL:
			v = *config_int((struct config *)c, s);
			fputs(v ? "true" : "false", out);
			break;
		}
		fprintf(out, "  # %s\n", s->help);
	}
}

/*
 * The whole file is read at once so that line parsing works on bytes we
 * know the length of: a NUL byte in the file is then an error, not a
 * silently shortened line.
 */
static int
config_read_file(const char *path, char **bufp, size_t *lenp, char *err,
    size_t errlen)
{
	FILE		*fp;
	char		*buf;
	size_t		 len, n;
	int		 ret;

	ret = -1;
	buf = NULL;
	len = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return (-1);
	}

	/* One byte more than the limit tells "too large" from "at limit". */
	if ((buf = malloc(CONFIG_FILE_MAX + 2)) == NULL)
		abort();

	for (;;) {
		n = fread(buf + len, 1, CONFIG_FILE_MAX + 1 - len, fp);
		len += n;
		if (n == 0 || len > CONFIG_FILE_MAX)
			break;
	}

	if (ferror(fp)) {
		snprintf(err, errlen, "%s: cannot read: %s", path,
		    strerror(errno));
		goto out;
	}

	if (len > CONFIG_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path,
		    CONFIG_FILE_MAX);
		goto out;
	}

	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	buf = NULL;
	ret = 0;

out:
	free(buf);
	(void)fclose(fp);
	return (ret);
}

/* buf holds len bytes plus one spare byte; lines are cut in place. */
static int
config_parse(struct config *c, const char *path, char *buf, size_t len,
    char *err, size_t errlen)
{
	char		 reason[CONFIG_REASON_MAX];
	char		*line, *end, *nl;
	unsigned long	 seen[CONFIG_NSETTINGS], lineno;

	memset(seen, 0, sizeof(seen));
	lineno = 0;
	line = buf;
	end = buf + len;
	while (line < end) {
		lineno++;
		if ((nl = memchr(line, '\n', end - line)) == NULL)
			nl = end;
		if (memchr(line, '\0', nl - line) != NULL) {
			snprintf(err, errlen, "%s:%lu: NUL byte in line",
			    path, lineno);
			return (-1);
		}
		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';

		if (config_parse_line(c, line, lineno, seen, reason,
		    sizeof(reason)) == -1) {
			snprintf(err, errlen, "%s:%lu: %s", path, lineno,
			    reason);
			return (-1);
		}
		line = nl + 1;
	}

	return (0);
}

static int
config_parse_line(struct config *c, char *line, unsigned long lineno,
    unsigned long *seen, char *reason, size_t reasonlen)
{
	const struct config_setting	*s;
	char				 what[CONFIG_ECHO_MAX + 8];
	char				 why[CONFIG_WHY_MAX];
	char				*p, *name, *value, *e;
	size_t				 namelen, idx;

	p = line + strspn(line, " \t");
	if (*p == '\0' || *p == '#')
		return (0);

	name = p;
	namelen = strcspn(name, " \t=");
	p = name + namelen;
	p += strspn(p, " \t");

	if (namelen == 0) {
		snprintf(reason, reasonlen, "missing setting name before '='");
		return (-1);
	}

	config_printable(what, sizeof(what), name, namelen);
	if (*p != '=') {
		snprintf(reason, reasonlen, "missing '=' after '%s'", what);
		return (-1);
	}

	if ((s = config_find(name, namelen)) == NULL) {
		snprintf(reason, reasonlen, "unknown setting '%s'", what);
		return (-1);
	}

	idx = s - config_settings;
	if (seen[idx] != 0) {
		snprintf(reason, reasonlen, "%s: already set on line %lu",
		    s->name, seen[idx]);
		return (-1);
	}
	seen[idx] = lineno;

	p++;
	p += strspn(p, " \t");

	if (*p == '"') {
		if (config_unquote(p, &value, why, sizeof(why)) == -1) {
			snprintf(reason, reasonlen, "%s: %s", s->name, why);
			return (-1);
		}
	} else {
		/* '#' starts a comment only after whitespace: "a#b" is a value. */
		value = p;
		for (e = p; *e != '\0'; e++) {
			if (*e == '#' && (e[-1] == ' ' || e[-1] == '\t'))
				break;
		}
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*e = '\0';
		if (*value == '\0') {
			snprintf(reason, reasonlen, "%s: missing value",
			    s->name);
			return (-1);
		}
	}

	if (config_set(c, s, value, why, sizeof(why)) == -1) {
		snprintf(reason, reasonlen, "%s: %s", s->name, why);
		return (-1);
	}

	return (0);
}

/*
 * p points at the opening quote. The value is unescaped in place and
 * *value points at it; only a comment may follow the closing quote.
 */
static int
config_unquote(char *p, char **value, char *why, size_t whylen)
{
	char		*r, *w;

	*value = p + 1;
	w = p + 1;
	for (r = p + 1; *r != '"'; r++) {
		if (*r == '\0') {
			snprintf(why, whylen, "unterminated quoted value");
			return (-1);
		}
		if (*r == '\\') {
			r++;
			if (*r != '"' && *r != '\\') {
				snprintf(why, whylen, "%s",
				    *r == '\0' ? "unterminated quoted value" :
				    "bad escape in quoted value "
				    "(only \\\" and \\\\)");
				return (-1);
			}
		}
		*w++ = *r;
	}

	r++;
	r += strspn(r, " \t");
	if (*r != '\0' && *r != '#') {
		snprintf(why, whylen, "unexpected text after quoted value");
		return (-1);
	}
	*w = '\0';

	return (0);
}

static int
config_environment(struct config *c, char *err, size_t errlen)
{
	const struct config_setting	*s;
	char				 env[CONFIG_ENV_MAX];
	char				 why[CONFIG_WHY_MAX];
	const char			*value;
	size_t				 i, j, plen;

	plen = strlen(CONFIG_ENV_PREFIX);
	for (i = 0; i < CONFIG_NSETTINGS; i++) {
		s = &config_settings[i];
		memcpy(env, CONFIG_ENV_PREFIX, plen);
		for (j = 0; s->name[j] != '\0' && plen + j + 1 < sizeof(env);
		    j++) {
			env[plen + j] = (s->name[j] >= 'a' &&
			    s->name[j] <= 'z') ? s->name[j] - 'a' + 'A' :
			    s->name[j];
		}
		env[plen + j] = '\0';

		if ((value = getenv(env)) == NULL)
			continue;
		if (config_set(c, s, value, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "environment %s: %s", env, why);
			return (-1);
		}
	}

	return (0);
}

static int
config_set(struct config *c, const struct config_setting *s,
    const char *value, char *why, size_t whylen)
{
	const unsigned char	*p;

	/* Control characters have no business in any setting (or log). */
	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
			snprintf(why, whylen, "control character in value");
			return (-1);
		}
	}

	switch (s->type) {
	case CONFIG_INT:
		return (config_set_int(c, s, value, why, whylen));
	case CONFIG_BOOL:
		return (config_set_bool(c, s, value, why, whylen));
	case CONFIG_STRING:
		return (config_set_string(c, s, value, why, whylen));
	}

	abort();
}

static int
config_set_int(struct config *c, const struct config_setting *s,
    const char *value, char *why, size_t whylen)
{
	char		 what[CONFIG_ECHO_MAX + 8];
	char		*end;
	long long	 v;

	config_printable(what, sizeof(what), value, strlen(value));

	/* strtoll would skip leading blanks; a value is digits only. */
	if (*value == ' ' || *value == '\t' || *value == '\0')
		goto bad;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (end == value || *end != '\0')
		goto bad;

	if (errno == ERANGE || v < s->min || v > s->max) {
		snprintf(why, whylen, "%s is out of range %lld..%lld", what,
		    s->min, s->max);
		return (-1);
	}

	*config_int(c, s) = (int)v;
	return (0);

bad:
	snprintf(why, whylen, "'%s' is not an integer", what);
	return (-1);
}

static int
config_set_bool(struct config *c, const struct config_setting *s,
    const char *value, char *why, size_t whylen)
{
	static const char *const	 yes[] = { "true", "yes", "on", "1" };
	static const char *const	 no[] = { "false", "no", "off", "0" };
	char				 what[CONFIG_ECHO_MAX + 8];
	size_t				 i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*config_int(c, s) = 1;
			return (0);
		}
		if (strcasecmp(value, no[i]) == 0) {
			*config_int(c, s) = 0;
			return (0);
		}
	}

	config_printable(what, sizeof(what), value, strlen(value));
	snprintf(why, whylen, "'%s' is not a boolean "
	    "(true/false, yes/no, on/off, 1/0)", what);
	return (-1);
}

static int
config_set_string(struct config *c, const struct config_setting *s,
    const char *value, char *why, size_t whylen)
{
	char			  what[CONFIG_ECHO_MAX + 8];
	char			**p;
	struct config_net	 *nets;
	size_t			  len, i, nnets;

	len = strlen(value);
	if (len == 0 && s->min > 0) {
		snprintf(why, whylen, "value is empty");
		return (-1);
	}
	if ((long long)len < s->min || (long long)len > s->max) {
		snprintf(why, whylen, "value length %zu is out of range "
		    "%lld..%lld", len, s->min, s->max);
		return (-1);
	}

	if ((s->flags & CONFIG_F_WORD) && !config_is_word(value)) {
		snprintf(why, whylen, "value must not contain spaces");
		return (-1);
	}

	if (s->flags & CONFIG_F_NETS) {
		/* Only trusted_proxies is a list of addresses. */
		if (config_parse_nets(value, &nets, &nnets, why, whylen) == -1)
			return (-1);
		free(c->trusted_nets);
		c->trusted_nets = nets;
		c->ntrusted_nets = nnets;
	}

	if (s->choices != NULL) {
		for (i = 0; s->choices[i] != NULL; i++) {
			if (strcmp(value, s->choices[i]) == 0)
				break;
		}
		if (s->choices[i] == NULL) {
			config_printable(what, sizeof(what), value, len);
			/* Only log_level has choices; say them plainly. */
			snprintf(why, whylen,
			    "'%s' is not one of debug, info, warn, error",
			    what);
			return (-1);
		}
	}

	p = config_str(c, s);
	free(*p);
	*p = config_strdup(value);
	return (0);
}

/*
 * A list of addresses and prefixes separated by commas and/or blanks. The
 * entries are not echoed in errors, as no string setting's value is; their
 * position says which one is wrong.
 */
static int
config_parse_nets(const char *value, struct config_net **netsp,
    size_t *np, char *why, size_t whylen)
{
	struct config_net	*nets;
	char			 entry[INET6_ADDRSTRLEN + 8];
	const char		*p;
	size_t			 n, len;

	*netsp = NULL;
	*np = 0;
	if ((nets = calloc(CONFIG_NETS_MAX, sizeof(*nets))) == NULL)
		abort();

	n = 0;
	p = value;
	for (;;) {
		p += strspn(p, ", \t");
		if (*p == '\0')
			break;
		len = strcspn(p, ", \t");
		if (n == CONFIG_NETS_MAX) {
			snprintf(why, whylen, "more than %d entries",
			    CONFIG_NETS_MAX);
			goto fail;
		}
		if (len >= sizeof(entry)) {
			snprintf(why, whylen, "entry %zu is not an address or "
			    "address/prefix", n + 1);
			goto fail;
		}
		memcpy(entry, p, len);
		entry[len] = '\0';
		if (config_parse_net(entry, &nets[n]) == -1) {
			snprintf(why, whylen, "entry %zu is not an address or "
			    "address/prefix", n + 1);
			goto fail;
		}
		n++;
		p += len;
	}

	if (n == 0) {
		free(nets);
		return (0);
	}
	*netsp = nets;
	*np = n;
	return (0);

fail:
	free(nets);
	return (-1);
}

/* "a.b.c.d", "a.b.c.d/n", "x::y" or "x::/n"; s is modified. */
static int
config_parse_net(char *s, struct config_net *net)
{
	char		*slash, *end;
	long		 bits;
	int		 max;

	memset(net, 0, sizeof(*net));
	if ((slash = strchr(s, '/')) != NULL)
		*slash = '\0';

	if (inet_pton(AF_INET, s, net->addr) == 1) {
		net->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, s, net->addr) == 1) {
		net->family = AF_INET6;
		max = 128;
	} else {
		return (-1);
	}

	net->bits = max;
	if (slash == NULL)
		return (0);

	/* Decimal digits only: no sign, no blanks, no leading zeros. */
	if (slash[1] < '0' || slash[1] > '9' ||
	    (slash[1] == '0' && slash[2] != '\0'))
		return (-1);
	errno = 0;
	bits = strtol(slash + 1, &end, 10);
	if (*end != '\0' || errno != 0 || bits > max)
		return (-1);
	net->bits = (int)bits;

	return (0);
}

static int
config_net_match(const struct config_net *net, int family,
    const unsigned char *a)
{
	int		full, rest;
	unsigned char	mask;

	if (net->family != family)
		return (0);

	full = net->bits / 8;
	rest = net->bits % 8;
	if (memcmp(net->addr, a, full) != 0)
		return (0);
	if (rest == 0)
		return (1);
	mask = (unsigned char)(0xff << (8 - rest));

	return ((net->addr[full] & mask) == (a[full] & mask));
}

static const struct config_setting *
config_find(const char *name, size_t len)
{
	size_t		i;

	for (i = 0; i < CONFIG_NSETTINGS; i++) {
		if (strlen(config_settings[i].name) == len &&
		    memcmp(config_settings[i].name, name, len) == 0)
			return (&config_settings[i]);
	}

	return (NULL);
}

/* Untrusted bytes go into error messages shortened and without controls. */
static void
config_printable(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t		i, n;

	n = srclen > CONFIG_ECHO_MAX ? CONFIG_ECHO_MAX : srclen;
	if (n + 4 > dstlen)
		n = dstlen > 4 ? dstlen - 4 : 0;

	for (i = 0; i < n; i++) {
		if ((unsigned char)src[i] < 0x20 ||
		    (unsigned char)src[i] == 0x7f)
			dst[i] = '?';
		else
			dst[i] = src[i];
	}

	if (n < srclen && dstlen >= 4) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	if (dstlen > 0)
		dst[i] = '\0';
}

static int
config_is_word(const char *s)
{
	const unsigned char	*p;

	if (s == NULL || *s == '\0')
		return (0);

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p <= 0x20 || *p == 0x7f)
			return (0);
	}

	return (1);
}

/*
 * Print s double-quoted, as the file syntax reads it back. With mask, any
 * password in a libpq conninfo ("password=...") or URL ("user:pass@",
 * "?password=...") is printed as ****.
 */
static void
config_print_quoted(FILE *out, const char *s, int mask)
{
	size_t		i, j, n, a, e, at, colon;
	int		quoted;

	n = strlen(s);
	i = 0;
	fputc('"', out);

	if (mask && (strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0)) {
		a = strstr(s, "://") - s + 3;
		e = a + strcspn(s + a, "/?#");
		at = e;
		for (j = a; j < e; j++) {
			if (s[j] == '@')
				at = j;
		}
		colon = a + strcspn(s + a, ":");
		if (at < e && colon < at) {
			for (j = 0; j <= colon; j++) {
				if (s[j] == '"' || s[j] == '\\')
					fputc('\\', out);
				fputc(s[j], out);
			}
			fputs("****", out);
			i = at;
		}
	}

	while (i < n) {
		if (mask && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t' ||
		    s[i - 1] == '?' || s[i - 1] == '&') &&
		    strncasecmp(s + i, "password", 8) == 0) {
			j = i + 8;
			j += strspn(s + j, " \t");
			if (s[j] == '=') {
				j++;
				j += strspn(s + j, " \t");
				for (; i < j; i++)
					fputc(s[i], out);
				fputs("****", out);
				quoted = s[i] == '\'';
				if (quoted) {
					/* A quoted conninfo value: to the
					 * closing quote, past \-escapes. */
					for (i++; i < n && s[i] != '\''; i++) {
						if (s[i] == '\\' && i + 1 < n)
							i++;
					}
					if (i < n)
						i++;
				} else {
					i += strcspn(s + i, " \t&");
				}
				continue;
			}
		}
		if (s[i] == '"' || s[i] == '\\')
			fputc('\\', out);
		fputc(s[i], out);
		i++;
	}

	fputc('"', out);
}

static char **
config_str(struct config *c, const struct config_setting *s)
{
	return ((char **)(void *)((char *)c + s->offset));
}

static int *
config_int(struct config *c, const struct config_setting *s)
{
	return ((int *)(void *)((char *)c + s->offset));
}

static char *
config_strdup(const char *s)
{
	char		*p;

	if ((p = strdup(s)) == NULL)
		abort();

	return (p);
}
