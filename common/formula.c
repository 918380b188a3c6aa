/*
 * formula.c - parser and exact evaluator for indicator formulas and
 * validation rules. The text is bounded (FORMULA_MAX_TEXT) and the parser's
 * recursion is bounded (MAX_DEPTH), so hostile catalog text can neither read
 * past its buffer nor exhaust the stack. Every node consumes at least one
 * byte of text, so all arrays are sized from the text length up front.
 */
#include "formula.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"

/* Deepest nesting of parentheses and unary minus accepted. */
#define MAX_DEPTH 64

/* Longest element code, in bytes. */
#define MAX_CODE 64

/* Longest integer part of a number literal (keeps it far inside 128 bits). */
#define MAX_INT_DIGITS 18

/* Most fraction digits of a number literal. */
#define MAX_FRAC_DIGITS 6

enum node_kind { N_NUM, N_VAR, N_NEG, N_ADD, N_SUB, N_MUL, N_DIV };

enum cmp_op { OP_LE, OP_LT, OP_EQ, OP_GE, OP_GT, OP_NE };

struct node {
	enum node_kind kind;
	int a, b;               /* children (or, for N_VAR, the index in codes) */
	struct dec_ratio value; /* N_NUM only */
};

struct formula {
	char *text;
	bool is_rule;
	enum cmp_op op;
	int root; /* expression root; for a rule, the left side */
	int rhs;  /* rule only: the right side */
	struct node *nodes;
	size_t nnodes, cap;
	const char **codes;
	size_t ncodes;
	char *pool; /* NUL-separated code strings that codes point into */
	size_t pool_used, pool_cap;
};

