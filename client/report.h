/*
 * report.h - what `yuebao report` knows: the consolidated figures of one org
 * unit and period, read in one go (the subtree total with its comparison,
 * the same by child unit and by month), where they come from (data cut-off,
 * completeness, the audit log's signed checkpoint, the CA's fingerprint),
 * and the wording the three formats (narrative.h, report_xlsx.h,
 * report_html.h) share.
 *
 * A report never computes a figure: every value, previous value and change
 * is the server's Consolidate figure, copied as the string it sent, so a
 * report always equals `yuebao consolidate` for the same question. Only
 * display work happens here (units such as 万, phrases such as 增长14.3%).
 */
#ifndef YB_REPORT_H
#define YB_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "status.h"
#include "tz.h"
#include "yuebao.pb-c.h"

/*
 * Everything a report is made from. The caller (the client's `report`
 * command) fills it from the server's replies and owns every pointer; the
 * writers only read it. Once report_check has passed:
 *  - every group of every reply holds report_n_figures() figures in catalog
 *    order: figure k is element k for k < cat->n_elements, else indicator
 *    k - cat->n_elements, and its code says so;
 *  - total has one group (the subtree total) and carries the comparison
 *    (previous_period is "" when the report compares with nothing);
 *  - by_org has the total then one group per child unit (none for a unit
 *    without children), by_month the total then one group per month of the
 *    period; both for the current period, with the same comparison as total.
 */
struct report {
	const struct catalog *cat;
	const Yuebao__V1__ConsolidateReply *total;
	const Yuebao__V1__ConsolidateReply *by_org;
	const Yuebao__V1__ConsolidateReply *by_month;
	const struct tz *zone; /* the deployment's, for times shown */
	int64_t generated_ms;  /* when the figures were read (Unix ms) */
	char cutoff[8];        /* "2026-06": the last month of the period that has begun */
	bool accepted_only;    /* only accepted returns count (consolidate --accepted-only) */
	/* The audit log as the figures were read: its latest checkpoint, verified
	 * against the CA; has_checkpoint is false for a log with no checkpoint yet. */
	bool has_checkpoint;
	uint64_t log_size;
	char log_root[65]; /* hex */
	int64_t log_at_ms;
	char ca_fingerprint[65]; /* hex SHA-256 of the CA certificate (DER) */
	char server_version[32];
};

/* Output formats of `yuebao report`. */
enum report_format { REPORT_MD, REPORT_HTML, REPORT_XLSX };

/* Parses "md", "html" or "xlsx"; YB_INVALID_ARGUMENT for anything else. */
yb_status report_parse_format(const char *s, enum report_format *out);

/*
 * Checks the invariants above; YB_FAILED_PRECONDITION with eb naming the
 * first figure or group that breaks them (a catalog that changed between
 * the calls: running the command again fixes it).
 */
yb_status report_check(const struct report *r, struct errbuf *eb);

/* Elements then indicators. */
size_t report_n_figures(const struct report *r);

/* Index into r->cat->sections of figure k. */
size_t report_figure_section(const struct report *r, size_t k);

/* True for an indicator; false for an element. */
bool report_figure_is_indicator(const struct report *r, size_t k);

/* Figure k's name in the reader's language. */
const char *report_figure_name(const struct report *r, size_t k);

/* Figure k's unit as the catalog writes it (人, 次, 元, %, ...; may be ""). */
const char *report_figure_unit(const struct report *r, size_t k);

/* A section's name in the reader's language. */
const char *report_section_name(const struct report *r, size_t section);

/*
 * True when figure k is a rate shown in per cent (an indicator whose unit
 * is "%"): xlsx stores it as a fraction with a % format.
 */
bool report_figure_is_rate(const struct report *r, size_t k);

/* Decimals figure k is written with: 0 for int, 2 for amount, an indicator's own. */
int report_figure_decimals(const struct report *r, size_t k);

/*
 * True for the section's main flow: the first element of each section
 * aggregated by sum (a section of stocks only has none). The monthly chart
 * draws these.
 */
bool report_figure_is_main_flow(const struct report *r, size_t k);

/*
 * A figure's plain decimal as the server sends it ("-12.5", "28000.00") as
 * the nearest double, for charts and spreadsheets; false for "" (no value)
 * or anything else. Not strtod: its decimal point follows LC_NUMERIC, which
 * i18n_init takes from the user's locale (a comma in de_DE).
 */
bool report_number(const char *s, double *out);

/*
 * True when a figure's change goes into its section's bar chart: it has a
 * change, in per cent (changes in percentage points stay in the tables).
 */
bool report_change_charted(const Yuebao__V1__Figure *f);

/*
 * A period for people, in the reader's language: "2026年上半年" / "2026 H1",
 * "2026年6月" / "June 2026", "2026年第二季度" / "2026 Q2", "2026年度" /
 * "2026", "2026年1月至2026年6月" / "January 2026 to June 2026". Anything
 * else is copied as is.
 */
void report_period_words(const char *period, char *buf, size_t len);

/*
 * The change of a figure as a phrase: "增长14.3%", "下降11.5%", "提高3.7个
 * 百分点", "降低3.7个百分点", "持平" (English: "up 14.3%", "down 11.5%", "up
 * 3.7 percentage points", "down 3.7 percentage points", "unchanged"); "" when
 * the figure has no change.
 */
void report_change_phrase(const Yuebao__V1__Figure *f, char *buf, size_t len);

/*
 * The change with its sign: "+14.3%", "-11.5%", "+3.7个百分点" (English
 * "+3.7 pp"), "0.0%"; "" when the figure has no change.
 */
void report_change_signed(const Yuebao__V1__Figure *f, char *buf, size_t len);

/* "数据截至2026年6月" / "Data up to June 2026". */
void report_cutoff_words(const struct report *r, char *buf, size_t len);

/*
 * Completeness of one group, in the reader's language: "应报30份，实报29份
 * （96.7%）" / "29 of 30 returns (96.7%)"; previous selects the comparison
 * period's counts.
 */
void report_completeness_words(const Yuebao__V1__Group *g, bool previous, char *buf, size_t len);

/* One line of the provenance block: a label and its value. */
struct report_fact {
	const char *label; /* in the reader's language; static */
	char value[320];
};

#define REPORT_MAX_FACTS 14

/*
 * How the figures were made, for the provenance block of every format: the
 * org unit, the period and its comparison, the data cut-off, completeness of
 * both periods, which returns count, when the figures were read, the audit
 * checkpoint (log size, root hash, time), the CA fingerprint, the server's
 * version, and how to prove a figure (`consolidate --explain`, `audit
 * prove`). Fills at most REPORT_MAX_FACTS entries of facts; returns how many.
 */
size_t report_provenance(const struct report *r, struct report_fact *facts);

#endif
