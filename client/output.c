/*
 * output.c - tables, CSV and JSON for the client.
 *
 * JSON is built with jansson. Figures stay strings ("12.5") or null in
 * JSON: they are exact decimals, and a JSON number would invite a reader to
 * parse them into binary floating point.
 */
#include "output.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "decimal.h"
#include "i18n.h"
#include "text.h"
#include "merkle.h"

int output_parse_format(const char *s, enum output_format *out)
{
	if (strcmp(s, "table") == 0)
		*out = OUTPUT_TABLE;
	else if (strcmp(s, "csv") == 0)
		*out = OUTPUT_CSV;
	else if (strcmp(s, "json") == 0)
		*out = OUTPUT_JSON;
	else
		return -1;
	return 0;
}

void output_csv_field(FILE *f, const char *s)
{
	/* A cell a spreadsheet would run as a formula is made text (OWASP). */
	bool formula = text_is_formula(s);

	if (!formula && strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	if (formula)
		fputc('\'', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/*
 * A JSON string of text someone else wrote: jansson refuses bytes that are
 * not UTF-8 (and the whole object with them), so they become U+FFFD.
 */
static json_t *json_text(const char *s)
{
	json_t *j = json_string(s);
	char *fixed;

	if (j != NULL || (fixed = text_valid_utf8(s)) == NULL)
		return j;
	j = json_string(fixed);
	free(fixed);
	return j;
}

/*
 * Text someone else wrote, for this terminal (text_terminal_copy). The copy
 * lives until four more are made: enough for one printf of the client.
 */
static const char *shown(const char *s)
{
	static char *ring[4];
	static unsigned next;
	char *copy = text_terminal_copy(s);

	if (copy == NULL)
		return "";
	free(ring[next % 4]);
	ring[next++ % 4] = copy;
	return copy;
}

/* Terminal columns of a UTF-8 string: CJK and full-width characters take two. */
static int display_width(const char *s)
{
	int w = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		unsigned cp;
		int n;
		if (*p < 0x80) {
			cp = *p;
			n = 1;
		} else if ((*p & 0xE0) == 0xC0) {
			cp = *p & 0x1F;
			n = 2;
		} else if ((*p & 0xF0) == 0xE0) {
			cp = *p & 0x0F;
			n = 3;
		} else {
			cp = *p & 0x07;
			n = 4;
		}
		for (int i = 1; i < n; i++) {
			if ((p[i] & 0xC0) != 0x80) {
				n = i;
				break;
			}
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		p += n;
		w += (cp >= 0x1100 &&
		      (cp <= 0x115F || (cp >= 0x2E80 && cp <= 0xA4CF) ||
		       (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
		       (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
		       (cp >= 0xFFE0 && cp <= 0xFFE6) || cp >= 0x20000))
		         ? 2
		         : 1;
	}
	return w;
}

/*
 * Prints s padded to width columns; right-aligned when right is true.
 * Control characters (ESC sequences...) never reach the terminal.
 */
static void cell(FILE *f, const char *s, int width, bool right)
{
	int pad = width - display_width(s);

	if (right)
		fprintf(f, "%*s", pad > 0 ? pad : 0, "");
	text_fputs_terminal(s, false, f);
	if (!right)
		fprintf(f, "%*s", pad > 0 ? pad : 0, "");
}

/* A simple table: columns of strings, widths computed from the content. */
struct table {
	size_t ncols, nrows, cap;
	const char **cells; /* row-major, nrows * ncols; pointers borrowed */
	const bool *right;
};

static int table_add(struct table *t, const char *const *row)
{
	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		const char **p = realloc(t->cells, ncap * t->ncols * sizeof(*p));
		if (p == NULL)
			return -1;
		t->cells = p;
		t->cap = ncap;
	}
	memcpy(&t->cells[t->nrows * t->ncols], row, t->ncols * sizeof(*row));
	t->nrows++;
	return 0;
}

static void table_print(FILE *f, const struct table *t)
{
	int width[16] = {0};

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols && c < 16; c++) {
			int w = display_width(t->cells[r * t->ncols + c]);
			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			if (c > 0)
				fputs("  ", f);
			cell(f, t->cells[r * t->ncols + c],
			     c + 1 == t->ncols && !t->right[c] ? 0 : width[c], t->right[c]);
		}
		fputc('\n', f);
	}
}

static void table_free(struct table *t)
{
	free(t->cells);
	t->cells = NULL;
}

/* A catalog name for people: the catalog's Chinese or English column, by language. */
static const char *name_of(const char *zh, const char *en)
{
	return (i18n_language() == I18N_CHINESE) || en == NULL || en[0] == '\0' ? zh : en;
}

/*
 * A catalog name in CSV and JSON: always the catalog's own (Chinese) name, so
 * that what scripts read is the same bytes whatever the user's language.
 */
static const char *data_name(const char *zh)
{
	return zh;
}

const char *output_state_word(const char *state)
{
	if (strcmp(state, "submitted") == 0)
		return _("submitted");
	if (strcmp(state, "accepted") == 0)
		return _("accepted");
	if (strcmp(state, "rejected") == 0)
		return _("rejected");
	if (strcmp(state, "missing") == 0)
		return _("missing");
	if (strcmp(state, "not due") == 0)
		return _("not due");
	return state;
}

/* A review action ("accept", "reject", "reopen") as a word for people. */
static const char *action_word(const char *action)
{
	if (strcmp(action, "accept") == 0)
		return _("accept");
	if (strcmp(action, "reject") == 0)
		return _("reject");
	if (strcmp(action, "reopen") == 0)
		return _("reopen");
	return action;
}

static const char *type_name(enum catalog_type t)
{
	return t == CATALOG_AMOUNT ? "amount" : "int";
}

static const char *agg_name(enum catalog_agg a)
{
	return a == CATALOG_LAST ? "last" : "sum";
}

static const char *change_name(enum catalog_change c)
{
	return c == CATALOG_POINTS ? "points" : "percent";
}

static int print_json(FILE *f, json_t *root)
{
	int rc = root != NULL ? json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : -1;

	if (rc == 0)
		fputc('\n', f);
	json_decref(root);
	return rc == 0 ? 0 : -1;
}

int output_catalog(FILE *f, const struct catalog *cat, enum output_format fmt)
{
	if (fmt == OUTPUT_JSON) {
		json_t *root = json_object(), *els = json_array(), *inds = json_array(),
		       *rules = json_array();
		for (size_t i = 0; i < cat->n_elements; i++) {
			const struct catalog_element *e = &cat->elements[i];
			json_array_append_new(
			    els, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "code", e->code,
			                   "section", e->section, "name_zh", e->name_zh, "name_en",
			                   e->name_en, "unit", e->unit, "type", type_name(e->type),
			                   "aggregation", agg_name(e->agg)));
		}
		for (size_t i = 0; i < cat->n_indicators; i++) {
			const struct catalog_indicator *x = &cat->indicators[i];
			json_array_append_new(
			    inds,
			    json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "code", x->code,
			              "name_zh", x->name_zh, "name_en", x->name_en, "unit", x->unit,
			              "formula", formula_text(x->formula), "decimals", x->decimals,
			              "change", change_name(x->change)));
		}
		for (size_t i = 0; i < cat->n_rules; i++) {
			const struct catalog_rule *r = &cat->rules[i];
			json_array_append_new(
			    rules,
			    json_pack("{s:s, s:s, s:s, s:s, s:s}", "code", r->code, "rule",
			              formula_text(r->rule), "severity",
			              r->severity == CATALOG_RULE_ERROR ? "error" : "warning",
			              "message_zh", r->message_zh, "message_en", r->message_en));
		}
		json_object_set_new(root, "digest", json_string(cat->digest));
		json_object_set_new(root, "elements", els);
		json_object_set_new(root, "indicators", inds);
		json_object_set_new(root, "rules", rules);
		return print_json(f, root);
	}
	if (fmt == OUTPUT_CSV) {
		fputs("kind,code,section,name,unit,type,aggregation,formula,decimals,change,"
		      "severity\n",
		      f);
		for (size_t i = 0; i < cat->n_elements; i++) {
			const struct catalog_element *e = &cat->elements[i];
			fprintf(f, "element,%s,%s,", e->code, e->section);
			output_csv_field(f, data_name(e->name_zh));
			fputc(',', f);
			output_csv_field(f, e->unit);
			fprintf(f, ",%s,%s,,,,\n", type_name(e->type), agg_name(e->agg));
		}
		for (size_t i = 0; i < cat->n_indicators; i++) {
			const struct catalog_indicator *x = &cat->indicators[i];
			fprintf(f, "indicator,%s,,", x->code);
			output_csv_field(f, data_name(x->name_zh));
			fputc(',', f);
			output_csv_field(f, x->unit);
			fputs(",,,", f);
			output_csv_field(f, formula_text(x->formula));
			fprintf(f, ",%d,%s,\n", x->decimals, change_name(x->change));
		}
		for (size_t i = 0; i < cat->n_rules; i++) {
			const struct catalog_rule *r = &cat->rules[i];
			fprintf(f, "rule,%s,,", r->code);
			output_csv_field(f, data_name(r->message_zh));
			fputs(",,,,", f);
			output_csv_field(f, formula_text(r->rule));
			fprintf(f, ",,,%s\n",
			        r->severity == CATALOG_RULE_ERROR ? "error" : "warning");
		}
		return 0;
	}
	{
		static const bool right[] = {false, false, false, false, false, false};
		struct table t = {.ncols = 6, .right = right};
		const char *head[] = {_("code"), _("section"), _("name"),
		                      _("unit"), _("type"),    _("aggregation")};
		char buf[64];

		fprintf(f, _("Elements (%zu)\n"), cat->n_elements);
		table_add(&t, head);
		for (size_t i = 0; i < cat->n_elements; i++) {
			const struct catalog_element *e = &cat->elements[i];
			const char *row[] = {
			    e->code, e->section,         name_of(e->name_zh, e->name_en),
			    e->unit, type_name(e->type), agg_name(e->agg)};
			table_add(&t, row);
		}
		table_print(f, &t);
		table_free(&t);
		t.nrows = t.cap = 0;
		t.ncols = 5;
		fprintf(f, _("\nIndicators (%zu)\n"), cat->n_indicators);
		{
			const char *h[] = {_("code"), _("name"), _("unit"), _("change"),
			                   _("formula")};
			table_add(&t, h);
		}
		for (size_t i = 0; i < cat->n_indicators; i++) {
			const struct catalog_indicator *x = &cat->indicators[i];
			const char *row[] = {x->code, name_of(x->name_zh, x->name_en), x->unit,
			                     change_name(x->change), formula_text(x->formula)};
			table_add(&t, row);
		}
		table_print(f, &t);
		table_free(&t);
		t.nrows = t.cap = 0;
		t.ncols = 4;
		fprintf(f, _("\nRules (%zu)\n"), cat->n_rules);
		{
			const char *h[] = {_("code"), _("severity"), _("rule"), _("message")};
			table_add(&t, h);
		}
		for (size_t i = 0; i < cat->n_rules; i++) {
			const struct catalog_rule *r = &cat->rules[i];
			const char *row[] = {
			    r->code, r->severity == CATALOG_RULE_ERROR ? _("error") : _("warning"),
			    formula_text(r->rule), name_of(r->message_zh, r->message_en)};
			table_add(&t, row);
		}
		table_print(f, &t);
		table_free(&t);
		snprintf(buf, sizeof(buf), "%.12s", cat->digest);
		fprintf(f, _("\ncatalog sha256 %s...\n"), buf);
	}
	return 0;
}

