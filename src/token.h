/*
 * token: bearer tokens, API keys and password hashes.
 *
 * Tokens are 32 random bytes from OpenSSL's RAND_bytes, base64url without
 * padding, after a short prefix that says what they are ("kwa_" access,
 * "kwr_" refresh, "kwk_" API key). The database stores only their SHA-256,
 * in hex. Passwords are hashed with Argon2id (libargon2) into the standard
 * encoded form "$argon2id$v=19$m=...,t=...,p=...$salt$hash".
 */
#ifndef KEYWORK_TOKEN_H
#define KEYWORK_TOKEN_H

#include <stddef.h>

#define TOKEN_PREFIX_ACCESS	"kwa_"
#define TOKEN_PREFIX_REFRESH	"kwr_"
#define TOKEN_PREFIX_APIKEY	"kwk_"
#define TOKEN_PREFIX_WEBHOOK	"kws_"	/* a webhook signing secret */

#define TOKEN_LEN	(4 + 43)	/* prefix + base64url(32 bytes) */
#define TOKEN_HASH_LEN	64		/* hex SHA-256 */
#define TOKEN_PHC_MAX	128

struct token_argon2 {
	unsigned memory_kib;
	unsigned iterations;
	unsigned parallelism;
};

/* New random token with prefix into out (>= TOKEN_LEN + 1). 0 or -1. */
int	token_new(const char *prefix, char *out, size_t outlen)
	    __attribute__((warn_unused_result));

/*
 * 1 when s has the shape of a token of any of our prefixes (prefix + 43
 * base64url characters), else 0. Cheap check before any database work.
 */
int	token_well_formed(const char *s);

/* Hex SHA-256 of s into out (TOKEN_HASH_LEN + 1 bytes). */
void	token_hash_hex(const char *s, size_t len, char *out);

/* Argon2id hash of password into out (TOKEN_PHC_MAX). 0 or -1. */
int	token_password_hash(const char *password,
	    const struct token_argon2 *params, char *out, size_t outlen)
	    __attribute__((warn_unused_result));

/*
 * 0 when password matches encoded, -1 otherwise (also on a malformed
 * encoded string). Constant-time in the comparison.
 */
int	token_password_verify(const char *encoded, const char *password)
	    __attribute__((warn_unused_result));

/*
 * Spend the same work as a verify against a hash with params, for unknown
 * accounts, so timing does not reveal which emails exist.
 */
void	token_password_dummy(const struct token_argon2 *params);

/* Constant-time string equality: 1 equal, 0 not. */
int	token_equal(const char *a, const char *b);

#endif
