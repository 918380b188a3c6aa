/*
 * report_html.c - the page of `yuebao report --format html` (report_html.h).
 *
 * Written straight to the FILE as it goes: the page is a function of the
 * report alone, so nothing is built in memory and nothing needs freeing.
 * Write errors are sticky on the stream and checked once at the end.
 *
 * Coordinates in the SVG are whole pixels printed with %ld, never %f: the
 * client runs under setlocale(LC_ALL, "") (i18n_init), and a locale with a
 * decimal comma would turn "12.5" into "12,5", which SVG does not read. For
 * the same reason the server's decimals are parsed here, not with strtod.
 */
#include "report_html.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "i18n.h"
#include "text.h"

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */
#define NO_VALUE "\xE2\x80\x94"    /* U+2014, for a figure with no value: never 0 */
#define SVG_OPEN "<svg xmlns=\"http://www.w3.org/2000/svg\""

/* The natural width of every chart in px: about the A4 text width at 96 dpi. */
#define CHART_W 640
#define BAR_ROW 24  /* height of one bar's row */
#define BAR_FONT 12 /* px, names and labels in the bar charts */
#define BAR_ROOM 56 /* beside a bar's end, for its signed change */
#define NAME_MAX_W 240
#define BAR_PAD 8 /* left of the longest name */
/* A pivot with more columns of figures than this prints on a landscape page. */
#define PIVOT_PORTRAIT_COLS 7

/* Chosen by language here; po/ translations of these literals come later. */
static const char *tr(const char *zh, const char *en)
{
	return i18n_language() == I18N_CHINESE ? zh : en;
}

/*
 * Length of the valid UTF-8 sequence at p (at most len bytes), 0 when p
 * does not start one (text_utf8_decode) or starts a noncharacter XML
 * forbids (U+FFFE, U+FFFF).
 */
static size_t utf8_len(const unsigned char *p, size_t len)
{
	uint32_t c;
	size_t n = text_utf8_decode((const char *)p, len, &c);

	return n != 0 && c != 0xFFFE && c != 0xFFFF ? n : 0;
}

/*
 * Writes at most len bytes of s as XML text or attribute value: & < > "
 * escaped, and whatever a strict XML parser refuses (bytes that are not
 * UTF-8, control characters) replaced by U+FFFD. Names come from the
 * server's catalog and org list: the page must parse whatever they hold.
 */
static void put_text_n(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end && *p) {
		size_t n = utf8_len(p, (size_t)(end - p));
		if (n == 0) {
			fputs(REPLACEMENT, f);
			p++;
			continue;
		}
		switch (*p) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
				fputs(REPLACEMENT, f);
			else
				fwrite(p, 1, n, f);
		}
		p += n;
	}
}

static void put_text(FILE *f, const char *s)
{
	put_text_n(f, s, strlen(s));
}

/* open, then s escaped, then close: the page's most common line. */
static void put_elem(FILE *f, const char *open, const char *s, const char *close)
{
	fputs(open, f);
	put_text(f, s);
	fputs(close, f);
}

/* The figure's value or NO_VALUE: an empty string is "not reported", not 0. */
static const char *shown(const char *value)
{
	return value[0] ? value : NO_VALUE;
}

/* Rounds to a whole pixel; see the top of the file for why not %f. */
static long px(double x)
{
	return (long)(x < 0 ? x - 0.5 : x + 0.5);
}

/*
 * Bytes of s that fit in max_w px at font_px, at a character boundary; a
 * guess (no font metrics here): ASCII 0.6 em, anything else 1 em, which
 * errs wide for Latin and is right for CJK. *w receives the width used.
 */
static size_t text_fit(const char *s, int font_px, int max_w, int *w)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
	int used = 0;

	while (*p) {
		size_t n = utf8_len(p, (size_t)(end - p));
		int cw = (*p < 0x80 ? 6 : 10) * font_px / 10;
		if (used + cw > max_w)
			break;
		used += cw;
		p += n ? n : 1;
	}
	*w = used;
	return (size_t)(p - (const unsigned char *)s);
}

static int text_width(const char *s, int font_px)
{
	int w;
	text_fit(s, font_px, 1 << 20, &w);
	return w;
}

static const char *compare_words(const char *compare)
{
	if (strcmp(compare, "yoy") == 0)
		return tr("同比", "year on year");
	if (strcmp(compare, "prev") == 0)
		return tr("环比", "on the previous period");
	return compare;
}

