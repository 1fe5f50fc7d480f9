/*
 * token: bearer tokens, API keys and password hashes.
 *
 * Everything secret is compared in constant time and random bytes are
 * wiped after use. Encoded Argon2 strings are checked by hand before
 * libargon2 sees them, because libargon2 trusts the cost parameters it
 * parses: a stored "m=4294967295" would make a verify try to allocate
 * terabytes.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "token.h"

#define TOKEN_RAND_LEN		32
#define TOKEN_BODY_LEN		43	/* base64url(32 bytes), no padding */
#define TOKEN_PREFIX_LEN	4
#define TOKEN_SALT_LEN		16
#define TOKEN_ARGON2_HASH_LEN	32

/* Longer passwords are refused: the work is the attacker's choice. */
#define TOKEN_PASSWORD_MAX	1024

/*
 * Largest costs an encoded hash may carry: the largest config.c lets us
 * hash with, so every hash we made verifies and no stored string can make
 * a verify cost more.
 */
#define TOKEN_ARGON2_M_MAX	1048576		/* KiB: 1 GiB */
#define TOKEN_ARGON2_T_MAX	16
#define TOKEN_ARGON2_P_MAX	16

static const char *const token_prefixes[] = {
	TOKEN_PREFIX_ACCESS, TOKEN_PREFIX_REFRESH, TOKEN_PREFIX_APIKEY,
	TOKEN_PREFIX_WEBHOOK, NULL
};

static const char	token_b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int	token_known_prefix(const char *);
static int	token_is_b64url(int);
static void	token_b64url_encode(const unsigned char *, size_t, char *);
static int	token_encoded_ok(const char *);
static unsigned	token_parse_uint(const char **, unsigned, unsigned);
static int	token_b64_run(const char **);

int
token_new(const char *prefix, char *out, size_t outlen)
{
	unsigned char	rnd[TOKEN_RAND_LEN];
	int		ret;

	ret = -1;
	if (!token_known_prefix(prefix) || outlen < TOKEN_LEN + 1)
		return (-1);

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto out;

	memcpy(out, prefix, TOKEN_PREFIX_LEN);
	token_b64url_encode(rnd, sizeof(rnd), out + TOKEN_PREFIX_LEN);
	ret = 0;

out:
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return (ret);
}

int
token_well_formed(const char *s)
{
	size_t		i;

	if (s == NULL || !token_known_prefix(s))
		return (0);

	s += TOKEN_PREFIX_LEN;
	for (i = 0; i < TOKEN_BODY_LEN; i++) {
		if (!token_is_b64url((unsigned char)s[i]))
			return (0);
	}

	return (s[TOKEN_BODY_LEN] == '\0');
}

void
token_hash_hex(const char *s, size_t len, char *out)
{
	static const char	hex[] = "0123456789abcdef";
	unsigned char		md[EVP_MAX_MD_SIZE];
	unsigned int		mdlen, i;

	if (EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen * 2 != TOKEN_HASH_LEN) {
		/* Only a broken OpenSSL gets here; no caller could recover. */
		fprintf(stderr, "token: SHA-256 failed\n");
		abort();
	}

	for (i = 0; i < mdlen; i++) {
		out[i * 2] = hex[md[i] >> 4];
		out[i * 2 + 1] = hex[md[i] & 0x0f];
	}
	out[TOKEN_HASH_LEN] = '\0';
}

int
token_password_hash(const char *password,
    const struct token_argon2 *params, char *out, size_t outlen)
{
	unsigned char	salt[TOKEN_SALT_LEN];
	size_t		pwlen;
	int		ret;

	ret = -1;
	pwlen = strlen(password);
	if (pwlen > TOKEN_PASSWORD_MAX)
		return (-1);

	if (outlen < argon2_encodedlen(params->iterations, params->memory_kib,
	    params->parallelism, TOKEN_SALT_LEN, TOKEN_ARGON2_HASH_LEN,
	    Argon2_id))
		return (-1);

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		goto out;

	if (argon2id_hash_encoded(params->iterations, params->memory_kib,
	    params->parallelism, password, pwlen, salt, sizeof(salt),
	    TOKEN_ARGON2_HASH_LEN, out, outlen) != ARGON2_OK)
		goto out;

	ret = 0;

out:
	OPENSSL_cleanse(salt, sizeof(salt));
	return (ret);
}

