/*
 * checkpoint.c - the text a checkpoint signature covers, signing, checking.
 */
#include "checkpoint.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

	/* The checkpoint's own time: a server certificate renewed later still verifies it. */
	return pki_verify_signed(v, cert_der, cert_len, (const uint8_t *)text, n, c->sig,
	                         c->sig_len, (time_t)(c->at_ms / 1000), eb);
}
