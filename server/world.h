/*
 * world.h - what the daemon has loaded: the org tree, the catalog, the CA
 * with its CRL, and the deployment settings handlers apply. Loaded by
 * server.c at start and on SIGHUP, replaced whole, never changed in place:
 * a call holds one world from its first check to its reply.
 */
#ifndef YB_WORLD_H
#define YB_WORLD_H

#include <time.h>

#include "batch.h"
#include "catalog.h"
#include "expiry.h"
#include "orgtree.h"
#include "pki.h"
#include "server.h"
#include "tz.h"

struct world {
	struct orgtree *orgs;
	struct catalog *cat;
	struct pki_verifier *verifier; /* the CA and its CRL */
	time_t server_cert_not_after;  /* of the daemon's certificate (--cert) */
	int due_day;                   /* returns for month M are due by this day of M+1 */
	const struct tz *zone;         /* the deployment's time zone (the server's config) */
	int outlier_factor;            /* warn above this × the 12-month median; 0 = off */
	int stock_jump_pct;            /* warn when a stock moves more than this %; 0 = off */
};

/*
 * Loads the org tree, the catalog (from catalog_dir) and the CA with its
 * CRL named by cfg, and through the group commit records the tree and
 * catalog loads in the store and the audit log (signed by signer) and
 * brings the consolidation pre-aggregates in line (rollup_sync). eb names
 * the file that failed. The caller owns *out (world_free).
 */
yb_status world_load(const struct server_config *cfg, const char *catalog_dir, struct batch *b,
                     const struct pki_identity *signer, struct world **out, struct errbuf *eb);

/* When the certificates and CRL of world w, loaded from cfg, run out. */
void world_dates(const struct server_config *cfg, const struct world *w, struct expiry_dates *d);

/* Frees w and what it loaded (not zone, which is borrowed); NULL is allowed. */
void world_free(struct world *w);

#endif
