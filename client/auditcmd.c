/*
 * auditcmd.c - receipts as JSON files, audit bundles, offline verification.
 *
 * A receipt carries everything needed to check it later without trusting the
 * daemon: the entry's index and leaf hash, the signed checkpoint right after
 * it, and the log certificate that signed it (OU=log, chains to the CA),
 * named by its key's fingerprint.
 */
#define _GNU_SOURCE /* memmem, getline */
#include "auditcmd.h"

#include <assert.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "array.h"
#include "hash.h"
#include "checkpoint.h"
#include "decimal.h"
#include "i18n.h"
#include "merkle.h"
#include "period.h"
#include "pki.h"
#include "progress.h"
#include "tz.h"

/* Parses max_len or fewer bytes of hex into out; -1 when not hex (or s is NULL). */
static int unhex(const char *s, uint8_t *out, size_t max_len, size_t *len)
{
	return s != NULL ? hash_unhex(s, out, max_len, len) : -1;
}

static int is_hex64(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n == 64;
}

static int mkdir_parents(char *path)
{
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(path, 0700) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return 0;
}

int auditcmd_ca_fingerprint(const char *ca_path, char fp[65])
{
	struct errbuf eb = {{0}};
	uint8_t *der = NULL;
	size_t len = 0;

	if (pki_read_cert_der(ca_path, &der, &len, &eb) != YB_OK) {
		fprintf(stderr, _("yuebao audit: cannot read the CA certificate: %s\n"), eb.msg);
		return -1;
	}
	hash_sha256_hex(der, len, fp);
	free(der);
	return 0;
}

int auditcmd_save_receipt(const Yuebao__V1__SubmitReply *r, const char *path, const char *ca_sha256,
                          const char **written)
{
	static char file[PATH_MAX];
	const Yuebao__V1__Receipt *rc = r->receipt;
	const Yuebao__V1__Checkpoint *cp;
	char leaf[65], root[65], sig[2 * 256 + 1], *cert;
	struct pki_principal log_key;
	json_t *j;
	int ok;

	if (rc == NULL || rc->checkpoint == NULL || rc->leaf_hash.len != 32 ||
	    rc->checkpoint->root.len != 32 || rc->checkpoint->signature.len > 256 ||
	    rc->log_cert.len > 8192 ||
	    pki_describe_cert(rc->log_cert.data, rc->log_cert.len, &log_key) != YB_OK) {
		fprintf(stderr, _("yuebao: the server sent no usable receipt\n"));
		return -1;
	}
	cp = rc->checkpoint;
	if (path != NULL) {
		snprintf(file, sizeof(file), "%s", path);
	} else {
		const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
		if (xdg != NULL && xdg[0])
			snprintf(file, sizeof(file), "%s/yuebao/receipts/%s-%s-r%u.json", xdg,
			         r->org, r->period, r->revision);
		else
			snprintf(file, sizeof(file),
			         "%s/.local/share/yuebao/receipts/%s-%s-r%u.json",
			         home ? home : ".", r->org, r->period, r->revision);
		if (mkdir_parents(file) != 0) {
			fprintf(stderr, _("yuebao: cannot create the folder for %s: %s\n"), file,
			        strerror(errno));
			return -1;
		}
	}
	if ((cert = malloc(2 * rc->log_cert.len + 1)) == NULL)
		return -1;
	hash_hex(rc->leaf_hash.data, 32, leaf);
	hash_hex(cp->root.data, 32, root);
	hash_hex(cp->signature.data, cp->signature.len, sig);
	hash_hex(rc->log_cert.data, rc->log_cert.len, cert);
	j = json_pack("{s:s, s:s, s:s, s:i, s:s, s:I, s:s, s:{s:I, s:s, s:I, s:s}, s:s, s:s}",
	              "kind", "yuebao-receipt-v1", "org", r->org, "period", r->period, "revision",
	              (int)r->revision, "request_sha256", r->request_sha256, "index",
	              (json_int_t)rc->index, "leaf_hash", leaf, "checkpoint", "size",
	              (json_int_t)cp->size, "root", root, "at_ms", (json_int_t)cp->at_ms,
	              "signature", sig, "log_key_sha256", log_key.key_fingerprint, "log_cert_der",
	              cert);
	free(cert);
	if (j != NULL && ca_sha256 != NULL)
		json_object_set_new(j, "ca_sha256", json_string(ca_sha256));
	ok = j != NULL && json_dump_file(j, file, JSON_INDENT(2)) == 0;
	json_decref(j);
	if (!ok) {
		fprintf(stderr, _("yuebao: cannot write the receipt %s\n"), file);
		return -1;
	}
	*written = file;
	return 0;
}

int auditcmd_read_receipt(const char *path, uint64_t *index, uint8_t leaf[32],
                          struct checkpoint *cp, uint8_t **cert, size_t *cert_len,
                          char ca_sha256[65])
{
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);
	const char *kind = NULL, *leaf_hex = NULL, *root_hex = NULL, *sig_hex = NULL,
	           *cert_hex = NULL, *ca_hex = NULL;
	json_int_t idx = -1, size = -1, at = 0;
	size_t n = 0;

	if (j == NULL) {
		fprintf(stderr, _("yuebao: cannot read receipt %s: %s (line %d)\n"), path, err.text,
		        err.line);
		return -1;
	}
	memset(cp, 0, sizeof(*cp));
	*cert = NULL;
	if (json_unpack(j, "{s:s, s:I, s:s, s:{s:I, s:s, s:I, s:s}, s:s, s?:s}", "kind", &kind,
	                "index", &idx, "leaf_hash", &leaf_hex, "checkpoint", "size", &size, "root",
	                &root_hex, "at_ms", &at, "signature", &sig_hex, "log_cert_der", &cert_hex,
	                "ca_sha256", &ca_hex) != 0 ||
	    strcmp(kind, "yuebao-receipt-v1") != 0 || idx < 0 || size <= idx ||
	    (ca_hex != NULL && !is_hex64(ca_hex)) || unhex(leaf_hex, leaf, 32, &n) != 0 ||
	    n != 32 || unhex(root_hex, cp->root, 32, &n) != 0 || n != 32 ||
	    unhex(sig_hex, cp->sig, sizeof(cp->sig), &cp->sig_len) != 0 ||
	    strlen(cert_hex) / 2 > 8192 || (*cert = malloc(strlen(cert_hex) / 2 + 1)) == NULL ||
	    unhex(cert_hex, *cert, strlen(cert_hex) / 2, cert_len) != 0) {
		fprintf(stderr, _("yuebao: %s is not a yuebao receipt\n"), path);
		free(*cert);
		*cert = NULL;
		json_decref(j);
		return -1;
	}
	snprintf(ca_sha256, 65, "%s", ca_hex ? ca_hex : "");
	*index = (uint64_t)idx;
	cp->size = (uint64_t)size;
	cp->at_ms = at;
	json_decref(j);
	return 0;
}

struct auditcmd_bundle {
	char final[PATH_MAX];    /* DIR, once the export is whole */
	char dir[PATH_MAX + 16]; /* DIR.partial, where the files are written */
	FILE *entries, *checkpoints, *revisions, *reviews, *closures;
	int log_cert_written;
	int failed;
	/* auditcmd_bundle_bound: what the bundle ends with (bounded is 0 before) */
	int bounded;
	uint64_t head_size;
	int64_t head_at_ms;
};

static FILE *open_in(const struct auditcmd_bundle *b, const char *name, const char *mode)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", b->dir, name);
	return fopen(path, mode);
}

static int write_pem(const char *path, const uint8_t *der, size_t len)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	FILE *f = fopen(path, "w");
	size_t col = 0;

	if (f == NULL)
		return -1;
	fputs("-----BEGIN CERTIFICATE-----\n", f);
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)der[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)der[i + 1] << 8;
		if (i + 2 < len)
			v |= der[i + 2];
		fputc(b64[(v >> 18) & 63], f);
		fputc(b64[(v >> 12) & 63], f);
		fputc(i + 1 < len ? b64[(v >> 6) & 63] : '=', f);
		fputc(i + 2 < len ? b64[v & 63] : '=', f);
		if ((col += 4) == 64) {
			fputc('\n', f);
			col = 0;
		}
	}
	if (col)
		fputc('\n', f);
	fputs("-----END CERTIFICATE-----\n", f);
	return fclose(f) == 0 ? 0 : -1;
}

int auditcmd_bundle_open(const char *dir, const char *ca_path, struct auditcmd_bundle **out)
{
	struct auditcmd_bundle *b = calloc(1, sizeof(*b));
	char path[PATH_MAX + 64], buf[8192];
	FILE *in = NULL, *o = NULL;
	size_t n;

	if (b == NULL)
		return -1;
	/*
	 * An export holds every return as signed: its owner and group read it,
	 * others nothing (directories 0750, files 0640), whatever the umask
	 * lets through. The process writes nothing else afterwards.
	 */
	umask(umask(0) | 027);
	snprintf(b->final, sizeof(b->final), "%s", dir);
	snprintf(b->dir, sizeof(b->dir), "%s.partial", dir);
	snprintf(path, sizeof(path), "%s/requests", b->dir);
	if (access(dir, F_OK) == 0) {
		fprintf(stderr, _("yuebao audit: %s exists already (it must not exist yet)\n"),
		        dir);
		free(b);
		return -1;
	}
	if (mkdir(b->dir, 0750) != 0 || mkdir(path, 0750) != 0) {
		fprintf(stderr,
		        _("yuebao audit: cannot create %s: %s (it must not exist yet: it is left "
		          "by an export that did not finish; delete it)\n"),
		        b->dir, strerror(errno));
		free(b);
		return -1;
	}
	in = fopen(ca_path, "rb");
	o = open_in(b, "ca.crt", "wb");
	while (in != NULL && o != NULL && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, o);
	if (in == NULL || o == NULL) {
		fprintf(stderr, _("yuebao audit: cannot copy the CA certificate %s\n"), ca_path);
		b->failed = 1;
	}
	if (in != NULL)
		fclose(in);
	if (o != NULL && fclose(o) != 0)
		b->failed = 1;
	b->entries = open_in(b, "entries.tsv", "w");
	b->checkpoints = open_in(b, "checkpoints.tsv", "w");
	b->revisions = open_in(b, "revisions.tsv", "w");
	b->reviews = open_in(b, "reviews.tsv", "w");
	b->closures = open_in(b, "closures.tsv", "w");
	if (b->entries == NULL || b->checkpoints == NULL || b->revisions == NULL ||
	    b->reviews == NULL || b->closures == NULL || b->failed) {
		auditcmd_bundle_close(b, false);
		return -1;
	}
	*out = b;
	return 0;
}

