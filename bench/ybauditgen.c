/*
 * ybauditgen.c - writes a real signed audit bundle of N submissions, as
 * `yuebao audit export` would have written it, for the verify round of the
 * benchmark (bench/run.sh --audit). Getting a million entries through a
 * daemon would take longer than the round measures; this writes what such a
 * daemon would have stored, with the same code:
 *
 *   - each submission is an RpcRequest signed with its branch's key over
 *     rpc_signed_bytes(), exactly as the client signs it;
 *   - each entry is the text audit.c appends for a submit (time, actor,
 *     fingerprint, object, request digest, deadline), and each is followed
 *     by a checkpoint signed with the log key, as the daemon signs them;
 *   - revisions.tsv holds what the store would export for each revision.
 *
 * Usage: ybauditgen PKI OUT N BRANCH...
 *   PKI     a folder of certs/yuebao-certs.sh (ca.crt, log.crt/key and
 *           branch-CODE.crt/key for every BRANCH)
 *   OUT     the bundle to write (must not exist)
 *   N       entries to write (at most 10,000,000)
 * Prints one "key=value" line: entries, seconds.
 * The entries' times start now and grow by one millisecond each.
 *
 *        ybauditgen --split BUNDLE HEAD TAIL K
 * cuts a bundle it wrote in two, as two exports of the same log would have
 * been: HEAD, the first K entries (a whole bundle), and TAIL, what an
 * export --since HEAD/verified-checkpoint would have fetched once the log
 * had all of BUNDLE's entries: the rest, with since-checkpoint (written
 * from the first K leaves, as verify writes it) and the consistency proof
 * from K entries to all. Both share BUNDLE's requests folder (a link).
 */
#define _GNU_SOURCE /* strsep, realpath */
#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "clock.h"
#include "hash.h"
#include "merkle.h"
#include "period.h"
#include "pki.h"
#include "rpc.h"
#include "yuebao.pb-c.h"

#define MAX_ENTRIES 10000000L
#define MAX_BRANCHES 1000

struct branch {
	const char *code;
	struct pki_identity *id;
	struct pki_principal who; /* as a verifier reads the certificate */
};

static void put_hex(FILE *f, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fprintf(f, "%02x", data[i]);
}

static FILE *open_out(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		fprintf(stderr, "ybauditgen: cannot write %s: %s\n", path, strerror(errno));
	return f;
}

static int copy_file(const char *from, const char *dir, const char *name)
{
	char buf[8192];
	FILE *in = fopen(from, "rb"), *out = open_out(dir, name);
	size_t n;
	int rc = in != NULL && out != NULL ? 0 : -1;

	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	if (in != NULL)
		fclose(in);
	if (out != NULL && fclose(out) != 0)
		rc = -1;
	return rc;
}

/*
 * The signed request of submission k of branch b: its month and revision
 * follow from k, so that every (org, month, revision) is distinct.
 */
