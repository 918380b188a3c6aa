/*
 * inproc.c - the daemon in process, for tests (see inproc.h).
 */
#include "inproc.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "pgtest.h"
#include "rpc.h"

#ifndef YB_SOURCE_DIR
#error "inproc.c needs YB_SOURCE_DIR, the source tree"
#endif

int inproc_mkdir(char *dir, size_t len, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	struct stat st;

	if (tmp == NULL)
		tmp = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
	if ((size_t)snprintf(dir, len, "%s/%s.XXXXXX", tmp, name) >= len || mkdtemp(dir) == NULL) {
		dir[0] = '\0';
		return YB_EIO;
	}
	return YB_OK;
}

void inproc_rmdir(const char *dir)
{
	char cmd[600];

	if (dir[0] == '\0' || strchr(dir, '\'') != NULL)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "inproc: could not remove %s\n", dir);
}

int inproc_make_certs(const char *dir, const char *const *callers, size_t n)
{
	char cmd[4096];
	size_t at;

	at =
	    (size_t)snprintf(cmd, sizeof(cmd),
	                     "{ set -e; c='%s/certs/yuebao-certs.sh'; d='%s'; \"$c\" init \"$d\"; ",
	                     YB_SOURCE_DIR, dir);
	for (size_t i = 0; i < n && at < sizeof(cmd); i++)
		at += (size_t)snprintf(cmd + at, sizeof(cmd) - at, "\"$c\" issue \"$d\" %s; ",
		                       callers[i]);
	if (at < sizeof(cmd))
		at += (size_t)snprintf(cmd + at, sizeof(cmd) - at, "} >/dev/null 2>&1");
	if (at >= sizeof(cmd) || system(cmd) != 0)
		return YB_EIO;
	return YB_OK;
}

int inproc_load_caller(const char *dir, const char *role, const char *code,
                       struct pki_identity **out, struct errbuf *eb)
{
	char crt[600], key[600];

	snprintf(crt, sizeof(crt), "%s/%s-%s.crt", dir, role, code);
	snprintf(key, sizeof(key), "%s/%s-%s.key", dir, role, code);
	return pki_identity_load(crt, key, out, eb);
}

