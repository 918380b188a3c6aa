/*
 * store_review.h - the central office's decisions in the store: the reviews
 * of returns (accept, reject, reopen) and the closures of months to
 * submissions. Both are kept forever in the order made and never edited;
 * a review's effect on its revision is store_set_state's (store_returns.h).
 */
#ifndef YB_STORE_REVIEW_H
#define YB_STORE_REVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "store.h"

/* One decision of the central office on a return; kept forever, never edited. */
struct store_review {
	uint32_t revision;
	const char *action; /* accept | reject | reopen */
	const char *comment;
	const char *reviewer; /* certificate subject */
	const char *fingerprint;
	int64_t at_ms;
};

/* Records a review (inside a transaction). */
int store_add_review(struct store *s, struct return_key key, const struct store_review *r,
                     struct errbuf *eb);

/*
 * Every review of (org, month), oldest first. The caller frees *out with
 * store_reviews_free(*out, *n) (its strings are owned by it).
 */
int store_list_reviews(struct store *s, struct return_key key, struct store_review **out, size_t *n,
                       struct errbuf *eb);

void store_reviews_free(struct store_review *r, size_t n);

/* Records that (org, month) was closed or reopened for submissions. */
int store_add_closure(struct store *s, const char *org, int month, bool closed, const char *comment,
                      const char *subject, const char *fingerprint, int64_t at_ms,
                      struct errbuf *eb);

/*
 * Whether (org, month) is closed by a closure on org itself (callers check
 * the ancestors too), and by whom and when (subject and at_ms may be NULL).
 */
int store_closure(struct store *s, const char *org, int month, bool *closed, char *subject,
                  size_t subject_len, int64_t *at_ms, struct errbuf *eb);

/* Reviews made at or after since_ms in the order made, skipping offset, at most limit. */
typedef int (*store_review_export_fn)(void *ctx, const char *org, int month,
                                      const struct store_review *r);
int store_export_reviews(struct store *s, int64_t since_ms, uint64_t offset, uint32_t limit,
                         store_review_export_fn fn, void *ctx, struct errbuf *eb);

/* A row of the closures table as exported (valid during the callback). */
struct store_closure_row {
	const char *org;
	int month;
	bool closed; /* false: reopened */
	const char *comment;
	const char *subject; /* who closed or reopened: certificate subject */
	const char *fingerprint;
	int64_t at_ms;
};

/* Closure rows made at or after since_ms in the order made, skipping offset, at most limit. */
typedef int (*store_closure_export_fn)(void *ctx, const struct store_closure_row *r);
int store_export_closures(struct store *s, int64_t since_ms, uint64_t offset, uint32_t limit,
                          store_closure_export_fn fn, void *ctx, struct errbuf *eb);

#endif