static int write_request(const char *dir, const struct branch *b, const char *period,
                         uint32_t revision, int64_t at_ms, char sha[65], uint8_t **raw_out,
                         size_t *raw_len)
{
	Yuebao__V1__SubmitRequest sub = YUEBAO__V1__SUBMIT_REQUEST__INIT;
	Yuebao__V1__RpcRequest req = YUEBAO__V1__RPC_REQUEST__INIT;
	Yuebao__V1__Value v[3], *vp[3];
	static const char *const codes[3] = {"study_sessions", "members_rated", "spending"};
	char values[3][16], call_id[33], path[4096];
	uint8_t *payload = NULL, *signed_bytes = NULL, *sig = NULL, *raw = NULL;
	size_t payload_len, signed_len = 0, sig_len = 0, cert_len = 0, len;
	struct errbuf eb = {{0}};
	FILE *f;
	int rc = -1;

	for (int i = 0; i < 3; i++) {
		yuebao__v1__value__init(&v[i]);
		snprintf(values[i], sizeof(values[i]), "%u",
		         (unsigned)((revision * 7 + i * 3) % 50));
		v[i].code = (char *)codes[i];
		v[i].value = values[i];
		vp[i] = &v[i];
	}
	sub.org = (char *)b->code;
	sub.period = (char *)period;
	sub.reason = revision > 1 ? "correction" : "";
	sub.n_values = 3;
	sub.values = vp;
	payload_len = yuebao__v1__submit_request__get_packed_size(&sub);
	if ((payload = malloc(payload_len)) == NULL)
		goto done;
	yuebao__v1__submit_request__pack(&sub, payload);
	snprintf(call_id, sizeof(call_id), "%016" PRIx64 "%016" PRIx64, (uint64_t)at_ms,
	         (uint64_t)revision);
	req.method = RPC_METHOD_PREFIX "Submit";
	req.call_id = call_id;
	req.sent_at_ms = at_ms;
	req.deadline_ms = at_ms + 30000;
	req.payload = (ProtobufCBinaryData){payload_len, payload};
	req.caller_cert.data = (uint8_t *)pki_identity_cert(b->id, &cert_len);
	req.caller_cert.len = cert_len;
	if (rpc_signed_bytes(req.method, call_id, req.sent_at_ms, req.deadline_ms, payload,
	                     payload_len, &signed_bytes, &signed_len) != YB_OK ||
	    pki_sign(b->id, signed_bytes, signed_len, &sig, &sig_len, &eb) != YB_OK)
		goto done;
	req.signature = (ProtobufCBinaryData){sig_len, sig};
	len = yuebao__v1__rpc_request__get_packed_size(&req);
	if ((raw = malloc(len)) == NULL)
		goto done;
	yuebao__v1__rpc_request__pack(&req, raw);
	hash_sha256_hex(raw, len, sha);
	snprintf(path, sizeof(path), "%s/requests/%s.bin", dir, sha);
	if ((f = fopen(path, "wb")) == NULL)
		goto done;
	rc = fwrite(raw, 1, len, f) == len ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	*raw_out = raw;
	*raw_len = len;
	raw = NULL;
done:
	if (rc != 0)
		fprintf(stderr, "ybauditgen: cannot write a request of %s %s\n", b->code, eb.msg);
	free(raw);
	free(payload);
	free(signed_bytes);
	free(sig);
	return rc;
}

static void put_text(FILE *f, const char *s)
{
	put_hex(f, (const uint8_t *)s, strlen(s));
}

/* Copies the lines of in for which keep(line number, line) says so. */
static int copy_lines(const char *from_dir, const char *to_dir, const char *name,
                      int (*keep)(long n, const char *line, long k), long k)
{
	char path[4096], *line = NULL;
	size_t cap = 0;
	long n = 0;
	FILE *in, *out;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", from_dir, name);
	if ((in = fopen(path, "r")) == NULL || (out = open_out(to_dir, name)) == NULL) {
		if (in != NULL)
			fclose(in);
		return -1;
	}
	while (getline(&line, &cap, in) > 0)
		if (keep(n++, line, k) && fputs(line, out) == EOF)
			rc = -1;
	free(line);
	fclose(in);
	return fclose(out) != 0 ? -1 : rc;
}

static int head_line(long n, const char *line, long k)
{
	(void)line;
	return n < k;
}

/* Checkpoints are one a line, of sizes 1, 2, ...: line n is size n + 1. */
static int head_checkpoint(long n, const char *line, long k)
{
	(void)line;
	return n + 1 <= k;
}

static int tail_line(long n, const char *line, long k)
{
	(void)line;
	return n >= k;
}

static int tail_checkpoint(long n, const char *line, long k)
{
	(void)line;
	return n + 1 >= k;
}

/* Revision n was received with entry n; entry k - 1's comes along (its millisecond). */
static int tail_revision(long n, const char *line, long k)
{
	(void)line;
	return n >= k - 1;
}

