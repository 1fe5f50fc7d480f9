/*
 * config: keywork's settings, the one global of the program.
 *
 * Every setting is a row of one table {name, type, default, bounds, help}
 * in config.c. Values come from, in order: the defaults, the file
 * (conf/keywork.conf: "name = value" lines, '#' comments, blank lines), then
 * environment variables KEYWORK_<NAME_IN_CAPITALS> (e.g. KEYWORK_PORT=9000).
 * A bad line, an unknown name or a value out of bounds is refused with
 * "file:line: reason" (or "environment KEYWORK_X: reason").
 */
#ifndef KEYWORK_CONFIG_H
#define KEYWORK_CONFIG_H

#include <stdio.h>
#include <stddef.h>

/* An address prefix: addr/bits, addr in network order. */
struct config_net {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];	/* 4 bytes used for AF_INET */
	int		 bits;
};

struct config {
	/* HTTP server (rendered into Kore's configuration) */
	char	*listen;		  /* address to bind, "127.0.0.1" */
	int	 port;			  /* 8888 */
	int	 workers;		  /* Kore worker processes, 2 */
	int	 worker_max_connections;  /* 512 */
	int	 worker_accept_threshold; /* 1 */
	int	 keepalive_seconds;	  /* 20 */
	int	 header_timeout_seconds;  /* 10 */
	int	 body_timeout_seconds;	  /* 30 */
	int	 header_max_bytes;	  /* 8192 */
	int	 body_max_bytes;	  /* 1048576: larger bodies get 413 */
	int	 document_max_bytes;	  /* 10485760: larger uploads get 413 */
	int	 request_limit;		  /* requests in flight per worker, 1000 */
	int	 rate_limit_per_token;	  /* requests a minute per token, 600; 0: none */
	int	 rate_limit_token_burst;  /* 120 */
	int	 rate_limit_per_address;  /* requests a minute per address, 1200; 0: none */
	int	 rate_limit_address_burst; /* 300 */
	int	 rate_limit_table_size;	  /* buckets shared by the workers, 65536 */
	int	 json_max_depth;	  /* nesting of a request body, 32 */
	int	 json_max_array;	  /* elements of any array in a body, 10000 */
	int	 seccomp_tracing;	  /* bool, 0 */
	char	*module_path;		  /* "build/keywork.so" */
	char	*spec_path;		  /* "openapi.yaml" */
	char	*docs_dir;		  /* "build/docs": GET /docs's files */
	char	*pid_file;		  /* "var/kore.pid" */
	char	*trusted_proxies;	  /* "": peers whose X-Forwarded-For counts */
	char	*metrics_listen;	  /* internal listener's address, "127.0.0.1" */
	int	 metrics_port;		  /* its port; 0: no internal listener */
	int	 shutdown_grace_seconds;  /* 20: to finish requests on SIGTERM */

	/* Database */
	char	*database_url;		  /* libpq conninfo of the API role */
	int	 db_connections;	  /* per worker, 8 */
	int	 db_queue_limit;	  /* requests waiting for a connection, 1000 */
	int	 statement_timeout_ms;	  /* 10000 */
	int	 db_session_options;	  /* bool, 1: options in the startup packet */

	/* Sign-in */
	int	 access_token_ttl;	  /* seconds, 900 */
	int	 refresh_token_ttl;	  /* seconds, 2592000 (30 days) */
	int	 argon2_memory_kib;	  /* 19456 */
	int	 argon2_iterations;	  /* 2 */
	int	 argon2_parallelism;	  /* 1 */
	int	 login_account_failures;  /* failures per account before refusing, 5 */
	int	 login_address_failures;  /* failures per address before refusing, 20 */
	int	 login_window_seconds;	  /* 900 */

	/* Logging */
	char	*log_level;		  /* "debug", "info", "warn", "error" */
	int	 demo_mode;		  /* bool, 0 */

	/* The scheduled worker and its delivery channels */
	int	 worker_interval_seconds; /* 60 */
	char	*smtp_url;		  /* "" (no email), smtp://host:port */
	int	 smtp_starttls;		  /* bool, 1: refuse to send unencrypted */
	char	*smtp_username;		  /* "" (no AUTH) */
	char	*smtp_password;		  /* "" */
	char	*smtp_from;		  /* "keywork@localhost" */
	char	*smtp_ca_file;		  /* "" (the system's CAs) */
	int	 webhook_timeout_seconds; /* 10 */
	int	 webhook_allow_http;	  /* bool, 0: https URLs only */
	int	 delivery_max_attempts;	  /* 8 */
	int	 delivery_backoff_seconds; /* 30: first retry after 15..30 s */
	int	 delivery_backoff_max_seconds; /* 3600 */
	int	 delivery_lease_seconds;  /* 300 */
	int	 delivery_batch;	  /* 50 */
	/* trusted_proxies, parsed when it is set (owned). */
	struct config_net	*trusted_nets;
	size_t			 ntrusted_nets;
};

/* The loaded configuration (the program's one global). */
extern struct config config;

/*
 * Fill c with defaults, then the file at path (NULL: defaults only), then
 * the environment. Returns 0, or -1 with "file:line: reason" in err.
 */
int	config_load(struct config *c, const char *path, char *err,
	    size_t errlen) __attribute__((warn_unused_result));
void	config_cleanup(struct config *c);

/*
 * Write Kore's configuration for c (server, workers, limits, module, and
 * the internal listener when metrics_port is set). -1 when a value would
 * not be one of Kore's words, metrics_port is port, or the write fails.
 */
int	config_write_kore(const struct config *c, FILE *out)
	    __attribute__((warn_unused_result));

/*
 * Whether a peer is one of trusted_proxies. addr is a struct in_addr for
 * AF_INET or a struct in6_addr for AF_INET6; an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is taken as the IPv4 address it carries.
 */
int	config_proxy_trusted(const struct config *c, int family,
	    const void *addr);

/* Print every setting with its current value and help (database_url masked). */
void	config_dump(const struct config *c, FILE *out);

#endif
