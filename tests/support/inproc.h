/*
 * inproc.h - the daemon in process, for tests: yuebaod opened without a
 * listener (server.h, listen_url NULL) in a temporary directory holding a
 * CA and client certificates made by certs/yuebao-certs.sh, with the
 * example org tree (examples/orgs.csv) and the default catalog
 * (server/catalog); and requests completed as the client completes them
 * (the caller's certificate, the time, a signature over rpc_signed_bytes),
 * ready for server_serve_bytes.
 *
 * Shared by the unit test test_server and the fuzz target fuzz_envelope.
 * inproc.c needs YB_SOURCE_DIR, the source tree, defined when compiled.
 */
#ifndef YB_TEST_INPROC_H
#define YB_TEST_INPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "pki.h"
#include "server.h"
#include "status.h"
#include "tz.h"
#include "yuebao.pb-c.h"

/*
 * Makes a fresh directory named after `name` in $TMPDIR, else in
 * memory-backed /dev/shm when there is one (commits are fsynced), else in
 * /tmp; its path into dir. YB_OK or YB_EIO.
 */
int inproc_mkdir(char *dir, size_t len, const char *name);

/* Removes dir and everything in it; an empty dir is left alone. */
void inproc_rmdir(const char *dir);

/*
 * yuebao-certs.sh init in dir, then `issue dir ROLE CODE` for each of the n
 * callers, given as "ROLE CODE" ("branch FY-DZB"). Quiet. YB_OK or YB_EIO.
 */
int inproc_make_certs(const char *dir, const char *const *callers, size_t n);

/* Loads dir/ROLE-CODE.crt and dir/ROLE-CODE.key. The caller owns *out. */
int inproc_load_caller(const char *dir, const char *role, const char *code,
                       struct pki_identity **out, struct errbuf *eb);

/*
 * Opens the daemon without network on dir/yuebao.db with the certificates
 * of inproc_make_certs (and its CRL), the example org tree, the default
 * catalog, one worker and the default settings. zone must outlive it.
 * quiet: no log line per request. The caller owns *out (server_close).
 */
int inproc_open(const char *dir, const struct tz *zone, bool quiet, struct server **out,
                struct errbuf *eb);

/*
 * Completes req as the client does: id's certificate, the time now (unless
 * keep_time), a signature over method, call id, times and payload; packs it
 * into *out (free()). req's own certificate and signature fields are left
 * as they were. YB_OK, YB_ENOMEM, YB_ECRYPTO.
 */
int inproc_sign(Yuebao__V1__RpcRequest *req, const struct pki_identity *id, bool keep_time,
                uint8_t **out, size_t *out_len);

/*
 * A signed request, packed into *out (free()), calling method (the short
 * name, "Submit") with msg as its payload, with call_id (NULL: a fresh one),
 * messages asked in language ("en", "zh") and no deadline.
 */
int inproc_request(const struct pki_identity *id, const char *method, const ProtobufCMessage *msg,
                   const char *call_id, const char *language, uint8_t **out, size_t *out_len);

/* An input message for each method of the service, as inproc_inputs_init leaves them: empty. */
struct inproc_inputs {
	Yuebao__V1__PingRequest ping;
	Yuebao__V1__GetCatalogRequest catalog;
	Yuebao__V1__SubmitRequest submit;
	Yuebao__V1__GetReturnRequest get_return;
	Yuebao__V1__ConsolidateRequest consolidate;
	Yuebao__V1__HistoryRequest history;
	Yuebao__V1__ReviewRequest review;
	Yuebao__V1__StatusRequest status;
	Yuebao__V1__ClosePeriodRequest close_period;
	Yuebao__V1__AuditLogRequest audit_log;
	Yuebao__V1__AuditProveRequest audit_prove;
	Yuebao__V1__AuditExportRequest audit_export;
	Yuebao__V1__AuditCosignRequest audit_cosign;
};

void inproc_inputs_init(struct inproc_inputs *in);

/* The one of in that method i of the service takes (in declaration order); NULL if none. */
const ProtobufCMessage *inproc_input(const struct inproc_inputs *in, unsigned i);

#endif
