/*
 * assets: a fixed set of files read into memory once, served by name.
 *
 * The caller names every file it will serve, with its Content-Type;
 * assets_load reads exactly those from one folder, and assets_find answers
 * only those names. A request never reaches the file system, so no name
 * (however it is spelled, "../x" included) can lead outside the set.
 * Loading happens before Kore forks its workers: they share the pages, and
 * the sandbox needs no file system calls for them.
 *
 * Ownership: struct assets owns each file's bytes until assets_free; names
 * and content types are borrowed from the caller's list, which must
 * outlive it (a static table).
 */
#ifndef KEYWORK_ASSETS_H
#define KEYWORK_ASSETS_H

#include <stddef.h>

/* Larger files are refused: a mistake, not a page. */
#define ASSETS_FILE_MAX		(32 * 1024 * 1024)
/* A strong ETag: 32 hex digits of the file's SHA-256, in quotes. */
#define ASSETS_ETAG_LEN		34

/* One file to load; a list ends with a NULL name. */
struct asset_spec {
	const char	*name;		/* a plain file name: no '/', no leading '.' */
	const char	*content_type;
};

struct asset {
	const char	*name;		/* borrowed from the list */
	const char	*content_type;	/* borrowed from the list */
	unsigned char	*data;		/* owned */
	size_t		 len;
	char		 etag[ASSETS_ETAG_LEN + 1];
};

struct assets;

/*
 * Read every file of list from dir. Returns NULL with the reason (the path
 * and the system's error) in err when a name is not a plain file name, or
 * a file is missing, unreadable, not a regular file or over
 * ASSETS_FILE_MAX.
 */
struct assets	*assets_load(const char *dir, const struct asset_spec *list,
		    char *err, size_t errlen);
void		 assets_free(struct assets *);

/* The file of that exact name, or NULL (also for a NULL set or name). */
const struct asset *assets_find(const struct assets *, const char *name);

/*
 * Whether an If-None-Match header value names etag: "*", or a
 * comma-separated list of entity tags compared weakly (W/ ignored), as
 * RFC 9110 asks for If-None-Match.
 */
int		 assets_etag_matches(const char *if_none_match, const char *etag);

#endif
