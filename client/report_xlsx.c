/*
 * report_xlsx.c - the Excel annex (see report_xlsx.h), with libxlsxwriter.
 *
 * libxlsxwriter keeps the whole workbook in memory and writes the file in
 * workbook_close, so the sheets are filled first and every libxlsxwriter
 * failure along the way is only remembered (the first one wins): the
 * caller learns about it once, with the file's name, and the temporary file
 * is removed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xlsxwriter.h>

#include "i18n.h"
#include "report_xlsx.h"
#include "xlsxfile.h"

/* Row of the header of every figure table; the title block is above it. */
#define HEAD_ROW 4
#define MAX_DECIMALS 6

/* Columns of the figure tables; the numbers start at COL_VALUE. */
enum { COL_CODE, COL_NAME, COL_UNIT, COL_VALUE, COL_PREVIOUS, COL_CHANGE };

enum which { VALUE, PREVIOUS, CHANGE };

struct xw {
	const struct report *r;
	lxw_workbook *wb;
	bool zh;       /* the reader's language is Chinese */
	bool compare;  /* the report has a comparison period */
	lxw_error err; /* the first libxlsxwriter failure; LXW_NO_ERROR while none */
	char bad[160]; /* the figure that was not a plain decimal, "" while none */
	const Yuebao__V1__ConsolidateReply *pivot; /* by_org or by_month, for pivot_cells */
	lxw_format *title, *section, *head, *dash, *label, *note;
	lxw_format *num[MAX_DECIMALS + 1], *rate[MAX_DECIMALS + 1], *pct_change, *pp_change;
	const char *summary; /* the summary sheet's name, which chart data refers to */
	lxw_row_t *at;       /* the row of each figure in the table being written */
};

static const char *L(const struct xw *x, const char *zh, const char *en)
{
	return x->zh ? zh : en;
}

static void check(struct xw *x, lxw_error e)
{
	if (e != LXW_NO_ERROR && x->err == LXW_NO_ERROR)
		x->err = e;
}

/* A NULL from a libxlsxwriter constructor: it only fails for memory. */
static void *got(struct xw *x, void *p)
{
	if (p == NULL)
		check(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
	return p;
}

static bool failed(const struct xw *x)
{
	return x->err != LXW_NO_ERROR || x->bad[0] != '\0';
}

static lxw_format *new_format(struct xw *x, const char *num_format, bool bold)
{
	lxw_format *f = got(x, workbook_add_format(x->wb));

	if (f == NULL)
		return NULL; /* cells then take the default format; the failure is recorded */
	if (num_format != NULL)
		format_set_num_format(f, num_format);
	if (bold)
		format_set_bold(f);
	return f;
}

static void make_formats(struct xw *x)
{
	char nf[32];

	x->title = new_format(x, NULL, true);
	if (x->title != NULL)
		format_set_font_size(x->title, 14);
	x->section = new_format(x, NULL, true);
	if (x->section != NULL)
		format_set_bg_color(x->section, 0xE8EEF7);
	x->head = new_format(x, NULL, true);
	if (x->head != NULL) {
		format_set_bottom(x->head, LXW_BORDER_THIN);
		format_set_text_wrap(x->head);
	}
	x->dash = new_format(x, NULL, false);
	if (x->dash != NULL)
		format_set_align(x->dash, LXW_ALIGN_RIGHT);
	x->label = new_format(x, NULL, true);
	if (x->label != NULL)
		format_set_align(x->label, LXW_ALIGN_VERTICAL_TOP);
	x->note = new_format(x, NULL, false);
	if (x->note != NULL)
		format_set_italic(x->note);
	for (int d = 0; d <= MAX_DECIMALS; d++) {
		snprintf(nf, sizeof(nf), "#,##0%s%.*s", d ? "." : "", d, "000000");
		x->num[d] = new_format(x, nf, false);
		snprintf(nf, sizeof(nf), "0%s%.*s%%", d ? "." : "", d, "000000");
		x->rate[d] = new_format(x, nf, false);
	}
	/* A change always has one decimal (SPEC §6) and shows its sign. */
	x->pct_change = new_format(x, "+0.0%;-0.0%;0.0%", false);
	x->pp_change = new_format(x,
	                          L(x, "+0.0\"个百分点\";-0.0\"个百分点\";0.0\"个百分点\"",
	                            "+0.0\" pp\";-0.0\" pp\";0.0\" pp\""),
	                          false);
}

/*
 * One number of figure k (f, of some group) into a cell: a number with its
 * format (rates and % changes as fractions, so Excel's % format shows the
 * server's figure), or "—" when the figure has none: a blank would read as
 * 0 in a sum, and 0 is a different statement.
 */
static void put(struct xw *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, size_t k,
                const Yuebao__V1__Figure *f, enum which w)
{
	const char *s = w == VALUE ? f->value : w == PREVIOUS ? f->previous : f->change;
	int dec = report_figure_decimals(x->r, k);
	lxw_format *fmt;
	double d;

	if (s[0] == '\0') {
		check(x, worksheet_write_string(ws, row, col, "\u2014", x->dash));
		return;
	}
	if (!report_number(s, &d)) {
		if (x->bad[0] == '\0')
			snprintf(x->bad, sizeof(x->bad), "%s = '%s'", f->code, s);
		return;
	}
	if (dec < 0 || dec > MAX_DECIMALS)
		dec = dec < 0 ? 0 : MAX_DECIMALS;
	if (w == CHANGE) {
		bool pp = strcmp(f->change_unit, "pp") == 0;
		fmt = pp ? x->pp_change : x->pct_change;
		if (!pp)
			d /= 100;
	} else if (report_figure_is_rate(x->r, k)) {
		fmt = x->rate[dec];
		d /= 100;
	} else {
		fmt = x->num[dec];
	}
	check(x, worksheet_write_number(ws, row, col, d, fmt));
}

/* Column width for text: CJK characters take about two widths of a digit. */
static double text_width(const char *s)
{
	double w = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xC0) != 0x80)
			w += *p >= 0xE0 ? 2.1 : 1.1;
	return w;
}

