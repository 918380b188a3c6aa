/*
 * fuzz_envelope.c - the daemon's request pipeline without TLS: RpcRequest
 * decoding, the envelope checks (method, call id, clock window, deadline),
 * certificate and signature verification, payload decoding and every
 * handler, against a real store, through server_serve_bytes.
 *
 * The first byte of an input says what the rest is:
 *   bit 0 clear: the bytes of a request exactly as a peer sends them. A
 *     fuzzer cannot forge a signature, so these test what happens before
 *     any handler runs.
 *   bit 0 set: an RpcRequest that the harness completes as a real client
 *     would: it puts in the certificate of the caller picked by bits 1-2
 *     (branch FY-DZB, central JGDW, auditor JGDW, branch FY-DZB again), the
 *     current time unless bit 3 is set, and a valid signature. These reach
 *     the handlers with fuzzed payloads.
 * Whatever comes in, the answer must be an RpcReply with a known status.
 *
 * Set-up (once per process): a fresh directory with a CA and certificates
 * made by certs/yuebao-certs.sh, the example org tree and the default
 * catalog from the source tree, and a database that keeps what earlier
 * inputs stored (so submissions meet earlier ones: new revisions, locks).
 * YB_FUZZ_LOG=1 prints the daemon's log line for every request.
 * YB_FUZZ_WRITE_SEEDS=DIR writes one seed per method into DIR and exits:
 * that is how tests/fuzz/corpus/envelope was made.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pki.h"
#include "clock.h"
#include "returnfile.h"
#include "rpc.h"
#include "server.h"
#include "yuebao.pb-c.h"

#define N_CALLERS 4

static struct server *srv;
static struct pki_identity *callers[N_CALLERS];
static char workdir[256];

static void die(const char *what, const struct errbuf *eb)
{
	fprintf(stderr, "fuzz_envelope: %s: %s\n", what, eb ? eb->msg : strerror(errno));
	exit(1);
}

static void remove_workdir(void)
{
	char cmd[300];

	server_close(srv);
	for (int i = 0; i < N_CALLERS; i++)
		pki_identity_free(callers[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
	if (workdir[0] != '\0' && system(cmd) != 0)
		fprintf(stderr, "fuzz_envelope: could not remove %s\n", workdir);
}

static void load_caller(int i, const char *name)
{
	char crt[320], key[320];
	struct errbuf eb = {{0}};

	snprintf(crt, sizeof(crt), "%s/%s.crt", workdir, name);
	snprintf(key, sizeof(key), "%s/%s.key", workdir, name);
	if (pki_identity_load(crt, key, &callers[i], &eb) != YB_OK)
		die(crt, &eb);
}

/*
 * Completes req as the client would (certificate, time, signature) and packs
 * it. The caller frees *out.
 */