/*
 * part / whole as a percentage with one decimal, rounded half away from zero
 * like every other rate ("96.7%" for 29 of 30); "-" when whole is 0.
 */
static void rate_text(char *buf, size_t len, uint32_t part, uint32_t whole)
{
	char num[32];

	dec_percent_text(part, whole, num, sizeof(num));
	if (strcmp(num, "-") == 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s%%", num);
}

/* "24 of 24 returns (100.0%)" */
static void completeness(char *buf, size_t len, uint32_t present, uint32_t expected)
{
	char rate[40];

	rate_text(rate, sizeof(rate), present, expected);
	if (expected == 0)
		snprintf(buf, len, _("%u returns (none expected yet)"), present);
	else
		snprintf(buf, len, _("%u of %u returns (%s)"), present, expected, rate);
}

static const char *compare_words(const char *c)
{
	return strcmp(c, "yoy") == 0 ? _("year over year") : _("previous period");
}

static void consolidate_csv(FILE *out, FILE *err, const Yuebao__V1__ConsolidateReply *r)
{
	bool by = r->by[0] != '\0';

	if (by) {
		fputs(r->by, out);
		fputc(',', out);
	}
	fputs("code,name,unit,value,previous,change,change_unit\n", out);
	for (size_t g = 0; g < r->n_groups; g++) {
		const Yuebao__V1__Group *grp = r->groups[g];
		char done[96], prev[96];

		completeness(done, sizeof(done), grp->present, grp->expected);
		completeness(prev, sizeof(prev), grp->previous_present, grp->previous_expected);
		if (r->previous_period[0])
			fprintf(err, _("%s %s%s%s: %s; previous: %s\n"), r->org, r->period,
			        grp->key[0] ? " " : "", grp->key, done, prev);
		else
			fprintf(err, _("%s %s%s%s: %s\n"), r->org, r->period,
			        grp->key[0] ? " " : "", grp->key, done);
		for (size_t i = 0; i < grp->n_figures; i++) {
			const Yuebao__V1__Figure *f = grp->figures[i];
			if (by) {
				output_csv_field(out, grp->key);
				fputc(',', out);
			}
			fprintf(out, "%s,", f->code);
			output_csv_field(out, data_name(f->name_zh));
			fputc(',', out);
			output_csv_field(out, f->unit);
			fprintf(out, ",%s,%s,%s,%s\n", f->value, f->previous, f->change,
			        f->change[0] ? f->change_unit : "");
		}
	}
}

static json_t *opt_string(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

static int consolidate_json(FILE *out, const Yuebao__V1__ConsolidateReply *r)
{
	json_t *root = json_object(), *groups = json_array();

	json_object_set_new(root, "org", json_string(r->org));
	json_object_set_new(root, "org_name", json_string(r->org_name));
	json_object_set_new(root, "period", json_string(r->period));
	json_object_set_new(root, "previous_period", opt_string(r->previous_period));
	json_object_set_new(root, "compare", opt_string(r->compare));
	json_object_set_new(root, "by", opt_string(r->by));
	for (size_t g = 0; g < r->n_groups; g++) {
		const Yuebao__V1__Group *grp = r->groups[g];
		json_t *jg = json_object(), *figs = json_array();
		if (r->by[0])
			json_object_set_new(jg, r->by, opt_string(grp->key));
		json_object_set_new(jg, "name", opt_string(grp->name));
		json_object_set_new(jg, "completeness",
		                    json_pack("{s:i, s:i, s:i, s:i}", "expected",
		                              (int)grp->expected, "present", (int)grp->present,
		                              "previous_expected", (int)grp->previous_expected,
		                              "previous_present", (int)grp->previous_present));
		for (size_t i = 0; i < grp->n_figures; i++) {
			const Yuebao__V1__Figure *f = grp->figures[i];
			json_t *jf = json_object();
			json_object_set_new(jf, "code", json_string(f->code));
			json_object_set_new(jf, "kind", json_string(f->kind));
			json_object_set_new(jf, "name", json_string(data_name(f->name_zh)));
			json_object_set_new(jf, "unit", json_string(f->unit));
			json_object_set_new(jf, "value", opt_string(f->value));
			json_object_set_new(jf, "previous", opt_string(f->previous));
			json_object_set_new(jf, "change", opt_string(f->change));
			json_object_set_new(jf, "change_unit",
			                    f->change[0] ? json_string(f->change_unit)
			                                 : json_null());
			json_array_append_new(figs, jf);
		}
		json_object_set_new(jg, "figures", figs);
		json_array_append_new(groups, jg);
	}
	json_object_set_new(root, "groups", groups);
	return print_json(out, root);
}

static void consolidate_table(FILE *out, const Yuebao__V1__ConsolidateReply *r)
{
	static const bool right[] = {false, false, false, true, true, true};
	bool cmp = r->previous_period[0] != '\0';

	if (cmp)
		fprintf(out, _("Consolidated %s (%s), %s, compared with %s (%s)\n"), r->org_name,
		        r->org, r->period, r->previous_period, compare_words(r->compare));
	else
		fprintf(out, _("Consolidated %s (%s), %s\n"), r->org_name, r->org, r->period);
	for (size_t g = 0; g < r->n_groups; g++) {
		const Yuebao__V1__Group *grp = r->groups[g];
		struct table t = {.ncols = cmp ? 6 : 4, .right = right};
		const char *head[] = {_("code"),  _("name"),     _("unit"),
		                      _("value"), _("previous"), _("change")};
		char done[96], prev[96];
		char(*changes)[64] = calloc(grp->n_figures + 1, sizeof(*changes));

		if (changes == NULL)
			return;
		completeness(done, sizeof(done), grp->present, grp->expected);
		completeness(prev, sizeof(prev), grp->previous_present, grp->previous_expected);
		fprintf(out, "\n== %s%s%s\n", grp->key[0] ? grp->key : _("total"),
		        grp->name[0] ? " " : "", grp->name);
		if (cmp)
			fprintf(out, _("data: %s; previous: %s\n"), done, prev);
		else
			fprintf(out, _("data: %s\n"), done);
		table_add(&t, head);
		for (size_t i = 0; i < grp->n_figures; i++) {
			const Yuebao__V1__Figure *f = grp->figures[i];
			const char *row[6];
			if (f->change[0])
				snprintf(changes[i], sizeof(changes[i]), "%s%s%s",
				         f->change[0] == '-' ? "" : "+", f->change, f->change_unit);
			row[0] = f->code;
			row[1] = name_of(f->name_zh, f->name_en);
			row[2] = f->unit;
			row[3] = f->value[0] ? f->value : "-";
			row[4] = f->previous[0] ? f->previous : "-";
			row[5] = changes[i][0] ? changes[i] : "-";
			table_add(&t, row);
		}
		table_print(out, &t);
		table_free(&t);
		free(changes);
	}
}

int output_consolidate(FILE *out, FILE *err, const Yuebao__V1__ConsolidateReply *r,
                       enum output_format fmt)
{
	switch (fmt) {
	case OUTPUT_CSV:
		consolidate_csv(out, err, r);
		return 0;
	case OUTPUT_JSON:
		return consolidate_json(out, r);
	default:
		consolidate_table(out, r);
		return 0;
	}
}

/*
 * A time in the deployment's zone with its offset: "2027-01-06 04:00:00
 * +08:00" in tables, RFC 3339 ("2027-01-06T04:00:00+08:00") in CSV and JSON.
 */
static void format_time(const struct tz *zone, int64_t ms, enum output_format fmt, char *buf,
                        size_t len)
{
	tz_format(zone, ms, fmt == OUTPUT_TABLE ? TZ_PEOPLE : TZ_RFC3339, buf, len);
}

/* One line of output_ping_expiry: what, until when, and how long is left. */
static void expiry_line(FILE *f, const struct tz *zone, const char *what, int64_t at_ms,
                        int64_t now_ms)
{
	const int64_t day_ms = 86400 * (int64_t)1000;
	char when[TZ_TEXT_MAX];

	format_time(zone, at_ms, OUTPUT_TABLE, when, sizeof(when));
	if (at_ms <= now_ms)
		fprintf(f, _("%s: expired on %s\n"), what, when);
	else if (at_ms - now_ms < 30 * day_ms)
		fprintf(f, _("%s: valid until %s, only %lld day(s) left: renew it\n"), what, when,
		        (long long)((at_ms - now_ms) / day_ms));
	else
		fprintf(f, _("%s: valid until %s (%lld days left)\n"), what, when,
		        (long long)((at_ms - now_ms) / day_ms));
}

void output_ping_expiry(FILE *f, const Yuebao__V1__PingReply *r, const struct tz *zone)
{
	if (r->server_cert_not_after_ms == 0)
		return; /* not an admin */
	expiry_line(f, zone, _("server certificate"), r->server_cert_not_after_ms,
	            r->server_time_ms);
	expiry_line(f, zone, _("CA certificate"), r->ca_cert_not_after_ms, r->server_time_ms);
	if (r->crl_next_update_ms != 0)
		expiry_line(f, zone, _("revocation list (CRL)"), r->crl_next_update_ms,
		            r->server_time_ms);
	else
		fprintf(f, _("revocation list (CRL): none (yuebaod runs without --crl)\n"));
}

void output_ping_daemons(FILE *f, const Yuebao__V1__PingReply *r, const struct tz *zone)
{
	size_t differ = 0;
	char when[TZ_TEXT_MAX];

	if (r->n_daemons == 0)
		return;
	fprintf(f, _("daemons on this database: %zu\n"), r->n_daemons);
	for (size_t i = 0; i < r->n_daemons; i++) {
		const Yuebao__V1__DaemonSeen *d = r->daemons[i];
		fprintf(f, "  %s pid %lld %s", d->host, (long long)d->pid,
		        d->listen[0] != '\0' ? d->listen : "-");
		if (d->self)
			fputs(_(" (this one)"), f);
		if (d->gone) {
			format_time(zone, d->seen_at_ms, OUTPUT_TABLE, when, sizeof(when));
			fprintf(f, _(", gone: last seen %s"), when);
		} else if (d->differs) {
			fprintf(f,
			        _(", serves a different org tree or catalog (sha256 %.12s, %.12s)"),
			        d->orgs_digest, d->catalog_digest);
			differ++;
		}
		fputc('\n', f);
	}
	if (differ > 0)
		fprintf(
		    f,
		    _("warning: %zu daemon(s) serve other files than this one: give every daemon "
		      "the same org tree and catalog, and reload them (SIGHUP)\n"),
		    differ);
}

static json_t *reviews_json(Yuebao__V1__ReviewEvent *const *rv, size_t n, const struct tz *zone)
{
	json_t *arr = json_array();
	char when[TZ_TEXT_MAX];

	for (size_t i = 0; i < n; i++) {
		format_time(zone, rv[i]->at_ms, OUTPUT_JSON, when, sizeof(when));
		json_array_append_new(arr,
		                      json_pack("{s:i, s:s, s:o, s:o, s:s, s:s}", "revision",
		                                (int)rv[i]->revision, "action", rv[i]->action,
		                                "comment", json_text(rv[i]->comment), "reviewer",
		                                json_text(rv[i]->reviewer), "fingerprint",
		                                rv[i]->fingerprint, "at", when));
	}
	return arr;
}

/*
 * Findings for scripts: severity, field, the sentence (in the reader's
 * language) and, for those stored as codes, the language-free kind and
 * parameters (null for a finding stored before codes were).
 */
static json_t *findings_json(Yuebao__V1__FieldError *const *fe, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *params = fe[i]->kind[0] ? json_loads(fe[i]->params, 0, NULL) : NULL;
		json_array_append_new(
		    arr, json_pack("{s:s, s:s, s:s, s:s?, s:o?}", "severity", fe[i]->severity,
		                   "field", fe[i]->field, "message", fe[i]->message, "kind",
		                   fe[i]->kind[0] ? fe[i]->kind : NULL, "params", params));
	}
	return arr;
}

static void print_review(FILE *f, const Yuebao__V1__ReviewEvent *e, const struct tz *zone)
{
	char when[TZ_TEXT_MAX];

	format_time(zone, e->at_ms, OUTPUT_TABLE, when, sizeof(when));
	if (e->comment[0])
		fprintf(f, _("  %s: %s revision %u by %s: \"%s\"\n"), when, action_word(e->action),
		        e->revision, shown(e->reviewer), shown(e->comment));
	else
		fprintf(f, _("  %s: %s revision %u by %s\n"), when, action_word(e->action),
		        e->revision, shown(e->reviewer));
}

int output_return(FILE *f, const Yuebao__V1__ReturnRevision *r, const struct catalog *cat,
                  const struct tz *zone, enum output_format fmt)
{
	char when[TZ_TEXT_MAX];

	format_time(zone, r->received_at_ms, fmt, when, sizeof(when));
	if (fmt == OUTPUT_JSON) {
		json_t *root = json_object(), *vals = json_array();
		json_object_set_new(root, "org", json_string(r->org));
		json_object_set_new(root, "org_name", json_string(r->org_name));
		json_object_set_new(root, "period", json_string(r->period));
		json_object_set_new(root, "revision", json_integer(r->revision));
		json_object_set_new(root, "revisions", json_integer(r->revisions));
		json_object_set_new(root, "state", json_string(r->state));
		json_object_set_new(root, "received_at", json_string(when));
		json_object_set_new(root, "on_time", json_boolean(r->on_time));
		json_object_set_new(root, "reason", json_text(r->reason));
		json_object_set_new(root, "submitter", json_text(r->submitter));
		json_object_set_new(root, "fingerprint", json_string(r->fingerprint));
		json_object_set_new(root, "request_sha256", json_string(r->request_sha256));
		for (size_t i = 0; i < r->n_values; i++)
			json_array_append_new(vals,
			                      json_pack("{s:s, s:s}", "code", r->values[i]->code,
			                                "value", r->values[i]->value));
		json_object_set_new(root, "values", vals);
		json_object_set_new(root, "findings", findings_json(r->findings, r->n_findings));
		json_object_set_new(root, "reviews", reviews_json(r->reviews, r->n_reviews, zone));
		return print_json(f, root);
	}
	if (fmt == OUTPUT_CSV) {
		fputs("code,name,unit,value\n", f);
		for (size_t i = 0; i < r->n_values; i++) {
			int e = cat ? catalog_find_element(cat, r->values[i]->code) : -1;
			fprintf(f, "%s,", r->values[i]->code);
			output_csv_field(f, e >= 0 ? data_name(cat->elements[e].name_zh) : "");
			fputc(',', f);
			output_csv_field(f, e >= 0 ? cat->elements[e].unit : "");
			fprintf(f, ",%s\n", r->values[i]->value);
		}
		return 0;
	}
	fprintf(f, _("Return %s (%s), %s, revision %u of %u: %s\n"), r->org_name, r->org, r->period,
	        r->revision, r->revisions, output_state_word(r->state));
	fprintf(f, _("received %s (%s) from %s\n"), when, r->on_time ? _("on time") : _("late"),
	        shown(r->submitter));
	if (r->reason[0])
		fprintf(f, _("reason: %s\n"), shown(r->reason));
	fprintf(f, _("request sha256 %s\n\n"), r->request_sha256);
	{
		static const bool right[] = {false, false, false, true};
		struct table t = {.ncols = 4, .right = right};
		const char *head[] = {_("code"), _("name"), _("unit"), _("value")};
		table_add(&t, head);
		for (size_t i = 0; i < r->n_values; i++) {
			int e = cat ? catalog_find_element(cat, r->values[i]->code) : -1;
			const char *row[] = {
			    r->values[i]->code,
			    e >= 0 ? name_of(cat->elements[e].name_zh, cat->elements[e].name_en)
			           : "",
			    e >= 0 ? cat->elements[e].unit : "", r->values[i]->value};
			table_add(&t, row);
		}
		table_print(f, &t);
		table_free(&t);
	}
	for (size_t i = 0; i < r->n_findings; i++)
		output_field_error(f, r->findings[i]);
	for (size_t i = 0; i < r->n_reviews; i++)
		print_review(f, r->reviews[i], zone);
	return 0;
}

void output_problem(FILE *f, const char *severity, const char *message)
{
	if (severity[0] == '\0' || strcmp(severity, "error") == 0)
		fprintf(f, _("  error: %s\n"), message);
	else if (strcmp(severity, "warning") == 0)
		fprintf(f, _("  warning: %s\n"), message);
	else if (strcmp(severity, "skipped") == 0)
		fprintf(f, _("  skipped: %s\n"), message);
	else
		fprintf(f, "  %s: %s\n", severity, message);
}

void output_field_error(FILE *f, const Yuebao__V1__FieldError *e)
{
	output_problem(f, e->severity, e->message);
}

int output_history(FILE *f, Yuebao__V1__HistoryReply *const *pages, size_t n_pages,
                   const struct tz *zone, enum output_format fmt)
{
	const Yuebao__V1__HistoryReply *h = pages[0];
	size_t total = 0;
	char when[TZ_TEXT_MAX];

	for (size_t p = 0; p < n_pages; p++)
		total += pages[p]->n_revisions;
	if (fmt == OUTPUT_JSON) {
		json_t *root = json_object(), *revs = json_array();
		json_object_set_new(root, "org", json_string(h->org));
		json_object_set_new(root, "org_name", json_string(h->org_name));
		json_object_set_new(root, "period", json_string(h->period));
		json_object_set_new(root, "closed", json_boolean(h->closed));
		for (size_t p = 0; p < n_pages; p++)
			for (size_t i = 0; i < pages[p]->n_revisions; i++) {
				const Yuebao__V1__RevisionSummary *r = pages[p]->revisions[i];
				json_t *jr, *ch = json_array();
				format_time(zone, r->received_at_ms, fmt, when, sizeof(when));
				for (size_t k = 0; k < r->n_changes; k++)
					json_array_append_new(
					    ch, json_pack(
					            "{s:s, s:s?, s:s?}", "code",
					            r->changes[k]->code, "before",
					            r->changes[k]->before[0] ? r->changes[k]->before
					                                     : NULL,
					            "after",
					            r->changes[k]->after[0] ? r->changes[k]->after
					                                    : NULL));
				jr = json_pack("{s:i, s:s, s:s, s:b, s:o, s:o, s:s, s:s}",
				               "revision", (int)r->revision, "state", r->state,
				               "received_at", when, "on_time", r->on_time, "reason",
				               json_text(r->reason), "submitter",
				               json_text(r->submitter), "fingerprint",
				               r->fingerprint, "request_sha256", r->request_sha256);
				json_object_set_new(jr, "changes", ch);
				json_object_set_new(jr, "findings",
				                    findings_json(r->findings, r->n_findings));
				json_array_append_new(revs, jr);
			}
		json_object_set_new(root, "revisions", revs);
		json_object_set_new(root, "reviews", reviews_json(h->reviews, h->n_reviews, zone));
		return print_json(f, root);
	}
	if (fmt == OUTPUT_CSV) {
		fputs("revision,state,received_at,on_time,submitter,fingerprint,reason,code,before,"
		      "after\n",
		      f);
		for (size_t p = 0; p < n_pages; p++)
			for (size_t i = 0; i < pages[p]->n_revisions; i++) {
				const Yuebao__V1__RevisionSummary *r = pages[p]->revisions[i];
				format_time(zone, r->received_at_ms, fmt, when, sizeof(when));
				for (size_t k = 0; k < r->n_changes || k == 0; k++) {
					fprintf(f, "%u,%s,%s,%s,", r->revision, r->state, when,
					        r->on_time ? "yes" : "no");
					output_csv_field(f, r->submitter);
					fprintf(f, ",%s,", r->fingerprint);
					output_csv_field(f, r->reason);
					if (k < r->n_changes)
						fprintf(f, ",%s,%s,%s\n", r->changes[k]->code,
						        r->changes[k]->before,
						        r->changes[k]->after);
					else
						fputs(",,,\n", f);
				}
			}
		return 0;
	}
	if (h->closed)
		fprintf(f,
		        total == 1
		            ? _("History of %s (%s), %s: %zu revision; the period is closed\n")
		            : _("History of %s (%s), %s: %zu revisions; the period is closed\n"),
		        h->org_name, h->org, h->period, total);
	else
		fprintf(f,
		        total == 1 ? _("History of %s (%s), %s: %zu revision\n")
		                   : _("History of %s (%s), %s: %zu revisions\n"),
		        h->org_name, h->org, h->period, total);
	for (size_t p = 0; p < n_pages; p++)
		for (size_t i = 0; i < pages[p]->n_revisions; i++) {
			const Yuebao__V1__RevisionSummary *r = pages[p]->revisions[i];
			format_time(zone, r->received_at_ms, fmt, when, sizeof(when));
			fprintf(f, _("\nrevision %u: %s, received %s (%s)\n"), r->revision,
			        output_state_word(r->state), when,
			        r->on_time ? _("on time") : _("late"));
			fprintf(f, _("  by %s, certificate sha256 %.16s...\n"), shown(r->submitter),
			        r->fingerprint);
			if (r->reason[0])
				fprintf(f, _("  reason: %s\n"), shown(r->reason));
			if (r->revision == 1)
				fprintf(f,
				        r->n_changes == 1 ? _("  %zu value reported\n")
				                          : _("  %zu values reported\n"),
				        r->n_changes);
			else if (r->n_changes == 0)
				fputs(_("  no value changed\n"), f);
			else
				for (size_t k = 0; k < r->n_changes; k++)
					fprintf(f, "  %s: %s -> %s\n", r->changes[k]->code,
					        r->changes[k]->before[0] ? r->changes[k]->before
					                                 : _("(blank)"),
					        r->changes[k]->after[0] ? r->changes[k]->after
					                                : _("(blank)"));
			for (size_t k = 0; k < r->n_findings; k++)
				output_field_error(f, r->findings[k]);
		}
	if (h->n_reviews > 0)
		fputs(_("\nreviews:\n"), f);
	for (size_t i = 0; i < h->n_reviews; i++)
		print_review(f, h->reviews[i], zone);
	return 0;
}

/* "accepted", "submitted r2 late", "missing": one cell of the status grid. */
static void cell_text(const Yuebao__V1__StatusCell *c, char *buf, size_t len)
{
	char rev[16] = "";

	if (c->revision > 1)
		snprintf(rev, sizeof(rev), " r%u", c->revision);
	snprintf(buf, len, "%s%s%s%s%s%s", output_state_word(c->state), rev,
	         c->revision && !c->on_time ? " " : "", c->revision && !c->on_time ? _("late") : "",
	         c->closed ? " " : "", c->closed ? _("(closed)") : "");
}

int output_status(FILE *out, FILE *err, Yuebao__V1__StatusReply *const *pages, size_t n_pages,
                  const struct tz *zone, enum output_format fmt)
{
	const Yuebao__V1__StatusReply *s = pages[0];
	char comp[40], timely[40], when[TZ_TEXT_MAX];

	rate_text(comp, sizeof(comp), s->present, s->expected);
	rate_text(timely, sizeof(timely), s->on_time, s->expected);
	if (fmt == OUTPUT_JSON) {
		json_t *root = json_object(), *rows = json_array();
		json_object_set_new(root, "org", json_string(s->org));
		json_object_set_new(root, "org_name", json_string(s->org_name));
		json_object_set_new(root, "period", json_string(s->period));
		json_object_set_new(root, "totals",
		                    json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "branches",
		                              (int)s->total_rows, "expected", (int)s->expected,
		                              "present", (int)s->present, "on_time",
		                              (int)s->on_time, "accepted", (int)s->accepted,
		                              "rejected", (int)s->rejected));
		for (size_t p = 0; p < n_pages; p++)
			for (size_t i = 0; i < pages[p]->n_rows; i++) {
				const Yuebao__V1__StatusRow *row = pages[p]->rows[i];
				json_t *cells = json_array();
				for (size_t k = 0; k < row->n_months; k++) {
					const Yuebao__V1__StatusCell *c = row->months[k];
					format_time(zone, c->received_at_ms, fmt, when,
					            sizeof(when));
					json_array_append_new(
					    cells,
					    json_pack("{s:s, s:s, s:i, s:b, s:s?, s:b}", "month",
					              c->month, "state", c->state, "revision",
					              (int)c->revision, "on_time", c->on_time,
					              "received_at", c->revision ? when : NULL,
					              "closed", c->closed));
				}
				json_array_append_new(
				    rows, json_pack("{s:s, s:s, s:o}", "org", row->org, "name",
				                    row->org_name, "months", cells));
			}
		json_object_set_new(root, "rows", rows);
		return print_json(out, root);
	}
	if (fmt == OUTPUT_CSV) {
		fputs("org,name,month,state,revision,on_time,received_at,closed\n", out);
		for (size_t p = 0; p < n_pages; p++)
			for (size_t i = 0; i < pages[p]->n_rows; i++) {
				const Yuebao__V1__StatusRow *row = pages[p]->rows[i];
				for (size_t k = 0; k < row->n_months; k++) {
					const Yuebao__V1__StatusCell *c = row->months[k];
					format_time(zone, c->received_at_ms, fmt, when,
					            sizeof(when));
					fprintf(out, "%s,", row->org);
					output_csv_field(out, row->org_name);
					fprintf(out, ",%s,%s,%u,%s,%s,%s\n", c->month, c->state,
					        c->revision,
					        c->revision ? (c->on_time ? "yes" : "no") : "",
					        c->revision ? when : "", c->closed ? "yes" : "no");
				}
			}
		fprintf(
		    err,
		    _("%s %s: %u branches, %u of %u returns present (completeness %s), %u on time "
		      "(timeliness %s), %u accepted, %u rejected\n"),
		    s->org, s->period, s->total_rows, s->present, s->expected, comp, s->on_time,
		    timely, s->accepted, s->rejected);
		return 0;
	}
	fprintf(out,
	        s->total_rows == 1 ? _("Status of %s (%s), %s: %u branch\n\n")
	                           : _("Status of %s (%s), %s: %u branches\n\n"),
	        s->org_name, s->org, s->period, s->total_rows);
	{
		size_t n_months = s->n_rows > 0 ? s->rows[0]->n_months : 0;
		size_t ncols = 2 + n_months;
		bool *right = calloc(ncols, sizeof(bool));
		struct table t = {.ncols = ncols, .right = right};
		const char **row_cells = calloc(ncols, sizeof(char *));
		char(*texts)[64] = NULL;
		size_t n_texts = 0;

		for (size_t p = 0; p < n_pages; p++)
			n_texts += pages[p]->n_rows * n_months;
		texts = calloc(n_texts + 1, sizeof(*texts));
		if (right == NULL || row_cells == NULL || texts == NULL) {
			free(right);
			free(row_cells);
			free(texts);
			return -1;
		}
		row_cells[0] = _("org");
		row_cells[1] = _("name");
		for (size_t k = 0; k < n_months; k++)
			row_cells[2 + k] = s->rows[0]->months[k]->month;
		table_add(&t, row_cells);
		n_texts = 0;
		for (size_t p = 0; p < n_pages; p++)
			for (size_t i = 0; i < pages[p]->n_rows; i++) {
				const Yuebao__V1__StatusRow *row = pages[p]->rows[i];
				row_cells[0] = row->org;
				row_cells[1] = row->org_name;
				for (size_t k = 0; k < n_months && k < row->n_months; k++) {
					cell_text(row->months[k], texts[n_texts], sizeof(texts[0]));
					row_cells[2 + k] = texts[n_texts++];
				}
				table_add(&t, row_cells);
			}
		table_print(out, &t);
		table_free(&t);
		free(right);
		free(row_cells);
		free(texts);
	}
	fprintf(out,
	        _("\ncompleteness %s (%u of %u returns), timeliness %s (%u on time), %u accepted, "
	          "%u rejected\n"),
	        comp, s->present, s->expected, timely, s->on_time, s->accepted, s->rejected);
	return 0;
}

