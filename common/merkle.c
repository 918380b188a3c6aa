/*
 * merkle.c - RFC 6962 Merkle tree hashes, audit paths and consistency proofs.
 *
 * Roots are computed left to right with a stack of perfect subtrees (at
 * most one per bit of n), folded right to left at the end, which equals the
 * recursive MTH of RFC 6962 because its split point k is always the largest
 * power of two < n. Proofs walk the RFC's recursion from the top down, one
 * split per step, hashing each sibling subtree once: O(n) in all.
 */
#include "merkle.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "hash.h"
#include "i18n.h"

/* A SHA-256 context reused for all the hashes of one operation. */
struct hasher {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
};

/* Perfect subtrees on the stack of range_root: one per bit of a size_t, +1. */
#define STACK_DEPTH (sizeof(size_t) * 8 + 1)

static const uint8_t LEAF_PREFIX = 0x00;
static const uint8_t NODE_PREFIX = 0x01;

/* The reason OpenSSL gave for the last failure, for messages. */
static const char *ssl_reason(void)
{
	unsigned long e = ERR_get_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	ERR_clear_error();
	return r ? r : "unknown OpenSSL error";
}

static int hasher_open(struct hasher *h, struct errbuf *eb)
{
	h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	h->ctx = EVP_MD_CTX_new();
	if (h->md == NULL || h->ctx == NULL) {
		EVP_MD_free(h->md);
		EVP_MD_CTX_free(h->ctx);
		h->md = NULL;
		h->ctx = NULL;
		return status_fail(eb, YB_ECRYPTO, _("cannot set up SHA-256: %s"), ssl_reason());
	}
	return YB_OK;
}

static void hasher_close(struct hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
}

/*
 * out = SHA-256(prefix || a || b), without the prefix byte when prefix is
 * NULL. out may alias a or b: it is written only after both are read.
 */
static int hash3(struct hasher *h, const uint8_t *prefix, const void *a, size_t alen, const void *b,
                 size_t blen, uint8_t out[MERKLE_HASH_LEN])
{
	unsigned int len = 0;

	if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1 ||
	    (prefix != NULL && EVP_DigestUpdate(h->ctx, prefix, 1) != 1) ||
	    (alen > 0 && EVP_DigestUpdate(h->ctx, a, alen) != 1) ||
	    (blen > 0 && EVP_DigestUpdate(h->ctx, b, blen) != 1) ||
	    EVP_DigestFinal_ex(h->ctx, out, &len) != 1 || len != MERKLE_HASH_LEN) {
		ERR_clear_error();
		return YB_ECRYPTO;
	}
	return YB_OK;
}

static int node(struct hasher *h, const uint8_t left[MERKLE_HASH_LEN],
                const uint8_t right[MERKLE_HASH_LEN], uint8_t out[MERKLE_HASH_LEN])
{
	return hash3(h, &NODE_PREFIX, left, MERKLE_HASH_LEN, right, MERKLE_HASH_LEN, out);
}

static bool same(const uint8_t a[MERKLE_HASH_LEN], const uint8_t b[MERKLE_HASH_LEN])
{
	return CRYPTO_memcmp(a, b, MERKLE_HASH_LEN) == 0;
}

/* The largest power of two < n, for n >= 2 (k < n - k is 2k < n, without overflow). */
static size_t split(size_t n)
{
	size_t k = 1;

	while (k < n - k)
		k <<= 1;
	return k;
}

/* MTH of the n >= 1 leaf hashes at leaves. */
static int range_root(struct hasher *h, const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n,
                      uint8_t out[MERKLE_HASH_LEN])
{
	/*
	 * After leaf i the stack holds the roots of the perfect subtrees that
	 * the binary digits of i + 1 describe, largest (leftmost) first.
	 */
	uint8_t stack[STACK_DEPTH][MERKLE_HASH_LEN];
	size_t top = 0;

	for (size_t i = 0; i < n; i++) {
		memcpy(stack[top++], leaves[i], MERKLE_HASH_LEN);
		for (size_t c = i + 1; (c & 1) == 0; c >>= 1) {
			if (node(h, stack[top - 2], stack[top - 1], stack[top - 2]) != YB_OK)
				return YB_ECRYPTO;
			top--;
		}
	}
	memcpy(out, stack[top - 1], MERKLE_HASH_LEN);
	for (size_t j = top - 1; j-- > 0;)
		if (node(h, stack[j], out, out) != YB_OK)
			return YB_ECRYPTO;
	return YB_OK;
}