struct parser {
	const char *s;
	size_t n, pos;
	int depth;
	struct formula *f;
	struct errbuf *eb;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident_start(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || is_digit(c) || c == '_';
}

static void skip_space(struct parser *p)
{
	while (p->pos < p->n && is_space(p->s[p->pos]))
		p->pos++;
}

static char peek(const struct parser *p)
{
	return p->pos < p->n ? p->s[p->pos] : '\0';
}

/* What is at the current position, for messages: "'x'", "byte 0xE5" or "end of text". */
static const char *found(const struct parser *p, char *buf, size_t len)
{
	unsigned char c;

	if (p->pos >= p->n)
		return _("end of text");
	c = (unsigned char)p->s[p->pos];
	if (c >= 0x21 && c < 0x7f)
		snprintf(buf, len, "'%c'", c);
	else
		snprintf(buf, len, _("byte 0x%02X"), c);
	return buf;
}

/* Fails at the current position (column = pos + 1) with "column N: <what>, found X". */
static int fail_expected(struct parser *p, const char *what)
{
	char buf[16];

	return status_fail(p->eb, YB_INVALID_ARGUMENT, _("column %zu: expected %s, found %s"),
	                   p->pos + 1, what, found(p, buf, sizeof(buf)));
}

static int new_node(struct parser *p, enum node_kind kind, int a, int b, int *out)
{
	struct node *nd;

	/* Unreachable by the one-byte-per-node argument; kept as a hard guard. */
	if (p->f->nnodes >= p->f->cap)
		return status_fail(p->eb, YB_INVALID_ARGUMENT, _("column %zu: formula too complex"),
		                   p->pos + 1);
	nd = &p->f->nodes[p->f->nnodes];
	nd->kind = kind;
	nd->a = a;
	nd->b = b;
	nd->value.num = 0;
	nd->value.den = 1;
	*out = (int)p->f->nnodes++;
	return YB_OK;
}

static int parse_expr(struct parser *p, int *out);

static int parse_number(struct parser *p, int *out)
{
	size_t start = p->pos;
	__int128 num = 0, den = 1;
	int nint = 0, nfrac = 0;
	struct dec_ratio r;
	int rc;

	while (p->pos < p->n && is_digit(p->s[p->pos])) {
		if (++nint > MAX_INT_DIGITS)
			return status_fail(p->eb, YB_INVALID_ARGUMENT,
			                   _("column %zu: number has more than %d digits before "
			                     "the decimal point"),
			                   start + 1, MAX_INT_DIGITS);
		num = num * 10 + (p->s[p->pos] - '0');
		p->pos++;
	}
	if (peek(p) == '.') {
		p->pos++;
		if (!is_digit(peek(p)))
			return fail_expected(p, _("a digit after '.'"));
		while (p->pos < p->n && is_digit(p->s[p->pos])) {
			if (++nfrac > MAX_FRAC_DIGITS)
				return status_fail(
				    p->eb, YB_INVALID_ARGUMENT,
				    _("column %zu: number has more than %d decimals"), start + 1,
				    MAX_FRAC_DIGITS);
			num = num * 10 + (p->s[p->pos] - '0');
			den *= 10;
			p->pos++;
		}
	}
	r.num = num;
	r.den = 1;
	/* Dividing by 10^k reduces the literal; it cannot fail for these sizes. */
	if (dec_ratio_div(r, dec_ratio_from_int((int64_t)den), &r) != YB_OK)
		return status_fail(p->eb, YB_INVALID_ARGUMENT, _("column %zu: bad number"),
		                   start + 1);
	if ((rc = new_node(p, N_NUM, -1, -1, out)) != YB_OK)
		return rc;
	p->f->nodes[*out].value = r;
	return YB_OK;
}

/* Index of code s[0..len) in f->codes, adding it if new. */
static int intern_code(struct parser *p, const char *s, size_t len, int *index)
{
	struct formula *f = p->f;
	size_t i;

	for (i = 0; i < f->ncodes; i++) {
		if (strlen(f->codes[i]) == len && memcmp(f->codes[i], s, len) == 0) {
			*index = (int)i;
			return YB_OK;
		}
	}
	/* Unreachable by the sizing argument; kept as a hard guard. */
	if (f->pool_used + len + 1 > f->pool_cap || f->ncodes >= f->cap)
		return status_fail(p->eb, YB_INVALID_ARGUMENT, _("formula too complex"));
	memcpy(f->pool + f->pool_used, s, len);
	f->pool[f->pool_used + len] = '\0';
	f->codes[f->ncodes] = f->pool + f->pool_used;
	f->pool_used += len + 1;
	*index = (int)f->ncodes++;
	return YB_OK;
}

static int parse_ident(struct parser *p, int *out)
{
	size_t start = p->pos;
	int idx = -1, rc;

	while (p->pos < p->n && is_ident_char(p->s[p->pos]))
		p->pos++;
	if (p->pos - start > MAX_CODE)
		return status_fail(p->eb, YB_INVALID_ARGUMENT,
		                   _("column %zu: element code longer than %d characters"),
		                   start + 1, MAX_CODE);
	if ((rc = intern_code(p, p->s + start, p->pos - start, &idx)) != YB_OK)
		return rc;
	return new_node(p, N_VAR, idx, -1, out);
}

static int enter(struct parser *p)
{
	if (++p->depth > MAX_DEPTH)
		return status_fail(p->eb, YB_INVALID_ARGUMENT,
		                   _("column %zu: nested deeper than %d levels"), p->pos + 1,
		                   MAX_DEPTH);
	return YB_OK;
}

/* unary := '-' unary | number | code | '(' expr ')' */
static int parse_unary(struct parser *p, int *out)
{
	char c;
	int rc, child;

	skip_space(p);
	c = peek(p);
	if (c == '-') {
		if ((rc = enter(p)) != YB_OK)
			return rc;
		p->pos++;
		if ((rc = parse_unary(p, &child)) != YB_OK)
			return rc;
		p->depth--;
		return new_node(p, N_NEG, child, -1, out);
	}
	if (c == '(') {
		size_t open = p->pos;
		if ((rc = enter(p)) != YB_OK)
			return rc;
		p->pos++;
		if ((rc = parse_expr(p, out)) != YB_OK)
			return rc;
		p->depth--;
		skip_space(p);
		if (peek(p) != ')') {
			char buf[16];
			return status_fail(p->eb, YB_INVALID_ARGUMENT,
			                   _("column %zu: expected ')' to close the '(' at column "
			                     "%zu, found %s"),
			                   p->pos + 1, open + 1, found(p, buf, sizeof(buf)));
		}
		p->pos++;
		return YB_OK;
	}
	if (is_digit(c))
		return parse_number(p, out);
	if (is_ident_start(c))
		return parse_ident(p, out);
	if (c >= 'A' && c <= 'Z')
		return status_fail(p->eb, YB_INVALID_ARGUMENT,
		                   _("column %zu: element codes are lower case, found '%c'"),
		                   p->pos + 1, c);
	return fail_expected(p, _("a number, an element code or '('"));
}

/* term := unary (('*' | '/') unary)* */
static int parse_term(struct parser *p, int *out)
{
	int rc, left, right;

	if ((rc = parse_unary(p, &left)) != YB_OK)
		return rc;
	for (;;) {
		char c;
		skip_space(p);
		c = peek(p);
		if (c != '*' && c != '/')
			break;
		p->pos++;
		if ((rc = parse_unary(p, &right)) != YB_OK ||
		    (rc = new_node(p, c == '*' ? N_MUL : N_DIV, left, right, &left)) != YB_OK)
			return rc;
	}
	*out = left;
	return YB_OK;
}

/* expr := term (('+' | '-') term)* */
static int parse_expr(struct parser *p, int *out)
{
	int rc, left, right;

	if ((rc = parse_term(p, &left)) != YB_OK)
		return rc;
	for (;;) {
		char c;
		skip_space(p);
		c = peek(p);
		if (c != '+' && c != '-')
			break;
		p->pos++;
		if ((rc = parse_term(p, &right)) != YB_OK ||
		    (rc = new_node(p, c == '+' ? N_ADD : N_SUB, left, right, &left)) != YB_OK)
			return rc;
	}
	*out = left;
	return YB_OK;
}

/* Reads a comparison operator at the current position; false if there is none. */
static bool read_cmp(struct parser *p, enum cmp_op *op)
{
	char c = peek(p);
	char d = p->pos + 1 < p->n ? p->s[p->pos + 1] : '\0';

	if (c == '<' && d == '=')
		*op = OP_LE;
	else if (c == '>' && d == '=')
		*op = OP_GE;
	else if (c == '!' && d == '=')
		*op = OP_NE;
	else if (c == '<')
		*op = OP_LT;
	else if (c == '>')
		*op = OP_GT;
	else if (c == '=')
		*op = OP_EQ;
	else
		return false;
	p->pos += (*op == OP_LE || *op == OP_GE || *op == OP_NE) ? 2 : 1;
	return true;
}

/* After a complete expression (or rule): only blanks may follow. */
static int expect_end(struct parser *p, bool rule)
{
	char c;
	enum cmp_op op;
	size_t at;

	skip_space(p);
	if (p->pos >= p->n)
		return YB_OK;
	at = p->pos;
	c = peek(p);
	if (c == ')')
		return status_fail(p->eb, YB_INVALID_ARGUMENT,
		                   _("column %zu: ')' without a matching '('"), p->pos + 1);
	if (!rule && read_cmp(p, &op)) {
		p->pos = at;
		return status_fail(p->eb, YB_INVALID_ARGUMENT,
		                   _("column %zu: a comparison is only allowed in a rule"),
		                   p->pos + 1);
	}
	return fail_expected(p, rule ? _("end of text") : _("an operator or end of text"));
}

static struct formula *formula_new(const char *text, size_t n)
{
	struct formula *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->cap = n + 1;
	f->pool_cap = 2 * n + 2;
	f->text = malloc(n + 1);
	f->nodes = calloc(f->cap, sizeof(*f->nodes));
	f->codes = calloc(f->cap, sizeof(*f->codes));
	f->pool = malloc(f->pool_cap);
	if (f->text == NULL || f->nodes == NULL || f->codes == NULL || f->pool == NULL) {
		formula_free(f);
		return NULL;
	}
	memcpy(f->text, text, n + 1);
	return f;
}

static int parse(const char *text, bool rule, struct formula **out, struct errbuf *eb)
{
	struct parser p = {0};
	struct formula *f;
	size_t n;
	int rc;

	if (text == NULL)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("column 1: formula is empty"));
	n = strnlen(text, FORMULA_MAX_TEXT + 1);
	if (n > FORMULA_MAX_TEXT)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("formula is longer than %d bytes"),
		                   FORMULA_MAX_TEXT);
	p.s = text;
	p.n = n;
	p.eb = eb;
	skip_space(&p);
	if (p.pos >= n)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("column %zu: formula is empty"),
		                   p.pos + 1);
	p.pos = 0;
	f = formula_new(text, n);
	if (f == NULL)
		return status_fail(eb, YB_ENOMEM, _("out of memory parsing a formula"));
	p.f = f;
	f->is_rule = rule;
	f->rhs = -1;
	if ((rc = parse_expr(&p, &f->root)) != YB_OK)
		goto fail;
	if (rule) {
		skip_space(&p);
		if (!read_cmp(&p, &f->op)) {
			rc = fail_expected(&p, _("a comparison (<= < = >= > !=)"));
			goto fail;
		}
		if ((rc = parse_expr(&p, &f->rhs)) != YB_OK)
			goto fail;
	}
	if ((rc = expect_end(&p, rule)) != YB_OK)
		goto fail;
	*out = f;
	return YB_OK;
