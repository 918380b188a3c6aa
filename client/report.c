/*
 * report.c - the model of `yuebao report` and the wording its formats share:
 * periods, changes and completeness for people, and the provenance block.
 *
 * Nothing here computes a figure; changes are worded from the signed
 * decimal strings the server sent (SPEC §10: a change is computed from the
 * figures as printed, by the server).
 */
#include "report.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "decimal.h"
#include "i18n.h"
#include "period.h"

static bool chinese(void)
{
	return i18n_language() == I18N_CHINESE;
}

yb_status report_parse_format(const char *s, enum report_format *out)
{
	static const char *const names[] = {
	    [REPORT_MD] = "md", [REPORT_HTML] = "html", [REPORT_XLSX] = "xlsx"};

	for (size_t i = 0; s != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum report_format)i;
			return YB_OK;
		}
	return YB_INVALID_ARGUMENT;
}

size_t report_n_figures(const struct report *r)
{
	return r->cat->n_elements + r->cat->n_indicators;
}

bool report_figure_is_indicator(const struct report *r, size_t k)
{
	assert(k < report_n_figures(r));
	return k >= r->cat->n_elements;
}

static const char *figure_code(const struct report *r, size_t k)
{
	return report_figure_is_indicator(r, k) ? r->cat->indicators[k - r->cat->n_elements].code
	                                        : r->cat->elements[k].code;
}

/* The invariants report.h promises, for one reply. */
static yb_status check_reply(const struct report *r, const Yuebao__V1__ConsolidateReply *reply,
                             const char *what, size_t min_groups, struct errbuf *eb)
{
	size_t n = report_n_figures(r);

	if (reply == NULL || reply->n_groups < min_groups)
		return status_fail(eb, YB_FAILED_PRECONDITION,
		                   _("report: the %s figures are missing"), what);
	for (size_t g = 0; g < reply->n_groups; g++) {
		const Yuebao__V1__Group *grp = reply->groups[g];
		if (grp->n_figures != n)
			return status_fail(
			    eb, YB_FAILED_PRECONDITION,
			    _("report: the server sent %zu figures, the catalog has "
			      "%zu; the catalog may have changed, run the report again"),
			    grp->n_figures, n);
		for (size_t k = 0; k < n; k++)
			if (strcmp(grp->figures[k]->code, figure_code(r, k)) != 0)
				return status_fail(
				    eb, YB_FAILED_PRECONDITION,
				    _("report: figure %zu is '%s', the catalog says '%s'; "
				      "the catalog may have changed, run the report again"),
				    k + 1, grp->figures[k]->code, figure_code(r, k));
	}
	return YB_OK;
}

yb_status report_check(const struct report *r, struct errbuf *eb)
{
	yb_status rc;

	if ((rc = check_reply(r, r->total, "total", 1, eb)) != YB_OK ||
	    (rc = check_reply(r, r->by_org, "by unit", 1, eb)) != YB_OK ||
	    (rc = check_reply(r, r->by_month, "by month", 1, eb)) != YB_OK)
		return rc;
	if (r->total->n_groups != 1)
		return status_fail(eb, YB_FAILED_PRECONDITION,
		                   _("report: the total came in %zu groups"), r->total->n_groups);
	return YB_OK;
}

size_t report_figure_section(const struct report *r, size_t k)
{
	size_t s = report_figure_is_indicator(r, k)
	               ? r->cat->indicators[k - r->cat->n_elements].section_index
	               : r->cat->elements[k].section_index;
	assert(s < r->cat->n_sections);
	return s;
}

const char *report_figure_name(const struct report *r, size_t k)
{
	const char *zh, *en;

	if (report_figure_is_indicator(r, k)) {
		zh = r->cat->indicators[k - r->cat->n_elements].name_zh;
		en = r->cat->indicators[k - r->cat->n_elements].name_en;
	} else {
		zh = r->cat->elements[k].name_zh;
		en = r->cat->elements[k].name_en;
	}
	return chinese() ? zh : en;
}

const char *report_figure_unit(const struct report *r, size_t k)
{
	return report_figure_is_indicator(r, k) ? r->cat->indicators[k - r->cat->n_elements].unit
	                                        : r->cat->elements[k].unit;
}

const char *report_section_name(const struct report *r, size_t section)
{
	assert(section < r->cat->n_sections);
	return chinese() ? r->cat->sections[section].name_zh : r->cat->sections[section].name_en;
}

bool report_figure_is_rate(const struct report *r, size_t k)
{
	return report_figure_is_indicator(r, k) &&
	       strcmp(r->cat->indicators[k - r->cat->n_elements].unit, "%") == 0;
}

int report_figure_decimals(const struct report *r, size_t k)
{
	if (report_figure_is_indicator(r, k))
		return r->cat->indicators[k - r->cat->n_elements].decimals;
	return r->cat->elements[k].type == CATALOG_AMOUNT ? 2 : 0;
}

