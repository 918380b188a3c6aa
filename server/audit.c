/*
 * audit.c - appending to the audit log and proving what it holds.
 *
 * The tree's right edge (one subtree root per set bit of the size, kept in
 * the audit_frontier table) makes an append and the new root O(log n),
 * inside the same transaction as the entry, so the log, its edge and its
 * signed checkpoint can never disagree after a crash.
 */
#include "audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_audit.h"

/* The actor prefix of a refused certificate that did not verify. */
#define UNVERIFIED "unverified:"
/* What entries written before UNVERIFIED said instead. */
#define UNVERIFIED_OLD "(unverified caller)"

/*
 * Fields must not break the line-per-field layout of an entry; other
 * control characters (which a refused certificate may claim) go too.
 */
static void clean_field(char *dst, size_t len, const char *src)
{
	size_t i = 0;

	for (; src != NULL && *src && i + 1 < len; src++)
		dst[i++] = ((unsigned char)*src < 0x20 || *src == 0x7f) ? ' ' : *src;
	dst[i] = '\0';
}

int audit_append(struct store *s, const struct pki_identity *signer, const struct audit_event *e,
                 struct audit_receipt *receipt, struct errbuf *eb)
{
	uint8_t leaf[MERKLE_HASH_LEN];
	char entry[1536], actor[320], fp[80], action[64], object[200];
	struct store_audit_row row;
	struct merkle_frontier f;
	struct checkpoint cp = {0};
	uint64_t size, present, mask;
	int n, level, rc;

	if ((rc = store_audit_size(s, &size, eb)) != YB_OK ||
	    (rc = store_frontier_get(s, f.edge, &present, eb)) != YB_OK)
		return rc;
	if (present != size)
		return status_fail(eb, YB_DATA_LOSS,
		                   "the audit log's edge does not match its %" PRIu64
		                   " entries: the store was altered",
		                   size);
	n = snprintf(actor, sizeof(actor), "%s", e->unverified ? UNVERIFIED : "");
	clean_field(actor + n, sizeof(actor) - (size_t)n, e->actor);
	clean_field(fp, sizeof(fp), e->fingerprint);
	clean_field(action, sizeof(action), e->action);
	clean_field(object, sizeof(object), e->object);
	n = snprintf(entry, sizeof(entry),
	             "yuebao-audit-v1\nindex=%" PRIu64 "\ntime=%" PRId64
	             "\nactor=%s\nfingerprint=%s\naction=%s\nobject=%s\ndigest=%s\n",
	             size, e->at_ms, actor, fp, action, object, e->digest);
	if (n >= 0 && (size_t)n < sizeof(entry) && e->due_ms != 0)
		n += snprintf(entry + n, sizeof(entry) - (size_t)n, "due=%" PRId64 "\n", e->due_ms);
	if (n < 0 || (size_t)n >= sizeof(entry))
		return status_fail(eb, YB_INTERNAL, "audit entry too long");
	if ((rc = merkle_leaf_hash(entry, (size_t)n, leaf)) != YB_OK)
		return status_fail(eb, rc, "cannot hash audit entry");
	row = (struct store_audit_row){.seq = size + 1,
	                               .at_ms = e->at_ms,
	                               .action = action,
	                               .object = object,
	                               .org = e->org ? e->org : "",
	                               .month = e->month,
	                               .month_last = e->month_last,
	                               .entry = entry,
	                               .entry_len = (size_t)n,
	                               .leaf = leaf};
	f.size = present;
	if ((rc = store_audit_add(s, &row, eb)) != YB_OK)
		return rc;
	if ((rc = merkle_frontier_add(&f, leaf)) != YB_OK)
		return status_fail(eb, rc, "cannot add to the audit log's tree");
	/*
	 * The leaf joins the edge like a binary counter: the levels that merged
	 * are cleared in the store, the one it ends in is written.
	 */
	for (mask = present & ~f.size; mask != 0; mask &= mask - 1)
		if ((rc = store_frontier_set(s, __builtin_ctzll((unsigned long long)mask), NULL,
		                             eb)) != YB_OK)
			return rc;
	level = __builtin_ctzll((unsigned long long)(f.size & ~present));
	if ((rc = store_frontier_set(s, level, f.edge[level], eb)) != YB_OK)
		return rc;
	if ((rc = merkle_frontier_root(&f, cp.root)) != YB_OK)
		return status_fail(eb, rc, "cannot compute the audit log's root");
	cp.size = size + 1;
	cp.at_ms = e->at_ms;
	if ((rc = checkpoint_sign(&cp, signer, eb)) != YB_OK ||
	    (rc = store_checkpoint_add(s, &cp, eb)) != YB_OK)
		return rc;
	if (receipt != NULL) {
		receipt->index = size;
		memcpy(receipt->leaf, leaf, sizeof(leaf));
		receipt->checkpoint = cp;
	}
	return YB_OK;
}