static bool has_comparison(const struct report *r)
{
	return r->total->previous_period[0] != '\0';
}

static const Yuebao__V1__Figure *total_figure(const struct report *r, size_t k)
{
	return r->total->groups[0]->figures[k];
}

static bool section_has_figures(const struct report *r, size_t s)
{
	for (size_t k = 0; k < report_n_figures(r); k++)
		if (report_figure_section(r, k) == s)
			return true;
	return false;
}

/*
 * Kept short and free of '<' and '&' (it sits unescaped in <style>). Body in
 * a serif CJK face that prints well, tables in a sans one; local fonts
 * only. The "wide" page is for pivots too wide for portrait A4.
 */
static const char css[] =
    "@page{size:A4;margin:20mm 18mm}\n"
    "@page wide{size:A4 landscape}\n"
    "html{background:#eeede8}\n"
    "body{max-width:210mm;box-sizing:border-box;margin:0 auto;padding:16mm 18mm;"
    "background:#fff;color:#1b1b1b;font:10.5pt/1.75 \"Noto Serif CJK SC\","
    "\"Source Han Serif SC\",\"Songti SC\",SimSun,serif}\n"
    "h1{font-size:18pt;line-height:1.4;text-align:center;margin:0 0 .6em}\n"
    "h1 .sub{display:block;font-size:13pt;font-weight:normal}\n"
    "h2{font-size:14pt;margin:1.6em 0 .4em;padding-bottom:.1em;border-bottom:1px solid #888;"
    "break-after:avoid;page-break-after:avoid}\n"
    "h3{font-size:12pt;margin:1.2em 0 .3em;break-after:avoid;page-break-after:avoid}\n"
    "p.meta{margin:.1em 0;text-align:center;color:#333}\n"
    "p.note{font-size:9pt;color:#555;text-align:center}\n"
    "table{width:100%;border-collapse:collapse;margin:.4em 0 .8em;font:9pt/1.5 "
    "\"Noto Sans CJK SC\",\"Source Han Sans SC\",\"PingFang SC\",\"Microsoft YaHei\","
    "sans-serif}\n"
    "thead{display:table-header-group}\n"
    "th,td{padding:.25em .5em;border-bottom:1px solid #ddd;text-align:left;"
    "vertical-align:top}\n"
    "thead th{border-bottom:1.5px solid #333;background:#f4f3ee}\n"
    "tbody th{font-weight:normal}\n"
    "tr{break-inside:avoid;page-break-inside:avoid}\n"
    "tr.indicator{background:#fafaf6}\n"
    "tr.section th{font-weight:bold;background:#f4f3ee}\n"
    "td.value,td.previous,td.change,td.num,th.num{text-align:right;"
    "font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "td.unit{color:#555;white-space:nowrap}\n"
    "svg.chart{display:block;max-width:100%;height:auto;margin:.3em auto 1em;"
    "break-inside:avoid;page-break-inside:avoid}\n"
    "svg text{font-family:\"Noto Sans CJK SC\",\"Source Han Sans SC\",\"PingFang SC\","
    "\"Microsoft YaHei\",sans-serif}\n"
    "div.wide{overflow-x:auto}\n"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;"
    "font-size:9.5pt}\n"
    "dl.facts dt{color:#555}\n"
    "dl.facts dd{margin:0;overflow-wrap:anywhere}\n"
    "@media print{html{background:none}body{max-width:none;padding:0}"
    "div.wide.landscape{page:wide;overflow:visible}}\n";

static void write_head(FILE *f, const struct report *r, const char *period)
{
	fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"", f);
	fputs(tr("zh-CN", "en"), f);
	fputs("\">\n<head>\n<meta charset=\"utf-8\"/>\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n",
	      f);
	put_elem(f, "<title>", r->total->org_name, " ");
	put_text(f, period);
	put_elem(f, tr(" ", " - "), tr("统计报告", "figures"), "</title>\n");
	fprintf(f, "<style>\n%s</style>\n</head>\n<body>\n", css);
}

