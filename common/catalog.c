/*
 * catalog.c - loading the catalog (elements, indicators, rules), looking
 * codes up, and checking one monthly return against it.
 *
 * The loader stops at the first mistake, naming file, line and column; the
 * return check never stops early: a clerk fixes every finding in one go.
 *
 * A catalog made here is the public `struct catalog` embedded at the start
 * of a private `struct catalog_impl`, which adds the code index (an
 * open-addressing hash table over all element, indicator and rule codes).
 * Catalogs therefore only ever come from catalog_load_dir/_files.
 */
#include "catalog.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "decimal.h"
#include "hash.h"
#include "i18n.h"
#include "sheet.h"

const char *const catalog_file_names[CATALOG_NFILES] = {[CATALOG_FILE_ELEMENTS] = "elements.csv",
                                                        [CATALOG_FILE_INDICATORS] =
                                                            "indicators.csv",
                                                        [CATALOG_FILE_RULES] = "rules.csv",
                                                        [CATALOG_FILE_SECTIONS] = "sections.csv",
                                                        [CATALOG_FILE_REPORT] = "report.md"};

/* The CSV files, each read by its loader below; report.md is kept as text. */
#define N_SHEETS (CATALOG_FILE_SECTIONS + 1)

#define CODE_MAX 64

enum code_kind { KIND_NONE, KIND_ELEMENT, KIND_INDICATOR, KIND_RULE };

struct code_slot {
	const char *code; /* owned by the element/indicator/rule */
	enum code_kind kind;
	int index;
	size_t line; /* where it was defined, for duplicate messages */
};

struct catalog_impl {
	struct catalog pub; /* first: (struct catalog *) <-> (struct catalog_impl *) */
	struct code_slot *slots;
	size_t mask; /* table size - 1; size is a power of two */
};

static struct catalog_impl *impl_of(const struct catalog *c)
{
	return (struct catalog_impl *)c;
}

/* ---- small helpers ---------------------------------------------------- */

/*
 * Copies s for a message into buf: at most len-4 bytes, cut on a UTF-8
 * character boundary and marked "...", control characters shown as '?'.
 */
static const char *shown(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s), max = len - 4, i;
	bool cut = n > max;

	if (cut) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--; /* s[n] would start the dropped part mid-character */
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		buf[i] = (ch < 0x20 || ch == 0x7F) ? '?' : (char)ch;
	}
	if (cut)
		memcpy(buf + n, "...", 3), n += 3;
	buf[n] = '\0';
	return buf;
}

