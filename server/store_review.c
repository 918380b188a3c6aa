/*
 * store_review.c - the reviews of returns and the closures of months to
 * submissions: adding them and reading those of one return
 * (store_review.h). Their export is store_audit.c's.
 */
#include "store_review.h"

#include "store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include "array.h"

/* ---- reviews ------------------------------------------------------------------------------- */

static const struct store_sql q_add_review = {
    SQ_ADD_REVIEW,
    "INSERT INTO reviews(org, month, revision, action, comment, reviewer,"
    " fingerprint, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    NULL};

int store_add_review(struct store *s, struct return_key key, const struct store_review *r,
                     struct errbuf *eb)
{
	return stmt_run(s, &q_add_review, "add review", eb, "tiuttttI", key.org, key.month,
	                r->revision, r->action, r->comment, r->reviewer, r->fingerprint, r->at_ms);
}

void store_reviews_free(struct store_review *r, size_t n)
{
	for (size_t i = 0; r != NULL && i < n; i++) {
		free((char *)r[i].action);
		free((char *)r[i].comment);
		free((char *)r[i].reviewer);
		free((char *)r[i].fingerprint);
	}
	free(r);
}

static const struct store_sql q_list_reviews = {
    SQ_LIST_REVIEWS,
    "SELECT revision, action, comment, reviewer, fingerprint, at_ms FROM reviews"
    " WHERE org = ?1 AND month = ?2 ORDER BY id",
    NULL};

int store_list_reviews(struct store *s, struct return_key key, struct store_review **out, size_t *n,
                       struct errbuf *eb)
{
	struct store_review *list = NULL;
	struct stmt *st;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = stmt_bind(s, &q_list_reviews, &st, eb, "ti", key.org, key.month)) != YB_OK)
		return rc;
	while ((rc = stmt_step(s, st, "list reviews", eb)) == YB_OK) {
		void *more = array_reserve(list, &cap, *n + 1, sizeof(*list), 8);
		struct store_review *r;
		if (more == NULL) {
			rc = status_fail(eb, YB_ENOMEM, "out of memory");
			break;
		}
		list = more;
		r = &list[(*n)++];
		r->revision = (uint32_t)stmt_int64(st, 0);
		r->action = stmt_text_dup(st, 1);
		r->comment = stmt_text_dup(st, 2);
		r->reviewer = stmt_text_dup(st, 3);
		r->fingerprint = stmt_text_dup(st, 4);
		r->at_ms = stmt_int64(st, 5);
		if (!r->action || !r->comment || !r->reviewer || !r->fingerprint) {
			rc = status_fail(eb, YB_ENOMEM, "out of memory");
			break;
		}
	}
	if ((rc = stmt_scan_end(st, rc, 0)) != YB_OK) {
		store_reviews_free(list, *n);
		*n = 0;
		return rc;
	}
	*out = list;
	return YB_OK;
}

/* ---- closures ------------------------------------------------------------------------------ */

static const struct store_sql q_add_closure = {
    SQ_ADD_CLOSURE,
    "INSERT INTO closures(org, month, closed, comment, subject, fingerprint,"
    " at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    NULL};

int store_add_closure(struct store *s, struct return_key key, bool closed, const char *comment,
                      const char *subject, const char *fingerprint, int64_t at_ms,
                      struct errbuf *eb)
{
	return stmt_run(s, &q_add_closure, "add closure", eb, "tiitttI", key.org, key.month,
	                (int)closed, comment, subject, fingerprint, at_ms);
}

static const struct store_sql q_closure = {
    SQ_CLOSURE,
    "SELECT closed, subject, at_ms FROM closures WHERE org = ?1 AND month = ?2"
    " ORDER BY id DESC LIMIT 1",
    NULL};

int store_closure(struct store *s, struct return_key key, bool *closed, char *subject,
                  size_t subject_len, int64_t *at_ms, struct errbuf *eb)
{
	struct stmt *st;
	int rc;

	*closed = false;
	if ((rc = stmt_row(s, &q_closure, &st, "read closure", eb, "ti", key.org, key.month)) ==
	    YB_OK) {
		const char *who = stmt_text(st, 1);
		*closed = stmt_int(st, 0) != 0;
		if (subject != NULL)
			snprintf(subject, subject_len, "%s", who ? (const char *)who : "");
		if (at_ms != NULL)
			*at_ms = stmt_int64(st, 2);
	}
	/* Never closed: open. */
	return stmt_end(st, rc == YB_NOT_FOUND ? YB_OK : rc);
}
