/*
 * finding.c - findings as codes with parameters: their stored form (a JSON
 * object, jansson) and their sentences in the reader's language.
 *
 * The sentences are the ones the checks have always printed, so a finding
 * reads the same when it is found and whenever it is shown later.
 */
#include "finding.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog.h"
#include "i18n.h"

static const char *const code_names[] = {
    [FINDING_CODE_NONE] = "",
    [FINDING_CODE_RULE_VIOLATED] = "rule_violated",
    [FINDING_CODE_RULE_MISSING] = "rule_missing_operand",
    [FINDING_CODE_RULE_DIV_ZERO] = "rule_division_by_zero",
    [FINDING_CODE_RULE_OVERFLOW] = "rule_overflow",
    [FINDING_CODE_OUTLIER] = "outlier",
    [FINDING_CODE_STOCK_JUMP] = "stock_jump",
};

#define N_CODES (sizeof(code_names) / sizeof(code_names[0]))

const char *finding_code_name(enum finding_code code)
{
	return (size_t)code < N_CODES ? code_names[code] : "";
}

/* ---- the stored form ---------------------------------------------------- */

int finding_encode(const struct finding *f, char **json)
{
	json_t *o = NULL, *list;

	*json = NULL;
	switch (f->code) {
	case FINDING_CODE_RULE_VIOLATED:
		o = json_pack("{s:s}", "expr", f->expr);
		break;
	case FINDING_CODE_RULE_MISSING:
		if ((list = json_array()) == NULL)
			return YB_ENOMEM;
		for (size_t i = 0; i < f->n_missing; i++)
			if (json_array_append_new(list, json_pack("{s:s, s:b}", "code",
			                                          f->missing[i].code, "invalid",
			                                          f->missing[i].invalid)) != 0) {
				json_decref(list);
				return YB_ENOMEM;
			}
		o = json_pack("{s:o, s:I}", "missing", list, "more", (json_int_t)f->n_more);
		break;
	case FINDING_CODE_OUTLIER:
		o = json_pack("{s:s, s:s, s:i, s:i}", "value", f->value, "median", f->reference,
		              "factor", f->limit, "months", f->months);
		break;
	case FINDING_CODE_STOCK_JUMP:
		o = json_pack("{s:s, s:s, s:s, s:i, s:i}", "value", f->value, "previous",
		              f->reference, "month", f->month, "change", f->change, "limit",
		              f->limit);
		break;
	default:
		o = json_object();
		break;
	}
	if (o != NULL)
		*json = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return *json != NULL ? YB_OK : YB_ENOMEM;
}

/* Copies the string `key` of o into dst[len]; false when absent, not a string or too long. */
static bool get_text(const json_t *o, const char *key, char *dst, size_t len)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) >= len ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return false;
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return true;
}

/* The integer member `key` of o, within [min, max], into *out. */
static bool get_int(const json_t *o, const char *key, json_int_t min, json_int_t max, int *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return false;
	*out = (int)json_integer_value(v);
	return true;
}

static bool decode_missing(const json_t *o, struct finding *f)
{
	const json_t *list = json_object_get(o, "missing"), *x;
	size_t i;
	int more;

	if (!json_is_array(list) || json_array_size(list) > FINDING_MISSING_MAX ||
	    !get_int(o, "more", 0, 1 << 20, &more))
		return false;
	json_array_foreach(list, i, x)
	{
		const json_t *inv = json_object_get(x, "invalid");
		if (!get_text(x, "code", f->missing[i].code, sizeof(f->missing[i].code)) ||
		    !json_is_boolean(inv))
			return false;
		f->missing[i].invalid = json_is_true(inv);
	}
	f->n_missing = json_array_size(list);
	f->n_more = (size_t)more;
	return true;
}

