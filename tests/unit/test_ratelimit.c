/*
 * ratelimit: the bucket arithmetic (burst, refill, Retry-After), keys,
 * replacement when a set is full, and the table shared across fork.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ratelimit.h"

#define SEC	1000000ULL
/* An arbitrary start, far from zero like a monotonic clock's. */
#define T0	(1000 * SEC)

static void
key_of(struct ratelimit_key *k, const char *s)
{
	ratelimit_key(k, "addr", s, strlen(s));
}

/* Requests allowed in a row at now. */
static unsigned
drain(struct ratelimit *rl, const struct ratelimit_key *k, unsigned rate,
    unsigned burst, uint64_t now, unsigned *retry)
{
	unsigned	n = 0;

	while (ratelimit_take(rl, k, rate, burst, now, retry) == 0) {
		n++;
		cr_assert_lt(n, 100000, "never refused");
	}
	return n;
}

Test(ratelimit, burst_then_refused_with_retry_after)
{
	struct ratelimit	*rl = ratelimit_new(64);
	struct ratelimit_key	 k;
	unsigned		 retry;

	key_of(&k, "192.0.2.1");
	/* 60 a minute: one a second, 10 at once. */
	cr_assert_eq(drain(rl, &k, 60, 10, T0, &retry), 10);
	cr_assert_eq(retry, 1);
	/* A refusal takes nothing: still one second to wait. */
	cr_assert_eq(ratelimit_take(rl, &k, 60, 10, T0, &retry), -1);
	cr_assert_eq(retry, 1);
	/* Half a second on: still refused, still 1 s (rounded up). */
	cr_assert_eq(ratelimit_take(rl, &k, 60, 10, T0 + SEC / 2, &retry), -1);
	cr_assert_eq(retry, 1);
	/* One second on: exactly one more. */
	cr_assert_eq(ratelimit_take(rl, &k, 60, 10, T0 + SEC, &retry), 0);
	cr_assert_eq(ratelimit_take(rl, &k, 60, 10, T0 + SEC, &retry), -1);
	/* Long idle: the whole burst again, never more. */
	cr_assert_eq(drain(rl, &k, 60, 10, T0 + 3600 * SEC, &retry), 10);
	ratelimit_free(rl);
}

Test(ratelimit, retry_after_counts_whole_seconds_up)
{
	struct ratelimit	*rl = ratelimit_new(64);
	struct ratelimit_key	 k;
	unsigned		 retry;

	key_of(&k, "192.0.2.2");
	/* 6 a minute: one every 10 s. */
	cr_assert_eq(drain(rl, &k, 6, 2, T0, &retry), 2);
	cr_assert_eq(retry, 10);
	cr_assert_eq(ratelimit_take(rl, &k, 6, 2, T0 + 3 * SEC + 1, &retry), -1);
	cr_assert_eq(retry, 7);
	cr_assert_eq(ratelimit_take(rl, &k, 6, 2, T0 + 10 * SEC - 1, &retry), -1);
	cr_assert_eq(retry, 1);
	cr_assert_eq(ratelimit_take(rl, &k, 6, 2, T0 + 10 * SEC, &retry), 0);
	ratelimit_free(rl);
}

Test(ratelimit, sustained_rate_is_the_configured_one)
{
	struct ratelimit	*rl = ratelimit_new(64);
	struct ratelimit_key	 k;
	unsigned		 retry, ok = 0;
	uint64_t		 t;

	key_of(&k, "192.0.2.3");
	/* 600 a minute, burst 5, tried every millisecond for a minute. */
	for (t = 0; t < 60 * SEC; t += 1000)
		ok += ratelimit_take(rl, &k, 600, 5, T0 + t, &retry) == 0;
	cr_assert(ok >= 600 && ok <= 605, "%u allowed", ok);
	ratelimit_free(rl);
}

Test(ratelimit, zero_rate_allows_everything_and_burst_zero_is_one)
{
	struct ratelimit	*rl = ratelimit_new(64);
	struct ratelimit_key	 k;
	unsigned		 retry;
	int			 i;

	key_of(&k, "192.0.2.4");
	for (i = 0; i < 10000; i++)
		cr_assert_eq(ratelimit_take(rl, &k, 0, 0, T0, &retry), 0);
	cr_assert_eq(ratelimit_used(rl), 0, "a disabled limit stores nothing");
	cr_assert_eq(drain(rl, &k, 60, 0, T0, &retry), 1);
	ratelimit_free(rl);
}

