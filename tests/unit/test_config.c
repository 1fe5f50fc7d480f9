/*
 * Unit tests of config: defaults, the file syntax, every kind of error with
 * its exact message, environment overrides, Kore's configuration and
 * config_dump. Run from the repository root (data under tests/unit/data).
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define DATA	"tests/unit/data/"

extern char	**environ;

static void	clear_keywork_env(void);
static char	*kore_conf(const struct config *);
static char	*dump(const struct config *);
static char	*temp_file(const char *, size_t);

/* The developer's own KEYWORK_* variables must not change the results. */
static void
clear_keywork_env(void)
{
	char		 name[256];
	char		**e;
	size_t		 n;

	for (e = environ; *e != NULL;) {
		if (strncmp(*e, "KEYWORK_", 8) != 0) {
			e++;
			continue;
		}
		n = strcspn(*e, "=");
		cr_assert_lt(n, sizeof(name));
		memcpy(name, *e, n);
		name[n] = '\0';
		unsetenv(name);
		e = environ;	/* unsetenv may move the entries */
	}
}

TestSuite(config, .init = clear_keywork_env);

static char *
kore_conf(const struct config *c)
{
	char		*buf;
	size_t		 len;
	FILE		*fp;

	fp = open_memstream(&buf, &len);
	cr_assert_not_null(fp);
	cr_assert_eq(config_write_kore(c, fp), 0);
	fclose(fp);
	return (buf);
}

static char *
dump(const struct config *c)
{
	char		*buf;
	size_t		 len;
	FILE		*fp;

	fp = open_memstream(&buf, &len);
	cr_assert_not_null(fp);
	config_dump(c, fp);
	fclose(fp);
	return (buf);
}

/* A file under /tmp with these bytes; the caller unlinks and frees it. */
static char *
temp_file(const char *data, size_t len)
{
	char		*path;
	int		 fd;

	path = strdup("/tmp/keywork-test-config-XXXXXX");
	cr_assert_not_null(path);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	return (path);
}