/* Copies the count hashes of tmp into a malloc'd *proof, in the order given by order[]. */
static int emit(const uint8_t (*tmp)[MERKLE_HASH_LEN], const size_t *order, size_t count,
                uint8_t (**proof)[MERKLE_HASH_LEN], size_t *proof_len, struct errbuf *eb)
{
	uint8_t(*p)[MERKLE_HASH_LEN] = NULL;

	if (count > 0) {
		p = malloc(count * sizeof(*p));
		if (p == NULL)
			return status_fail(eb, YB_ENOMEM,
			                   _("out of memory for a %zu-hash Merkle proof"), count);
		for (size_t i = 0; i < count; i++)
			memcpy(p[i], tmp[order[i]], MERKLE_HASH_LEN);
	}
	*proof = p;
	*proof_len = count;
	return YB_OK;
}

/*
 * SHA-256 fetched once for the process (EVP_MD_fetch takes a global lock
 * each time), for the one-shot hashes below: a verify hashes millions of
 * leaves and nodes.
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* SHA-256 of buf[0..len) into out; YB_ECRYPTO when OpenSSL fails. */
static int sha256_once_over(const uint8_t *buf, size_t len, uint8_t out[MERKLE_HASH_LEN])
{
	pthread_once(&sha256_once, sha256_fetch);
	if (sha256_md == NULL || EVP_Digest(buf, len, out, NULL, sha256_md, NULL) != 1) {
		ERR_clear_error();
		return YB_ECRYPTO;
	}
	return YB_OK;
}

/* Entries up to this size are hashed from a copy on the stack, in one call. */
#define LEAF_ON_STACK 2048

int merkle_leaf_hash(const void *entry, size_t len, uint8_t out[MERKLE_HASH_LEN])
{
	struct hasher h;
	int rc;

	if (entry == NULL && len > 0)
		return YB_INVALID_ARGUMENT;
	if (len < LEAF_ON_STACK) {
		uint8_t buf[LEAF_ON_STACK];
		buf[0] = LEAF_PREFIX;
		if (len > 0)
			memcpy(buf + 1, entry, len);
		return sha256_once_over(buf, len + 1, out);
	}
	if (hasher_open(&h, NULL) != YB_OK)
		return YB_ECRYPTO;
	rc = hash3(&h, &LEAF_PREFIX, entry, len, NULL, 0, out);
	hasher_close(&h);
	return rc;
}

int merkle_node_hash(const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN],
                     uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t buf[1 + 2 * MERKLE_HASH_LEN];

	buf[0] = NODE_PREFIX;
	memcpy(buf + 1, left, MERKLE_HASH_LEN);
	memcpy(buf + 1 + MERKLE_HASH_LEN, right, MERKLE_HASH_LEN);
	return sha256_once_over(buf, sizeof(buf), out);
}

int merkle_root(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n, uint8_t out[MERKLE_HASH_LEN],
                struct errbuf *eb)
{
	struct hasher h;
	int rc;

	if (leaves == NULL && n > 0)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("merkle_root: no leaves for a tree of %zu"), n);
	if ((rc = hasher_open(&h, eb)) != YB_OK)
		return rc;
	if (n == 0)
		rc = hash3(&h, NULL, NULL, 0, NULL, 0, out);
	else
		rc = range_root(&h, leaves, n, out);
	hasher_close(&h);
	if (rc != YB_OK)
		return status_fail(eb, rc, _("SHA-256 failed computing a Merkle root: %s"),
		                   ssl_reason());
	return YB_OK;
}

int merkle_frontier_add(struct merkle_frontier *f, const uint8_t leaf[MERKLE_HASH_LEN])
{
	uint8_t carry[MERKLE_HASH_LEN];
	int level, rc;

	if (f->size == UINT64_MAX)
		return YB_OUT_OF_RANGE;
	memcpy(carry, leaf, MERKLE_HASH_LEN);
	/* Like a binary increment: each full level merges into the next. */
	for (level = 0; f->size & ((uint64_t)1 << level); level++)
		if ((rc = merkle_node_hash(f->edge[level], carry, carry)) != YB_OK)
			return rc;
	memcpy(f->edge[level], carry, MERKLE_HASH_LEN);
	f->size++;
	assert(f->size & ((uint64_t)1 << level));
	return YB_OK;
}

int merkle_frontier_root(const struct merkle_frontier *f, uint8_t out[MERKLE_HASH_LEN])
{
	bool first = true;
	int rc;

	if (f->size == 0)
		return merkle_root(NULL, 0, out, NULL);
	/* The smallest subtree is the rightmost: fold from it to the left. */
	for (int l = 0; l < 64; l++) {
		if (!(f->size & ((uint64_t)1 << l)))
			continue;
		if (first)
			memcpy(out, f->edge[l], MERKLE_HASH_LEN);
		else if ((rc = merkle_node_hash(f->edge[l], out, out)) != YB_OK)
			return rc;
		first = false;
	}
	return YB_OK;
}