bool report_figure_is_main_flow(const struct report *r, size_t k)
{
	if (report_figure_is_indicator(r, k) || r->cat->elements[k].agg != CATALOG_SUM)
		return false;
	for (size_t i = 0; i < k; i++)
		if (r->cat->elements[i].agg == CATALOG_SUM &&
		    r->cat->elements[i].section_index == r->cat->elements[k].section_index)
			return false;
	return true;
}

bool report_number(const char *s, double *out)
{
	bool neg = false;
	uint64_t digits = 0;
	int n = 0, frac = -1;
	double scale = 1;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	/* The digits as an integer, divided once by a power of ten: both exact below 10^18. */
	for (; *s; s++) {
		if (*s == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || n >= 18)
			return false;
		digits = digits * 10 + (uint64_t)(*s - '0');
		n++;
		if (frac >= 0)
			frac++;
	}
	if (n == 0 || frac == 0)
		return false;
	for (int i = 0; i < frac; i++)
		scale *= 10;
	*out = neg ? -(double)digits / scale : (double)digits / scale;
	return true;
}

bool report_change_charted(const Yuebao__V1__Figure *f)
{
	return f->change[0] != '\0' && strcmp(f->change_unit, "%") == 0;
}

static const char *const month_en[] = {"January",   "February", "March",    "April",
                                       "May",       "June",     "July",     "August",
                                       "September", "October",  "November", "December"};

static void month_words(int m, char *buf, size_t len)
{
	int y = period_month_year(m), mon = period_month_mon(m);

	if (chinese())
		snprintf(buf, len, "%d年%d月", y, mon);
	else
		snprintf(buf, len, "%s %d", month_en[mon - 1], y);
}

void report_period_words(const char *period, char *buf, size_t len)
{
	static const char *const quarter_zh[] = {"一", "二", "三", "四"};
	struct errbuf eb;
	struct period p;
	int y, first, n;

	if (period == NULL || period_parse(period, &p, &eb) != YB_OK) {
		snprintf(buf, len, "%s", period ? period : "");
		return;
	}
	y = period_month_year(p.first);
	first = period_month_mon(p.first);
	n = period_length(&p);
	if (n == 1)
		month_words(p.first, buf, len);
	else if (n == 12 && first == 1)
		snprintf(buf, len, chinese() ? "%d年度" : "%d", y);
	else if (n == 6 && (first == 1 || first == 7))
		snprintf(buf, len,
		         chinese() ? (first == 1 ? "%d年上半年" : "%d年下半年") : "%d H%d", y,
		         first == 1 ? 1 : 2);
	else if (n == 3 && first % 3 == 1) {
		if (chinese())
			snprintf(buf, len, "%d年第%s季度", y, quarter_zh[first / 3]);
		else
			snprintf(buf, len, "%d Q%d", y, first / 3 + 1);
	} else {
		char a[40], b[40];
		month_words(p.first, a, sizeof(a));
		month_words(p.last, b, sizeof(b));
		snprintf(buf, len, chinese() ? "%s至%s" : "%s to %s", a, b);
	}
}

/* -1, 0 or 1: the sign of a plain decimal string. */
static int sign_of(const char *s)
{
	int neg = s[0] == '-';

	for (s += neg; *s; s++)
		if (*s >= '1' && *s <= '9')
			return neg ? -1 : 1;
	return 0;
}

void report_change_phrase(const Yuebao__V1__Figure *f, char *buf, size_t len)
{
	bool pp = strcmp(f->change_unit, "pp") == 0;
	const char *mag = f->change;
	int s;

	if (f->change[0] == '\0') {
		snprintf(buf, len, "%s", "");
		return;
	}
	s = sign_of(f->change);
	mag += mag[0] == '-' || mag[0] == '+';
	if (s == 0)
		snprintf(buf, len, "%s", chinese() ? "持平" : "unchanged");
	else if (chinese())
		snprintf(buf, len, "%s%s%s",
		         pp ? (s > 0 ? "提高" : "降低") : (s > 0 ? "增长" : "下降"), mag,
		         pp ? "个百分点" : "%");
	else
		snprintf(buf, len, "%s %s%s", s > 0 ? "up" : "down", mag,
		         pp ? " percentage points" : "%");
}

void report_change_signed(const Yuebao__V1__Figure *f, char *buf, size_t len)
{
	bool pp = strcmp(f->change_unit, "pp") == 0;

	if (f->change[0] == '\0') {
		snprintf(buf, len, "%s", "");
		return;
	}
	snprintf(buf, len, "%s%s%s", sign_of(f->change) > 0 ? "+" : "", f->change,
	         pp ? (chinese() ? "个百分点" : " pp") : "%");
}

void report_cutoff_words(const struct report *r, char *buf, size_t len)
{
	char m[40];
	int month;
	struct errbuf eb;

	if (period_parse_month(r->cutoff, &month, &eb) != YB_OK) {
		snprintf(buf, len, "%s", "");
		return;
	}
	month_words(month, m, sizeof(m));
	snprintf(buf, len, chinese() ? "数据截至%s" : "Data up to %s", m);
}

