/*
 * orgtree.c - loading and querying the org tree.
 *
 * Units are stored in pre-order so that a subtree is one contiguous index
 * range; lookups by code go through a sorted index. Loading is O(n log n)
 * and never recursive, so a large or adversarially deep file is safe.
 */
#include "orgtree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "pki.h"
#include "sheet.h"

#define ORGTREE_MAX_UNITS 100000

struct orgtree_ref {
	const char *code;
	int idx;
};

static int cmp_ref(const void *a, const void *b)
{
	return strcmp(((const struct orgtree_ref *)a)->code, ((const struct orgtree_ref *)b)->code);
}

static int find_ref(const struct orgtree_ref *refs, size_t n, const char *code)
{
	struct orgtree_ref key = {code, -1};
	const struct orgtree_ref *hit = bsearch(&key, refs, n, sizeof(*refs), cmp_ref);
	return hit ? hit->idx : -1;
}

/* A row as read, before ordering. */
struct raw_unit {
	const char *code, *name, *parent;
	size_t line;
	int parent_idx;
	int first_child, next_sibling; /* raw indices, -1 for none */
	int pos;                       /* pre-order position, -1 until placed */
};

/* Reads the rows and checks each on its own: codes, names, duplicates. */
static int read_rows(const char *path, const struct sheet *s, struct raw_unit *raw, size_t nraw,
                     struct orgtree_ref *refs, struct errbuf *eb)
{
	int ccode = sheet_find_col(s, "code");
	int cname = sheet_find_col(s, "name");
	int cparent = sheet_find_col(s, "parent");

	if (ccode < 0 || cname < 0 || cparent < 0)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   "%s: the header must have the columns code,name,parent", path);
	for (size_t i = 0; i < nraw; i++) {
		struct raw_unit *r = &raw[i];
		r->code = sheet_cell(s, i + 1, (size_t)ccode);
		r->name = sheet_cell(s, i + 1, (size_t)cname);
		r->parent = sheet_cell(s, i + 1, (size_t)cparent);
		r->line = sheet_line(s, i + 1);
		r->parent_idx = r->first_child = r->next_sibling = r->pos = -1;
		if (!pki_valid_org_code(r->code))
			return status_fail(
			    eb, YB_INVALID_ARGUMENT,
			    "%s: line %zu: org code '%s' is not 2 to 32 of A-Z 0-9 -", path,
			    r->line, r->code);
		if (r->name[0] == '\0')
			return status_fail(eb, YB_INVALID_ARGUMENT, "%s: line %zu: %s has no name",
			                   path, r->line, r->code);
		refs[i].code = r->code;
		refs[i].idx = (int)i;
	}
	qsort(refs, nraw, sizeof(*refs), cmp_ref);
	for (size_t i = 1; i < nraw; i++)
		if (strcmp(refs[i - 1].code, refs[i].code) == 0) {
			const struct raw_unit *a = &raw[refs[i - 1].idx], *b = &raw[refs[i].idx];
			return status_fail(eb, YB_INVALID_ARGUMENT,
			                   "%s: line %zu: org code %s already on line %zu", path,
			                   a->line > b->line ? a->line : b->line, a->code,
			                   a->line > b->line ? b->line : a->line);
		}
	return YB_OK;
}

/* Resolves parents, finds the single root and links children in file order. */
static int link_rows(const char *path, struct raw_unit *raw, size_t nraw,
                     const struct orgtree_ref *refs, int *root, struct errbuf *eb)
{
	*root = -1;
	for (size_t i = nraw; i-- > 0;) {
		struct raw_unit *r = &raw[i];
		if (r->parent[0] == '\0')
			continue;
		r->parent_idx = find_ref(refs, nraw, r->parent);
		if (r->parent_idx < 0)
			return status_fail(eb, YB_INVALID_ARGUMENT,
			                   "%s: line %zu: parent '%s' of %s is not in the file",
			                   path, r->line, r->parent, r->code);
		/* Walking backwards and prepending keeps children in file order. */
		r->next_sibling = raw[r->parent_idx].first_child;
		raw[r->parent_idx].first_child = (int)i;
	}
	for (size_t i = 0; i < nraw; i++) {
		if (raw[i].parent[0] != '\0')
			continue;
		if (*root >= 0)
			return status_fail(eb, YB_INVALID_ARGUMENT,
			                   "%s: line %zu: %s is a second root (no parent) after %s",
			                   path, raw[i].line, raw[i].code, raw[*root].code);
		*root = (int)i;
	}
	if (*root < 0)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   "%s: no root (a unit with an empty parent)", path);
	return YB_OK;
}

/* Lays the tree out in pre-order with an explicit stack. */
static int place_units(struct orgtree *t, struct raw_unit *raw, int root, int *stack)
{
	int sp = 0;

	stack[sp++] = root;
	while (sp > 0) {
		int r = stack[--sp];
		struct org_unit *u = &t->units[t->n];
		int c, k, nc = 0;

		raw[r].pos = (int)t->n++;
		u->code = strdup(raw[r].code);
		u->name = strdup(raw[r].name);
		if (u->code == NULL || u->name == NULL)
			return YB_ENOMEM;
		u->parent = raw[r].parent_idx < 0 ? -1 : raw[raw[r].parent_idx].pos;
		u->depth = u->parent < 0 ? 0 : t->units[u->parent].depth + 1;
		/* Push children reversed so the first child is placed next. */
		for (c = raw[r].first_child; c >= 0; c = raw[c].next_sibling)
			nc++;
		for (c = raw[r].first_child, k = nc; c >= 0; c = raw[c].next_sibling)
			stack[sp + --k] = c; /* the first child ends on top */
		sp += nc;
	}
	return YB_OK;
}