/* Copies s into dst[len], cut on a UTF-8 boundary (no marker). */
static void copy_cut(char *dst, size_t len, const char *s)
{
	size_t n = strlen(s);

	if (n >= len) {
		n = len - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* Drops a UTF-8 sequence left incomplete at the end of s by truncation. */
static void cut_partial_utf8(char *s)
{
	size_t n = strlen(s), i = n, need;
	unsigned char lead;

	while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return;
	lead = (unsigned char)s[i - 1];
	if (lead < 0xC0)
		return; /* ends in ASCII (or is not UTF-8 at all) */
	need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

static bool ascii_ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a, y = *b;
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return false;
	}
	return *a == *b;
}

/* [a-z][a-z0-9_]{0,63} */
static bool code_ok(const char *s)
{
	size_t n = 0;

	if (!(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (; s[n]; n++) {
		char ch = s[n];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
			return false;
		if (n >= CODE_MAX)
			return false;
	}
	return true;
}

/* ---- the code index --------------------------------------------------- */

static uint64_t hash_code(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct code_slot *slot_find(const struct catalog_impl *ci, const char *code)
{
	size_t i;

	if (ci->slots == NULL)
		return NULL;
	for (i = hash_code(code) & ci->mask;; i = (i + 1) & ci->mask) {
		struct code_slot *s = &ci->slots[i];
		if (s->kind == KIND_NONE)
			return NULL;
		if (strcmp(s->code, code) == 0)
			return s;
	}
}

/* Inserts a code known not to be present; the table never fills (see load). */
static void slot_add(struct catalog_impl *ci, const char *code, enum code_kind kind, int index,
                     size_t line)
{
	size_t i = hash_code(code) & ci->mask;

	while (ci->slots[i].kind != KIND_NONE)
		i = (i + 1) & ci->mask;
	ci->slots[i].code = code;
	ci->slots[i].kind = kind;
	ci->slots[i].index = index;
	ci->slots[i].line = line;
}

static int find_kind(const struct catalog *c, const char *code, enum code_kind kind)
{
	const struct code_slot *s;

	if (c == NULL || code == NULL)
		return -1;
	s = slot_find(impl_of(c), code);
	return (s != NULL && s->kind == kind) ? s->index : -1;
}

int catalog_find_element(const struct catalog *c, const char *code)
{
	return find_kind(c, code, KIND_ELEMENT);
}

int catalog_find_indicator(const struct catalog *c, const char *code)
{
	return find_kind(c, code, KIND_INDICATOR);
}

int catalog_find_rule(const struct catalog *c, const char *code)
{
	return find_kind(c, code, KIND_RULE);
}

/* ---- loading ------------------------------------------------------------ */

/* State of one file being loaded. */
struct loader {
	struct catalog_impl *ci;
	const struct sheet *sh;
	const char *file;
	size_t row, line;
	struct errbuf *eb;
};

/* Fails with "FILE: line N, column COL: ..." for the current row. */
static int bad(const struct loader *ld, const char *col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(const struct loader *ld, const char *col, const char *fmt, ...)
{
	char msg[ERRBUF_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return status_fail(ld->eb, YB_INVALID_ARGUMENT, _("%s: line %zu, column %s: %s"), ld->file,
	                   ld->line, col, msg);
}

/* Column indexes of a file's header, in the order of `names`. */
static int header(const struct loader *ld, const char *const *names, size_t n, int *cols)
{
	for (size_t i = 0; i < n; i++) {
		cols[i] = sheet_find_col(ld->sh, names[i]);
		if (cols[i] < 0)
			return status_fail(ld->eb, YB_INVALID_ARGUMENT,
			                   _("%s: line %zu: no '%s' column in the header"),
			                   ld->file, sheet_line(ld->sh, 0), names[i]);
	}
	return YB_OK;
}

static const char *cell(const struct loader *ld, int col)
{
	return sheet_cell(ld->sh, ld->row, (size_t)col);
}

/* The cell's text, refused when empty. */
static int need(const struct loader *ld, const char *colname, int col, const char **out)
{
	*out = cell(ld, col);
	if (**out == '\0')
		return bad(ld, colname, _("empty; a value is required"));
	return YB_OK;
}

static int dup_str(const struct loader *ld, const char *s, char **out)
{
	*out = strdup(s);
	if (*out == NULL)
		return status_fail(ld->eb, YB_ENOMEM, _("%s: out of memory"), ld->file);
	return YB_OK;
}

/* Checks a new code's form and uniqueness. */
static int new_code(const struct loader *ld, const char *code)
{
	char b[80];
	const struct code_slot *s;

	if (!code_ok(code))
		return bad(ld, "code",
		           _("invalid code '%s': a lower-case letter, then up to %d lower-case "
		             "letters, digits or '_'"),
		           shown(code, b, sizeof(b)), CODE_MAX - 1);
	if (strcmp(code, CATALOG_PERIOD_CODE) == 0)
		return bad(ld, "code",
		           _("'%s' is reserved: a return file names its month in a row with "
		             "this code"),
		           code);
	s = slot_find(ld->ci, code);
	if (s != NULL)
		return bad(ld, "code",
		           s->kind == KIND_ELEMENT
		               ? _("duplicate code '%s' (already the element on line %zu of %s)")
		           : s->kind == KIND_INDICATOR
		               ? _("duplicate code '%s' (already the indicator on line %zu of %s)")
		               : _("duplicate code '%s' (already the rule on line %zu of %s)"),
		           code, s->line,
		           catalog_file_names[s->kind == KIND_ELEMENT     ? CATALOG_FILE_ELEMENTS
		                              : s->kind == KIND_INDICATOR ? CATALOG_FILE_INDICATORS
		                                                          : CATALOG_FILE_RULES]);
	return YB_OK;
}

/* A formula or rule may name only elements. */
static int check_codes(const struct loader *ld, const char *col, const struct formula *f)
{
	const char *const *codes;
	size_t n = formula_codes(f, &codes);

	for (size_t i = 0; i < n; i++) {
		const struct code_slot *s = slot_find(ld->ci, codes[i]);
		if (s == NULL)
			return bad(ld, col, _("unknown element '%s'"), codes[i]);
		if (s->kind != KIND_ELEMENT)
			return bad(ld, col,
			           s->kind == KIND_INDICATOR
			               ? _("'%s' is an indicator; only elements can be used here")
			               : _("'%s' is a rule; only elements can be used here"),
			           codes[i]);
	}
	return YB_OK;
}

static int parse_bound(const struct loader *ld, const char *col, int c, enum catalog_type type,
                       bool *has, int64_t *v)
{
	struct errbuf deb;
	const char *s = cell(ld, c);

	*has = false;
	if (*s == '\0')
		return YB_OK;
	if (dec_parse(s, type == CATALOG_INT ? 0 : 2, v, &deb) != YB_OK)
		return bad(ld, col, "%s", deb.msg);
	if (*v < 0)
		return bad(ld, col, _("must not be negative: values are never negative"));
	*has = true;
	return YB_OK;
}

static int load_elements(struct loader *ld)
{
	static const char *const names[] = {"code", "name_zh",     "name_en", "section", "unit",
	                                    "type", "aggregation", "min",     "max"};
	enum { C_CODE, C_NAME_ZH, C_NAME_EN, C_SECTION, C_UNIT, C_TYPE, C_AGG, C_MIN, C_MAX };
	struct catalog *c = &ld->ci->pub;
	int cols[9];
	int rc = header(ld, names, 9, cols);
	size_t rows = sheet_rows(ld->sh);

	if (rc != YB_OK)
		return rc;
	if (rows < 2)
		return status_fail(ld->eb, YB_INVALID_ARGUMENT,
		                   _("%s: no elements after the header"), ld->file);
	c->elements = calloc(rows - 1, sizeof(*c->elements));
	if (c->elements == NULL)
		return status_fail(ld->eb, YB_ENOMEM, _("%s: out of memory"), ld->file);
	for (ld->row = 1; ld->row < rows; ld->row++) {
		struct catalog_element *e = &c->elements[c->n_elements];
		const char *code, *section, *zh, *en, *type, *agg;
		char b[80];

		ld->line = sheet_line(ld->sh, ld->row);
		if ((rc = need(ld, "code", cols[C_CODE], &code)) || (rc = new_code(ld, code)) ||
		    (rc = need(ld, "section", cols[C_SECTION], &section)) ||
		    (rc = need(ld, "name_zh", cols[C_NAME_ZH], &zh)) ||
		    (rc = need(ld, "name_en", cols[C_NAME_EN], &en)) ||
		    (rc = need(ld, "type", cols[C_TYPE], &type)) ||
		    (rc = need(ld, "aggregation", cols[C_AGG], &agg)))
			return rc;
		if (ascii_ieq(type, "int"))
			e->type = CATALOG_INT;
		else if (ascii_ieq(type, "amount"))
			e->type = CATALOG_AMOUNT;
		else
			return bad(ld, "type", _("'%s' is not a type: use int or amount"),
			           shown(type, b, sizeof(b)));
		if (ascii_ieq(agg, "sum"))
			e->agg = CATALOG_SUM;
		else if (ascii_ieq(agg, "last"))
			e->agg = CATALOG_LAST;
		else
			return bad(ld, "aggregation",
			           _("'%s' is not an aggregation: use sum or last"),
			           shown(agg, b, sizeof(b)));
		if ((rc = parse_bound(ld, "min", cols[C_MIN], e->type, &e->has_min, &e->min)) ||
		    (rc = parse_bound(ld, "max", cols[C_MAX], e->type, &e->has_max, &e->max)))
			return rc;
		if (e->has_min && e->has_max && e->min > e->max)
			return bad(ld, "max", _("max is below min"));
		/* Counted before the strings are copied, so catalog_free sees them. */
		c->n_elements++;
		if ((rc = dup_str(ld, code, &e->code)) ||
		    (rc = dup_str(ld, section, &e->section)) ||
		    (rc = dup_str(ld, zh, &e->name_zh)) || (rc = dup_str(ld, en, &e->name_en)) ||
		    (rc = dup_str(ld, cell(ld, cols[C_UNIT]), &e->unit)))
			return rc;
		slot_add(ld->ci, e->code, KIND_ELEMENT, (int)(c->n_elements - 1), ld->line);
	}
	return YB_OK;
}

static int load_indicators(struct loader *ld)
{
	static const char *const names[] = {"code",    "name_zh",  "name_en", "unit",
	                                    "formula", "decimals", "change"};
	enum { C_CODE, C_NAME_ZH, C_NAME_EN, C_UNIT, C_FORMULA, C_DECIMALS, C_CHANGE };
	struct catalog *c = &ld->ci->pub;
	int cols[7];
	int rc = header(ld, names, 7, cols);
	size_t rows = sheet_rows(ld->sh);

	if (rc != YB_OK)
		return rc;
	if (rows < 2)
		return YB_OK;
	c->indicators = calloc(rows - 1, sizeof(*c->indicators));
	if (c->indicators == NULL)
		return status_fail(ld->eb, YB_ENOMEM, _("%s: out of memory"), ld->file);
	for (ld->row = 1; ld->row < rows; ld->row++) {
		struct catalog_indicator *ind = &c->indicators[c->n_indicators];
		const char *code, *zh, *en, *text, *dec, *change;
		struct errbuf feb;
		char b[80];

		ld->line = sheet_line(ld->sh, ld->row);
		if ((rc = need(ld, "code", cols[C_CODE], &code)) || (rc = new_code(ld, code)) ||
		    (rc = need(ld, "name_zh", cols[C_NAME_ZH], &zh)) ||
		    (rc = need(ld, "name_en", cols[C_NAME_EN], &en)) ||
		    (rc = need(ld, "formula", cols[C_FORMULA], &text)) ||
		    (rc = need(ld, "decimals", cols[C_DECIMALS], &dec)) ||
		    (rc = need(ld, "change", cols[C_CHANGE], &change)))
			return rc;
		if (!(dec[0] >= '0' && dec[0] <= '6' && dec[1] == '\0'))
			return bad(ld, "decimals",
			           _("'%s' is not a number of decimals from 0 to 6"),
			           shown(dec, b, sizeof(b)));
		ind->decimals = dec[0] - '0';
		if (ascii_ieq(change, "percent"))
			ind->change = CATALOG_PERCENT;
		else if (ascii_ieq(change, "points"))
			ind->change = CATALOG_POINTS;
		else
			return bad(ld, "change",
			           _("'%s' is not a change kind: use percent or points"),
			           shown(change, b, sizeof(b)));
		c->n_indicators++;
		if (formula_parse(text, &ind->formula, &feb) != YB_OK)
			return bad(ld, "formula", "'%s': %s", shown(text, b, sizeof(b)), feb.msg);
		if ((rc = check_codes(ld, "formula", ind->formula)))
			return rc;
		if ((rc = dup_str(ld, code, &ind->code)) || (rc = dup_str(ld, zh, &ind->name_zh)) ||
		    (rc = dup_str(ld, en, &ind->name_en)) ||
		    (rc = dup_str(ld, cell(ld, cols[C_UNIT]), &ind->unit)))
			return rc;
		slot_add(ld->ci, ind->code, KIND_INDICATOR, (int)(c->n_indicators - 1), ld->line);
	}
	return YB_OK;
}

static int load_rules(struct loader *ld)
{
	static const char *const names[] = {"code", "rule", "severity", "message_zh", "message_en"};
	enum { C_CODE, C_RULE, C_SEVERITY, C_MSG_ZH, C_MSG_EN };
	struct catalog *c = &ld->ci->pub;
	int cols[5];
	int rc = header(ld, names, 5, cols);
	size_t rows = sheet_rows(ld->sh);

	if (rc != YB_OK)
		return rc;
	if (rows < 2)
		return YB_OK;
	c->rules = calloc(rows - 1, sizeof(*c->rules));
	if (c->rules == NULL)
		return status_fail(ld->eb, YB_ENOMEM, _("%s: out of memory"), ld->file);
	for (ld->row = 1; ld->row < rows; ld->row++) {
		struct catalog_rule *r = &c->rules[c->n_rules];
		const char *code, *text, *sev, *zh, *en;
		struct errbuf feb;
		char b[80];

		ld->line = sheet_line(ld->sh, ld->row);
		if ((rc = need(ld, "code", cols[C_CODE], &code)) || (rc = new_code(ld, code)) ||
		    (rc = need(ld, "rule", cols[C_RULE], &text)) ||
		    (rc = need(ld, "severity", cols[C_SEVERITY], &sev)) ||
		    (rc = need(ld, "message_zh", cols[C_MSG_ZH], &zh)) ||
		    (rc = need(ld, "message_en", cols[C_MSG_EN], &en)))
			return rc;
		if (ascii_ieq(sev, "error"))
			r->severity = CATALOG_RULE_ERROR;
		else if (ascii_ieq(sev, "warning"))
			r->severity = CATALOG_RULE_WARNING;
		else
			return bad(ld, "severity",
			           _("'%s' is not a severity: use error or warning"),
			           shown(sev, b, sizeof(b)));
		c->n_rules++;
		if (formula_parse_rule(text, &r->rule, &feb) != YB_OK)
			return bad(ld, "rule", "'%s': %s", shown(text, b, sizeof(b)), feb.msg);
		if ((rc = check_codes(ld, "rule", r->rule)))
			return rc;
		if ((rc = dup_str(ld, code, &r->code)) || (rc = dup_str(ld, zh, &r->message_zh)) ||
		    (rc = dup_str(ld, en, &r->message_en)))
			return rc;
		slot_add(ld->ci, r->code, KIND_RULE, (int)(c->n_rules - 1), ld->line);
	}
	return YB_OK;
}

/* Index of the section with this code in c, or -1. */
static int find_section(const struct catalog *c, const char *code)
{
	for (size_t i = 0; i < c->n_sections; i++)
		if (strcmp(c->sections[i].code, code) == 0)
			return (int)i;
	return -1;
}

/* Adds a section named by its code (a catalog without sections.csv). */
static int add_plain_section(struct catalog *c, const char *code, struct errbuf *eb)
{
	struct catalog_section *s = &c->sections[c->n_sections++];

	s->code = strdup(code);
	s->name_zh = strdup(code);
	s->name_en = strdup(code);
	if (s->code == NULL || s->name_zh == NULL || s->name_en == NULL)
		return status_fail(eb, YB_ENOMEM, _("catalog: out of memory"));
	return YB_OK;
}

/*
 * The sections, from sections.csv when ld->sh is set, else from the
 * elements' section codes; then each element's and indicator's index into
 * them. Runs after the elements and indicators are loaded.
 */
static int load_sections(struct loader *ld)
{
	static const char *const names[] = {"code", "name_zh", "name_en"};
	enum { C_CODE, C_NAME_ZH, C_NAME_EN };
	struct catalog *c = &ld->ci->pub;
	size_t rows = ld->sh ? sheet_rows(ld->sh) : 0;
	int cols[3], rc;

	c->sections = calloc((ld->sh ? rows : c->n_elements) + 1, sizeof(*c->sections));
	if (c->sections == NULL)
		return status_fail(ld->eb, YB_ENOMEM, _("%s: out of memory"), ld->file);
	if (ld->sh == NULL) {
		for (size_t i = 0; i < c->n_elements; i++)
			if (find_section(c, c->elements[i].section) < 0 &&
			    (rc = add_plain_section(c, c->elements[i].section, ld->eb)) != YB_OK)
				return rc;
	} else {
		if ((rc = header(ld, names, 3, cols)) != YB_OK)
			return rc;
		for (ld->row = 1; ld->row < rows; ld->row++) {
			struct catalog_section *sec = &c->sections[c->n_sections];
			const char *code, *zh, *en;
			char b[80];

			ld->line = sheet_line(ld->sh, ld->row);
			if ((rc = need(ld, "code", cols[C_CODE], &code)) ||
			    (rc = need(ld, "name_zh", cols[C_NAME_ZH], &zh)) ||
			    (rc = need(ld, "name_en", cols[C_NAME_EN], &en)))
				return rc;
			if (find_section(c, code) >= 0)
				return bad(ld, "code", _("duplicate section '%s'"),
				           shown(code, b, sizeof(b)));
			c->n_sections++;
			if ((rc = dup_str(ld, code, &sec->code)) ||
			    (rc = dup_str(ld, zh, &sec->name_zh)) ||
			    (rc = dup_str(ld, en, &sec->name_en)))
				return rc;
		}
	}
	for (size_t i = 0; i < c->n_elements; i++) {
		int k = find_section(c, c->elements[i].section);
		char b[80];
		if (k < 0)
			return status_fail(ld->eb, YB_INVALID_ARGUMENT,
			                   _("%s: section '%s' of element '%s' is not listed"),
			                   ld->file, shown(c->elements[i].section, b, sizeof(b)),
			                   c->elements[i].code);
		c->elements[i].section_index = (size_t)k;
	}
	for (size_t i = 0; i < c->n_indicators; i++) {
		const char *const *codes;
		if (formula_codes(c->indicators[i].formula, &codes) > 0)
			c->indicators[i].section_index =
			    c->elements[catalog_find_element(c, codes[0])].section_index;
	}
	return YB_OK;
}

/* Hex SHA-256 over the files present, in load order, as `cat | sha256sum`. */
static int digest(struct catalog *c, struct errbuf *eb)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = YB_OK;

	if (ctx == NULL)
		return status_fail(eb, YB_ENOMEM, _("catalog digest: out of memory"));
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rc = status_fail(eb, YB_ECRYPTO, _("catalog digest: EVP_DigestInit_ex failed"));
		goto out;
	}
	for (size_t i = 0; i < CATALOG_NFILES; i++) {
		if (c->files[i].len > 0 &&
		    EVP_DigestUpdate(ctx, c->files[i].data, c->files[i].len) != 1) {
			rc = status_fail(eb, YB_ECRYPTO,
			                 _("catalog digest: EVP_DigestUpdate failed"));
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		rc = status_fail(eb, YB_ECRYPTO, _("catalog digest: EVP_DigestFinal_ex failed"));
		goto out;
	}
	hash_hex(md, mdlen, c->digest);
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int catalog_load_files(const struct catalog_file *files, size_t n, struct catalog **out,
                       struct errbuf *eb)
{
	const struct catalog_file *byname[CATALOG_NFILES] = {NULL};
	struct sheet *sh[N_SHEETS] = {NULL};
	struct catalog_impl *ci = NULL;
	struct catalog *c;
	size_t ncodes = 0, size;
	int rc;

	*out = NULL;
	if (files == NULL && n > 0)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("catalog: no files"));
	for (size_t i = 0; i < n; i++) {
		size_t k;
		for (k = 0; k < CATALOG_NFILES; k++)
			if (files[i].name != NULL &&
			    strcmp(files[i].name, catalog_file_names[k]) == 0)
				break;
		if (k == CATALOG_NFILES || byname[k] != NULL)
			return status_fail(eb, YB_INVALID_ARGUMENT,
			                   _("catalog: unexpected or repeated file '%s'"),
			                   files[i].name ? files[i].name : "(null)");
		if (files[i].data == NULL && files[i].len > 0)
			return status_fail(eb, YB_INVALID_ARGUMENT, _("catalog: %s has no data"),
			                   files[i].name);
		if (files[i].len > SHEET_MAX_BYTES)
			return status_fail(eb, YB_RESOURCE_EXHAUSTED,
			                   _("%s: file larger than %u bytes"), files[i].name,
			                   SHEET_MAX_BYTES);
		byname[k] = &files[i];
	}
	for (size_t k = 0; k < CATALOG_NREQUIRED; k++)
		if (byname[k] == NULL)
			return status_fail(eb, YB_INVALID_ARGUMENT, _("catalog: %s is missing"),
			                   catalog_file_names[k]);

	ci = calloc(1, sizeof(*ci));
	if (ci == NULL)
		return status_fail(eb, YB_ENOMEM, _("catalog: out of memory"));
	c = &ci->pub;
	for (size_t k = 0; k < CATALOG_NFILES; k++) {
		if ((c->files[k].name = strdup(catalog_file_names[k])) == NULL) {
			rc = status_fail(eb, YB_ENOMEM, _("catalog: out of memory"));
			goto fail;
		}
		if (byname[k] == NULL)
			continue;
		if ((c->files[k].data = malloc(byname[k]->len + 1)) == NULL) {
			rc = status_fail(eb, YB_ENOMEM, _("catalog: out of memory"));
			goto fail;
		}
		if (byname[k]->len > 0)
			memcpy(c->files[k].data, byname[k]->data, byname[k]->len);
		c->files[k].data[byname[k]->len] = '\0';
		c->files[k].len = byname[k]->len;
	}
	if ((rc = digest(c, eb)) != YB_OK)
		goto fail;

	for (size_t k = 0; k < N_SHEETS; k++) {
		if (c->files[k].data == NULL)
			continue;
		rc = sheet_load_mem(c->files[k].data, c->files[k].len, catalog_file_names[k],
		                    &sh[k], eb);
		if (rc != YB_OK)
			goto fail;
		ncodes += sheet_rows(sh[k]);
	}
	/* At most half full, so probes stay short and always end. */
	for (size = 64; size < 2 * ncodes; size *= 2)
		;
	ci->slots = calloc(size, sizeof(*ci->slots));
	if (ci->slots == NULL) {
		rc = status_fail(eb, YB_ENOMEM, _("catalog: out of memory"));
		goto fail;
	}
	ci->mask = size - 1;

	{
		struct loader ld = {.ci = ci, .eb = eb};
		int (*const load[N_SHEETS])(struct loader *) = {load_elements, load_indicators,
		                                                load_rules, load_sections};

		for (size_t k = 0; k < N_SHEETS; k++) {
			ld.sh = sh[k];
			ld.file = catalog_file_names[k];
			if ((rc = load[k](&ld)) != YB_OK)
				goto fail;
		}
	}
	for (size_t k = 0; k < N_SHEETS; k++)
		sheet_free(sh[k]);
	*out = c;
	return YB_OK;
fail:
	for (size_t k = 0; k < N_SHEETS; k++)
		sheet_free(sh[k]);
	catalog_free(&ci->pub);
	return rc;
}

/* Reads dir/name whole, refusing more than SHEET_MAX_BYTES. */
static int read_file(const char *dir, const char *name, struct catalog_file *f, struct errbuf *eb)
{
	char path[4096];

	f->name = (char *)name;
	f->data = NULL;
	f->len = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("%s: catalog directory name too long"), name);
	return sheet_read_file(path, &f->data, &f->len, eb);
}

int catalog_load_dir(const char *dir, struct catalog **out, struct errbuf *eb)
{
	struct catalog_file files[CATALOG_NFILES];
	size_t n = 0;
	int rc = YB_OK;

	*out = NULL;
	memset(files, 0, sizeof(files));
	for (size_t k = 0; k < CATALOG_NFILES && rc == YB_OK; k++) {
		char path[4096];
		struct stat st;
		/* An optional file that is not there is simply not part of the catalog. */
		if (k >= CATALOG_NREQUIRED &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, catalog_file_names[k]) <
		        sizeof(path) &&
		    stat(path, &st) != 0 && errno == ENOENT)
			continue;
		rc = read_file(dir, catalog_file_names[k], &files[n++], eb);
	}
	if (rc == YB_OK)
		rc = catalog_load_files(files, n, out, eb);
	for (size_t k = 0; k < n; k++)
		free(files[k].data);
	return rc;
}

void catalog_free(struct catalog *c)
{
	struct catalog_impl *ci = impl_of(c);

	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_elements; i++) {
		struct catalog_element *e = &c->elements[i];
		free(e->code);
		free(e->section);
		free(e->name_zh);
		free(e->name_en);
		free(e->unit);
	}
	free(c->elements);
	for (size_t i = 0; i < c->n_indicators; i++) {
		struct catalog_indicator *ind = &c->indicators[i];
		free(ind->code);
		free(ind->name_zh);
		free(ind->name_en);
		free(ind->unit);
		formula_free(ind->formula);
	}
	free(c->indicators);
	for (size_t i = 0; i < c->n_rules; i++) {
		struct catalog_rule *r = &c->rules[i];
		free(r->code);
		formula_free(r->rule);
		free(r->message_zh);
		free(r->message_en);
	}
	free(c->rules);
	for (size_t i = 0; i < c->n_sections; i++) {
		free(c->sections[i].code);
		free(c->sections[i].name_zh);
		free(c->sections[i].name_en);
	}
	free(c->sections);
	for (size_t k = 0; k < CATALOG_NFILES; k++) {
		free(c->files[k].name);
		free(c->files[k].data);
	}
	free(ci->slots);
	free(ci);
}

/* ---- checking a return ------------------------------------------------ */

void catalog_findings_clear(struct catalog_findings *f)
{
	if (f == NULL)
		return;
	free(f->items);
	memset(f, 0, sizeof(*f));
}

void catalog_values_free(struct catalog_values *v)
{
	if (v == NULL)
		return;
	free(v->value);
	free(v->present);
	memset(v, 0, sizeof(*v));
}

struct catalog_finding *catalog_findings_push(struct catalog_findings *f,
                                              enum catalog_finding_kind kind, size_t line)
{
	struct catalog_finding *it;
	void *p = array_reserve(f->items, &f->cap, f->n + 1, sizeof(*f->items), 16);

	if (p == NULL)
		return NULL;
	f->items = p;
	it = &f->items[f->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->line = line;
	if (kind == CATALOG_FINDING_ERROR)
		f->errors++;
	else if (kind == CATALOG_FINDING_WARNING)
		f->warnings++;
	else
		f->skipped++;
	return it;
}

static int add_finding(struct catalog_findings *f, enum catalog_finding_kind kind, size_t line,
                       const char *code, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int add_finding(struct catalog_findings *f, enum catalog_finding_kind kind, size_t line,
                       const char *code, const char *value, const char *fmt, ...)
{
	struct catalog_finding *it = catalog_findings_push(f, kind, line);
	size_t off = 0;
	va_list ap;

	if (it == NULL)
		return YB_ENOMEM;
	copy_cut(it->code, sizeof(it->code), code);
	copy_cut(it->value, sizeof(it->value), value);
	if (line > 0)
		off = (size_t)snprintf(it->message, sizeof(it->message), _("line %zu: "), line);
	va_start(ap, fmt);
	vsnprintf(it->message + off, sizeof(it->message) - off, fmt, ap);
	va_end(ap);
	cut_partial_utf8(it->message);
	return YB_OK;
}

/* True for "-12", "-0.5" (around blanks): a number that is only wrong by its sign. */
static bool negative_number(const char *s)
{
	bool digits = false;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s++ != '-')
		return false;
	for (; (*s >= '0' && *s <= '9') || *s == '.' || *s == ','; s++)
		digits |= *s >= '0' && *s <= '9';
	while (*s == ' ' || *s == '\t')
		s++;
	return digits && *s == '\0';
}

/* A value in hundredths as the element's type writes it (12, 1200.50). */
static void fmt_value(const struct catalog_element *e, int64_t v, char *buf, size_t len)
{
	if (dec_format(v, e->type == CATALOG_INT ? 0 : 2, buf, len) != YB_OK)
		snprintf(buf, len, "?");
}

/*
 * True for "95%", "12.5 %", "95％" (full-width): a number that is only
 * wrong by its percent sign.
 */
static bool percent_number(const char *s)
{
	size_t n = strlen(s);
	bool digits = false;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= 1 && s[n - 1] == '%')
		n -= 1;
	else if (n >= 3 && memcmp(s + n - 3, "\xEF\xBC\x85", 3) == 0) /* ％ */
		n -= 3;
	else
		return false;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == ','))
			return false;
		digits |= s[i] >= '0' && s[i] <= '9';
	}
	return digits;
}