void report_completeness_words(const Yuebao__V1__Group *g, bool previous, char *buf, size_t len)
{
	uint32_t present = previous ? g->previous_present : g->present;
	uint32_t expected = previous ? g->previous_expected : g->expected;
	char rate[32];

	if (expected == 0) {
		if (chinese())
			snprintf(buf, len, "尚无应报报表，已报%u份", present);
		else
			snprintf(buf, len, "%u returns (none expected yet)", present);
		return;
	}
	dec_percent_text(present, expected, rate, sizeof(rate));
	if (chinese())
		snprintf(buf, len, "应报%u份，实报%u份（%s%%）", expected, present, rate);
	else
		snprintf(buf, len, "%u of %u returns (%s%%)", present, expected, rate);
}

/* Adds a fact; its value is formatted. */
static struct report_fact *fact(struct report_fact *facts, size_t *n, const char *zh,
                                const char *en)
{
	struct report_fact *f = &facts[(*n)++];

	assert(*n <= REPORT_MAX_FACTS);
	f->label = chinese() ? zh : en;
	f->value[0] = '\0';
	return f;
}

size_t report_provenance(const struct report *r, struct report_fact *facts)
{
	const Yuebao__V1__ConsolidateReply *t = r->total;
	bool cmp = t->previous_period[0] != '\0';
	char words[80], when[TZ_TEXT_MAX];
	size_t n = 0;
	struct report_fact *f;
	struct errbuf eb;
	int month;

	f = fact(facts, &n, "单位", "Org unit");
	snprintf(f->value, sizeof(f->value), chinese() ? "%s（%s）" : "%s (%s)", t->org_name,
	         t->org);
	f = fact(facts, &n, "统计期间", "Period");
	report_period_words(t->period, words, sizeof(words));
	snprintf(f->value, sizeof(f->value), chinese() ? "%s（%s）" : "%s (%s)", words, t->period);
	f = fact(facts, &n, "对比期间", "Compared with");
	if (cmp) {
		report_period_words(t->previous_period, words, sizeof(words));
		snprintf(f->value, sizeof(f->value), chinese() ? "%s（%s），%s" : "%s (%s), %s",
		         words, t->previous_period,
		         strcmp(t->compare, "yoy") == 0 ? (chinese() ? "同比" : "year over year")
		                                        : (chinese() ? "环比" : "previous period"));
	} else {
		snprintf(f->value, sizeof(f->value), "%s", chinese() ? "无" : "none");
	}
	f = fact(facts, &n, "数据截至", "Data up to");
	if (period_parse_month(r->cutoff, &month, &eb) == YB_OK)
		month_words(month, f->value, sizeof(f->value));
	f = fact(facts, &n, "本期数据完整性", "Completeness");
	report_completeness_words(t->groups[0], false, f->value, sizeof(f->value));
	if (cmp) {
		f = fact(facts, &n, "对比期数据完整性", "Completeness, compared period");
		report_completeness_words(t->groups[0], true, f->value, sizeof(f->value));
	}
	f = fact(facts, &n, "统计口径", "Returns counted");
	snprintf(f->value, sizeof(f->value), "%s",
	         r->accepted_only
	             ? (chinese() ? "仅计已审核通过的报表" : "accepted returns only")
	             : (chinese() ? "每份报表最新的未退回版本（已报送或已通过）"
	                          : "the latest revision of each return that was not rejected"));
	f = fact(facts, &n, "生成时间", "Made at");
	tz_format(r->zone, r->generated_ms, TZ_PEOPLE, f->value, sizeof(f->value));
	f = fact(facts, &n, "审计日志检查点", "Audit log checkpoint");
	if (r->has_checkpoint) {
		tz_format(r->zone, r->log_at_ms, TZ_PEOPLE, when, sizeof(when));
		snprintf(f->value, sizeof(f->value),
		         chinese() ? "日志共%llu条，签署于%s，已用CA证书验证"
		                   : "%llu entries, signed %s, verified against the CA",
		         (unsigned long long)r->log_size, when);
		f = fact(facts, &n, "检查点根哈希", "Checkpoint root hash");
		snprintf(f->value, sizeof(f->value), "%s", r->log_root);
	} else {
		snprintf(f->value, sizeof(f->value), "%s",
		         chinese() ? "日志尚无检查点" : "the log has no checkpoint yet");
	}
	f = fact(facts, &n, "CA证书指纹（SHA-256）", "CA fingerprint (SHA-256)");
	snprintf(f->value, sizeof(f->value), "%s", r->ca_fingerprint);
	f = fact(facts, &n, "服务器版本", "Server version");
	snprintf(f->value, sizeof(f->value), "yuebaod %s", r->server_version);
	f = fact(facts, &n, "如何核对", "How to check a figure");
	snprintf(f->value, sizeof(f->value),
	         chinese()
	             ? "yuebao consolidate --org %s --period %s --explain 代码：列出该数字所依据"
	               "的每份报表及其审计日志条目；yuebao audit export 与 audit verify："
	               "离线核对这些条目在上述检查点之内"
	             : "yuebao consolidate --org %s --period %s --explain CODE lists the "
	               "returns behind a figure with their audit log entries; yuebao audit "
	               "export and audit verify check offline that those entries are in the "
	               "log under the checkpoint above",
	         t->org, t->period);
	return n;
}