int merkle_inclusion_proof(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n, size_t index,
                           uint8_t (**proof)[MERKLE_HASH_LEN], size_t *proof_len, struct errbuf *eb)
{
	uint8_t tmp[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
	size_t order[MERKLE_MAX_PROOF];
	size_t lo = 0, hi = n, count = 0;
	struct hasher h;
	int rc;

	*proof = NULL;
	*proof_len = 0;
	if (leaves == NULL || index >= n)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("no leaf %zu in a Merkle tree of %zu leaves"), index, n);
	if ((rc = hasher_open(&h, eb)) != YB_OK)
		return rc;
	/*
	 * PATH(m, D[lo:hi]) = PATH(m, D[lo:lo+k]) : MTH(D[lo+k:hi]) if m is
	 * left of the split, else PATH(m, D[lo+k:hi]) : MTH(D[lo:lo+k]).
	 * Siblings come out top first; the proof lists them bottom first.
	 */
	while (hi - lo > 1) {
		size_t k = split(hi - lo);
		if (index < lo + k) {
			rc = range_root(&h, leaves + lo + k, hi - lo - k, tmp[count]);
			hi = lo + k;
		} else {
			rc = range_root(&h, leaves + lo, k, tmp[count]);
			lo += k;
		}
		if (rc != YB_OK)
			break;
		count++;
	}
	hasher_close(&h);
	if (rc != YB_OK)
		return status_fail(eb, rc, _("SHA-256 failed computing an inclusion proof: %s"),
		                   ssl_reason());
	for (size_t i = 0; i < count; i++)
		order[i] = count - 1 - i;
	return emit((const uint8_t(*)[MERKLE_HASH_LEN])tmp, order, count, proof, proof_len, eb);
}

int merkle_consistency_proof(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t old_size,
                             size_t new_size, uint8_t (**proof)[MERKLE_HASH_LEN], size_t *proof_len,
                             struct errbuf *eb)
{
	uint8_t tmp[MERKLE_MAX_PROOF][MERKLE_HASH_LEN];
	size_t order[MERKLE_MAX_PROOF];
	size_t lo = 0, hi = new_size, m = old_size, count = 0, n = 0;
	bool whole = true, terminal = false;
	struct hasher h;
	int rc = YB_OK;

	*proof = NULL;
	*proof_len = 0;
	if (old_size > new_size)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("no consistency proof from %zu leaves back to %zu"), old_size,
		                   new_size);
	if (leaves == NULL && new_size > 0)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("merkle_consistency_proof: no leaves for a tree of %zu"),
		                   new_size);
	if (old_size == 0 || old_size == new_size)
		return YB_OK;
	if ((rc = hasher_open(&h, eb)) != YB_OK)
		return rc;
	/*
	 * SUBPROOF(m, D[lo:hi], b), with whole standing for b:
	 *   m == hi - lo: {} if b, else {MTH(D[lo:hi])};
	 *   m <= k: SUBPROOF(m, D[lo:lo+k], b) : MTH(D[lo+k:hi]);
	 *   m > k:  SUBPROOF(m - k, D[lo+k:hi], false) : MTH(D[lo:lo+k]).
	 * tmp[0] is kept for the terminal MTH, siblings go to tmp[1..] top first.
	 */
	count = 1;
	while (m < hi - lo) {
		size_t k = split(hi - lo);
		if (m <= k) {
			rc = range_root(&h, leaves + lo + k, hi - lo - k, tmp[count]);
			hi = lo + k;
		} else {
			rc = range_root(&h, leaves + lo, k, tmp[count]);
			lo += k;
			m -= k;
			whole = false;
		}
		if (rc != YB_OK)
			break;
		count++;
	}
	if (rc == YB_OK && !whole) {
		rc = range_root(&h, leaves + lo, hi - lo, tmp[0]);
		terminal = true;
	}
	hasher_close(&h);
	if (rc != YB_OK)
		return status_fail(eb, rc, _("SHA-256 failed computing a consistency proof: %s"),
		                   ssl_reason());
	if (terminal)
		order[n++] = 0;
	for (size_t i = count - 1; i >= 1; i--)
		order[n++] = i;
	return emit((const uint8_t(*)[MERKLE_HASH_LEN])tmp, order, n, proof, proof_len, eb);
}

