/*
 * rollup.c - the consolidation pre-aggregates: rebuild, refresh, read.
 *
 * rollup.h explains the buckets, bucket.h their stored form. A refresh
 * decodes, changes and re-encodes the few buckets a change touches; an
 * empty bucket is deleted.
 */
#include "rollup.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "array.h"
#include "bucket.h"
#include "hash.h"
#include "clock.h"
#include "pki.h"
#include "store_returns.h"
#include "store_rollup.h"

#define MODES 2
/* Part of the basis: change it with the layout or meaning of buckets, and databases rebuild. */
#define BASIS_TAG "yuebao rollup 1"

/* The elements of a basis: code <-> index, and which are `last`. */
struct elem_ref {
	const char *code;
	size_t idx;
};

struct elements {
	size_t n;
	char **code;             /* by index */
	bool *last;              /* by index */
	struct elem_ref *sorted; /* by code */
};

/* ---- elements --------------------------------------------------------------------------- */

static void elements_free(struct elements *el)
{
	for (size_t e = 0; el->code != NULL && e < el->n; e++)
		free(el->code[e]);
	free(el->code);
	free(el->last);
	free(el->sorted);
	memset(el, 0, sizeof(*el));
}

static int cmp_elem_ref(const void *a, const void *b)
{
	return strcmp(((const struct elem_ref *)a)->code, ((const struct elem_ref *)b)->code);
}

static int elements_alloc(struct elements *el, size_t n)
{
	el->n = n;
	el->code = calloc(n + 1, sizeof(*el->code));
	el->last = calloc(n + 1, sizeof(*el->last));
	el->sorted = calloc(n + 1, sizeof(*el->sorted));
	return el->code && el->last && el->sorted ? YB_OK : YB_ENOMEM;
}

static void elements_sort(struct elements *el)
{
	for (size_t e = 0; e < el->n; e++)
		el->sorted[e] = (struct elem_ref){el->code[e], e};
	qsort(el->sorted, el->n, sizeof(*el->sorted), cmp_elem_ref);
}

/* Index of code, or -1 for a code outside the basis. */
static int element_find(const struct elements *el, const char *code)
{
	struct elem_ref key = {code, 0};
	const struct elem_ref *hit =
	    bsearch(&key, el->sorted, el->n, sizeof(*el->sorted), cmp_elem_ref);

	return hit != NULL ? (int)hit->idx : -1;
}

static int elements_from_catalog(struct elements *el, const struct catalog *cat, struct errbuf *eb)
{
	if (elements_alloc(el, cat->n_elements) != YB_OK)
		goto nomem;
	for (size_t e = 0; e < cat->n_elements; e++) {
		if ((el->code[e] = strdup(cat->elements[e].code)) == NULL)
			goto nomem;
		el->last[e] = cat->elements[e].agg == CATALOG_LAST;
	}
	elements_sort(el);
	return YB_OK;
nomem:
	elements_free(el);
	return status_fail(eb, YB_ENOMEM, "out of memory");
}

static int on_stored_element(void *ctx, int idx, const char *code, bool last)
{
	struct elements *el = ctx;

	if (idx < 0 || (size_t)idx >= el->n || el->code[idx] != NULL)
		return YB_DATA_LOSS;
	if ((el->code[idx] = strdup(code)) == NULL)
		return YB_ENOMEM;
	el->last[idx] = last;
	return YB_OK;
}

/* The elements the stored buckets were built with (rollup_elements). */
static int elements_from_store(struct elements *el, struct store *s, size_t n, struct errbuf *eb)
{
	int rc;

	if (elements_alloc(el, n) != YB_OK) {
		elements_free(el);
		return status_fail(eb, YB_ENOMEM, "out of memory");
	}
	rc = store_rollup_elements(s, on_stored_element, el, eb);
	for (size_t e = 0; rc == YB_OK && e < n; e++)
		if (el->code[e] == NULL)
			rc = YB_DATA_LOSS;
	if (rc == YB_ENOMEM)
		status_fail(eb, rc, "out of memory");
	else if (rc == YB_DATA_LOSS)
		status_fail(eb, rc, "the pre-aggregates' element list is damaged");
	if (rc != YB_OK) {
		elements_free(el);
		return rc;
	}
	elements_sort(el);
	return YB_OK;
}