int audit_proofs(struct store *s, uint64_t index, uint64_t old_size, struct checkpoint *cp,
                 uint8_t (**incl)[MERKLE_HASH_LEN], size_t *n_incl,
                 uint8_t (**cons)[MERKLE_HASH_LEN], size_t *n_cons, struct errbuf *eb)
{
	uint8_t(*leaves)[MERKLE_HASH_LEN] = NULL;
	yb_status rc;

	*incl = *cons = NULL;
	*n_incl = *n_cons = 0;
	if ((rc = store_checkpoint_get(s, 0, cp, eb)) != YB_OK)
		return rc == YB_NOT_FOUND ? status_fail(eb, YB_NOT_FOUND, "the audit log is empty")
		                          : rc;
	/* OUT_OF_RANGE: a receipt can name more than a truncated log holds. */
	if (index >= cp->size || old_size > cp->size)
		return status_fail(eb, YB_OUT_OF_RANGE,
		                   "entry %" PRIu64 " or size %" PRIu64
		                   " is beyond the log's %" PRIu64 " entries",
		                   index, old_size, cp->size);
	if ((rc = store_audit_leaves(s, cp->size, &leaves, eb)) != YB_OK)
		return rc;
	if ((rc = merkle_inclusion_proof((const uint8_t(*)[MERKLE_HASH_LEN])leaves, cp->size, index,
	                                 incl, n_incl, eb)) == YB_OK &&
	    old_size > 0)
		rc = merkle_consistency_proof((const uint8_t(*)[MERKLE_HASH_LEN])leaves, old_size,
		                              cp->size, cons, n_cons, eb);
	free(leaves);
	if (rc != YB_OK) {
		free(*incl);
		*incl = NULL;
		*n_incl = 0;
	}
	return rc;
}

/* The value of the line "name=…" of an entry's text into buf ("" when absent). */
static void entry_line(const char *entry, size_t len, const char *name, char *buf, size_t cap)
{
	size_t n = strlen(name);
	const char *p = entry, *end = entry + len;

	buf[0] = '\0';
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t line = eol ? (size_t)(eol - p) : (size_t)(end - p);
		if (line > n && memcmp(p, name, n) == 0 && p[n] == '=') {
			snprintf(buf, cap, "%.*s", (int)(line - n - 1), p + n + 1);
			return;
		}
		if (eol == NULL)
			return;
		p = eol + 1;
	}
}

/* Copies [from, to) into out (cap bytes with its NUL), control characters as '?'. */
static void subject_part(const char *from, const char *to, char *out, size_t cap)
{
	size_t i = 0;

	for (; from < to && i + 1 < cap; from++)
		out[i++] = ((unsigned char)*from < 0x20 || *from == 0x7f) ? '?' : *from;
	out[i] = '\0';
}

/* The last occurrence of needle in [s, end); NULL when none. */
static const char *last_of(const char *s, const char *end, const char *needle)
{
	size_t n = strlen(needle);
	const char *found = NULL;

	for (const char *p = s; p + n <= end; p++)
		if (memcmp(p, needle, n) == 0)
			found = p;
	return found;
}

void audit_entry_actor(const void *entry, size_t len, struct audit_actor *out)
{
	char actor[400];
	const char *s = actor, *end, *cn, *ou;

	memset(out, 0, sizeof(*out));
	out->verified = true;
	entry_line(entry, len, "fingerprint", out->fingerprint, sizeof(out->fingerprint));
	entry_line(entry, len, "actor", actor, sizeof(actor));
	if (strcmp(actor, AUDIT_DAEMON) == 0) {
		snprintf(out->role, sizeof(out->role), "%s", AUDIT_DAEMON);
		return;
	}
	if (strcmp(actor, UNVERIFIED_OLD) == 0) {
		out->verified = false;
		return;
	}
	if (strncmp(actor, UNVERIFIED, strlen(UNVERIFIED)) == 0) {
		out->verified = false;
		s += strlen(UNVERIFIED);
	}
	/*
	 * "O=…, OU=role, CN=code", read from the right: a verified role and org
	 * code hold no commas, while O may.
	 */
	end = s + strlen(s);
	if ((cn = last_of(s, end, ", CN=")) == NULL || (ou = last_of(s, cn, ", OU=")) == NULL)
		return;
	subject_part(cn + 5, end, out->org, sizeof(out->org));
	subject_part(ou + 5, cn, out->role, sizeof(out->role));
}