int
token_password_verify(const char *encoded, const char *password)
{
	size_t		pwlen;

	if (encoded == NULL || password == NULL)
		return (-1);

	pwlen = strlen(password);
	if (pwlen > TOKEN_PASSWORD_MAX || !token_encoded_ok(encoded))
		return (-1);

	/* argon2_verify compares the hashes in constant time. */
	if (argon2id_verify(encoded, password, pwlen) != ARGON2_OK)
		return (-1);

	return (0);
}

void
token_password_dummy(const struct token_argon2 *params)
{
	static const char	salt[] = "keywork dummy salt";
	static const char	password[] = "keywork dummy password";
	unsigned char		hash[TOKEN_ARGON2_HASH_LEN];

	/* The same computation a verify does; the result is not needed. */
	(void)argon2id_hash_raw(params->iterations, params->memory_kib,
	    params->parallelism, password, sizeof(password) - 1, salt,
	    sizeof(salt) - 1, hash, sizeof(hash));
	OPENSSL_cleanse(hash, sizeof(hash));
}

int
token_equal(const char *a, const char *b)
{
	size_t		alen, blen;

	if (a == NULL || b == NULL)
		return (0);

	alen = strlen(a);
	blen = strlen(b);
	if (alen != blen) {
		/* Same work as a match would take, so only length shows. */
		(void)CRYPTO_memcmp(a, a, alen);
		return (0);
	}

	return (CRYPTO_memcmp(a, b, alen) == 0);
}

static int
token_known_prefix(const char *s)
{
	size_t		i;

	if (s == NULL)
		return (0);

	for (i = 0; token_prefixes[i] != NULL; i++) {
		if (strncmp(s, token_prefixes[i], TOKEN_PREFIX_LEN) == 0)
			return (1);
	}

	return (0);
}

static int
token_is_b64url(int c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_');
}

/* out receives ceil(len * 4 / 3) characters and a NUL, no padding. */
static void
token_b64url_encode(const unsigned char *in, size_t len, char *out)
{
	uint32_t	v;
	size_t		i;

	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = token_b64url[(v >> 18) & 0x3f];
		*out++ = token_b64url[(v >> 12) & 0x3f];
		*out++ = token_b64url[(v >> 6) & 0x3f];
		*out++ = token_b64url[v & 0x3f];
	}

	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		*out++ = token_b64url[(v >> 18) & 0x3f];
		*out++ = token_b64url[(v >> 12) & 0x3f];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*out++ = token_b64url[(v >> 18) & 0x3f];
		*out++ = token_b64url[(v >> 12) & 0x3f];
		*out++ = token_b64url[(v >> 6) & 0x3f];
	}

	*out = '\0';
}

/*
 * 1 when s is "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH" with costs inside
 * our bounds and base64 (unpadded) salt and hash; anything else is 0.
 */
static int
token_encoded_ok(const char *s)
{
	static const char	head[] = "$argon2id$v=19$m=";
	unsigned		m, p;

	if (strnlen(s, TOKEN_PHC_MAX) >= TOKEN_PHC_MAX)
		return (0);
	if (strncmp(s, head, sizeof(head) - 1) != 0)
		return (0);
	s += sizeof(head) - 1;

	if ((m = token_parse_uint(&s, 1, TOKEN_ARGON2_M_MAX)) == 0)
		return (0);
	if (strncmp(s, ",t=", 3) != 0)
		return (0);
	s += 3;
	if (token_parse_uint(&s, 1, TOKEN_ARGON2_T_MAX) == 0)
		return (0);
	if (strncmp(s, ",p=", 3) != 0)
		return (0);
	s += 3;
	if ((p = token_parse_uint(&s, 1, TOKEN_ARGON2_P_MAX)) == 0)
		return (0);
	if (m < 8 * p)
		return (0);

	if (*s++ != '$' || !token_b64_run(&s))
		return (0);
	if (*s++ != '$' || !token_b64_run(&s))
		return (0);

	return (*s == '\0');
}

/* Decimal in [min, max] without leading zeros; 0 when it is not. */
static unsigned
token_parse_uint(const char **sp, unsigned min, unsigned max)
{
	const char	*s;
	unsigned long	 v;

	s = *sp;
	if (*s < '1' || *s > '9')
		return (0);

	v = 0;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return (0);
		s++;
	}

	if (v < min)
		return (0);

	*sp = s;
	return ((unsigned)v);
}

/* A non-empty run of standard base64 characters (as libargon2 writes). */
static int
token_b64_run(const char **sp)
{
	const char	*s;

	for (s = *sp; (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
	    (*s >= '0' && *s <= '9') || *s == '+' || *s == '/'; s++)
		;

	if (s == *sp)
		return (0);

	*sp = s;
	return (1);
}
