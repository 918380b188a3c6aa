/*
 * checkpoint.c - the text a checkpoint signature covers, signing, checking.
 */
#include "checkpoint.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "i18n.h"

size_t checkpoint_text(const struct checkpoint *c, char buf[CHECKPOINT_TEXT_MAX])
{
	char hex[MERKLE_HEX_LEN + 1];
	int n;

	merkle_hex(c->root, hex);
	n = snprintf(buf, CHECKPOINT_TEXT_MAX,
	             "yuebao-checkpoint-v1\n%" PRIu64 "\n%s\n%" PRId64 "\n", c->size, hex,
	             c->at_ms);
	return n < 0 ? 0 : (size_t)n;
}

int checkpoint_sign(struct checkpoint *c, const struct pki_identity *id, struct errbuf *eb)
{
	char text[CHECKPOINT_TEXT_MAX];
	size_t n = checkpoint_text(c, text), sig_len = 0;
	uint8_t *sig = NULL;
	int rc = pki_sign(id, (const uint8_t *)text, n, &sig, &sig_len, eb);

	if (rc != YB_OK)
		return rc;
	if (sig_len > sizeof(c->sig)) {
		free(sig);
		return status_fail(eb, YB_ECRYPTO,
		                   _("checkpoint signature of %zu bytes is too long"), sig_len);
	}
	memcpy(c->sig, sig, sig_len);
	c->sig_len = sig_len;
	free(sig);
	return YB_OK;
}

int checkpoint_verify(const struct checkpoint *c, const struct pki_verifier *v,
                      const uint8_t *cert_der, size_t cert_len, struct errbuf *eb)
{
	char text[CHECKPOINT_TEXT_MAX];
	size_t n = checkpoint_text(c, text);
	struct pki_principal who;
	int rc;

	/* At the checkpoint's own time: a certificate that ran out later still verifies it. */
	if ((rc = pki_verify_signed(v, cert_der, cert_len, (const uint8_t *)text, n, c->sig,
	                            c->sig_len, (time_t)(c->at_ms / 1000), &who, eb)) != YB_OK)
		return rc;
	/*
	 * Only the log key signs checkpoints: one signed by a key that also
	 * serves TLS (or a client's) proves nothing an operator of that host
	 * could not forge.
	 */
	if (strcmp(who.role, PKI_LOG_ROLE) != 0)
		return status_fail(eb, YB_UNAUTHENTICATED,
		                   _("signed by a %s certificate (%s), not by the log key: only a "
		                     "certificate of role log signs checkpoints"),
		                   who.role[0] ? who.role : "?", who.subject);
	return YB_OK;
}

/* What a witness signs: a prefix of its own, so no checkpoint signature is one. */
static size_t cosign_text(const struct checkpoint *c, char buf[CHECKPOINT_TEXT_MAX + 32])
{
	char head[CHECKPOINT_TEXT_MAX];
	size_t n = checkpoint_text(c, head);

	return (size_t)snprintf(buf, CHECKPOINT_TEXT_MAX + 32, "yuebao-cosignature-v1\n%.*s",
	                        (int)n, head);
}

int checkpoint_cosign(const struct checkpoint *c, const struct pki_identity *id, uint8_t **sig,
                      size_t *sig_len, struct errbuf *eb)
{
	char text[CHECKPOINT_TEXT_MAX + 32];
	size_t n = cosign_text(c, text);

	return pki_sign(id, (const uint8_t *)text, n, sig, sig_len, eb);
}

int checkpoint_cosign_verify(const struct checkpoint *c, const struct pki_verifier *v,
                             const uint8_t *cert_der, size_t cert_len, const uint8_t *sig,
                             size_t sig_len, time_t at, struct pki_principal *witness,
                             struct errbuf *eb)
{
	char text[CHECKPOINT_TEXT_MAX + 32];
	size_t n = cosign_text(c, text);
	int rc;

	if ((rc = pki_verify_signed(v, cert_der, cert_len, (const uint8_t *)text, n, sig, sig_len,
	                            at, witness, eb)) != YB_OK)
		return rc;
	if (strcmp(witness->role, "auditor") != 0 && strcmp(witness->role, "central") != 0)
		return status_fail(eb, YB_UNAUTHENTICATED,
		                   _("cosigned by a %s certificate (%s): only auditors and the "
		                     "central office witness the log"),
		                   witness->role[0] ? witness->role : "?", witness->subject);
	return YB_OK;
}

static void put_hex(FILE *f, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fprintf(f, "%02x", data[i]);
}

int checkpoint_trusted_save(const char *path, const struct checkpoint_trusted *t, struct errbuf *eb)
{
	char tmp[4096];
	FILE *f;
	int failed, fd;

	assert(!t->has_edge || t->edge.size == t->cp.size);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return status_fail(eb, YB_EIO, _("path too long: %s"), path);
	/*
	 * A fresh file, never one a link in the folder (a bundle someone else
	 * wrote) points to: a stale one goes first, and no link is followed.
	 */
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0 ||
	    (f = fdopen(fd, "w")) == NULL) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return status_fail(eb, YB_EIO, _("cannot write %s: %s"), tmp, strerror(e));
	}
	fprintf(f, "yuebao-verified-checkpoint-v1\nsize %" PRIu64 "\nroot ", t->cp.size);
	put_hex(f, t->cp.root, MERKLE_HASH_LEN);
	fprintf(f, "\ntime %" PRId64 "\nsignature ", t->cp.at_ms);
	put_hex(f, t->cp.sig, t->cp.sig_len);
	fputs("\nlog-certificate ", f);
	put_hex(f, t->cert, t->cert_len);
	fputc('\n', f);
	for (int l = 0; l < 64; l++)
		if (t->has_edge && (t->edge.size & ((uint64_t)1 << l))) {
			fprintf(f, "edge %d ", l);
			put_hex(f, t->edge.edge[l], MERKLE_HASH_LEN);
			fputc('\n', f);
		}
	failed = ferror(f);
	failed |= fflush(f) != 0 || fsync(fileno(f)) != 0;
	failed |= fclose(f) != 0;
	if (failed || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return status_fail(eb, YB_EIO, _("cannot write %s: %s"), path, strerror(e));
	}
	return YB_OK;
}