/* Title, comparison, cut-off and completeness of both periods. */
static void write_title(FILE *f, const struct report *r, const char *period)
{
	const Yuebao__V1__Group *g = r->total->groups[0];
	char buf[192];

	put_elem(f, "<header>\n<h1>", r->total->org_name, "<span class=\"sub\">");
	if (i18n_language() == I18N_CHINESE)
		put_elem(f, "", period, "党建工作统计报告");
	else
		put_elem(f, "Party-building figures, ", period, "");
	fputs("</span></h1>\n<p class=\"meta\">", f);
	if (has_comparison(r)) {
		report_period_words(r->total->previous_period, buf, sizeof(buf));
		put_elem(f, tr("与", "Compared with "), buf, tr("相比（", " ("));
		put_elem(f, "", compare_words(r->total->compare), tr("）", ")"));
	} else {
		fputs(tr("未作比较", "No comparison"), f);
	}
	report_cutoff_words(r, buf, sizeof(buf));
	put_elem(f, tr("；", "; "), buf, "");
	if (r->accepted_only)
		fputs(tr("；仅计已审核通过的报表", "; accepted returns only"), f);
	report_completeness_words(g, false, buf, sizeof(buf));
	put_elem(f, "</p>\n<p class=\"meta\">", tr("本期报表：", "This period: "), "");
	put_text(f, buf);
	if (has_comparison(r)) {
		report_completeness_words(g, true, buf, sizeof(buf));
		put_elem(f, tr("；上期报表：", "; previous period: "), buf, "");
	}
	fputs("</p>\n<p class=\"note\">", f);
	fputs(
	    tr("“" NO_VALUE "”表示无数据（不是0）。", "\"" NO_VALUE "\" means no data (not zero)."),
	    f);
	fputs("</p>\n</header>\n", f);
}

