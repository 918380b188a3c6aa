/*
 * sheet.c - CSV files into rows of trimmed cells, on top of libcsv.
 *
 * The whole input is checked before libcsv sees it (size cap, what kind of
 * file it is, NUL bytes, encoding), so every byte handed to the parser is
 * known-good UTF-8 text. Text that is not UTF-8 is converted from GB18030
 * first. The bytes that shape a CSV (comma, quote, CR, LF) are the same single
 * bytes in both encodings and never occur inside a GB18030 multi-byte
 * character, so rows, cells and line numbers are the same before and after
 * the conversion; byte offsets are mapped back to the file (file_offset).
 *
 * libcsv does the quoting (CSV_STRICT | CSV_STRICT_FINI); it does not report
 * positions, so the input is fed to it in pieces that each end at a CR or LF:
 * a row can only end on such a byte, which lets us know where every row
 * ended and count the lines (outside and inside quoted cells) ourselves.
 *
 * Cell texts live in one arena (NUL-terminated, addressed by offset because
 * the arena moves while it grows); rows index into a flat array of cells.
 */
#include "sheet.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "i18n.h"

struct sheet_row {
	size_t line;
	size_t first; /* index of the row's first cell in cells[] */
	size_t ncols;
};

struct sheet {
	char *arena; /* cell texts, each NUL-terminated */
	size_t arena_len, arena_cap;
	uint32_t *cells; /* offsets into arena; < 2^32 because input is capped */
	size_t ncells, cells_cap;
	struct sheet_row *rows;
	size_t nrows, rows_cap;
	const char *encoding; /* static string, see sheet_encoding */
};

/* Parsing state shared with the libcsv callbacks. */
struct sheet_ctx {
	struct sheet *s;
	const unsigned char *data; /* the UTF-8 text parsed */
	size_t len;
	const char *name;

	/* Where data came from, to map offsets back to the file. */
	const unsigned char *file;
	size_t file_len;
	size_t base;               /* unconverted: offset of data[0] in the file (BOM) */
	const unsigned char *conv; /* converted: the whole conversion output ... */
	size_t conv_skip;          /* ... of which data skips this many bytes (BOM) */

	/* Line counting: line_at is the line of byte scan_pos. */
	size_t scan_pos, line_at;
	size_t row_end;    /* offset just past the previous row's terminator */
	size_t chunk_last; /* offset of the last byte of the piece being parsed */

	bool in_row;
	size_t row_line;
	size_t row_first_cell, row_arena_start;
	size_t row_fields; /* cells seen in the row, stored or not */

	yb_status status; /* first failure seen in a callback */
	struct errbuf *eb;
};

/* Advances the line counter to byte offset pos (never backwards). */
static size_t line_of(struct sheet_ctx *x, size_t pos)
{
	for (; x->scan_pos < pos && x->scan_pos < x->len; x->scan_pos++) {
		unsigned char c = x->data[x->scan_pos];
		/* LF ends a line; so does a CR not followed by LF (old Mac files). */
		if (c == '\n' ||
		    (c == '\r' && (x->scan_pos + 1 >= x->len || x->data[x->scan_pos + 1] != '\n')))
			x->line_at++;
	}
	return x->line_at;
}

/* Line of byte pos counted from the start of buf (used before parsing). */
static size_t line_in(const unsigned char *buf, size_t len, size_t pos)
{
	size_t line = 1;
	for (size_t i = 0; i < pos && i < len; i++)
		if (buf[i] == '\n' || (buf[i] == '\r' && (i + 1 >= len || buf[i + 1] != '\n')))
			line++;
	return line;
}

/*
 * Returns the offset of the first invalid byte, or len when buf is valid
 * UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
 */
