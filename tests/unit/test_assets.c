/*
 * assets: a fixed set of files loaded from a folder, found by exact name
 * only, with strong ETags, and If-None-Match matching.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "assets.h"

static char	dir[64];

static void
put(const char *name, const char *text)
{
	char	 path[160];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	cr_assert_not_null(fp, "%s", path);
	fputs(text, fp);
	fclose(fp);
}

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/keywork-assets.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	put("index.html", "<!DOCTYPE html><p>page</p>\n");
	put("app.js", "console.log(1);\n");
	put("empty.css", "");
	put("secret.txt", "not listed\n");
}

static void
teardown(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static const struct asset_spec files[] = {
	{ "index.html", "text/html; charset=utf-8" },
	{ "app.js", "text/javascript; charset=utf-8" },
	{ "empty.css", "text/css; charset=utf-8" },
	{ NULL, NULL }
};

TestSuite(assets, .init = setup, .fini = teardown);

Test(assets, loads_the_listed_files)
{
	struct assets		*a;
	const struct asset	*f;
	char			 err[256];

	a = assets_load(dir, files, err, sizeof(err));
	cr_assert_not_null(a, "%s", err);
	f = assets_find(a, "index.html");
	cr_assert_not_null(f);
	cr_assert_eq(f->len, strlen("<!DOCTYPE html><p>page</p>\n"));
	cr_assert_eq(memcmp(f->data, "<!DOCTYPE html>", 15), 0);
	cr_assert_str_eq(f->content_type, "text/html; charset=utf-8");
	cr_assert_eq(strlen(f->etag), ASSETS_ETAG_LEN);
	cr_assert_eq(f->etag[0], '"');
	cr_assert_eq(f->etag[ASSETS_ETAG_LEN - 1], '"');
	cr_assert_str_neq(f->etag, assets_find(a, "app.js")->etag);
	f = assets_find(a, "empty.css");
	cr_assert_not_null(f);
	cr_assert_eq(f->len, 0);
	assets_free(a);
}

Test(assets, the_etag_follows_the_content)
{
	struct assets	*a, *b;
	char		 err[256], before[ASSETS_ETAG_LEN + 1];

	a = assets_load(dir, files, err, sizeof(err));
	cr_assert_not_null(a, "%s", err);
	b = assets_load(dir, files, err, sizeof(err));
	cr_assert_not_null(b, "%s", err);
	cr_assert_str_eq(assets_find(a, "app.js")->etag,
	    assets_find(b, "app.js")->etag);
	snprintf(before, sizeof(before), "%s", assets_find(a, "app.js")->etag);
	assets_free(a);
	assets_free(b);

	put("app.js", "console.log(2);\n");
	a = assets_load(dir, files, err, sizeof(err));
	cr_assert_not_null(a, "%s", err);
	cr_assert_str_neq(assets_find(a, "app.js")->etag, before);
	assets_free(a);
}

Test(assets, finds_only_listed_names_exactly)
{
	static const char *const absent[] = {
		"secret.txt", "../index.html", "./index.html", "index.html/",
		"/index.html", "INDEX.HTML", "index.htm", "index.html ", "",
		".", "..", "app.js/../index.html", NULL,
	};
	struct assets	*a;
	char		 err[256];
	size_t		 i;

	a = assets_load(dir, files, err, sizeof(err));
	cr_assert_not_null(a, "%s", err);
	for (i = 0; absent[i] != NULL; i++)
		cr_expect_null(assets_find(a, absent[i]), "\"%s\" found",
		    absent[i]);
	cr_expect_null(assets_find(a, NULL));
	cr_expect_null(assets_find(NULL, "index.html"));
	assets_free(a);
	assets_free(NULL);
}

Test(assets, a_missing_file_is_refused_by_name)
{
	static const struct asset_spec more[] = {
		{ "index.html", "text/html" },
		{ "missing.js", "text/javascript" },
		{ NULL, NULL }
	};
	char	err[256];

	cr_assert_null(assets_load(dir, more, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "missing.js"), "%s", err);
	cr_assert_not_null(strstr(err, "No such file"), "%s", err);
}

Test(assets, a_folder_is_not_a_file)
{
	static const struct asset_spec sub[] = {
		{ "sub", "text/plain" },
		{ NULL, NULL }
	};
	char	path[128], err[256];

	snprintf(path, sizeof(path), "%s/sub", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	cr_assert_null(assets_load(dir, sub, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "not a regular file"), "%s", err);
}

Test(assets, names_must_stay_in_the_folder)
{
	static const char *const bad[] = {
		"../index.html", "a/b", "/etc/passwd", ".hidden", "..", "", NULL,
	};
	struct asset_spec	list[2] = { { NULL, "text/plain" }, { NULL, NULL } };
	char			err[256];
	size_t			i;

	for (i = 0; bad[i] != NULL; i++) {
		list[0].name = bad[i];
		cr_expect_null(assets_load(dir, list, err, sizeof(err)), "%s",
		    bad[i]);
		cr_expect_not_null(strstr(err, "not a plain file name"), "%s: %s",
		    bad[i], err);
	}
}

Test(assets, if_none_match)
{
	const char	*e = "\"0123456789abcdef0123456789abcdef\"";

	cr_expect(assets_etag_matches(e, e));
	cr_expect(assets_etag_matches("*", e));
	cr_expect(assets_etag_matches(" *", e));
	cr_expect(assets_etag_matches("W/\"0123456789abcdef0123456789abcdef\"", e));
	cr_expect(assets_etag_matches("\"x\", \"0123456789abcdef0123456789abcdef\"", e));
	cr_expect(assets_etag_matches("\"x\",\"0123456789abcdef0123456789abcdef\" ", e));
	cr_expect(!assets_etag_matches(NULL, e));
	cr_expect(!assets_etag_matches("", e));
	cr_expect(!assets_etag_matches("\"x\"", e));
	cr_expect(!assets_etag_matches("0123456789abcdef0123456789abcdef", e));
	cr_expect(!assets_etag_matches("\"0123456789abcdef0123456789abcde\"", e));
	cr_expect(!assets_etag_matches("\"0123456789abcdef0123456789abcdef\"x", e));
	cr_expect(!assets_etag_matches(",,,", e));
	cr_expect(!assets_etag_matches("w/\"0123456789abcdef0123456789abcdef\"", e));
}
