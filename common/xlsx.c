/*
 * xlsx.c - one worksheet of an .xlsx workbook read into a sheet (xlsx.h).
 *
 * Only four parts of the archive are read: xl/workbook.xml (the sheets'
 * names, in order), xl/_rels/workbook.xml.rels (where each sheet's part
 * is), xl/sharedStrings.xml (the text cells point into it) and the chosen
 * worksheet. Element and attribute names are matched without their
 * namespace prefix, so files written with prefixes (<x:row>) or in Strict
 * OOXML read the same as Excel's transitional ones.
 */
#include "xlsx.h"

#include <expat.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "array.h"
#include "i18n.h"

/* Parts up to this size may compress any amount (a sheet of blanks does). */
#define RATIO_FLOOR (1u << 20)
#define MAX_SHEETS 1024
#define MAX_ROW 1048576ul /* Excel's last row */
#define REF_MAX 16        /* "XFD1048576" and the NUL, with room */
#define NUMBER_DIGITS 15  /* significant digits Excel shows */

/* ---- XML parsing, shared by the four parts ---- */

/* First member of every part's parsing context, so handlers can fail. */
struct xml {
	XML_Parser parser;
	const char *name; /* the file, for messages */
	yb_status status; /* first failure; parsing stops at it */
	struct errbuf *eb;
};

static void xml_fail(struct xml *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void xml_fail(struct xml *x, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (x->status == YB_OK)
		XML_StopParser(x->parser, XML_FALSE);
	status_vfail_first(&x->status, x->eb, (yb_status)code, x->name, fmt, ap);
	va_end(ap);
}

/* An element or attribute name without its namespace prefix. */
static const char *local_name(const char *n)
{
	const char *colon = strrchr(n, ':');
	return colon != NULL ? colon + 1 : n;
}

/* The value of the attribute whose local name is lname, or NULL. */
static const char *attr(const char **atts, const char *lname)
{
	for (size_t i = 0; atts[i] != NULL; i += 2)
		if (strcmp(local_name(atts[i]), lname) == 0)
			return atts[i + 1];
	return NULL;
}

static void on_doctype(void *ud, const char *name, const char *sysid, const char *pubid,
                       int has_internal)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal;
	xml_fail(ud, YB_INVALID_ARGUMENT, _("a part of the workbook declares a DTD; refused"));
}

/*
 * Parses data as the part `part`, with the handlers given; x is the first
 * member of the context they receive. Returns x->status, or
 * YB_INVALID_ARGUMENT naming the part and line when the XML is malformed.
 */
static int parse_xml(struct xml *x, const char *part, const char *data, size_t len,
                     XML_StartElementHandler start, XML_EndElementHandler end,
                     XML_CharacterDataHandler chars)
{
	XML_Parser p = XML_ParserCreate(NULL);

	if (p == NULL)
		return status_fail(x->eb, YB_ENOMEM, _("%s: out of memory"), x->name);
	x->parser = p;
	XML_SetUserData(p, x);
	XML_SetElementHandler(p, start, end);
	XML_SetCharacterDataHandler(p, chars);
	XML_SetStartDoctypeDeclHandler(p, on_doctype);
	if (XML_Parse(p, data, (int)len, XML_TRUE) == XML_STATUS_ERROR && x->status == YB_OK)
		x->status = status_fail(x->eb, YB_INVALID_ARGUMENT,
		                        _("%s: %s is not well-formed XML (line %lu: %s)"), x->name,
		                        part, (unsigned long)XML_GetCurrentLineNumber(p),
		                        XML_ErrorString(XML_GetErrorCode(p)));
	XML_ParserFree(p);
	x->parser = NULL;
	return x->status;
}

/* Appends n bytes to a growing text, keeping at most max of them. */
static int text_append(char **buf, size_t *len, size_t *cap, const char *p, size_t n, size_t max)
{
	char *grown;

	if (*len >= max)
		return YB_OK;
	if (n > max - *len)
		n = max - *len;
	grown = array_reserve(*buf, cap, *len + n + 1, 1, 64);
	if (grown == NULL)
		return YB_ENOMEM;
	*buf = grown;
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
	return YB_OK;
}

