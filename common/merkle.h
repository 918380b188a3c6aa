/*
 * merkle.h - the audit log's Merkle tree (RFC 6962 §2.1, RFC 9162 §2.1).
 *
 * Every audit entry is a leaf of a Merkle tree, as in Certificate
 * Transparency; the daemon signs checkpoints (tree size, root, time) and
 * hands out inclusion proofs (this entry is leaf i of the tree with that
 * root) and consistency proofs (the tree of size m is a prefix of the tree
 * of size n: nothing was changed, removed or reordered in between). Anyone
 * holding a checkpoint can check both offline with the verify functions.
 *
 * Hashing is SHA-256 (OpenSSL EVP) with RFC 6962's domain separation:
 *   leaf hash  SHA-256(0x00 || entry)
 *   node hash  SHA-256(0x01 || left || right)
 *   MTH({})    SHA-256("")  (the root of the empty tree)
 *   MTH(D[n])  node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n.
 *
 * Trees are given as arrays of leaf hashes (merkle_leaf_hash of each entry),
 * leaves[0] first. Building roots and proofs costs O(n) hashes, needs no
 * memory beyond a fixed ~5 KiB of stack (plus the returned proof) and no
 * recursion, so it suits trees of millions of leaves.
 *
 * The verify functions take what a server sent (sizes, indices, proofs) and
 * must be safe on hostile input: they return false, never crash, and never
 * read beyond proof[proof_len - 1] whatever the sizes and lengths; no valid
 * proof has more than MERKLE_MAX_PROOF elements, so longer ones are refused
 * without being read. They return false as well if OpenSSL fails.
 *
 * Nothing here keeps state; every function is safe to call from any thread.
 */
#ifndef YB_MERKLE_H
#define YB_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Bytes in a hash (SHA-256). */
#define MERKLE_HASH_LEN 32

/* Characters in the hex form of a hash, without its NUL. */
#define MERKLE_HEX_LEN 64

/*
 * Longest possible proof for trees of fewer than 2^64 leaves: an inclusion
 * proof has at most 64 elements, a consistency proof at most 65.
 */
#define MERKLE_MAX_PROOF 65

/*
 * out = SHA-256(0x00 || entry[0..len)). entry may be NULL when len is 0.
 * Returns YB_OK, YB_INVALID_ARGUMENT if entry is NULL with len > 0, or
 * YB_ECRYPTO if OpenSSL fails (out is then undefined).
 */
int merkle_leaf_hash(const void *entry, size_t len, uint8_t out[MERKLE_HASH_LEN]);

/*
 * out = SHA-256(0x01 || left || right). out may alias left or right.
 * Returns YB_OK or YB_ECRYPTO.
 */
int merkle_node_hash(const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN],
                     uint8_t out[MERKLE_HASH_LEN]);

/*
 * The root (MTH) of the tree whose leaf hashes are leaves[0..n); for n == 0
 * the root of the empty tree, and leaves may then be NULL.
 * Returns YB_OK, YB_INVALID_ARGUMENT if leaves is NULL with n > 0, or
 * YB_ECRYPTO; eb (may be NULL) says why.
 */
int merkle_root(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n, uint8_t out[MERKLE_HASH_LEN],
                struct errbuf *eb);

/*
 * The audit path PATH(index, D[n]) of RFC 6962 §2.1.1: the sibling hashes
 * from the leaf up to the root, lowest first. On YB_OK, *proof is a
 * malloc'd array of *proof_len hashes that the caller frees with free();
 * for a one-leaf tree the proof is empty: *proof == NULL, *proof_len == 0.
 * Fails with YB_INVALID_ARGUMENT if index >= n (or leaves is NULL),
 * YB_ENOMEM or YB_ECRYPTO; eb (may be NULL) says why, and *proof,
 * *proof_len are then NULL and 0.
 */
int merkle_inclusion_proof(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n, size_t index,
                           uint8_t (**proof)[MERKLE_HASH_LEN], size_t *proof_len,
                           struct errbuf *eb);

