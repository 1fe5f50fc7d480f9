/*
 * Unit tests of token: token shape and randomness, the well-formed check,
 * SHA-256 hex, Argon2id hashing and verifying, constant-time equality.
 * Argon2 runs with the smallest costs config allows, to stay fast.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "token.h"

#define NTOKENS		2000

static const struct token_argon2	fast = { 8192, 1, 1 };

static int	cmp_token(const void *, const void *);

static int
cmp_token(const void *a, const void *b)
{
	return (strcmp(a, b));
}

Test(token, shape)
{
	static const char *const	prefixes[] = {
		TOKEN_PREFIX_ACCESS, TOKEN_PREFIX_REFRESH, TOKEN_PREFIX_APIKEY
	};
	char	t[TOKEN_LEN + 1];
	size_t	i, j;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		memset(t, 'X', sizeof(t));
		cr_assert_eq(token_new(prefixes[i], t, sizeof(t)), 0);
		cr_expect_eq(strlen(t), 47);
		cr_expect_eq(strncmp(t, prefixes[i], 4), 0, "%s", t);
		for (j = 4; j < TOKEN_LEN; j++)
			cr_expect(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijk"
			    "lmnopqrstuvwxyz0123456789-_", t[j]) != NULL,
			    "%s", t);
		cr_expect_eq(token_well_formed(t), 1, "%s", t);
	}
}

Test(token, new_refuses)
{
	char	t[TOKEN_LEN + 1];

	cr_expect_eq(token_new(TOKEN_PREFIX_ACCESS, t, TOKEN_LEN), -1);
	cr_expect_eq(token_new(TOKEN_PREFIX_ACCESS, t, 0), -1);
	cr_expect_eq(token_new("kwx_", t, sizeof(t)), -1);
	cr_expect_eq(token_new("kw", t, sizeof(t)), -1);
	cr_expect_eq(token_new("", t, sizeof(t)), -1);
}

/* Many tokens: all different, and every base64url character turns up. */
Test(token, unique)
{
	char	(*t)[TOKEN_LEN + 1];
	int	 seen[256];
	size_t	 i, j;

	t = calloc(NTOKENS, sizeof(*t));
	cr_assert_not_null(t);
	memset(seen, 0, sizeof(seen));

	for (i = 0; i < NTOKENS; i++) {
		cr_assert_eq(token_new(TOKEN_PREFIX_REFRESH, t[i],
		    sizeof(t[i])), 0);
		for (j = 4; j < TOKEN_LEN; j++)
			seen[(unsigned char)t[i][j]]++;
	}

	qsort(t, NTOKENS, sizeof(*t), cmp_token);
	for (i = 1; i < NTOKENS; i++)
		cr_expect_str_neq(t[i - 1], t[i]);

	for (i = 0; i < 64; i++) {
		j = (unsigned char)"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789-_"[i];
		cr_expect_gt(seen[j], 0, "never saw %c", (int)j);
	}
	free(t);
}

