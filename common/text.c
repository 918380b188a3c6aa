/*
 * text.c - what a request's strings may hold, and text made safe to show.
 * See text.h.
 */
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"

size_t text_utf8_decode(const char *str, size_t len, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1fu, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0fu, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07u, min = 0x10000;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3fu);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

int text_check(const char *s, size_t len, size_t max_chars, struct errbuf *eb)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t off = 0, chars = 0, n;
	uint32_t cp;

	while (off < len) {
		if ((n = text_utf8_decode((const char *)u + off, len - off, &cp)) == 0)
			return status_fail(
			    eb, YB_INVALID_ARGUMENT,
			    _("byte %zu is not UTF-8 text (save or type it as UTF-8)"), off + 1);
		if (is_control(cp))
			return status_fail(eb, YB_INVALID_ARGUMENT,
			                   _("character %zu is a control character (U+%04X), which "
			                     "is not allowed"),
			                   chars + 1, (unsigned)cp);
		off += n;
		if (++chars > max_chars)
			return status_fail(eb, YB_INVALID_ARGUMENT, _("longer than %zu characters"),
			                   max_chars);
	}
	return YB_OK;
}

/* Our messages nest two deep; anything deeper is not ours. */
#define MAX_DEPTH 8

/* Where a string sits: one segment per message level, formatted only on error. */
struct path_seg {
	const char *name;
	size_t index;
	bool indexed;
};

/* "values[3].code": the path of segs[0..n), cut to fit out. */
static void path_format(const struct path_seg *segs, int n, char *out, size_t cap)
{
	size_t at = 0;

	out[0] = '\0';
	for (int i = 0; i < n && at < cap; i++) {
		int w = segs[i].indexed
		            ? snprintf(out + at, cap - at, "%s%s[%zu]", i ? "." : "", segs[i].name,
		                       segs[i].index)
		            : snprintf(out + at, cap - at, "%s%s", i ? "." : "", segs[i].name);
		if (w < 0)
			break;
		at += (size_t)w;
	}
}

static int check_fields(const ProtobufCMessage *msg, struct path_seg *segs, int depth,
                        struct errbuf *eb)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	struct errbuf why = {{0}};

	if (depth > MAX_DEPTH)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("the message nests too deep"));
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)msg + f->offset;
		bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
		size_t count =
		    repeated ? *(const size_t *)((const char *)msg + f->quantifier_offset) : 1;
		const void *const *items = repeated ? *(const void *const *const *)base : NULL;

		if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		for (size_t k = 0; k < count; k++) {
			const void *v = repeated ? items[k] : *(const void *const *)base;
			if (v == NULL)
				continue;
			segs[depth] = (struct path_seg){f->name, k, repeated};
			if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
				int rc = check_fields(v, segs, depth + 1, eb);
				if (rc != YB_OK)
					return rc;
			} else {
				size_t max = strcmp(f->name, "reason") == 0 ||
				                     strcmp(f->name, "comment") == 0
				                 ? TEXT_MAX_NOTE
				                 : TEXT_MAX_FIELD;
				if (text_check(v, strlen(v), max, &why) != YB_OK) {
					char path[256];
					path_format(segs, depth + 1, path, sizeof(path));
					return status_fail(eb, YB_INVALID_ARGUMENT, "%s: %s", path,
					                   why.msg);
				}
			}
		}
	}
	return YB_OK;
}

int text_check_message(const ProtobufCMessage *msg, size_t wire_len, struct errbuf *eb)
{
	struct path_seg segs[MAX_DEPTH + 1];
	int rc = check_fields(msg, segs, 0, eb);

	if (rc != YB_OK)
		return rc;
	if (protobuf_c_message_get_packed_size(msg) != wire_len)
		return status_fail(
		    eb, YB_INVALID_ARGUMENT,
		    _("a string field holds a NUL byte, or a field is encoded twice"));
	return YB_OK;
}

bool text_is_formula(const char *s)
{
	return s != NULL && s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
}

/* Which control characters survive a rewrite. */
enum keep { KEEP_NO_CONTROL, KEEP_NEWLINES, KEEP_CONTROLS };

/*
 * Rewrites s into out (3 bytes per byte of s, plus one) with every byte that
 * is not part of valid UTF-8, and every control character not kept, as
 * U+FFFD.
 */
static void rewrite(const char *s, enum keep keep, char *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), off = 0, at = 0, n;
	uint32_t cp;

	while (off < len) {
		n = text_utf8_decode((const char *)u + off, len - off, &cp);
		if (n == 0 || (is_control(cp) && keep != KEEP_CONTROLS &&
		               !(keep == KEEP_NEWLINES && cp == '\n'))) {
			memcpy(out + at, "\xef\xbf\xbd", 3);
			at += 3;
			off += n ? n : 1;
		} else {
			memcpy(out + at, u + off, n);
			at += n;
			off += n;
		}
	}
	out[at] = '\0';
}

/* A malloc'd rewrite of s; NULL when out of memory. */
static char *rewrite_copy(const char *s, enum keep keep)
{
	char *out = malloc(3 * strlen(s) + 1);

	if (out != NULL)
		rewrite(s, keep, out);
	return out;
}

char *text_valid_utf8(const char *s)
{
	return rewrite_copy(s, KEEP_CONTROLS);
}

void text_fputs_terminal(const char *s, bool keep_newlines, FILE *f)
{
	char *text = rewrite_copy(s, keep_newlines ? KEEP_NEWLINES : KEEP_NO_CONTROL);

	if (text != NULL)
		fputs(text, f);
	free(text);
}

char *text_terminal_copy(const char *s)
{
	return rewrite_copy(s, KEEP_NO_CONTROL);
}
