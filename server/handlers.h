/*
 * handlers.h - the RPC handlers of the Returns service and what they share.
 *
 * server.c has already decoded the envelope, checked the time window and
 * verified the caller's certificate and signature when a handler runs; the
 * handler authorises the principal for the org unit it touches and does the
 * work. To add a method: declare it in proto/yuebao.proto, write its handler
 * in handlers.c and add it to the table there; handlers_check() refuses to
 * start a daemon whose table and service descriptor disagree.
 */
#ifndef YB_HANDLERS_H
#define YB_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <protobuf-c/protobuf-c.h>

#include "catalog.h"
#include "orgtree.h"
#include "pki.h"
#include "status.h"
#include "store.h"
#include "store_audit.h"
#include "store_returns.h"
#include "store_review.h"
#include "tz.h"
#include "audit.h"
#include "yuebao.pb-c.h"

/* What the daemon has loaded: replaced whole on SIGHUP, never changed in place. */
struct world {
	struct orgtree *orgs;
	struct catalog *cat;
	struct pki_verifier *verifier; /* the CA and its CRL */
	time_t server_cert_not_after;  /* of the daemon's certificate (--cert) */
	int due_day;                   /* returns for month M are due by this day of M+1 */
	const struct tz *zone;         /* the deployment's time zone (the server's config) */
	int outlier_factor;            /* warn above this × the 12-month median; 0 = off */
	int stock_jump_pct;            /* warn when a stock moves more than this %; 0 = off */
};

/* A refusal lists at most this many field errors; the message gives the total. */
#define HANDLERS_MAX_ERRORS 200

struct call_block;

/* One call being served. Output built by a handler lives in its arena. */
struct call {
	const struct pki_principal *who;
	const struct world *world;
	struct store *store;
	const struct pki_identity *signer; /* the daemon's own key, for audit checkpoints */
	const uint8_t *request;            /* the RpcRequest exactly as received */
	size_t request_len;
	int64_t now_ms;
	/*
	 * Bytes a list page (history, audit log, audit export) fills its items
	 * up to; a page always holds at least one item, however large.
	 */
	size_t page_bytes;
	/* Set by a handler that refuses: a message and field errors. */
	struct errbuf msg;
	Yuebao__V1__FieldError **errors; /* at most HANDLERS_MAX_ERRORS */
	size_t n_errors;
	struct call_block *arena;
	/*
	 * Writing calls: opens the write transaction, which holds the call's
	 * writes and its call-id record. A handler calls it after its read-only
	 * checks and before its first read that a write depends on. Returns
	 * YB_OK, HANDLERS_ANSWERED (the handler returns that at once), or a
	 * failure. Set by the server; in_write tells it to commit or roll back.
	 */
	int (*begin_write)(struct call *c);
	void *server_state;
	bool in_write;
};

/* From begin_write: a retry of this call finished meanwhile; its record is the reply. */
#define HANDLERS_ANSWERED 1000

typedef int (*handler_fn)(struct call *c, const ProtobufCMessage *in, ProtobufCMessage **out);

struct handler {
	const char *method; /* the service method name, "Submit" */
	handler_fn fn;
	bool writes; /* runs in a write transaction; its reply is kept by call id */
};

/* Checks the handler table against the generated service descriptor. */
int handlers_check(struct errbuf *eb);

/* The handler for method index i of yuebao__v1__returns__descriptor. */
const struct handler *handlers_get(unsigned i);

/* Zeroed memory that lives until handlers_release; NULL when out of memory. */
void *handlers_alloc(struct call *c, size_t n);

/* A copy of s in the call's arena. */
char *handlers_strdup(struct call *c, const char *s);

/* Frees everything the call allocated. */
void handlers_release(struct call *c);

#endif
