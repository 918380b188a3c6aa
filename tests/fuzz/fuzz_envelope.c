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
 * Set-up (once per process, tests/support/inproc.h): a fresh directory with
 * a CA and certificates made by certs/yuebao-certs.sh, the example org tree
 * and the default catalog from the source tree, and a database that keeps
 * what earlier inputs stored (so submissions meet earlier ones: new revisions, locks).
 * YB_FUZZ_LOG=1 prints the daemon's log line for every request.
 * YB_FUZZ_WRITE_SEEDS=DIR writes one seed per method into DIR and exits:
 * that is how tests/fuzz/corpus/envelope was made.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inproc.h"
#include "pki.h"
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
	server_close(srv);
	for (int i = 0; i < N_CALLERS; i++)
		pki_identity_free(callers[i]);
	inproc_rmdir(workdir);
}

static void load_caller(int i, const char *role, const char *code)
{
	struct errbuf eb = {{0}};

	if (inproc_load_caller(workdir, role, code, &callers[i], &eb) != YB_OK)
		die(code, &eb);
}

/*
 * Writes one seed: the mode byte, then a signed RpcRequest for method with
 * payload msg; raw seeds are sent as they are (mode 0), the others re-signed.
 */
static void write_seed(const char *dir, const char *method, int caller, int raw,
                       const ProtobufCMessage *msg)
{
	char path[512];
	uint8_t *packed = NULL, mode = raw ? 0 : (uint8_t)(1 | (caller << 1));
	size_t len = 0;
	FILE *f;

	if (inproc_request(callers[caller], method, msg, NULL, "zh", &packed, &len) != YB_OK)
		die("cannot sign a seed", NULL);
	snprintf(path, sizeof(path), "%s/%s-%d%s", dir, method, caller, raw ? "-raw" : "");
	if ((f = fopen(path, "wb")) == NULL || fwrite(&mode, 1, 1, f) != 1 ||
	    fwrite(packed, 1, len, f) != len || fclose(f) != 0)
		die(path, NULL);
	free(packed);
}

static void write_seeds(const char *dir)
{
	struct inproc_inputs in;
	struct returnfile *rf = NULL;
	struct errbuf eb = {{0}};
	Yuebao__V1__Value *values, **vp;

	inproc_inputs_init(&in);
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
	in.submit.org = "FY-DZB";
	in.submit.period = "2026-01";
	in.submit.reason = "fuzz seed";
	in.submit.values = vp;
	in.submit.n_values = rf->n;
	in.get_return.org = in.history.org = in.review.org = "FY-DZB";
	in.get_return.period = in.history.period = in.review.period = "2026-01";
	in.review.action = "reject";
	in.review.comment = "please check";
	in.consolidate.org = in.status.org = in.close_period.org = "JGDW";
	in.consolidate.period = "2026H1";
	in.consolidate.compare = "yoy";
	in.consolidate.by = "org";
	in.status.period = "2026Q1";
	in.close_period.period = "2025-06";
	in.close_period.comment = "closed for the half-year summary";
	in.audit_log.org = "FY-DZB";
	in.audit_prove.index = 1;
	in.audit_export.part = "revisions";

	write_seed(dir, "Ping", 0, 0, &in.ping.base);
	write_seed(dir, "Ping", 0, 1, &in.ping.base);
	write_seed(dir, "GetCatalog", 2, 0, &in.catalog.base);
	write_seed(dir, "Submit", 0, 0, &in.submit.base);
	in.submit.dry_run = 1;
	in.submit.period = "2026-02";
	write_seed(dir, "Submit", 3, 0, &in.submit.base);
	write_seed(dir, "GetReturn", 1, 0, &in.get_return.base);
	write_seed(dir, "Consolidate", 1, 0, &in.consolidate.base);
	in.consolidate.by = "month";
	in.consolidate.explain = "members_total";
	in.consolidate.accepted_only = 1;
	write_seed(dir, "Consolidate", 2, 0, &in.consolidate.base);
	write_seed(dir, "History", 0, 0, &in.history.base);
	write_seed(dir, "Review", 1, 0, &in.review.base);
	write_seed(dir, "Status", 1, 0, &in.status.base);
	write_seed(dir, "ClosePeriod", 1, 0, &in.close_period.base);
	write_seed(dir, "AuditLog", 2, 0, &in.audit_log.base);
	write_seed(dir, "AuditProve", 0, 0, &in.audit_prove.base);
	write_seed(dir, "AuditExport", 2, 0, &in.audit_export.base);
	free(vp);
	free(values);
	returnfile_free(rf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const issued[] = {"branch FY-DZB", "central JGDW", "auditor JGDW"};
	const char *seeds = getenv("YB_FUZZ_WRITE_SEEDS");
	struct errbuf eb = {{0}};
	static struct tz *zone; /* lives as long as the server: the whole run */

	(void)argc;
	(void)argv;
	if (inproc_mkdir(workdir, sizeof(workdir), "yuebao-fuzz-envelope") != YB_OK)
		die("cannot make a temporary directory", NULL);
	atexit(remove_workdir);
	if (inproc_make_certs(workdir, issued, 3) != YB_OK)
		die("certs/yuebao-certs.sh failed", NULL);
	load_caller(0, "branch", "FY-DZB");
	load_caller(1, "central", "JGDW");
	load_caller(2, "auditor", "JGDW");
	load_caller(3, "branch", "FY-DZB");
	if (seeds != NULL) {
		write_seeds(seeds);
		exit(0);
	}
	if (tz_load(TZ_DEFAULT, &zone, &eb) != YB_OK)
		die("tz_load", &eb);
	if (inproc_open(workdir, zone, getenv("YB_FUZZ_LOG") == NULL, &srv, &eb) != YB_OK)
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
		/* Completed as the client would: certificate, time, signature. */
		if (inproc_sign(req, callers[(mode >> 1) & 3], mode & 8, &packed, &packed_len) !=
		    YB_OK)
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
