/*
 * store_audit.h - the audit log in the store: its entries (the leaves of
 * an RFC 6962 tree, entry seq is leaf seq - 1), the tree's right edge (the
 * frontier) and the signed checkpoints. audit.c keeps the tree; entries
 * are appended inside the transaction of the write they record. Also the
 * export of what the log commits to (revisions, reviews, closures), a page
 * at a time, for an offline audit.
 */
#ifndef YB_STORE_AUDIT_H
#define YB_STORE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "store.h"
#include "store_review.h"

struct checkpoint;

/* Entries in the audit log (the tree size). */
int store_audit_size(struct store *s, uint64_t *size, struct errbuf *eb);

/*
 * The audit tree's right edge: hashes[level] for every bit set in *present
 * (the subtree roots that make up a tree of the current size).
 */
int store_frontier_get(struct store *s, uint8_t hashes[64][32], uint64_t *present,
                       struct errbuf *eb);

/* Sets (hash not NULL) or removes (hash NULL) the frontier hash at level. */
int store_frontier_set(struct store *s, int level, const uint8_t *hash, struct errbuf *eb);

/* One audit entry as stored. */
struct store_audit_row {
	uint64_t seq; /* 1-based; the leaf index is seq - 1 */
	int64_t at_ms;
	const char *action;
	const char *object;
	const char *org;   /* "" when not about one org unit */
	int month;         /* 0 when not about one month; the first of several */
	const void *entry; /* the exact bytes hashed into the leaf */
	size_t entry_len;
	const uint8_t *leaf; /* 32 bytes */
	/* store_audit_scan only: the stored comment of a review, close or reopen, else NULL */
	const char *comment;
	/*
	 * Last, so that positional initialisers of the fields above stay right:
	 * the last of several months it is about (a close or reopen of a
	 * period); 0 for month alone. Not read back by store_audit_scan.
	 */
	int month_last;
};

/* Appends an audit entry (inside the caller's transaction). */
int store_audit_add(struct store *s, const struct store_audit_row *r, struct errbuf *eb);

/* Stores a signed checkpoint. */
int store_checkpoint_add(struct store *s, const struct checkpoint *c, struct errbuf *eb);

/* The checkpoint of a tree size, or the latest when size is 0; YB_NOT_FOUND if none. */
int store_checkpoint_get(struct store *s, uint64_t size, struct checkpoint *c, struct errbuf *eb);

/*
 * The leaf hashes of entries 1..n, in order (caller frees *leaves).
 * YB_DATA_LOSS when an entry is missing or damaged.
 */
int store_audit_leaves(struct store *s, uint64_t n, uint8_t (**leaves)[32], struct errbuf *eb);

/*
 * Audit entries with seq >= from_seq, at_ms >= since_ms, about one of the
 * org units of orgs_json (a JSON array of codes; NULL: every entry, those
 * about no org unit too) and about a month of first..last (an entry about
 * several months when one of them is; an entry about no month only when
 * first is 0), at most limit, in order. The row's pointers are valid during the callback only;
 * non-zero stops.
 */
typedef int (*store_audit_fn)(void *ctx, const struct store_audit_row *r);
int store_audit_scan(struct store *s, uint64_t from_seq, int64_t since_ms, const char *orgs_json,
                     int first, int last, uint32_t limit, store_audit_fn fn, void *ctx,
                     struct errbuf *eb);

/* Checkpoints with size >= from_size in order, at most limit. */
typedef int (*store_checkpoint_fn)(void *ctx, const struct checkpoint *c);
int store_scan_checkpoints(struct store *s, uint64_t from_size, uint32_t limit,
                           store_checkpoint_fn fn, void *ctx, struct errbuf *eb);

/* The audit entry (0-based index) of the submission of object ORG/PERIOD/rN. */
int store_audit_index_of(struct store *s, struct return_key key, const char *object,
                         uint64_t *index, struct errbuf *eb);

/* A witness's cosignature of the checkpoint of `size` (checkpoint.h). */
struct store_cosign {
	uint64_t size;
	const char *fingerprint; /* hex SHA-256 of cert */
	const uint8_t *cert;     /* DER */
	size_t cert_len;
	const uint8_t *sig;
	size_t sig_len;
	int64_t at_ms; /* when it was stored */
};

/* Stores w; one certificate's cosignature of a size is kept once (the first). */
int store_cosign_add(struct store *s, const struct store_cosign *w, struct errbuf *eb);

/* How many certificates cosigned the checkpoint of size. */
int store_cosign_count(struct store *s, uint64_t size, uint32_t *n, struct errbuf *eb);

/*
 * Calls fn for at most limit cosignatures of the largest checkpoint any
 * witness cosigned (none: no call), oldest first; its pointers live for the
 * call. fn returns non-zero to stop, which is returned.
 */
typedef int (*store_cosign_fn)(void *ctx, const struct store_cosign *w);
int store_cosigns_latest(struct store *s, uint32_t limit, store_cosign_fn fn, void *ctx,
                         struct errbuf *eb);

/* ---- exports ------------------------------------------------------------------------------- */

/*
 * One page of an export: rows made at or after since_ms (0: all), in the
 * export's order, skipping offset, at most limit.
 */
struct store_page {
	int64_t since_ms;
	uint64_t offset;
	uint32_t limit;
};

/* What an offline audit exports from the store besides checkpoints (AuditExport's parts). */
enum store_export_part { STORE_EXPORT_REVISIONS, STORE_EXPORT_REVIEWS, STORE_EXPORT_CLOSURES };

/* A revision as exported: the request exactly as signed and its state now. */
struct store_export_revision {
	uint32_t revision;
	const char *state;
	const char *request_sha256;
	const void *request;
	size_t request_len;
};

/* A closure or reopening of a month for filing. */
struct store_export_closure {
	bool closed; /* false: reopened */
	const char *comment;
	const char *subject; /* who closed or reopened: certificate subject */
	const char *fingerprint;
	int64_t at_ms;
};

/*
 * One exported row, valid during the callback. key names its return (for a
 * closure, the org unit closed and the month); the member of `as` that part
 * names is the row.
 */
struct store_export_row {
	enum store_export_part part;
	struct return_key key;
	union {
		struct store_export_revision revision;
		struct store_review review;
		struct store_export_closure closure;
	} as;
};

/*
 * A page of part, calling fn per row until it returns non-zero (returned).
 * Revisions: those received at or after page->since_ms, or with a review
 * made then (so that a review's effect on its revision's state can be
 * checked), in (org, month, revision) order. Reviews and closures: those
 * made then, in the order made.
 */
typedef int (*store_export_fn)(void *ctx, const struct store_export_row *row);
int store_export(struct store *s, enum store_export_part part, const struct store_page *page,
                 store_export_fn fn, void *ctx, struct errbuf *eb);

#endif
