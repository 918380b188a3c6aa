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

/* Fields must not break the line-per-field layout of an entry. */
static void clean_field(char *dst, size_t len, const char *src)
{
	size_t i = 0;

	for (; src != NULL && *src && i + 1 < len; src++)
		dst[i++] = (*src == '\n' || *src == '\r') ? ' ' : *src;
	dst[i] = '\0';
}

int audit_append(struct store *s, const struct pki_identity *signer, const struct audit_event *e,
                 struct audit_receipt *receipt, struct errbuf *eb)
{
	uint8_t edge[64][MERKLE_HASH_LEN], leaf[MERKLE_HASH_LEN], carry[MERKLE_HASH_LEN];
	char entry[1536], actor[300], fp[80], action[64], object[200];
	struct store_audit_row row;
	struct checkpoint cp = {0};
	uint64_t size, present, mask;
	int n, level, rc, top;

	if ((rc = store_audit_size(s, &size, eb)) != YB_OK ||
	    (rc = store_frontier_get(s, edge, &present, eb)) != YB_OK)
		return rc;
	if (present != size)
		return status_fail(eb, YB_DATA_LOSS,
		                   "the audit log's edge does not match its %" PRIu64
		                   " entries: the store was altered",
		                   size);
	clean_field(actor, sizeof(actor), e->actor);
	clean_field(fp, sizeof(fp), e->fingerprint);
	clean_field(action, sizeof(action), e->action);
	clean_field(object, sizeof(object), e->object);
	n = snprintf(entry, sizeof(entry),
	             "yuebao-audit-v1\nindex=%" PRIu64 "\ntime=%" PRId64
	             "\nactor=%s\nfingerprint=%s\naction=%s\nobject=%s\ndigest=%s\n",
	             size, e->at_ms, actor, fp, action, object, e->digest);
	if (n < 0 || (size_t)n >= sizeof(entry))
		return status_fail(eb, YB_INTERNAL, "audit entry too long");
	if ((rc = merkle_leaf_hash(entry, (size_t)n, leaf)) != YB_OK)
		return status_fail(eb, rc, "cannot hash audit entry");
	row = (struct store_audit_row){size + 1, e->at_ms, action,    object, e->org ? e->org : "",
	                               e->month, entry,    (size_t)n, leaf};
	if ((rc = store_audit_add(s, &row, eb)) != YB_OK)
		return rc;
	/* Add the leaf to the edge like a binary counter: equal-size subtrees merge. */
	memcpy(carry, leaf, sizeof(carry));
	for (level = 0; present & ((uint64_t)1 << level); level++) {
		if ((rc = merkle_node_hash(edge[level], carry, carry)) != YB_OK ||
		    (rc = store_frontier_set(s, level, NULL, eb)) != YB_OK)
			return rc;
		present &= ~((uint64_t)1 << level);
	}
	memcpy(edge[level], carry, sizeof(carry));
	present |= (uint64_t)1 << level;
	if ((rc = store_frontier_set(s, level, carry, eb)) != YB_OK)
		return rc;
	/* The root folds the edge from the smallest subtree (rightmost) up. */
	top = -1;
	for (mask = present, level = 0; mask; mask >>= 1, level++) {
		if (!(mask & 1))
			continue;
		if (top < 0)
			memcpy(cp.root, edge[level], sizeof(cp.root));
		else if ((rc = merkle_node_hash(edge[level], cp.root, cp.root)) != YB_OK)
			return rc;
		top = level;
	}
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
	int rc;

	*incl = *cons = NULL;
	*n_incl = *n_cons = 0;
	if ((rc = store_checkpoint_get(s, 0, cp, eb)) != YB_OK)
		return rc == YB_NOT_FOUND ? status_fail(eb, YB_NOT_FOUND, "the audit log is empty")
		                          : rc;
	if (index >= cp->size || old_size > cp->size)
		return status_fail(eb, YB_INVALID_ARGUMENT,
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