Test(config, defaults)
{
	struct config	c;
	char		err[256];

	cr_assert_eq(config_load(&c, NULL, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.listen, "127.0.0.1");
	cr_expect_eq(c.port, 8888);
	cr_expect_eq(c.workers, 2);
	cr_expect_eq(c.worker_max_connections, 512);
	cr_expect_eq(c.worker_accept_threshold, 1);
	cr_expect_eq(c.keepalive_seconds, 20);
	cr_expect_eq(c.header_timeout_seconds, 10);
	cr_expect_eq(c.body_timeout_seconds, 30);
	cr_expect_eq(c.header_max_bytes, 8192);
	cr_expect_eq(c.body_max_bytes, 1048576);
	cr_expect_eq(c.request_limit, 1000);
	cr_expect_eq(c.seccomp_tracing, 0);
	cr_expect_str_eq(c.module_path, "build/keywork.so");
	cr_expect_str_eq(c.spec_path, "openapi.yaml");
	cr_expect_str_eq(c.trusted_proxies, "");
	cr_expect_eq(c.ntrusted_nets, 0);
	cr_expect_str_eq(c.database_url, "dbname=keywork user=keywork_api");
	cr_expect_eq(c.db_connections, 8);
	cr_expect_eq(c.db_queue_limit, 1000);
	cr_expect_eq(c.statement_timeout_ms, 10000);
	cr_expect_eq(c.db_session_options, 1);
	cr_expect_eq(c.access_token_ttl, 900);
	cr_expect_eq(c.refresh_token_ttl, 2592000);
	cr_expect_eq(c.argon2_memory_kib, 19456);
	cr_expect_eq(c.argon2_iterations, 2);
	cr_expect_eq(c.argon2_parallelism, 1);
	cr_expect_eq(c.login_account_failures, 5);
	cr_expect_eq(c.login_address_failures, 20);
	cr_expect_eq(c.login_window_seconds, 900);
	cr_expect_str_eq(c.log_level, "info");
	cr_expect_eq(c.demo_mode, 0);
	config_cleanup(&c);
	/* A second cleanup is harmless. */
	config_cleanup(&c);
}

Test(config, good_file)
{
	struct config	c;
	char		err[256];

	cr_assert_eq(config_load(&c, DATA "config-good.conf", err,
	    sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.listen, "0.0.0.0");
	cr_expect_eq(c.port, 9090);
	cr_expect_eq(c.workers, 8);
	cr_expect_eq(c.worker_max_connections, 1024);
	cr_expect_eq(c.seccomp_tracing, 1);
	cr_expect_str_eq(c.module_path, "/opt/keywork/keywork.so");
	cr_expect_str_eq(c.spec_path, "/opt/keywork/openapi.yaml");
	cr_expect_str_eq(c.trusted_proxies, "10.0.0.0/8, 192.168.1.7 fd00::/8");
	cr_expect_eq(c.ntrusted_nets, 3);
	cr_expect_eq(c.keepalive_seconds, 15);
	cr_expect_eq(c.header_timeout_seconds, 5);
	cr_expect_eq(c.body_timeout_seconds, 60);
	cr_expect_eq(c.header_max_bytes, 16384);
	cr_expect_eq(c.body_max_bytes, 2097152);
	cr_expect_eq(c.request_limit, 2000);
	cr_expect_str_eq(c.database_url,
	    "host=db.example port=5432 dbname=kw user=api password=s3cret");
	cr_expect_eq(c.db_connections, 6);
	cr_expect_eq(c.db_queue_limit, 500);
	cr_expect_eq(c.statement_timeout_ms, 5000);
	cr_expect_eq(c.db_session_options, 0);
	cr_expect_eq(c.access_token_ttl, 600);
	cr_expect_eq(c.refresh_token_ttl, 604800);
	cr_expect_eq(c.argon2_memory_kib, 65536);
	cr_expect_eq(c.argon2_iterations, 3);
	cr_expect_eq(c.argon2_parallelism, 2);
	cr_expect_eq(c.login_account_failures, 10);
	cr_expect_eq(c.login_address_failures, 50);
	cr_expect_eq(c.login_window_seconds, 1800);
	cr_expect_str_eq(c.log_level, "debug");
	cr_expect_eq(c.demo_mode, 1);
	config_cleanup(&c);
}

Test(config, quoted_values_and_comments)
{
	struct config	c;
	char		err[256];

	cr_assert_eq(config_load(&c, DATA "config-quoted.conf", err,
	    sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.spec_path, "/srv/api # v2/openapi.yaml");
	cr_expect_str_eq(c.database_url, "dbname=kw password='a \"b\" \\ c'");
	cr_expect_str_eq(c.module_path, "build/a#b.so");
	cr_expect_str_eq(c.listen, "127.0.0.2");
	cr_expect_eq(c.port, 8081);
	cr_expect_str_eq(c.log_level, "warn");
	cr_expect_eq(c.demo_mode, 1);
	cr_expect_eq(c.seccomp_tracing, 0);
	config_cleanup(&c);
}

Test(config, line_endings)
{
	struct config	c;
	char		err[256];

	cr_assert_eq(config_load(&c, DATA "config-crlf.conf", err,
	    sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.port, 7000);
	cr_expect_str_eq(c.log_level, "error");
	config_cleanup(&c);

	cr_assert_eq(config_load(&c, DATA "config-no-newline.conf", err,
	    sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.workers, 3);
	config_cleanup(&c);
}

Test(config, booleans)
{
	static const struct {
		const char	*text;
		int		 value;
	} cases[] = {
		{ "true", 1 }, { "yes", 1 }, { "on", 1 }, { "1", 1 },
		{ "TRUE", 1 }, { "Yes", 1 },
		{ "false", 0 }, { "no", 0 }, { "off", 0 }, { "0", 0 },
		{ "NO", 0 }, { "Off", 0 },
	};
	struct config	c;
	char		err[256];
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(setenv("KEYWORK_DEMO_MODE", cases[i].text, 1), 0);
		cr_assert_eq(config_load(&c, NULL, err, sizeof(err)), 0,
		    "%s: %s", cases[i].text, err);
		cr_expect_eq(c.demo_mode, cases[i].value, "%s",
		    cases[i].text);
		config_cleanup(&c);
	}
}

Test(config, file_errors)
{
	static const struct {
		const char	*file;
		const char	*err;
	} cases[] = {
		{ "config-unknown.conf", ":2: unknown setting 'prot'" },
		{ "config-no-equals.conf", ":3: missing '=' after 'port'" },
		{ "config-empty-name.conf",
		    ":1: missing setting name before '='" },
		{ "config-bad-int.conf", ":1: workers: 'two' is not an integer" },
		{ "config-int-junk.conf", ":1: port: '80x' is not an integer" },
		{ "config-range.conf", ":1: port: 70000 is out of range 1..65535" },
		{ "config-negative.conf",
		    ":1: workers: -1 is out of range 1..64" },
		{ "config-huge.conf", ":1: port: 99999999999999999999999 is out "
		    "of range 1..65535" },
		{ "config-bad-bool.conf", ":1: demo_mode: 'maybe' is not a "
		    "boolean (true/false, yes/no, on/off, 1/0)" },
		{ "config-duplicate.conf", ":5: port: already set on line 2" },
		{ "config-bad-choice.conf", ":1: log_level: 'loud' is not one "
		    "of debug, info, warn, error" },
		{ "config-missing-value.conf", ":1: port: missing value" },
		{ "config-unterminated.conf",
		    ":1: listen: unterminated quoted value" },
		{ "config-bad-escape.conf", ":1: spec_path: bad escape in "
		    "quoted value (only \\\" and \\\\)" },
		{ "config-after-quote.conf",
		    ":1: spec_path: unexpected text after quoted value" },
		{ "config-empty-string.conf", ":1: listen: value is empty" },
		{ "config-not-word.conf",
		    ":1: module_path: value must not contain spaces" },
		{ "config-nul.conf", ":2: NUL byte in line" },
		{ "config-control.conf",
		    ":1: spec_path: control character in value" },
	};
	struct config	c;
	char		err[256], want[256];
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(want, sizeof(want), DATA "%s", cases[i].file);
		cr_expect_eq(config_load(&c, want, err, sizeof(err)), -1,
		    "%s loaded", cases[i].file);
		strncat(want, cases[i].err, sizeof(want) - strlen(want) - 1);
		cr_expect_str_eq(err, want);
		/* A failed load leaves nothing to free, and cleanup is safe. */
		cr_expect_null(c.listen);
		config_cleanup(&c);
	}
}

Test(config, missing_file)
{
	struct config	c;
	char		err[256];

	cr_assert_eq(config_load(&c, DATA "no-such.conf", err, sizeof(err)),
	    -1);
	cr_expect_str_eq(err, DATA "no-such.conf: cannot open: "
	    "No such file or directory");
	cr_assert_eq(config_load(&c, "tests/unit/data", err, sizeof(err)),
	    -1);
	cr_expect_str_eq(err, "tests/unit/data: cannot read: Is a directory");
}

Test(config, hostile_input)
{
	struct config	 c;
	char		 err[256], want[256];
	char		*big, *path;
	size_t		 n;

	/* A value far longer than any setting allows. */
	n = 100000;
	big = malloc(n + 32);
	cr_assert_not_null(big);
	memcpy(big, "database_url = ", 15);
	memset(big + 15, 'x', n);
	memcpy(big + 15 + n, "\n", 1);
	path = temp_file(big, 15 + n + 1);
	cr_expect_eq(config_load(&c, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:1: database_url: value length "
	    "100000 is out of range 1..4096", path);
	cr_expect_str_eq(err, want);
	unlink(path);
	free(path);

	/* A name far longer than any setting's, echoed shortened. */
	memset(big, 'n', n);
	memcpy(big + n, " = 1", 4);
	path = temp_file(big, n + 4);
	cr_expect_eq(config_load(&c, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:1: unknown setting "
	    "'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...'", path);
	cr_expect_str_eq(err, want);
	unlink(path);
	free(path);
	free(big);

	/* Over the size limit. */
	n = 1024 * 1024 + 1;
	big = malloc(n);
	cr_assert_not_null(big);
	memset(big, '#', n);
	path = temp_file(big, n);
	cr_expect_eq(config_load(&c, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: larger than 1048576 bytes", path);
	cr_expect_str_eq(err, want);
	unlink(path);
	free(path);

	/* Exactly at the limit is fine. */
	path = temp_file(big, n - 1);
	cr_expect_eq(config_load(&c, path, err, sizeof(err)), 0, "%s", err);
	config_cleanup(&c);
	unlink(path);
	free(path);
	free(big);

	/* Control bytes in a name are not echoed as they are. */
	path = temp_file("a\033[2Jb = 1", strlen("a\033[2Jb = 1"));
	cr_expect_eq(config_load(&c, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:1: unknown setting 'a?[2Jb'", path);
	cr_expect_str_eq(err, want);
	unlink(path);
	free(path);

	/* A tiny error buffer gets a truncated, terminated message. */
	cr_expect_eq(config_load(&c, DATA "config-range.conf", err, 8), -1);
	cr_expect_str_eq(err, "tests/u");
}

Test(config, environment)
{
	struct config	c;
	char		err[256];

	cr_assert_eq(setenv("KEYWORK_PORT", "9999", 1), 0);
	cr_assert_eq(setenv("KEYWORK_LOG_LEVEL", "error", 1), 0);
	cr_assert_eq(setenv("KEYWORK_DATABASE_URL",
	    "postgresql://api:pw@db/kw", 1), 0);
	cr_assert_eq(setenv("KEYWORK_SECCOMP_TRACING", "no", 1), 0);
	cr_assert_eq(setenv("KEYWORK_ARGON2_MEMORY_KIB", "8192", 1), 0);

	/* The environment wins over the file... */
	cr_assert_eq(config_load(&c, DATA "config-good.conf", err,
	    sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.port, 9999);
	cr_expect_str_eq(c.log_level, "error");
	cr_expect_str_eq(c.database_url, "postgresql://api:pw@db/kw");
	cr_expect_eq(c.seccomp_tracing, 0);
	cr_expect_eq(c.argon2_memory_kib, 8192);
	/* ...and settings it does not name keep the file's values. */
	cr_expect_eq(c.workers, 8);
	config_cleanup(&c);

	/* Over the defaults too. */
	cr_assert_eq(config_load(&c, NULL, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.port, 9999);
	cr_expect_eq(c.workers, 2);
	config_cleanup(&c);
}

Test(config, environment_errors)
{
	static const struct {
		const char	*name;
		const char	*value;
		const char	*err;
	} cases[] = {
		{ "KEYWORK_PORT", "abc",
		    "environment KEYWORK_PORT: 'abc' is not an integer" },
		{ "KEYWORK_PORT", " 80",
		    "environment KEYWORK_PORT: ' 80' is not an integer" },
		{ "KEYWORK_WORKERS", "0",
		    "environment KEYWORK_WORKERS: 0 is out of range 1..64" },
		{ "KEYWORK_LISTEN", "",
		    "environment KEYWORK_LISTEN: value is empty" },
		{ "KEYWORK_LISTEN", "127.0.0.1\nworkers 200",
		    "environment KEYWORK_LISTEN: control character in value" },
		{ "KEYWORK_DEMO_MODE", "si",
		    "environment KEYWORK_DEMO_MODE: 'si' is not a boolean "
		    "(true/false, yes/no, on/off, 1/0)" },
		{ "KEYWORK_LOG_LEVEL", "INFO",
		    "environment KEYWORK_LOG_LEVEL: 'INFO' is not one of debug, "
		    "info, warn, error" },
		{ "KEYWORK_BODY_MAX_BYTES", "67108865",
		    "environment KEYWORK_BODY_MAX_BYTES: 67108865 is out of "
		    "range 1024..67108864" },
	};
	struct config	c;
	char		err[256];
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(setenv(cases[i].name, cases[i].value, 1), 0);
		cr_expect_eq(config_load(&c, DATA "config-good.conf", err,
		    sizeof(err)), -1, "%s=%s", cases[i].name, cases[i].value);
		cr_expect_str_eq(err, cases[i].err);
		cr_expect_null(c.database_url);
		cr_assert_eq(unsetenv(cases[i].name), 0);
	}
}

/* Whether addr (text) is trusted under the list; -1 if the list is refused. */
static int
trusted(const char *list, const char *addr)
{
	struct config	c;
	unsigned char	a[16];
	char		err[256];
	int		family, ret;

	cr_assert_eq(setenv("KEYWORK_TRUSTED_PROXIES", list, 1), 0);
	if (config_load(&c, NULL, err, sizeof(err)) == -1)
		return (-1);
	family = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	cr_assert_eq(inet_pton(family, addr, a), 1, "%s", addr);
	ret = config_proxy_trusted(&c, family, a);
	config_cleanup(&c);
	return (ret);
}

Test(config, trusted_proxies)
{
	static const struct {
		const char	*list;
		const char	*addr;
		int		 trusted;
	} cases[] = {
		{ "", "127.0.0.1", 0 },
		{ "", "::1", 0 },
		{ "127.0.0.1", "127.0.0.1", 1 },
		{ "127.0.0.1", "127.0.0.2", 0 },
		{ "127.0.0.1", "::1", 0 },
		/* An IPv4-mapped peer is its IPv4 address. */
		{ "127.0.0.1", "::ffff:127.0.0.1", 1 },
		{ "::1", "::1", 1 },
		{ "::1", "127.0.0.1", 0 },
		{ "10.0.0.0/8", "10.255.1.2", 1 },
		{ "10.0.0.0/8", "11.0.0.1", 0 },
		{ "172.16.0.0/12", "172.31.255.255", 1 },
		{ "172.16.0.0/12", "172.32.0.1", 0 },
		{ "172.16.0.0/12", "172.15.255.255", 0 },
		/* Host bits past the prefix do not matter. */
		{ "192.168.1.77/24", "192.168.1.3", 1 },
		{ "192.168.1.0/32", "192.168.1.1", 0 },
		{ "0.0.0.0/0", "203.0.113.9", 1 },
		{ "0.0.0.0/0", "2001:db8::1", 0 },
		{ "fd00::/8", "fd12:3456::1", 1 },
		{ "fd00::/8", "fe80::1", 0 },
		{ "2001:db8::/33", "2001:db8:7fff::1", 1 },
		{ "2001:db8::/33", "2001:db8:8000::1", 0 },
		{ "::/0", "2001:db8::1", 1 },
		/* Commas, blanks or both between entries. */
		{ "10.0.0.1, 10.0.0.2", "10.0.0.2", 1 },
		{ "10.0.0.1 10.0.0.2", "10.0.0.2", 1 },
		{ " ,10.0.0.1,,\t10.0.0.2 , ", "10.0.0.2", 1 },
		{ "10.0.0.1 10.0.0.2", "10.0.0.3", 0 },
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_expect_eq(trusted(cases[i].list, cases[i].addr),
		    cases[i].trusted, "%s in \"%s\"", cases[i].addr,
		    cases[i].list);
	}
}

Test(config, trusted_proxies_refused)
{
	static const struct {
		const char	*list;
		const char	*err;
	} cases[] = {
		{ "localhost", "entry 1 is not an address or address/prefix" },
		{ "10.0.0.1, 10.0.0", "entry 2 is not an address or "
		    "address/prefix" },
		{ "10.0.0.0/33", "entry 1 is not an address or address/prefix" },
		{ "::/129", "entry 1 is not an address or address/prefix" },
		{ "10.0.0.0/", "entry 1 is not an address or address/prefix" },
		{ "10.0.0.0/-1", "entry 1 is not an address or address/prefix" },
		{ "10.0.0.0/+8", "entry 1 is not an address or address/prefix" },
		{ "10.0.0.0/08", "entry 1 is not an address or address/prefix" },
		{ "10.0.0.0/8x", "entry 1 is not an address or address/prefix" },
		{ "10.0.0.0/8/8", "entry 1 is not an address or "
		    "address/prefix" },
		{ "10.0.0.0;8", "entry 1 is not an address or address/prefix" },
		{ "1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16", "entry 1 is not an "
		    "address or address/prefix" },
	};
	struct config	c;
	char		err[256], want[256], many[1024];
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(setenv("KEYWORK_TRUSTED_PROXIES", cases[i].list,
		    1), 0);
		cr_expect_eq(config_load(&c, NULL, err, sizeof(err)), -1, "%s",
		    cases[i].list);
		snprintf(want, sizeof(want),
		    "environment KEYWORK_TRUSTED_PROXIES: %s", cases[i].err);
		cr_expect_str_eq(err, want);
		cr_expect_null(c.trusted_nets);
	}

	/* At most 64 entries. */
	many[0] = '\0';
	for (i = 0; i < 65; i++) {
		snprintf(want, sizeof(want), "10.0.0.%zu ", i);
		strcat(many, want);
	}
	cr_assert_eq(setenv("KEYWORK_TRUSTED_PROXIES", many, 1), 0);
	cr_expect_eq(config_load(&c, NULL, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "environment KEYWORK_TRUSTED_PROXIES: more than "
	    "64 entries");
	many[strlen(many) - strlen("10.0.0.64 ")] = '\0';
	cr_assert_eq(setenv("KEYWORK_TRUSTED_PROXIES", many, 1), 0);
	cr_assert_eq(config_load(&c, NULL, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.ntrusted_nets, 64);
	config_cleanup(&c);
}

Test(config, example_configuration_loads)
{
	struct config	c;
	char		err[256];

	cr_assert_eq(config_load(&c, "conf/keywork.conf", err, sizeof(err)),
	    0, "%s", err);
	cr_expect_str_eq(c.listen, "127.0.0.1");
	cr_expect_eq(c.port, 8888);
	cr_expect_str_eq(c.database_url,
	    "host=127.0.0.1 port=5499 dbname=keywork user=keywork_api");
	cr_expect_str_eq(c.module_path, "build/keywork.so");
	cr_expect_str_eq(c.spec_path, "openapi.yaml");
	config_cleanup(&c);
}

/* Every setting is in the example, so that the example documents them all. */
Test(config, example_configuration_is_complete)
{
	struct config	 c;
	char		 err[256], line[512], name[128];
	char		*out, *p, *conf;
	FILE		*fp;
	size_t		 len, n;

	cr_assert_eq(config_load(&c, NULL, err, sizeof(err)), 0, "%s", err);
	out = dump(&c);
	config_cleanup(&c);

	fp = fopen("conf/keywork.conf", "r");
	cr_assert_not_null(fp);
	conf = NULL;
	len = 0;
	cr_assert_gt(getdelim(&conf, &len, '\0', fp), 0);
	fclose(fp);

	for (p = out; *p != '\0'; p += strcspn(p, "\n") + 1) {
		n = strcspn(p, " ");
		cr_assert_lt(n, sizeof(name));
		memcpy(name, p, n);
		name[n] = '\0';
		snprintf(line, sizeof(line), "\n%s = ", name);
		cr_expect_not_null(strstr(conf, line), "%s missing", name);
		for (n = 0; name[n] != '\0'; n++)
			name[n] = (char)toupper((unsigned char)name[n]);
		snprintf(line, sizeof(line), "KEYWORK_%s", name);
		cr_expect_not_null(strstr(conf, line), "%s missing", line);
	}
	free(conf);
	free(out);
}

Test(config, kore_configuration)
{
	static const char *const	want[] = {
		"server keywork {\n\tbind 0.0.0.0 9090\n\ttls no\n}\n",
		"\nload /opt/keywork/keywork.so kw_init\n",
		"\nworkers 8\n",
		"\nworker_max_connections 1024\n",
		"\nhttp_keepalive_time 15\n",
		"\nhttp_header_timeout 5\n",
		"\nhttp_body_timeout 60\n",
		"\nhttp_header_max 16384\n",
		/* 2097152 * 2 + 65536 */
		"\nhttp_body_max 4259840\n",
		"\nhttp_request_limit 2000\n",
		"\nhttp_server_version keywork\n",
		"\npgsql_conn_max 6\n",
		"\npgsql_queue_limit 500\n",
		"\nseccomp_tracing yes\n",
		("\ndomain * {\n\tattach keywork\n\troute ^/.*$ "
		    "kw_http_dispatch\n}\n"),
	};
	struct config	 c;
	char		 err[256];
	char		*out, *p;
	size_t		 i;

	cr_assert_eq(config_load(&c, DATA "config-good.conf", err,
	    sizeof(err)), 0, "%s", err);
	out = kore_conf(&c);
	cr_expect_eq(strncmp(out, "# Generated by keywork-admin kore-conf", 38),
	    0);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect_not_null(strstr(out, want[i]), "no %s in:\n%s",
		    want[i], out);
	/* Kore only knows whole-line comments and "name value" lines. */
	for (p = out; *p != '\0'; p += strcspn(p, "\n") + 1) {
		p += strspn(p, "\t");
		cr_expect(*p == '#' || *p == '}' || strcspn(p, " \n") <
		    strcspn(p, "\n"), "bad line: %.*s", (int)strcspn(p, "\n"),
		    p);
	}
	/* Not a word of the database's password. */
	cr_expect_null(strstr(out, "s3cret"));
	free(out);
	config_cleanup(&c);

	cr_assert_eq(config_load(&c, NULL, err, sizeof(err)), 0, "%s", err);
	out = kore_conf(&c);
	cr_expect_not_null(strstr(out, "\tbind 127.0.0.1 8888\n"));
	/* The larger of body_max_bytes * 2 and document_max_bytes, + 64 KiB. */
	cr_expect_not_null(strstr(out, "\nhttp_body_max 10551296\n"));
	cr_expect_not_null(strstr(out, "\nseccomp_tracing no\n"));
	/* No metrics port: no internal listener. */
	cr_expect_null(strstr(out, "server internal"));
	free(out);

	/* With one: its own server and domain, routed to the dispatcher. */
	c.metrics_port = 9100;
	out = kore_conf(&c);
	cr_expect_not_null(strstr(out, "\nserver internal {\n\tbind 127.0.0.1 "
	    "9100\n\ttls no\n}\ndomain * {\n\tattach internal\n\troute "
	    "^/.*$ kw_http_dispatch\n}\n"), "%s", out);
	free(out);
	config_cleanup(&c);
}

Test(config, kore_configuration_refused)
{
	struct config	 c;
	char		 err[256];
	char		*saved;
	FILE		*fp;

	cr_assert_eq(config_load(&c, NULL, err, sizeof(err)), 0, "%s", err);

	/* A value that would split into two of Kore's words. */
	saved = c.listen;
	c.listen = "127.0.0.1 8888\nworkers";
	cr_expect_eq(config_write_kore(&c, stdout), -1);
	c.listen = saved;

	/* The internal listener on the public one's port. */
	c.metrics_port = c.port;
	cr_expect_eq(config_write_kore(&c, stdout), -1);
	c.metrics_port = 0;

	/* A write that fails. */
	fp = fopen("/dev/full", "w");
	cr_assert_not_null(fp);
	cr_expect_eq(config_write_kore(&c, fp), -1);
	fclose(fp);

	config_cleanup(&c);
}

Test(config, dump)
{
	struct config	 c;
	char		 err[256];
	char		*out;

	cr_assert_eq(config_load(&c, DATA "config-quoted.conf", err,
	    sizeof(err)), 0, "%s", err);
	out = dump(&c);
	cr_expect_not_null(strstr(out, "\nport = 8081  # TCP port Kore listens "
	    "on\n"));
	cr_expect_not_null(strstr(out, "\nspec_path = \"/srv/api # "
	    "v2/openapi.yaml\"  # "));
	cr_expect_not_null(strstr(out, "\ndemo_mode = true  # "));
	cr_expect_not_null(strstr(out, "\nseccomp_tracing = false  # "));
	cr_expect_not_null(strstr(out, "\ndatabase_url = \"dbname=kw "
	    "password=****\"  # "), "%s", out);
	cr_expect_eq(strncmp(out, "listen = \"127.0.0.2\"  # ", 24), 0);
	free(out);
	config_cleanup(&c);
}

Test(config, dump_masks_database_password)
{
	static const struct {
		const char	*url;
		const char	*shown;
	} cases[] = {
		{ "dbname=kw user=api",
		    "\"dbname=kw user=api\"" },
		{ "host=db password=secret user=api",
		    "\"host=db password=**** user=api\"" },
		{ "password=secret",
		    "\"password=****\"" },
		{ "host=db password = 'sec ret\\' x' user=api",
		    "\"host=db password = **** user=api\"" },
		{ "host=db\tPASSWORD=secret",
		    "\"host=db\tPASSWORD=****\"" },
		{ "host=db password=",
		    "\"host=db password=****\"" },
		{ "host=db mypassword=x",
		    "\"host=db mypassword=x\"" },
		{ "postgresql://api:secret@db:5432/kw",
		    "\"postgresql://api:****@db:5432/kw\"" },
		{ "postgres://api:s%40c:r@et@db/kw?sslmode=require",
		    "\"postgres://api:****@db/kw?sslmode=require\"" },
		{ "postgresql://api@db/kw",
		    "\"postgresql://api@db/kw\"" },
		{ "postgresql://db:5432/kw",
		    "\"postgresql://db:5432/kw\"" },
		{ "postgresql://db/kw?user=api&password=secret&sslmode=require",
		    "\"postgresql://db/kw?user=api&password=****"
		    "&sslmode=require\"" },
	};
	struct config	 c;
	char		 err[256], want[512];
	char		*out;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(setenv("KEYWORK_DATABASE_URL", cases[i].url, 1),
		    0);
		cr_assert_eq(config_load(&c, NULL, err, sizeof(err)), 0, "%s",
		    err);
		out = dump(&c);
		snprintf(want, sizeof(want), "\ndatabase_url = %s  # ",
		    cases[i].shown);
		cr_expect_not_null(strstr(out, want), "%s: want %s in\n%s",
		    cases[i].url, want, out);
		cr_expect_null(strstr(out, "secret"), "%s", cases[i].url);
		free(out);
		config_cleanup(&c);
	}
}

/* What config_dump prints reads back as the same configuration. */
Test(config, dump_reads_back)
{
	struct config	 c, d;
	char		 err[256];
	char		*out, *path, *again;

	cr_assert_eq(config_load(&c, DATA "config-good.conf", err,
	    sizeof(err)), 0, "%s", err);
	out = dump(&c);
	path = temp_file(out, strlen(out));
	cr_assert_eq(config_load(&d, path, err, sizeof(err)), 0, "%s", err);
	again = dump(&d);
	cr_expect_str_eq(again, out);
	unlink(path);
	free(path);
	free(again);
	free(out);
	config_cleanup(&d);
	config_cleanup(&c);
}
