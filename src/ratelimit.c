/*
 * ratelimit: see ratelimit.h.
 */
#include <sys/mman.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ratelimit.h"
#include "xmalloc.h"

#if defined(__x86_64__) || defined(__i386__)
#define RL_PAUSE()	__builtin_ia32_pause()
#else
#define RL_PAUSE()	do { } while (0)
#endif

struct rl_entry {
	struct ratelimit_key	key;	/* all zero: free */
	uint64_t		tat;	/* when the bucket is full again, us */
	uint64_t		used;	/* last take, us: for replacement */
};

struct rl_set {
	unsigned char	lock;		/* __atomic_test_and_set flag */
	struct rl_entry	e[RATELIMIT_WAYS];
};

struct ratelimit {
	struct rl_set	*sets;		/* the shared mapping */
	size_t		 nsets;
	size_t		 maplen;
};

static void		 rl_lock(struct rl_set *);
static void		 rl_unlock(struct rl_set *);
static int		 rl_key_empty(const struct ratelimit_key *);
static struct rl_entry	*rl_find(struct rl_set *, const struct ratelimit_key *,
			    uint64_t);

struct ratelimit *
ratelimit_new(size_t nentries)
{
	struct ratelimit	*rl;
	void			*p;

	rl = xcalloc(1, sizeof(*rl));
	rl->nsets = (nentries + RATELIMIT_WAYS - 1) / RATELIMIT_WAYS;
	if (rl->nsets == 0)
		rl->nsets = 1;
	rl->maplen = rl->nsets * sizeof(struct rl_set);
	/* Shared with the workers forked after this; zero-filled. */
	p = mmap(NULL, rl->maplen, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		abort();
	rl->sets = p;
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	munmap(rl->sets, rl->maplen);
	free(rl);
}

void
ratelimit_key(struct ratelimit_key *k, const char *kind, const void *value,
    size_t len)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	EVP_MD_CTX	*ctx;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, kind, strlen(kind) + 1) != 1 ||
	    EVP_DigestUpdate(ctx, value, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
	memcpy(k->w, md, sizeof(k->w));
	/* All zero marks a free entry. */
	if (rl_key_empty(k))
		k->w[1] = 1;
}

static int
rl_key_empty(const struct ratelimit_key *k)
{
	return k->w[0] == 0 && k->w[1] == 0;
}

/*
 * A worker that dies holding a lock would stop its set for good; the lock
 * is held only for the arithmetic below, where nothing can kill the
 * process but a signal from outside.
 */
static void
rl_lock(struct rl_set *s)
{
	while (__atomic_test_and_set(&s->lock, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&s->lock, __ATOMIC_RELAXED))
			RL_PAUSE();
	}
}

static void
rl_unlock(struct rl_set *s)
{
	__atomic_clear(&s->lock, __ATOMIC_RELEASE);
}

/*
 * key's entry in set s, made if need be: its own, else a free one, else a
 * bucket that is full again by now, else the least recently used.
 */
static struct rl_entry *
rl_find(struct rl_set *s, const struct ratelimit_key *key, uint64_t now)
{
	struct rl_entry	*e, *spare = NULL, *lru = NULL;
	int		 i;

	for (i = 0; i < RATELIMIT_WAYS; i++) {
		e = &s->e[i];
		if (e->key.w[0] == key->w[0] && e->key.w[1] == key->w[1])
			return e;
		if (spare == NULL && (rl_key_empty(&e->key) || e->tat <= now))
			spare = e;
		if (lru == NULL || e->used < lru->used)
			lru = e;
	}
	e = spare != NULL ? spare : lru;
	e->key = *key;
	e->tat = 0;
	e->used = now;
	return e;
}

int
ratelimit_take(struct ratelimit *rl, const struct ratelimit_key *key,
    unsigned per_minute, unsigned burst, uint64_t now_us,
    unsigned *retry_after)
{
	struct rl_set	*s;
	struct rl_entry	*e;
	uint64_t	 interval, tat, limit, wait;
	int		 rc = 0;

	*retry_after = 0;
	if (per_minute == 0)
		return 0;
	if (burst < 1)
		burst = 1;
	interval = 60ULL * 1000000ULL / per_minute;
	if (interval == 0)
		interval = 1;
	limit = interval * burst;

	s = &rl->sets[key->w[0] % rl->nsets];
	rl_lock(s);
	e = rl_find(s, key, now_us);
	e->used = now_us;
	tat = (e->tat > now_us ? e->tat : now_us) + interval;
	if (tat - now_us <= limit) {
		e->tat = tat;
	} else {
		/* Refused requests take nothing: the bucket refills as usual. */
		wait = tat - now_us - limit;
		*retry_after = (unsigned)((wait + 999999) / 1000000);
		if (*retry_after < 1)
			*retry_after = 1;
		rc = -1;
	}
	rl_unlock(s);
	return rc;
}

size_t
ratelimit_capacity(const struct ratelimit *rl)
{
	return rl->nsets * RATELIMIT_WAYS;
}

size_t
ratelimit_used(struct ratelimit *rl)
{
	size_t	i, n = 0;
	int	j;

	for (i = 0; i < rl->nsets; i++) {
		rl_lock(&rl->sets[i]);
		for (j = 0; j < RATELIMIT_WAYS; j++)
			n += !rl_key_empty(&rl->sets[i].e[j].key);
		rl_unlock(&rl->sets[i]);
	}
	return n;
}