static size_t utf8_check(const unsigned char *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = buf[i];
		size_t n;
		unsigned char lo = 0x80, hi = 0xBF;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			if (c == 0xE0)
				lo = 0xA0; /* overlong */
			else if (c == 0xED)
				hi = 0x9F; /* surrogates */
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			if (c == 0xF0)
				lo = 0x90; /* overlong */
			else if (c == 0xF4)
				hi = 0x8F; /* above U+10FFFF */
		} else {
			return i;
		}
		if (len - i <= n)
			return i;
		if (buf[i + 1] < lo || buf[i + 1] > hi)
			return i;
		for (size_t k = 2; k <= n; k++)
			if (buf[i + k] < 0x80 || buf[i + k] > 0xBF)
				return i;
		i += n + 1;
	}
	return len;
}

static bool is_blank_ascii(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/*
 * Trims ASCII blanks, NO-BREAK SPACE (C2 A0), IDEOGRAPHIC SPACE (E3 80 80,
 * the full-width blank of Chinese input methods) and ZERO WIDTH NO-BREAK
 * SPACE (EF BB BF, a stray byte-order mark) from both ends.
 */
static void trim(const unsigned char **p, size_t *len)
{
	const unsigned char *s = *p;
	size_t n = *len;

	for (;;) {
		if (n >= 1 && is_blank_ascii(s[0])) {
			s++, n--;
		} else if (n >= 2 && s[0] == 0xC2 && s[1] == 0xA0) {
			s += 2, n -= 2;
		} else if (n >= 3 && ((s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80) ||
		                      (s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF))) {
			s += 3, n -= 3;
		} else {
			break;
		}
	}
	for (;;) {
		if (n >= 1 && is_blank_ascii(s[n - 1])) {
			n--;
		} else if (n >= 2 && s[n - 2] == 0xC2 && s[n - 1] == 0xA0) {
			n -= 2;
		} else if (n >= 3 && ((s[n - 3] == 0xE3 && s[n - 2] == 0x80 && s[n - 1] == 0x80) ||
		                      (s[n - 3] == 0xEF && s[n - 2] == 0xBB && s[n - 1] == 0xBF))) {
			n -= 3;
		} else {
			break;
		}
	}
	*p = s;
	*len = n;
}

/* Records the first failure seen in a callback; later ones are dropped. */
static void ctx_fail(struct sheet_ctx *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ctx_fail(struct sheet_ctx *x, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	status_vfail_first(&x->status, x->eb, (yb_status)code, x->name, fmt, ap);
	va_end(ap);
}

/*
 * Offset in the file of byte `at` of the parsed text. For converted text
 * the conversion is replayed character by character: each GB18030
 * character (1 byte below 0x80; 4 bytes when the second is a digit 0x30..0x39;
 * 2 bytes otherwise) became exactly one UTF-8 sequence.
 */
static size_t file_offset(const struct sheet_ctx *x, size_t at)
{
	const unsigned char *f = x->file;
	size_t i = 0, j = 0, want;

	if (x->conv == NULL)
		return x->base + at;
	want = x->conv_skip + at;
	while (j < want && i < x->file_len) {
		unsigned char c = x->conv[j];

		if (f[i] < 0x80)
			i += 1;
		else if (i + 1 < x->file_len && f[i + 1] >= 0x30 && f[i + 1] <= 0x39)
			i += 4;
		else
			i += 2;
		j += c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
	}
	return i < x->file_len ? i : x->file_len;
}

/* Offset where the current row starts: the first byte after the previous
 * row's terminator that libcsv does not skip (blank lines, leading blanks). */
static size_t row_start(const struct sheet_ctx *x)
{
	size_t p = x->row_end;
	while (p < x->len && (x->data[p] == ' ' || x->data[p] == '\t' || x->data[p] == '\r' ||
	                      x->data[p] == '\n'))
		p++;
	return p;
}

/* Appends one cell's text, already trimmed, to s. YB_OK or YB_ENOMEM. */
static int push_cell(struct sheet *s, const unsigned char *p, size_t len)
{
	char *arena;
	uint32_t *cells;

	arena = array_reserve(s->arena, &s->arena_cap, s->arena_len + len + 1, 1, 64);
	if (arena == NULL)
		return YB_ENOMEM;
	s->arena = arena;
	cells = array_reserve(s->cells, &s->cells_cap, s->ncells + 1, sizeof(*s->cells), 64);
	if (cells == NULL)
		return YB_ENOMEM;
	s->cells = cells;
	s->cells[s->ncells++] = (uint32_t)s->arena_len;
	if (len > 0)
		memcpy(s->arena + s->arena_len, p, len);
	s->arena[s->arena_len + len] = '\0';
	s->arena_len += len + 1;
	return YB_OK;
}

/*
 * Ends the row whose cells start at cells[first] (its texts at
 * arena[arena_start]): drops its trailing empty cells, and the whole row
 * when nothing is left. YB_OK, YB_RESOURCE_EXHAUSTED past SHEET_MAX_ROWS or
 * YB_ENOMEM.
 */
static int push_row(struct sheet *s, size_t line, size_t first, size_t arena_start)
{
	struct sheet_row *rows;
	size_t ncols = s->ncells - first;

	while (ncols > 0 && s->arena[s->cells[first + ncols - 1]] == '\0')
		ncols--;
	s->ncells = first + ncols;
	if (ncols == 0) {
		s->arena_len = arena_start;
		return YB_OK;
	}
	s->arena_len = s->cells[s->ncells - 1] + strlen(s->arena + s->cells[s->ncells - 1]) + 1;
	if (s->nrows >= SHEET_MAX_ROWS)
		return YB_RESOURCE_EXHAUSTED;
	rows = array_reserve(s->rows, &s->rows_cap, s->nrows + 1, sizeof(*s->rows), 64);
	if (rows == NULL)
		return YB_ENOMEM;
	s->rows = rows;
	s->rows[s->nrows].line = line;
	s->rows[s->nrows].first = first;
	s->rows[s->nrows].ncols = ncols;
	s->nrows++;
	return YB_OK;
}

static void on_field(void *field, size_t len, void *ctx)
{
	struct sheet_ctx *x = ctx;
	struct sheet *s = x->s;
	const unsigned char *p = field;
	size_t tlen = len;

	if (x->status != YB_OK)
		return;
	if (!x->in_row) {
		x->in_row = true;
		x->row_line = line_of(x, row_start(x));
		x->row_first_cell = s->ncells;
		x->row_arena_start = s->arena_len;
		x->row_fields = 0;
	}
	if (len > SHEET_MAX_CELL) {
		ctx_fail(x, YB_RESOURCE_EXHAUSTED, _("line %zu: a cell has more than %zu bytes"),
		         x->row_line, (size_t)SHEET_MAX_CELL);
		return;
	}
	if (p == NULL)
		tlen = 0;
	else
		trim(&p, &tlen);
	if (x->row_fields++ >= SHEET_MAX_COLS) {
		/* Empty cells past the cap are trailing ones (on_row drops them). */
		if (tlen == 0)
			return;
		ctx_fail(x, YB_RESOURCE_EXHAUSTED, _("line %zu: more than %zu columns"),
		         x->row_line, (size_t)SHEET_MAX_COLS);
		return;
	}
	if (push_cell(s, p, tlen) != YB_OK)
		ctx_fail(x, YB_ENOMEM, _("line %zu: out of memory"), x->row_line);
}

static void on_row(int c, void *ctx)
{
	struct sheet_ctx *x = ctx;
	int rc;

	/* The row ended on the terminator that closed this piece (or at EOF). */
	x->row_end = c < 0 ? x->len : x->chunk_last + 1;
	if (x->status != YB_OK || !x->in_row) {
		x->in_row = false;
		return;
	}
	x->in_row = false;
	rc = push_row(x->s, x->row_line, x->row_first_cell, x->row_arena_start);
	if (rc == YB_RESOURCE_EXHAUSTED)
		ctx_fail(x, rc, _("line %zu: more than %zu rows"), x->row_line,
		         (size_t)SHEET_MAX_ROWS);
	else if (rc != YB_OK)
		ctx_fail(x, rc, _("line %zu: out of memory"), x->row_line);
}

/*
 * libcsv buffers a whole cell before handing it over and grows its buffer
 * by blk_size at a time; capping that buffer keeps a huge cell from costing
 * more than a few KiB (and quadratic copying). The cap is loose: on_field
 * applies the exact SHEET_MAX_CELL to the cell as libcsv delivers it.
 */
#define CSV_BLOCK 1024
#define CSV_BUFFER_MAX (2 * SHEET_MAX_CELL + CSV_BLOCK)

static void *capped_realloc(void *p, size_t size)
{
	if (size > CSV_BUFFER_MAX)
		return NULL;
	return realloc(p, size);
}

/* Parses x->data with libcsv, feeding it one line terminator at a time. */
static int parse(struct sheet_ctx *x)
{
	struct csv_parser p;
	size_t pos = 0;
	int rc = YB_OK;

	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
		return status_fail(x->eb, YB_ENOMEM, _("%s: cannot start the CSV parser"), x->name);
	csv_set_realloc_func(&p, capped_realloc);
	csv_set_blk_size(&p, CSV_BLOCK);
	while (pos < x->len) {
		size_t end = pos, got;

		while (end < x->len && x->data[end] != '\r' && x->data[end] != '\n')
			end++;
		if (end < x->len)
			end++; /* include the terminator */
		x->chunk_last = end - 1;
		got = csv_parse(&p, x->data + pos, end - pos, on_field, on_row, x);
		if (x->status != YB_OK) {
			rc = x->status;
			goto out;
		}
		if (got != end - pos) {
			if (csv_error(&p) == CSV_EPARSE) {
				size_t at = pos + got;
				rc = status_fail(
				    x->eb, YB_INVALID_ARGUMENT,
				    _("%s: line %zu: malformed quoting at byte offset %zu "
				      "(a '\"' inside a cell must be doubled and the cell "
				      "quoted)"),
				    x->name, line_of(x, at), file_offset(x, at));
			} else if (csv_get_buffer_size(&p) + CSV_BLOCK > CSV_BUFFER_MAX) {
				rc = status_fail(x->eb, YB_RESOURCE_EXHAUSTED,
				                 _("%s: line %zu: a cell has more than %u bytes"),
				                 x->name,
				                 x->in_row ? x->row_line : line_of(x, row_start(x)),
				                 (unsigned)SHEET_MAX_CELL);
			} else {
				rc = status_fail(x->eb, YB_ENOMEM, _("%s: CSV parser: %s"), x->name,
				                 csv_strerror(csv_error(&p)));
			}
			goto out;
		}
		pos = end;
	}
	if (csv_fini(&p, on_field, on_row, x) != 0) {
		rc = status_fail(
		    x->eb, YB_INVALID_ARGUMENT,
		    _("%s: line %zu: a quoted cell is not closed before the end of the file"),
		    x->name, x->in_row ? x->row_line : line_of(x, row_start(x)));
		goto out;
	}
	rc = x->status;
out:
	csv_free(&p);
	return rc;
}

/*
 * Refuses, saying what it is and what to do, a file that is not CSV text:
 * UTF-16, an Excel workbook (zip or OLE2 magic), anything with a NUL byte.
 */
static int refuse_non_text(const unsigned char *d, size_t len, const char *name, struct errbuf *eb)
{
	const unsigned char *nul;

	if (len >= 2 && ((d[0] == 0xFF && d[1] == 0xFE) || (d[0] == 0xFE && d[1] == 0xFF)))
		return status_fail(
		    eb, YB_INVALID_ARGUMENT,
		    _("%s: this is UTF-16 text (Excel's \"Unicode Text\"), not CSV: in "
		      "Excel use File > Save As > CSV UTF-8 (or CSV)"),
		    name);
	if (len >= 4 && d[0] == 'P' && d[1] == 'K' &&
	    ((d[2] == 3 && d[3] == 4) || (d[2] == 5 && d[3] == 6) || (d[2] == 7 && d[3] == 8)))
		return status_fail(
		    eb, YB_INVALID_ARGUMENT,
		    _("%s: this is an Excel workbook (.xlsx, a zip file), not CSV: in "
		      "Excel use File > Save As > CSV UTF-8 (or CSV)"),
		    name);
	if (len >= 4 && d[0] == 0xD0 && d[1] == 0xCF && d[2] == 0x11 && d[3] == 0xE0)
		return status_fail(
		    eb, YB_INVALID_ARGUMENT,
		    _("%s: this is an Excel workbook (.xls, an Office file), not CSV: in "
		      "Excel use File > Save As > CSV UTF-8 (or CSV)"),
		    name);
	nul = memchr(d, 0, len);
	if (nul != NULL)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("%s: line %zu: NUL byte at byte offset %zu: this is a binary "
		                     "file, not CSV text: in Excel use File > Save As > CSV UTF-8 "
		                     "(or CSV)"),
		                   name, line_in(d, len, (size_t)(nul - d)), (size_t)(nul - d));
	return YB_OK;
}

/*
 * Converts GB18030 text to UTF-8 into a new buffer (*out, *outlen), which
 * the caller frees. YB_INVALID_ARGUMENT when the text is not GB18030, with
 * *bad the offset of the first sequence that is not (eb untouched);
 * YB_ENOMEM; YB_INTERNAL when iconv cannot do the conversion at all.
 */
static int from_gb18030(const unsigned char *in, size_t inlen, const char *name,
                        unsigned char **out, size_t *outlen, size_t *bad, struct errbuf *eb)
{
	/* One GB18030 character of n bytes is at most 1.5 n bytes of UTF-8
	 * (2 bytes -> at most 3; 4 bytes -> at most 4); should an iconv think
	 * otherwise, the conversion is retried once with room for 4 n. */
	size_t cap = inlen / 2 * 3 + 8;
	char *buf = NULL;
	iconv_t cd;
	int rc = YB_OK;

	cd = iconv_open("UTF-8", "GB18030");
	if (cd == (iconv_t)-1)
		return status_fail(
		    eb, YB_INTERNAL,
		    _("%s: the file is not UTF-8 and cannot be converted from GB18030 "
		      "here (iconv: %s); save it as \"CSV UTF-8\""),
		    name, strerror(errno));
	for (;;) {
		char *src = (char *)in, *dst;
		size_t left = inlen, room = cap;
		char *p = realloc(buf, cap);

		if (p == NULL) {
			rc = status_fail(eb, YB_ENOMEM, _("%s: out of memory"), name);
			goto out;
		}
		buf = p;
		dst = buf;
		iconv(cd, NULL, NULL, NULL, NULL);
		if (iconv(cd, &src, &left, &dst, &room) != (size_t)-1) {
			*out = (unsigned char *)buf;
			*outlen = (size_t)(dst - buf);
			buf = NULL;
			goto out;
		}
		if (errno == EILSEQ || errno == EINVAL) {
			*bad = (size_t)((const unsigned char *)src - in);
			rc = YB_INVALID_ARGUMENT;
			goto out;
		}
		if (errno != E2BIG || cap >= inlen * 4 + 8) {
			rc = status_fail(eb, YB_INTERNAL, _("%s: converting from GB18030: %s"),
			                 name, strerror(errno));
			goto out;
		}
		cap = inlen * 4 + 8;
	}
out:
	free(buf);
	iconv_close(cd);
	return rc;
}

int sheet_load_mem(const char *data, size_t len, const char *name, struct sheet **out,
                   struct errbuf *eb)
{
	const unsigned char *d = (const unsigned char *)data;
	unsigned char *conv = NULL;
	struct sheet_ctx x;
	struct sheet *s = NULL;
	const char *encoding;
	size_t base = 0, bad, clen = 0;
	int rc;

	*out = NULL;
	if (name == NULL)
		name = "(input)";
	if (len > SHEET_MAX_BYTES)
		return status_fail(eb, YB_RESOURCE_EXHAUSTED, _("%s: file larger than %u bytes"),
		                   name, SHEET_MAX_BYTES);
	if (len == 0 || d == NULL)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("%s: empty file, no header row"),
		                   name);
	if ((rc = refuse_non_text(d, len, name, eb)) != YB_OK)
		return rc;

	memset(&x, 0, sizeof(x));
	x.file = d;
	x.file_len = len;
	if (len >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF)
		base = 3;
	bad = base + utf8_check(d + base, len - base);
	if (bad == len) {
		encoding = base ? "UTF-8 with BOM" : "UTF-8";
		x.data = d + base;
		x.len = len - base;
		x.base = base;
	} else if (base > 0) {
		return status_fail(
		    eb, YB_INVALID_ARGUMENT,
		    _("%s: line %zu: invalid UTF-8 at byte offset %zu (0x%02X), though "
		      "the file starts with a UTF-8 byte-order mark: save it again as "
		      "\"CSV UTF-8\""),
		    name, line_in(d, len, bad), bad, d[bad]);
	} else {
		size_t gbad = 0, at;

		rc = from_gb18030(d, len, name, &conv, &clen, &gbad, eb);
		if (rc == YB_INVALID_ARGUMENT) {
			/* Name where the likelier reading (the one that got further) fails. */
			at = gbad > bad ? gbad : bad;
			return status_fail(
			    eb, YB_INVALID_ARGUMENT,
			    gbad > bad
			        ? _("%s: line %zu: byte offset %zu (0x%02X) is neither UTF-8 nor "
			            "GB18030 text (the text before it reads as GB18030): save "
			            "the file from Excel as CSV UTF-8 (or CSV)")
			    : bad > gbad
			        ? _("%s: line %zu: byte offset %zu (0x%02X) is neither UTF-8 nor "
			            "GB18030 "
			            "text (the text before it reads as UTF-8): save the file from "
			            "Excel "
			            "as CSV UTF-8 (or CSV)")
			        : _("%s: line %zu: byte offset %zu (0x%02X) is neither UTF-8 nor "
			            "GB18030 "
			            "text: save the file from Excel as CSV UTF-8 (or CSV)"),
			    name, line_in(d, len, at), at, d[at]);
		}
		if (rc != YB_OK)
			return rc;
		encoding = "GB18030";
		x.conv = conv;
		/* A GB18030 byte-order mark (84 31 95 33) comes out as U+FEFF. */
		if (clen >= 3 && conv[0] == 0xEF && conv[1] == 0xBB && conv[2] == 0xBF)
			x.conv_skip = 3;
		x.data = conv + x.conv_skip;
		x.len = clen - x.conv_skip;
	}

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		rc = status_fail(eb, YB_ENOMEM, _("%s: out of memory"), name);
		goto fail;
	}
	s->encoding = encoding;
	x.s = s;
	x.name = name;
	x.line_at = 1;
	x.eb = eb;
	rc = parse(&x);
	if (rc != YB_OK)
		goto fail;
	if (s->nrows == 0) {
		rc = status_fail(eb, YB_INVALID_ARGUMENT, _("%s: empty file, no header row"), name);
		goto fail;
	}
	free(conv);
	*out = s;
	return YB_OK;