static int damaged(struct errbuf *eb, int mode, const char *node, int month, int next)
{
	return status_fail(eb, YB_DATA_LOSS,
	                   "pre-aggregate (mode %d, %s, month %d, next %d) is damaged", mode, node,
	                   month, next);
}

/* Writes every non-empty bucket of bs as (mode, node, ...). */
static int write_buckets(struct store *s, int mode, const char *node, const struct bucket_list *bs,
                         size_t *written, struct errbuf *eb)
{
	uint8_t *buf = malloc(bucket_encoded_max(bs->n_elements));
	int rc = YB_OK;

	if (buf == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	for (size_t i = 0; rc == YB_OK && i < bs->n; i++) {
		const struct bucket *b = &bs->b[i];
		if (bucket_vec_empty(&b->v, bs->n_elements))
			continue;
		rc = store_rollup_bucket_put(s, mode, node, b->month, b->next, buf,
		                             bucket_encode(&b->v, bs->n_elements, buf), eb);
		(*written)++;
	}
	free(buf);
	return rc;
}

/* ---- basis --------------------------------------------------------------------------------- */

static int compute_basis(const struct orgtree *orgs, const struct catalog *cat, char out[65],
                         struct errbuf *eb)
{
	size_t len = sizeof(BASIS_TAG) + 66, off;
	char *text;

	for (size_t e = 0; e < cat->n_elements; e++)
		len += strlen(cat->elements[e].code) + 6;
	if ((text = malloc(len + 1)) == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	off = (size_t)snprintf(text, len + 1, "%s\n%s\n", BASIS_TAG, orgs->shape);
	for (size_t e = 0; e < cat->n_elements; e++)
		off += (size_t)snprintf(text + off, len + 1 - off, "%s %s\n", cat->elements[e].code,
		                        cat->elements[e].agg == CATALOG_LAST ? "last" : "sum");
	hash_sha256_hex(text, off, out);
	free(text);
	return YB_OK;
}

/*
 * The inputs and result of the last basis computed. Every submission's
 * outlier check and every consolidation asks for the basis of the loaded
 * tree and catalog, and comparing 81 codes costs a tenth of formatting and
 * hashing them again. The whole input is compared, not the pointers, as a
 * reloaded tree or catalog may reuse the addresses of the old one.
 */
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char shape[65];
	struct elements el; /* codes and aggregation, in the catalog's order; sorted unused */
	char basis[65];
} memo;

/* Whether memo holds the basis of orgs and cat. Called under memo_lock. */
static bool memo_holds(const struct orgtree *orgs, const struct catalog *cat)
{
	if (memo.el.code == NULL || memo.el.n != cat->n_elements ||
	    strcmp(memo.shape, orgs->shape) != 0)
		return false;
	for (size_t e = 0; e < cat->n_elements; e++)
		if (memo.el.last[e] != (cat->elements[e].agg == CATALOG_LAST) ||
		    strcmp(memo.el.code[e], cat->elements[e].code) != 0)
			return false;
	return true;
}

int rollup_basis(const struct orgtree *orgs, const struct catalog *cat, char out[65],
                 struct errbuf *eb)
{
	struct elements el = {0};
	int rc;

	pthread_mutex_lock(&memo_lock);
	if (memo_holds(orgs, cat)) {
		memcpy(out, memo.basis, sizeof(memo.basis));
		pthread_mutex_unlock(&memo_lock);
		return YB_OK;
	}
	pthread_mutex_unlock(&memo_lock);
	if ((rc = compute_basis(orgs, cat, out, eb)) != YB_OK)
		return rc;
	/* Remembered when it can be; the answer stands either way. */
	if (elements_from_catalog(&el, cat, NULL) == YB_OK) {
		pthread_mutex_lock(&memo_lock);
		elements_free(&memo.el);
		memo.el = el;
		snprintf(memo.shape, sizeof(memo.shape), "%s", orgs->shape);
		memcpy(memo.basis, out, sizeof(memo.basis));
		pthread_mutex_unlock(&memo_lock);
	}
	return YB_OK;
}

/* ---- rebuild ------------------------------------------------------------------------------- */

struct month_rev {
	int month;
	uint32_t revision;
};

/* What a rebuild reads of one unit. */
struct unit_read {
	struct month_rev *months;
	size_t n, cap;
	const struct elements *el;
	struct bucket_list *acc;
	int *next; /* per element: the next month with a value, while going back in time */
	int month;
};

static int on_effective_month(void *ctx, int month, uint32_t revision)
{
	struct unit_read *ur = ctx;
	void *p = array_reserve(ur->months, &ur->cap, ur->n + 1, sizeof(*ur->months), 32);

	if (p == NULL)
		return YB_ENOMEM;
	ur->months = p;
	ur->months[ur->n++] = (struct month_rev){month, revision};
	return YB_OK;
}

static int on_own_value(void *ctx, const char *code, int64_t value)
{
	struct unit_read *ur = ctx;
	int e = element_find(ur->el, code);
	int rc;

	if (e < 0)
		return YB_OK; /* no longer in the catalog */
	if (!ur->el->last[e])
		return bucket_add(ur->acc, ur->month, 0, (size_t)e, 1, value);
	rc = bucket_add(ur->acc, ur->month, ur->next[e], (size_t)e, 1, value);
	ur->next[e] = ur->month;
	return rc;
}

/* Adds the effective returns of unit u itself (mode) into ur->acc. */
static int add_own(struct store *s, const struct orgtree *orgs, int mode, int u,
                   struct unit_read *ur, size_t *returns, struct errbuf *eb)
{
	bool leaf = orgtree_is_leaf(orgs, u);
	const char *code = orgs->units[u].code;
	yb_status rc;

	ur->n = 0;
	if ((rc = store_rollup_months(s, mode, code, on_effective_month, ur, eb)) != YB_OK)
		return rc == YB_ENOMEM ? status_fail(eb, rc, "out of memory") : rc;
	for (size_t e = 0; e < ur->el->n; e++)
		ur->next[e] = ROLLUP_NO_NEXT;
	*returns += ur->n;
	/* Latest month first, so each `last` value knows the next month that has one. */
	for (size_t i = ur->n; i-- > 0;) {
		ur->month = ur->months[i].month;
		if (leaf) {
			struct bucket_vec *v = bucket_at(ur->acc, ur->month, 0);
			if (v == NULL)
				return status_fail(eb, YB_ENOMEM, "out of memory");
			v->present++;
		}
		rc = store_revision_values(s, (struct return_key){code, ur->month},
		                           ur->months[i].revision, on_own_value, ur, eb);
		if (rc != YB_OK)
			return rc == YB_ENOMEM ? status_fail(eb, rc, "out of memory") : rc;
	}
	return YB_OK;
}

static int merge_into(struct bucket_list *dst, const struct bucket_list *src)
{
	for (size_t i = 0; i < src->n; i++) {
		struct bucket_vec *v = bucket_at(dst, src->b[i].month, src->b[i].next);
		if (v == NULL)
			return YB_ENOMEM;
		bucket_vec_add(v, &src->b[i].v, src->n_elements);
	}
	return YB_OK;
}

/*
 * Builds the buckets of one mode. The units are in pre-order, so the stack
 * holds the path from the root to the current unit: a unit's buckets are
 * complete, written and added to its parent's when the walk leaves its
 * subtree.
 */
static int build_mode(struct store *s, const struct orgtree *orgs, const struct elements *el,
                      int mode, struct rollup_stats *st, struct errbuf *eb)
{
	struct bucket_list *stack = calloc(orgs->n + 1, sizeof(*stack));
	int *units = calloc(orgs->n + 1, sizeof(*units));
	struct unit_read ur = {.el = el};
	size_t depth = 0;
	int rc = YB_OK;

	if (stack == NULL || units == NULL ||
	    (ur.next = calloc(el->n + 1, sizeof(*ur.next))) == NULL) {
		rc = status_fail(eb, YB_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t u = 0; u <= orgs->n; u++) {
		while (depth > 0 && (u == orgs->n || (int)u > orgs->units[units[depth - 1]].last)) {
			struct bucket_list *top = &stack[--depth];
			rc = write_buckets(s, mode, orgs->units[units[depth]].code, top,
			                   &st->buckets, eb);
			if (rc == YB_OK && depth > 0 && merge_into(&stack[depth - 1], top) != YB_OK)
				rc = status_fail(eb, YB_ENOMEM, "out of memory");
			bucket_list_free(top);
			if (rc != YB_OK)
				goto done;
		}
		if (u == orgs->n)
			break;
		units[depth] = (int)u;
		stack[depth] = (struct bucket_list){.n_elements = el->n};
		ur.acc = &stack[depth++];
		if ((rc = add_own(s, orgs, mode, (int)u, &ur, &st->returns[mode], eb)) != YB_OK)
			goto done;
	}
done:
	while (stack != NULL && depth > 0)
		bucket_list_free(&stack[--depth]);
	free(stack);
	free(units);
	free(ur.months);
	free(ur.next);
	return rc;
}

int rollup_rebuild(struct store *s, const struct orgtree *orgs, const struct catalog *cat,
                   struct rollup_stats *stats, struct errbuf *eb)
{
	struct rollup_stats st = {.units = orgs->n};
	struct elements el = {0};
	struct timespec t0, t1;
	char basis[65];
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = rollup_basis(orgs, cat, basis, eb)) != YB_OK ||
	    (rc = elements_from_catalog(&el, cat, eb)) != YB_OK ||
	    (rc = store_rollup_reset(s, basis, el.n, eb)) != YB_OK)
		goto done;
	for (size_t e = 0; e < el.n; e++)
		if ((rc = store_rollup_add_element(s, (int)e, el.code[e], el.last[e], eb)) != YB_OK)
			goto done;
	for (size_t u = 0; u < orgs->n; u++) {
		const struct org_unit *unit = &orgs->units[u];
		if ((rc = store_rollup_add_unit(
		         s, unit->code, orgtree_is_leaf(orgs, (int)u),
		         unit->parent >= 0 ? orgs->units[unit->parent].code : "", eb)) != YB_OK)
			goto done;
	}
	for (int mode = 0; mode < MODES; mode++)
		if ((rc = build_mode(s, orgs, &el, mode, &st, eb)) != YB_OK)
			goto done;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st.ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (stats != NULL)
		*stats = st;
done:
	elements_free(&el);
	return rc;
}