/*
 * Whether proof[0..proof_len) proves that leaf_hash is leaf number index of
 * the tree of tree_size leaves whose root is root (RFC 9162 §2.1.3.2).
 * False if index >= tree_size, if proof is NULL while proof_len > 0, if any
 * hash pointer is NULL, or if the proof does not check out.
 */
bool merkle_inclusion_verify(const uint8_t leaf_hash[MERKLE_HASH_LEN], uint64_t index,
                             uint64_t tree_size, const uint8_t (*proof)[MERKLE_HASH_LEN],
                             size_t proof_len, const uint8_t root[MERKLE_HASH_LEN]);

/*
 * The consistency proof PROOF(old_size, D[new_size]) of RFC 6962 §2.1.2
 * (SUBPROOF) that the tree of the first old_size leaves is a prefix of the
 * tree of leaves[0..new_size). Ownership as for merkle_inclusion_proof. The
 * proof is empty (NULL, 0) when old_size is 0 or equals new_size.
 * Fails with YB_INVALID_ARGUMENT if old_size > new_size (or leaves is NULL
 * with new_size > 0), YB_ENOMEM or YB_ECRYPTO; eb (may be NULL) says why.
 */
int merkle_consistency_proof(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t old_size,
                             size_t new_size, uint8_t (**proof)[MERKLE_HASH_LEN], size_t *proof_len,
                             struct errbuf *eb);

/*
 * Whether proof[0..proof_len) proves that the tree of old_size leaves with
 * root old_root is a prefix of the tree of new_size leaves with root
 * new_root (RFC 9162 §2.1.4.2). Edge cases, where RFC 9162 has no
 * algorithm:
 *   old_size == new_size: true iff the proof is empty and the roots equal;
 *   old_size == 0:        true iff the proof is empty and old_root is the
 *                         empty tree's root (every tree extends it).
 * False if old_size > new_size, if proof is NULL while proof_len > 0, if any
 * hash pointer is NULL, or if the proof does not check out.
 */
bool merkle_consistency_verify(uint64_t old_size, uint64_t new_size,
                               const uint8_t old_root[MERKLE_HASH_LEN],
                               const uint8_t new_root[MERKLE_HASH_LEN],
                               const uint8_t (*proof)[MERKLE_HASH_LEN], size_t proof_len);

/*
 * The right edge of a tree of `size` leaves: for each set bit l of size,
 * edge[l] is the root of the perfect subtree of 2^l leaves that the bit
 * stands for (the largest, leftmost subtree at the highest bit). It is all
 * that is needed to append leaves and compute the root without the leaves
 * before: what an incremental audit keeps between two verifications.
 * Levels whose bit is clear hold nothing meaningful.
 */
struct merkle_frontier {
	uint64_t size;
	uint8_t edge[64][MERKLE_HASH_LEN];
};

/*
 * Appends a leaf hash to f (f->size grows by one). YB_OK, YB_OUT_OF_RANGE
 * for a tree of 2^64 - 1 leaves already, or YB_ECRYPTO (f is then undefined).
 */
int merkle_frontier_add(struct merkle_frontier *f, const uint8_t leaf[MERKLE_HASH_LEN]);

/* The root of the tree f stands for. YB_OK or YB_ECRYPTO. */
int merkle_frontier_root(const struct merkle_frontier *f, uint8_t out[MERKLE_HASH_LEN]);

/* Writes h as 64 lower-case hex digits and a NUL into out. */
void merkle_hex(const uint8_t h[MERKLE_HASH_LEN], char out[MERKLE_HEX_LEN + 1]);

/*
 * Parses exactly 64 hex digits (either case, nothing before or after) into
 * out. Returns YB_OK, or YB_INVALID_ARGUMENT (eb, which may be NULL, says
 * why; out is then untouched).
 */
int merkle_unhex(const char *hex, uint8_t out[MERKLE_HASH_LEN], struct errbuf *eb);

#endif
