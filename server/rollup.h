/*
 * rollup.h - pre-aggregates for consolidate, maintained on every write.
 *
 * A consolidation (SPEC §6) needs, per subtree and period: the total of
 * every `sum` element, the total over org units of each unit's latest value
 * of every `last` element within the period, and how many returns of leaf
 * units there are. Reading every return of the period makes a query grow
 * with the number of branches; these pre-aggregates make it read a number
 * of rows that depends on the number of months only.
 *
 * They are kept for two modes, 0: each return's latest revision that is not
 * rejected, and 1: its latest accepted revision (consolidate
 * --accepted-only); in each mode, the "effective" revision of a return. For
 * every org unit of the tree (a node: the unit's own returns and those of
 * its subtree) and mode, a bucket (node, month, next) holds, per catalog
 * element, a sum (hundredths) and a count of the values behind it, and a
 * count of the returns of leaf units:
 *   next = 0   the `sum` elements of the month's effective returns, and the
 *              returns of leaf units that month;
 *   next > 0   for a `last` element e: the value of unit u in month m goes
 *              to next = the following month in which u has an effective
 *              value for e (ROLLUP_NO_NEXT when there is none).
 * For a period [a, b], the `sum` elements add up the buckets with next = 0
 * and a <= month <= b; the `last` elements add up those with
 * a <= month <= b and next > b, because of the months in [a, b] in which a
 * unit has e, exactly one (its latest there) is followed by no other month
 * of [a, b] with e. An element has a figure when a count is above 0:
 * missing is not zero. A one-month group is the period [m, m].
 *
 * The buckets depend on the shape of the org tree and on the catalog's
 * elements (codes, order, aggregation): their basis (rollup_basis). Units
 * outside the tree and codes outside the catalog are left out, as
 * consolidate leaves them out. Maintenance reads the basis it applies from
 * the database rather than from the loaded tree and catalog, so a write
 * made with the previous ones during a SIGHUP reload keeps the buckets
 * exact; a query uses them only when their basis is the query's and no
 * change waits (rollup_usable), and reads the returns otherwise.
 *
 * SQLite triggers note every change to the revisions (store_rollup.c,
 * rollup_pending), whoever writes it: rollup_refresh applies what they
 * noted, so a write path that forgets to call it only makes queries read
 * the returns until it is called, or until the next rollup_sync rebuilds.
 */
#ifndef YB_ROLLUP_H
#define YB_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "orgtree.h"
#include "status.h"
#include "store.h"

/* `next` of a `last` value that no later month of its unit supersedes. */
#define ROLLUP_NO_NEXT 0x7fffffff

/* One group's aggregates over one period, as consolidate computes them. */
struct rollup_acc {
	int64_t *sum;     /* per element (catalog order), hundredths */
	bool *has;        /* a value is behind sum[e]; false: no figure */
	uint32_t present; /* effective returns of leaf units */
};

/* What a rebuild did. */
struct rollup_stats {
	size_t units;      /* org units of the tree */
	size_t returns[2]; /* effective returns read, per mode */
	size_t buckets;    /* bucket rows written */
	int64_t ms;        /* how long it took */
};

/* A printf-like logger (the daemon's log_line). */
typedef void (*rollup_log_fn)(const char *fmt, ...);

/*
 * The basis of pre-aggregates for this tree and catalog: hex SHA-256 of the
 * tree's shape (orgtree.shape), the element codes in catalog order with
 * their aggregation, and the bucket format version. YB_OK, or YB_ENOMEM.
 */
int rollup_basis(const struct orgtree *orgs, const struct catalog *cat, char out[65],
                 struct errbuf *eb);

/*
 * Brings the pre-aggregates in line with this tree and catalog, inside the
 * caller's write transaction: nothing when they are built for this basis
 * and no change waits; otherwise a rollup_rebuild, reported through log (may
 * be NULL) with its reason and time. For the daemon's start and SIGHUP.
 * Fails as rollup_rebuild.
 */
int rollup_sync(struct store *s, const struct orgtree *orgs, const struct catalog *cat,
                rollup_log_fn log, struct errbuf *eb);

/*
 * Throws the pre-aggregates away and builds them again from the revisions
 * for this tree and catalog, inside the caller's write transaction; fills
 * *stats (may be NULL). YB_EDB / YB_UNAVAILABLE (store) or YB_ENOMEM.
 */
int rollup_rebuild(struct store *s, const struct orgtree *orgs, const struct catalog *cat,
                   struct rollup_stats *stats, struct errbuf *eb);

/*
 * Applies every change to the revisions noted since the last call: for each
 * (org, month) changed, recomputes its effective revision in both modes and
 * moves the difference into the buckets of the unit and of every ancestor.
 * Call it inside the write transaction, after the writes (store_insert_revision,
 * store_set_state) and before the commit. Does nothing while no
 * pre-aggregates are built (rollup_sync will). A damaged bucket drops them
 * all (queries read the returns until the next rollup_sync rebuilds) rather
 * than refuse the write. YB_EDB / YB_UNAVAILABLE or YB_ENOMEM.
 */
int rollup_refresh(struct store *s, struct errbuf *eb);

/*
 * Whether queries with this tree and catalog can read the pre-aggregates:
 * built for this basis, and no change waiting. Run it in the same read
 * snapshot (store_snapshot_begin) as the rollup_read calls it allows.
 */
int rollup_usable(struct store *s, const struct orgtree *orgs, const struct catalog *cat,
                  bool *usable, struct errbuf *eb);

/*
 * Adds the aggregates of node (an org unit code) over months first..last
 * into *total, and with months not NULL each month's one-month aggregates
 * into months[month - first]. The accumulators have n_elements slots each,
 * zeroed by the caller or holding sums to add to. YB_OUT_OF_RANGE when a
 * sum would leave int64 (values are never negative, so exactly when the
 * total would), YB_DATA_LOSS for a damaged bucket (eb names it; read the
 * returns instead), YB_EDB / YB_UNAVAILABLE.
 */
int rollup_read(struct store *s, bool accepted_only, const char *node, int first, int last,
                size_t n_elements, struct rollup_acc *total, struct rollup_acc *months,
                struct errbuf *eb);

#endif
