/*
 * finding.h - a finding about a return as a code with parameters.
 *
 * Warnings and skipped rules are kept with the revision they were found in
 * and read later by people of either language (SPEC §10: "Stored findings
 * are codes with parameters, rendered in the reader's language"). So what is
 * kept is a struct finding: which kind of finding it is and the facts behind
 * it (codes, values as exact decimals, months, whole numbers), none of it in
 * a language. finding_render makes the sentence in the calling thread's
 * language (i18n.h) whenever it is shown; finding_encode / finding_decode
 * turn the parameters into and from the JSON object the store keeps.
 *
 * The rule or element a finding is about and its line in the file are not
 * part of struct finding: they are the finding's field and line wherever it
 * travels (struct catalog_finding, the store's rows, FieldError).
 */
#ifndef YB_FINDING_H
#define YB_FINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct catalog;

enum finding_code {
	FINDING_CODE_NONE = 0,      /* no code: the text is all there is (refusals,
	                               and findings stored before codes were) */
	FINDING_CODE_RULE_VIOLATED, /* a rule does not hold */
	FINDING_CODE_RULE_MISSING,  /* a rule skipped: an operand has no value */
	FINDING_CODE_RULE_DIV_ZERO, /* a rule skipped: division by zero */
	FINDING_CODE_RULE_OVERFLOW, /* a rule skipped: numbers too large to compare */
	FINDING_CODE_OUTLIER,       /* a flow far above the branch's own median */
	FINDING_CODE_STOCK_JUMP,    /* a stock far from its latest earlier month */
};

/* Operands of a skipped rule listed (the rest are counted in n_more). */
#define FINDING_MISSING_MAX 8

/* An operand of a rule that has no value. */
struct finding_operand {
	char code[72];
	bool invalid; /* given, but not a valid value (else: not reported) */
};

/* The kind of a finding and its parameters; which are set depends on code. */
struct finding {
	enum finding_code code;
	/* RULE_VIOLATED: the rule with each element's value after it,
	 * "survey_valid (120) <= survey_issued (100)" */
	char expr[320];
	/* RULE_MISSING: the operands without a value, in the rule's order */
	struct finding_operand missing[FINDING_MISSING_MAX];
	size_t n_missing, n_more;
	/* OUTLIER, STOCK_JUMP: the value reported, as a decimal ("100", "1200.50") */
	char value[48];
	/* OUTLIER: the median ("12.5"); STOCK_JUMP: the earlier value */
	char reference[48];
	/* STOCK_JUMP: the month of the earlier value, "2026-06" */
	char month[16];
	/* OUTLIER: the factor; STOCK_JUMP: the change allowed, in percent */
	int limit;
	/* OUTLIER: the months of history behind the median */
	int months;
	/* STOCK_JUMP: the change, in whole percent, signed */
	int change;
};

/*
 * The stored name of a code ("rule_violated", "outlier", ...); "" for
 * FINDING_CODE_NONE. Never NULL; the string is static.
 */
const char *finding_code_name(enum finding_code code);

/*
 * The parameters of f as a compact JSON object, e.g. for an outlier
 * {"value":"100","median":"12.5","factor":3,"months":6}; "{}" when it has
 * none. The caller frees *json with free(). YB_ENOMEM on allocation failure.
 */
int finding_encode(const struct finding *f, char **json);

/*
 * Reads back what finding_encode wrote: code is a finding_code_name(), json
 * its parameters. Every parameter of the code must be there with its type
 * and fit its field. YB_INVALID_ARGUMENT with eb naming the code and the
 * parameter otherwise (an unknown code, "" included).
 */
int finding_decode(const char *code, const char *json, struct finding *out, struct errbuf *eb);

/*
 * Writes the sentence for f, about the rule or element `subject` (on line
 * `line` of the file, 0 when none), in the calling thread's language, into
 * buf[len] (len may be 0 with buf NULL). A violated rule ends with its
 * message from cat (in that language), when cat has the rule; cat may be
 * NULL. Returns the length of the whole sentence, like snprintf: when it is
 * >= len the text was cut, possibly inside a UTF-8 character, and a buffer
 * of the returned length + 1 holds all of it. Returns 0 (and writes "") for
 * FINDING_CODE_NONE, which has no sentence of its own.
 */
size_t finding_render(const struct finding *f, const char *subject, uint32_t line,
                      const struct catalog *cat, char *buf, size_t len);

#endif