int rollup_sync(struct store *s, const struct orgtree *orgs, const struct catalog *cat,
                rollup_log_fn log, struct errbuf *eb)
{
	struct rollup_stats st;
	char want[65], have[65];
	const char *why;
	size_t n;
	bool pending;
	int rc;

	if ((rc = rollup_basis(orgs, cat, want, eb)) != YB_OK ||
	    (rc = store_rollup_state(s, have, &n, &pending, eb)) != YB_OK)
		return rc;
	if (strcmp(want, have) == 0 && !pending)
		return YB_OK;
	why = have[0] == '\0'           ? "there were none"
	      : strcmp(want, have) != 0 ? "the org tree's shape or the catalog's elements changed"
	                                : "returns were written without updating them";
	if ((rc = rollup_rebuild(s, orgs, cat, &st, eb)) != YB_OK)
		return rc;
	if (log != NULL)
		log("consolidation pre-aggregates rebuilt (%s): %zu org units, %zu returns (%zu "
		    "accepted), %zu rows, %lld ms",
		    why, st.units, st.returns[0], st.returns[1], st.buckets, (long long)st.ms);
	return YB_OK;
}

/* ---- refresh -------------------------------------------------------------------------------- */

/* The values of one revision, dense by element index. */
struct values {
	const struct elements *el;
	int64_t *v;
	bool *has;
};