static int split(const char *bundle, const char *head, const char *tail, long k)
{
	struct checkpoint_trusted t = {.has_edge = true};
	uint8_t(*leaves)[MERKLE_HASH_LEN] = NULL, (*proof)[MERKLE_HASH_LEN] = NULL;
	char path[4096], target[4096], real[PATH_MAX], *line = NULL;
	size_t cap = 0, n = 0, cap_leaves = 0, proof_len = 0;
	struct errbuf eb = {{0}};
	FILE *f;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/entries.tsv", bundle);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		char *tab = strchr(line, '\t');
		size_t len = 0;
		if (n == cap_leaves) {
			void *p =
			    realloc(leaves, (cap_leaves = cap_leaves ? 2 * cap_leaves : 4096) *
			                        sizeof(*leaves));
			if (p == NULL)
				goto done;
			leaves = p;
		}
		if (tab == NULL || strlen(tab + 1) < 64)
			goto done;
		tab[65] = '\0';
		if (hash_unhex(tab + 1, leaves[n], MERKLE_HASH_LEN, &len) != 0 || len != 32)
			goto done;
		if (n < (size_t)k && merkle_frontier_add(&t.edge, leaves[n]) != YB_OK)
			goto done;
		n++;
	}
	fclose(f);
	f = NULL;
	if (k < 1 || (size_t)k > n)
		goto done;
	for (int i = 0; i < 2; i++) {
		const char *dir = i == 0 ? head : tail;
		snprintf(path, sizeof(path), "%s/requests", dir);
		snprintf(target, sizeof(target), "%s/requests", bundle);
		if (mkdir(dir, 0750) != 0 || realpath(target, real) == NULL ||
		    symlink(real, path) != 0)
			goto done;
		snprintf(path, sizeof(path), "%s/ca.crt", bundle);
		if (copy_file(path, dir, "ca.crt") != 0)
			goto done;
		snprintf(path, sizeof(path), "%s/log.crt", bundle);
		if (copy_file(path, dir, "log.crt") != 0)
			goto done;
	}
	if (copy_lines(bundle, head, "entries.tsv", head_line, k) != 0 ||
	    copy_lines(bundle, head, "checkpoints.tsv", head_checkpoint, k) != 0 ||
	    copy_lines(bundle, head, "revisions.tsv", head_line, k) != 0 ||
	    copy_lines(bundle, head, "reviews.tsv", head_line, 0) != 0 ||
	    copy_lines(bundle, head, "closures.tsv", head_line, 0) != 0 ||
	    copy_lines(bundle, tail, "entries.tsv", tail_line, k) != 0 ||
	    copy_lines(bundle, tail, "checkpoints.tsv", tail_checkpoint, k) != 0 ||
	    copy_lines(bundle, tail, "revisions.tsv", tail_revision, k) != 0 ||
	    copy_lines(bundle, tail, "reviews.tsv", head_line, 0) != 0 ||
	    copy_lines(bundle, tail, "closures.tsv", head_line, 0) != 0)
		goto done;
	/* The checkpoint of k entries, as the auditor's verify of HEAD writes it. */
	snprintf(path, sizeof(path), "%s/checkpoints.tsv", bundle);
	if ((f = fopen(path, "r")) == NULL)
		goto done;
	for (long i = 0; i < k && getline(&line, &cap, f) > 0; i++)
		;
	fclose(f);
	f = NULL;
	{
		char *fld[4], *p = line;
		size_t len = 0;
		for (int i = 0; i < 4; i++) {
			fld[i] = strsep(&p, "\t\n");
			if (fld[i] == NULL)
				goto done;
		}
		t.cp.size = strtoull(fld[0], NULL, 10);
		t.cp.at_ms = strtoll(fld[2], NULL, 10);
		if (t.cp.size != (uint64_t)k || hash_unhex(fld[1], t.cp.root, 32, &len) != 0 ||
		    hash_unhex(fld[3], t.cp.sig, sizeof(t.cp.sig), &t.cp.sig_len) != 0)
			goto done;
	}
	snprintf(path, sizeof(path), "%s/log.crt", bundle);
	if (pki_read_cert_der(path, &t.cert, &t.cert_len, &eb) != YB_OK)
		goto done;
	snprintf(path, sizeof(path), "%s/since-checkpoint", tail);
	if (checkpoint_trusted_save(path, &t, &eb) != YB_OK ||
	    merkle_consistency_proof((const uint8_t(*)[MERKLE_HASH_LEN])leaves, (size_t)k, n,
	                             &proof, &proof_len, &eb) != YB_OK ||
	    (f = open_out(tail, "consistency.tsv")) == NULL)
		goto done;
	fprintf(f, "%ld\t%zu\n", k, n);
	for (size_t i = 0; i < proof_len; i++) {
		put_hex(f, proof[i], MERKLE_HASH_LEN);
		fputc('\n', f);
	}
	rc = fclose(f) == 0 ? 0 : -1;
	f = NULL;
