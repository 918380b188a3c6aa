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

/* Records that key's month was closed or reopened for submissions in key's org unit. */
int store_add_closure(struct store *s, struct return_key key, bool closed, const char *comment,
                      const char *subject, const char *fingerprint, int64_t at_ms,
                      struct errbuf *eb);

/*
 * Whether key's month is closed by a closure on key's org unit itself
 * (callers check the ancestors too), and by whom and when (subject and at_ms
 * may be NULL).
 */
int store_closure(struct store *s, struct return_key key, bool *closed, char *subject,
                  size_t subject_len, int64_t *at_ms, struct errbuf *eb);

#endif
