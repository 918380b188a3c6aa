/*
 * test_merkle.c - the audit log's Merkle tree against RFC 6962.
 *
 * Known answers: the eight leaves of the Certificate Transparency reference
 * tests, with the roots of sizes 0..8 and every inclusion and consistency
 * proof over them, as computed independently by
 * tests/unit/data/merkle/make-vectors.sh (openssl dgst) into fixtures, and
 * the values published with the CT reference tests, written out here.
 *
 * Exhaustively, for every tree of 1..64 leaves: generated proofs equal those
 * of a naive recursive transcription of RFC 6962 §2.1, verify, and stop
 * verifying when anything is tampered with. Verifiers also get hostile
 * input: sizes near 2^64, over-long proofs, NULLs; every proof they are
 * handed is an exactly-sized heap block, so ASan catches any over-read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "merkle.h"

#define H MERKLE_HASH_LEN
typedef uint8_t hash_t[H];

#define FIXTURES YB_TEST_DATA_DIR "/merkle/"

/* Leaves of the exhaustive tests: trees of up to MAX_N, wrong sizes up to 2 * MAX_N. */
#define MAX_N 64
#define ALL_N (2 * MAX_N + 2)

static hash_t all_leaves[ALL_N];
static hash_t all_roots[ALL_N + 1]; /* all_roots[n]: root of all_leaves[0..n) */

/* ---------- the values published with the CT reference tests ---------- */

