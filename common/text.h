/*
 * text.h - text that one person types and another reads: what a request's
 * strings may hold, and how text from others is made safe to show.
 *
 * A reason or comment written by a branch ends up on the central office's
 * terminal and in its spreadsheets, so the daemon refuses at the request
 * check what could do harm there (bytes that are not UTF-8, control
 * characters, a NUL that would cut a stored string short of what was
 * signed) and the client neutralises what a spreadsheet would run.
 */
#ifndef YB_TEXT_H
#define YB_TEXT_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "status.h"

/* Caps in characters (Unicode code points) of a request's string fields. */
#define TEXT_MAX_NOTE 2000 /* a revision's reason, a review's or closure's comment */
#define TEXT_MAX_FIELD 256 /* every other string field */

/*
 * Checks s[0..len): UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF), no control character (U+0000-U+001F, U+007F-U+009F), at most
 * max_chars code points. YB_OK, or YB_INVALID_ARGUMENT with the reason
 * (naming the byte offset) in eb.
 */
int text_check(const char *s, size_t len, size_t max_chars, struct errbuf *eb);

/*
 * Applies text_check to every string field of msg, in sub-messages and
 * repeated fields too, with cap TEXT_MAX_NOTE for fields named "reason" or
 * "comment" and TEXT_MAX_FIELD otherwise. wire_len is the length of the
 * bytes msg was decoded from: protobuf-c keeps a string only up to its
 * first NUL, so a message that encodes shorter than it arrived held one
 * (or was not encoded the way every yuebao client encodes). YB_OK, or
 * YB_INVALID_ARGUMENT naming the field ("values[3].value: ...") in eb.
 */
int text_check_message(const ProtobufCMessage *msg, size_t wire_len, struct errbuf *eb);

/*
 * Decodes the UTF-8 sequence at s[0..len), len >= 1, into *cp: its length
 * in bytes, or 0 when the bytes there are not valid UTF-8 (RFC 3629: no
 * overlong forms, surrogates or code points past U+10FFFF, nor a sequence
 * that len cuts short). The one decoder the project's text checks share.
 */
size_t text_utf8_decode(const char *s, size_t len, uint32_t *cp);

/*
 * True when a spreadsheet would take a cell starting like s for a formula:
 * it begins with = + - @, a tab or a carriage return (OWASP's list).
 */
bool text_is_formula(const char *s);

/*
 * A malloc'd copy of s in which every byte that is not part of valid UTF-8
 * is replaced by U+FFFD (as for JSON, which must be UTF-8); NULL when out
 * of memory. The caller frees it.
 */
char *text_valid_utf8(const char *s);

/*
 * A malloc'd copy of s for a person's terminal, made as text_fputs_terminal
 * writes it (newlines replaced too); NULL when out of memory.
 */
char *text_terminal_copy(const char *s);

/*
 * Writes s to f for a person's terminal: every control character (C0, DEL,
 * C1, so also ESC sequences) and every byte that is not part of valid UTF-8
 * is written as U+FFFD, except a newline when keep_newlines is set.
 */
void text_fputs_terminal(const char *s, bool keep_newlines, FILE *f);

#endif
