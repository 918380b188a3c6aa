/*
 * call.h - one call being served, as its handler sees it: who asks, the
 * loaded world, the store to read, the clock, an arena for the reply, the
 * refusal being built, and the authorisation rules every handler applies.
 *
 * pipeline.c fills a struct call and hands it to a handler (handlers.h);
 * the handler answers from it or refuses through it. Nothing here writes to
 * the store.
 */
#ifndef YB_CALL_H
#define YB_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pki.h"
#include "status.h"
#include "world.h"
#include "yuebao.pb-c.h"

struct store;

/* A refusal lists at most this many field errors; the message gives the total. */
#define CALL_MAX_ERRORS 200

struct call_block;

struct call {
	const struct pki_principal *who; /* verified */
	const struct world *world;
	/*
	 * Where the handler reads: the worker's own connection, or, for a
	 * writing call's apply (and a check repeated under the write turn),
	 * the batch's, which sees the writes of the calls before it.
	 */
	struct store *store;
	const struct pki_identity
	    *signer;            /* the daemon's own key (its certificate is in receipts) */
	const char *daemon_id;  /* this daemon's note among those on the database (daemons.h) */
	const uint8_t *request; /* the RpcRequest exactly as received */
	size_t request_len;
	const uint8_t *caller_cert; /* the caller's certificate (DER), as verified */
	size_t caller_cert_len;
	/*
	 * The call's time. For a writing call's apply, read once the call holds
	 * the writing connection, so that audit entries are in time order.
	 */
	int64_t now_ms;
	/*
	 * Bytes a list page (history, audit log, audit export) fills its items
	 * up to; a page always holds at least one item, however large.
	 */
	size_t page_bytes;
	/* Set by a handler that refuses: a message and field errors. */
	struct errbuf msg;
	Yuebao__V1__FieldError **errors; /* at most CALL_MAX_ERRORS */
	size_t n_errors;
	struct call_block *arena;
	/*
	 * An allocation of the arena failed: whatever the handler returns, the
	 * pipeline answers ENOMEM and writes nothing (SQLite's mallocFailed).
	 * So a handler need not check each string it copies.
	 */
	bool out_of_memory;
};

/* Zeroed memory that lives until call_release; NULL when out of memory (then out_of_memory). */
void *call_alloc(struct call *c, size_t n);

/*
 * A protobuf-c allocator over the call's arena, for decoding a message that
 * lives until call_release: it need not be freed on its own. Its free
 * gives large allocations back at once (protobuf-c's scratch tables while
 * decoding) and leaves the rest to call_release. A failed allocation sets
 * out_of_memory.
 */
ProtobufCAllocator call_allocator(struct call *c);

/*
 * A message of type d in the arena, initialised (protobuf_c_message_init);
 * NULL when out of memory.
 */
void *call_message(struct call *c, const ProtobufCMessageDescriptor *d);

/*
 * A copy of s in the call's arena. Never NULL: "" when out of memory, which
 * sets c->out_of_memory, so the call fails all the same.
 */
char *call_strdup(struct call *c, const char *s);

/* Frees everything the call allocated; the call can be used again. */
void call_release(struct call *c);

/* Sets the call's refusal message (printf-style) and returns code. */
yb_status call_refuse(struct call *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Adds a field error to the refusal (copies every string). Errors past
 * CALL_MAX_ERRORS are left out: the message gives the count. (Out of
 * memory, the call fails as a whole: out_of_memory.)
 */
void call_add_error(struct call *c, const char *severity, const char *field, uint32_t line,
                    const char *value, const char *message);

/* What a call does to the org unit it names. */
enum call_access {
	CALL_READ,   /* read its returns: a branch itself, central and auditor in their subtree */
	CALL_SUBMIT, /* file its returns: the branch itself only */
	CALL_REVIEW, /* review its returns, close its periods: central in its subtree */
	CALL_AUDIT,  /* read its audit trail: central and auditor in their subtree */
};

/*
 * Resolves the org unit a call names ("" = the caller's own) into *idx (in
 * world->orgs) and checks the caller may act on it that way. A branch
 * certificate for a unit with units under it is refused for everything.
 * YB_OK, or the refusal (NOT_FOUND, PERMISSION_DENIED) in c->msg.
 */
yb_status call_authorize(struct call *c, const char *org, enum call_access access, int *idx);

/*
 * The return a call names: its org unit ("" = the caller's own) authorised
 * for access into *idx (call_authorize), and its month ("2026-06") into
 * *month. YB_OK, or the refusal in c.
 */
yb_status call_authorize_month(struct call *c, const char *org, const char *period,
                               enum call_access access, int *idx, int *month);

/* "2026-07-02 10:00 +08:00": an instant in the deployment's time zone, for messages. */
void call_format_when(const struct call *c, int64_t ms, char *buf, size_t len);

/* A figure's text in the arena (as call_strdup): whole for an int element, two decimals for an
 * amount. */
char *call_format_value(struct call *c, const struct catalog_element *e, int64_t v);

/* The month that has begun last on the deployment's wall clock (period_month numbering). */
int call_current_month(const struct call *c);

/*
 * A word of a request parsed into its enum: the index of s in names[0..n)
 * (an enum's names in its order), or -1 when it is none of them.
 */
int call_parse_word(const char *s, const char *const *names, size_t n);

/* Page size of a list call: the asked one within [1, max], or dflt when 0 was asked. */
uint32_t call_page_size(uint32_t asked, uint32_t dflt, uint32_t max);

/*
 * Whether an item of `size` packed bytes joins a page that holds n items
 * of *used bytes: the first always does, later ones while the page stays
 * within c->page_bytes (so no reply passes the cap, however many items
 * were asked for). Counts it in *used when it does.
 */
bool call_page_takes(const struct call *c, size_t n, size_t *used, size_t size);

/*
 * A page token is the position to go on from, as "<kind><number>", opaque
 * to clients. call_parse_token gives the position ("" is 0), or -1 for a
 * token that is not one of ours; call_make_token makes one in the arena
 * (as call_strdup).
 */
long call_parse_token(const char *token, char kind);
char *call_make_token(struct call *c, char kind, long pos);

#endif
