/*
 * batch.c - group commit for the daemon's writing calls (see batch.h).
 *
 * Whoever holds the turn (busy) owns the writing connection and is the only
 * thread issuing SQL on it; the mutex guards the bookkeeping, never SQL, so
 * calls can queue up for the next turn while a COMMIT waits for the disk.
 */
#include "batch.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>

#include "clock.h"
#include "rpc.h"

/*
 * A batch commits when no call waits to join it, and also once it holds
 * this many calls or has been open this long, so that calls joining and
 * leaving without writes can never keep it open.
 */
#define BATCH_MAX_CALLS 64
#define BATCH_MAX_MS 20

/* A call whose writes are in the open batch, waiting for its commit. */
struct member {
	int rc;
	bool done;
	struct errbuf eb;
	struct member *next;
};

struct batch {
	struct store *db;
	pthread_mutex_t lock;
	pthread_cond_t turn;    /* the connection is free */
	pthread_cond_t durable; /* a batch ended: its members' rc are set */
	bool busy;              /* a call holds the connection */
	pthread_t holder;       /* that call's thread, while busy */
	bool open;              /* a transaction is open (only the turn holder changes it) */
	int waiting;            /* calls waiting for their turn */
	struct member *members; /* of the open batch */
	int n_members;
	int64_t opened_ms; /* when the open batch began */
	uint64_t n_batches, n_calls;
};

int batch_open(const char *path, struct batch **out, struct errbuf *eb)
{
	struct batch *b = calloc(1, sizeof(*b));
	int rc;

	if (b == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	if ((rc = store_open(path, &b->db, eb)) != YB_OK) {
		free(b);
		return rc;
	}
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->turn, NULL);
	pthread_cond_init(&b->durable, NULL);
	*out = b;
	return YB_OK;
}

void batch_close(struct batch *b)
{
	if (b == NULL)
		return;
	store_rollback(b->db);
	store_close(b->db);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->turn);
	pthread_cond_destroy(&b->durable);
	free(b);
}

/* Gives up the turn without ending the batch. Called with the lock held, by the holder. */
static void pass_turn(struct batch *b)
{
	assert(b->busy && pthread_equal(b->holder, pthread_self()));
	b->busy = false;
	pthread_cond_signal(&b->turn);
}

/*
 * Ends the open batch, by the turn holder: commits it when ok, else rolls
 * it back, tells every member how it went and passes the turn.
 */
static void end_batch(struct batch *b, bool ok, const struct errbuf *why)
{
	struct errbuf eb = {0};
	int rc = YB_EDB;

	if (ok && store_in_transaction(b->db))
		rc = store_commit(b->db, &eb);
	else {
		store_rollback(b->db);
		if (why != NULL)
			eb = *why;
		else
			status_fail(&eb, YB_EDB, "the batch's transaction was lost");
	}
	pthread_mutex_lock(&b->lock);
	for (struct member *m = b->members; m != NULL; m = m->next) {
		m->rc = rc;
		m->eb = eb;
		m->done = true;
		b->n_calls += rc == YB_OK;
	}
	b->n_batches += rc == YB_OK;
	b->members = NULL;
	b->n_members = 0;
	b->open = false;
	pthread_cond_broadcast(&b->durable);
	pass_turn(b);
	pthread_mutex_unlock(&b->lock);
}

int batch_join(struct batch *b, struct store **db, struct errbuf *eb)
{
	int rc;

	pthread_mutex_lock(&b->lock);
	b->waiting++;
	while (b->busy)
		pthread_cond_wait(&b->turn, &b->lock);
	b->waiting--;
	b->busy = true;
	b->holder = pthread_self();
	pthread_mutex_unlock(&b->lock);
	if (!b->open) {
		if ((rc = store_begin(b->db, eb)) != YB_OK) {
			pthread_mutex_lock(&b->lock);
			pass_turn(b);
			pthread_mutex_unlock(&b->lock);
			return rc;
		}
		b->open = true;
		b->opened_ms = clock_monotonic_ms();
	}
	if ((rc = store_savepoint(b->db, eb)) != YB_OK) {
		/* Without a savepoint this call's writes could not be undone alone. */
		end_batch(b, false, eb);
		return rc;
	}
	*db = b->db;
	return YB_OK;
}

int batch_finish(struct batch *b, bool keep, struct errbuf *eb)
{
	struct member me = {0};
	yb_status rc = YB_OK;

	assert(batch_held(b));
	if (keep && (rc = store_release(b->db, eb)) != YB_OK)
		keep = false;
	if (!keep)
		store_rollback_savepoint(b->db);
	if (!store_in_transaction(b->db)) {
		/* SQLite rolled the whole transaction back: every call of the batch is lost. */
		struct errbuf why;
		status_fail(&why, YB_EDB,
		            "the batch's transaction was rolled back by SQLite after an error%s%s",
		            rc != YB_OK ? ": " : "", rc != YB_OK ? eb->msg : "");
		end_batch(b, false, &why);
		return keep ? status_fail(eb, YB_EDB, "%s", why.msg) : rc;
	}
	pthread_mutex_lock(&b->lock);
	if (keep) {
		me.next = b->members;
		b->members = &me;
		b->n_members++;
	}
	if (b->waiting > 0 && b->n_members < BATCH_MAX_CALLS &&
	    clock_monotonic_ms() - b->opened_ms < BATCH_MAX_MS) {
		/* Someone will write after us: the last of them commits for all. */
		pass_turn(b);
		while (keep && !me.done)
			pthread_cond_wait(&b->durable, &b->lock);
		pthread_mutex_unlock(&b->lock);
	} else {
		pthread_mutex_unlock(&b->lock);
		end_batch(b, true, NULL);
	}
	if (!keep)
		return rc;
	if (me.rc != YB_OK && eb != NULL)
		*eb = me.eb;
	return me.rc;
}

bool batch_held(struct batch *b)
{
	bool held;

	pthread_mutex_lock(&b->lock);
	held = b->busy && pthread_equal(b->holder, pthread_self());
	pthread_mutex_unlock(&b->lock);
	return held;
}

void batch_stats(struct batch *b, uint64_t *batches, uint64_t *calls)
{
	pthread_mutex_lock(&b->lock);
	*batches = b->n_batches;
	*calls = b->n_calls;
	pthread_mutex_unlock(&b->lock);
}