fail:
	formula_free(f);
	return rc;
}

int formula_parse(const char *text, struct formula **out, struct errbuf *eb)
{
	return parse(text, false, out, eb);
}

int formula_parse_rule(const char *text, struct formula **out, struct errbuf *eb)
{
	return parse(text, true, out, eb);
}

void formula_free(struct formula *f)
{
	if (f == NULL)
		return;
	free(f->text);
	free(f->nodes);
	free(f->codes);
	free(f->pool);
	free(f);
}

bool formula_is_rule(const struct formula *f)
{
	return f != NULL && f->is_rule;
}

const char *formula_text(const struct formula *f)
{
	return f != NULL ? f->text : "";
}

size_t formula_codes(const struct formula *f, const char *const **codes)
{
	if (f == NULL) {
		if (codes != NULL)
			*codes = NULL;
		return 0;
	}
	if (codes != NULL)
		*codes = f->codes;
	return f->ncodes;
}

struct evalctx {
	const struct formula *f;
	formula_lookup_fn lookup;
	void *ctx;
};

static enum formula_result from_status(int rc)
{
	switch (rc) {
	case YB_OK:
		return FORMULA_VALUE;
	case YB_FAILED_PRECONDITION:
		return FORMULA_DIV_ZERO;
	default:
		/* Overflow, or an invalid value from lookup: either way no value. */
		return FORMULA_OVERFLOW;
	}
}