/*
 * True for what clerks write for "nothing to report" ("N/A", "-", "无"),
 * which the return says by a blank cell. The value is trimmed (sheet.h).
 */
static bool not_applicable(const char *s)
{
	static const char *const words[] = {
	    "n/a",
	    "na",
	    "n.a.",
	    "#n/a",
	    "none",
	    "null",
	    "nil",
	    "-",
	    "--",
	    "/",
	    "\xE2\x80\x94",             /* — em dash */
	    "\xE2\x80\x94\xE2\x80\x94", /* —— */
	    "\xE2\x80\x93",             /* – en dash */
	    "\xEF\xBC\x8D",             /* － full-width hyphen */
	    "\xEF\xBC\x8F",             /* ／ full-width slash */
	    "\xE6\x97\xA0",             /* 无 */
	    "\xE6\x9A\x82\xE6\x97\xA0", /* 暂无 */
	    "\xE6\xB2\xA1\xE6\x9C\x89", /* 没有 */
	    "\xE7\xA9\xBA",             /* 空 */
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (ascii_ieq(s, words[i]))
			return true;
	return false;
}

/* "seminars (专题研讨场次)": an element as a message names it, in the reader's language. */
static const char *element_label(const struct catalog_element *e, char *buf, size_t len)
{
	/* TRANSLATORS: an element's code, then its name */
	snprintf(buf, len, _("%s (%s)"), e->code,
	         i18n_language() == I18N_CHINESE ? e->name_zh : e->name_en);
	return buf;
}

/* Checks one entry's value; on success sets *v. Adds a finding otherwise. */
static int check_value(const struct catalog_element *e, const struct catalog_entry *en,
                       struct catalog_findings *f, int64_t *v, bool *ok)
{
	int maxdec = e->type == CATALOG_INT ? 0 : 2;
	struct errbuf deb;
	char b[64], lim[32], got[32], who[256];

	*ok = false;
	shown(en->value, b, sizeof(b));
	element_label(e, who, sizeof(who));
	if (dec_parse_entry(en->value, maxdec, v, &deb) == YB_OK) {
		if (*v < 0)
			return add_finding(f, CATALOG_FINDING_ERROR, en->line, e->code, en->value,
			                   _("%s: \"%s\" is negative; values cannot be negative"),
			                   who, b);
		if (e->has_min && *v < e->min) {
			fmt_value(e, e->min, lim, sizeof(lim));
			fmt_value(e, *v, got, sizeof(got));
			return add_finding(f, CATALOG_FINDING_ERROR, en->line, e->code, en->value,
			                   _("%s: %s is below the minimum %s"), who, got, lim);
		}
		if (e->has_max && *v > e->max) {
			fmt_value(e, e->max, lim, sizeof(lim));
			fmt_value(e, *v, got, sizeof(got));
			return add_finding(f, CATALOG_FINDING_ERROR, en->line, e->code, en->value,
			                   _("%s: %s is above the maximum %s"), who, got, lim);
		}
		*ok = true;
		return YB_OK;
	}
	/* dec_parse_entry says precisely what is wrong; the sign, a percent
	 * sign and "nothing to report" written as a word are ours to judge. */
	if (negative_number(en->value))
		return add_finding(f, CATALOG_FINDING_ERROR, en->line, e->code, en->value,
		                   _("%s: \"%s\" is negative; values cannot be negative"), who, b);
	if (percent_number(en->value))
		return add_finding(f, CATALOG_FINDING_ERROR, en->line, e->code, en->value,
		                   _("%s: \"%s\" is not a number: drop the %% sign"), who, b);
	if (not_applicable(en->value))
		return add_finding(f, CATALOG_FINDING_ERROR, en->line, e->code, en->value,
		                   _("%s: \"%s\" is not a number: leave the cell empty when there "
		                     "is nothing to report"),
		                   who, b);
	/* TRANSLATORS: an element's code and name, then what is wrong with its value */
	return add_finding(f, CATALOG_FINDING_ERROR, en->line, e->code, en->value, _("%s: %s"), who,
	                   deb.msg);
}

struct check_ctx {
	const struct catalog *c;
	const struct catalog_values *v;
	const bool *invalid;
};

static bool lookup(void *ctx, const char *code, struct dec_ratio *out)
{
	const struct check_ctx *x = ctx;
	int i = catalog_find_element(x->c, code);

	if (i < 0 || !x->v->present[i])
		return false;
	*out = dec_ratio_from_hundredths(x->v->value[i]);
	return true;
}

/* Appends s to buf[len] at *pos, cutting (never overflowing) when full. */
static void append(char *buf, size_t len, size_t *pos, const char *s, size_t n)
{
	if (*pos >= len - 1)
		return;
	if (n > len - 1 - *pos)
		n = len - 1 - *pos;
	memcpy(buf + *pos, s, n);
	*pos += n;
	buf[*pos] = '\0';
}

static bool is_lower(char ch)
{
	return ch >= 'a' && ch <= 'z';
}

static bool is_word(char ch)
{
	return is_lower(ch) || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.';
}

/* The rule's text with each reported element's value after it:
 * "survey_valid (120) <= survey_issued (100)". */
static void annotate(const struct check_ctx *x, const char *text, char *buf, size_t len)
{
	size_t pos = 0;

	buf[0] = '\0';
	while (*text) {
		const char *s = text;
		char code[CODE_MAX + 1], num[40], note[48];
		size_t n;
		int i;

		/* tokens: a word (element code or number) or one other character */
		if (is_word(*text))
			while (is_word(*text))
				text++;
		else
			text++;
		n = (size_t)(text - s);
		append(buf, len, &pos, s, n);
		if (!is_lower(*s) || n > CODE_MAX)
			continue;
		memcpy(code, s, n);
		code[n] = '\0';
		i = catalog_find_element(x->c, code);
		if (i < 0 || !x->v->present[i])
			continue;
		fmt_value(&x->c->elements[i], x->v->value[i], num, sizeof(num));
		snprintf(note, sizeof(note), " (%s)", num);
		append(buf, len, &pos, note, strlen(note));
	}
}

/* Adds a finding about rule r with its code and parameters, worded by finding_render. */
static int add_rule_finding(const struct check_ctx *x, const struct catalog_rule *r,
                            enum catalog_finding_kind kind, const struct finding *what,
                            struct catalog_findings *f)
{
	char text[sizeof(f->items[0].message)];
	int rc;

	finding_render(what, r->code, 0, x->c, text, sizeof(text));
	if ((rc = add_finding(f, kind, 0, r->code, "", "%s", text)) == YB_OK)
		f->items[f->n - 1].what = *what;
	return rc;
}

static int check_rule(const struct check_ctx *x, const struct catalog_rule *r,
                      struct catalog_findings *f)
{
	struct finding what = {0};
	bool holds = false;
	enum formula_result res = formula_eval_rule(r->rule, lookup, (void *)x, &holds);

	if (res == FORMULA_VALUE) {
		if (holds)
			return YB_OK;
		what.code = FINDING_CODE_RULE_VIOLATED;
		annotate(x, formula_text(r->rule), what.expr, sizeof(what.expr));
		return add_rule_finding(x, r,
		                        r->severity == CATALOG_RULE_ERROR ? CATALOG_FINDING_ERROR
		                                                          : CATALOG_FINDING_WARNING,
		                        &what, f);
	}
	if (res == FORMULA_MISSING) {
		const char *const *codes;
		size_t n = formula_codes(r->rule, &codes);

		what.code = FINDING_CODE_RULE_MISSING;
		for (size_t i = 0; i < n; i++) {
			int k = catalog_find_element(x->c, codes[i]);
			struct finding_operand *op;

			if (k >= 0 && x->v->present[k])
				continue;
			if (what.n_missing == FINDING_MISSING_MAX) {
				what.n_more++;
				continue;
			}
			op = &what.missing[what.n_missing++];
			copy_cut(op->code, sizeof(op->code), codes[i]);
			op->invalid = k >= 0 && x->invalid[k];
		}
		return add_rule_finding(x, r, CATALOG_FINDING_SKIPPED, &what, f);
	}
	what.code =
	    res == FORMULA_DIV_ZERO ? FINDING_CODE_RULE_DIV_ZERO : FINDING_CODE_RULE_OVERFLOW;
	return add_rule_finding(x, r, CATALOG_FINDING_SKIPPED, &what, f);
}

/* A value left blank: not reported. */
static bool blank(const char *value)
{
	return value[strspn(value, " \t\r\n")] == '\0';
}

int catalog_check(const struct catalog *c, const struct catalog_entry *entries, size_t n,
                  struct catalog_values *values, struct catalog_findings *findings)
{
	size_t *seen = NULL; /* line+1 of each element's first entry, 0 = none yet */
	bool *invalid = NULL;
	size_t ne, given = 0; /* entries with a value, right or wrong */
	int rc = YB_OK;

	if (c == NULL || values == NULL || findings == NULL || (entries == NULL && n > 0))
		return YB_INVALID_ARGUMENT;
	ne = c->n_elements ? c->n_elements : 1;
	memset(values, 0, sizeof(*values));
	values->value = calloc(ne, sizeof(*values->value));
	values->present = calloc(ne, sizeof(*values->present));
	seen = calloc(ne, sizeof(*seen));
	invalid = calloc(ne, sizeof(*invalid));
	if (values->value == NULL || values->present == NULL || seen == NULL || invalid == NULL) {
		rc = YB_ENOMEM;
		goto out;
	}
	values->n = c->n_elements;

	for (size_t i = 0; i < n; i++) {
		const struct catalog_entry *en = &entries[i];
		const char *code = en->code ? en->code : "";
		const char *value = en->value ? en->value : "";
		struct catalog_entry e2 = {code, value, en->line};
		const struct code_slot *s;
		char b[256];
		int k;
		bool ok;
		int64_t v;

		if (!blank(value))
			given++;
		if (*code == '\0') {
			rc = add_finding(findings, CATALOG_FINDING_ERROR, en->line, "", value,
			                 _("no element code given"));
			if (rc != YB_OK)
				goto out;
			continue;
		}
		k = catalog_find_element(c, code);
		if (k < 0) {
			s = slot_find(impl_of(c), code);
			if (s != NULL && s->kind == KIND_INDICATOR)
				rc = add_finding(
				    findings, CATALOG_FINDING_ERROR, en->line, code, value,
				    _("%s is an indicator, computed from the elements; "
				      "leave it out of the return"),
				    code);
			else
				rc = add_finding(findings, CATALOG_FINDING_ERROR, en->line, code,
				                 value, _("unknown element code '%s'"),
				                 shown(code, b, sizeof(b)));
			if (rc != YB_OK)
				goto out;
			continue;
		}
		if (seen[k] != 0) {
			element_label(&c->elements[k], b, sizeof(b));
			if (seen[k] > 1)
				rc = add_finding(findings, CATALOG_FINDING_ERROR, en->line, code,
				                 value, _("%s: given twice (first on line %zu)"), b,
				                 seen[k] - 1);
			else
				rc = add_finding(findings, CATALOG_FINDING_ERROR, en->line, code,
				                 value, _("%s: given more than once"), b);
			if (rc != YB_OK)
				goto out;
			continue;
		}
		seen[k] = en->line + 1;
		if (blank(value))
			continue; /* not reported */
		rc = check_value(&c->elements[k], &e2, findings, &v, &ok);
		if (rc != YB_OK)
			goto out;
		if (ok) {
			values->value[k] = v;
			values->present[k] = true;
		} else {
			invalid[k] = true;
		}
	}

	if (given == 0) {
		/* Every rule would only be "skipped": the one thing to say is this. */
		rc = add_finding(findings, CATALOG_FINDING_ERROR, 0, "", "",
		                 _("no value is filled in: every value cell is blank; fill in "
		                   "the value column (leave blank only what was not reported)"));
		if (rc != YB_OK)
			goto out;
	} else {
		struct check_ctx x = {c, values, invalid};
		for (size_t i = 0; i < c->n_rules; i++)
			if ((rc = check_rule(&x, &c->rules[i], findings)) != YB_OK)
				goto out;
	}
	rc = findings->errors > 0 ? YB_INVALID_ARGUMENT : YB_OK;
out:
	free(seen);
	free(invalid);
	return rc;
}

int catalog_default_dir(char *buf, size_t len, struct errbuf *eb)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	struct stat st;

	if (n <= 0)
		return status_fail(eb, YB_EIO,
		                   _("cannot locate the running binary to find the "
		                     "default catalog; give --catalog DIR"));
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	if (snprintf(buf, len, "%s/../share/yuebao/catalog", exe) >= (int)len ||
	    stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
		return status_fail(
		    eb, YB_EIO, _("the default catalog is not installed at %s; give --catalog DIR"),
		    buf);
	return YB_OK;
}