static double clamp_width(double w, double lo, double hi)
{
	return w < lo ? lo : w > hi ? hi : w;
}

static const Yuebao__V1__Figure *total_figure(const struct xw *x, size_t k)
{
	return x->r->total->groups[0]->figures[k];
}

/* "{org}（{code}）" / "{org} ({code})". */
static void org_words(const struct xw *x, char *buf, size_t len)
{
	const Yuebao__V1__ConsolidateReply *t = x->r->total;

	snprintf(buf, len, L(x, "%s（%s）", "%s (%s)"), t->org_name, t->org);
}

/* The rows above HEAD_ROW: a title and up to three lines (NULL for none). */
static void title_block(struct xw *x, lxw_worksheet *ws, const char *title, const char *l1,
                        const char *l2, const char *l3)
{
	const char *lines[] = {l1, l2, l3};

	check(x, worksheet_write_string(ws, 0, 0, title, x->title));
	for (int i = 0; i < 3; i++)
		if (lines[i] != NULL)
			check(x, worksheet_write_string(ws, (lxw_row_t)(i + 1), 0, lines[i], NULL));
}

/* Code, name and unit columns: widths, header, print setup shared by the figure tables. */
static void table_frame(struct xw *x, lxw_worksheet *ws, const char *const *head, size_t n_head,
                        lxw_col_t freeze_col)
{
	const struct report *r = x->r;
	double code_w = 6, name_w = 12;

	for (size_t k = 0; k < report_n_figures(r); k++) {
		code_w = clamp_width(text_width(total_figure(x, k)->code) + 1, code_w, 34);
		name_w = clamp_width(text_width(report_figure_name(r, k)) + 2, name_w, 48);
	}
	check(x, worksheet_set_column(ws, COL_CODE, COL_CODE, code_w, NULL));
	check(x, worksheet_set_column(ws, COL_NAME, COL_NAME, name_w, NULL));
	check(x, worksheet_set_column(ws, COL_UNIT, COL_UNIT, 8, NULL));
	check(x, worksheet_set_column(ws, COL_VALUE, (lxw_col_t)(n_head - 1), 14, NULL));
	for (size_t c = 0; c < n_head; c++)
		check(x, worksheet_write_string(ws, HEAD_ROW, (lxw_col_t)c, head[c], x->head));
	worksheet_freeze_panes(ws, HEAD_ROW + 1, freeze_col);
	worksheet_set_landscape(ws);
	worksheet_set_paper(ws, 9); /* A4 */
	worksheet_fit_to_pages(ws, 1, 0);
	check(x, worksheet_repeat_rows(ws, HEAD_ROW, HEAD_ROW));
}