Test(token, well_formed)
{
	static const struct {
		const char	*s;
		int		 ok;
	} cases[] = {
		{ "kwa_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", 1 },
		{ "kwr_0123456789-_0123456789-_0123456789-_0123456", 1 },
		{ "kwk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 1 },
		/* Wrong or missing prefix. */
		{ "kwx_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", 0 },
		{ "KWA_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", 0 },
		{ "kwaXabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", 0 },
		{ "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU", 0 },
		/* 42 and 44 characters. */
		{ "kwa_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP", 0 },
		{ "kwa_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQR", 0 },
		/* Characters outside base64url. */
		{ "kwa_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP+", 0 },
		{ "kwa_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP/", 0 },
		{ "kwa_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP=", 0 },
		{ "kwa_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP ", 0 },
		{ "kwa_abcdefghijklmnopqrstuvw.yzABCDEFGHIJKLMNOPQ", 0 },
		{ "kwa_abcdefghijklmnopqrstuvw\xc3\xa9zABCDEFGHIJKLMNOP", 0 },
		{ " kwa_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", 0 },
		{ "kwa_", 0 },
		{ "kwa", 0 },
		{ "", 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(token_well_formed(cases[i].s), cases[i].ok,
		    "'%s'", cases[i].s);
	cr_expect_eq(token_well_formed(NULL), 0);
}

Test(token, hash_hex)
{
	static const struct {
		const char	*s;
		size_t		 len;
		const char	*hex;
	} cases[] = {
		{ "", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
		    "7852b855" },
		{ "abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410"
		    "ff61f20015ad" },
		/* Only len bytes count. */
		{ "abcdef", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
		    "b410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd4"
		    "19db06c1" },
	};
	char	out[TOKEN_HASH_LEN + 1];
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'X', sizeof(out));
		token_hash_hex(cases[i].s, cases[i].len, out);
		cr_expect_str_eq(out, cases[i].hex);
	}
}

Test(token, password_round_trip)
{
	char	a[TOKEN_PHC_MAX], b[TOKEN_PHC_MAX];

	cr_assert_eq(token_password_hash("correct horse", &fast, a,
	    sizeof(a)), 0);
	cr_expect_eq(strncmp(a, "$argon2id$v=19$m=8192,t=1,p=1$", 30), 0,
	    "%s", a);
	cr_expect_eq(token_password_verify(a, "correct horse"), 0);
	cr_expect_eq(token_password_verify(a, "correct horsf"), -1);
	cr_expect_eq(token_password_verify(a, "correct hors"), -1);
	cr_expect_eq(token_password_verify(a, ""), -1);

	/* A fresh salt each time. */
	cr_assert_eq(token_password_hash("correct horse", &fast, b,
	    sizeof(b)), 0);
	cr_expect_str_neq(a, b);
	cr_expect_eq(token_password_verify(b, "correct horse"), 0);

	/* The empty password is a password like any other. */
	cr_assert_eq(token_password_hash("", &fast, a, sizeof(a)), 0);
	cr_expect_eq(token_password_verify(a, ""), 0);
	cr_expect_eq(token_password_verify(a, " "), -1);
}

Test(token, password_params)
{
	struct token_argon2	p = { 8192, 2, 2 };
	char			a[TOKEN_PHC_MAX];

	cr_assert_eq(token_password_hash("pw", &p, a, sizeof(a)), 0);
	cr_expect_eq(strncmp(a, "$argon2id$v=19$m=8192,t=2,p=2$", 30), 0,
	    "%s", a);
	cr_expect_eq(token_password_verify(a, "pw"), 0);
}

Test(token, password_refused)
{
	struct token_argon2	 bad = { 4, 1, 1 };
	char			 a[TOKEN_PHC_MAX], *pw;

	pw = malloc(1026);
	cr_assert_not_null(pw);
	memset(pw, 'p', 1025);
	pw[1025] = '\0';
	cr_expect_eq(token_password_hash(pw, &fast, a, sizeof(a)), -1);
	pw[1024] = '\0';
	cr_assert_eq(token_password_hash(pw, &fast, a, sizeof(a)), 0);
	cr_expect_eq(token_password_verify(a, pw), 0);
	pw[1024] = 'p';
	cr_expect_eq(token_password_verify(a, pw), -1);
	free(pw);

	/* Output too small, and costs libargon2 refuses. */
	cr_expect_eq(token_password_hash("pw", &fast, a, 40), -1);
	cr_expect_eq(token_password_hash("pw", &bad, a, sizeof(a)), -1);
}

Test(token, password_malformed)
{
	static const char *const	cases[] = {
		"",
		"garbage",
		"$",
		"$argon2id$",
		"$argon2id$v=19$",
		"$argon2id$v=19$m=8192,t=1,p=1$",
		"$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0$",
		"$argon2id$v=16$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0$"
		    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=08192,t=1,p=1$c2FsdHNhbHRzYWx0$"
		    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=-1,t=1,p=1$c2FsdHNhbHRzYWx0$"
		    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		/* Costs that would take terabytes or hours. */
		"$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$"
		    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=99999999999999999999,t=1,p=1$c2FsdHNhbHRzYWx0$"
		    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=8192,t=4294967295,p=1$c2FsdHNhbHRzYWx0$"
		    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=8192,t=1,p=255$c2FsdHNhbHRzYWx0$"
		    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=8,t=1,p=2$c2FsdHNhbHRzYWx0$"
		    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=8192,t=1,p=1$c2Fsd!NhbHRzYWx0$"
		    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0$"
		    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=",
		"$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0$"
		    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g$",
		"$argon2d$v=19$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0$"
		    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$2b$12$abcdefghijklmnopqrstuuMdZ3ZlXB4Os8hLLx6M5lWAE0ZxH3vxO",
	};
	char	a[TOKEN_PHC_MAX], longer[TOKEN_PHC_MAX * 2];
	size_t	i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(token_password_verify(cases[i], "pw"), -1, "%s",
		    cases[i]);
	cr_expect_eq(token_password_verify(NULL, "pw"), -1);

	/* A real hash, cut short, altered or lengthened. */
	cr_assert_eq(token_password_hash("pw", &fast, a, sizeof(a)), 0);
	cr_expect_eq(token_password_verify(a, NULL), -1);
	n = strlen(a);
	a[n - 1] = a[n - 1] == 'A' ? 'B' : 'A';
	cr_expect_eq(token_password_verify(a, "pw"), -1);
	a[n - 5] = '\0';
	cr_expect_eq(token_password_verify(a, "pw"), -1);
	memset(longer, 'A', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	memcpy(longer, "$argon2id$v=19$m=8192,t=1,p=1$", 30);
	cr_expect_eq(token_password_verify(longer, "pw"), -1);
}

/* An argon2i hash of the right password is still refused. */
Test(token, password_not_argon2id)
{
	static const unsigned char	salt[16] = "0123456789abcdef";
	char				enc[TOKEN_PHC_MAX];

	cr_assert_eq(argon2i_hash_encoded(1, 8192, 1, "pw", 2, salt,
	    sizeof(salt), 32, enc, sizeof(enc)), ARGON2_OK);
	cr_assert_eq(strncmp(enc, "$argon2i$", 9), 0, "%s", enc);
	cr_assert_eq(argon2i_verify(enc, "pw", 2), ARGON2_OK);
	cr_expect_eq(token_password_verify(enc, "pw"), -1);

	cr_assert_eq(argon2d_hash_encoded(1, 8192, 1, "pw", 2, salt,
	    sizeof(salt), 32, enc, sizeof(enc)), ARGON2_OK);
	cr_expect_eq(token_password_verify(enc, "pw"), -1);
}

Test(token, password_dummy)
{
	struct token_argon2	p = { 8192, 1, 2 };

	token_password_dummy(&fast);
	token_password_dummy(&p);
}

Test(token, equal)
{
	static const struct {
		const char	*a;
		const char	*b;
		int		 eq;
	} cases[] = {
		{ "", "", 1 },
		{ "kwa_abc", "kwa_abc", 1 },
		{ "kwa_abc", "kwa_abd", 0 },
		{ "kwa_abc", "Kwa_abc", 0 },
		{ "kwa_abc", "kwa_ab", 0 },
		{ "kwa_ab", "kwa_abc", 0 },
		{ "", "a", 0 },
		{ "a", "", 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(token_equal(cases[i].a, cases[i].b), cases[i].eq,
		    "'%s' '%s'", cases[i].a, cases[i].b);
	cr_expect_eq(token_equal(NULL, "a"), 0);
	cr_expect_eq(token_equal("a", NULL), 0);
	cr_expect_eq(token_equal(NULL, NULL), 0);
}