fail:
	free(conv);
	sheet_free(s);
	return rc;
}

int sheet_read_file(const char *path, char **data, size_t *data_len, struct errbuf *eb)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, rc = YB_OK;

	*data = NULL;
	*data_len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return status_fail(eb, YB_EIO, _("%s: cannot open: %s"), path, strerror(errno));
	/* Read up to one byte past the cap, so an oversized file is noticed
	 * without trusting st_size (pipes, files that grow while read). */
	for (;;) {
		ssize_t n;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *p;

			if (ncap > (size_t)SHEET_MAX_BYTES + 1)
				ncap = (size_t)SHEET_MAX_BYTES + 1;
			if (ncap == cap) {
				rc = status_fail(eb, YB_RESOURCE_EXHAUSTED,
				                 _("%s: file larger than %u bytes"), path,
				                 SHEET_MAX_BYTES);
				goto out;
			}
			p = realloc(buf, ncap);
			if (p == NULL) {
				rc = status_fail(eb, YB_ENOMEM, _("%s: out of memory"), path);
				goto out;
			}
			buf = p;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = status_fail(eb, YB_EIO, _("%s: cannot read: %s"), path,
			                 strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*data = buf;
	*data_len = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

int sheet_load_file(const char *path, struct sheet **out, struct errbuf *eb)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = sheet_read_file(path, &buf, &len, eb)) != YB_OK)
		return rc;
	rc = sheet_load_mem(buf, len, path, out, eb);
	free(buf);
	return rc;
}

