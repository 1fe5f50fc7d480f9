/*
 * jsontext: see jsontext.h.
 */
#include "jsontext.h"

static int
jsontext_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
jsontext_array_last(const char *s, size_t len, size_t *count, size_t *start,
    size_t *elen)
{
	size_t	i, elem, end, n;
	int	depth, in_string, blank;

	for (i = 0; i < len && jsontext_space(s[i]); i++)
		;
	if (i == len || s[i] != '[')
		return -1;
	elem = i + 1;
	depth = 1;
	in_string = 0;
	blank = 1;		/* nothing yet in the current element */
	n = 0;
	for (i++; i < len; i++) {
		char	c = s[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
			continue;
		}
		if (jsontext_space(c))
			continue;
		if (c == '"') {
			in_string = 1;
		} else if (c == '[' || c == '{') {
			depth++;
		} else if (c == ']' || c == '}') {
			if (--depth == 0)
				break;
			continue;
		} else if (c == ',' && depth == 1) {
			if (blank)
				return -1;	/* [,1] or [1,,2] */
			n++;
			elem = i + 1;
			blank = 1;
			continue;
		}
		blank = 0;
	}
	if (i >= len || depth != 0 || s[i] != ']')
		return -1;
	end = i;
	for (i++; i < len; i++) {
		if (!jsontext_space(s[i]))
			return -1;
	}
	if (blank) {
		if (n > 0)
			return -1;	/* [1,] */
		*count = 0;
		return 0;
	}
	while (elem < end && jsontext_space(s[elem]))
		elem++;
	while (end > elem && jsontext_space(s[end - 1]))
		end--;
	*count = n + 1;
	*start = elem;
	*elen = end - elem;
	return 0;
}

size_t
jsontext_compact(const char *s, size_t len, char *out)
{
	size_t	i, o = 0;
	int	in_string = 0;

	for (i = 0; i < len; i++) {
		char	c = s[i];

		if (in_string) {
			out[o++] = c;
			if (c == '\\' && i + 1 < len)
				out[o++] = s[++i];
			else if (c == '"')
				in_string = 0;
			continue;
		}
		if (jsontext_space(c))
			continue;
		if (c == '"')
			in_string = 1;
		out[o++] = c;
	}
	return o;
}