Test(ratelimit, keys_are_separate_by_value_and_kind)
{
	struct ratelimit	*rl = ratelimit_new(1024);
	struct ratelimit_key	 a, b, c;
	unsigned		 retry;

	key_of(&a, "192.0.2.5");
	key_of(&b, "192.0.2.6");
	ratelimit_key(&c, "token", "192.0.2.5", 9);
	cr_assert(memcmp(&a, &c, sizeof(a)) != 0);
	cr_assert_eq(drain(rl, &a, 60, 3, T0, &retry), 3);
	cr_assert_eq(drain(rl, &b, 60, 3, T0, &retry), 3);
	cr_assert_eq(drain(rl, &c, 60, 3, T0, &retry), 3);
	ratelimit_free(rl);
}

Test(ratelimit, full_table_reuses_refilled_then_least_recent)
{
	/* One set: every key competes for the same RATELIMIT_WAYS entries. */
	struct ratelimit	*rl = ratelimit_new(1);
	struct ratelimit_key	 k[RATELIMIT_WAYS + 1];
	unsigned		 retry;
	char			 name[32];
	int			 i;

	cr_assert_eq(ratelimit_capacity(rl), RATELIMIT_WAYS);
	for (i = 0; i <= RATELIMIT_WAYS; i++) {
		snprintf(name, sizeof(name), "198.51.100.%d", i);
		key_of(&k[i], name);
	}
	/* Every way holds an exhausted bucket; key 0 used first. */
	for (i = 0; i < RATELIMIT_WAYS; i++)
		cr_assert_eq(drain(rl, &k[i], 60, 2, T0 + (uint64_t)i, &retry), 2);
	cr_assert_eq(ratelimit_used(rl), RATELIMIT_WAYS);
	/* Key 1 touched again: key 0 is now the least recently used. */
	cr_assert_eq(ratelimit_take(rl, &k[1], 60, 2, T0 + 100, &retry), -1);
	/* A new key evicts key 0, and the table does not grow. */
	cr_assert_eq(drain(rl, &k[RATELIMIT_WAYS], 60, 2, T0 + 200, &retry), 2);
	cr_assert_eq(ratelimit_used(rl), RATELIMIT_WAYS);
	/* Key 1 kept its empty bucket; key 0 starts afresh (evicting key 2). */
	cr_assert_eq(ratelimit_take(rl, &k[1], 60, 2, T0 + 300, &retry), -1);
	cr_assert_eq(drain(rl, &k[0], 60, 2, T0 + 400, &retry), 2);
	cr_assert_eq(ratelimit_take(rl, &k[1], 60, 2, T0 + 500, &retry), -1);

	ratelimit_free(rl);
}

Test(ratelimit, refilled_bucket_is_reused_before_a_busy_one)
{
	struct ratelimit	*rl = ratelimit_new(1);
	struct ratelimit_key	 k[RATELIMIT_WAYS + 1];
	unsigned		 retry;
	char			 name[32];
	int			 i;

	for (i = 0; i <= RATELIMIT_WAYS; i++) {
		snprintf(name, sizeof(name), "203.0.113.%d", i);
		key_of(&k[i], name);
	}
	/* Key 0 at a fast rate (full again in 0.1 s), the others slow. */
	cr_assert_eq(drain(rl, &k[0], 600, 1, T0, &retry), 1);
	for (i = 1; i < RATELIMIT_WAYS; i++)
		cr_assert_eq(drain(rl, &k[i], 1, 1, T0 + SEC, &retry), 1);
	/* Key 0, the least recently used, was also refilled: it goes. */
	cr_assert_eq(drain(rl, &k[RATELIMIT_WAYS], 1, 1, T0 + 2 * SEC,
	    &retry), 1);
	/* The others, all still empty, were kept. */
	for (i = 1; i < RATELIMIT_WAYS; i++)
		cr_assert_eq(ratelimit_take(rl, &k[i], 1, 1, T0 + 2 * SEC,
		    &retry), -1, "key %d lost its bucket", i);
	ratelimit_free(rl);
}

Test(ratelimit, shared_across_fork)
{
	struct ratelimit	*rl = ratelimit_new(4096);
	struct ratelimit_key	 k;
	unsigned		 retry;
	pid_t			 pid[4];
	int			 i, st, n = 0;

	key_of(&k, "192.0.2.7");
	/* Four processes take 250 each from a bucket of 1000 at once. */
	for (i = 0; i < 4; i++) {
		if ((pid[i] = fork()) == 0) {
			int	j, ok = 0;

			for (j = 0; j < 250; j++)
				ok += ratelimit_take(rl, &k, 60, 1000, T0,
				    &retry) == 0;
			_exit(ok == 250 ? 0 : 1);
		}
		cr_assert_gt(pid[i], 0);
	}
	for (i = 0; i < 4; i++) {
		cr_assert_eq(waitpid(pid[i], &st, 0), pid[i]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	/* Exactly the burst went: none left for the parent. */
	while (ratelimit_take(rl, &k, 60, 1000, T0, &retry) == 0)
		n++;
	cr_assert_eq(n, 0, "%d more allowed", n);
	ratelimit_free(rl);
}