int checkpoint_trusted_parse(const char *input, size_t len, const char *name,
                             struct checkpoint_trusted *t, struct errbuf *eb)
{
	char *text, *line, *save = NULL;
	uint8_t root[MERKLE_HASH_LEN];
	unsigned seen = 0; /* a bit for each of the six named lines */
	size_t n;
	int rc = YB_INVALID_ARGUMENT;

	memset(t, 0, sizeof(*t));
	if (len > CHECKPOINT_TRUSTED_MAX || memchr(input, '\0', len) != NULL)
		return status_fail(eb, rc,
		                   _("%s is not a verified checkpoint: longer than %d bytes, or "
		                     "not text"),
		                   name, CHECKPOINT_TRUSTED_MAX);
	if ((text = malloc(len + 1)) == NULL)
		return status_fail(eb, YB_ENOMEM, _("out of memory"));
	memcpy(text, input, len);
	text[len] = '\0';
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		const char *v = sp != NULL ? sp + 1 : "";
		int level;
		if (sp != NULL)
			*sp = '\0';
		if (strcmp(line, "yuebao-verified-checkpoint-v1") == 0 && sp == NULL)
			seen |= 1;
		else if (strcmp(line, "size") == 0 && sscanf(v, "%" SCNu64, &t->cp.size) == 1)
			seen |= 2;
		else if (strcmp(line, "root") == 0 &&
		         hash_unhex(v, t->cp.root, MERKLE_HASH_LEN, &n) == 0 &&
		         n == MERKLE_HASH_LEN)
			seen |= 4;
		else if (strcmp(line, "time") == 0 && sscanf(v, "%" SCNd64, &t->cp.at_ms) == 1)
			seen |= 8;
		else if (strcmp(line, "signature") == 0 &&
		         hash_unhex(v, t->cp.sig, sizeof(t->cp.sig), &t->cp.sig_len) == 0)
			seen |= 16;
		else if (strcmp(line, "log-certificate") == 0 && t->cert == NULL &&
		         (t->cert = malloc(strlen(v) / 2 + 1)) != NULL &&
		         hash_unhex(v, t->cert, strlen(v) / 2, &t->cert_len) == 0 &&
		         t->cert_len > 0)
			seen |= 32;
		else if (strcmp(line, "edge") == 0 && sscanf(v, "%d", &level) == 1 && level >= 0 &&
		         level < 64 && strchr(v, ' ') != NULL &&
		         hash_unhex(strchr(v, ' ') + 1, t->edge.edge[level], MERKLE_HASH_LEN, &n) ==
		             0 &&
		         n == MERKLE_HASH_LEN)
			t->edge.size |= (uint64_t)1 << level;
		else {
			status_fail(eb, rc,
			            _("%s is not a verified checkpoint: line '%.40s' is unknown"),
			            name, line);
			goto done;
		}
	}
	if (seen != 63) {
		status_fail(eb, rc, _("%s is not a verified checkpoint: a line is missing"), name);
		goto done;
	}
	/* A witness's state has none: it knows the signed head, not the leaves. */
	t->has_edge = t->edge.size != 0 || t->cp.size == 0;
	/* The edge must be the tree of the signed root, or resuming from it proves nothing. */
	if (t->has_edge &&
	    (t->edge.size != t->cp.size || merkle_frontier_root(&t->edge, root) != YB_OK ||
	     memcmp(root, t->cp.root, MERKLE_HASH_LEN) != 0)) {
		status_fail(
		    eb, rc,
		    _("%s is damaged: its tree edge does not give its root (size %" PRIu64 ")"),
		    name, t->cp.size);
		goto done;
	}
	rc = YB_OK;
done:
	free(text);
	return rc;
}

int checkpoint_trusted_load(const char *path, struct checkpoint_trusted *t, struct errbuf *eb)
{
	char *text;
	size_t got;
	FILE *f;
	int rc;

	memset(t, 0, sizeof(*t));
	if ((f = fopen(path, "r")) == NULL)
		return status_fail(eb, YB_EIO, _("cannot read %s: %s"), path, strerror(errno));
	if ((text = malloc(CHECKPOINT_TRUSTED_MAX + 1)) == NULL) {
		fclose(f);
		return status_fail(eb, YB_ENOMEM, _("out of memory"));
	}
	got = fread(text, 1, CHECKPOINT_TRUSTED_MAX + 1, f);
	fclose(f);
	rc = checkpoint_trusted_parse(text, got, path, t, eb);
	free(text);
	return rc;
}

void checkpoint_trusted_free(struct checkpoint_trusted *t)
{
	if (t == NULL)
		return;
	free(t->cert);
	t->cert = NULL;
	t->cert_len = 0;
}