static int on_value(void *ctx, const char *code, int64_t value)
{
	struct values *vs = ctx;
	int e = element_find(vs->el, code);

	if (e >= 0) {
		vs->v[e] = value;
		vs->has[e] = true;
	}
	return YB_OK;
}

static int load_values(struct store *s, const char *org, int month, uint32_t revision,
                       struct values *vs, struct errbuf *eb)
{
	memset(vs->has, 0, vs->el->n * sizeof(*vs->has));
	if (revision == 0)
		return YB_OK;
	return store_revision_values(s, (struct return_key){org, month}, revision, on_value, vs,
	                             eb);
}

/*
 * The change to the buckets of org and its ancestors (mode) when the effective
 * revision of (org, month) goes from `was` to `now` (either may be 0). For a
 * `last` element e with the next month n that has e (after month) and the
 * previous one p (before it): the old value leaves (month, n), the new one
 * enters it, and when month gains or loses e, p's value moves between
 * (p, month) and (p, n).
 */
static int compute_delta(struct store *s, const struct elements *el, int mode, const char *org,
                         int month, bool leaf, uint32_t was, uint32_t now,
                         struct bucket_list *delta, struct errbuf *eb)
{
	struct values old = {el, NULL, NULL}, cur = {el, NULL, NULL};
	struct bucket_vec *v0;
	int rc = YB_ENOMEM;