bool merkle_inclusion_verify(const uint8_t leaf_hash[MERKLE_HASH_LEN], uint64_t index,
                             uint64_t tree_size, const uint8_t (*proof)[MERKLE_HASH_LEN],
                             size_t proof_len, const uint8_t root[MERKLE_HASH_LEN])
{
	uint8_t r[MERKLE_HASH_LEN];
	uint64_t fn, sn;
	struct hasher h;
	bool ok = true;

	if (leaf_hash == NULL || root == NULL || (proof == NULL && proof_len > 0) ||
	    proof_len > MERKLE_MAX_PROOF || index >= tree_size)
		return false;
	if (hasher_open(&h, NULL) != YB_OK)
		return false;
	fn = index;
	sn = tree_size - 1;
	memcpy(r, leaf_hash, MERKLE_HASH_LEN);
	for (size_t i = 0; ok && i < proof_len; i++) {
		if (sn == 0) {
			ok = false; /* more proof than the path is long */
			break;
		}
		if ((fn & 1) || fn == sn) {
			ok = node(&h, proof[i], r, r) == YB_OK;
			if ((fn & 1) == 0)
				while ((fn & 1) == 0 && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			ok = node(&h, r, proof[i], r) == YB_OK;
		}
		fn >>= 1;
		sn >>= 1;
	}
	hasher_close(&h);
	return ok && sn == 0 && same(r, root);
}

bool merkle_consistency_verify(uint64_t old_size, uint64_t new_size,
                               const uint8_t old_root[MERKLE_HASH_LEN],
                               const uint8_t new_root[MERKLE_HASH_LEN],
                               const uint8_t (*proof)[MERKLE_HASH_LEN], size_t proof_len)
{
	uint8_t fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
	uint64_t fn, sn;
	size_t skip, total;
	struct hasher h;
	bool ok = true;

	if (old_root == NULL || new_root == NULL || (proof == NULL && proof_len > 0) ||
	    proof_len > MERKLE_MAX_PROOF || old_size > new_size)
		return false;
	if (old_size == new_size)
		return proof_len == 0 && same(old_root, new_root);
	if (hasher_open(&h, NULL) != YB_OK)
		return false;
	if (old_size == 0) {
		ok = proof_len == 0 && hash3(&h, NULL, NULL, 0, NULL, 0, fr) == YB_OK &&
		     same(old_root, fr);
		hasher_close(&h);
		return ok;
	}
	if (proof_len == 0) {
		hasher_close(&h);
		return false;
	}
	/*
	 * RFC 9162 §2.1.4.2. When old_size is a power of two the old root is
	 * the proof's implicit first element: element i of the path is then
	 * proof[i - 1], so "skip" is 1 and old_root stands for element 0.
	 */
	skip = (old_size & (old_size - 1)) == 0 ? 1 : 0;
	total = proof_len + skip;
	fn = old_size - 1;
	sn = new_size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, skip ? old_root : proof[0], MERKLE_HASH_LEN);
	memcpy(sr, fr, MERKLE_HASH_LEN);
	for (size_t i = 1; ok && i < total; i++) {
		const uint8_t *c = proof[i - skip];
		if (sn == 0) {
			ok = false; /* more proof than the trees need */
			break;
		}
		if ((fn & 1) || fn == sn) {
			ok = node(&h, c, fr, fr) == YB_OK && node(&h, c, sr, sr) == YB_OK;
			if ((fn & 1) == 0)
				while ((fn & 1) == 0 && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			ok = node(&h, sr, c, sr) == YB_OK;
		}
		fn >>= 1;
		sn >>= 1;
	}
	hasher_close(&h);
	return ok && sn == 0 && same(fr, old_root) && same(sr, new_root);
}

void merkle_hex(const uint8_t h[MERKLE_HASH_LEN], char out[MERKLE_HEX_LEN + 1])
{
	hash_hex(h, MERKLE_HASH_LEN, out);
}

int merkle_unhex(const char *hex, uint8_t out[MERKLE_HASH_LEN], struct errbuf *eb)
{
	uint8_t buf[MERKLE_HASH_LEN];

	if (hex == NULL)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("no hash given"));
	for (size_t i = 0; i < MERKLE_HEX_LEN; i++) {
		int d = hash_hex_digit(hex[i]);
		if (d < 0)
			return status_fail(
			    eb, YB_INVALID_ARGUMENT,
			    hex[i] == '\0'
			        ? _("hash '%s' is too short: a SHA-256 hash is 64 hex digits")
			        : _("hash '%.64s' has a non-hex character: a SHA-256 hash is "
			            "64 hex digits"),
			    hex);
		if (i % 2 == 0)
			buf[i / 2] = (uint8_t)(d << 4);
		else
			buf[i / 2] |= (uint8_t)d;
	}
	if (hex[MERKLE_HEX_LEN] != '\0')
		return status_fail(
		    eb, YB_INVALID_ARGUMENT,
		    _("hash '%.64s...' is too long: a SHA-256 hash is 64 hex digits"), hex);
	memcpy(out, buf, MERKLE_HASH_LEN);
	return YB_OK;
}
