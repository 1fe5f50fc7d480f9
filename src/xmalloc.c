/*
 * xmalloc: see xmalloc.h.
 */
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

void *
xmalloc(size_t len)
{
	void	*p;

	if ((p = malloc(len == 0 ? 1 : len)) == NULL)
		abort();
	return (p);
}

void *
xcalloc(size_t n, size_t len)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, len == 0 ? 1 : len)) == NULL)
		abort();
	return (p);
}

void *
xrealloc(void *ptr, size_t len)
{
	void	*p;

	if ((p = realloc(ptr, len == 0 ? 1 : len)) == NULL)
		abort();
	return (p);
}

void *
xreallocarray(void *ptr, size_t n, size_t size)
{
	if (size != 0 && n > ((size_t)-1) / size)
		abort();
	return (xrealloc(ptr, n * size));
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		abort();
	return (p);
}
