/*
 * catalog.h - the indicator catalog: data elements, indicators, rules.
 *
 * A catalog is loaded from three CSV files in one directory, and two
 * optional ones (see docs/catalog.md for their columns):
 *   elements.csv    code,section,name_zh,name_en,unit,type,aggregation,min,max
 *   indicators.csv  code,name_zh,name_en,unit,formula,decimals,change
 *   rules.csv       code,rule,severity,message_zh,message_en
 *   sections.csv    code,name_zh,name_en    (optional: the sections' names)
 *   report.md       the default narrative template of `yuebao report`
 *                   (optional; kept as text, checked by its reader)
 * The same loader runs in the daemon (from disk) and in the client (from the
 * file texts the daemon sends in GetCatalog), so both sides check a return
 * with the same code. Every mistake is reported with file, line and column.
 */
#ifndef YB_CATALOG_H
#define YB_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "formula.h"
#include "status.h"

/* The files, in load order; the first CATALOG_NREQUIRED must exist. */
#define CATALOG_NFILES 5
#define CATALOG_NREQUIRED 3
enum catalog_file_id {
	CATALOG_FILE_ELEMENTS,
	CATALOG_FILE_INDICATORS,
	CATALOG_FILE_RULES,
	CATALOG_FILE_SECTIONS,
	CATALOG_FILE_REPORT
};
extern const char *const catalog_file_names[CATALOG_NFILES];

enum catalog_type { CATALOG_INT, CATALOG_AMOUNT };
enum catalog_agg { CATALOG_SUM, CATALOG_LAST };
enum catalog_change { CATALOG_PERCENT, CATALOG_POINTS };
enum catalog_severity { CATALOG_RULE_ERROR, CATALOG_RULE_WARNING };

struct catalog_element {
	char *code;
	char *section;        /* the section's code */
	size_t section_index; /* into catalog.sections */
	char *name_zh;
	char *name_en;
	char *unit;
	enum catalog_type type;
	enum catalog_agg agg;
	bool has_min, has_max;
	int64_t min, max; /* hundredths */
};

struct catalog_indicator {
	char *code;
	char *name_zh;
	char *name_en;
	char *unit;
	struct formula *formula;
	int decimals; /* 0..6 */
	enum catalog_change change;
	size_t section_index; /* that of the first element its formula names (0 if none) */
};

/*
 * A grouping of elements for templates and reports. Named by sections.csv
 * when the catalog has one (every element's section must be listed there,
 * in the order reports use); otherwise one section per distinct code in
 * elements.csv, in order of first use, named by its code.
 */
struct catalog_section {
	char *code;
	char *name_zh;
	char *name_en;
};

struct catalog_rule {
	char *code;
	struct formula *rule; /* formula_is_rule() */
	enum catalog_severity severity;
	char *message_zh;
	char *message_en;
};

/* One file's name and content, as loaded; data is NULL for an optional file not there. */
struct catalog_file {
	char *name;
	char *data;
	size_t len;
};

struct catalog {
	struct catalog_element *elements;
	size_t n_elements;
	struct catalog_indicator *indicators;
	size_t n_indicators;
	struct catalog_rule *rules;
	size_t n_rules;
	struct catalog_section *sections; /* at least one */
	size_t n_sections;
	struct catalog_file files[CATALOG_NFILES]; /* the texts loaded, for GetCatalog */
	char digest[65]; /* hex SHA-256 over the files present, for caches and audit */
};

/*
 * Loads DIR/elements.csv, DIR/indicators.csv and DIR/rules.csv, and
 * DIR/sections.csv and DIR/report.md when they exist. Checks: all
 * columns present; codes unique across elements and indicators, of the
 * form [a-z][a-z0-9_]{0,63} and not CATALOG_PERIOD_CODE; type int|amount; aggregation sum|last;
 * min/max parse for the type; formulas parse and name only elements; decimals 0..6; change
 * percent|points; rules parse and name only elements; severity error|warning; section
 * codes unique and every element's section listed (when sections.csv exists). Returns
 * YB_INVALID_ARGUMENT with eb like "indicators.csv: line 4, column formula: unknown element 'foo'".
 * The caller owns *out (catalog_free).
 */
