/*
 * narrative.c - templates for `yuebao report --format md` (see narrative.h
 * for the placeholder language).
 *
 * A template is parsed whole into pieces (text runs and placeholders)
 * before anything is written, so a mistake on its last line costs no
 * output; rendering then only looks figures up by index.
 */
#include "narrative.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "i18n.h"
#include "text.h"

#define PLACEHOLDER_MAX 256

enum piece_kind { PIECE_TEXT, PIECE_FIGURE, PIECE_GLOBAL };

enum field { FIELD_VALUE, FIELD_PREVIOUS, FIELD_CHANGE, FIELD_CHANGE_ABS, FIELD_NAME, FIELD_UNIT };

enum global {
	GLOBAL_PERIOD,
	GLOBAL_PREVIOUS_PERIOD,
	GLOBAL_ORG,
	GLOBAL_CUTOFF,
	GLOBAL_COMPLETENESS,
	GLOBAL_PREVIOUS_COMPLETENESS,
	GLOBAL_PROVENANCE
};

/* Units a value can be shown in; the exponent of ten divides it. */
enum filter { FILTER_NONE, FILTER_WAN, FILTER_YI };

/* Why a figure is "—"; each reason used gets one footnote. */
enum gap { GAP_NO_VALUE, GAP_NO_PREVIOUS, GAP_NO_COMPARISON, GAP_ZERO_PREVIOUS, GAP_COUNT };

struct piece {
	enum piece_kind kind;
	size_t off, len; /* PIECE_TEXT: the run in narrative.text */
	size_t figure;   /* PIECE_FIGURE: report figure index */
	enum field field;
	enum global global;
	enum filter filter;
};

struct narrative {
	const struct catalog *cat;
	char *text;
	struct piece *pieces;
	size_t n, cap;
};

static const char *const field_names[] = {
    [FIELD_VALUE] = "",        [FIELD_PREVIOUS] = "previous",
    [FIELD_CHANGE] = "change", [FIELD_CHANGE_ABS] = "change_abs",
    [FIELD_NAME] = "name",     [FIELD_UNIT] = "unit"};

