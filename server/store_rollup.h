/*
 * store_rollup.h - the tables of the consolidation pre-aggregates, for
 * rollup.c only (and the store's own files and rollup's unit test): no
 * other module reads or writes them. rollup.h says what the tables hold.
 * Months are period_month() numbers; mode 0 is "latest revision not
 * rejected", mode 1 "latest accepted revision".
 */
#ifndef YB_STORE_ROLLUP_H
#define YB_STORE_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "store.h"

/*
 * The basis the pre-aggregates were built for ("" when there are none), its
 * number of elements, and whether changes to revisions wait in
 * rollup_pending (SQLite's triggers note every one).
 */
int store_rollup_state(struct store *s, char basis[65], size_t *n_elements, bool *pending,
                       struct errbuf *eb);

/*
 * Empties every pre-aggregate table. With basis not NULL, then records it
 * and fills the effective revisions of every return in both modes from the
 * revisions (the first step of a rebuild); in the caller's transaction.
 */
int store_rollup_reset(struct store *s, const char *basis, size_t n_elements, struct errbuf *eb);

/* The elements of the basis: index in the catalog, code, aggregated as `last`. */
int store_rollup_add_element(struct store *s, int idx, const char *code, bool last,
                             struct errbuf *eb);
typedef int (*store_rollup_element_fn)(void *ctx, int idx, const char *code, bool last);
int store_rollup_elements(struct store *s, store_rollup_element_fn fn, void *ctx,
                          struct errbuf *eb);

/*
 * The org units of the basis: whether a leaf, and the parent's code ("" for
 * the root). store_rollup_unit gives YB_OK and *parent (caller frees), or
 * YB_NOT_FOUND for a unit not in the basis.
 */
int store_rollup_add_unit(struct store *s, const char *code, bool leaf, const char *parent,
                          struct errbuf *eb);
int store_rollup_unit(struct store *s, const char *code, bool *leaf, char **parent,
                      struct errbuf *eb);

/* The effective revisions of (org, month) in the revisions now: [mode], 0 for none. */
int store_rollup_effective_now(struct store *s, const char *org, int month, uint32_t rev[2],
                               struct errbuf *eb);

/* The effective revision recorded for (mode, org, month), 0 for none; set (0 removes). */
int store_rollup_effective_get(struct store *s, int mode, const char *org, int month,
                               uint32_t *revision, struct errbuf *eb);
int store_rollup_effective_set(struct store *s, int mode, const char *org, int month,
                               uint32_t revision, struct errbuf *eb);

/* Every recorded effective revision of (mode, org), by month; non-zero from fn stops. */
typedef int (*store_rollup_month_fn)(void *ctx, int month, uint32_t revision);
int store_rollup_months(struct store *s, int mode, const char *org, store_rollup_month_fn fn,
                        void *ctx, struct errbuf *eb);

/*
 * The nearest month before (after false) or after `month` whose recorded
 * effective revision of (mode, org) has a value for code, and that value.
 * YB_NOT_FOUND when there is none.
 */
int store_rollup_neighbour(struct store *s, int mode, const char *org, int month, const char *code,
                           bool after, int *found_month, int64_t *value, struct errbuf *eb);

/*
 * One bucket (mode, node, month, next): get gives YB_OK and *data (caller
 * frees) or YB_NOT_FOUND; put with len 0 removes it.
 */
int store_rollup_bucket_get(struct store *s, int mode, const char *node, int month, int next,
                            uint8_t **data, size_t *len, struct errbuf *eb);
int store_rollup_bucket_put(struct store *s, int mode, const char *node, int month, int next,
                            const uint8_t *data, size_t len, struct errbuf *eb);

/*
 * The buckets of (mode, node) with first <= month <= last and next either 0
 * or above `after`; the data is valid during the callback only.
 */
typedef int (*store_rollup_bucket_fn)(void *ctx, int month, int next, const void *data, size_t len);
int store_rollup_buckets(struct store *s, int mode, const char *node, int first, int last,
                         int after, store_rollup_bucket_fn fn, void *ctx, struct errbuf *eb);

/*
 * One change waiting in rollup_pending: YB_OK with *org (caller frees) and
 * *month, or YB_NOT_FOUND. pending_done forgets it once applied.
 */
int store_rollup_pending(struct store *s, char **org, int *month, struct errbuf *eb);
int store_rollup_pending_done(struct store *s, const char *org, int month, struct errbuf *eb);

#endif