static void log_cert_once(struct auditcmd_bundle *b, const ProtobufCBinaryData *der)
{
	char path[PATH_MAX + 64];

	if (b->log_cert_written || der->len == 0)
		return;
	snprintf(path, sizeof(path), "%s/log.crt", b->dir);
	if (write_pem(path, der->data, der->len) != 0)
		b->failed = 1;
	b->log_cert_written = 1;
}

static void put_hex(FILE *f, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fprintf(f, "%02x", data[i]);
}

static void put_text(FILE *f, const char *s)
{
	put_hex(f, (const uint8_t *)s, strlen(s));
}

void auditcmd_bundle_bound(struct auditcmd_bundle *b, const struct checkpoint *head)
{
	b->bounded = 1;
	b->head_size = head->size;
	b->head_at_ms = head->at_ms;
}

/* Whether a row made at at_ms comes after the bundle's last entry. */
static int after_head(const struct auditcmd_bundle *b, int64_t at_ms)
{
	return b->bounded && at_ms > b->head_at_ms;
}

int auditcmd_bundle_since(struct auditcmd_bundle *b, const struct checkpoint_trusted *from,
                          uint64_t to, const uint8_t (*proof)[32], size_t n)
{
	char path[PATH_MAX + 64];
	struct errbuf eb = {{0}};
	FILE *f;

	snprintf(path, sizeof(path), "%s/since-checkpoint", b->dir);
	if (checkpoint_trusted_save(path, from, &eb) != YB_OK) {
		fprintf(stderr, "yuebao audit: %s\n", eb.msg);
		b->failed = 1;
		return -1;
	}
	if ((f = open_in(b, "consistency.tsv", "w")) == NULL) {
		b->failed = 1;
		return -1;
	}
	fprintf(f, "%llu\t%llu\n", (unsigned long long)from->cp.size, (unsigned long long)to);
	for (size_t i = 0; i < n; i++) {
		put_hex(f, proof[i], 32);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		b->failed = 1;
		return -1;
	}
	return 0;
}

int auditcmd_bundle_entries(struct auditcmd_bundle *b, const Yuebao__V1__AuditLogReply *page)
{
	log_cert_once(b, &page->log_cert);
	for (size_t i = 0; i < page->n_entries; i++) {
		const Yuebao__V1__AuditEntry *e = page->entries[i];
		if (b->bounded && e->index >= b->head_size)
			break;
		fprintf(b->entries, "%llu\t", (unsigned long long)e->index);
		put_hex(b->entries, e->leaf_hash.data, e->leaf_hash.len);
		fputc('\t', b->entries);
		put_hex(b->entries, e->entry.data, e->entry.len);
		fputc('\n', b->entries);
	}
	return ferror(b->entries) ? -1 : 0;
}

int auditcmd_bundle_export(struct auditcmd_bundle *b, const Yuebao__V1__AuditExportReply *page)
{
	log_cert_once(b, &page->log_cert);
	for (size_t i = 0; i < page->n_checkpoints; i++) {
		const Yuebao__V1__Checkpoint *c = page->checkpoints[i];
		if (b->bounded && c->size > b->head_size)
			break;
		fprintf(b->checkpoints, "%llu\t", (unsigned long long)c->size);
		put_hex(b->checkpoints, c->root.data, c->root.len);
		fprintf(b->checkpoints, "\t%lld\t", (long long)c->at_ms);
		put_hex(b->checkpoints, c->signature.data, c->signature.len);
		fputc('\n', b->checkpoints);
	}
	for (size_t i = 0; i < page->n_revisions; i++) {
		const Yuebao__V1__ExportRevision *r = page->revisions[i];
		char name[128];
		FILE *f;
		if (!is_hex64(r->request_sha256))
			continue; /* it names a file: nothing but a digest may */
		if (after_head(b, r->received_at_ms))
			continue;
		fprintf(b->revisions, "%s\t%s\t%u\t%s\t%s\t", r->org, r->period, r->revision,
		        r->state, r->request_sha256);
		for (size_t k = 0; k < r->n_values; k++)
			fprintf(b->revisions, "%s%s=%lld", k ? ";" : "", r->values[k]->code,
			        (long long)r->values[k]->hundredths);
		/* Free text (and subjects, which a CA may fill freely) go as hex. */
		fprintf(b->revisions, "\t%lld\t%d\t", (long long)r->received_at_ms,
		        r->on_time ? 1 : 0);
		put_text(b->revisions, r->reason);
		fputc('\t', b->revisions);
		put_text(b->revisions, r->submitter);
		fprintf(b->revisions, "\t%s\n", r->fingerprint);
		snprintf(name, sizeof(name), "requests/%s.bin", r->request_sha256);
		if ((f = open_in(b, name, "wb")) == NULL ||
		    fwrite(r->request.data, 1, r->request.len, f) != r->request.len) {
			b->failed = 1;
		}
		if (f != NULL && fclose(f) != 0)
			b->failed = 1;
	}
	for (size_t i = 0; i < page->n_reviews; i++) {
		const Yuebao__V1__ExportReview *x = page->reviews[i];
		const Yuebao__V1__ReviewEvent *e = x->review;
		if (e == NULL || after_head(b, e->at_ms))
			continue;
		/* The comment is free text: hex keeps tabs and line breaks out of the file. */
		fprintf(b->reviews, "%s\t%s\t%u\t%s\t%lld\t", x->org, x->period, e->revision,
		        e->action, (long long)e->at_ms);
		put_text(b->reviews, e->comment);
		fputc('\t', b->reviews);
		put_text(b->reviews, e->reviewer);
		fprintf(b->reviews, "\t%s\n", e->fingerprint);
	}
	for (size_t i = 0; i < page->n_closures; i++) {
		const Yuebao__V1__ExportClosure *x = page->closures[i];
		if (after_head(b, x->at_ms))
			continue;
		fprintf(b->closures, "%s\t%s\t%d\t%lld\t", x->org, x->period, x->closed ? 1 : 0,
		        (long long)x->at_ms);
		put_text(b->closures, x->comment);
		fputc('\t', b->closures);
		put_text(b->closures, x->subject);
		fprintf(b->closures, "\t%s\n", x->fingerprint);
	}
	return ferror(b->revisions) || ferror(b->checkpoints) || ferror(b->reviews) ||
	               ferror(b->closures)
	           ? -1
	           : 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path);
}

