/*
 * daemons.h - the yuebaod processes that serve one database. Several
 * daemons may serve one PostgreSQL database (docs/postgresql.md); each
 * must load the same org tree and catalog, or the same request gets
 * different answers depending on which daemon a load balancer picks.
 *
 * So each daemon notes in the store who it is and the SHA-256 of the org
 * tree and catalog it serves: when it starts, after each SIGHUP reload,
 * and every DAEMONS_BEAT_MS. Each note also reads the others' notes, and
 * the daemon logs a warning naming every daemon that serves other files,
 * when that first happens, every DAEMONS_REMIND_MS while it lasts, and a
 * line when all agree again. A daemon that stops cleanly removes its note;
 * one not seen for DAEMONS_GONE_MS is gone (killed, or its host is down)
 * and no longer compared; one not seen for a day is forgotten.
 */
#ifndef YB_DAEMONS_H
#define YB_DAEMONS_H

#include <stdbool.h>
#include <stdint.h>

#include "batch.h"
#include "status.h"
#include "store.h"

#define DAEMONS_BEAT_MS 30000
#define DAEMONS_GONE_MS 90000
#define DAEMONS_REMIND_MS (10 * 60 * 1000)
/* Notes read at most (the rest are not compared: a deployment has a few daemons). */
#define DAEMONS_MAX 64

struct daemons;

/* This daemon's identity (a random id, the host name, the pid), started now_ms. */
yb_status daemons_new(int64_t now_ms, struct daemons **out, struct errbuf *eb);

/* NULL is allowed. */
void daemons_free(struct daemons *d);

/* The random id of this daemon's notes (owned by d). */
const char *daemons_id(const struct daemons *d);

/* The URL to note as where this daemon listens (copied). */
void daemons_set_listen(struct daemons *d, const char *url);

/*
 * Notes this daemon serving the org tree and catalog with these digests,
 * through the group commit b, then compares them with the other daemons'
 * and logs what disagrees (see above). Failures are logged, not returned:
 * the check must never stop the daemon from serving.
 */
void daemons_note(struct daemons *d, struct batch *b, const char *orgs_digest,
                  const char *catalog_digest, int64_t now_ms);

/* Whether DAEMONS_BEAT_MS has passed since the last daemons_note. */
bool daemons_due(const struct daemons *d, int64_t now_ms);

/* Removes this daemon's note, if it made one (a clean stop), through b; failures are logged. */
void daemons_leave(struct daemons *d, struct batch *b);

/* Whether daemon x, as listed at now_ms, is gone (not seen for DAEMONS_GONE_MS). */
bool daemons_gone(const struct store_daemon *x, int64_t now_ms);

#endif