/* Entries whose comment is kept with them: reviews, closes and reopens. */
static bool has_comment(const char *action)
{
	return strncmp(action, "review:", 7) == 0 || strcmp(action, "close") == 0 ||
	       strcmp(action, "reopen") == 0;
}

/* "branch/ZFW-JG", "yuebaod", "(unverified) branch/X", or "-" when nobody is recorded. */
static void actor_text(const Yuebao__V1__AuditEntry *e, char *buf, size_t len)
{
	char who[160];

	if (e->actor_role[0] && e->actor_org[0])
		snprintf(who, sizeof(who), "%s/%s", e->actor_role, e->actor_org);
	else
		snprintf(who, sizeof(who), "%s",
		         e->actor_role[0]  ? e->actor_role
		         : e->actor_org[0] ? e->actor_org
		                           : "-");
	if (e->actor_unverified)
		snprintf(buf, len, _("(unverified) %s"), who);
	else
		snprintf(buf, len, "%s", who);
}

/* A table row of the audit log: the texts its cells point to. */
struct audit_row {
	char index[24], when[40], actor[200], cert[20];
	char *comment; /* one line, owned */
};

static int audit_log_table(FILE *f, Yuebao__V1__AuditLogReply *const *pages, size_t n_pages,
                           const struct tz *zone, size_t total)
{
	static const bool right[] = {true, false, false, false, false, false, false};
	struct table t = {.ncols = 7, .right = right};
	struct audit_row *rows = calloc(total + 1, sizeof(*rows));
	const char *cells[7] = {_("entry"),  _("time"),   _("actor"),  _("certificate"),
	                        _("action"), _("object"), _("comment")};
	size_t k = 0;
	int rc = 0;

	if (rows == NULL || table_add(&t, cells) != 0) {
		free(rows);
		return -1;
	}
	for (size_t p = 0; p < n_pages; p++)
		for (size_t i = 0; i < pages[p]->n_entries && k < total; i++, k++) {
			const Yuebao__V1__AuditEntry *e = pages[p]->entries[i];
			struct audit_row *r = &rows[k];
			snprintf(r->index, sizeof(r->index), "%llu", (unsigned long long)e->index);
			format_time(zone, e->at_ms, OUTPUT_TABLE, r->when, sizeof(r->when));
			actor_text(e, r->actor, sizeof(r->actor));
			snprintf(r->cert, sizeof(r->cert), "%.16s",
			         e->fingerprint[0] ? e->fingerprint : "-");
			/* A comment is free text: on one line here (CSV and JSON keep it whole). */
			if ((r->comment = strdup(has_comment(e->action) ? e->comment : "")) ==
			    NULL) {
				rc = -1;
				goto done;
			}
			for (char *c = r->comment; *c; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					*c = ' ';
			cells[0] = r->index;
			cells[1] = r->when;
			cells[2] = r->actor;
			cells[3] = r->cert;
			cells[4] = e->action;
			cells[5] = e->object;
			cells[6] = r->comment;
			if (table_add(&t, cells) != 0) {
				rc = -1;
				goto done;
			}
		}
	table_print(f, &t);
done:
	for (size_t i = 0; i < k; i++)
		free(rows[i].comment);
	free(rows);
	table_free(&t);
	return rc;
}

static void audit_log_csv(FILE *f, Yuebao__V1__AuditLogReply *const *pages, size_t n_pages,
                          const struct tz *zone)
{
	char when[TZ_TEXT_MAX], leaf[MERKLE_HEX_LEN + 1];

	fputs("index,time,action,object,leaf_hash,actor_role,actor_org,fingerprint,actor_verified,"
	      "comment\n",
	      f);
	for (size_t p = 0; p < n_pages; p++)
		for (size_t i = 0; i < pages[p]->n_entries; i++) {
			const Yuebao__V1__AuditEntry *e = pages[p]->entries[i];
			leaf[0] = '\0';
			if (e->leaf_hash.len == MERKLE_HASH_LEN)
				merkle_hex(e->leaf_hash.data, leaf);
			format_time(zone, e->at_ms, OUTPUT_CSV, when, sizeof(when));
			fprintf(f, "%llu,%s,", (unsigned long long)e->index, when);
			output_csv_field(f, e->action);
			fputc(',', f);
			output_csv_field(f, e->object);
			fprintf(f, ",%s,", leaf);
			output_csv_field(f, e->actor_role);
			fputc(',', f);
			output_csv_field(f, e->actor_org);
			fprintf(f, ",%s,%s,", e->fingerprint, e->actor_unverified ? "no" : "yes");
			output_csv_field(f, has_comment(e->action) ? e->comment : "");
			fputc('\n', f);
		}
}

static int audit_log_json(FILE *f, Yuebao__V1__AuditLogReply *const *pages, size_t n_pages,
                          const struct tz *zone, const Yuebao__V1__Checkpoint *cp, const char *root)
{
	json_t *doc = json_object(), *entries = json_array();
	char when[TZ_TEXT_MAX], leaf[MERKLE_HEX_LEN + 1];

	for (size_t p = 0; p < n_pages; p++)
		for (size_t i = 0; i < pages[p]->n_entries; i++) {
			const Yuebao__V1__AuditEntry *e = pages[p]->entries[i];
			leaf[0] = '\0';
			if (e->leaf_hash.len == MERKLE_HASH_LEN)
				merkle_hex(e->leaf_hash.data, leaf);
			format_time(zone, e->at_ms, OUTPUT_JSON, when, sizeof(when));
			json_array_append_new(
			    entries,
			    json_pack("{s:I, s:s, s:{s:o, s:o, s:o, s:b}, s:s, s:s, s:o?, s:s}",
			              "index", (json_int_t)e->index, "time", when, "actor", "role",
			              opt_string(e->actor_role), "org", opt_string(e->actor_org),
			              "fingerprint", opt_string(e->fingerprint), "verified",
			              !e->actor_unverified, "action", e->action, "object",
			              e->object, "comment",
			              has_comment(e->action) ? json_text(e->comment) : NULL,
			              "leaf_hash", leaf));
		}
	json_object_set_new(doc, "entries", entries);
	json_object_set_new(
	    doc, "checkpoint",
	    root[0] ? json_pack("{s:I, s:s}", "size", (json_int_t)cp->size, "root", root)
	            : json_null());
	return print_json(f, doc);
}

int output_audit_log(FILE *f, Yuebao__V1__AuditLogReply *const *pages, size_t n_pages,
                     const struct tz *zone, enum output_format fmt)
{
	const Yuebao__V1__Checkpoint *cp = n_pages > 0 ? pages[n_pages - 1]->checkpoint : NULL;
	char root[MERKLE_HEX_LEN + 1] = "";
	size_t total = 0;

	if (cp != NULL && cp->root.len == MERKLE_HASH_LEN)
		merkle_hex(cp->root.data, root);
	if (fmt == OUTPUT_CSV) {
		audit_log_csv(f, pages, n_pages, zone);
		return 0;
	}
	if (fmt == OUTPUT_JSON)
		return audit_log_json(f, pages, n_pages, zone, cp, root);
	for (size_t p = 0; p < n_pages; p++)
		total += pages[p]->n_entries;
	if (audit_log_table(f, pages, n_pages, zone, total) != 0)
		return -1;
	if (root[0])
		fprintf(f, _("log of %llu entries, root %s\n"), (unsigned long long)cp->size, root);
	return 0;
}