/* Fills first/last intervals and the children arrays from parent links. */
static int finish_links(struct orgtree *t)
{
	for (size_t i = 0; i < t->n; i++)
		t->units[i].first = t->units[i].last = (int)i;
	for (size_t i = t->n; i-- > 0;) {
		struct org_unit *u = &t->units[i];
		if (u->parent >= 0) {
			struct org_unit *p = &t->units[u->parent];
			if (p->last < u->last)
				p->last = u->last;
			p->n_children++;
		}
	}
	for (size_t i = 0; i < t->n; i++) {
		struct org_unit *u = &t->units[i];
		if (u->n_children > 0 && (u->children = calloc(u->n_children, sizeof(int))) == NULL)
			return YB_ENOMEM;
		u->n_children = 0;
	}
	for (size_t i = 0; i < t->n; i++) {
		struct org_unit *u = &t->units[i];
		if (u->parent >= 0) {
			struct org_unit *p = &t->units[u->parent];
			p->children[p->n_children++] = (int)i;
		}
	}
	if ((t->by_code = calloc(t->n, sizeof(*t->by_code))) == NULL)
		return YB_ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		t->by_code[i].code = t->units[i].code;
		t->by_code[i].idx = (int)i;
	}
	qsort(t->by_code, t->n, sizeof(*t->by_code), cmp_ref);
	return YB_OK;
}

/* t->shape: "code parent\n" for every unit, by code, hashed. */
static int shape_digest(struct orgtree *t)
{
	size_t len = 0, off = 0;
	char *text;

	for (size_t i = 0; i < t->n; i++)
		len += strlen(t->units[i].code) + 1 +
		       (t->units[i].parent >= 0 ? strlen(t->units[t->units[i].parent].code) : 0) +
		       1;
	if ((text = malloc(len + 1)) == NULL)
		return YB_ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		const struct org_unit *u = &t->units[t->by_code[i].idx];
		off += (size_t)snprintf(text + off, len + 1 - off, "%s %s\n", u->code,
		                        u->parent >= 0 ? t->units[u->parent].code : "");
	}
	hash_sha256_hex(text, off, t->shape);
	free(text);
	return YB_OK;
}

int orgtree_load(const char *path, struct orgtree **out, struct errbuf *eb)
{
	struct sheet *s = NULL;
	struct orgtree *t = NULL;
	struct raw_unit *raw = NULL;
	struct orgtree_ref *refs = NULL;
	int *stack = NULL;
	char *text = NULL;
	size_t nraw, text_len = 0;
	int root, rc;

	/* Parse the very bytes that are kept, so the recorded load is what is used. */
	if ((rc = sheet_read_file(path, &text, &text_len, eb)) != YB_OK)
		return rc;
	if ((rc = sheet_load_mem(text, text_len, path, &s, eb)) != YB_OK) {
		free(text);
		return rc;
	}
	nraw = sheet_rows(s) - 1;
	if (nraw == 0 || nraw > ORGTREE_MAX_UNITS) {
		rc = status_fail(eb, YB_INVALID_ARGUMENT, "%s: %zu org units (need 1 to %d)", path,
		                 nraw, ORGTREE_MAX_UNITS);
		goto done;
	}
	raw = calloc(nraw, sizeof(*raw));
	refs = calloc(nraw, sizeof(*refs));
	stack = calloc(nraw, sizeof(int));
	t = calloc(1, sizeof(*t));
	if (raw == NULL || refs == NULL || stack == NULL || t == NULL ||
	    (t->units = calloc(nraw, sizeof(*t->units))) == NULL) {
		rc = status_fail(eb, YB_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = read_rows(path, s, raw, nraw, refs, eb)) != YB_OK ||
	    (rc = link_rows(path, raw, nraw, refs, &root, eb)) != YB_OK)
		goto done;
	if ((rc = place_units(t, raw, root, stack)) != YB_OK) {
		status_fail(eb, rc, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < nraw; i++)
		if (raw[i].pos < 0) {
			rc = status_fail(eb, YB_INVALID_ARGUMENT,
			                 "%s: line %zu: %s is in a cycle, not under the root %s",
			                 path, raw[i].line, raw[i].code, raw[root].code);
			goto done;
		}
	if ((rc = finish_links(t)) != YB_OK || (rc = shape_digest(t)) != YB_OK) {
		status_fail(eb, rc, "out of memory");
		goto done;
	}
	t->text = text;
	t->text_len = text_len;
	text = NULL;
	hash_sha256_hex(t->text, t->text_len, t->digest);
	*out = t;
	t = NULL;
	rc = YB_OK;
done:
	orgtree_free(t);
	free(text);
	free(raw);
	free(refs);
	free(stack);
	sheet_free(s);
	return rc;
}

void orgtree_free(struct orgtree *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->units[i].code);
		free(t->units[i].name);
		free(t->units[i].children);
	}
	free(t->units);
	free(t->by_code);
	free(t->text);
	free(t);
}

int orgtree_find(const struct orgtree *t, const char *code)
{
	return find_ref(t->by_code, t->n, code);
}

bool orgtree_within(const struct orgtree *t, int u, int v)
{
	return u >= 0 && v >= 0 && t->units[v].first <= u && u <= t->units[v].last;
}

bool orgtree_is_leaf(const struct orgtree *t, int u)
{
	return t->units[u].n_children == 0;
}