	if ((old.v = calloc(el->n + 1, sizeof(int64_t))) == NULL ||
	    (old.has = calloc(el->n + 1, sizeof(bool))) == NULL ||
	    (cur.v = calloc(el->n + 1, sizeof(int64_t))) == NULL ||
	    (cur.has = calloc(el->n + 1, sizeof(bool))) == NULL ||
	    (v0 = bucket_at(delta, month, 0)) == NULL)
		goto done;
	if (leaf)
		v0->present = (now > 0) - (was > 0);
	if ((rc = load_values(s, org, month, was, &old, eb)) != YB_OK ||
	    (rc = load_values(s, org, month, now, &cur, eb)) != YB_OK)
		goto done;
	for (size_t e = 0; e < el->n && rc == YB_OK; e++) {
		int next = ROLLUP_NO_NEXT, prev;
		int64_t ignored, pv;
		if (!old.has[e] && !cur.has[e])
			continue;
		if (!el->last[e]) {
			if (old.has[e])
				rc = bucket_add(delta, month, 0, e, -1, -(__int128)old.v[e]);
			if (rc == YB_OK && cur.has[e])
				rc = bucket_add(delta, month, 0, e, 1, cur.v[e]);
			continue;
		}
		rc = store_rollup_neighbour(s, mode, org, month, el->code[e], true, &next, &ignored,
		                            eb);
		if (rc == YB_NOT_FOUND) {
			next = ROLLUP_NO_NEXT;
			rc = YB_OK;
		}
		if (rc == YB_OK && old.has[e])
			rc = bucket_add(delta, month, next, e, -1, -(__int128)old.v[e]);
		if (rc == YB_OK && cur.has[e])
			rc = bucket_add(delta, month, next, e, 1, cur.v[e]);
		if (rc != YB_OK || old.has[e] == cur.has[e])
			continue;
		rc =
		    store_rollup_neighbour(s, mode, org, month, el->code[e], false, &prev, &pv, eb);
		if (rc == YB_NOT_FOUND) {
			rc = YB_OK;
			continue;
		}
		if (rc == YB_OK)
			rc = bucket_add(delta, prev, old.has[e] ? month : next, e, -1,
			                -(__int128)pv);
		if (rc == YB_OK)
			rc = bucket_add(delta, prev, cur.has[e] ? month : next, e, 1, pv);
	}
done:
	if (rc == YB_ENOMEM)
		status_fail(eb, rc, "out of memory");
	free(old.v);
	free(old.has);
	free(cur.v);
	free(cur.has);
	return rc;
}

/* Adds delta to the stored buckets of node. v and buf are scratch space. */
static int apply_delta(struct store *s, int mode, const char *node, const struct bucket_list *delta,
                       struct bucket_vec *v, uint8_t *buf, struct errbuf *eb)
{
	size_t n = delta->n_elements;
	uint8_t *data = NULL;
	int rc = YB_OK;

