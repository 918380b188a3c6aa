/*
 * formula.h - the formula engine shared by indicators and validation rules.
 *
 * An expression is built of element codes ([a-z][a-z0-9_]*), decimal
 * numbers, + - * / and parentheses, with the usual precedence (unary minus
 * allowed). A rule is `expression op expression` with op one of
 * <= < = >= > != . Evaluation is exact (struct dec_ratio): a missing operand
 * makes the result missing; division by zero gives no value, never an error.
 */
#ifndef YB_FORMULA_H
#define YB_FORMULA_H

#include <stdbool.h>
#include <stddef.h>

#include "decimal.h"
#include "status.h"

/* Longest formula text accepted, in bytes. */
#define FORMULA_MAX_TEXT 1024

struct formula;

/* Outcome of an evaluation. */
enum formula_result {
	FORMULA_VALUE = 0,    /* *out holds the value */
	FORMULA_MISSING = 1,  /* an operand was not reported */
	FORMULA_DIV_ZERO = 2, /* a division by zero: no value */
	FORMULA_OVERFLOW = 3, /* an intermediate overflowed 128 bits: no value */
};

/*
 * Looks up an element's value. Returns true and sets *out when the element
 * has a value, false when it is missing (not reported).
 */
typedef bool (*formula_lookup_fn)(void *ctx, const char *code, struct dec_ratio *out);

/*
 * Parses an expression. On error returns YB_INVALID_ARGUMENT and eb says what
 * and at which column (1-based), e.g. "column 7: expected ')'". Texts
 * longer than FORMULA_MAX_TEXT or nested deeper than 64 levels are refused.
 * The caller owns *out and frees it with formula_free.
 */
int formula_parse(const char *text, struct formula **out, struct errbuf *eb);

/* Parses a rule `expr op expr`; same contract as formula_parse. */
int formula_parse_rule(const char *text, struct formula **out, struct errbuf *eb);

/* Frees f; NULL is allowed. */
void formula_free(struct formula *f);

/* True when f was made by formula_parse_rule. */
bool formula_is_rule(const struct formula *f);

/* The text f was parsed from (owned by f). */
const char *formula_text(const struct formula *f);

/*
 * The distinct element codes f refers to, in order of first appearance.
 * *codes points into f (valid while f lives); returns how many.
 */
size_t formula_codes(const struct formula *f, const char *const **codes);

/* Evaluates an expression (not a rule). *out is set only for FORMULA_VALUE. */
enum formula_result formula_eval(const struct formula *f, formula_lookup_fn lookup, void *ctx,
                                 struct dec_ratio *out);

/*
 * Evaluates a rule. For FORMULA_VALUE, *holds is true when the comparison
 * is satisfied; any other result means the rule is skipped.
 */
enum formula_result formula_eval_rule(const struct formula *f, formula_lookup_fn lookup, void *ctx,
                                      bool *holds);

#endif
