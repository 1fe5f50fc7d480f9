/*
 * assets: see assets.h.
 *
 * Errors are described with strerrordesc_np, untranslated: strerror's
 * translation lookup, run in Kore's parent under the preloaded sanitizer
 * runtime (make test-asan), leaves the exit() that follows a refused
 * start-up deadlocked in a library destructor (p11-kit's freelocale).
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assets.h"
#include "token.h"
#include "xmalloc.h"

struct assets {
	struct asset	*items;
	size_t		 n;
};

static int	assets_read(const char *, struct asset *, char *, size_t);
static int	assets_plain_name(const char *);

struct assets *
assets_load(const char *dir, const struct asset_spec *list, char *err,
    size_t errlen)
{
	struct assets	*a;
	size_t		 i, n;
	char		 path[4096], hex[TOKEN_HASH_LEN + 1];

	for (n = 0; list[n].name != NULL; n++)
		;
	a = xcalloc(1, sizeof(*a));
	a->items = xcalloc(n > 0 ? n : 1, sizeof(*a->items));
	for (i = 0; i < n; i++) {
		if (!assets_plain_name(list[i].name)) {
			snprintf(err, errlen, "assets: \"%s\" is not a plain "
			    "file name", list[i].name);
			goto fail;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    list[i].name) >= sizeof(path)) {
			snprintf(err, errlen, "%s: path too long", dir);
			goto fail;
		}
		a->items[i].name = list[i].name;
		a->items[i].content_type = list[i].content_type;
		a->n = i + 1;
		if (assets_read(path, &a->items[i], err, errlen) == -1)
			goto fail;
		token_hash_hex((const char *)a->items[i].data, a->items[i].len,
		    hex);
		snprintf(a->items[i].etag, sizeof(a->items[i].etag), "\"%.32s\"",
		    hex);
	}
	return a;

fail:
	assets_free(a);
	return NULL;
}

void
assets_free(struct assets *a)
{
	size_t	i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		free(a->items[i].data);
	free(a->items);
	free(a);
}

const struct asset *
assets_find(const struct assets *a, const char *name)
{
	size_t	i;

	if (a == NULL || name == NULL)
		return NULL;
	for (i = 0; i < a->n; i++) {
		if (strcmp(a->items[i].name, name) == 0)
			return &a->items[i];
	}
	return NULL;
}

int
assets_etag_matches(const char *inm, const char *etag)
{
	const char	*p, *end = inm;
	size_t		 n, elen = strlen(etag);

	if (inm == NULL)
		return 0;
	for (p = inm; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '*')
			return 1;
		end = p + strcspn(p, ",");
		n = (size_t)(end - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n >= 2 && p[0] == 'W' && p[1] == '/') {
			p += 2;
			n -= 2;
		}
		if (n == elen && memcmp(p, etag, n) == 0)
			return 1;
	}
	return 0;
}

/* Read the regular file at path into a->data. */
static int
assets_read(const char *path, struct asset *a, char *err, size_t errlen)
{
	struct stat	 st;
	ssize_t		 got;
	size_t		 off = 0;
	int		 fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerrordesc_np(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerrordesc_np(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > ASSETS_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path,
		    ASSETS_FILE_MAX);
		goto out;
	}
	a->len = (size_t)st.st_size;
	a->data = xmalloc(a->len);
	while (off < a->len) {
		got = read(fd, a->data + off, a->len - off);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0) {
			snprintf(err, errlen, "%s: %s", path, got == 0 ?
			    "shorter than its size" : strerrordesc_np(errno));
			goto out;
		}
		off += (size_t)got;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* A name that stays inside the folder: no separator, not hidden, not "..". */
static int
assets_plain_name(const char *name)
{
	return name[0] != '\0' && name[0] != '.' && strchr(name, '/') == NULL;
}
