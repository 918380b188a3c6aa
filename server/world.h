/*
 * world.h - what the daemon has loaded: the org tree, the catalog, the CA
 * with its CRL, and the deployment settings handlers apply. Loaded by
 * server.c at start and on SIGHUP, replaced whole, never changed in place:
 * a call holds one world from its first check to its reply.
 */
#ifndef YB_WORLD_H
#define YB_WORLD_H

#include <time.h>

#include "catalog.h"
#include "orgtree.h"
#include "pki.h"
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

/* Frees w and what it loaded (not zone, which is borrowed); NULL is allowed. */
void world_free(struct world *w);

#endif
