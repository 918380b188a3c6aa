/*
 * narrative.h - `yuebao report --format md`: a text template with the
 * report's figures filled in, the first draft of a written summary.
 *
 * A template is UTF-8 text (Markdown by convention) with placeholders in
 * double braces; everything else is copied as is:
 *
 *   {{CODE}}              the figure's value, as `consolidate` prints it
 *   {{CODE.previous}}     its value in the comparison period
 *   {{CODE.change}}       the change as a phrase: 增长14.3% / 下降11.5% /
 *                         提高3.7个百分点 / 持平 (English: up 14.3% ...)
 *   {{CODE.change_abs}}   the change with its sign: +14.3% / -3.7个百分点
 *   {{CODE.name}}         the figure's name;  {{CODE.unit}}  its unit
 *   {{CODE|万}}, {{CODE.previous|亿}}
 *                         a value in units of 10 000 or 100 000 000 with
 *                         two decimals: 2.80万
 *   {{period}} {{previous_period}} {{org}} {{cutoff}} {{completeness}}
 *   {{previous_completeness}} {{provenance}}
 *                         the period and comparison period in words, the
 *                         org unit's name, "数据截至2026年6月", the
 *                         completeness of both periods, and the provenance
 *                         block as a Markdown list
 *
 * CODE is any element or indicator of the catalog; blanks inside the braces
 * are allowed. A figure without a value is "—" followed by a Markdown
 * footnote saying why (no unit reported it, nothing to compare with, ...),
 * never 0; the footnotes are written at the end.
 */
#ifndef YB_NARRATIVE_H
#define YB_NARRATIVE_H

#include <stddef.h>
#include <stdio.h>

#include "catalog.h"
#include "report.h"
#include "status.h"

/* Largest template accepted, in bytes. */
#define NARRATIVE_MAX_BYTES (1024 * 1024)

struct narrative;

/*
 * Parses a template against cat. Every placeholder is checked before
 * anything is written: an unknown code, field or filter, a filter on a
 * text field, an unclosed "{{" or a placeholder longer than 256 bytes is
 * YB_INVALID_ARGUMENT with eb like "report.md: line 12, column 5: unknown
 * code 'foo'" (name is the template's name for messages; columns count
 * characters, not bytes). A template over NARRATIVE_MAX_BYTES or not UTF-8
 * is refused too. The caller owns *out (narrative_free); cat must outlive it.
 */
yb_status narrative_parse(const struct catalog *cat, const char *name, const char *text, size_t len,
                          struct narrative **out, struct errbuf *eb);

/* Frees n; NULL is allowed. */
void narrative_free(struct narrative *n);

/*
 * Writes the template with r's figures to out (r->cat must be the catalog n
 * was parsed against), then the footnotes. YB_EIO when writing fails.
 */
yb_status narrative_render(const struct narrative *n, const struct report *r, FILE *out,
                           struct errbuf *eb);

#endif