/* ---- xl/workbook.xml and its relationships ---- */

struct workbook {
	struct xml x;
	char **names, **rids; /* the sheets, in the workbook's order */
	size_t n, cap;
};

static void wb_start(void *ud, const char *el, const char **atts)
{
	struct workbook *w = ud;
	const char *name = attr(atts, "name"), *rid = attr(atts, "id");
	char **names, **rids;
	size_t cap;

	if (strcmp(local_name(el), "sheet") != 0 || name == NULL || rid == NULL)
		return;
	if (w->n >= MAX_SHEETS) {
		xml_fail(&w->x, YB_RESOURCE_EXHAUSTED, _("more than %d sheets"), MAX_SHEETS);
		return;
	}
	cap = w->cap;
	names = array_reserve(w->names, &cap, w->n + 1, sizeof(*names), 8);
	if (names == NULL)
		goto nomem;
	w->names = names;
	cap = w->cap;
	rids = array_reserve(w->rids, &cap, w->n + 1, sizeof(*rids), 8);
	if (rids == NULL)
		goto nomem;
	w->rids = rids;
	w->cap = cap;
	w->names[w->n] = strdup(name);
	w->rids[w->n] = strdup(rid);
	w->n++;
	if (w->names[w->n - 1] == NULL || w->rids[w->n - 1] == NULL)
		goto nomem;
	return;
nomem:
	xml_fail(&w->x, YB_ENOMEM, _("out of memory"));
}

static void no_end(void *ud, const char *el)
{
	(void)ud, (void)el;
}

static void no_text(void *ud, const char *s, int len)
{
	(void)ud, (void)s, (void)len;
}

static void workbook_free(struct workbook *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->names[i]);
		free(w->rids[i]);
	}
	free(w->names);
	free(w->rids);
}

struct rels {
	struct xml x;
	const char *want; /* the relationship id looked for */
	char *target;
};

static void rels_start(void *ud, const char *el, const char **atts)
{
	struct rels *r = ud;
	const char *id = attr(atts, "Id"), *target = attr(atts, "Target");

	if (strcmp(local_name(el), "Relationship") != 0 || id == NULL || target == NULL ||
	    strcmp(id, r->want) != 0 || r->target != NULL)
		return;
	r->target = strdup(target);
	if (r->target == NULL)
		xml_fail(&r->x, YB_ENOMEM, _("out of memory"));
}

/* ---- xl/sharedStrings.xml ---- */

struct strings {
	struct xml x;
	char *arena; /* the strings, each NUL-terminated */
	size_t alen, acap;
	size_t *offs;
	size_t n, cap;
	bool in_si, in_t;
	int phonetic; /* depth inside <rPh>: phonetic guides are not the text */
	size_t start; /* where the string being read starts in arena */
};

static void sst_start(void *ud, const char *el, const char **atts)
{
	struct strings *s = ud;
	const char *l = local_name(el);

	(void)atts;
	if (strcmp(l, "si") == 0) {
		s->in_si = true;
		s->start = s->alen;
	} else if (strcmp(l, "rPh") == 0) {
		s->phonetic++;
	} else if (strcmp(l, "t") == 0 && s->in_si && s->phonetic == 0) {
		s->in_t = true;
	}
}

static void sst_end(void *ud, const char *el)
{
	struct strings *s = ud;
	const char *l = local_name(el);
	size_t *offs;

	if (strcmp(l, "t") == 0) {
		s->in_t = false;
	} else if (strcmp(l, "rPh") == 0) {
		s->phonetic--;
	} else if (strcmp(l, "si") == 0 && s->in_si) {
		s->in_si = false;
		offs = array_reserve(s->offs, &s->cap, s->n + 1, sizeof(*offs), 64);
		/* One byte for the NUL, so an empty string still has its place. */
		if (offs == NULL ||
		    text_append(&s->arena, &s->alen, &s->acap, "", 1, SIZE_MAX) != YB_OK) {
			xml_fail(&s->x, YB_ENOMEM, _("out of memory"));
			return;
		}
		s->offs = offs;
		s->offs[s->n++] = s->start;
	}
}

