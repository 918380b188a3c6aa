/*
 * report_html.h - `yuebao report --format html`: the consolidated figures of
 * one org unit and period as a page to read on screen and to print on A4.
 *
 * One self-contained file: no fonts, scripts, images or stylesheets are
 * fetched from anywhere (the office opens it offline, and a page that fetches
 * nothing cannot tell anyone it was opened). The charts are inline SVG drawn
 * here. It is polyglot HTML5/XHTML, so a strict XML parser reads it too
 * (tests/tools/check_report_html.py does, and checks it figure by figure
 * against `yuebao consolidate --format json`).
 *
 * The page holds: a title (org unit, period, comparison, data cut-off,
 * completeness); per catalog section a table of its figures (value,
 * previous, change) and one SVG bar chart of the changes in per cent; a
 * pivot by child unit and one by month, with a line chart of the main flows
 * over the months; and the provenance block (report_provenance). Every
 * figure is the server's string as sent (report.h); "—" stands for no value.
 */
#ifndef YB_REPORT_HTML_H
#define YB_REPORT_HTML_H

#include <stdio.h>

#include "report.h"
#include "status.h"

/*
 * Writes the page for r (which must pass report_check: the writer checks it
 * first) to out, in the reader's language (i18n_language()). Returns YB_OK;
 * report_check's status when r breaks its invariants; YB_EIO when writing to
 * out fails (out is flushed and its error flag checked). On failure out may
 * hold part of a page: the caller removes the file.
 */
yb_status report_html_write(const struct report *r, FILE *out, struct errbuf *eb);

#endif
