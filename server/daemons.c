/*
 * daemons.c - each daemon's note of what it serves, and the comparison
 * with the other daemons on the same database (daemons.h).
 */
#include "daemons.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "hash.h"
#include "log.h"

/* Notes older than this are deleted: a daemon killed yesterday is no longer listed. */
#define FORGET_MS (24 * 3600 * (int64_t)1000)

struct daemons {
	pthread_mutex_t lock; /* the main thread notes; a reload may race a beat */
	struct store_daemon self;
	int64_t noted_ms;
	/* What the last warning said (a digest of the disagreeing notes), and when. */
	char warned[65];
	int64_t warned_ms;
	struct store_daemon seen[DAEMONS_MAX]; /* scratch for each note's list */
};

yb_status daemons_new(int64_t now_ms, struct daemons **out, struct errbuf *eb)
{
	struct daemons *d = calloc(1, sizeof(*d));
	unsigned char raw[16];

	if (d == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		free(d);
		return status_fail(eb, YB_ECRYPTO,
		                   "cannot make a random daemon id (OpenSSL RAND_bytes)");
	}
	hash_hex(raw, sizeof(raw), d->self.id);
	if (gethostname(d->self.host, sizeof(d->self.host)) != 0)
		snprintf(d->self.host, sizeof(d->self.host), "unknown");
	d->self.host[sizeof(d->self.host) - 1] = '\0';
	d->self.pid = (int64_t)getpid();
	d->self.started_at_ms = now_ms;
	pthread_mutex_init(&d->lock, NULL);
	*out = d;
	return YB_OK;
}

void daemons_free(struct daemons *d)
{
	if (d == NULL)
		return;
	pthread_mutex_destroy(&d->lock);
	free(d);
}

const char *daemons_id(const struct daemons *d)
{
	return d->self.id;
}

void daemons_set_listen(struct daemons *d, const char *url)
{
	pthread_mutex_lock(&d->lock);
	snprintf(d->self.listen, sizeof(d->self.listen), "%s", url);
	pthread_mutex_unlock(&d->lock);
}

bool daemons_gone(const struct store_daemon *x, int64_t now_ms)
{
	return now_ms - x->seen_at_ms > DAEMONS_GONE_MS;
}

bool daemons_due(const struct daemons *d, int64_t now_ms)
{
	return now_ms - d->noted_ms >= DAEMONS_BEAT_MS;
}

/* Whether x serves other files than this daemon; what differs in *what. */
static bool differs(const struct daemons *d, const struct store_daemon *x, const char **what)
{
	bool orgs = strcmp(x->orgs_digest, d->self.orgs_digest) != 0;
	bool cat = strcmp(x->catalog_digest, d->self.catalog_digest) != 0;

	*what = orgs && cat ? "org tree and catalog" : orgs ? "org tree" : "catalog";
	return orgs || cat;
}

/*
 * Logs the daemons among the n listed that serve other files (once per
 * change of that set, and every DAEMONS_REMIND_MS while it lasts), or that
 * all agree again. Called with d->lock held.
 */
static void compare(struct daemons *d, size_t n, int64_t now_ms)
{
	char state[(32 + 2 * 64 + 1) * DAEMONS_MAX + 1] = "", digest[65] = "";
	size_t live = 0, off = 0;
	const char *what;

	for (size_t i = 0; i < n; i++) {
		const struct store_daemon *x = &d->seen[i];
		if (strcmp(x->id, d->self.id) == 0 || daemons_gone(x, now_ms))
			continue;
		live++;
		if (differs(d, x, &what))
			off += (size_t)snprintf(state + off, sizeof(state) - off, "%s%s%s;", x->id,
			                        x->orgs_digest, x->catalog_digest);
	}
	if (off > 0)
		hash_sha256_hex(state, off, digest);
	if (strcmp(digest, d->warned) == 0 &&
	    (off == 0 || now_ms - d->warned_ms < DAEMONS_REMIND_MS))
		return;
	if (off == 0) {
		log_msg(LOG_LEVEL_INFO,
		        "the %zu daemon(s) on this database serve the same org tree and catalog "
		        "again (sha256 %.12s, %.12s)",
		        live + 1, d->self.orgs_digest, d->self.catalog_digest);
	} else {
		for (size_t i = 0; i < n; i++) {
			const struct store_daemon *x = &d->seen[i];
			if (strcmp(x->id, d->self.id) == 0 || daemons_gone(x, now_ms) ||
			    !differs(d, x, &what))
				continue;
			log_msg(
			    LOG_LEVEL_WARNING,
			    "daemons disagree: yuebaod pid %lld on %s (%s) serves a different %s "
			    "from this one: org tree sha256 %.12s, catalog %.12s there; "
			    "%.12s, %.12s here. Give every daemon the same files and reload "
			    "them (SIGHUP)",
			    (long long)x->pid, x->host, x->listen[0] ? x->listen : "not listening",
			    what, x->orgs_digest, x->catalog_digest, d->self.orgs_digest,
			    d->self.catalog_digest);
		}
	}
	snprintf(d->warned, sizeof(d->warned), "%s", digest);
	d->warned_ms = now_ms;
}

void daemons_note(struct daemons *d, struct batch *b, const char *orgs_digest,
                  const char *catalog_digest, int64_t now_ms)
{
	struct errbuf eb = {0}, scratch;
	struct store *db;
	size_t n = 0;
	int rc;

	pthread_mutex_lock(&d->lock);
	snprintf(d->self.orgs_digest, sizeof(d->self.orgs_digest), "%s", orgs_digest);
	snprintf(d->self.catalog_digest, sizeof(d->self.catalog_digest), "%s", catalog_digest);
	d->self.seen_at_ms = now_ms;
	d->noted_ms = now_ms; /* a failure is retried at the next beat, not every second */
	if ((rc = batch_join(b, &db, &eb)) != YB_OK)
		goto fail;
	if ((rc = store_daemon_note(db, &d->self, now_ms - FORGET_MS, &eb)) != YB_OK ||
	    (rc = store_daemon_list(db, d->seen, DAEMONS_MAX, &n, &eb)) != YB_OK) {
		batch_finish(b, false, &scratch);
		goto fail;
	}
	if ((rc = batch_finish(b, true, &eb)) != YB_OK)
		goto fail;
	compare(d, n, now_ms);
	pthread_mutex_unlock(&d->lock);
	return;
fail:
	pthread_mutex_unlock(&d->lock);
	log_msg(LOG_LEVEL_WARNING, "cannot note this daemon in the database: %s", eb.msg);
}

void daemons_leave(struct daemons *d, struct batch *b)
{
	struct errbuf eb = {0}, scratch;
	struct store *db;

	pthread_mutex_lock(&d->lock);
	if (d->noted_ms != 0 && batch_join(b, &db, &eb) == YB_OK) {
		if (store_daemon_forget(db, d->self.id, &eb) == YB_OK)
			batch_finish(b, true, &eb);
		else
			batch_finish(b, false, &scratch);
	}
	pthread_mutex_unlock(&d->lock);
	if (eb.msg[0] != '\0')
		log_msg(LOG_LEVEL_WARNING, "cannot remove this daemon's note from the database: %s",
		        eb.msg);
}