/* One section's figures: name, unit, value, and previous and change when compared. */
static void write_summary_table(FILE *f, const struct report *r, size_t s)
{
	bool cmp = has_comparison(r);
	char buf[128];

	fprintf(f,
	        "<table class=\"summary\">\n<thead><tr><th scope=\"col\">%s</th>"
	        "<th scope=\"col\">%s</th><th scope=\"col\" class=\"num\">%s</th>",
	        tr("项目", "Figure"), tr("单位", "Unit"), tr("本期", "This period"));
	if (cmp)
		fprintf(f,
		        "<th scope=\"col\" class=\"num\">%s</th><th scope=\"col\" "
		        "class=\"num\">%s</th>",
		        tr("上期", "Previous"), tr("增减", "Change"));
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t k = 0; k < report_n_figures(r); k++) {
		const Yuebao__V1__Figure *fig = total_figure(r, k);
		if (report_figure_section(r, k) != s)
			continue;
		put_elem(f, "<tr data-code=\"", fig->code, "\"");
		if (report_figure_is_indicator(r, k))
			fputs(" class=\"indicator\"", f);
		put_elem(f, "><th scope=\"row\">", report_figure_name(r, k), "</th>");
		put_elem(f, "<td class=\"unit\">", fig->unit, "</td>");
		put_elem(f, "<td class=\"value\">", shown(fig->value), "</td>");
		if (cmp) {
			put_elem(f, "<td class=\"previous\">", shown(fig->previous), "</td>");
			report_change_phrase(fig, buf, sizeof(buf));
			put_elem(f, "<td class=\"change\" title=\"", buf, "\">");
			report_change_signed(fig, buf, sizeof(buf));
			put_elem(f, "", shown(buf), "</td>");
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
}

/* Opens a chart's <svg> of w x h px with its class, section and <title>. */
static void svg_begin(FILE *f, const char *cls, const char *section, long w, long h,
                      const char *title, const char *title2)
{
	fprintf(f, SVG_OPEN " class=\"%s\"", cls);
	if (section != NULL)
		put_elem(f, " data-section=\"", section, "\"");
	fprintf(f, " width=\"%ld\" height=\"%ld\" viewBox=\"0 0 %ld %ld\" role=\"img\">\n", w, h, w,
	        h);
	put_elem(f, "<title>", title, "");
	put_elem(f, "", title2, "</title>\n");
}

/* A chart with nothing to draw still says why, so each section has one. */
static void svg_message(FILE *f, const char *cls, const char *section, const char *title,
                        const char *message)
{
	svg_begin(f, cls, section, CHART_W, 40, title, "");
	fprintf(f, "<text x=\"%d\" y=\"25\" text-anchor=\"middle\" font-size=\"%d\" fill=\"#777\">",
	        CHART_W / 2, BAR_FONT);
	put_elem(f, "", message, "</text>\n</svg>\n");
}

/* True when figure f has a change in per cent that a bar can show; *v is that change. */
static bool bar_change(const Yuebao__V1__Figure *f, double *v)
{
	return report_change_charted(f) && report_number(f->change, v);
}

/* One figure's bar: its name on the left, the bar from the axis, the signed change at its end. */
static void write_bar(FILE *f, const struct report *r, size_t k, long y, int name_w, long axis,
                      double len)
{
	const Yuebao__V1__Figure *fig = total_figure(r, k);
	const char *name = report_figure_name(r, k);
	char buf[128];
	double v = 0;
	long l = px(len), mid = y + BAR_ROW / 2 + 4;
	int w;
	size_t fit = text_fit(name, BAR_FONT, name_w, &w);

	bar_change(fig, &v);
	if (v != 0 && l < 1)
		l = 1; /* a change too small to see still shows which way it went */
	put_elem(f, "<g data-code=\"", fig->code, "\"><title>");
	report_change_phrase(fig, buf, sizeof(buf));
	put_elem(f, "", name, tr("：", ": "));
	put_elem(f, "", buf, "</title>");
	fprintf(f, "<text x=\"%d\" y=\"%ld\" text-anchor=\"end\" font-size=\"%d\">",
	        name_w + BAR_PAD, mid, BAR_FONT);
	put_text_n(f, name, fit);
	if (name[fit])
		fputs("…", f);
	fprintf(f, "</text><rect x=\"%ld\" y=\"%ld\" width=\"%ld\" height=\"%d\" fill=\"%s\"/>",
	        v < 0 ? axis - l : axis, y + 5, l, BAR_ROW - 10, v < 0 ? "#5d8aa8" : "#b5533c");
	report_change_signed(fig, buf, sizeof(buf));
	fprintf(f, "<text x=\"%ld\" y=\"%ld\" text-anchor=\"%s\" font-size=\"%d\">",
	        v < 0 ? axis - l - 4 : axis + l + 4, mid, v < 0 ? "end" : "start", BAR_FONT);
	put_elem(f, "", buf, "</text></g>\n");
}

/*
 * The section's changes in per cent as horizontal bars from a zero axis,
 * scaled to the largest magnitude; the axis sits in the middle only when
 * changes go both ways. Changes in points (rates) are left to the table:
 * points and per cent on one scale would mislead.
 */
static void write_section_chart(FILE *f, const struct report *r, size_t s)
{
	const char *code = r->cat->sections[s].code;
	const char *name = report_section_name(r, s);
	char title[192];
	size_t n = 0;
	double max = 0, v;
	bool neg = false, pos = false;
	int name_w = 40;

	if (!has_comparison(r)) {
		svg_message(f, "chart section-chart", code, name, tr("未作比较", "No comparison"));
		return;
	}
	snprintf(title, sizeof(title), tr("：各项%s增减（%%）", ": change %s (%%)"),
	         compare_words(r->total->compare));
	for (size_t k = 0; k < report_n_figures(r); k++) {
		if (report_figure_section(r, k) != s || !bar_change(total_figure(r, k), &v))
			continue;
		n++;
		max = v < 0 ? (-v > max ? -v : max) : (v > max ? v : max);
		neg |= v < 0;
		pos |= v > 0;
		int w = text_width(report_figure_name(r, k), BAR_FONT);
		if (w > name_w)
			name_w = w > NAME_MAX_W ? NAME_MAX_W : w;
	}
	if (n == 0) {
		svg_message(f, "chart section-chart", code, name,
		            tr("本部分没有可按百分比比较的数字",
		               "No figure of this section has a change in per cent"));
		return;
	}
	/* Names end at name_w + BAR_PAD: a font wider than the guess still fits. */
	long x0 = name_w + BAR_PAD + 12, avail = CHART_W - x0 - 8;
	long bar_max = neg && pos ? (avail - 2 * BAR_ROOM) / 2 : avail - BAR_ROOM;
	long axis = neg ? x0 + BAR_ROOM + bar_max : x0 + 4;
	long h = (long)n * BAR_ROW + 12, y = 6;

	svg_begin(f, "chart section-chart", code, CHART_W, h, name, title);
	for (size_t k = 0; k < report_n_figures(r); k++) {
		if (report_figure_section(r, k) != s || !bar_change(total_figure(r, k), &v))
			continue;
		write_bar(f, r, k, y, name_w, axis, max > 0 ? (v < 0 ? -v : v) / max * bar_max : 0);
		y += BAR_ROW;
	}
	fprintf(f, "<line x1=\"%ld\" y1=\"2\" x2=\"%ld\" y2=\"%ld\" stroke=\"#333\"/>\n</svg>\n",
	        axis, axis, h - 2);
}

/* A figure cell's text for the pivots: the value or NO_VALUE. */
static void write_pivot_cell(FILE *f, const Yuebao__V1__Group *g, size_t k, bool total)
{
	fputs(total ? "<td class=\"value total\"" : "<td class=\"value\"", f);
	if (!total)
		put_elem(f, " data-group=\"", g->key, "\"");
	put_elem(f, ">", shown(g->figures[k]->value), "</td>");
}

/*
 * Figures down (grouped by section, in catalog order), groups across: the
 * total first, then each child unit (by_org, headed by name) or month
 * (by_month, headed by key); the last row says how many returns are behind
 * each column.
 */
static void write_pivot(FILE *f, const struct report *r, const Yuebao__V1__ConsolidateReply *p,
                        const char *id, bool by_org)
{
	size_t cols = p->n_groups;

	fprintf(f, "<div class=\"wide%s\"><table id=\"%s\" class=\"pivot\">\n<thead><tr>",
	        cols > PIVOT_PORTRAIT_COLS ? " landscape" : "", id);
	fprintf(f, "<th scope=\"col\">%s</th><th scope=\"col\">%s</th>", tr("项目", "Figure"),
	        tr("单位", "Unit"));
	fprintf(f, "<th scope=\"col\" class=\"num\">%s</th>", tr("合计", "Total"));
	for (size_t g = 1; g < cols; g++) {
		const Yuebao__V1__Group *grp = p->groups[g];
		put_elem(f, "<th scope=\"col\" class=\"num\" data-group=\"", grp->key, "\">");
		put_elem(f, "", by_org && grp->name[0] ? grp->name : grp->key, "</th>");
	}
	fputs("</tr></thead>\n", f);
	for (size_t s = 0; s < r->cat->n_sections; s++) {
		if (!section_has_figures(r, s))
			continue;
		put_elem(f, "<tbody data-section=\"", r->cat->sections[s].code, "\">");
		fprintf(f, "<tr class=\"section\"><th scope=\"rowgroup\" colspan=\"%zu\">",
		        cols + 2);
		put_elem(f, "", report_section_name(r, s), "</th></tr>\n");
		for (size_t k = 0; k < report_n_figures(r); k++) {
			if (report_figure_section(r, k) != s)
				continue;
			put_elem(f, "<tr data-code=\"", total_figure(r, k)->code, "\"");
			if (report_figure_is_indicator(r, k))
				fputs(" class=\"indicator\"", f);
			put_elem(f, "><th scope=\"row\">", report_figure_name(r, k), "</th>");
			put_elem(f, "<td class=\"unit\">", total_figure(r, k)->unit, "</td>");
			for (size_t g = 0; g < cols; g++)
				write_pivot_cell(f, p->groups[g], k, g == 0);
			fputs("</tr>\n", f);
		}
		fputs("</tbody>\n", f);
	}
	fprintf(f, "<tfoot><tr class=\"completeness\"><th scope=\"row\" colspan=\"2\">%s</th>",
	        tr("实报/应报报表", "Returns present/expected"));
	for (size_t g = 0; g < cols; g++)
		fprintf(f, "<td class=\"num\">%u/%u</td>", (unsigned)p->groups[g]->present,
		        (unsigned)p->groups[g]->expected);
	fputs("</tr></tfoot>\n</table></div>\n", f);
}

/* A step of 1, 2 or 5 times a power of ten (at least 1) giving at most 5 steps up to max. */
static double nice_step(double max)
{
	static const double m[] = {1, 2, 5};

	for (double p = 1; p < 1e18; p *= 10)
		for (size_t i = 0; i < 3; i++)
			if (max <= 5 * m[i] * p)
				return m[i] * p;
	return 1e18;
}

/* Line styles of the month chart's series: colour and dashes, apart in grey print too. */
static const char *const line_colour[] = {"#b5533c", "#2f6690", "#3a7d44", "#8c6d1f",
                                          "#6b4e8a", "#1d7874", "#a0522d", "#444444"};
static const char *const line_dash[] = {"", "6 3", "2 3", "9 3 2 3"};
#define N_COLOURS (sizeof(line_colour) / sizeof(line_colour[0]))
#define N_DASHES (sizeof(line_dash) / sizeof(line_dash[0]))

static void line_style(FILE *f, size_t i)
{
	fprintf(f, " stroke=\"%s\"", line_colour[i % N_COLOURS]);
	if (line_dash[i % N_DASHES][0])
		fprintf(f, " stroke-dasharray=\"%s\"", line_dash[i % N_DASHES]);
}

enum { MC_LEFT = 64, MC_RIGHT = 36, MC_TOP = 12, MC_PLOT_H = 220, MC_LEGEND_ROW = 20 };

/* One series: a path broken where a month has no value, and a dot on each value. */
static void write_series(FILE *f, const struct report *r, size_t k, size_t i, double top)
{
	const Yuebao__V1__ConsolidateReply *m = r->by_month;
	size_t months = m->n_groups - 1;
	double pw = CHART_W - MC_LEFT - MC_RIGHT, v;
	bool pen = false;

	put_elem(f, "<g data-code=\"", total_figure(r, k)->code, "\"><title>");
	put_elem(f, "", report_figure_name(r, k),
	         "</title>\n<path fill=\"none\" stroke-width=\"2\"");
	line_style(f, i);
	fputs(" d=\"", f);
	for (size_t j = 0; j < months; j++) {
		long x = MC_LEFT + px(months > 1 ? pw * (double)j / (double)(months - 1) : pw / 2);
		if (!report_number(m->groups[j + 1]->figures[k]->value, &v)) {
			pen = false;
			continue;
		}
		fprintf(f, "%s%ld %ld", pen ? " L" : " M", x,
		        MC_TOP + px(MC_PLOT_H * (1 - v / top)));
		pen = true;
	}
	fputs("\"/>\n", f);
	for (size_t j = 0; j < months; j++) {
		long x = MC_LEFT + px(months > 1 ? pw * (double)j / (double)(months - 1) : pw / 2);
		if (report_number(m->groups[j + 1]->figures[k]->value, &v))
			fprintf(f, "<circle cx=\"%ld\" cy=\"%ld\" r=\"3\" fill=\"%s\"/>", x,
			        MC_TOP + px(MC_PLOT_H * (1 - v / top)), line_colour[i % N_COLOURS]);
	}
	fputs("</g>\n", f);
}

/*
 * The main flows (report_figure_is_main_flow) month by month on one scale
 * from 0, gridlines at nice steps, month keys below (thinned when they
 * would overlap), a legend in two columns underneath.
 */
static void write_month_chart(FILE *f, const struct report *r)
{
	const Yuebao__V1__ConsolidateReply *m = r->by_month;
	const char *title = tr("主要工作量逐月变化", "Main flows month by month");
	size_t months = m->n_groups > 0 ? m->n_groups - 1 : 0, series = 0;
	double max = 0, v;

	for (size_t k = 0; k < report_n_figures(r); k++) {
		if (!report_figure_is_main_flow(r, k))
			continue;
		series++;
		for (size_t j = 1; j <= months; j++)
			if (report_number(m->groups[j]->figures[k]->value, &v) && v > max)
				max = v;
	}
	if (months == 0 || series == 0) {
		svg_message(f, "chart month-chart", NULL, title,
		            tr("没有逐月数字可画", "No monthly figures to draw"));
		return;
	}
	double step = nice_step(max), top = step;
	while (top < max)
		top += step;
	long legend_y = MC_TOP + MC_PLOT_H + 40;
	long h = legend_y + (long)((series + 1) / 2) * MC_LEGEND_ROW + 4;
	double pw = CHART_W - MC_LEFT - MC_RIGHT;
	size_t every = (size_t)(months * 56 / pw) + 1; /* a key is about 50 px wide */

	svg_begin(f, "chart month-chart", NULL, CHART_W, h, title, "");
	for (int t = 0; t * step <= top + step / 2; t++) {
		long y = MC_TOP + px(MC_PLOT_H * (1 - t * step / top));
		fprintf(f, "<line x1=\"%d\" y1=\"%ld\" x2=\"%d\" y2=\"%ld\" stroke=\"%s\"/>",
		        MC_LEFT, y, CHART_W - MC_RIGHT, y, t == 0 ? "#333" : "#ddd");
		fprintf(
		    f,
		    "<text x=\"%d\" y=\"%ld\" text-anchor=\"end\" font-size=\"11\">%lld</text>\n",
		    MC_LEFT - 6, y + 4, (long long)(t * step + 0.5));
	}
	for (size_t j = 0; j < months; j += every) {
		long x = MC_LEFT + px(months > 1 ? pw * (double)j / (double)(months - 1) : pw / 2);
		fprintf(f, "<text x=\"%ld\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\">", x,
		        MC_TOP + MC_PLOT_H + 18);
		put_elem(f, "", m->groups[j + 1]->key, "</text>\n");
	}
	size_t i = 0;
	for (size_t k = 0; k < report_n_figures(r); k++) {
		if (!report_figure_is_main_flow(r, k))
			continue;
		write_series(f, r, k, i, top);
		long lx = MC_LEFT + (long)(i % 2) * (CHART_W - MC_LEFT) / 2;
		long ly = legend_y + (long)(i / 2) * MC_LEGEND_ROW;
		fprintf(f,
		        "<g class=\"legend\"><line x1=\"%ld\" y1=\"%ld\" x2=\"%ld\" y2=\"%ld\" "
		        "stroke-width=\"2\"",
		        lx, ly - 4, lx + 28, ly - 4);
		line_style(f, i);
		fprintf(f, "/><text x=\"%ld\" y=\"%ld\" font-size=\"%d\">", lx + 36, ly, BAR_FONT);
		put_text(f, report_figure_name(r, k));
		if (total_figure(r, k)->unit[0])
			put_elem(f, tr("（", " ("), total_figure(r, k)->unit, tr("）", ")"));
		fputs("</text></g>\n", f);
		i++;
	}
	fputs("</svg>\n", f);
}

static void write_provenance(FILE *f, const struct report *r)
{
	struct report_fact facts[REPORT_MAX_FACTS];
	size_t n = report_provenance(r, facts);

	fprintf(f, "<section id=\"provenance\">\n<h2>%s</h2>\n<dl class=\"facts\">\n",
	        tr("数据来源与核验", "Where the figures come from"));
	for (size_t i = 0; i < n && i < REPORT_MAX_FACTS; i++) {
		put_elem(f, "<dt>", facts[i].label, "</dt>");
		put_elem(f, "<dd>", facts[i].value, "</dd>\n");
	}
	fputs("</dl>\n</section>\n", f);
}

yb_status report_html_write(const struct report *r, FILE *out, struct errbuf *eb)
{
	char period[128];
	yb_status st;

	/* Figure k is element k of every group: the tables index by it, so check first. */
	st = report_check(r, eb);
	if (st != YB_OK)
		return st;
	report_period_words(r->total->period, period, sizeof(period));
	write_head(out, r, period);
	write_title(out, r, period);
	for (size_t s = 0; s < r->cat->n_sections; s++) {
		if (!section_has_figures(r, s))
			continue;
		put_elem(out, "<section class=\"figures\" data-section=\"",
		         r->cat->sections[s].code, "\">\n");
		put_elem(out, "<h2>", report_section_name(r, s), "</h2>\n");
		write_summary_table(out, r, s);
		write_section_chart(out, r, s);
		fputs("</section>\n", out);
	}
	fprintf(out, "<section id=\"by-unit\">\n<h2>%s</h2>\n", tr("分单位情况", "By unit"));
	write_pivot(out, r, r->by_org, "pivot-org", true);
	fprintf(out, "</section>\n<section id=\"by-month\">\n<h2>%s</h2>\n",
	        tr("分月情况", "By month"));
	write_month_chart(out, r);
	write_pivot(out, r, r->by_month, "pivot-month", false);
	fputs("</section>\n", out);
	write_provenance(out, r);
	fputs("</body>\n</html>\n", out);
	/* Buffered writes fail late: flush so a full disk is reported here, not lost. */
	int err = fflush(out) != 0 ? errno : 0;
	if (err != 0 || ferror(out))
		return status_fail(eb, YB_EIO, "cannot write the HTML report: %s",
		                   err != 0 ? strerror(err) : "write error");
	return YB_OK;
}