typedef void (*cells_fn)(struct xw *x, lxw_worksheet *ws, lxw_row_t row, size_t k);

/*
 * The figure rows below the header: per catalog section that has figures,
 * a heading row (its name in the code column, no code: a reader matching
 * codes skips it), then the section's figures in catalog order, each with
 * code, name, unit and the numbers cells() writes. Notes each figure's row
 * in x->at; returns the first row after the table.
 */
static lxw_row_t figure_rows(struct xw *x, lxw_worksheet *ws, cells_fn cells)
{
	const struct report *r = x->r;
	size_t n = report_n_figures(r);
	lxw_row_t row = HEAD_ROW + 1;

	for (size_t s = 0; s < r->cat->n_sections; s++) {
		bool heading = false;
		for (size_t k = 0; k < n; k++) {
			const Yuebao__V1__Figure *f = total_figure(x, k);
			if (report_figure_section(r, k) != s)
				continue;
			if (!heading) {
				check(x, worksheet_write_string(ws, row++, COL_CODE,
				                                report_section_name(r, s),
				                                x->section));
				heading = true;
			}
			check(x, worksheet_write_string(ws, row, COL_CODE, f->code, NULL));
			check(x, worksheet_write_string(ws, row, COL_NAME, report_figure_name(r, k),
			                                NULL));
			check(x, worksheet_write_string(ws, row, COL_UNIT, f->unit, NULL));
			cells(x, ws, row, k);
			x->at[k] = row++;
		}
	}
	return row;
}

static void summary_cells(struct xw *x, lxw_worksheet *ws, lxw_row_t row, size_t k)
{
	const Yuebao__V1__Figure *f = total_figure(x, k);

	put(x, ws, row, COL_VALUE, k, f, VALUE);
	if (x->compare) {
		put(x, ws, row, COL_PREVIOUS, k, f, PREVIOUS);
		put(x, ws, row, COL_CHANGE, k, f, CHANGE);
	}
}

/* One column per group of x->pivot, the subtree total first. */
static void pivot_cells(struct xw *x, lxw_worksheet *ws, lxw_row_t row, size_t k)
{
	for (size_t g = 0; g < x->pivot->n_groups; g++)
		put(x, ws, row, (lxw_col_t)(COL_VALUE + g), k, x->pivot->groups[g]->figures[k],
		    VALUE);
}

static void write_summary(struct xw *x, lxw_worksheet *ws)
{
	const struct report *r = x->r;
	const Yuebao__V1__ConsolidateReply *t = r->total;
	char org[256], period[128], prev[128], title[512], cmp[320], done[200], was[200];
	char returns[512], cutoff[200], cut[320];
	bool yoy = strcmp(t->compare, "yoy") == 0;
	const char *head[] = {L(x, "代码", "Code"),
	                      L(x, "指标", "Figure"),
	                      L(x, "单位", "Unit"),
	                      L(x, "本期", "This period"),
	                      yoy ? L(x, "上年同期", "A year earlier") : L(x, "上期", "Previous"),
	                      L(x, "增减", "Change")};
	lxw_row_t end;

	org_words(x, org, sizeof(org));
	report_period_words(t->period, period, sizeof(period));
	snprintf(title, sizeof(title), L(x, "%s%s主要数据", "%s: figures for %s"), org, period);
	report_completeness_words(t->groups[0], false, done, sizeof(done));
	if (x->compare) {
		report_period_words(t->previous_period, prev, sizeof(prev));
		snprintf(cmp, sizeof(cmp), "%s%s%s", L(x, "对比期：", "Compared with "), prev,
		         yoy ? L(x, "（同比）", " (the same period a year earlier)")
		             : L(x, "（环比）", " (the preceding period)"));
		report_completeness_words(t->groups[0], true, was, sizeof(was));
		snprintf(returns, sizeof(returns),
		         L(x, "报送情况：本期%s；对比期%s",
		           "Returns: this period %s; compared period %s"),
		         done, was);
	} else {
		snprintf(cmp, sizeof(cmp), "%s", L(x, "未与其他时期对比", "No comparison period"));
		snprintf(returns, sizeof(returns), L(x, "报送情况：%s", "Returns: %s"), done);
	}
	report_cutoff_words(r, cutoff, sizeof(cutoff));
	snprintf(cut, sizeof(cut), "%s%s", cutoff,
	         r->accepted_only ? L(x, "；仅统计已审核通过的报表", "; accepted returns only")
	                          : "");
	title_block(x, ws, title, cmp, returns, cut);
	table_frame(x, ws, head, x->compare ? 6 : 4, 0);
	end = figure_rows(x, ws, summary_cells);
	check(x, worksheet_write_string(
	             ws, end + 1, COL_CODE,
	             L(x, "注：“—”表示没有数据（未报送或无法计算），不是0。",
	               "Note: \u2014 means there is no figure (not reported, or not computable), "
	               "which is not zero."),
	             x->note));
}