static const char *const global_names[] = {[GLOBAL_PERIOD] = "period",
                                           [GLOBAL_PREVIOUS_PERIOD] = "previous_period",
                                           [GLOBAL_ORG] = "org",
                                           [GLOBAL_CUTOFF] = "cutoff",
                                           [GLOBAL_COMPLETENESS] = "completeness",
                                           [GLOBAL_PREVIOUS_COMPLETENESS] = "previous_completeness",
                                           [GLOBAL_PROVENANCE] = "provenance"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Bytes of the UTF-8 sequence at s (at most n bytes), or 0 when it is not valid UTF-8. */
static size_t utf8_len(const char *s, size_t n)
{
	uint32_t cp;

	return text_utf8_decode(s, n, &cp);
}

/* Where the parser is, for messages. */
struct cursor {
	const char *name;
	size_t line, col; /* 1-based; col counts characters */
	struct errbuf *eb;
};

static yb_status fail_at(const struct cursor *c, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static yb_status fail_at(const struct cursor *c, size_t col, const char *fmt, ...)
{
	char msg[ERRBUF_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return status_fail(c->eb, YB_INVALID_ARGUMENT, _("%s: line %zu, column %zu: %s"), c->name,
	                   c->line, col, msg);
}

static struct piece *push(struct narrative *n)
{
	if (n->n == n->cap) {
		size_t cap = n->cap ? 2 * n->cap : 64;
		struct piece *p = realloc(n->pieces, cap * sizeof(*p));
		if (p == NULL)
			return NULL;
		n->pieces = p;
		n->cap = cap;
	}
	memset(&n->pieces[n->n], 0, sizeof(n->pieces[0]));
	return &n->pieces[n->n++];
}

/* Characters in s[0..len), for columns. */
static size_t chars(const char *s, size_t len)
{
	size_t k = 0;

	for (size_t i = 0; i < len; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

/* s[0..len) with blanks trimmed; *lead counts the characters skipped in front. */
static void trim(const char **s, size_t *len, size_t *lead)
{
	size_t k = 0;

	while (*len > 0 && (**s == ' ' || **s == '\t'))
		(*s)++, (*len)--, k++;
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
	*lead += k;
}

static bool equals(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

/*
 * One placeholder: body[0..len) is what stands between the braces, starting
 * at column col. Fills p or fails naming the column of the bad token.
 */
static yb_status parse_placeholder(const struct narrative *n, const struct cursor *c,
                                   const char *body, size_t len, size_t col, struct piece *p)
{
	const char *bar = memchr(body, '|', len), *name = body, *dot, *filt;
	size_t name_len = bar ? (size_t)(bar - body) : len, code_len, lead = 0, flead;
	size_t filt_len;
	char shown[PLACEHOLDER_MAX + 1];
	int k;

	trim(&name, &name_len, &lead);
	if (name_len == 0)
		return fail_at(c, col,
		               _("empty placeholder: write a code such as "
		                 "{{study_sessions}}"));
	dot = memchr(name, '.', name_len);
	code_len = dot ? (size_t)(dot - name) : name_len;
	for (size_t g = 0; dot == NULL && g < COUNT(global_names); g++)
		if (equals(name, name_len, global_names[g])) {
			p->kind = PIECE_GLOBAL;
			p->global = (enum global)g;
		}
	if (p->kind != PIECE_GLOBAL) {
		memcpy(shown, name, code_len);
		shown[code_len] = '\0';
		if ((k = catalog_find_element(n->cat, shown)) >= 0)
			p->figure = (size_t)k;
		else if ((k = catalog_find_indicator(n->cat, shown)) >= 0)
			p->figure = n->cat->n_elements + (size_t)k;
		else
			return fail_at(c, col + lead,
			               _("unknown code '%s': not an element or "
			                 "indicator of the catalog"),
			               shown);
		p->kind = PIECE_FIGURE;
		if (dot != NULL) {
			const char *f = dot + 1;
			size_t f_len = name_len - code_len - 1;
			size_t i;
			for (i = 1; i < COUNT(field_names); i++)
				if (equals(f, f_len, field_names[i]))
					break;
			memcpy(shown, f, f_len);
			shown[f_len] = '\0';
			if (i == COUNT(field_names))
				return fail_at(c, col + lead + chars(name, code_len) + 1,
				               _("unknown field '%s': use previous, change, "
				                 "change_abs, name or unit"),
				               shown);
			p->field = (enum field)i;
		}
	}
	if (bar == NULL)
		return YB_OK;
	filt = bar + 1;
	filt_len = len - (size_t)(filt - body);
	flead = chars(body, (size_t)(filt - body));
	trim(&filt, &filt_len, &flead);
	memcpy(shown, filt, filt_len);
	shown[filt_len] = '\0';
	if (equals(filt, filt_len, "万"))
		p->filter = FILTER_WAN;
	else if (equals(filt, filt_len, "亿"))
		p->filter = FILTER_YI;
	else
		return fail_at(c, col + flead, _("unknown filter '%s': use 万 or 亿"), shown);
	if (p->kind != PIECE_FIGURE || (p->field != FIELD_VALUE && p->field != FIELD_PREVIOUS))
		return fail_at(c, col + flead,
		               _("the filter '%s' applies to a value or previous value only"),
		               shown);
	return YB_OK;
}

yb_status narrative_parse(const struct catalog *cat, const char *name, const char *text, size_t len,
                          struct narrative **out, struct errbuf *eb)
{
	struct narrative *n = NULL;
	struct cursor c = {.name = name, .line = 1, .col = 1, .eb = eb};
	size_t i = 0, run = 0;
	yb_status rc;

	*out = NULL;
	if (len > NARRATIVE_MAX_BYTES)
		return status_fail(eb, YB_RESOURCE_EXHAUSTED, _("%s: larger than %d bytes"), name,
		                   NARRATIVE_MAX_BYTES);
	if ((n = calloc(1, sizeof(*n))) == NULL || (n->text = malloc(len + 1)) == NULL) {
		rc = status_fail(eb, YB_ENOMEM, _("%s: out of memory"), name);
		goto fail;
	}
	n->cat = cat;
	memcpy(n->text, text, len);
	n->text[len] = '\0';
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) /* a BOM, as Windows editors add */
		i = run = 3;
	while (i < len) {
		const char *close;
		struct piece *p;
		size_t step;

		if (text[i] == '{' && i + 1 < len && text[i + 1] == '{') {
			size_t start = i + 2, col = c.col;
			close = NULL;
			for (size_t j = start; j + 1 < len && j - start <= PLACEHOLDER_MAX; j++) {
				if (text[j] == '\n')
					break;
				if (text[j] == '}' && text[j + 1] == '}') {
					close = text + j;
					break;
				}
			}
			if (close == NULL) {
				rc = fail_at(&c, col,
				             _("'{{' is not closed by '}}' on the same line "
				               "within %d bytes"),
				             PLACEHOLDER_MAX);
				goto fail;
			}
			if (i > run) {
				if ((p = push(n)) == NULL)
					goto oom;
				p->kind = PIECE_TEXT;
				p->off = run;
				p->len = i - run;
			}
			if ((p = push(n)) == NULL)
				goto oom;
			if (utf8_len(text + start, len - start) == 0) {
				rc = fail_at(&c, col + 2, _("not UTF-8 text"));
				goto fail;
			}
			if ((rc = parse_placeholder(n, &c, text + start,
			                            (size_t)(close - text) - start, col + 2, p)) !=
			    YB_OK)
				goto fail;
			c.col += 2 + chars(text + start, (size_t)(close - text) - start) + 2;
			i = run = (size_t)(close - text) + 2;
			continue;
		}
		if ((step = utf8_len(text + i, len - i)) == 0) {
			rc = fail_at(&c, c.col, _("not UTF-8 text: save the template as UTF-8"));
			goto fail;
		}
		if (text[i] == '\n')
			c.line++, c.col = 1;
		else
			c.col++;
		i += step;
	}
	if (i > run) {
		struct piece *p = push(n);
		if (p == NULL)
			goto oom;
		p->kind = PIECE_TEXT;
		p->off = run;
		p->len = i - run;
	}
	*out = n;
	return YB_OK;
oom:
	rc = status_fail(eb, YB_ENOMEM, _("%s: out of memory"), name);
fail:
	narrative_free(n);
	return rc;
}

void narrative_free(struct narrative *n)
{
	if (n == NULL)
		return;
	free(n->pieces);
	free(n->text);
	free(n);
}

/* Footnote numbers given so far, in order of first use. */
struct notes {
	int number[GAP_COUNT]; /* 0: not used yet */
	int used;
};

static const char *gap_text(enum gap g)
{
	bool zh = i18n_language() == I18N_CHINESE;

	switch (g) {
	case GAP_NO_VALUE:
		return zh ? "本期无数据：所辖单位均未填报此项，或计算该指标所需的数据未填报、分母为"
		            "零；"
		            "不以0计。"
		          : "No figure for this period: no unit reported it, or an indicator's "
		            "operands are missing or its divisor is zero; it is not counted as 0.";
	case GAP_NO_PREVIOUS:
		return zh ? "对比期无数据，无法比较。"
		          : "No figure for the comparison period, so no comparison.";
	case GAP_NO_COMPARISON:
		return zh ? "本报告未设对比期间。" : "This report compares with no other period.";
	default:
		return zh ? "对比期数值为零，增减幅度无法计算。"
		          : "The comparison period's figure is zero, so no change can be computed.";
	}
}

/* "—" with the footnote for gap g. */
static void dash(FILE *out, struct notes *nt, enum gap g)
{
	if (nt->number[g] == 0)
		nt->number[g] = ++nt->used;
	fprintf(out, "—[^%d]", nt->number[g]);
}

/* A plain decimal string as an exact rational; false when it is not one. */
static bool ratio_of(const char *s, struct dec_ratio *out)
{
	__int128 num = 0, den = 1;
	bool neg = *s == '-', frac = false;

	s += neg;
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s == '.' && !frac) {
			frac = true;
			continue;
		}
		if (*s < '0' || *s > '9' || num > ((__int128)1 << 100))
			return false;
		num = num * 10 + (*s - '0');
		if (frac)
			den *= 10;
	}
	out->num = neg ? -num : num;
	out->den = den;
	return true;
}

/* A value in 万 or 亿 with two decimals; as is when it does not parse. */
static void put_scaled(FILE *out, const char *value, enum filter f)
{
	struct dec_ratio v, q;
	char buf[64];

	if (f == FILTER_NONE || !ratio_of(value, &v) ||
	    dec_ratio_div(v, dec_ratio_from_int(f == FILTER_WAN ? 10000 : 100000000), &q) !=
	        YB_OK ||
	    dec_ratio_format(q, 2, buf, sizeof(buf)) != YB_OK) {
		fputs(value, out);
		return;
	}
	fprintf(out, "%s%s", buf, f == FILTER_WAN ? "万" : "亿");
}

static void put_figure(FILE *out, const struct report *r, const struct piece *p, struct notes *nt)
{
	const Yuebao__V1__Figure *f = r->total->groups[0]->figures[p->figure];
	bool cmp = r->total->previous_period[0] != '\0';
	char buf[128];

	switch (p->field) {
	case FIELD_NAME:
		fputs(report_figure_name(r, p->figure), out);
		return;
	case FIELD_UNIT:
		fputs(report_figure_unit(r, p->figure), out);
		return;
	case FIELD_VALUE:
		if (f->value[0] == '\0')
			dash(out, nt, GAP_NO_VALUE);
		else
			put_scaled(out, f->value, p->filter);
		return;
	case FIELD_PREVIOUS:
		if (!cmp)
			dash(out, nt, GAP_NO_COMPARISON);
		else if (f->previous[0] == '\0')
			dash(out, nt, GAP_NO_PREVIOUS);
		else
			put_scaled(out, f->previous, p->filter);
		return;
	case FIELD_CHANGE:
	case FIELD_CHANGE_ABS:
		if (f->change[0] != '\0') {
			if (p->field == FIELD_CHANGE)
				report_change_phrase(f, buf, sizeof(buf));
			else
				report_change_signed(f, buf, sizeof(buf));
			fputs(buf, out);
		} else {
			dash(out, nt,
			     !cmp                     ? GAP_NO_COMPARISON
			     : f->value[0] == '\0'    ? GAP_NO_VALUE
			     : f->previous[0] == '\0' ? GAP_NO_PREVIOUS
			                              : GAP_ZERO_PREVIOUS);
		}
		return;
	}
}

static void put_global(FILE *out, const struct report *r, enum global g)
{
	const Yuebao__V1__ConsolidateReply *t = r->total;
	struct report_fact facts[REPORT_MAX_FACTS];
	char buf[320];
	size_t n;

	switch (g) {
	case GLOBAL_PERIOD:
		report_period_words(t->period, buf, sizeof(buf));
		break;
	case GLOBAL_PREVIOUS_PERIOD:
		report_period_words(t->previous_period, buf, sizeof(buf));
		break;
	case GLOBAL_ORG:
		snprintf(buf, sizeof(buf), "%s", t->org_name);
		break;
	case GLOBAL_CUTOFF:
		report_cutoff_words(r, buf, sizeof(buf));
		break;
	case GLOBAL_COMPLETENESS:
	case GLOBAL_PREVIOUS_COMPLETENESS:
		report_completeness_words(t->groups[0], g == GLOBAL_PREVIOUS_COMPLETENESS, buf,
		                          sizeof(buf));
		break;
	case GLOBAL_PROVENANCE:
		n = report_provenance(r, facts);
		for (size_t i = 0; i < n; i++)
			fprintf(out, "%s- **%s**: %s", i ? "\n" : "", facts[i].label,
			        facts[i].value);
		return;
	}
	fputs(buf, out);
}

yb_status narrative_render(const struct narrative *n, const struct report *r, FILE *out,
                           struct errbuf *eb)
{
	struct notes nt = {{0}, 0};

	assert(n->cat == r->cat);
	for (size_t i = 0; i < n->n; i++) {
		const struct piece *p = &n->pieces[i];
		switch (p->kind) {
		case PIECE_TEXT:
			fwrite(n->text + p->off, 1, p->len, out);
			break;
		case PIECE_FIGURE:
			put_figure(out, r, p, &nt);
			break;
		case PIECE_GLOBAL:
			put_global(out, r, p->global);
			break;
		}
	}
	if (nt.used > 0) {
		/* The footnotes as a paragraph of their own after the text. */
		const struct piece *last = n->n ? &n->pieces[n->n - 1] : NULL;
		if (last == NULL || last->kind != PIECE_TEXT ||
		    n->text[last->off + last->len - 1] != '\n')
			fputc('\n', out);
		fputc('\n', out);
		for (int k = 1; k <= nt.used; k++)
			for (size_t g = 0; g < GAP_COUNT; g++)
				if (nt.number[g] == k)
					fprintf(out, "[^%d]: %s\n", k, gap_text((enum gap)g));
	}
	if (fflush(out) != 0 || ferror(out))
		return status_fail(eb, YB_EIO, _("writing the report failed"));
	return YB_OK;
}