int auditcmd_bundle_close(struct auditcmd_bundle *b, bool complete)
{
	int failed;

	if (b == NULL)
		return -1;
	failed = b->failed || !complete;
	if (b->entries != NULL && fclose(b->entries) != 0)
		failed = 1;
	if (b->checkpoints != NULL && fclose(b->checkpoints) != 0)
		failed = 1;
	if (b->revisions != NULL && fclose(b->revisions) != 0)
		failed = 1;
	if (b->reviews != NULL && fclose(b->reviews) != 0)
		failed = 1;
	if (b->closures != NULL && fclose(b->closures) != 0)
		failed = 1;
	if (!failed && rename(b->dir, b->final) != 0) {
		fprintf(stderr, _("yuebao audit: cannot rename %s to %s: %s\n"), b->dir, b->final,
		        strerror(errno));
		failed = 1;
	}
	if (failed && nftw(b->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr,
		        _("yuebao audit: the export did not finish and %s could not be removed: "
		          "it is not a bundle to verify; delete it\n"),
		        b->dir);
	else if (failed)
		fprintf(stderr,
		        _("yuebao audit: the export did not finish; nothing was kept of %s\n"),
		        b->final);
	free(b);
	return failed ? -1 : 0;
}

/* ---- offline verification ------------------------------------------------ */

#define LINE_MAX_BYTES (1u << 20)

struct v_entry {
	uint8_t *bytes;
	size_t len;
	uint8_t listed[32];
	uint8_t leaf[32];
};

struct v_revision {
	char *org, *period, *state, *sha;
	uint32_t revision;
	char *values; /* code=hundredths;... */
	int referenced;
	/* What people are shown; detailed is 0 in bundles of earlier releases. */
	int detailed;
	int64_t received_at_ms;
	int on_time;
	char *reason, *subject, *fingerprint;
	size_t seq; /* its line in revisions.tsv */
};

struct v_review {
	char org[64], period[32], action[16];
	uint32_t revision;
	char digest[65]; /* SHA-256 of "action\ncomment", as the log records it */
	int referenced;
	int detailed; /* 0: a bundle of an earlier release, without the fields below */
	int64_t at_ms;
	char reviewer[320], fingerprint[80];
	size_t seq; /* its line in reviews.tsv: the order made */
};

/* One row of closures.tsv. */
struct v_closure {
	char org[64], subject[320], fingerprint[80];
	int month, closed;
	int64_t at_ms;
	char digest[65]; /* SHA-256 of the comment, as the log records it */
	int referenced;
	size_t seq; /* its line in closures.tsv: the order made */
};

struct v_bundle {
	struct v_review *reviews;
	size_t n_reviews;
	struct v_closure *closures;
	size_t n_closures;
	int has_closures;    /* closures.tsv is there (not in earlier releases) */
	size_t not_detailed; /* revisions and reviews exported without what people see */
	size_t no_due;       /* submissions whose entry has no deadline (earlier releases) */
	struct v_entry *entries;
	size_t n_entries;
	struct checkpoint *cps;
	size_t n_cps;
	struct v_revision *revs;
	size_t n_revs;
	/*
	 * An incremental bundle (export --since): entries[0] is entry `first`,
	 * since is where it starts, cons the daemon's consistency proof from
	 * cons_from to cons_to entries. A whole bundle: all zero.
	 */
	uint64_t first;
	int incremental;
	struct checkpoint_trusted since;
	uint64_t cons_from, cons_to;
	uint8_t (*cons)[32];
	size_t n_cons;
};

static void v_free(struct v_bundle *vb)
{
	for (size_t i = 0; i < vb->n_entries; i++)
		free(vb->entries[i].bytes);
	for (size_t i = 0; i < vb->n_revs; i++) {
		free(vb->revs[i].org);
		free(vb->revs[i].period);
		free(vb->revs[i].state);
		free(vb->revs[i].sha);
		free(vb->revs[i].values);
		free(vb->revs[i].reason);
		free(vb->revs[i].subject);
		free(vb->revs[i].fingerprint);
	}
	free(vb->closures);
	free(vb->cons);
	checkpoint_trusted_free(&vb->since);
	free(vb->entries);
	free(vb->cps);
	free(vb->revs);
	free(vb->reviews);
}

/* Splits a TSV line in place into at most n fields; returns how many. */
static size_t split_tabs(char *line, char **f, size_t n)
{
	size_t k = 0;

	line[strcspn(line, "\r\n")] = '\0';
	while (k < n) {
		f[k++] = line;
		if ((line = strchr(line, '\t')) == NULL)
			break;
		*line++ = '\0';
	}
	return k;
}

/* A text field written as hex, back as a string the caller frees; NULL when not hex. */
static char *unhex_text(const char *hex)
{
	size_t n = 0;
	char *t = malloc(strlen(hex) / 2 + 1);

	if (t == NULL || unhex(hex, (uint8_t *)t, strlen(hex) / 2, &n) != 0 || memchr(t, 0, n)) {
		free(t);
		return NULL;
	}
	t[n] = '\0';
	return t;
}

/*
 * An incremental bundle's start (since-checkpoint) and the daemon's
 * consistency proof from it (consistency.tsv); nothing for a whole bundle.
 * -1 when they are there but unreadable (said on out).
 */
static int v_load_since(const struct auditcmd_bundle *where, struct v_bundle *vb, FILE *out)
{
	char path[PATH_MAX + 64], line[256];
	struct errbuf eb = {{0}};
	unsigned long long from, to;
	size_t cap = 0, n;
	FILE *in;

	snprintf(path, sizeof(path), "%s/since-checkpoint", where->dir);
	if (access(path, F_OK) != 0)
		return 0;
	vb->incremental = 1;
	if (checkpoint_trusted_load(path, &vb->since, &eb) != YB_OK) {
		fprintf(out, "%s\n", eb.msg);
		return -1;
	}
	vb->first = vb->since.cp.size;
	if ((in = open_in(where, "consistency.tsv", "r")) == NULL ||
	    fgets(line, sizeof(line), in) == NULL || sscanf(line, "%llu\t%llu", &from, &to) != 2) {
		fprintf(out, _("%s/consistency.tsv is missing or malformed\n"), where->dir);
		if (in != NULL)
			fclose(in);
		return -1;
	}
	vb->cons_from = from;
	vb->cons_to = to;
	while (fgets(line, sizeof(line), in) != NULL && vb->n_cons <= MERKLE_MAX_PROOF) {
		void *p = array_reserve(vb->cons, &cap, vb->n_cons + 1, sizeof(*vb->cons), 8);
		line[strcspn(line, "\r\n")] = '\0';
		if (p == NULL || unhex(line, (vb->cons = p)[vb->n_cons], 32, &n) != 0 || n != 32) {
			fprintf(out, _("%s/consistency.tsv is malformed\n"), where->dir);
			fclose(in);
			return -1;
		}
		vb->n_cons++;
	}
	fclose(in);
	return 0;
}

/* Reads the three TSV files; problems with their form are printed and counted. */
static int v_load(const char *dir, struct v_bundle *vb, FILE *out, long *problems)
{
	struct auditcmd_bundle where;
	char *line = NULL, *f[11] = {0}; /* the most fields of a line: revisions.tsv */
	size_t cap_line = 0, cap = 0;
	ssize_t got;
	FILE *in;

	snprintf(where.dir, sizeof(where.dir), "%s", dir);
	if (v_load_since(&where, vb, out) != 0)
		return -1;
	if ((in = open_in(&where, "entries.tsv", "r")) == NULL)
		return -1;
	while ((got = getline(&line, &cap_line, in)) > 0 && (size_t)got < LINE_MAX_BYTES) {
		struct v_entry *e;
		size_t n;
		void *p =
		    array_reserve(vb->entries, &cap, vb->n_entries + 1, sizeof(*vb->entries), 64);
		if (p == NULL)
			break;
		vb->entries = p;
		e = &vb->entries[vb->n_entries];
		memset(e, 0, sizeof(*e));
		if (split_tabs(line, f, 3) != 3 ||
		    strtoull(f[0], NULL, 10) != vb->first + vb->n_entries ||
		    unhex(f[1], e->listed, 32, &n) != 0 || n != 32 ||
		    (e->bytes = malloc(strlen(f[2]) / 2 + 1)) == NULL ||
		    unhex(f[2], e->bytes, strlen(f[2]) / 2, &e->len) != 0) {
			fprintf(out, _("entry %llu: malformed line in entries.tsv\n"),
			        (unsigned long long)(vb->first + vb->n_entries));
			(*problems)++;
		}
		vb->n_entries++; /* its leaf hash: v_leaf_one, on every core */
	}
	fclose(in);
	cap = 0;
	if ((in = open_in(&where, "checkpoints.tsv", "r")) == NULL) {
		free(line);
		return -1;
	}
	while ((got = getline(&line, &cap_line, in)) > 0 && (size_t)got < LINE_MAX_BYTES) {
		struct checkpoint *c;
		size_t n;
		void *p = array_reserve(vb->cps, &cap, vb->n_cps + 1, sizeof(*vb->cps), 64);
		if (p == NULL)
			break;
		vb->cps = p;
		c = &vb->cps[vb->n_cps];
		memset(c, 0, sizeof(*c));
		if (split_tabs(line, f, 4) != 4 || unhex(f[1], c->root, 32, &n) != 0 || n != 32 ||
		    unhex(f[3], c->sig, sizeof(c->sig), &c->sig_len) != 0) {
			fprintf(out, _("checkpoint line %zu: malformed\n"), vb->n_cps + 1);
			(*problems)++;
			continue;
		}
		c->size = strtoull(f[0], NULL, 10);
		c->at_ms = strtoll(f[2], NULL, 10);
		vb->n_cps++;
	}
	fclose(in);
	cap = 0;
	if ((in = open_in(&where, "revisions.tsv", "r")) == NULL) {
		free(line);
		return -1;
	}
	while ((got = getline(&line, &cap_line, in)) > 0 && (size_t)got < LINE_MAX_BYTES) {
		struct v_revision *r;
		size_t k = split_tabs(line, f, 11);
		void *p = array_reserve(vb->revs, &cap, vb->n_revs + 1, sizeof(*vb->revs), 64);
		if (p == NULL)
			break;
		vb->revs = p;
		if (k < 5 || (k > 6 && k < 11)) {
			fprintf(out, _("revision line %zu: malformed\n"), vb->n_revs + 1);
			(*problems)++;
			continue;
		}
		r = &vb->revs[vb->n_revs];
		memset(r, 0, sizeof(*r));
		r->seq = vb->n_revs++;
		r->org = strdup(f[0]);
		r->period = strdup(f[1]);
		r->revision = (uint32_t)strtoul(f[2], NULL, 10);
		r->state = strdup(f[3]);
		r->sha = strdup(f[4]);
		r->values = strdup(k > 5 ? f[5] : "");
		if (k == 11) {
			r->received_at_ms = strtoll(f[6], NULL, 10);
			r->on_time = strcmp(f[7], "1") == 0;
			r->reason = unhex_text(f[8]);
			r->subject = unhex_text(f[9]);
			r->fingerprint = strdup(f[10]);
			r->detailed = r->reason && r->subject && r->fingerprint;
			if (!r->detailed) {
				fprintf(out, _("revision line %zu: malformed\n"), vb->n_revs);
				(*problems)++;
			}
		} else {
			vb->not_detailed++;
		}
	}
	fclose(in);
	cap = 0;
	if ((in = open_in(&where, "reviews.tsv", "r")) != NULL) {
		while ((got = getline(&line, &cap_line, in)) > 0 && (size_t)got < LINE_MAX_BYTES) {
			struct v_review *r;
			uint8_t *comment;
			size_t n = 0, k = split_tabs(line, f, 8);
			void *p = array_reserve(vb->reviews, &cap, vb->n_reviews + 1,
			                        sizeof(*vb->reviews), 64);
			char *text, *reviewer = k == 8 ? unhex_text(f[6]) : NULL;
			if (p == NULL)
				break;
			vb->reviews = p;
			comment = malloc(k >= 6 ? strlen(f[5]) / 2 + 1 : 1);
			if ((k != 6 && (k != 8 || reviewer == NULL)) || comment == NULL ||
			    unhex(f[5], comment, strlen(f[5]) / 2, &n) != 0 ||
			    (text = malloc(strlen(f[3]) + n + 2)) == NULL) {
				fprintf(out, _("review line %zu: malformed\n"), vb->n_reviews + 1);
				(*problems)++;
				free(comment);
				free(reviewer);
				continue;
			}
			r = &vb->reviews[vb->n_reviews];
			memset(r, 0, sizeof(*r));
			r->seq = vb->n_reviews++;
			r->at_ms = strtoll(f[4], NULL, 10);
			if (k == 8) {
				r->detailed = 1;
				snprintf(r->reviewer, sizeof(r->reviewer), "%s", reviewer);
				snprintf(r->fingerprint, sizeof(r->fingerprint), "%s", f[7]);
			} else {
				vb->not_detailed++;
			}
			free(reviewer);
			snprintf(r->org, sizeof(r->org), "%s", f[0]);
			snprintf(r->period, sizeof(r->period), "%s", f[1]);
			r->revision = (uint32_t)strtoul(f[2], NULL, 10);
			snprintf(r->action, sizeof(r->action), "%s", f[3]);
			memcpy(text, f[3], strlen(f[3]));
			text[strlen(f[3])] = '\n';
			memcpy(text + strlen(f[3]) + 1, comment, n);
			hash_sha256_hex(text, strlen(f[3]) + 1 + n, r->digest);
			free(text);
			free(comment);
		}
		fclose(in);
	}
	cap = 0;
	if ((in = open_in(&where, "closures.tsv", "r")) != NULL) {
		vb->has_closures = 1;
		while ((got = getline(&line, &cap_line, in)) > 0 && (size_t)got < LINE_MAX_BYTES) {
			struct v_closure *x;
			struct errbuf eb = {{0}};
			size_t k = split_tabs(line, f, 7);
			char *comment = k == 7 ? unhex_text(f[4]) : NULL,
			     *subject = k == 7 ? unhex_text(f[5]) : NULL;
			void *p = array_reserve(vb->closures, &cap, vb->n_closures + 1,
			                        sizeof(*vb->closures), 64);
			if (p == NULL) {
				free(comment);
				free(subject);
				break;
			}
			vb->closures = p;
			x = &vb->closures[vb->n_closures];
			memset(x, 0, sizeof(*x));
			if (comment == NULL || subject == NULL ||
			    period_parse_month(f[1], &x->month, &eb) != YB_OK) {
				fprintf(out, _("closure line %zu: malformed\n"),
				        vb->n_closures + 1);
				(*problems)++;
			} else {
				snprintf(x->org, sizeof(x->org), "%s", f[0]);
				x->closed = strcmp(f[2], "1") == 0;
				x->at_ms = strtoll(f[3], NULL, 10);
				hash_sha256_hex(comment, strlen(comment), x->digest);
				snprintf(x->subject, sizeof(x->subject), "%s", subject);
				snprintf(x->fingerprint, sizeof(x->fingerprint), "%s", f[6]);
				x->seq = vb->n_closures++;
			}
			free(comment);
			free(subject);
		}
		fclose(in);
	}
	free(line);
	return 0;
}

/*
 * Rows are looked up by their return (org, period, revision) or, for
 * closures, (org, month): v_index sorts each array by that key and then by
 * line, so that a key's rows are adjacent and in the order made, and each
 * entry finds its rows by binary search, not by reading them all: a
 * million entries must not cost a million times a million comparisons.
 */
static int key_cmp(const char *org, const char *period, uint32_t revision, const char *org2,
                   const char *period2, uint32_t revision2)
{
	int c = strcmp(org, org2);

	if (c == 0)
		c = strcmp(period, period2);
	return c != 0 ? c : (revision > revision2) - (revision < revision2);
}

static int seq_cmp(size_t a, size_t b)
{
	return (a > b) - (a < b);
}

static int rev_cmp(const void *a, const void *b)
{
	const struct v_revision *x = a, *y = b;
	int c = key_cmp(x->org, x->period, x->revision, y->org, y->period, y->revision);
	return c != 0 ? c : seq_cmp(x->seq, y->seq);
}

static int review_cmp(const void *a, const void *b)
{
	const struct v_review *x = a, *y = b;
	int c = key_cmp(x->org, x->period, x->revision, y->org, y->period, y->revision);
	return c != 0 ? c : seq_cmp(x->seq, y->seq);
}

static int closure_key_cmp(const struct v_closure *x, const char *org, int month)
{
	int c = strcmp(x->org, org);
	return c != 0 ? c : (x->month > month) - (x->month < month);
}

static int closure_cmp(const void *a, const void *b)
{
	const struct v_closure *x = a, *y = b;
	int c = closure_key_cmp(x, y->org, y->month);
	return c != 0 ? c : seq_cmp(x->seq, y->seq);
}

static void v_index(struct v_bundle *vb)
{
	/* A line that could not be read has no key: it sorts first, found by none. */
	for (size_t k = 0; k < vb->n_revs; k++)
		if (vb->revs[k].org == NULL || vb->revs[k].period == NULL) {
			free(vb->revs[k].org);
			free(vb->revs[k].period);
			vb->revs[k].org = strdup("");
			vb->revs[k].period = strdup("");
		}
	/* qsort must not be given NULL, which an empty file leaves. */
	if (vb->n_revs > 0)
		qsort(vb->revs, vb->n_revs, sizeof(*vb->revs), rev_cmp);
	if (vb->n_reviews > 0)
		qsort(vb->reviews, vb->n_reviews, sizeof(*vb->reviews), review_cmp);
	if (vb->n_closures > 0)
		qsort(vb->closures, vb->n_closures, sizeof(*vb->closures), closure_cmp);
}

/* The first revision of the key in the sorted revisions, or n_revs. */
static size_t revs_of(const struct v_bundle *vb, const char *org, const char *period,
                      uint32_t revision)
{
	size_t lo = 0, hi = vb->n_revs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct v_revision *r = &vb->revs[mid];
		if (key_cmp(r->org, r->period, r->revision, org, period, revision) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The first review of the key in the sorted reviews, or n_reviews. */
static size_t reviews_of(const struct v_bundle *vb, const char *org, const char *period,
                         uint32_t revision)
{
	size_t lo = 0, hi = vb->n_reviews;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct v_review *r = &vb->reviews[mid];
		if (key_cmp(r->org, r->period, r->revision, org, period, revision) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The first closure of (org, month) in the sorted closures, or n_closures. */
static size_t closures_of(const struct v_bundle *vb, const char *org, int month)
{
	size_t lo = 0, hi = vb->n_closures;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (closure_key_cmp(&vb->closures[mid], org, month) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The value of "\nname=" in an entry's text, copied into buf. */
static const char *entry_field(const struct v_entry *e, const char *name, char *buf, size_t len)
{
	char key[32];
	const char *p, *end;

	snprintf(key, sizeof(key), "\n%s=", name);
	buf[0] = '\0';
	if (e->bytes == NULL || (p = memmem(e->bytes, e->len, key, strlen(key))) == NULL)
		return buf;
	p += strlen(key);
	end = memchr(p, '\n', e->len - (size_t)(p - (const char *)e->bytes));
	if (end == NULL)
		return buf;
	snprintf(buf, len, "%.*s", (int)(end - p), p);
	return buf;
}

/* The time an entry records (its time= line). */
static int64_t entry_time(const struct v_entry *e)
{
	char buf[32];

	return strtoll(entry_field(e, "time", buf, sizeof(buf)), NULL, 10);
}

/*
 * Whether an entry's actor line names subject: the daemon writes control
 * characters of a subject as spaces there.
 */
static int same_actor(const char *logged, const char *subject)
{
	for (; *logged && *subject; logged++, subject++)
		if (*logged !=
		    (((unsigned char)*subject < 0x20 || *subject == 0x7f) ? ' ' : *subject))
			return 0;
	return *logged == *subject;
}

/* A time for people, in UTC with its offset (a bundle does not say the deployment's zone). */
static const char *when(int64_t ms, char buf[TZ_TEXT_MAX])
{
	tz_format(tz_utc(), ms, TZ_PEOPLE, buf, TZ_TEXT_MAX);
	return buf;
}

/*
 * Runs fn(ctx, k) for every k of [0, n) on at most `threads` threads, the
 * caller's among them, each taking the next block of k as it is free; fn
 * must not touch what another k does. Returns once every k is done. When a
 * thread cannot start, the others do its share.
 */
struct v_work {
	void (*fn)(void *ctx, size_t k);
	void *ctx;
	size_t n;
	atomic_size_t next;
};

#define WORK_BLOCK 64
#define MAX_THREADS 64

static void *v_worker(void *arg)
{
	struct v_work *w = arg;

	for (;;) {
		size_t k = atomic_fetch_add(&w->next, WORK_BLOCK), end = k + WORK_BLOCK;
		if (k >= w->n)
			return NULL;
		for (; k < end && k < w->n; k++)
			w->fn(w->ctx, k);
	}
}

static void v_parallel(size_t n, int threads, void (*fn)(void *ctx, size_t k), void *ctx)
{
	struct v_work w = {.fn = fn, .ctx = ctx, .n = n};
	pthread_t t[MAX_THREADS];
	int started = 0;

	atomic_init(&w.next, 0);
	while (started + 1 < threads && started < MAX_THREADS &&
	       (size_t)(started + 1) * WORK_BLOCK < n &&
	       pthread_create(&t[started], NULL, v_worker, &w) == 0)
		started++;
	v_worker(&w);
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
}

/* How many threads a verify uses: one per core, at most MAX_THREADS. */
static int v_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

/*
 * Entries are appended in time order, and each checkpoint is signed with
 * the time of the entry it ends: an entry's time lies between the signed
 * times of the checkpoint before it (size = its index) and the one after
 * it. An entry outside them was written with a clock set back, or dated
 * otherwise than when it was appended.
 */
static void v_times(const struct v_bundle *vb, FILE *out, long *problems)
{
	/* by_size[k]: the checkpoint of first + k entries, if the bundle has it. */
	const struct checkpoint **by_size = calloc(vb->n_entries + 2, sizeof(*by_size));
	char a[TZ_TEXT_MAX], b[TZ_TEXT_MAX];

	if (by_size == NULL)
		return;
	for (size_t k = 0; k < vb->n_cps; k++)
		if (vb->cps[k].size >= vb->first && vb->cps[k].size - vb->first <= vb->n_entries)
			by_size[vb->cps[k].size - vb->first] = &vb->cps[k];
	if (vb->incremental && by_size[0] == NULL)
		by_size[0] = &vb->since.cp;
	for (size_t i = 0; i < vb->n_entries; i++) {
		int64_t t = entry_time(&vb->entries[i]);
		const struct checkpoint *before = by_size[i], *after = by_size[i + 1];
		unsigned long long at = (unsigned long long)(vb->first + i);
		if (before != NULL && t < before->at_ms) {
			fprintf(out,
			        _("entry %llu: its time %s is before that of the checkpoint signed "
			          "before it (%s): it was back-dated\n"),
			        at, when(t, a), when(before->at_ms, b));
			(*problems)++;
		} else if (after != NULL && t > after->at_ms) {
			fprintf(out,
			        _("entry %llu: its time %s is after that of the checkpoint signed "
			          "right after it (%s)\n"),
			        at, when(t, a), when(after->at_ms, b));
			(*problems)++;
		}
	}
	free(by_size);
}

/* A tree head for people: its size, root and signing time. */
static const char *tree_head(const struct checkpoint *c, char buf[256])
{
	char hex[MERKLE_HEX_LEN + 1], at[TZ_TEXT_MAX];

	merkle_hex(c->root, hex);
	snprintf(buf, 256, _("%llu entries, root %s, signed %s"), (unsigned long long)c->size, hex,
	         when(c->at_ms, at));
	return buf;
}

static void v_leaf_one(void *ctx, size_t k)
{
	struct v_entry *e = &((struct v_bundle *)ctx)->entries[k];

	merkle_leaf_hash(e->bytes, e->len, e->leaf);
}

/* Entries whose roots one thread computes from a copy of the right edge. */
#define TREE_CHUNK 4096

/* The roots at every signed size, from copies of the right edge (v_tree). */
struct v_tree_check {
	const struct v_bundle *vb;
	size_t n_chunks;
	struct merkle_frontier *start;     /* [c]: the edge before entry c * TREE_CHUNK */
	const struct checkpoint **by_size; /* [i]: the checkpoint of entries 0..i, or NULL */
	size_t *differs;                   /* [c]: 1 + the first entry whose root differs */
};

static void v_tree_chunk(void *ctx, size_t c)
{
	struct v_tree_check *t = ctx;
	struct merkle_frontier edge = t->start[c];
	size_t end = (c + 1) * TREE_CHUNK;
	uint8_t root[32];

	if (end > t->vb->n_entries)
		end = t->vb->n_entries;
	for (size_t i = c * TREE_CHUNK; i < end; i++) {
		merkle_frontier_add(&edge, t->vb->entries[i].leaf);
		/* A hash that cannot be computed counts as a root that differs. */
		if (t->by_size[i] != NULL && (merkle_frontier_root(&edge, root) != YB_OK ||
		                              memcmp(root, t->by_size[i]->root, 32) != 0)) {
			t->differs[c] = i + 1;
			return;
		}
	}
}

/* The checkpoint signatures of a bundle, checked on several threads. */
struct v_cp_check {
	const struct v_bundle *vb;
	const struct pki_verifier *v;
	const uint8_t *cert;
	size_t cert_len;
	char **why;         /* [k]: why checkpoint k's signature fails (malloc'd), or NULL */
	unsigned char *bad; /* [k]: 1 when it fails, whether or not why could be kept */
};

static void v_cp_check_one(void *ctx, size_t k)
{
	struct v_cp_check *c = ctx;
	struct errbuf eb = {{0}};

	if (checkpoint_verify(&c->vb->cps[k], c->v, c->cert, c->cert_len, &eb) != YB_OK) {
		c->bad[k] = 1;
		c->why[k] = strdup(eb.msg[0] ? eb.msg : "?");
	}
}

/*
 * The tree: recomputed roots against every signed checkpoint, from the
 * right edge in *edge (of vb->first entries: empty for a whole bundle, the
 * trusted one for an incremental bundle), which is left at the bundle's
 * end. With trusted, the log must also agree with it at its size.
 */
static void v_tree(const struct v_bundle *vb, const struct checkpoint_trusted *trusted,
                   const struct pki_verifier *v, const uint8_t *cert, size_t cert_len,
                   struct merkle_frontier *edge, FILE *out, long *problems)
{
	uint8_t root[32];
	uint64_t total = vb->first + vb->n_entries;
	struct v_tree_check tc = {0};

	assert(edge->size == vb->first);
	for (size_t i = 0; i < vb->n_entries; i++)
		if (memcmp(vb->entries[i].leaf, vb->entries[i].listed, 32) != 0) {
			fprintf(
			    out,
			    _("entry %llu: its content does not match its stored hash: the entry "
			      "was rewritten\n"),
			    (unsigned long long)(vb->first + i));
			(*problems)++;
		}
	struct v_cp_check check = {.vb = vb,
	                           .v = v,
	                           .cert = cert,
	                           .cert_len = cert_len,
	                           .why = calloc(vb->n_cps + 1, sizeof(char *)),
	                           .bad = calloc(vb->n_cps + 1, 1)};
	int unchecked = check.why == NULL || check.bad == NULL;

	/* Every signature, on every core; then each failure in order. */
	if (!unchecked)
		v_parallel(vb->n_cps, v_threads(), v_cp_check_one, &check);
	for (size_t k = 0; k < vb->n_cps; k++) {
		if (unchecked || check.bad[k]) {
			fprintf(out, _("checkpoint %llu: signature does not verify: %s\n"),
			        (unsigned long long)vb->cps[k].size,
			        !unchecked && check.why[k] != NULL ? check.why[k]
			                                           : _("out of memory"));
			(*problems)++;
		}
		if (check.why != NULL)
			free(check.why[k]);
		if (vb->cps[k].size > total) {
			fprintf(out,
			        _("checkpoint %llu: signed for %llu entries but the log has %llu: "
			          "entries %llu to %llu were removed\n"),
			        (unsigned long long)vb->cps[k].size,
			        (unsigned long long)vb->cps[k].size, (unsigned long long)total,
			        (unsigned long long)total, (unsigned long long)vb->cps[k].size - 1);
			(*problems)++;
		}
	}
	free(check.why);
	free(check.bad);
	if (trusted != NULL && trusted->cp.size > total) {
		char a[256];
		fprintf(
		    out,
		    _("FAILED: the log in the bundle has %llu entries, fewer than the checkpoint "
		      "you trusted (%s): it was truncated or rebuilt\n"),
		    (unsigned long long)total, tree_head(&trusted->cp, a));
		(*problems)++;
	}
	/*
	 * The right edge is grown once, in order, keeping a copy every
	 * TREE_CHUNK entries; from those copies the roots at every signed size
	 * are computed on every core. The first size whose root differs is named.
	 */
	tc.vb = vb;
	tc.n_chunks = (vb->n_entries + TREE_CHUNK - 1) / TREE_CHUNK;
	tc.start = calloc(tc.n_chunks + 1, sizeof(*tc.start));
	tc.differs = calloc(tc.n_chunks + 1, sizeof(*tc.differs));
	tc.by_size = calloc(vb->n_entries + 1, sizeof(*tc.by_size));
	if (tc.start == NULL || tc.differs == NULL || tc.by_size == NULL) {
		fprintf(out, _("out of memory\n"));
		(*problems)++;
		goto done;
	}
	for (size_t k = 0; k < vb->n_cps; k++)
		if (vb->cps[k].size > vb->first && vb->cps[k].size - vb->first <= vb->n_entries)
			tc.by_size[vb->cps[k].size - vb->first - 1] = &vb->cps[k];
	for (size_t i = 0; i < vb->n_entries; i++) {
		if (i % TREE_CHUNK == 0)
			tc.start[i / TREE_CHUNK] = *edge;
		merkle_frontier_add(edge, vb->entries[i].leaf);
		if (trusted != NULL && edge->size == trusted->cp.size && vb->first < edge->size &&
		    merkle_frontier_root(edge, root) == YB_OK &&
		    memcmp(root, trusted->cp.root, 32) != 0) {
			char a[256], hex[MERKLE_HEX_LEN + 1];
			merkle_hex(root, hex);
			fprintf(
			    out,
			    _("FAILED: the log was rewritten before the checkpoint you trusted: "
			      "your tree head (%s) is not the bundle's, whose first %llu entries "
			      "give root %s\n"),
			    tree_head(&trusted->cp, a), (unsigned long long)edge->size, hex);
			(*problems)++;
		}
	}
	v_parallel(tc.n_chunks, v_threads(), v_tree_chunk, &tc);
	for (size_t c = 0; c < tc.n_chunks; c++) {
		size_t i = tc.differs[c];
		char what[96];
		if (i == 0)
			continue;
		i--; /* differs holds the entry + 1 */
		fprintf(
		    out,
		    _("entry %llu: the log up to it no longer matches the checkpoint signed when "
		      "it was added: entry %llu (%s) was altered, removed, inserted or moved\n"),
		    (unsigned long long)(vb->first + i), (unsigned long long)(vb->first + i),
		    entry_field(&vb->entries[i], "action", what, sizeof(what)));
		(*problems)++;
		break;
	}
done:
	free(tc.start);
	free(tc.differs);
	free(tc.by_size);
}

/*
 * An incremental bundle against the trusted checkpoint: it starts there,
 * and the daemon proved that the log it exported from extends it. 0, or -1
 * when the two do not fit together at all (said on out; nothing checked).
 */
static int v_consistent(const struct v_bundle *vb, const struct checkpoint_trusted *trusted,
                        FILE *out, long *problems)
{
	const struct checkpoint *head = NULL;
	char a[256], b[256];

	/*
	 * The bundle's own copy of where it starts is not signed as a whole:
	 * only the auditor's file is trusted, and the copy must be that file.
	 */
	if (trusted->cp.size == vb->first &&
	    (memcmp(trusted->cp.root, vb->since.cp.root, 32) != 0 ||
	     trusted->cp.at_ms != vb->since.cp.at_ms ||
	     trusted->cp.sig_len != vb->since.cp.sig_len ||
	     memcmp(trusted->cp.sig, vb->since.cp.sig, trusted->cp.sig_len) != 0)) {
		fprintf(out,
		        _("the bundle's since-checkpoint is not the checkpoint you trust: it was "
		          "exported from another one, or changed\n"));
		return -1;
	}
	if (trusted->cp.size != vb->first) {
		fprintf(out,
		        _("the bundle holds the entries after the first %llu, but the checkpoint "
		          "you trust has %llu: give --trusted the verified-checkpoint the export "
		          "started from (audit export --since)\n"),
		        (unsigned long long)vb->first, (unsigned long long)trusted->cp.size);
		return -1;
	}
	for (size_t k = 0; k < vb->n_cps; k++)
		if (vb->cps[k].size == vb->cons_to)
			head = &vb->cps[k];
	if (vb->cons_from != trusted->cp.size || head == NULL) {
		fprintf(out,
		        _("the bundle's consistency proof is not from %llu entries to one of its "
		          "checkpoints\n"),
		        (unsigned long long)trusted->cp.size);
		(*problems)++;
		return 0;
	}
	if (!merkle_consistency_verify(trusted->cp.size, head->size, trusted->cp.root, head->root,
	                               (const uint8_t(*)[32])vb->cons, vb->n_cons)) {
		fprintf(out,
		        _("FAILED: the log was rewritten before the checkpoint you trusted: the "
		          "daemon's tree head (%s) does not extend yours (%s)\n"),
		        tree_head(head, a), tree_head(&trusted->cp, b));
		(*problems)++;
	}
	return 0;
}

/* Parses "code=hundredths;..." into a lookup by code; returns the value or INT64_MIN. */
static int64_t stored_value(const char *values, const char *code)
{
	size_t n = strlen(code);

	for (const char *p = values; p && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL)
		if (strncmp(p, code, n) == 0 && p[n] == '=')
			return strtoll(p + n + 1, NULL, 10);
	return INT64_MIN;
}

static size_t count_values(const char *values)
{
	size_t n = values[0] ? 1 : 0;

	for (; *values; values++)
		n += *values == ';';
	return n;
}

/*
 * What people are shown of a revision (received time, on-time flag, reason,
 * submitter and certificate) against its entry and its signed request.
 */
static void v_shown(size_t i, const struct v_entry *e, const char *object,
                    const struct v_revision *r, const struct pki_principal *who,
                    const Yuebao__V1__SubmitRequest *sub, struct v_bundle *vb, FILE *out,
                    long *problems)
{
	char actor[400], fp[80], due[32], a[TZ_TEXT_MAX], b[TZ_TEXT_MAX];
	int64_t at = entry_time(e);

	if (!r->detailed)
		return; /* counted as not_detailed when read */
	if (r->received_at_ms != at) {
		fprintf(out,
		        _("entry %zu: %s is stored as received at %s, but its entry records %s: "
		          "it was back-dated\n"),
		        i, object, when(r->received_at_ms, a), when(at, b));
		(*problems)++;
	}
	if (entry_field(e, "due", due, sizeof(due))[0] == '\0') {
		vb->no_due++;
	} else if (r->on_time != (at < strtoll(due, NULL, 10))) {
		fprintf(out,
		        r->on_time
		            ? _("entry %zu: %s is stored as on time, but it was received at "
		                "%s, after its deadline %s\n")
		            : _("entry %zu: %s is stored as late, but it was received at %s, "
		                "before its deadline %s\n"),
		        i, object, when(at, a), when(strtoll(due, NULL, 10), b));
		(*problems)++;
	}
	if (strcmp(r->reason, sub->reason) != 0) {
		fprintf(out,
		        _("entry %zu: the stored reason of %s is not the one the branch signed\n"),
		        i, object);
		(*problems)++;
	}
	entry_field(e, "actor", actor, sizeof(actor));
	if (strcmp(r->subject, who->subject) != 0 || !same_actor(actor, r->subject)) {
		fprintf(out,
		        _("entry %zu: %s is stored as submitted by %s, but it was signed by %s\n"),
		        i, object, r->subject, who->subject);
		(*problems)++;
	}
	entry_field(e, "fingerprint", fp, sizeof(fp));
	if (strcmp(r->fingerprint, who->fingerprint) != 0 || strcmp(r->fingerprint, fp) != 0) {
		fprintf(out,
		        _("entry %zu: %s stores the certificate fingerprint %s, but it was signed "
		          "with the certificate %s\n"),
		        i, object, r->fingerprint, who->fingerprint);
		(*problems)++;
	}
}

/* The most a stored request may be: what the daemon accepts, with room to spare. */
#define REQUEST_MAX (4u << 20)

/*
 * A submission entry's signed request, read and checked by v_sign_check:
 * the costly part of a verify (a file, a hash and an ECDSA signature), done
 * for many entries at once on every core before v_submit compares the rest
 * in order. Nothing here depends on another entry.
 */
struct v_signed {
	enum {
		SIGNED_NONE,    /* not a submission, or its object or digest is unusable */
		SIGNED_MISSING, /* no request file of the entry's digest */
		SIGNED_ALTERED, /* its bytes do not hash to the digest, or do not parse */
		SIGNED_BAD,     /* the signature or its certificate fails: why */
		SIGNED_OK,      /* who signed it, and what */
	} state;
	char why[ERRBUF_MAX];
	struct pki_principal who;
	Yuebao__V1__RpcRequest *req;
	Yuebao__V1__SubmitRequest *sub; /* NULL when the payload is not a SubmitRequest */
};

static void v_signed_clear(struct v_signed *s)
{
	if (s->sub != NULL)
		yuebao__v1__submit_request__free_unpacked(s->sub, NULL);
	if (s->req != NULL)
		yuebao__v1__rpc_request__free_unpacked(s->req, NULL);
	memset(s, 0, sizeof(*s));
}

/* Reads and checks the signed request of entry e (any thread). */
static void v_sign_check(const char *dir, const struct v_entry *e, const struct pki_verifier *v,
                         struct v_signed *s)
{
	char action[64], digest[80], path[PATH_MAX + 128], sha[65];
	struct errbuf eb = {{0}};
	uint8_t *raw = NULL, *signed_bytes = NULL;
	size_t raw_len = 0, signed_len = 0;
	struct stat st;
	FILE *f;

	memset(s, 0, sizeof(*s));
	entry_field(e, "action", action, sizeof(action));
	entry_field(e, "digest", digest, sizeof(digest));
	if (strcmp(action, "submit") != 0 || !is_hex64(digest))
		return;
	s->state = SIGNED_MISSING;
	snprintf(path, sizeof(path), "%s/requests/%s.bin", dir, digest);
	if ((f = fopen(path, "rb")) == NULL)
		return;
	if (fstat(fileno(f), &st) == 0 && st.st_size > 0 && st.st_size <= (off_t)REQUEST_MAX &&
	    (raw = malloc((size_t)st.st_size)) != NULL)
		raw_len = fread(raw, 1, (size_t)st.st_size, f);
	fclose(f);
	if (raw == NULL || raw_len == 0)
		goto done;
	s->state = SIGNED_ALTERED;
	hash_sha256_hex(raw, raw_len, sha);
	if (strcmp(sha, digest) != 0 ||
	    (s->req = yuebao__v1__rpc_request__unpack(NULL, raw_len, raw)) == NULL ||
	    rpc_signed_bytes(s->req->method, s->req->call_id, s->req->sent_at_ms,
	                     s->req->deadline_ms, s->req->payload.data, s->req->payload.len,
	                     &signed_bytes, &signed_len) != YB_OK)
		goto done;
	if (pki_verify_caller(v, s->req->caller_cert.data, s->req->caller_cert.len, signed_bytes,
	                      signed_len, s->req->signature.data, s->req->signature.len,
	                      (time_t)(s->req->sent_at_ms / 1000), &s->who, &eb) != YB_OK) {
		s->state = SIGNED_BAD;
		snprintf(s->why, sizeof(s->why), "%s", eb.msg);
		goto done;
	}
	s->state = SIGNED_OK;
	s->sub =
	    yuebao__v1__submit_request__unpack(NULL, s->req->payload.len, s->req->payload.data);
done:
	free(signed_bytes);
	free(raw);
}

/* The entries whose signed requests are being read, and what each gave. */
struct v_sign_chunk {
	const char *dir;
	const struct v_entry *entries;
	const struct pki_verifier *v;
	struct v_signed *out; /* VERIFY_CHUNK of them */
};

/* Entries whose signed requests are checked together: bounds the memory they hold. */
#define VERIFY_CHUNK 4096

static void v_sign_one(void *ctx, size_t k)
{
	struct v_sign_chunk *c = ctx;

	v_sign_check(c->dir, &c->entries[k], c->v, &c->out[k]);
}

/* One submission entry against its revision and its signed request (s). */
static void v_submit(size_t i, const struct v_entry *e, const struct v_signed *s,
                     struct v_bundle *vb, FILE *out, long *problems)
{
	char object[200], digest[80], org[64], period[32];
	const Yuebao__V1__SubmitRequest *sub = s->sub;
	struct v_revision *r = NULL;
	size_t present = 0;
	unsigned rev = 0;

	entry_field(e, "object", object, sizeof(object));
	entry_field(e, "digest", digest, sizeof(digest));
	if (sscanf(object, "%63[^/]/%31[^/]/r%u", org, period, &rev) != 3) {
		fprintf(out, _("entry %zu: submission of an unknown return '%s'\n"), i, object);
		(*problems)++;
		return;
	}
	/* Of rows stored twice for one revision, the last read is checked. */
	for (size_t k = revs_of(vb, org, period, rev);
	     k < vb->n_revs && key_cmp(vb->revs[k].org, vb->revs[k].period, vb->revs[k].revision,
	                               org, period, rev) == 0;
	     k++)
		r = &vb->revs[k];
	if (r == NULL) {
		fprintf(out,
		        _("entry %zu: revision %u of %s for %s is missing from the store: it was "
		          "deleted\n"),
		        i, rev, org, period);
		(*problems)++;
		return;
	}
	r->referenced = 1;
	if (strcmp(r->sha, digest) != 0 || !is_hex64(digest)) {
		fprintf(out, _("entry %zu: %s's stored request is not the one logged\n"), i,
		        object);
		(*problems)++;
		return;
	}
	switch (s->state) {
	case SIGNED_NONE:
	case SIGNED_MISSING:
		fprintf(out, _("entry %zu: the signed request of %s is missing\n"), i, object);
		(*problems)++;
		return;
	case SIGNED_ALTERED:
		fprintf(out, _("entry %zu: the stored request of %s was altered\n"), i, object);
		(*problems)++;
		return;
	case SIGNED_BAD:
		fprintf(out, _("entry %zu: the signature of %s does not verify: %s\n"), i, object,
		        s->why);
		(*problems)++;
		return;
	case SIGNED_OK:
		break;
	}
	if (sub == NULL || strcmp(s->who.org, org) != 0 ||
	    (sub->org[0] && strcmp(sub->org, org) != 0) || strcmp(sub->period, period) != 0) {
		fprintf(out, _("entry %zu: %s was signed by %s for another return\n"), i, object,
		        s->who.subject);
		(*problems)++;
		return;
	}
	v_shown(i, e, object, r, &s->who, sub, vb, out, problems);
	for (size_t k = 0; k < sub->n_values; k++) {
		int64_t want, have;
		if (sub->values[k]->value[0] == '\0' ||
		    dec_parse_entry(sub->values[k]->value, 2, &want, NULL) != YB_OK)
			continue;
		present++;
		have = stored_value(r->values, sub->values[k]->code);
		if (have != want) {
			char a[48] = "-", b[48];
			if (have != INT64_MIN)
				dec_format(have, 2, a, sizeof(a));
			dec_format(want, 2, b, sizeof(b));
			fprintf(
			    out,
			    _("entry %zu: %s: the stored value of %s is %s, but the branch signed "
			      "%s\n"),
			    i, object, sub->values[k]->code, a, b);
			(*problems)++;
		}
	}
	if (present != count_values(r->values)) {
		fprintf(out, _("entry %zu: %s stores %zu values, but the branch signed %zu\n"), i,
		        object, count_values(r->values), present);
		(*problems)++;
	}
}

/* One review entry against the stored reviews. */
static void v_review_entry(size_t i, const struct v_entry *e, struct v_bundle *vb, FILE *out,
                           long *problems)
{
	char object[200], digest[80], action[64], org[64], period[32], actor[400], fp[80];
	unsigned rev = 0;

	entry_field(e, "object", object, sizeof(object));
	entry_field(e, "digest", digest, sizeof(digest));
	entry_field(e, "action", action, sizeof(action));
	if (sscanf(object, "%63[^/]/%31[^/]/r%u", org, period, &rev) != 3)
		return;
	for (size_t k = reviews_of(vb, org, period, rev);
	     k < vb->n_reviews && vb->reviews[k].revision == rev &&
	     strcmp(vb->reviews[k].org, org) == 0 && strcmp(vb->reviews[k].period, period) == 0;
	     k++) {
		struct v_review *r = &vb->reviews[k];
		if (!r->referenced && strcmp(r->action, action + strlen("review:")) == 0 &&
		    strcmp(r->digest, digest) == 0) {
			r->referenced = 1;
			entry_field(e, "actor", actor, sizeof(actor));
			entry_field(e, "fingerprint", fp, sizeof(fp));
			if (r->detailed &&
			    (r->at_ms != entry_time(e) || !same_actor(actor, r->reviewer) ||
			     strcmp(r->fingerprint, fp) != 0)) {
				char a[TZ_TEXT_MAX], b[TZ_TEXT_MAX];
				fprintf(out,
				        _("entry %zu: the %s of %s is stored as made by %s "
				          "(certificate "
				          "%.16s) at %s, but its entry records %s (certificate "
				          "%.16s) at "
				          "%s\n"),
				        i, action, object, r->reviewer, r->fingerprint,
				        when(r->at_ms, a), actor, fp, when(entry_time(e), b));
				(*problems)++;
			}
			return;
		}
	}
	fprintf(out,
	        _("entry %zu: the %s of %s is missing from the store, or its comment was "
	          "changed\n"),
	        i, action, object);
	(*problems)++;
}

/*
 * One close or reopen entry (object ORG/PERIOD) against the closures table:
 * each month of the period has its row, with the entry's time, actor,
 * certificate and comment digest.
 */
static void v_closure_entry(size_t i, const struct v_entry *e, struct v_bundle *vb, FILE *out,
                            long *problems)
{
	char object[200], digest[80], action[64], actor[400], fp[80], month[PERIOD_TEXT_MAX],
	    org[200];
	const char *slash;
	struct errbuf eb = {{0}};
	struct period p;
	int64_t at = entry_time(e);
	int closed;

	entry_field(e, "object", object, sizeof(object));
	entry_field(e, "digest", digest, sizeof(digest));
	entry_field(e, "action", action, sizeof(action));
	entry_field(e, "actor", actor, sizeof(actor));
	entry_field(e, "fingerprint", fp, sizeof(fp));
	closed = strcmp(action, "close") == 0;
	if ((slash = strchr(object, '/')) == NULL || period_parse(slash + 1, &p, &eb) != YB_OK) {
		fprintf(out, _("entry %zu: %s of an unknown period '%s'\n"), i, action, object);
		(*problems)++;
		return;
	}
	snprintf(org, sizeof(org), "%.*s", (int)(slash - object), object);
	for (int m = p.first; m <= p.last; m++) {
		size_t k;
		int found = 0;
		for (k = closures_of(vb, org, m);
		     !found && k < vb->n_closures && closure_key_cmp(&vb->closures[k], org, m) == 0;
		     k++) {
			struct v_closure *x = &vb->closures[k];
			if (!x->referenced && x->closed == closed && x->at_ms == at &&
			    strcmp(x->digest, digest) == 0 && same_actor(actor, x->subject) &&
			    strcmp(x->fingerprint, fp) == 0)
				x->referenced = found = 1;
		}
		if (!found) {
			period_format_month(m, month, sizeof(month));
			fprintf(
			    out,
			    _("entry %zu: the %s of %s is missing from the store for %s, or its "
			      "comment, time or author was changed\n"),
			    i, action, object, month);
			(*problems)++;
		}
	}
}

/*
 * Whether a row made at at_ms may belong to the part of the log an
 * incremental bundle starts after: the export sends rows from the time of
 * its first checkpoint on (those of the same millisecond, and revisions
 * whose state a newer review changed, come along), and their entries were
 * verified before. A row that no entry in the bundle names is then not a
 * problem.
 */
static int v_before_start(const struct v_bundle *vb, int64_t at_ms)
{
	return vb->incremental && at_ms <= vb->since.cp.at_ms;
}

/* Each revision's state must be the one its reviews, in order, lead to. */
static void v_states(struct v_bundle *vb, FILE *out, long *problems)
{
	for (size_t k = 0; k < vb->n_revs; k++) {
		const struct v_revision *r = &vb->revs[k];
		const char *want = "submitted";
		/* Its reviews in the order made: the last decides. */
		for (size_t j = reviews_of(vb, r->org, r->period, r->revision);
		     j < vb->n_reviews &&
		     key_cmp(vb->reviews[j].org, vb->reviews[j].period, vb->reviews[j].revision,
		             r->org, r->period, r->revision) == 0;
		     j++) {
			const struct v_review *x = &vb->reviews[j];
			want = strcmp(x->action, "accept") == 0   ? "accepted"
			       : strcmp(x->action, "reject") == 0 ? "rejected"
			                                          : "submitted";
		}
		if (strcmp(r->state, want) != 0) {
			fprintf(
			    out,
			    _("revision %u of %s for %s is stored as %s, but its reviews make it "
			      "%s\n"),
			    r->revision, r->org, r->period, r->state, want);
			(*problems)++;
		}
	}
	for (size_t j = 0; j < vb->n_reviews; j++)
		if (!vb->reviews[j].referenced && !v_before_start(vb, vb->reviews[j].at_ms)) {
			fprintf(out,
			        _("the %s review of %s for %s (revision %u) has no audit entry\n"),
			        vb->reviews[j].action, vb->reviews[j].org, vb->reviews[j].period,
			        vb->reviews[j].revision);
			(*problems)++;
		}
}

/*
 * After a verify that found nothing: the checkpoint the bundle ends with and
 * the tree's edge there, as DIR/verified-checkpoint for the next one.
 */
static void v_save(const char *dir, const struct v_bundle *vb, const struct merkle_frontier *edge,
                   const uint8_t *cert, size_t cert_len, FILE *out)
{
	struct checkpoint_trusted t = {.edge = *edge, .has_edge = true};
	struct errbuf eb = {{0}};
	char path[PATH_MAX + 64];
	size_t k;

	for (k = 0; k < vb->n_cps && vb->cps[k].size != edge->size; k++)
		;
	if (k == vb->n_cps) {
		fprintf(out,
		        _("note: the bundle has no checkpoint of its %llu entries: no "
		          "verified-checkpoint was written\n"),
		        (unsigned long long)edge->size);
		return;
	}
	t.cp = vb->cps[k];
	t.cert = (uint8_t *)cert;
	t.cert_len = cert_len;
	snprintf(path, sizeof(path), "%s/verified-checkpoint", dir);
	if (checkpoint_trusted_save(path, &t, &eb) != YB_OK)
		fprintf(out, _("note: %s\n"), eb.msg);
	else
		fprintf(out,
		        _("wrote %s (%llu entries): next time, export only what is new with "
		          "'yuebao audit export NEW --since %s' and verify it with "
		          "'yuebao audit verify NEW --trusted %s'\n"),
		        path, (unsigned long long)edge->size, path, path);
}

enum auditcmd_verdict auditcmd_verify(const char *dir, const char *ca_path,
                                      const char *trusted_path, FILE *out, bool quiet, long *count)
{
	struct checkpoint_trusted trusted = {0};
	struct merkle_frontier edge = {0};
	struct v_sign_chunk chunk = {0};
	struct v_bundle vb = {0};
	struct progress *bar = NULL;
	struct pki_verifier *v = NULL;
	struct errbuf eb = {{0}};
	char path[PATH_MAX + 64], own[65], theirs[65];
	uint8_t *cert = NULL;
	size_t cert_len = 0;
	long problems = 0;
	enum auditcmd_verdict verdict = AUDITCMD_UNREADABLE;

	*count = 0;
	if (auditcmd_ca_fingerprint(ca_path, own) != 0)
		return AUDITCMD_UNREADABLE;
	if (pki_verifier_new(ca_path, NULL, &v, &eb) != YB_OK) {
		fprintf(out, _("cannot use the CA certificate: %s\n"), eb.msg);
		return AUDITCMD_UNREADABLE;
	}
	/* The bundle's CA only names the deployment it came from; it is never trusted. */
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	if (auditcmd_ca_fingerprint(path, theirs) != 0)
		goto done;
	if (strcmp(own, theirs) != 0) {
		fprintf(stderr,
		        _("yuebao audit: refused: the bundle was made under another CA (SHA-256 "
		          "%s), not yours (%s, SHA-256 %s): it comes from another deployment, or "
		          "--ca names the wrong file. Nothing was verified.\n"),
		        theirs, ca_path, own);
		verdict = AUDITCMD_OTHER_CA;
		goto done;
	}
	fprintf(out, _("CA certificate SHA-256 %s (%s)\n"), own, ca_path);
	snprintf(path, sizeof(path), "%s/log.crt", dir);
	if (pki_read_cert_der(path, &cert, &cert_len, &eb) != YB_OK) {
		fprintf(out, _("cannot read the bundle's log certificate: %s\n"), eb.msg);
		goto done;
	}
	{
		struct pki_principal log_key;
		if (pki_describe_cert(cert, cert_len, &log_key) == YB_OK)
			fprintf(out, _("log key SHA-256 %s (certificate %s)\n"),
			        log_key.key_fingerprint, log_key.subject);
	}
	if (v_load(dir, &vb, out, &problems) != 0) {
		fprintf(out, _("%s is not an audit bundle (see `yuebao audit export`)\n"), dir);
		goto done;
	}
	if (trusted_path != NULL && checkpoint_trusted_load(trusted_path, &trusted, &eb) != YB_OK) {
		fprintf(out, "%s\n", eb.msg);
		goto done;
	}
	if (trusted_path != NULL && !trusted.has_edge) {
		fprintf(out,
		        _("%s holds a checkpoint without the tree's edge (a witness's state): give "
		          "--trusted the verified-checkpoint an earlier verify wrote\n"),
		        trusted_path);
		goto done;
	}
	if (vb.incremental && trusted_path == NULL) {
		fprintf(
		    out,
		    _("the bundle holds only the entries after the first %llu (audit export "
		      "--since): give --trusted the verified-checkpoint it was exported from\n"),
		    (unsigned long long)vb.first);
		goto done;
	}
	if (trusted_path != NULL) {
		if (checkpoint_verify(&trusted.cp, v, trusted.cert, trusted.cert_len, &eb) !=
		    YB_OK) {
			fprintf(out,
			        _("the checkpoint in %s does not verify against your CA: %s\n"),
			        trusted_path, eb.msg);
			goto done;
		}
		if (vb.incremental && v_consistent(&vb, &trusted, out, &problems) != 0)
			goto done;
		if (vb.incremental)
			edge = trusted.edge;
		fprintf(out, _("trusted: %s verified before (%llu entries)\n"), trusted_path,
		        (unsigned long long)trusted.cp.size);
	}
	verdict = AUDITCMD_CHECKED;
	v_index(&vb);
	v_parallel(vb.n_entries, v_threads(), v_leaf_one, &vb);
	v_tree(&vb, trusted_path != NULL ? &trusted : NULL, v, cert, cert_len, &edge, out,
	       &problems);
	if ((chunk.out = calloc(VERIFY_CHUNK, sizeof(*chunk.out))) == NULL) {
		fprintf(out, _("out of memory\n"));
		verdict = AUDITCMD_UNREADABLE;
		goto done;
	}
	chunk.dir = dir;
	chunk.v = v;
	bar = progress_new(_("audit verify: entries"), vb.n_entries, quiet);
	for (size_t i = 0; i < vb.n_entries; i++) {
		char action[64], *said = NULL;
		size_t said_len = 0, at = (size_t)(vb.first + i);
		struct v_signed *sig = &chunk.out[i % VERIFY_CHUNK];

		/* The signed requests of the next VERIFY_CHUNK entries, on every core. */
		if (i % VERIFY_CHUNK == 0) {
			for (size_t k = 0; k < VERIFY_CHUNK; k++)
				v_signed_clear(&chunk.out[k]);
			chunk.entries = &vb.entries[i];
			v_parallel(vb.n_entries - i < VERIFY_CHUNK ? vb.n_entries - i
			                                           : VERIFY_CHUNK,
			           v_threads(), v_sign_one, &chunk);
		}
		/*
		 * With a progress line, an entry's problems are gathered first and
		 * printed after erasing it: out may be the same terminal.
		 */
		FILE *o = bar != NULL ? open_memstream(&said, &said_len) : NULL;

		if (o == NULL)
			o = out;
		progress_update(bar, i);
		entry_field(&vb.entries[i], "action", action, sizeof(action));
		if (strcmp(action, "submit") == 0)
			v_submit(at, &vb.entries[i], sig, &vb, o, &problems);
		else if (strncmp(action, "review:", 7) == 0)
			v_review_entry(at, &vb.entries[i], &vb, o, &problems);
		else if (vb.has_closures &&
		         (strcmp(action, "close") == 0 || strcmp(action, "reopen") == 0))
			v_closure_entry(at, &vb.entries[i], &vb, o, &problems);
		if (o != out) {
			fclose(o);
			if (said_len > 0) {
				progress_clear(bar);
				fwrite(said, 1, said_len, out);
				fflush(out);
			}
			free(said);
		}
	}
	progress_free(bar);
	for (size_t k = 0; k < VERIFY_CHUNK; k++)
		v_signed_clear(&chunk.out[k]);
	v_times(&vb, out, &problems);
	v_states(&vb, out, &problems);
	for (size_t k = 0; k < vb.n_closures; k++)
		if (!vb.closures[k].referenced && !v_before_start(&vb, vb.closures[k].at_ms)) {
			char month[PERIOD_TEXT_MAX], at[TZ_TEXT_MAX];
			period_format_month(vb.closures[k].month, month, sizeof(month));
			fprintf(
			    out,
			    vb.closures[k].closed
			        ? _("the closing of %s for %s at %s has no audit entry: it was "
			            "added behind the log's back, or its entry removed\n")
			        : _("the reopening of %s for %s at %s has no audit entry: it was "
			            "added behind the log's back, or its entry removed\n"),
			    vb.closures[k].org, month, when(vb.closures[k].at_ms, at));
			problems++;
		}
	/* What an older bundle or log could not show is said, not passed over. */
	if (vb.not_detailed > 0)
		fprintf(out,
		        _("note: %zu revisions and reviews were exported without their times, "
		          "reasons and authors (an earlier release): those were not checked\n"),
		        vb.not_detailed);
	if (!vb.has_closures)
		fprintf(out, _("note: the bundle has no closures.tsv (an earlier release): closes "
		               "and reopens were not checked\n"));
	if (vb.no_due > 0)
		fprintf(out,
		        _("note: %zu submissions were logged without their deadline (an earlier "
		          "release): their on-time flag could not be checked\n"),
		        vb.no_due);
	for (size_t k = 0; k < vb.n_revs; k++)
		if (!vb.revs[k].referenced && !v_before_start(&vb, vb.revs[k].received_at_ms)) {
			fprintf(
			    out,
			    _("revision %u of %s for %s has no audit entry: it was added behind "
			      "the log's back, or its entry removed\n"),
			    vb.revs[k].revision, vb.revs[k].org, vb.revs[k].period);
			problems++;
		}
	if (problems == 0 && vb.incremental)
		fprintf(out,
		        _("verified the %zu entries after the first %llu, %zu checkpoints, %zu "
		          "revisions with their signed requests, %zu reviews and %zu closures, and "
		          "that the log extends the one you trusted: nothing was altered or "
		          "back-dated\n"),
		        vb.n_entries, (unsigned long long)vb.first, vb.n_cps, vb.n_revs,
		        vb.n_reviews, vb.n_closures);
	else if (problems == 0)
		fprintf(out,
		        _("verified %zu entries, %zu checkpoints, %zu revisions with their signed "
		          "requests, %zu reviews and %zu closures: nothing was altered or "
		          "back-dated\n"),
		        vb.n_entries, vb.n_cps, vb.n_revs, vb.n_reviews, vb.n_closures);
	if (problems == 0)
		v_save(dir, &vb, &edge, cert, cert_len, out);
	*count = problems;
done:
	checkpoint_trusted_free(&trusted);
	free(chunk.out);
	v_free(&vb);
	free(cert);
	pki_verifier_free(v);
	return verdict;
}

void auditcmd_print_explain(FILE *out, const Yuebao__V1__ConsolidateReply *r, const char *code,
                            int csv)
{
	const Yuebao__V1__Figure *fig = NULL;

	if (csv) {
		fputs("org,period,revision,code,value,log_index\n", out);
		for (size_t i = 0; i < r->n_contributions; i++) {
			const Yuebao__V1__Contribution *k = r->contributions[i];
			fprintf(out, "%s,%s,%u,%s,%s,", k->org, k->period, k->revision, k->code,
			        k->value);
			if (k->has_log_index)
				fprintf(out, "%llu", (unsigned long long)k->log_index);
			fputc('\n', out);
		}
		return;
	}
	for (size_t i = 0; r->n_groups > 0 && i < r->groups[0]->n_figures; i++)
		if (strcmp(r->groups[0]->figures[i]->code, code) == 0)
			fig = r->groups[0]->figures[i];
	fprintf(out, _("%s for %s (%s), %s: %s %s, from %zu value(s) of signed returns:\n"), code,
	        r->org_name, r->org, r->period, fig && fig->value[0] ? fig->value : "-",
	        fig ? fig->unit : "", r->n_contributions);
	for (size_t i = 0; i < r->n_contributions; i++) {
		const Yuebao__V1__Contribution *k = r->contributions[i];
		char idx[32] = "-";
		if (k->has_log_index)
			snprintf(idx, sizeof(idx), "%llu", (unsigned long long)k->log_index);
		fprintf(out, "  %-10s %s r%-3u %-28s %12s  %s %s\n", k->org, k->period, k->revision,
		        k->code, k->value, _("audit entry"), idx);
	}
}