/*
 * A pivot of the current period: a column per group of reply (the subtree
 * total, then per child unit or per month) headed by the group's name, or
 * its key when it has none (months). Returns the first row after the table.
 */
static lxw_row_t write_pivot(struct xw *x, lxw_worksheet *ws,
                             const Yuebao__V1__ConsolidateReply *reply, const char *what)
{
	const Yuebao__V1__ConsolidateReply *t = x->r->total;
	char org[256], period[128], title[512], cutoff[200];
	size_t n_head = COL_VALUE + reply->n_groups;
	const char **head = calloc(n_head, sizeof(*head));
	lxw_row_t end;

	if (head == NULL) {
		check(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
		return HEAD_ROW + 1;
	}
	head[COL_CODE] = L(x, "代码", "Code");
	head[COL_NAME] = L(x, "指标", "Figure");
	head[COL_UNIT] = L(x, "单位", "Unit");
	head[COL_VALUE] = L(x, "合计", "Total");
	for (size_t g = 1; g < reply->n_groups; g++)
		head[COL_VALUE + g] =
		    reply->groups[g]->name[0] ? reply->groups[g]->name : reply->groups[g]->key;
	org_words(x, org, sizeof(org));
	report_period_words(t->period, period, sizeof(period));
	snprintf(title, sizeof(title), L(x, "%s%s主要数据（%s）", "%s: figures for %s (%s)"), org,
	         period, what);
	report_cutoff_words(x->r, cutoff, sizeof(cutoff));
	title_block(x, ws, title,
	            L(x, "本期数值；“合计”含本单位及全部下级单位",
	              "Values of the period; Total covers the unit and every unit under it"),
	            cutoff, NULL);
	table_frame(x, ws, head, n_head, COL_VALUE);
	free(head);
	x->pivot = reply;
	end = figure_rows(x, ws, pivot_cells);
	return end;
}

/*
 * The monthly line of the main flows (report_figure_is_main_flow), below
 * the month table whose figure rows are in x->at: a series per flow over
 * the month columns, named by its name cell.
 */
static void month_chart(struct xw *x, lxw_worksheet *ws, const char *sheet, lxw_row_t below)
{
	const struct report *r = x->r;
	size_t n_months = r->by_month->n_groups - 1;
	lxw_col_t first = COL_VALUE + 1, last = (lxw_col_t)(COL_VALUE + n_months);
	lxw_chart_options at = {.x_scale = 2, .y_scale = 1.4};
	lxw_chart *chart;
	size_t n = 0;

	if (n_months == 0)
		return;
	for (size_t k = 0; k < report_n_figures(r); k++)
		n += report_figure_is_main_flow(r, k);
	if (n == 0)
		return;
	chart = got(x, workbook_add_chart(x->wb, LXW_CHART_LINE));
	if (chart == NULL)
		return;
	chart_title_set_name(chart, L(x, "主要工作量按月走势", "Main activities by month"));
	chart_legend_set_position(chart, LXW_CHART_LEGEND_BOTTOM);
	for (size_t k = 0; k < report_n_figures(r); k++) {
		lxw_chart_series *s;
		if (!report_figure_is_main_flow(r, k))
			continue;
		s = got(x, chart_add_series(chart, NULL, NULL));
		if (s == NULL)
			return;
		chart_series_set_categories(s, sheet, HEAD_ROW, first, HEAD_ROW, last);
		chart_series_set_values(s, sheet, x->at[k], first, x->at[k], last);
		chart_series_set_name_range(s, sheet, x->at[k], COL_NAME);
		chart_series_set_marker_type(s, LXW_CHART_MARKER_CIRCLE);
	}
	check(x, worksheet_insert_chart_opt(ws, below + 1, COL_NAME, chart, &at));
}

/* Does figure k go into its section's bar chart: a change in per cent. */
static bool charted(const struct xw *x, size_t k)
{
	const Yuebao__V1__Figure *f = total_figure(x, k);

	return x->compare && report_change_charted(f);
}

/*
 * One horizontal bar chart per section of the changes in per cent of its
 * figures. A chart series needs its cells side by side, and a section's
 * such figures are scattered among others in the summary, so each section
 * gets a small table here (name, and the change as a formula on the
 * summary's change cell, with its value cached) with its chart beside it.
 * summary_at holds the summary's figure rows.
 */
static void write_charts(struct xw *x, lxw_worksheet *ws, const char *sheet,
                         const lxw_row_t *summary_at)
{
	const struct report *r = x->r;
	size_t n = report_n_figures(r);
	lxw_row_t row = 2;
	char cell[LXW_MAX_CELL_NAME_LENGTH], formula[160];
	double name_w = 12;

	check(x, worksheet_write_string(
	             ws, 0, 0, L(x, "各项工作较对比期增减", "Changes from the compared period"),
	             x->title));
	for (size_t s = 0; s < r->cat->n_sections; s++) {
		lxw_row_t first = row + 1, last = row;
		lxw_chart_options at = {.x_scale = 1.5};
		lxw_chart *chart;
		lxw_chart_series *series;
		lxw_row_t chart_rows;
		for (size_t k = 0; k < n; k++) {
			double d = 0;
			if (report_figure_section(r, k) != s || !charted(x, k))
				continue;
			last++;
			name_w = clamp_width(text_width(report_figure_name(r, k)) + 2, name_w, 48);
			check(x,
			      worksheet_write_string(ws, last, 0, report_figure_name(r, k), NULL));
			lxw_rowcol_to_cell(cell, summary_at[k], COL_CHANGE);
			snprintf(formula, sizeof(formula), "='%s'!%s", x->summary, cell);
			report_number(total_figure(x, k)->change, &d); /* put() vetted it */
			check(x, worksheet_write_formula_num(ws, last, 1, formula, x->pct_change,
			                                     d / 100));
		}
		if (last < first)
			continue;
		check(x, worksheet_write_string(ws, row, 0, report_section_name(r, s), x->section));
		chart = got(x, workbook_add_chart(x->wb, LXW_CHART_BAR));
		series = chart != NULL ? got(x, chart_add_series(chart, NULL, NULL)) : NULL;
		if (series == NULL)
			return;
		chart_series_set_categories(series, sheet, first, 0, last, 0);
		chart_series_set_values(series, sheet, first, 1, last, 1);
		chart_series_set_labels(series);
		chart_series_set_labels_num_format(series, "+0.0%;-0.0%;0.0%");
		chart_title_set_name(chart, report_section_name(r, s));
		chart_legend_set_position(chart, LXW_CHART_LEGEND_NONE);
		/* In a bar chart the y axis holds the categories: reversed, they read
		 * top down in catalog order, like the table; crossing at the last
		 * category keeps the value axis at the bottom. */
		chart_axis_set_reverse(chart->y_axis);
		chart_axis_set_crossing_max(chart->y_axis);
		chart_axis_set_num_format(chart->x_axis, "0%");
		/* Room for every bar: 288 px is the default height. */
		at.y_scale = (60.0 + 24.0 * (double)(last - first + 1)) / 288.0;
		if (at.y_scale < 1)
			at.y_scale = 1;
		check(x, worksheet_insert_chart_opt(ws, row, 3, chart, &at));
		chart_rows = (lxw_row_t)(at.y_scale * 288 / 20) + 2; /* rows are 20 px */
		row += (last - row + 2 > chart_rows ? last - row + 2 : chart_rows);
	}
	check(x, worksheet_set_column(ws, 0, 0, name_w, NULL));
	check(x, worksheet_set_column(ws, 1, 1, 12, NULL));
	worksheet_set_landscape(ws);
	worksheet_set_paper(ws, 9);
	worksheet_fit_to_pages(ws, 1, 0);
}

/* The provenance facts, label and value, so any figure can be proved later. */
static void write_about(struct xw *x, lxw_worksheet *ws)
{
	struct report_fact facts[REPORT_MAX_FACTS];
	size_t n = report_provenance(x->r, facts);

	check(x, worksheet_write_string(
	             ws, 0, 0, L(x, "数据来源与核验", "How these figures were made"), x->title));
	for (size_t i = 0; i < n; i++) {
		check(x,
		      worksheet_write_string(ws, (lxw_row_t)(i + 2), 0, facts[i].label, x->label));
		check(x, worksheet_write_string(ws, (lxw_row_t)(i + 2), 1, facts[i].value, NULL));
	}
	check(x, worksheet_set_column(ws, 0, 0, 24, NULL));
	check(x, worksheet_set_column(ws, 1, 1, 100, NULL));
	worksheet_set_paper(ws, 9);
	worksheet_set_landscape(ws);
	worksheet_fit_to_pages(ws, 1, 0);
}

static bool any_charted(const struct xw *x)
{
	for (size_t k = 0; k < report_n_figures(x->r); k++)
		if (charted(x, k))
			return true;
	return false;
}

/* Every sheet, in reading order; failures are left in x. */
static void write_workbook(struct xw *x, lxw_row_t *summary_at)
{
	const char *s_sum = L(x, "汇总", "Summary"), *s_org = L(x, "按单位", "By unit");
	const char *s_month = L(x, "按月", "By month"), *s_charts = L(x, "图表", "Charts");
	lxw_worksheet *sum = got(x, workbook_add_worksheet(x->wb, s_sum));
	lxw_worksheet *org = got(x, workbook_add_worksheet(x->wb, s_org));
	lxw_worksheet *month = got(x, workbook_add_worksheet(x->wb, s_month));
	lxw_worksheet *charts = NULL, *about;
	lxw_row_t end;

	if (x->compare && any_charted(x))
		charts = got(x, workbook_add_worksheet(x->wb, s_charts));
	about = got(x, workbook_add_worksheet(x->wb, L(x, "说明", "About")));
	if (failed(x))
		return;
	x->summary = s_sum;
	make_formats(x);
	x->at = summary_at;
	write_summary(x, sum);
	x->at = summary_at + report_n_figures(x->r); /* the second half: the other tables */
	write_pivot(x, org, x->r->by_org, L(x, "按单位", "by unit"));
	end = write_pivot(x, month, x->r->by_month, L(x, "按月", "by month"));
	month_chart(x, month, s_month, end);
	if (charts != NULL)
		write_charts(x, charts, s_charts, summary_at);
	write_about(x, about);
	worksheet_activate(sum);
}

yb_status report_xlsx_write(const struct report *r, const char *path, struct errbuf *eb)
{
	struct xw x = {.r = r,
	               .zh = i18n_language() == I18N_CHINESE,
	               .compare = r->total->previous_period[0] != '\0'};
	size_t n = report_n_figures(r);
	/* Each figure's row: in the summary, then in the table being written. */
	lxw_row_t *rows = calloc(2 * n + 1, sizeof(*rows));
	lxw_doc_properties props = {0};
	struct xlsxfile file;
	char title[512];
	yb_status st;

	if (rows == NULL)
		return status_fail(eb, YB_ENOMEM, _("out of memory writing %s"), path);
	if ((st = xlsxfile_open(&file, path, eb)) != YB_OK) {
		free(rows);
		return st;
	}
	x.wb = file.wb;
	write_workbook(&x, rows);
	free(rows);
	xlsxfile_check(&file, x.err);
	if (x.bad[0] != '\0') {
		xlsxfile_close(&file, false, true, eb);
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("cannot write %s: the figure %s is not a plain decimal"), path,
		                   x.bad);
	}
	snprintf(title, sizeof(title), "%s %s", r->total->org_name, r->total->period);
	props.title = title;
	props.comments = "yuebao report";
	xlsxfile_check(&file, workbook_set_properties(x.wb, &props));
	return xlsxfile_close(&file, true, true, eb);
}