done:
	if (f != NULL)
		fclose(f);
	if (rc != 0)
		fprintf(stderr, "ybauditgen: cannot split %s at %ld %s\n", bundle, k, eb.msg);
	checkpoint_trusted_free(&t);
	free(proof);
	free(leaves);
	free(line);
	return rc;
}

int main(int argc, char **argv)
{
	struct branch branches[MAX_BRANCHES];
	struct merkle_frontier edge = {0};
	struct pki_identity *log_key = NULL;
	struct pki_verifier *v = NULL;
	struct errbuf eb = {{0}};
	char path[4096], path2[4096];
	FILE *entries = NULL, *cps = NULL, *revs = NULL;
	struct timespec t0, t1;
	int64_t start_ms = clock_now_ms();
	long n;
	int nb = argc - 4, rc = 1;
	const char *pki, *out;

	memset(branches, 0, sizeof(branches));
	if (argc == 6 && strcmp(argv[1], "--split") == 0)
		return split(argv[2], argv[3], argv[4], strtol(argv[5], NULL, 10)) == 0 ? 0 : 1;
	if (argc < 5 || (n = strtol(argv[3], NULL, 10)) < 1 || n > MAX_ENTRIES ||
	    nb > MAX_BRANCHES) {
		fprintf(stderr,
		        "usage: ybauditgen PKI OUT N BRANCH... (N at most %ld, at most %d "
		        "branches)\n",
		        MAX_ENTRIES, MAX_BRANCHES);
		return 2;
	}
	pki = argv[1];
	out = argv[2];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	snprintf(path, sizeof(path), "%s/requests", out);
	if (mkdir(out, 0750) != 0 || mkdir(path, 0750) != 0) {
		fprintf(stderr, "ybauditgen: cannot create %s: %s\n", out, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/ca.crt", pki);
	if (pki_verifier_new(path, NULL, &v, &eb) != YB_OK || copy_file(path, out, "ca.crt") != 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/log.crt", pki);
	snprintf(path2, sizeof(path2), "%s/log.key", pki);
	if (pki_identity_load(path, path2, &log_key, &eb) != YB_OK ||
	    copy_file(path, out, "log.crt") != 0)
		goto fail;
	for (int i = 0; i < nb; i++) {
		size_t cert_len = 0;
		const uint8_t *cert;
		branches[i].code = argv[4 + i];
		snprintf(path, sizeof(path), "%s/branch-%s.crt", pki, branches[i].code);
		snprintf(path2, sizeof(path2), "%s/branch-%s.key", pki, branches[i].code);
		if (pki_identity_load(path, path2, &branches[i].id, &eb) != YB_OK)
			goto fail;
		cert = pki_identity_cert(branches[i].id, &cert_len);
		if (pki_verify_cert(v, cert, cert_len, time(NULL), &eb) != YB_OK)
			goto fail;
		/* Verified just above: what it claims is what a verifier reads. */
		if (pki_describe_cert(cert, cert_len, &branches[i].who) != YB_OK)
			goto fail;
	}
	entries = open_out(out, "entries.tsv");
	cps = open_out(out, "checkpoints.tsv");
	revs = open_out(out, "revisions.tsv");
	if (entries == NULL || cps == NULL || revs == NULL)
		goto fail;
	/* No reviews or closures: submissions are what an audit of this size is made of. */
	for (int i = 0; i < 2; i++) {
		FILE *f = open_out(out, i == 0 ? "reviews.tsv" : "closures.tsv");
		if (f == NULL || fclose(f) != 0)
			goto fail;
	}
	for (long i = 0; i < n; i++) {
		const struct branch *b = &branches[i % nb];
		long k = i / nb;
		int64_t at = start_ms + i;
		uint32_t revision = (uint32_t)(1 + k / 120);
		char period[PERIOD_TEXT_MAX], sha[65], entry[1536];
		uint8_t leaf[MERKLE_HASH_LEN], *raw = NULL;
		struct checkpoint cp = {0};
		size_t raw_len = 0;
		int len;

		period_format_month(period_month(2016 + (int)(k % 120) / 12, 1 + (int)(k % 12)),
		                    period, sizeof(period));
		if (write_request(out, b, period, revision, at, sha, &raw, &raw_len) != 0)
			goto fail;
		free(raw);
		/* What audit.c appends for a submit, due ten days on: on time. */
		len = snprintf(entry, sizeof(entry),
		               "yuebao-audit-v1\nindex=%ld\ntime=%" PRId64
		               "\nactor=%s\nfingerprint=%s\naction=submit\nobject=%s/%s/r%u\n"
		               "digest=%s\ndue=%" PRId64 "\n",
		               (long)i, at, b->who.subject, b->who.fingerprint, b->code, period,
		               revision, sha, at + (int64_t)10 * 86400 * 1000);
		if (merkle_leaf_hash(entry, (size_t)len, leaf) != YB_OK ||
		    merkle_frontier_add(&edge, leaf) != YB_OK)
			goto fail;
		fprintf(entries, "%ld\t", i);
		put_hex(entries, leaf, sizeof(leaf));
		fputc('\t', entries);
		put_hex(entries, (const uint8_t *)entry, (size_t)len);
		fputc('\n', entries);
		cp.size = edge.size;
		cp.at_ms = at;
		if (merkle_frontier_root(&edge, cp.root) != YB_OK ||
		    checkpoint_sign(&cp, log_key, &eb) != YB_OK)
			goto fail;
		fprintf(cps, "%" PRIu64 "\t", cp.size);
		put_hex(cps, cp.root, sizeof(cp.root));
		fprintf(cps, "\t%" PRId64 "\t", cp.at_ms);
		put_hex(cps, cp.sig, cp.sig_len);
		fputc('\n', cps);
		fprintf(revs,
		        "%s\t%s\t%u\tsubmitted\t%s\tmembers_rated=%u;spending=%u;study_sessions=%u",
		        b->code, period, revision, sha, ((revision * 7 + 3) % 50) * 100,
		        ((revision * 7 + 6) % 50) * 100, ((revision * 7) % 50) * 100);
		fprintf(revs, "\t%" PRId64 "\t1\t", at);
		put_text(revs, revision > 1 ? "correction" : "");
		fputc('\t', revs);
		put_text(revs, b->who.subject);
		fprintf(revs, "\t%s\n", b->who.fingerprint);
		if (i % 100000 == 99999)
			fprintf(stderr, "ybauditgen: %ld of %ld entries\n", i + 1, n);
	}
	rc = 0;
fail:
	if (rc != 0 && eb.msg[0])
		fprintf(stderr, "ybauditgen: %s\n", eb.msg);
	if ((entries != NULL && fclose(entries) != 0) || (cps != NULL && fclose(cps) != 0) ||
	    (revs != NULL && fclose(revs) != 0))
		rc = 1;
	for (int i = 0; i < nb; i++)
		pki_identity_free(branches[i].id);
	pki_identity_free(log_key);
	pki_verifier_free(v);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc == 0)
		printf("entries=%ld seconds=%.1f\n", n,
		       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return rc;
}