static void sst_text(void *ud, const char *p, int len)
{
	struct strings *s = ud;
	size_t have;

	if (!s->in_t)
		return;
	/* Keep one byte past the cell cap: enough for sheet_add_row to refuse. */
	have = s->alen - s->start;
	if (have > SHEET_MAX_CELL)
		return;
	if (text_append(&s->arena, &s->alen, &s->acap, p, (size_t)len,
	                s->start + SHEET_MAX_CELL + 1) != YB_OK)
		xml_fail(&s->x, YB_ENOMEM, _("out of memory"));
}

/* ---- the worksheet ---- */

struct worksheet {
	struct xml x;
	const struct strings *sst;
	const char *sheet_name;
	struct sheet *sheet;

	unsigned long row; /* the current row's number, 1-based */
	long prev_col;     /* the previous cell's column in the row, -1 at its start */
	/* The row's cells: texts in buf, at off[col] (-1: empty), cols up to ncols. */
	char *buf;
	size_t blen, bcap;
	long off[SHEET_MAX_COLS + 1];
	size_t ncols;

	bool in_row; /* between <row> and </row> */
	/* The cell being read. */
	bool in_cell, has_formula, has_value, in_value, in_inline, in_t;
	int phonetic;
	long col;
	char ref[REF_MAX], type[16];
	char *value; /* <v>, or the text of an inline string */
	size_t vlen, vcap;
};

/* Column of a cell reference ("D7" -> 3), or -1 when it has no letters. */
static long ref_column(const char *ref)
{
	long col = 0;
	size_t i;

	for (i = 0; ref[i] >= 'A' && ref[i] <= 'Z' && i < 3; i++)
		col = col * 26 + (ref[i] - 'A' + 1);
	return i == 0 ? -1 : col - 1;
}

static void column_name(long col, char *out, size_t outlen)
{
	char rev[8];
	size_t n = 0, i;

	for (col += 1; col > 0 && n < sizeof(rev); col = (col - 1) / 26)
		rev[n++] = (char)('A' + (col - 1) % 26);
	for (i = 0; i < n && i + 1 < outlen; i++)
		out[i] = rev[n - 1 - i];
	out[i] = '\0';
}

/*
 * Writes the number v as a worksheet saves it ([-]digits[.digits][E[+-]n])
 * as a plain decimal rounded half up to NUMBER_DIGITS significant digits,
 * trailing zeros dropped. False when v is no such number or it would take
 * more than 21 digits before or 20 zeros after the point.
 */
static bool format_number(const char *v, char *out, size_t outlen)
{
	char d[24];
	size_t nd = 0, kept = 0, o = 0;
	long pos = 0, exp10 = 0; /* value = 0.d × 10^pos */
	bool neg = false, point = false, digits = false;
	const char *s = v;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	for (; (*s >= '0' && *s <= '9') || (*s == '.' && !point); s++) {
		if (*s == '.') {
			point = true;
			continue;
		}
		digits = true;
		if (nd == 0 && *s == '0') {
			pos -= point ? 1 : 0;
			continue;
		}
		if (nd < sizeof(d))
			d[nd++] = *s;
		pos += point ? 0 : 1;
	}
	if (!digits)
		return false;
	if (*s == 'E' || *s == 'e') {
		bool eneg = false;

		s++;
		if (*s == '-' || *s == '+')
			eneg = *s++ == '-';
		if (*s < '0' || *s > '9')
			return false;
		for (; *s >= '0' && *s <= '9'; s++)
			if (exp10 < 1000)
				exp10 = exp10 * 10 + (*s - '0');
		pos += eneg ? -exp10 : exp10;
	}
	if (*s != '\0')
		return false;
	if (nd == 0) {
		snprintf(out, outlen, "0");
		return true;
	}
	kept = nd < NUMBER_DIGITS ? nd : NUMBER_DIGITS;
	if (nd > NUMBER_DIGITS && d[NUMBER_DIGITS] >= '5') {
		size_t i = kept;

		while (i > 0 && d[i - 1] == '9')
			d[--i] = '0';
		if (i == 0) {
			d[0] = '1';
			pos++;
		} else {
			d[i - 1]++;
		}
	}
	while (kept > 0 && d[kept - 1] == '0')
		kept--;
	if (pos > 21 || pos < -20 || outlen < 48)
		return false;
	if (neg)
		out[o++] = '-';
	if (pos <= 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (long i = 0; i < -pos; i++)
			out[o++] = '0';
		memcpy(out + o, d, kept);
		o += kept;
	} else {
		for (long i = 0; i < pos; i++)
			out[o++] = (size_t)i < kept ? d[i] : '0';
		if ((size_t)pos < kept) {
			out[o++] = '.';
			memcpy(out + o, d + pos, kept - (size_t)pos);
			o += kept - (size_t)pos;
		}
	}
	out[o] = '\0';
	return true;
}