int sheet_new(const char *encoding, struct sheet **out)
{
	*out = calloc(1, sizeof(**out));
	if (*out == NULL)
		return YB_ENOMEM;
	(*out)->encoding = encoding;
	return YB_OK;
}

int sheet_add_row(struct sheet *s, size_t line, const char *const *cells, size_t ncols,
                  const char *name, struct errbuf *eb)
{
	size_t first = s->ncells, arena_start = s->arena_len;
	int rc = YB_OK;

	for (size_t i = 0; i < ncols && rc == YB_OK; i++) {
		const unsigned char *p = (const unsigned char *)cells[i];
		size_t len = p == NULL ? 0 : strlen(cells[i]);

		if (len > SHEET_MAX_CELL) {
			rc = status_fail(eb, YB_RESOURCE_EXHAUSTED,
			                 _("%s: line %zu: a cell has more than %zu bytes"), name,
			                 line, (size_t)SHEET_MAX_CELL);
			break;
		}
		if (p != NULL)
			trim(&p, &len);
		if (i >= SHEET_MAX_COLS) {
			if (len == 0)
				continue;
			rc = status_fail(eb, YB_RESOURCE_EXHAUSTED,
			                 _("%s: line %zu: more than %zu columns"), name, line,
			                 (size_t)SHEET_MAX_COLS);
			break;
		}
		if (push_cell(s, p, len) != YB_OK)
			rc = status_fail(eb, YB_ENOMEM, _("%s: out of memory"), name);
	}
	if (rc == YB_OK) {
		rc = push_row(s, line, first, arena_start);
		if (rc == YB_RESOURCE_EXHAUSTED)
			return status_fail(eb, rc, _("%s: line %zu: more than %zu rows"), name,
			                   line, (size_t)SHEET_MAX_ROWS);
		if (rc != YB_OK)
			return status_fail(eb, rc, _("%s: out of memory"), name);
		return YB_OK;
	}
	/* Forget the row's cells: the sheet stays as it was before the call. */
	s->ncells = first;
	s->arena_len = arena_start;
	return rc;
}

