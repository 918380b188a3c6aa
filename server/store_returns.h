/*
 * store_returns.h - the returns in the store: every revision of a return
 * with its values and findings, as received, and its review state.
 *
 * A revision is (org, month, revision): org the org unit's code, month a
 * period_month() number, revision 1, 2, ... for (org, month). Revisions
 * are inserted inside the caller's transaction (store_begin) and never
 * deleted; only their state changes (store_set_state).
 */
#ifndef YB_STORE_RETURNS_H
#define YB_STORE_RETURNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "status.h"
#include "store.h"

/* One value of a revision. */
struct store_value {
	const char *code;
	int64_t value; /* hundredths */
};

/*
 * One finding (warning / skipped rule) kept with a revision: its code and
 * parameters, language-free, worded only when shown (finding_render). A
 * finding stored before schema 3 has only the text it was shown with then:
 * what.code is FINDING_CODE_NONE and message holds that text.
 */
struct store_finding {
	const char *severity; /* "warning" or "skipped" */
	const char *field;    /* the rule or element code */
	uint32_t line;
	const char *value;
	struct finding what;
	const char *message; /* only for what.code == FINDING_CODE_NONE; "" otherwise */
};

/* A revision to insert. */
struct store_revision {
	const char *org;
	int month; /* period_month() numbering */
	uint32_t revision;
	const char *state;
	int64_t received_at_ms;
	bool on_time;
	const char *reason;
	const char *subject;
	const char *fingerprint;
	const uint8_t *request; /* the RpcRequest bytes exactly as received */
	size_t request_len;
	const char *request_sha256;
	const struct store_value *values;
	size_t n_values;
	const struct store_finding *findings;
	size_t n_findings;
};

/* The highest revision number of (org, month), 0 when there is none. */
int store_last_revision(struct store *s, struct return_key key, uint32_t *revision,
                        struct errbuf *eb);

/*
 * The latest revision of (org, month) and its review state ("submitted",
 * ...; cut to state_len), without its values: YB_OK, or YB_NOT_FOUND when
 * there is none.
 */
int store_latest_state(struct store *s, struct return_key key, uint32_t *revision, char *state,
                       size_t state_len, struct errbuf *eb);

/* Inserts a revision with its values and findings (inside a transaction). */
int store_insert_revision(struct store *s, const struct store_revision *r, struct errbuf *eb);

/* A revision read back; every pointer is owned by the struct. */
struct store_revision_row {
	char *org;
	int month;
	uint32_t revision;
	uint32_t revisions; /* how many exist for (org, month) */
	char state[16];     /* submitted | accepted | rejected */
	int64_t received_at_ms;
	bool on_time;
	char *reason;
	char *subject;
	char fingerprint[65];       /* the submitter's certificate's SHA-256, hex */
	char request_sha256[65];    /* of the signed request as received, hex */
	struct store_value *values; /* codes owned by the row */
	size_t n_values;
	struct store_finding *findings;
	size_t n_findings;
};

/*
 * Reads revision `revision` of (org, month), or the latest when it is 0.
 * YB_NOT_FOUND when there is none. The caller frees *out with
 * store_revision_row_free.
 */
int store_get_revision(struct store *s, struct return_key key, uint32_t revision,
                       struct store_revision_row **out, struct errbuf *eb);

void store_revision_row_free(struct store_revision_row *r);

/*
 * Calls fn once per value of the latest non-rejected revision of every
 * return with first <= month <= last (of one org unit when org_filter is
 * not NULL), ordered by org, month. With accepted_only, the latest accepted
 * revision instead. A value
 * callback returning non-zero stops the scan and is returned.
 * `each_return` (may be NULL) is called once per such return first, also
 * for returns that carry no values.
 */
typedef int (*store_value_fn)(void *ctx, const char *org, int month, const char *code,
                              int64_t value);
typedef int (*store_return_fn)(void *ctx, const char *org, int month, uint32_t revision);
int store_scan_latest(struct store *s, const char *org_filter, int first, int last,
                      bool accepted_only, store_return_fn each_return, store_value_fn each_value,
                      void *ctx, struct errbuf *eb);

/*
 * Calls fn(ctx, code, value) once per value of one revision, in no
 * particular order. Non-zero from fn stops and is returned.
 */
typedef int (*store_code_value_fn)(void *ctx, const char *code, int64_t value);
int store_revision_values(struct store *s, struct return_key key, uint32_t revision,
                          store_code_value_fn fn, void *ctx, struct errbuf *eb);

/* Sets the review state of one revision (the one in-place change a revision sees). */
int store_set_state(struct store *s, struct return_key key, uint32_t revision, const char *state,
                    struct errbuf *eb);

/*
 * Calls fn once per return with first <= month <= last, ordered by org and
 * month: its latest revision and that revision's state and time, and
 * whether its first revision was on time. Non-zero from fn stops the scan.
 */
typedef int (*store_status_fn)(void *ctx, const char *org, int month, uint32_t revision,
                               const char *state, int64_t received_at_ms, bool first_on_time);
int store_scan_status(struct store *s, int first, int last, store_status_fn fn, void *ctx,
                      struct errbuf *eb);

#endif