	for (size_t i = 0; i < delta->n && rc == YB_OK; i++) {
		const struct bucket *d = &delta->b[i];
		size_t len;
		if (bucket_vec_empty(&d->v, n))
			continue;
		bucket_vec_zero(v, n);
		rc = store_rollup_bucket_get(s, mode, node, d->month, d->next, &data, &len, eb);
		if (rc == YB_OK && bucket_vec_add_stored(v, n, data, len) != YB_OK)
			rc = damaged(eb, mode, node, d->month, d->next);
		free(data);
		data = NULL;
		if (rc != YB_OK && rc != YB_NOT_FOUND)
			break;
		bucket_vec_add(v, &d->v, n);
		rc = store_rollup_bucket_put(s, mode, node, d->month, d->next, buf,
		                             bucket_vec_empty(v, n) ? 0 : bucket_encode(v, n, buf),
		                             eb);
	}
	return rc;
}

/* Adds delta to the buckets of org and of each of its ancestors, up to the root. */
static int apply_upwards(struct store *s, int mode, const char *org,
                         const struct bucket_list *delta, struct errbuf *eb)
{
	uint8_t *buf = malloc(bucket_encoded_max(delta->n_elements));
	char *node = strdup(org), *parent = NULL;
	struct bucket_vec v = {0};
	bool leaf;
	int rc = YB_OK;

	if (buf == NULL || node == NULL || bucket_vec_alloc(&v, delta->n_elements) != YB_OK) {
		rc = status_fail(eb, YB_ENOMEM, "out of memory");
		goto done;
	}
	while (rc == YB_OK && node[0] != '\0') {
		if ((rc = apply_delta(s, mode, node, delta, &v, buf, eb)) != YB_OK ||
		    (rc = store_rollup_unit(s, node, &leaf, &parent, eb)) != YB_OK)
			break;
		free(node);
		node = parent;
		parent = NULL;
	}
	if (rc == YB_NOT_FOUND)
		rc = damaged(eb, mode, node, 0, 0); /* an ancestor missing from rollup_units */
done:
	bucket_vec_free(&v);
	free(buf);
	free(node);
	return rc;
}

/* Brings the effective revisions of (org, month) and the buckets up to date. */
static int apply_change(struct store *s, const struct elements *el, const char *org, int month,
                        struct errbuf *eb)
{
	uint32_t now[MODES], was;
	char *parent = NULL;
	bool leaf = false, known;
	int rc;

	if ((rc = store_rollup_effective_now(s, org, month, now, eb)) != YB_OK)
		return rc;
	rc = store_rollup_unit(s, org, &leaf, &parent, eb);
	free(parent);
	if (rc != YB_OK && rc != YB_NOT_FOUND)
		return rc;
	known = rc == YB_OK; /* a unit outside the tree counts nowhere */
	rc = YB_OK;
	for (int mode = 0; mode < MODES && rc == YB_OK; mode++) {
		struct bucket_list delta = {.n_elements = el->n};
		if ((rc = store_rollup_effective_get(s, mode, org, month, &was, eb)) != YB_OK)
			break;
		if (was == now[mode])
			continue;
		if ((rc = store_rollup_effective_set(s, mode, org, month, now[mode], eb)) !=
		        YB_OK ||
		    !known)
			continue;
		rc = compute_delta(s, el, mode, org, month, leaf, was, now[mode], &delta, eb);
		if (rc == YB_OK)
			rc = apply_upwards(s, mode, org, &delta, eb);
		bucket_list_free(&delta);
	}
	return rc;
}

/*
 * The element list of the basis refreshed last. A basis is a hash of the
 * element codes and their aggregation, in order, so it determines the list:
 * the refresh after every write need not read it again. Used under
 * known_lock for the whole refresh.
 */
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char basis[65];
	struct elements el;
} known;

