/*
 * jsontext: facts about a JSON text read off its characters, without
 * building it: how many elements a top-level array has, and where its last
 * one is. A page of 50 episodes from the database is 50 KB of JSON; the
 * API needs only its length and its last item (for the next cursor), and
 * passes the text through as it came.
 */
#ifndef KEYWORK_JSONTEXT_H
#define KEYWORK_JSONTEXT_H

#include <stddef.h>

/*
 * If s (len bytes) is a JSON array, possibly with white space around it,
 * set *count to its number of elements and, when there is at least one,
 * *start and *elen to the offset and length of the last (white space
 * trimmed), and return 0. Return -1 if s is not an array, or its brackets,
 * braces or strings do not balance. Only the structure is checked: the
 * text of each element is not, so a caller given text from elsewhere than
 * a JSON serialiser must parse what it uses.
 */
int	jsontext_array_last(const char *s, size_t len, size_t *count,
	    size_t *start, size_t *elen) __attribute__((warn_unused_result));

/*
 * Copy s (len bytes of JSON text) to out (at least len bytes) without the
 * white space between tokens, as a compact serialiser writes it (the
 * database writes jsonb with a space after each ':' and ','); strings are
 * copied as they are. Returns the length written.
 */
size_t	jsontext_compact(const char *s, size_t len, char *out);

#endif