/* dir/name into buf. */
static const char *in_dir(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

int inproc_open(const char *dir, const struct tz *zone, bool quiet, struct server **out,
                struct errbuf *eb)
{
	char db[600], cert[600], key[600], ca[600], crl[600];
	struct server_config cfg = {
	    .db_path = in_dir(db, sizeof(db), dir, "yuebao.db"),
	    .cert_path = in_dir(cert, sizeof(cert), dir, "server.crt"),
	    .key_path = in_dir(key, sizeof(key), dir, "server.key"),
	    .ca_path = in_dir(ca, sizeof(ca), dir, "ca.crt"),
	    .crl_path = in_dir(crl, sizeof(crl), dir, "crl.pem"),
	    .orgs_path = YB_SOURCE_DIR "/examples/orgs.csv",
	    .catalog_dir = YB_SOURCE_DIR "/server/catalog",
	    .workers = 1,
	    .time_window_s = 300,
	    .max_message = RPC_DEFAULT_MAX_MESSAGE,
	    .due_day = 5,
	    .outlier_factor = 3,
	    .stock_jump_pct = 50,
	    .quiet = quiet,
	    .zone = zone,
	};

	if (pgtest_enabled() && pgtest_fresh(db, sizeof(db)) != 0)
		return status_fail(eb, YB_EDB, "cannot empty the test's PostgreSQL database");
	return server_open(&cfg, out, eb);
}

int inproc_sign(Yuebao__V1__RpcRequest *req, const struct pki_identity *id, bool keep_time,
                uint8_t **out, size_t *out_len)
{
	uint8_t *signed_bytes = NULL, *sig = NULL;
	size_t signed_len = 0, sig_len = 0, cert_len = 0;
	const uint8_t *cert = pki_identity_cert(id, &cert_len);
	ProtobufCBinaryData old_cert = req->caller_cert, old_sig = req->signature;
	struct errbuf eb = {{0}};
	int rc;

	if (!keep_time)
		req->sent_at_ms = clock_now_ms();
	if ((rc = rpc_signed_bytes(req->method, req->call_id, req->sent_at_ms, req->deadline_ms,
	                           req->payload.data, req->payload.len, &signed_bytes,
	                           &signed_len)) != YB_OK ||
	    (rc = pki_sign(id, signed_bytes, signed_len, &sig, &sig_len, &eb)) != YB_OK)
		goto done;
	req->caller_cert.data = (uint8_t *)cert;
	req->caller_cert.len = cert_len;
	req->signature.data = sig;
	req->signature.len = sig_len;
	*out_len = yuebao__v1__rpc_request__get_packed_size(req);
	if ((*out = malloc(*out_len + 1)) == NULL) {
		rc = YB_ENOMEM;
		goto done;
	}
	yuebao__v1__rpc_request__pack(req, *out);
done:
	/* req's own buffers, if it was unpacked, are freed with it: not these. */
	req->caller_cert = old_cert;
	req->signature = old_sig;
	free(sig);
	free(signed_bytes);
	return rc;
}

int inproc_request(const struct pki_identity *id, const char *method, const ProtobufCMessage *msg,
                   const char *call_id, const char *language, uint8_t **out, size_t *out_len)
{
	Yuebao__V1__RpcRequest req = YUEBAO__V1__RPC_REQUEST__INIT;
	char name[160], fresh[RPC_CALL_ID_LEN + 1];
	int rc;

	snprintf(name, sizeof(name), "%s%s", RPC_METHOD_PREFIX, method);
	if (call_id == NULL) {
		if ((rc = rpc_new_call_id(fresh)) != YB_OK)
			return rc;
		call_id = fresh;
	}
	req.method = name;
	req.call_id = (char *)call_id;
	req.language = (char *)language;
	req.payload.len = protobuf_c_message_get_packed_size(msg);
	if ((req.payload.data = malloc(req.payload.len + 1)) == NULL)
		return YB_ENOMEM;
	protobuf_c_message_pack(msg, req.payload.data);
	rc = inproc_sign(&req, id, false, out, out_len);
	free(req.payload.data);
	return rc;
}

/* Where the input of each method is in struct inproc_inputs, in the service's order. */
#define MEMBER(f) offsetof(struct inproc_inputs, f), sizeof(((struct inproc_inputs *)0)->f)
static const struct {
	size_t offset, size;
} members[] = {{MEMBER(ping)},        {MEMBER(catalog)},     {MEMBER(submit)},
               {MEMBER(get_return)},  {MEMBER(consolidate)}, {MEMBER(history)},
               {MEMBER(review)},      {MEMBER(status)},      {MEMBER(close_period)},
               {MEMBER(audit_log)},   {MEMBER(audit_prove)}, {MEMBER(audit_export)},
               {MEMBER(audit_cosign)}};
#define N_MEMBERS (sizeof(members) / sizeof(members[0]))

void inproc_inputs_init(struct inproc_inputs *in)
{
	const ProtobufCServiceDescriptor *d = &yuebao__v1__returns__descriptor;

	for (unsigned i = 0; i < d->n_methods && i < N_MEMBERS; i++) {
		if (d->methods[i].input->sizeof_message != members[i].size) {
			/* A method added to the service needs its member here, in its place. */
			fprintf(stderr,
			        "inproc: struct inproc_inputs does not follow the service\n");
			abort();
		}
		protobuf_c_message_init(d->methods[i].input, (char *)in + members[i].offset);
	}
}

const ProtobufCMessage *inproc_input(const struct inproc_inputs *in, unsigned i)
{
	if (i >= yuebao__v1__returns__descriptor.n_methods || i >= N_MEMBERS)
		return NULL;
	return (const ProtobufCMessage *)((const char *)in + members[i].offset);
}
