/*
 * ratelimit: request rate limits shared by Kore's worker processes.
 *
 * Each limited key (a bearer token, a client address) has a token bucket
 * of `burst` requests that refills at `per_minute` requests a minute. A
 * bucket is kept as one number, the time at which it would be full again
 * (the generic cell rate algorithm): a request is allowed when, after
 * taking its token, the bucket would be full again no later than
 * burst * interval from now; interval = 60 s / per_minute.
 *
 * The buckets live in one fixed-size anonymous shared mapping made by the
 * parent before the workers fork (ratelimit_new), so every worker sees the
 * same buckets. The table is set-associative: a key hashes to one set of
 * RATELIMIT_WAYS entries and is only ever looked for there (a bounded
 * probe). When its set is full, the key takes the entry of a bucket that
 * has refilled completely (it is indistinguishable from a new one), or
 * else the one used least recently: a flood of distinct keys can reset
 * another key's bucket, never grow the table. Each set has its own
 * spinlock (an atomic flag), held for a few instructions and never across
 * a system call, so workers contend only when their keys share a set.
 *
 * Keys are 16 bytes of SHA-256 over a kind and a value: a token is never
 * stored, only this digest of it.
 */
#ifndef KEYWORK_RATELIMIT_H
#define KEYWORK_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_WAYS		8
#define RATELIMIT_KEY_LEN	16

struct ratelimit;

struct ratelimit_key {
	uint64_t	w[2];
};

/*
 * A shared table of at least nentries buckets (rounded up to whole sets;
 * at least one set). Call before the workers fork. Aborts when the mapping
 * cannot be made.
 */
struct ratelimit	*ratelimit_new(size_t nentries);
void			 ratelimit_free(struct ratelimit *);	/* NULL is safe */

/* The key of value (len bytes) in namespace kind ("token", "addr"). */
void	ratelimit_key(struct ratelimit_key *, const char *kind,
	    const void *value, size_t len);

/*
 * Take one request from key's bucket at now_us (a monotonic clock, in
 * microseconds). Returns 0 when it is allowed; otherwise -1 and, in
 * *retry_after, the whole seconds (at least 1) until it would be.
 * per_minute 0 allows everything; burst below 1 is taken as 1.
 */
int	ratelimit_take(struct ratelimit *, const struct ratelimit_key *,
	    unsigned per_minute, unsigned burst, uint64_t now_us,
	    unsigned *retry_after) __attribute__((warn_unused_result));

/* Buckets in the table (for tests), and keys in use now. */
size_t	ratelimit_capacity(const struct ratelimit *);
size_t	ratelimit_used(struct ratelimit *);

#endif
