/*
 * orgtree.h - the org tree: the central office at the root, branches below.
 *
 * Loaded from a CSV `code,name,parent` (parent empty for the one root) at
 * start and on SIGHUP. Immutable once loaded, so handlers share one tree
 * without locks while a reload builds the next.
 */
#ifndef YB_ORGTREE_H
#define YB_ORGTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

struct org_unit {
	char *code;
	char *name;
	int parent;    /* index, -1 for the root */
	int depth;     /* 0 for the root */
	int *children; /* indices, in file order */
	size_t n_children;
	int first,
	    last; /* pre-order interval: u is in v's subtree iff v.first <= u.first <= v.last */
};

struct orgtree {
	struct org_unit *units; /* in pre-order: a subtree is a contiguous range */
	size_t n;
	char digest[65]; /* hex SHA-256 of the file as loaded */
	char shape[65];  /* hex SHA-256 of every code with its parent's: not of names or order */
	char *text;      /* the file as loaded */
	size_t text_len;
	struct orgtree_ref *by_code; /* units sorted by code, for orgtree_find */
};

/*
 * Loads and checks a tree: header with code,name,parent; codes
 * [A-Z0-9-]{2,32} and unique; names non-empty; exactly one root; every
 * parent known; no cycles. Errors name the file, line and code
 * (YB_INVALID_ARGUMENT) or the file (YB_EIO). The caller owns *out.
 */
int orgtree_load(const char *path, struct orgtree **out, struct errbuf *eb);

/* Frees t; NULL is allowed. */
void orgtree_free(struct orgtree *t);

/* Index of the unit with this code, or -1. */
int orgtree_find(const struct orgtree *t, const char *code);

/* True when unit u is v itself or below v. */
bool orgtree_within(const struct orgtree *t, int u, int v);

/* True for a unit without children: the units expected to file returns. */
bool orgtree_is_leaf(const struct orgtree *t, int u);

#endif