static int sign_request(Yuebao__V1__RpcRequest *req, int caller, int keep_time, uint8_t **out,
                        size_t *out_len)
{
	const struct pki_identity *id = callers[caller % N_CALLERS];
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

/*
 * Writes one seed: the mode byte, then a signed RpcRequest for method with
 * payload msg; raw seeds are sent as they are (mode 0), the others re-signed.
 */
static void write_seed(const char *dir, const char *method, int caller, int raw,
                       const ProtobufCMessage *msg)
{
	Yuebao__V1__RpcRequest req = YUEBAO__V1__RPC_REQUEST__INIT;
	char name[256], path[512], call_id[RPC_CALL_ID_LEN + 1];
	uint8_t *packed = NULL, mode = raw ? 0 : (uint8_t)(1 | (caller << 1));
	size_t len = 0;
	FILE *f;

	snprintf(name, sizeof(name), "%s%s", RPC_METHOD_PREFIX, method);
	rpc_new_call_id(call_id);
	req.method = name;
	req.call_id = call_id;
	req.language = "zh";
	req.payload.len = protobuf_c_message_get_packed_size(msg);
	req.payload.data = malloc(req.payload.len + 1);
	if (req.payload.data == NULL)
		die("out of memory", NULL);
	protobuf_c_message_pack(msg, req.payload.data);
	if (sign_request(&req, caller, 0, &packed, &len) != YB_OK)
		die("cannot sign a seed", NULL);
	snprintf(path, sizeof(path), "%s/%s-%d%s", dir, method, caller, raw ? "-raw" : "");
	if ((f = fopen(path, "wb")) == NULL || fwrite(&mode, 1, 1, f) != 1 ||
	    fwrite(packed, 1, len, f) != len || fclose(f) != 0)
		die(path, NULL);
	free(packed);
	free(req.payload.data);
}

static void write_seeds(const char *dir)
{
	Yuebao__V1__PingRequest ping = YUEBAO__V1__PING_REQUEST__INIT;
	Yuebao__V1__GetCatalogRequest cat = YUEBAO__V1__GET_CATALOG_REQUEST__INIT;
	Yuebao__V1__SubmitRequest sub = YUEBAO__V1__SUBMIT_REQUEST__INIT;
	Yuebao__V1__GetReturnRequest get = YUEBAO__V1__GET_RETURN_REQUEST__INIT;
	Yuebao__V1__ConsolidateRequest con = YUEBAO__V1__CONSOLIDATE_REQUEST__INIT;
	Yuebao__V1__HistoryRequest his = YUEBAO__V1__HISTORY_REQUEST__INIT;
	Yuebao__V1__ReviewRequest rev = YUEBAO__V1__REVIEW_REQUEST__INIT;
	Yuebao__V1__StatusRequest sta = YUEBAO__V1__STATUS_REQUEST__INIT;
	Yuebao__V1__ClosePeriodRequest clo = YUEBAO__V1__CLOSE_PERIOD_REQUEST__INIT;
	Yuebao__V1__AuditLogRequest alog = YUEBAO__V1__AUDIT_LOG_REQUEST__INIT;
	Yuebao__V1__AuditProveRequest prove = YUEBAO__V1__AUDIT_PROVE_REQUEST__INIT;
	Yuebao__V1__AuditExportRequest exp = YUEBAO__V1__AUDIT_EXPORT_REQUEST__INIT;
	struct returnfile *rf = NULL;
	struct errbuf eb = {{0}};
	Yuebao__V1__Value *values, **vp;

	if (returnfile_read(YB_SOURCE_DIR "/examples/returns/FY-DZB/2026-01.csv", &rf, &eb) !=
	    YB_OK)
		die("example return", &eb);
	values = calloc(rf->n, sizeof(*values));
	vp = calloc(rf->n, sizeof(*vp));
	if (values == NULL || vp == NULL)
		die("out of memory", NULL);
	for (size_t i = 0; i < rf->n; i++) {
		yuebao__v1__value__init(&values[i]);
		values[i].code = (char *)rf->entries[i].code;
		values[i].value = (char *)rf->entries[i].value;
		values[i].line = (uint32_t)(i + 2);
		vp[i] = &values[i];
	}
	sub.org = "FY-DZB";
	sub.period = "2026-01";
	sub.reason = "fuzz seed";
	sub.values = vp;
	sub.n_values = rf->n;
	get.org = his.org = rev.org = "FY-DZB";
	get.period = his.period = rev.period = "2026-01";
	rev.action = "reject";
	rev.comment = "please check";
	con.org = sta.org = clo.org = "JGDW";
	con.period = "2026H1";
	con.compare = "yoy";
	con.by = "org";
	sta.period = "2026Q1";
	clo.period = "2025-06";
	clo.comment = "closed for the half-year summary";
	alog.org = "FY-DZB";
	prove.index = 1;
	exp.part = "revisions";

	write_seed(dir, "Ping", 0, 0, &ping.base);
	write_seed(dir, "Ping", 0, 1, &ping.base);
	write_seed(dir, "GetCatalog", 2, 0, &cat.base);
	write_seed(dir, "Submit", 0, 0, &sub.base);
	sub.dry_run = 1;
	sub.period = "2026-02";
	write_seed(dir, "Submit", 3, 0, &sub.base);
	write_seed(dir, "GetReturn", 1, 0, &get.base);
	write_seed(dir, "Consolidate", 1, 0, &con.base);
	con.by = "month";
	con.explain = "members_total";
	con.accepted_only = 1;
	write_seed(dir, "Consolidate", 2, 0, &con.base);
	write_seed(dir, "History", 0, 0, &his.base);
	write_seed(dir, "Review", 1, 0, &rev.base);
	write_seed(dir, "Status", 1, 0, &sta.base);
	write_seed(dir, "ClosePeriod", 1, 0, &clo.base);
	write_seed(dir, "AuditLog", 2, 0, &alog.base);
	write_seed(dir, "AuditProve", 0, 0, &prove.base);
	write_seed(dir, "AuditExport", 2, 0, &exp.base);
	free(vp);
	free(values);
	returnfile_free(rf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	const char *seeds = getenv("YB_FUZZ_WRITE_SEEDS");
	char cmd[1024], db[320], cert[320], key[320], ca[320], crl[320];
	struct errbuf eb = {{0}};
	struct server_config cfg = {0};
	static struct tz *zone; /* lives as long as the server: the whole run */
	struct stat st;

	(void)argc;
	(void)argv;
	/* A database in memory-backed /dev/shm when there is one: commits are fsynced. */
	if (tmp == NULL)
		tmp = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
	snprintf(workdir, sizeof(workdir), "%s/yuebao-fuzz-envelope.XXXXXX", tmp);
	if (mkdtemp(workdir) == NULL)
		die(workdir, NULL);
	atexit(remove_workdir);
	snprintf(cmd, sizeof(cmd),
	         "{ set -e; c='%s/certs/yuebao-certs.sh'; d='%s'; \"$c\" init \"$d\"; "
	         "\"$c\" issue \"$d\" branch FY-DZB; \"$c\" issue \"$d\" central JGDW; "
	         "\"$c\" issue \"$d\" auditor JGDW; } >/dev/null 2>&1",
	         YB_SOURCE_DIR, workdir);
	if (system(cmd) != 0)
		die("certs/yuebao-certs.sh failed", NULL);
	load_caller(0, "branch-FY-DZB");
	load_caller(1, "central-JGDW");
	load_caller(2, "auditor-JGDW");
	load_caller(3, "branch-FY-DZB");
	if (seeds != NULL) {
		write_seeds(seeds);
		exit(0);
	}
	snprintf(db, sizeof(db), "%s/fuzz.db", workdir);
	snprintf(cert, sizeof(cert), "%s/server.crt", workdir);
	snprintf(key, sizeof(key), "%s/server.key", workdir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", workdir);
	snprintf(crl, sizeof(crl), "%s/crl.pem", workdir);
	cfg.db_path = db;
	cfg.cert_path = cert;
	cfg.key_path = key;
	cfg.ca_path = ca;
	cfg.crl_path = crl;
	cfg.orgs_path = YB_SOURCE_DIR "/examples/orgs.csv";
	cfg.catalog_dir = YB_SOURCE_DIR "/server/catalog";
	cfg.workers = 1;
	cfg.time_window_s = 300;
	cfg.max_message = RPC_DEFAULT_MAX_MESSAGE;
	cfg.due_day = 5;
	cfg.outlier_factor = 3;
	cfg.stock_jump_pct = 50;
	cfg.quiet = getenv("YB_FUZZ_LOG") == NULL;
	if (tz_load(TZ_DEFAULT, &zone, &eb) != YB_OK)
		die("tz_load", &eb);
	cfg.zone = zone;
	if (server_open(&cfg, &srv, &eb) != YB_OK)
		die("server_open", &eb);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Yuebao__V1__RpcRequest *req = NULL;
	Yuebao__V1__RpcReply *rep = NULL;
	uint8_t *packed = NULL, *reply = NULL;
	size_t packed_len = 0, reply_len = 0;
	struct errbuf eb = {{0}};
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	if (mode & 1) {
		if ((req = yuebao__v1__rpc_request__unpack(NULL, size, data)) == NULL)
			return 0;
		if (sign_request(req, (mode >> 1) & 3, mode & 8, &packed, &packed_len) != YB_OK)
			goto done;
		data = packed;
		size = packed_len;
	}
	if (server_serve_bytes(srv, data, size, &reply, &reply_len, &eb) != YB_OK) {
		/* Only an oversized request may go unanswered: nng drops those. */
		if (size <= RPC_DEFAULT_MAX_MESSAGE) {
			fprintf(stderr, "no reply: %s\n", eb.msg);
			abort();
		}
		goto done;
	}
	rep = yuebao__v1__rpc_reply__unpack(NULL, reply_len, reply);
	if (rep == NULL || rep->status > YUEBAO__V1__CODE__UNAUTHENTICATED ||
	    (rep->status != YUEBAO__V1__CODE__OK && rep->message[0] == '\0')) {
		fprintf(stderr, "the reply is not a valid RpcReply with a status and a reason\n");
		abort();
	}
done:
	if (rep != NULL)
		yuebao__v1__rpc_reply__free_unpacked(rep, NULL);
	if (req != NULL)
		yuebao__v1__rpc_request__free_unpacked(req, NULL);
	free(packed);
	free(reply);
	return 0;
}