void sheet_free(struct sheet *s)
{
	if (s == NULL)
		return;
	free(s->arena);
	free(s->cells);
	free(s->rows);
	free(s);
}

size_t sheet_rows(const struct sheet *s)
{
	return s ? s->nrows : 0;
}

size_t sheet_cols(const struct sheet *s, size_t row)
{
	if (s == NULL || row >= s->nrows)
		return 0;
	return s->rows[row].ncols;
}

const char *sheet_cell(const struct sheet *s, size_t row, size_t col)
{
	if (s == NULL || row >= s->nrows || col >= s->rows[row].ncols)
		return "";
	return s->arena + s->cells[s->rows[row].first + col];
}

size_t sheet_line(const struct sheet *s, size_t row)
{
	if (s == NULL || row >= s->nrows)
		return 0;
	return s->rows[row].line;
}

const char *sheet_encoding(const struct sheet *s)
{
	return s ? s->encoding : "";
}

int sheet_find_col(const struct sheet *s, const char *name)
{
	if (s == NULL || s->nrows == 0 || name == NULL)
		return -1;
	for (size_t i = 0; i < s->rows[0].ncols; i++) {
		const char *a = sheet_cell(s, 0, i), *b = name;

		while (*a && *b) {
			unsigned char ca = (unsigned char)*a, cb = (unsigned char)*b;
			if (ca >= 'A' && ca <= 'Z')
				ca += 'a' - 'A';
			if (cb >= 'A' && cb <= 'Z')
				cb += 'a' - 'A';
			if (ca != cb)
				break;
			a++, b++;
		}
		if (*a == '\0' && *b == '\0')
			return (int)i;
	}
	return -1;
}
