/*
 * xmalloc: allocation that never fails to the caller. Running out of memory
 * aborts the process, so error paths elsewhere are for I/O, the database and
 * bad input only. Sizes of zero allocate one byte; products overflow-check.
 */
#ifndef KEYWORK_XMALLOC_H
#define KEYWORK_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);

#endif