/* Stores the finished cell's text in the row. */
static void ws_store(struct worksheet *w, const char *text)
{
	long at = w->col < SHEET_MAX_COLS ? w->col : SHEET_MAX_COLS;

	if (*text == '\0')
		return;
	/* Past the cap only to let sheet_add_row refuse the row. */
	w->off[at] = (long)w->blen;
	if (text_append(&w->buf, &w->blen, &w->bcap, text, strlen(text) + 1, SIZE_MAX) != YB_OK) {
		xml_fail(&w->x, YB_ENOMEM, _("out of memory"));
		return;
	}
	if ((size_t)at + 1 > w->ncols)
		w->ncols = (size_t)at + 1;
}

/* The text of the cell just read, by its type (ECMA-376 18.18.11). */
static void ws_end_cell(struct worksheet *w)
{
	const char *v = w->value != NULL ? w->value : "";
	const char *t = w->type;
	char num[64];

	if (w->has_formula && !w->has_value) {
		xml_fail(&w->x, YB_INVALID_ARGUMENT,
		         _("sheet %s: cell %s holds a formula without a saved result "
		           "(the file was written by a program, not saved from a "
		           "spreadsheet): open it in Excel, WPS or LibreOffice and save "
		           "it again"),
		         w->sheet_name, w->ref);
	} else if (strcmp(t, "s") == 0) {
		char *end;
		unsigned long i = strtoul(v, &end, 10);

		if (!w->has_value)
			return;
		if (*v == '\0' || *end != '\0' || i >= w->sst->n) {
			xml_fail(&w->x, YB_INVALID_ARGUMENT,
			         _("sheet %s: cell %s: points to shared string %s, which the "
			           "workbook does not have"),
			         w->sheet_name, w->ref, v);
			return;
		}
		ws_store(w, w->sst->arena + w->sst->offs[i]);
	} else if (strcmp(t, "e") == 0) {
		xml_fail(&w->x, YB_INVALID_ARGUMENT,
		         _("sheet %s: cell %s shows the error %s: correct it and save the "
		           "file again"),
		         w->sheet_name, w->ref, v);
	} else if (strcmp(t, "b") == 0) {
		if (w->has_value)
			ws_store(w, strcmp(v, "0") == 0 ? "FALSE" : "TRUE");
	} else if (strcmp(t, "inlineStr") == 0 || strcmp(t, "str") == 0 || strcmp(t, "d") == 0) {
		ws_store(w, v);
	} else if (w->has_value) {
		ws_store(w, format_number(v, num, sizeof(num)) ? num : v);
	}
}