/* A missing operand outranks any other failure, whichever side it is on. */
static enum formula_result combine(enum formula_result l, enum formula_result r)
{
	if (l == FORMULA_MISSING || r == FORMULA_MISSING)
		return FORMULA_MISSING;
	return l != FORMULA_VALUE ? l : r;
}

/* Recursion depth is bounded by the node count, itself at most FORMULA_MAX_TEXT. */
static enum formula_result eval_node(const struct evalctx *e, int i, struct dec_ratio *out)
{
	const struct node *nd = &e->f->nodes[i];
	struct dec_ratio l, r, zero = {0, 1};
	enum formula_result res;
	int rc;

	switch (nd->kind) {
	case N_NUM:
		*out = nd->value;
		return FORMULA_VALUE;
	case N_VAR:
		if (e->lookup == NULL || !e->lookup(e->ctx, e->f->codes[nd->a], &l))
			return FORMULA_MISSING;
		/* Adding zero brings the caller's value to canonical form. */
		return from_status(dec_ratio_add(zero, l, out));
	case N_NEG:
		if ((res = eval_node(e, nd->a, &l)) != FORMULA_VALUE)
			return res;
		return from_status(dec_ratio_sub(zero, l, out));
	default:
		break;
	}
	res = combine(eval_node(e, nd->a, &l), eval_node(e, nd->b, &r));
	if (res != FORMULA_VALUE)
		return res;
	switch (nd->kind) {
	case N_ADD:
		rc = dec_ratio_add(l, r, out);
		break;
	case N_SUB:
		rc = dec_ratio_sub(l, r, out);
		break;
	case N_MUL:
		rc = dec_ratio_mul(l, r, out);
		break;
	default:
		rc = dec_ratio_div(l, r, out);
		break;
	}
	return from_status(rc);
}

enum formula_result formula_eval(const struct formula *f, formula_lookup_fn lookup, void *ctx,
                                 struct dec_ratio *out)
{
	struct evalctx e = {f, lookup, ctx};
	struct dec_ratio v;
	enum formula_result res;

	/* A rule has no value of its own; report it as having none. */
	if (f == NULL || f->is_rule)
		return FORMULA_MISSING;
	res = eval_node(&e, f->root, &v);
	if (res == FORMULA_VALUE)
		*out = v;
	return res;
}

enum formula_result formula_eval_rule(const struct formula *f, formula_lookup_fn lookup, void *ctx,
                                      bool *holds)
{
	struct evalctx e = {f, lookup, ctx};
	struct dec_ratio l, r;
	enum formula_result res;
	int c;

	if (f == NULL || !f->is_rule)
		return FORMULA_MISSING;
	res = combine(eval_node(&e, f->root, &l), eval_node(&e, f->rhs, &r));
	if (res != FORMULA_VALUE)
		return res;
	c = dec_ratio_cmp(l, r);
	switch (f->op) {
	case OP_LE:
		*holds = c <= 0;
		break;
	case OP_LT:
		*holds = c < 0;
		break;
	case OP_EQ:
		*holds = c == 0;
		break;
	case OP_GE:
		*holds = c >= 0;
		break;
	case OP_GT:
		*holds = c > 0;
		break;
	case OP_NE:
		*holds = c != 0;
		break;
	}
	return FORMULA_VALUE;
}