int rollup_refresh(struct store *s, struct errbuf *eb)
{
	char basis[65], *org = NULL;
	size_t n;
	bool pending;
	int month, rc;

	if ((rc = store_rollup_state(s, basis, &n, &pending, eb)) != YB_OK || !pending ||
	    basis[0] == '\0')
		return rc;
	pthread_mutex_lock(&known_lock);
	if (strcmp(known.basis, basis) != 0 || known.el.n != n) {
		elements_free(&known.el);
		known.basis[0] = '\0';
		if ((rc = elements_from_store(&known.el, s, n, eb)) == YB_OK)
			memcpy(known.basis, basis, sizeof(basis));
	}
	if (rc == YB_OK) {
		while ((rc = store_rollup_pending(s, &org, &month, eb)) == YB_OK) {
			rc = apply_change(s, &known.el, org, month, eb);
			if (rc == YB_OK)
				rc = store_rollup_pending_done(s, org, month, eb);
			free(org);
			org = NULL;
			if (rc != YB_OK)
				break;
		}
	}
	pthread_mutex_unlock(&known_lock);
	/*
	 * Damaged derived data must not refuse a return: drop it all, so that
	 * queries read the returns until the next rollup_sync builds it again.
	 */
	if (rc == YB_DATA_LOSS)
		rc = store_rollup_reset(s, NULL, 0, eb);
	return rc == YB_NOT_FOUND ? YB_OK : rc;
}

/* ---- queries ------------------------------------------------------------------------------- */

int rollup_usable(struct store *s, const struct orgtree *orgs, const struct catalog *cat,
                  bool *usable, struct errbuf *eb)
{
	char want[65], have[65];
	size_t n;
	bool pending;
	int rc;

	*usable = false;
	if ((rc = rollup_basis(orgs, cat, want, eb)) != YB_OK ||
	    (rc = store_rollup_state(s, have, &n, &pending, eb)) != YB_OK)
		return rc;
	*usable = strcmp(want, have) == 0 && n == cat->n_elements && !pending;
	return YB_OK;
}

struct read_ctx {
	size_t n;
	int mode, first, last;
	const char *node;
	struct rollup_acc *total, *months;
	struct errbuf *eb;
};

static int acc_add(struct rollup_acc *a, size_t e, int64_t count, __int128 sum)
{
	__int128 r = (__int128)a->sum[e] + sum;

	if (r > INT64_MAX || r < INT64_MIN)
		return YB_OUT_OF_RANGE;
	a->sum[e] = (int64_t)r;
	if (count > 0)
		a->has[e] = true;
	return YB_OK;
}

static int on_bucket(void *ctx, int month, int next, const void *data, size_t len)
{
	struct read_ctx *rd = ctx;
	struct rollup_acc *t = next == 0 || next > rd->last ? rd->total : NULL;
	struct rollup_acc *m = rd->months != NULL ? &rd->months[month - rd->first] : NULL;
	struct bucket_reader r;
	int64_t present, count;
	__int128 sum;
	size_t e;
	int got;

	if (!bucket_read_head(&r, data, len, rd->n, &present))
		return damaged(rd->eb, rd->mode, rd->node, month, next);
	if (t != NULL)
		t->present += (uint32_t)present;
	if (m != NULL)
		m->present += (uint32_t)present;
	while ((got = bucket_read_entry(&r, &e, &count, &sum)) > 0)
		if ((t != NULL && acc_add(t, e, count, sum) != YB_OK) ||
		    (m != NULL && acc_add(m, e, count, sum) != YB_OK))
			return YB_OUT_OF_RANGE;
	return got == 0 ? YB_OK : damaged(rd->eb, rd->mode, rd->node, month, next);
}

int rollup_read(struct store *s, bool accepted_only, const char *node, int first, int last,
                size_t n_elements, struct rollup_acc *total, struct rollup_acc *months,
                struct errbuf *eb)
{
	struct read_ctx rd = {n_elements, accepted_only ? 1 : 0, first, last, node, total, months,
	                      eb};

	/* One-month groups need every bucket of their month; the total only next = 0 or > last. */
	return store_rollup_buckets(s, rd.mode, node, first, last, months != NULL ? 0 : last,
	                            on_bucket, &rd, eb);
}