static void ws_start_row(struct worksheet *w, const char **atts)
{
	const char *r = attr(atts, "r");
	char *end;
	unsigned long n = w->row + 1;

	if (r != NULL) {
		n = strtoul(r, &end, 10);
		if (*r < '0' || *r > '9' || *end != '\0')
			n = 0;
	}
	/*
	 * Rows come in order (ECMA-376 18.3.1.73), so lines only go forwards;
	 * a row inside a row is out of order too (it would end twice).
	 */
	if (w->in_row || n <= w->row || n > MAX_ROW) {
		xml_fail(&w->x, YB_INVALID_ARGUMENT,
		         _("sheet %s: row number %s is out of range or out of order"),
		         w->sheet_name, r != NULL ? r : "?");
		return;
	}
	w->row = n;
	w->in_row = true;
	w->prev_col = -1;
	w->blen = 0;
	w->ncols = 0;
	for (size_t i = 0; i <= SHEET_MAX_COLS; i++)
		w->off[i] = -1;
}

static void ws_end_row(struct worksheet *w)
{
	const char *cells[SHEET_MAX_COLS + 1];
	int rc;

	for (size_t i = 0; i < w->ncols; i++)
		cells[i] = w->off[i] < 0 ? NULL : w->buf + w->off[i];
	rc = sheet_add_row(w->sheet, w->row, cells, w->ncols, w->x.name, w->x.eb);
	if (rc != YB_OK) {
		w->x.status = rc;
		XML_StopParser(w->x.parser, XML_FALSE);
	}
}

static void ws_start_cell(struct worksheet *w, const char **atts)
{
	const char *r = attr(atts, "r"), *t = attr(atts, "t");
	char letters[8];

	w->in_cell = true;
	w->has_formula = w->has_value = w->in_value = w->in_inline = w->in_t = false;
	w->phonetic = 0;
	w->vlen = 0;
	if (w->value != NULL)
		w->value[0] = '\0';
	snprintf(w->type, sizeof(w->type), "%s", t != NULL ? t : "n");
	w->col = r != NULL ? ref_column(r) : -1;
	if (w->col < 0)
		w->col = w->prev_col + 1;
	w->prev_col = w->col;
	column_name(w->col, letters, sizeof(letters));
	snprintf(w->ref, sizeof(w->ref), "%s%lu", letters, w->row);
}

static void ws_start(void *ud, const char *el, const char **atts)
{
	struct worksheet *w = ud;
	const char *l = local_name(el);

	if (strcmp(l, "row") == 0)
		ws_start_row(w, atts);
	else if (strcmp(l, "c") == 0)
		ws_start_cell(w, atts);
	else if (!w->in_cell)
		return;
	else if (strcmp(l, "f") == 0)
		w->has_formula = true;
	else if (strcmp(l, "v") == 0)
		w->in_value = w->has_value = true;
	else if (strcmp(l, "is") == 0)
		w->in_inline = w->has_value = true;
	else if (strcmp(l, "rPh") == 0)
		w->phonetic++;
	else if (strcmp(l, "t") == 0 && w->in_inline && w->phonetic == 0)
		w->in_t = true;
}

static void ws_end(void *ud, const char *el)
{
	struct worksheet *w = ud;
	const char *l = local_name(el);

	if (strcmp(l, "row") == 0) {
		if (w->in_row)
			ws_end_row(w);
		w->in_row = false;
	} else if (strcmp(l, "c") == 0) {
		w->in_cell = false;
		ws_end_cell(w);
	} else if (strcmp(l, "v") == 0) {
		w->in_value = false;
	} else if (strcmp(l, "t") == 0) {
		w->in_t = false;
	} else if (strcmp(l, "rPh") == 0) {
		w->phonetic--;
	} else if (strcmp(l, "is") == 0) {
		w->in_inline = false;
	}
}

static void ws_text(void *ud, const char *p, int len)
{
	struct worksheet *w = ud;

	if (!w->in_value && !w->in_t)
		return;
	if (text_append(&w->value, &w->vlen, &w->vcap, p, (size_t)len, SHEET_MAX_CELL + 1) != YB_OK)
		xml_fail(&w->x, YB_ENOMEM, _("out of memory"));
}

/* ---- the archive ---- */

static int refuse_bomb(const char *name, const char *entry, struct errbuf *eb)
{
	return status_fail(eb, YB_RESOURCE_EXHAUSTED,
	                   _("%s: refused as a zip bomb: %s unpacks to more than %u MiB or "
	                     "more than %d times its packed size"),
	                   name, entry, XLSX_MAX_PART >> 20, XLSX_MAX_RATIO);
}