int finding_decode(const char *code, const char *json, struct finding *out, struct errbuf *eb)
{
	json_t *o;
	json_error_t err;
	bool ok = false;
	size_t k;

	memset(out, 0, sizeof(*out));
	for (k = 1; k < N_CODES; k++)
		if (strcmp(code, code_names[k]) == 0)
			break;
	if (k == N_CODES)
		return status_fail(eb, YB_INVALID_ARGUMENT, "unknown finding code '%.64s'", code);
	if ((o = json_loads(json, JSON_REJECT_DUPLICATES, &err)) == NULL || !json_is_object(o)) {
		json_decref(o);
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   "finding %s: parameters are not a JSON "
		                   "object",
		                   code);
	}
	out->code = (enum finding_code)k;
	switch (out->code) {
	case FINDING_CODE_RULE_VIOLATED:
		ok = get_text(o, "expr", out->expr, sizeof(out->expr));
		break;
	case FINDING_CODE_RULE_MISSING:
		ok = decode_missing(o, out);
		break;
	case FINDING_CODE_OUTLIER:
		ok = get_text(o, "value", out->value, sizeof(out->value)) &&
		     get_text(o, "median", out->reference, sizeof(out->reference)) &&
		     get_int(o, "factor", 1, 1000000, &out->limit) &&
		     get_int(o, "months", 1, 1000, &out->months);
		break;
	case FINDING_CODE_STOCK_JUMP:
		ok = get_text(o, "value", out->value, sizeof(out->value)) &&
		     get_text(o, "previous", out->reference, sizeof(out->reference)) &&
		     get_text(o, "month", out->month, sizeof(out->month)) &&
		     get_int(o, "change", -1000000000, 1000000000, &out->change) &&
		     get_int(o, "limit", 1, 1000000, &out->limit);
		break;
	default: /* the rules skipped for a reason that needs no parameter */
		ok = true;
		break;
	}
	json_decref(o);
	if (!ok)
		return status_fail(
		    eb, YB_INVALID_ARGUMENT,
		    "finding %s: a parameter is missing, of the wrong type or too long", code);
	return YB_OK;
}

/* ---- sentences ------------------------------------------------------------ */

/* Text being written into buf[len]; need counts what the whole text takes. */
struct out {
	char *buf;
	size_t len, need;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	size_t at = o->need < o->len ? o->need : o->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf ? o->buf + at : NULL, o->len - at, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->need += (size_t)n;
}

/* The reasons a skipped rule's operands have no value: "a not reported, b has no valid value". */
static void put_missing(struct out *o, const struct finding *f)
{
	for (size_t i = 0; i < f->n_missing; i++) {
		if (i > 0)
			put(o, "%s", ", ");
		put(o, f->missing[i].invalid ? _("%s has no valid value") : _("%s not reported"),
		    f->missing[i].code);
	}
	if (f->n_more > 0)
		put(o, ", ...");
}

size_t finding_render(const struct finding *f, const char *subject, uint32_t line,
                      const struct catalog *cat, char *buf, size_t len)
{
	struct out o = {len > 0 ? buf : NULL, len, 0};
	char why[1024];
	int r;

	if (o.buf != NULL)
		o.buf[0] = '\0';
	switch (f->code) {
	case FINDING_CODE_RULE_VIOLATED:
		r = cat != NULL ? catalog_find_rule(cat, subject) : -1;
		if (r >= 0)
			put(&o, _("rule %s violated: %s: %s"), subject, f->expr,
			    i18n_language() == I18N_CHINESE ? cat->rules[r].message_zh
			                                    : cat->rules[r].message_en);
		else
			put(&o, _("rule %s violated: %s"), subject, f->expr);
		break;
	case FINDING_CODE_RULE_MISSING: {
		struct out w = {why, sizeof(why), 0};
		put_missing(&w, f);
		put(&o, _("rule %s skipped: %s"), subject, why);
		break;
	}
	case FINDING_CODE_RULE_DIV_ZERO:
		put(&o, _("rule %s skipped: division by zero"), subject);
		break;
	case FINDING_CODE_RULE_OVERFLOW:
		put(&o, _("rule %s skipped: numbers too large to compare"), subject);
		break;
	case FINDING_CODE_OUTLIER:
		put(&o,
		    _("line %u: %s: %s is more than %d times the median of its last %zu months "
		      "(%s); "
		      "please check it"),
		    line, subject, f->value, f->limit, (size_t)f->months, f->reference);
		break;
	case FINDING_CODE_STOCK_JUMP:
		put(&o,
		    _("line %u: %s: %s is %s%d%% from %s in %s (more than %d%%); please check it"),
		    line, subject, f->value, f->change < 0 ? "-" : "+",
		    f->change < 0 ? -f->change : f->change, f->reference, f->month, f->limit);
		break;
	default:
		break;
	}
	return o.need;
}