int catalog_load_dir(const char *dir, struct catalog **out, struct errbuf *eb);

/*
 * Same checks on file texts in memory: n files named from catalog_file_names,
 * each at most once, the required ones present.
 */
int catalog_load_files(const struct catalog_file *files, size_t n, struct catalog **out,
                       struct errbuf *eb);

/* Frees c; NULL is allowed. */
void catalog_free(struct catalog *c);

/*
 * The default catalog shipped with the programs: ../share/yuebao/catalog
 * relative to the running binary, which holds both in the build tree and
 * once installed. YB_EIO with a hint to give --catalog when it is missing.
 */
int catalog_default_dir(char *buf, size_t len, struct errbuf *eb);

/*
 * The code of the row in which a return file names its month (see
 * returnfile.h); reserved: the loader refuses it as an element or indicator
 * code.
 */
#define CATALOG_PERIOD_CODE "period"

/* Index of the element with this code, or -1. */
int catalog_find_element(const struct catalog *c, const char *code);

/* Index of the indicator with this code, or -1. */
int catalog_find_indicator(const struct catalog *c, const char *code);

/* Index of the rule with this code, or -1. */
int catalog_find_rule(const struct catalog *c, const char *code);

/* One value of a return as written in its file (or sent over the wire). */
struct catalog_entry {
	const char *code;
	const char *value; /* as written; "" means not reported */
	size_t line;       /* 1-based line in the file, 0 if unknown */
};

enum catalog_finding_kind {
	CATALOG_FINDING_ERROR,
	CATALOG_FINDING_WARNING,
	CATALOG_FINDING_SKIPPED
};

/*
 * One problem (or skipped rule) found while checking a return. Findings
 * about rules carry their code and parameters in `what`, for keeping (a
 * warning or skipped rule is stored with the revision and shown later in
 * the reader's language); a problem with a value (always an error, never
 * kept) has only its message, what.code is FINDING_CODE_NONE.
 */
struct catalog_finding {
	enum catalog_finding_kind kind;
	size_t line;       /* 0 when not tied to one line (rules) */
	char code[72];     /* element code, or rule code for rule findings */
	char value[48];    /* the value as written, truncated; "" for rules */
	char message[384]; /* in the caller's language; names the field/rule and the problem */
	struct finding what;
};

/* A growable list of findings; zero-initialise, free with catalog_findings_clear. */
struct catalog_findings {
	struct catalog_finding *items;
	size_t n, cap;
	size_t errors, warnings, skipped;
};

void catalog_findings_clear(struct catalog_findings *f);

/*
 * Appends a finding of kind to f, zeroed but for its kind and line, and
 * counts it; the caller fills in the rest. NULL when out of memory.
 */
struct catalog_finding *catalog_findings_push(struct catalog_findings *f,
                                              enum catalog_finding_kind kind, size_t line);

/* A checked return: one slot per catalog element. */
struct catalog_values {
	int64_t *value; /* hundredths; meaningful where present[i] */
	bool *present;
	size_t n; /* == catalog n_elements */
};

void catalog_values_free(struct catalog_values *v);

/*
 * Checks entries against c and fills *values (caller frees with
 * catalog_values_free) and *findings. Reports, all at once, every: unknown
 * code, duplicate code, non-numeric or negative value, fractional value for
 * an int, more than two decimals for an amount, value below min / above max,
 * violated rule (error or warning by its severity) and skipped rule (a
 * missing operand). A value message names the element by code and name, in
 * the reader's language ("line 5: seminars (专题研讨场次): ..."), and says
 * what to do for what clerks commonly write: "95%" (drop the % sign),
 * "N/A", "-", "无" and the like (leave the cell empty).
 *
 * Any number of values may be blank (not reported, SPEC §5), but not all:
 * a return without a single value (no entries, or every value blank) is one
 * error, "no value is filled in", and its rules are not evaluated.
 *
 * Returns YB_OK when there are no errors (warnings allowed),
 * YB_INVALID_ARGUMENT when findings->errors > 0, YB_ENOMEM on allocation
 * failure.
 */
int catalog_check(const struct catalog *c, const struct catalog_entry *entries, size_t n,
                  struct catalog_values *values, struct catalog_findings *findings);

#endif