/* Whether `len` bytes unpacked from `packed` exceed the caps. */
static bool too_big(zip_uint64_t len, zip_uint64_t packed, bool packed_known)
{
	return len > XLSX_MAX_PART ||
	       (packed_known && len > RATIO_FLOOR && len / XLSX_MAX_RATIO > packed);
}

/*
 * Reads the entry named `entry` into *out (NUL-terminated, the caller
 * frees). An absent entry is YB_INVALID_ARGUMENT when required, else YB_OK
 * with *out NULL. The caps are checked against the sizes the archive
 * declares and again against the bytes really unpacked.
 */
static int read_part(zip_t *z, const char *entry, bool required, const char *name, char **out,
                     size_t *outlen, struct errbuf *eb)
{
	zip_int64_t idx = zip_name_locate(z, entry, ZIP_FL_NOCASE);
	zip_stat_t st;
	zip_file_t *f = NULL;
	char *buf = NULL, *grown;
	size_t len = 0, cap = 0;
	bool packed_known;
	int rc = YB_OK;

	*out = NULL;
	*outlen = 0;
	if (idx < 0)
		return required
		           ? status_fail(eb, YB_INVALID_ARGUMENT,
		                         _("%s: not an Excel workbook (the archive has no %s)"),
		                         name, entry)
		           : YB_OK;
	zip_stat_init(&st);
	if (zip_stat_index(z, (zip_uint64_t)idx, 0, &st) != 0)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("%s: cannot read %s in the archive: %s"), name, entry,
		                   zip_strerror(z));
	packed_known = (st.valid & ZIP_STAT_COMP_SIZE) != 0;
	if ((st.valid & ZIP_STAT_SIZE) && too_big(st.size, st.comp_size, packed_known))
		return refuse_bomb(name, entry, eb);
	f = zip_fopen_index(z, (zip_uint64_t)idx, 0);
	if (f == NULL)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("%s: cannot open %s in the archive: %s"), name, entry,
		                   zip_strerror(z));
	for (;;) {
		zip_int64_t n;

		grown = array_reserve(buf, &cap, len + 65536 + 1, 1, 65536 + 1);
		if (grown == NULL) {
			rc = status_fail(eb, YB_ENOMEM, _("%s: out of memory"), name);
			goto out;
		}
		buf = grown;
		n = zip_fread(f, buf + len, cap - len - 1);
		if (n < 0) {
			rc = status_fail(eb, YB_INVALID_ARGUMENT,
			                 _("%s: cannot unpack %s in the archive: %s"), name, entry,
			                 zip_file_strerror(f));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (too_big(len, st.comp_size, packed_known)) {
			rc = refuse_bomb(name, entry, eb);
			goto out;
		}
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
out:
	zip_fclose(f);
	free(buf);
	return rc;
}

/* The worksheet to read: the first preferred name present, else the first. */
static size_t choose_sheet(const struct workbook *w, const char *const *prefer)
{
	for (size_t p = 0; prefer != NULL && prefer[p] != NULL; p++)
		for (size_t i = 0; i < w->n; i++)
			if (strcmp(w->names[i], prefer[p]) == 0)
				return i;
	return 0;
}

bool xlsx_sniff(const char *data, size_t len)
{
	return len >= 4 && memcmp(data, "PK\3\4", 4) == 0;
}

int xlsx_read_sheet(const char *data, size_t len, const char *name, const char *const *prefer,
                    struct sheet **out, char *sheet_name, size_t sheet_name_len, struct errbuf *eb)
{
	zip_error_t ze;
	zip_source_t *src = NULL;
	zip_t *z = NULL;
	struct workbook wb = {.x = {.name = name, .eb = eb}};
	struct rels rels = {.x = {.name = name, .eb = eb}};
	struct strings sst = {.x = {.name = name, .eb = eb}};
	struct worksheet ws = {.x = {.name = name, .eb = eb}};
	char *part = NULL, path[1024];
	size_t plen, chosen;
	int rc;

	*out = NULL;
	if (sheet_name_len > 0)
		sheet_name[0] = '\0';
	zip_error_init(&ze);
	src = zip_source_buffer_create(data, len, 0, &ze);
	if (src == NULL) {
		rc = status_fail(eb, YB_ENOMEM, _("%s: out of memory"), name);
		goto out;
	}
	z = zip_open_from_source(src, ZIP_RDONLY, &ze);
	if (z == NULL) {
		zip_source_free(src);
		rc = status_fail(eb, YB_INVALID_ARGUMENT,
		                 _("%s: not a readable .xlsx workbook (zip archive: %s)"), name,
		                 zip_error_strerror(&ze));
		goto out;
	}
	if (zip_get_num_entries(z, 0) > XLSX_MAX_ENTRIES) {
		rc = status_fail(eb, YB_RESOURCE_EXHAUSTED,
		                 _("%s: more than %d entries in the archive; not a workbook"), name,
		                 XLSX_MAX_ENTRIES);
		goto out;
	}

	if ((rc = read_part(z, "xl/workbook.xml", true, name, &part, &plen, eb)) != YB_OK ||
	    (rc = parse_xml(&wb.x, "xl/workbook.xml", part, plen, wb_start, no_end, no_text)) !=
	        YB_OK)
		goto out;
	if (wb.n == 0) {
		rc =
		    status_fail(eb, YB_INVALID_ARGUMENT, _("%s: the workbook has no sheets"), name);
		goto out;
	}
	chosen = choose_sheet(&wb, prefer);
	ws.sheet_name = wb.names[chosen];

	free(part);
	rels.want = wb.rids[chosen];
	if ((rc = read_part(z, "xl/_rels/workbook.xml.rels", true, name, &part, &plen, eb)) !=
	        YB_OK ||
	    (rc = parse_xml(&rels.x, "xl/_rels/workbook.xml.rels", part, plen, rels_start, no_end,
	                    no_text)) != YB_OK)
		goto out;
	if (rels.target == NULL) {
		rc = status_fail(eb, YB_INVALID_ARGUMENT,
		                 _("%s: the workbook does not say where sheet %s is"), name,
		                 ws.sheet_name);
		goto out;
	}
	/* Targets are relative to xl/, or absolute within the archive. */
	snprintf(path, sizeof(path), "%s%s", rels.target[0] == '/' ? "" : "xl/",
	         rels.target + (rels.target[0] == '/'));

	free(part);
	if ((rc = read_part(z, "xl/sharedStrings.xml", false, name, &part, &plen, eb)) != YB_OK ||
	    (part != NULL && (rc = parse_xml(&sst.x, "xl/sharedStrings.xml", part, plen, sst_start,
	                                     sst_end, sst_text)) != YB_OK))
		goto out;

	free(part);
	ws.sst = &sst;
	if ((rc = read_part(z, path, true, name, &part, &plen, eb)) != YB_OK)
		goto out;
	if (sheet_new("xlsx", &ws.sheet) != YB_OK) {
		rc = status_fail(eb, YB_ENOMEM, _("%s: out of memory"), name);
		goto out;
	}
	if ((rc = parse_xml(&ws.x, path, part, plen, ws_start, ws_end, ws_text)) != YB_OK)
		goto out;
	if (sheet_rows(ws.sheet) == 0) {
		rc = status_fail(eb, YB_INVALID_ARGUMENT, _("%s: sheet %s is empty, no header row"),
		                 name, ws.sheet_name);
		goto out;
	}
	if (sheet_name_len > 0)
		snprintf(sheet_name, sheet_name_len, "%s", ws.sheet_name);
	*out = ws.sheet;
	ws.sheet = NULL;
out:
	free(part);
	sheet_free(ws.sheet);
	free(ws.buf);
	free(ws.value);
	free(sst.arena);
	free(sst.offs);
	free(rels.target);
	workbook_free(&wb);
	if (z != NULL)
		zip_discard(z);
	return rc;
}