static const char *const published_roots[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static const char *const ct_inputs[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

struct published_proof {
	size_t a, b; /* (index, tree size) or (old size, new size) */
	size_t len;
	const char *proof[3];
};

static const struct published_proof published_inclusion[] = {
    {0, 1, 0, {NULL}},
    {0,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     3,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     3,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static const struct published_proof published_consistency[] = {
    {1, 1, 0, {NULL}},
    {1,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     2,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

/* ---------- helpers ---------- */

static void unhex(const char *s, uint8_t out[H])
{
	struct errbuf eb = {{0}};
	if (merkle_unhex(s, out, &eb) != YB_OK)
		fail_msg("bad hash '%s' in a test vector: %s", s, eb.msg);
}

static void bytes_unhex(const char *s, uint8_t *out, size_t *len)
{
	size_t n = strlen(s);
	assert_int_equal(n % 2, 0);
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
}

static void assert_hash(const uint8_t got[H], const uint8_t want[H], const char *what)
{
	if (memcmp(got, want, H) != 0) {
		char g[MERKLE_HEX_LEN + 1], w[MERKLE_HEX_LEN + 1];
		merkle_hex(got, g);
		merkle_hex(want, w);
		fail_msg("%s: got %s, want %s", what, g, w);
	}
}

/* A malloc'd copy of p[0..len) followed by extra copies of *fill (NULL if empty). */
static hash_t *dup_proof(const hash_t *p, size_t len, size_t extra, const uint8_t *fill)
{
	hash_t *q;

	if (len + extra == 0)
		return NULL;
	q = malloc((len + extra) * sizeof(hash_t));
	assert_non_null(q);
	if (len > 0)
		memcpy(q, p, len * sizeof(hash_t));
	for (size_t i = 0; i < extra; i++)
		memcpy(q[len + i], fill, H);
	return q;
}

/* ---------- a naive transcription of RFC 6962 §2.1, hashing with EVP_Digest ---------- */

static void ref_sha(const uint8_t *data, size_t len, uint8_t out[H])
{
	unsigned int n = 0;
	assert_int_equal(EVP_Digest(data, len, out, &n, EVP_sha256(), NULL), 1);
	assert_int_equal(n, H);
}

static void ref_leaf(const void *entry, size_t len, uint8_t out[H])
{
	uint8_t buf[256];
	assert_true(len < sizeof(buf));
	buf[0] = 0x00;
	memcpy(buf + 1, entry, len);
	ref_sha(buf, len + 1, out);
}

static void ref_node(const uint8_t l[H], const uint8_t r[H], uint8_t out[H])
{
	uint8_t buf[1 + 2 * H];
	buf[0] = 0x01;
	memcpy(buf + 1, l, H);
	memcpy(buf + 1 + H, r, H);
	ref_sha(buf, sizeof(buf), out);
}

static size_t ref_split(size_t n)
{
	size_t k = 1;
	while (2 * k < n)
		k *= 2;
	return k;
}

static void ref_mth(const hash_t *d, size_t n, uint8_t out[H])
{
	hash_t l, r;

	if (n == 0) {
		ref_sha(NULL, 0, out);
	} else if (n == 1) {
		memcpy(out, d[0], H);
	} else {
		size_t k = ref_split(n);
		ref_mth(d, k, l);
		ref_mth(d + k, n - k, r);
		ref_node(l, r, out);
	}
}

/*
 * A reference proof, and its shape: for each element how a verifier uses it
 * ('R' sibling on the right, 'L' on the left, 'T' the old subtree's own
 * root), 'P' where the old root itself is the implicit first element.
 */
struct refproof {
	hash_t h[MERKLE_MAX_PROOF + 4];
	size_t len;
	char shape[MERKLE_MAX_PROOF + 8];
	size_t slen;
};

static void ref_push(struct refproof *rp, const uint8_t *h, char how)
{
	if (h != NULL)
		memcpy(rp->h[rp->len++], h, H);
	rp->shape[rp->slen++] = how;
	rp->shape[rp->slen] = '\0';
}

/* PATH(m, D[n]). */
static void ref_path(size_t m, const hash_t *d, size_t n, struct refproof *rp)
{
	hash_t s;
	size_t k;

	if (n <= 1)
		return;
	k = ref_split(n);
	if (m < k) {
		ref_path(m, d, k, rp);
		ref_mth(d + k, n - k, s);
		ref_push(rp, s, 'R');
	} else {
		ref_path(m - k, d + k, n - k, rp);
		ref_mth(d, k, s);
		ref_push(rp, s, 'L');
	}
}

/* SUBPROOF(m, D[n], b). */
static void ref_subproof(size_t m, const hash_t *d, size_t n, bool b, struct refproof *rp)
{
	hash_t s;
	size_t k;

	if (m == n) {
		if (b) {
			ref_push(rp, NULL, 'P');
		} else {
			ref_mth(d, n, s);
			ref_push(rp, s, 'T');
		}
		return;
	}
	k = ref_split(n);
	if (m <= k) {
		ref_subproof(m, d, k, b, rp);
		ref_mth(d + k, n - k, s);
		ref_push(rp, s, 'R');
	} else {
		ref_subproof(m - k, d + k, n - k, false, rp);
		ref_mth(d, k, s);
		ref_push(rp, s, 'L');
	}
}

static void ref_inclusion(size_t m, size_t n, struct refproof *rp)
{
	memset(rp, 0, sizeof(*rp));
	ref_path(m, all_leaves, n, rp);
}

/* PROOF(m, D[n]), with the shape "=" for m == n and "0" for 0 == m < n. */
static void ref_consistency(size_t m, size_t n, struct refproof *rp)
{
	memset(rp, 0, sizeof(*rp));
	if (m == n)
		ref_push(rp, NULL, '=');
	else if (m == 0)
		ref_push(rp, NULL, '0');
	else
		ref_subproof(m, all_leaves, n, true, rp);
}

/* ---------- fixtures ---------- */

struct fixture {
	FILE *f;
	char line[8192];
	char *tok[MERKLE_MAX_PROOF + 8];
	size_t ntok;
};

static void fixture_open(struct fixture *fx, const char *name)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s%s", FIXTURES, name);
	fx->f = fopen(path, "r");
	if (fx->f == NULL)
		fail_msg("cannot open fixture %s (run make-vectors.sh there)", path);
}

/* Next non-comment line, split on blanks; false at the end of the file. */
static bool fixture_next(struct fixture *fx)
{
	while (fgets(fx->line, sizeof(fx->line), fx->f) != NULL) {
		char *save = NULL, *t;
		if (fx->line[0] == '#' || fx->line[0] == '\n')
			continue;
		fx->ntok = 0;
		for (t = strtok_r(fx->line, " \t\n", &save); t != NULL;
		     t = strtok_r(NULL, " \t\n", &save)) {
			assert_true(fx->ntok < sizeof(fx->tok) / sizeof(fx->tok[0]));
			fx->tok[fx->ntok++] = t;
		}
		return true;
	}
	fclose(fx->f);
	fx->f = NULL;
	return false;
}

static size_t tok_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	assert_true(*s != '\0' && *end == '\0');
	return (size_t)v;
}

/* The CT leaves, by hash, from leaves.txt. */
static hash_t ct_leaves[8];

static void load_ct_leaves(void)
{
	struct fixture fx;
	size_t count = 0;

	fixture_open(&fx, "leaves.txt");
	while (fixture_next(&fx)) {
		assert_int_equal(fx.ntok, 3);
		size_t i = tok_size(fx.tok[0]);
		assert_int_equal(i, count);
		assert_true(i < 8);
		unhex(fx.tok[1], ct_leaves[i]);
		count++;
	}
	assert_int_equal(count, 8);
}

/* ---------- known answers ---------- */

static void test_leaf_hashes(void **state)
{
	struct fixture fx;
	(void)state;

	fixture_open(&fx, "leaves.txt");
	while (fixture_next(&fx)) {
		uint8_t entry[64];
		size_t len = 0;
		hash_t want, got;
		size_t i = tok_size(fx.tok[0]);

		assert_int_equal(fx.ntok, 3);
		unhex(fx.tok[1], want);
		if (strcmp(fx.tok[2], "-") != 0)
			bytes_unhex(fx.tok[2], entry, &len);
		/* the fixture's input is the CT reference input */
		assert_string_equal(strcmp(fx.tok[2], "-") == 0 ? "" : fx.tok[2], ct_inputs[i]);
		assert_int_equal(merkle_leaf_hash(len ? entry : NULL, len, got), YB_OK);
		assert_hash(got, want, "leaf hash");
	}
}

static void test_node_hash(void **state)
{
	hash_t a, b, want, got;
	(void)state;

	load_ct_leaves();
	/* level 1 of the CT tree, and the 4-leaf root */
	unhex("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125", want);
	assert_int_equal(merkle_node_hash(ct_leaves[0], ct_leaves[1], got), YB_OK);
	assert_hash(got, want, "node(l0, l1)");
	unhex("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", b);
	assert_int_equal(merkle_node_hash(ct_leaves[2], ct_leaves[3], got), YB_OK);
	assert_hash(got, b, "node(l2, l3)");
	/* out may alias an input */
	memcpy(a, want, H);
	assert_int_equal(merkle_node_hash(a, b, a), YB_OK);
	unhex(published_roots[4], want);
	assert_hash(a, want, "node(h01, h23) in place");
	memcpy(a, ct_leaves[0], H);
	assert_int_equal(merkle_node_hash(ct_leaves[1], a, a), YB_OK);
	ref_node(ct_leaves[1], ct_leaves[0], want);
	assert_hash(a, want, "node aliasing right");
}

static void test_roots(void **state)
{
	struct fixture fx;
	struct errbuf eb = {{0}};
	size_t count = 0;
	(void)state;

	load_ct_leaves();
	fixture_open(&fx, "roots.txt");
	while (fixture_next(&fx)) {
		hash_t want, pub, got;
		size_t n = tok_size(fx.tok[0]);

		assert_int_equal(fx.ntok, 2);
		assert_int_equal(n, count);
		unhex(fx.tok[1], want);
		unhex(published_roots[n], pub);
		assert_hash(want, pub, "fixture root vs published root");
		assert_int_equal(merkle_root(n ? (const hash_t *)ct_leaves : NULL, n, got, &eb),
		                 YB_OK);
		assert_hash(got, want, "merkle_root");
		count++;
	}
	assert_int_equal(count, 9);
}

static void test_inclusion_vectors(void **state)
{
	struct fixture fx;
	struct errbuf eb = {{0}};
	size_t count = 0;
	hash_t roots[9];
	(void)state;

	load_ct_leaves();
	for (size_t n = 0; n <= 8; n++)
		unhex(published_roots[n], roots[n]);
	fixture_open(&fx, "inclusion.txt");
	while (fixture_next(&fx)) {
		hash_t want[MERKLE_MAX_PROOF];
		hash_t *got = NULL;
		size_t got_len = 99;

		assert_true(fx.ntok >= 2);
		size_t n = tok_size(fx.tok[0]), m = tok_size(fx.tok[1]), len = fx.ntok - 2;
		assert_true(n >= 1 && n <= 8 && m < n);
		for (size_t i = 0; i < len; i++)
			unhex(fx.tok[2 + i], want[i]);
		assert_int_equal(
		    merkle_inclusion_proof((const hash_t *)ct_leaves, n, m, &got, &got_len, &eb),
		    YB_OK);
		assert_int_equal(got_len, len);
		for (size_t i = 0; i < len; i++)
			assert_hash(got[i], want[i], "inclusion proof element");
		assert_true(merkle_inclusion_verify(ct_leaves[m], m, n, (const hash_t *)want, len,
		                                    roots[n]));
		free(got);
		count++;
	}
	assert_int_equal(count, 36);

	/* the published table */
	for (size_t t = 0; t < sizeof(published_inclusion) / sizeof(published_inclusion[0]); t++) {
		const struct published_proof *pp = &published_inclusion[t];
		hash_t want[3];
		hash_t *got = NULL;
		size_t got_len = 99;

		/* n bounds every loop by want[]'s size, which GCC 12 cannot see from
		 * the table (it warns -Wstringop-overread in release builds). */
		const size_t n = pp->len < 3 ? pp->len : 3;

		assert_true(pp->len <= 3);
		for (size_t i = 0; i < n; i++)
			unhex(pp->proof[i], want[i]);
		assert_int_equal(merkle_inclusion_proof((const hash_t *)ct_leaves, pp->b, pp->a,
		                                        &got, &got_len, &eb),
		                 YB_OK);
		assert_int_equal(got_len, pp->len);
		for (size_t i = 0; i < n; i++)
			assert_hash(got[i], want[i], "published inclusion proof");
		assert_true(merkle_inclusion_verify(ct_leaves[pp->a], pp->a, pp->b,
		                                    pp->len ? (const hash_t *)want : NULL, pp->len,
		                                    roots[pp->b]));
		free(got);
	}
}

static void test_consistency_vectors(void **state)
{
	struct fixture fx;
	struct errbuf eb = {{0}};
	size_t count = 0;
	hash_t roots[9];
	(void)state;

	load_ct_leaves();
	for (size_t n = 0; n <= 8; n++)
		unhex(published_roots[n], roots[n]);
	fixture_open(&fx, "consistency.txt");
	while (fixture_next(&fx)) {
		hash_t want[MERKLE_MAX_PROOF];
		hash_t *got = NULL;
		size_t got_len = 99;

		assert_true(fx.ntok >= 2);
		size_t m = tok_size(fx.tok[0]), n = tok_size(fx.tok[1]), len = fx.ntok - 2;
		assert_true(m <= n && n <= 8);
		for (size_t i = 0; i < len; i++)
			unhex(fx.tok[2 + i], want[i]);
		assert_int_equal(merkle_consistency_proof(n ? (const hash_t *)ct_leaves : NULL, m,
		                                          n, &got, &got_len, &eb),
		                 YB_OK);
		assert_int_equal(got_len, len);
		for (size_t i = 0; i < len; i++)
			assert_hash(got[i], want[i], "consistency proof element");
		assert_true(merkle_consistency_verify(m, n, roots[m], roots[n],
		                                      len ? (const hash_t *)want : NULL, len));
		free(got);
		count++;
	}
	assert_int_equal(count, 45);

	for (size_t t = 0; t < sizeof(published_consistency) / sizeof(published_consistency[0]);
	     t++) {
		const struct published_proof *pp = &published_consistency[t];
		hash_t want[3];
		hash_t *got = NULL;
		size_t got_len = 99;

		/* n bounds every loop by want[]'s size, which GCC 12 cannot see from
		 * the table (it warns -Wstringop-overread in release builds). */
		const size_t n = pp->len < 3 ? pp->len : 3;

		assert_true(pp->len <= 3);
		for (size_t i = 0; i < n; i++)
			unhex(pp->proof[i], want[i]);
		assert_int_equal(merkle_consistency_proof((const hash_t *)ct_leaves, pp->a, pp->b,
		                                          &got, &got_len, &eb),
		                 YB_OK);
		assert_int_equal(got_len, pp->len);
		for (size_t i = 0; i < n; i++)
			assert_hash(got[i], want[i], "published consistency proof");
		assert_true(merkle_consistency_verify(pp->a, pp->b, roots[pp->a], roots[pp->b],
		                                      pp->len ? (const hash_t *)want : NULL,
		                                      pp->len));
		free(got);
	}
}

/* ---------- exhaustive: every tree of 1..64 leaves ---------- */

static int setup_trees(void **state)
{
	(void)state;
	for (size_t i = 0; i < ALL_N; i++) {
		char entry[64];
		int len = snprintf(entry, sizeof(entry), "audit entry %zu", i);
		ref_leaf(entry, (size_t)len, all_leaves[i]);
	}
	for (size_t n = 0; n <= ALL_N; n++)
		ref_mth(all_leaves, n, all_roots[n]);
	return 0;
}

static void test_roots_exhaustive(void **state)
{
	(void)state;
	for (size_t n = 0; n <= ALL_N; n++) {
		hash_t got;
		assert_int_equal(merkle_root(n ? (const hash_t *)all_leaves : NULL, n, got, NULL),
		                 YB_OK);
		assert_hash(got, all_roots[n], "merkle_root vs reference");
	}
	/* merkle_leaf_hash agrees with the reference leaf hash */
	for (size_t i = 0; i < 4; i++) {
		char entry[64];
		hash_t got;
		int len = snprintf(entry, sizeof(entry), "audit entry %zu", i);
		assert_int_equal(merkle_leaf_hash(entry, (size_t)len, got), YB_OK);
		assert_hash(got, all_leaves[i], "merkle_leaf_hash");
	}
}

/*
 * A frontier grown leaf by leaf has the reference root at every size, and a
 * copy taken at any size grows on to the same roots as the original.
 */
static void test_frontier(void **state)
{
	struct merkle_frontier f = {0}, half = {0};
	hash_t got;
	(void)state;

	assert_int_equal(merkle_frontier_root(&f, got), YB_OK);
	assert_hash(got, all_roots[0], "empty frontier");
	for (size_t n = 1; n <= ALL_N; n++) {
		assert_int_equal(merkle_frontier_add(&f, all_leaves[n - 1]), YB_OK);
		assert_int_equal(f.size, n);
		assert_int_equal(merkle_frontier_root(&f, got), YB_OK);
		assert_hash(got, all_roots[n], "frontier root vs reference");
		if (n == ALL_N / 2)
			half = f;
	}
	for (size_t n = ALL_N / 2; n < ALL_N; n++)
		assert_int_equal(merkle_frontier_add(&half, all_leaves[n]), YB_OK);
	assert_int_equal(merkle_frontier_root(&half, got), YB_OK);
	assert_hash(got, all_roots[ALL_N], "frontier resumed from a copy");
	f.size = UINT64_MAX;
	assert_int_equal(merkle_frontier_add(&f, all_leaves[0]), YB_OUT_OF_RANGE);
}

static bool inc_ok(size_t m, uint64_t idx, uint64_t n, const hash_t *p, size_t len,
                   const uint8_t root[H])
{
	return merkle_inclusion_verify(all_leaves[m], idx, n, p, len, root);
}

static void test_inclusion_exhaustive(void **state)
{
	unsigned long checks = 0;
	(void)state;

	for (size_t n = 1; n <= MAX_N; n++) {
		for (size_t m = 0; m < n; m++) {
			struct refproof ref;
			struct errbuf eb = {{0}};
			hash_t *p = NULL;
			hash_t *q, bad;
			size_t len = 99;

			ref_inclusion(m, n, &ref);
			assert_int_equal(
			    merkle_inclusion_proof((const hash_t *)all_leaves, n, m, &p, &len, &eb),
			    YB_OK);
			assert_int_equal(len, ref.len);
			assert_true(len <= 64);
			assert_true((len == 0) == (p == NULL));
			for (size_t i = 0; i < len; i++)
				assert_hash(p[i], ref.h[i], "inclusion proof vs reference");

			/* it verifies */
			assert_true(inc_ok(m, m, n, (const hash_t *)p, len, all_roots[n]));
			checks++;

			/* a flipped bit in any element */
			for (size_t i = 0; i < len; i++) {
				q = dup_proof((const hash_t *)p, len, 0, NULL);
				q[i][(m * 7 + i * 13 + n) % H] ^= (uint8_t)(1u << ((m + i) % 8));
				assert_false(inc_ok(m, m, n, (const hash_t *)q, len, all_roots[n]));
				free(q);
				checks++;
			}
			/* a flipped bit in the leaf hash or the root */
			memcpy(bad, all_leaves[m], H);
			bad[(m + n) % H] ^= 0x10;
			assert_false(merkle_inclusion_verify(bad, m, n, (const hash_t *)p, len,
			                                     all_roots[n]));
			memcpy(bad, all_roots[n], H);
			bad[(3 * m + n) % H] ^= 0x01;
			assert_false(inc_ok(m, m, n, (const hash_t *)p, len, bad));
			/* another tree's root */
			assert_false(inc_ok(m, m, n, (const hash_t *)p, len, all_roots[n + 1]));
			assert_false(inc_ok(m, m, n, (const hash_t *)p, len, all_roots[n - 1]));
			checks += 4;

			/* a wrong index */
			const uint64_t idx[] = {m + 1, m - 1, m ^ 1, m ^ 2, n, n + 1, UINT64_MAX};
			for (size_t j = 0; j < sizeof(idx) / sizeof(idx[0]); j++) {
				if (idx[j] == m)
					continue;
				assert_false(
				    inc_ok(m, idx[j], n, (const hash_t *)p, len, all_roots[n]));
				checks++;
			}
			/* another leaf's hash at this index */
			assert_false(
			    inc_ok((m + 1) % ALL_N, m, n, (const hash_t *)p, len, all_roots[n]));

			/*
			 * A wrong size. With the root of the claimed size it always
			 * fails. With this tree's root it fails unless the leaf's
			 * path has the same shape in both sizes (e.g. leaf 0 of 3 or
			 * of 4 leaves): the verifier then hashes exactly as for the
			 * true size, and the root binds the size only through the
			 * signed checkpoint.
			 */
			const uint64_t sizes[] = {n + 1, n - 1, 2 * n, n + 2, m, 0, UINT64_MAX};
			for (size_t j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
				uint64_t s = sizes[j];
				bool same_shape = false;
				if (s == n)
					continue;
				if (s > m && s <= ALL_N) {
					struct refproof other;
					ref_inclusion(m, (size_t)s, &other);
					same_shape = strcmp(other.shape, ref.shape) == 0;
					assert_false(
					    inc_ok(m, m, s, (const hash_t *)p, len, all_roots[s]));
				}
				assert_int_equal(
				    inc_ok(m, m, s, (const hash_t *)p, len, all_roots[n]),
				    same_shape);
				checks += 2;
			}

			/* truncated, extended at either end, element dropped */
			if (len > 0) {
				assert_false(
				    inc_ok(m, m, n, (const hash_t *)p, len - 1, all_roots[n]));
				q = dup_proof((const hash_t *)p + 1, len - 1, 0, NULL);
				assert_false(
				    inc_ok(m, m, n, (const hash_t *)q, len - 1, all_roots[n]));
				free(q);
				checks += 2;
			} else {
				assert_null(p);
			}
			q = dup_proof((const hash_t *)p, len, 1, all_roots[n]);
			assert_false(inc_ok(m, m, n, (const hash_t *)q, len + 1, all_roots[n]));
			free(q);
			q = dup_proof((const hash_t *)p, len, 1, p ? p[len - 1] : all_leaves[m]);
			assert_false(inc_ok(m, m, n, (const hash_t *)q, len + 1, all_roots[n]));
			free(q);
			q = malloc((len + 1) * sizeof(hash_t));
			assert_non_null(q);
			memset(q[0], 0, H);
			if (len > 0)
				memcpy(q + 1, p, len * sizeof(hash_t));
			assert_false(inc_ok(m, m, n, (const hash_t *)q, len + 1, all_roots[n]));
			free(q);
			checks += 3;
			/* swapped neighbours */
			if (len > 1) {
				q = dup_proof((const hash_t *)p, len, 0, NULL);
				memcpy(bad, q[0], H);
				memcpy(q[0], q[1], H);
				memcpy(q[1], bad, H);
				assert_false(inc_ok(m, m, n, (const hash_t *)q, len, all_roots[n]));
				free(q);
				checks++;
			}
			free(p);
		}
	}
	print_message("inclusion: %lu checks over trees of 1..%d leaves\n", checks, MAX_N);
}

static bool cons_ok(uint64_t m, uint64_t n, const uint8_t r1[H], const uint8_t r2[H],
                    const hash_t *p, size_t len)
{
	return merkle_consistency_verify(m, n, r1, r2, p, len);
}

static void test_consistency_exhaustive(void **state)
{
	unsigned long checks = 0;
	(void)state;

	for (size_t n = 0; n <= MAX_N; n++) {
		for (size_t m = 0; m <= n; m++) {
			struct refproof ref;
			struct errbuf eb = {{0}};
			hash_t *p = NULL;
			hash_t *q, bad;
			size_t len = 99;
			const uint8_t *r1 = all_roots[m], *r2 = all_roots[n];

			ref_consistency(m, n, &ref);
			assert_int_equal(
			    merkle_consistency_proof(n ? (const hash_t *)all_leaves : NULL, m, n,
			                             &p, &len, &eb),
			    YB_OK);
			assert_int_equal(len, ref.len);
			assert_true(len <= MERKLE_MAX_PROOF);
			assert_true((len == 0) == (p == NULL));
			for (size_t i = 0; i < len; i++)
				assert_hash(p[i], ref.h[i], "consistency proof vs reference");

			/* it verifies */
			assert_true(cons_ok(m, n, r1, r2, (const hash_t *)p, len));
			checks++;

			/* a flipped bit in any element */
			for (size_t i = 0; i < len; i++) {
				q = dup_proof((const hash_t *)p, len, 0, NULL);
				q[i][(m * 5 + i * 11 + n) % H] ^= (uint8_t)(0x80u >> ((n + i) % 8));
				assert_false(cons_ok(m, n, r1, r2, (const hash_t *)q, len));
				free(q);
				checks++;
			}
			/* a wrong old or new root */
			memcpy(bad, r1, H);
			bad[(m + 2 * n) % H] ^= 0x04;
			assert_false(cons_ok(m, n, bad, r2, (const hash_t *)p, len));
			checks++;
			if (m > 0) { /* every tree extends the empty one, whatever its root */
				memcpy(bad, r2, H);
				bad[(5 * m + n) % H] ^= 0x40;
				assert_false(cons_ok(m, n, r1, bad, (const hash_t *)p, len));
				assert_false(
				    cons_ok(m, n, r1, all_roots[n + 1], (const hash_t *)p, len));
				checks += 2;
			}
			if (m != n) {
				assert_false(cons_ok(m, n, r2, r1, (const hash_t *)p, len));
				assert_false(
				    cons_ok(m, n, all_roots[m + 1], r2, (const hash_t *)p, len));
				checks += 2;
			}

			/*
			 * Wrong sizes. With the roots of the claimed sizes it fails
			 * unless that claim needs no proof (old size 0, or equal
			 * sizes). With these roots: when the claim needs no proof,
			 * it holds as the header says (equal roots, or an empty old
			 * tree); otherwise it fails unless the proof has the same
			 * shape for both pairs of sizes (see inclusion).
			 */
			const uint64_t wrong[][2] = {
			    {m + 1, n},
			    {m - 1, n},
			    {m, n + 1},
			    {m, n - 1},
			    {m + 1, n + 1},
			    {0, n},
			    {n, n},
			    {m, m},
			    {n, m},
			    {m, UINT64_MAX},
			    {UINT64_MAX, UINT64_MAX},
			    {m, 2 * n + 1},
			};
			for (size_t j = 0; j < sizeof(wrong) / sizeof(wrong[0]); j++) {
				uint64_t a = wrong[j][0], b = wrong[j][1];
				bool expect;
				if (a == m && b == n)
					continue;
				if (a > b) {
					expect = false;
				} else if (a == b) {
					expect = len == 0 && memcmp(r1, r2, H) == 0;
				} else if (a == 0) {
					expect = len == 0 && memcmp(r1, all_roots[0], H) == 0;
				} else if (b <= ALL_N) {
					struct refproof other;
					ref_consistency((size_t)a, (size_t)b, &other);
					expect = strcmp(other.shape, ref.shape) == 0;
				} else {
					expect = false; /* a proof for 2^64 leaves is longer */
				}
				if (a <= b && b <= ALL_N) {
					assert_int_equal(cons_ok(a, b, all_roots[a], all_roots[b],
					                         (const hash_t *)p, len),
					                 len == 0 && (a == 0 || a == b));
					checks++;
				}
				assert_int_equal(cons_ok(a, b, r1, r2, (const hash_t *)p, len),
				                 expect);
				checks++;
			}

			/* truncated, extended, shifted */
			if (len > 0) {
				assert_false(cons_ok(m, n, r1, r2, (const hash_t *)p, len - 1));
				q = dup_proof((const hash_t *)p + 1, len - 1, 0, NULL);
				assert_false(cons_ok(m, n, r1, r2, (const hash_t *)q, len - 1));
				free(q);
				checks += 2;
			}
			q = dup_proof((const hash_t *)p, len, 1, r2);
			assert_false(cons_ok(m, n, r1, r2, (const hash_t *)q, len + 1));
			free(q);
			q = dup_proof((const hash_t *)p, len, 1, r1);
			assert_false(cons_ok(m, n, r1, r2, (const hash_t *)q, len + 1));
			free(q);
			q = malloc((len + 1) * sizeof(hash_t));
			assert_non_null(q);
			memcpy(q[0], r1, H); /* the old root spelled out where it is implicit */
			if (len > 0)
				memcpy(q + 1, p, len * sizeof(hash_t));
			assert_false(cons_ok(m, n, r1, r2, (const hash_t *)q, len + 1));
			free(q);
			checks += 3;
			if (len > 1) {
				q = dup_proof((const hash_t *)p, len, 0, NULL);
				memcpy(bad, q[len - 1], H);
				memcpy(q[len - 1], q[len - 2], H);
				memcpy(q[len - 2], bad, H);
				assert_false(cons_ok(m, n, r1, r2, (const hash_t *)q, len));
				free(q);
				checks++;
			}
			free(p);
		}
	}
	print_message("consistency: %lu checks over trees of 0..%d leaves\n", checks, MAX_N);
}

/* Every bit of every element of one proof of each kind. */
static void test_every_bit(void **state)
{
	hash_t *p = NULL;
	size_t len = 0;
	(void)state;

	assert_int_equal(merkle_inclusion_proof((const hash_t *)all_leaves, 37, 21, &p, &len, NULL),
	                 YB_OK);
	assert_true(len > 0);
	for (size_t i = 0; i < len; i++)
		for (size_t bit = 0; bit < 8 * H; bit++) {
			hash_t *q = dup_proof((const hash_t *)p, len, 0, NULL);
			q[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_false(inc_ok(21, 21, 37, (const hash_t *)q, len, all_roots[37]));
			free(q);
		}
	free(p);

	assert_int_equal(
	    merkle_consistency_proof((const hash_t *)all_leaves, 21, 37, &p, &len, NULL), YB_OK);
	assert_true(len > 0);
	for (size_t i = 0; i < len; i++)
		for (size_t bit = 0; bit < 8 * H; bit++) {
			hash_t *q = dup_proof((const hash_t *)p, len, 0, NULL);
			q[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_false(
			    cons_ok(21, 37, all_roots[21], all_roots[37], (const hash_t *)q, len));
			free(q);
		}
	free(p);
}

/* ---------- a large tree ---------- */

static void test_large_tree(void **state)
{
	const size_t n = 70001;
	hash_t *leaves = malloc(n * sizeof(hash_t));
	hash_t root, want, old_root;
	(void)state;

	assert_non_null(leaves);
	for (size_t i = 0; i < n; i++) {
		char entry[32];
		int len = snprintf(entry, sizeof(entry), "%zu", i);
		ref_leaf(entry, (size_t)len, leaves[i]);
	}
	assert_int_equal(merkle_root((const hash_t *)leaves, n, root, NULL), YB_OK);
	ref_mth(leaves, n, want);
	assert_hash(root, want, "root of 70001 leaves");
	assert_int_equal(merkle_root((const hash_t *)leaves, n - 1, old_root, NULL), YB_OK);

	const size_t idx[] = {0, 1, 65535, 65536, 69999, n - 1};
	for (size_t j = 0; j < sizeof(idx) / sizeof(idx[0]); j++) {
		hash_t *p = NULL;
		size_t len = 0;
		assert_int_equal(
		    merkle_inclusion_proof((const hash_t *)leaves, n, idx[j], &p, &len, NULL),
		    YB_OK);
		assert_true(len <= 17);
		assert_true(merkle_inclusion_verify(leaves[idx[j]], idx[j], n, (const hash_t *)p,
		                                    len, root));
		assert_false(merkle_inclusion_verify(leaves[idx[j]], idx[j], n, (const hash_t *)p,
		                                     len, old_root));
		assert_false(merkle_inclusion_verify(leaves[(idx[j] + 1) % n], idx[j], n,
		                                     (const hash_t *)p, len, root));
		free(p);
	}
	const size_t olds[] = {1, 2, 3, 4096, 65535, 65536, 65537, n - 1};
	for (size_t j = 0; j < sizeof(olds) / sizeof(olds[0]); j++) {
		hash_t *p = NULL;
		size_t len = 0;
		assert_int_equal(
		    merkle_consistency_proof((const hash_t *)leaves, olds[j], n, &p, &len, NULL),
		    YB_OK);
		assert_int_equal(merkle_root((const hash_t *)leaves, olds[j], old_root, NULL),
		                 YB_OK);
		assert_true(
		    merkle_consistency_verify(olds[j], n, old_root, root, (const hash_t *)p, len));
		assert_false(
		    merkle_consistency_verify(olds[j], n, root, old_root, (const hash_t *)p, len));
		free(p);
	}
	free(leaves);
}

/* ---------- hostile input and errors ---------- */

static void test_hostile_verify(void **state)
{
	const size_t cap = MERKLE_MAX_PROOF;
	hash_t *junk = malloc(cap * sizeof(hash_t));
	hash_t leaf, root, jroot;
	(void)state;

	assert_non_null(junk);
	for (size_t i = 0; i < cap; i++)
		for (size_t b = 0; b < H; b++)
			junk[i][b] = (uint8_t)(i * 31 + b);
	memcpy(leaf, all_leaves[0], H);
	memcpy(root, all_roots[1], H);
	memcpy(jroot, all_roots[7], H);

	/* the honest one-leaf case, then NULLs and impossible sizes */
	assert_true(merkle_inclusion_verify(leaf, 0, 1, NULL, 0, root));
	assert_false(merkle_inclusion_verify(NULL, 0, 1, NULL, 0, root));
	assert_false(merkle_inclusion_verify(leaf, 0, 1, NULL, 0, NULL));
	assert_false(merkle_inclusion_verify(leaf, 0, 1, NULL, 1, root));
	assert_false(merkle_inclusion_verify(leaf, 0, 0, NULL, 0, root));
	assert_false(merkle_inclusion_verify(leaf, 1, 1, NULL, 0, root));
	assert_false(merkle_inclusion_verify(leaf, UINT64_MAX, UINT64_MAX, NULL, 0, root));

	/*
	 * junk proofs of every length up to the cap (an exact heap block: ASan
	 * checks no read passes its end), at sizes up to 2^64 - 1, and
	 * lengths past the cap, which must not be read at all.
	 */
	const uint64_t sizes[] = {1,
	                          2,
	                          3,
	                          64,
	                          65,
	                          (1ull << 32) + 1,
	                          (1ull << 63) - 1,
	                          1ull << 63,
	                          (1ull << 63) + 1,
	                          UINT64_MAX - 1,
	                          UINT64_MAX};
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint64_t n = sizes[s];
		const uint64_t idx[] = {0, 1, n / 2, n - 2, n - 1};
		for (size_t len = 0; len <= cap; len++) {
			hash_t *q = dup_proof((const hash_t *)junk, len, 0, NULL);
			for (size_t j = 0; j < sizeof(idx) / sizeof(idx[0]); j++) {
				if (idx[j] >= n)
					continue;
				assert_false(merkle_inclusion_verify(
				    leaf, idx[j], n, (const hash_t *)q, len, jroot));
			}
			const uint64_t olds[] = {1, 2, 3, n / 2, n - 1};
			for (size_t j = 0; j < sizeof(olds) / sizeof(olds[0]); j++) {
				if (olds[j] == 0 || olds[j] >= n)
					continue;
				assert_false(merkle_consistency_verify(olds[j], n, jroot, jroot,
				                                       (const hash_t *)q, len));
			}
			free(q);
		}
		hash_t *q = dup_proof((const hash_t *)junk, 1, 0, NULL);
		const size_t lens[] = {cap + 1, 1000, SIZE_MAX / H, SIZE_MAX};
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			assert_false(
			    merkle_inclusion_verify(leaf, 0, n, (const hash_t *)q, lens[j], jroot));
			assert_false(merkle_consistency_verify(n > 1 ? 1 : 0, n, jroot, jroot,
			                                       (const hash_t *)q, lens[j]));
		}
		free(q);
	}

	/* consistency edge cases */
	hash_t empty;
	ref_sha(NULL, 0, empty);
	assert_true(merkle_consistency_verify(0, 0, empty, empty, NULL, 0));
	assert_true(merkle_consistency_verify(0, 5, empty, all_roots[5], NULL, 0));
	assert_true(merkle_consistency_verify(0, UINT64_MAX, empty, root, NULL, 0));
	assert_false(merkle_consistency_verify(0, 5, all_roots[1], all_roots[5], NULL, 0));
	assert_false(merkle_consistency_verify(0, 5, empty, all_roots[5], (const hash_t *)junk, 1));
	assert_true(merkle_consistency_verify(5, 5, all_roots[5], all_roots[5], NULL, 0));
	assert_false(merkle_consistency_verify(5, 5, all_roots[5], all_roots[4], NULL, 0));
	assert_false(
	    merkle_consistency_verify(5, 5, all_roots[5], all_roots[5], (const hash_t *)junk, 1));
	assert_false(merkle_consistency_verify(6, 5, all_roots[6], all_roots[5], NULL, 0));
	assert_false(merkle_consistency_verify(4, 5, all_roots[4], all_roots[5], NULL, 0));
	assert_false(merkle_consistency_verify(4, 5, NULL, all_roots[5], (const hash_t *)junk, 1));
	assert_false(merkle_consistency_verify(4, 5, all_roots[4], NULL, (const hash_t *)junk, 1));
	assert_false(merkle_consistency_verify(4, 5, all_roots[4], all_roots[5], NULL, 1));
	assert_false(merkle_consistency_verify(UINT64_MAX, UINT64_MAX - 1, root, root, NULL, 0));
	free(junk);
}

static void test_errors(void **state)
{
	struct errbuf eb = {{0}};
	hash_t *p = (hash_t *)&eb; /* anything non-NULL: must be reset */
	size_t len = 99;
	hash_t out, want;
	(void)state;

	assert_int_equal(merkle_inclusion_proof((const hash_t *)all_leaves, 5, 5, &p, &len, &eb),
	                 YB_INVALID_ARGUMENT);
	assert_null(p);
	assert_int_equal(len, 0);
	assert_non_null(strstr(eb.msg, "no leaf 5 in a Merkle tree of 5 leaves"));
	assert_int_equal(merkle_inclusion_proof((const hash_t *)all_leaves, 0, 0, &p, &len, NULL),
	                 YB_INVALID_ARGUMENT);
	assert_int_equal(merkle_inclusion_proof(NULL, 3, 0, &p, &len, NULL), YB_INVALID_ARGUMENT);

	len = 99;
	assert_int_equal(merkle_consistency_proof((const hash_t *)all_leaves, 6, 5, &p, &len, &eb),
	                 YB_INVALID_ARGUMENT);
	assert_null(p);
	assert_int_equal(len, 0);
	assert_non_null(strstr(eb.msg, "6"));
	assert_int_equal(merkle_consistency_proof(NULL, 2, 5, &p, &len, NULL), YB_INVALID_ARGUMENT);
	/* empty proofs need no leaves */
	assert_int_equal(merkle_consistency_proof(NULL, 0, 0, &p, &len, NULL), YB_OK);
	assert_null(p);
	assert_int_equal(len, 0);
	assert_int_equal(merkle_consistency_proof((const hash_t *)all_leaves, 0, 9, &p, &len, NULL),
	                 YB_OK);
	assert_null(p);
	assert_int_equal(merkle_consistency_proof((const hash_t *)all_leaves, 9, 9, &p, &len, NULL),
	                 YB_OK);
	assert_null(p);

	assert_int_equal(merkle_root(NULL, 1, out, &eb), YB_INVALID_ARGUMENT);
	assert_int_equal(merkle_leaf_hash(NULL, 1, out), YB_INVALID_ARGUMENT);
	assert_int_equal(merkle_leaf_hash(NULL, 0, out), YB_OK);
	unhex(published_roots[1], want); /* the leaf hash of "" is the root of that one leaf */
	assert_hash(out, want, "leaf hash of the empty entry");
}

static void test_hex(void **state)
{
	struct errbuf eb = {{0}};
	char text[MERKLE_HEX_LEN + 1];
	hash_t h, back;
	(void)state;

	unhex(published_roots[8], h);
	merkle_hex(h, text);
	assert_string_equal(text, published_roots[8]);
	assert_int_equal(
	    merkle_unhex("5DC9DA79A70659A9AD559CB701DED9A2AB9D823AAD2F4960CFE370EFF4604328", back,
	                 &eb),
	    YB_OK);
	assert_memory_equal(back, h, H);

	memset(back, 0xee, H);
	assert_int_equal(merkle_unhex("5dc9", back, &eb), YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "too short"));
	assert_int_equal(
	    merkle_unhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff46043280", back,
	                 &eb),
	    YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "too long"));
	assert_int_equal(
	    merkle_unhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff460432g", back,
	                 &eb),
	    YB_INVALID_ARGUMENT);
	assert_non_null(strstr(eb.msg, "non-hex"));
	assert_int_equal(
	    merkle_unhex(" 5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff460432", back,
	                 NULL),
	    YB_INVALID_ARGUMENT);
	assert_int_equal(merkle_unhex("", back, NULL), YB_INVALID_ARGUMENT);
	assert_int_equal(merkle_unhex(NULL, back, NULL), YB_INVALID_ARGUMENT);
	for (size_t i = 0; i < H; i++)
		assert_int_equal(back[i], 0xee); /* untouched on failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_leaf_hashes),
	    cmocka_unit_test(test_node_hash),
	    cmocka_unit_test(test_roots),
	    cmocka_unit_test(test_inclusion_vectors),
	    cmocka_unit_test(test_consistency_vectors),
	    cmocka_unit_test(test_roots_exhaustive),
	    cmocka_unit_test(test_frontier),
	    cmocka_unit_test(test_inclusion_exhaustive),
	    cmocka_unit_test(test_consistency_exhaustive),
	    cmocka_unit_test(test_every_bit),
	    cmocka_unit_test(test_large_tree),
	    cmocka_unit_test(test_hostile_verify),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_hex),
	};
	return cmocka_run_group_tests(tests, setup_trees, NULL);
}
