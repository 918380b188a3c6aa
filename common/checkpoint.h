/*
 * checkpoint.h - signed checkpoints of the audit log, like Certificate
 * Transparency's signed tree heads.
 *
 * A checkpoint says: at time at_ms the audit log had `size` entries whose
 * Merkle root (RFC 6962) is `root`. The daemon signs the text
 *   "yuebao-checkpoint-v1\n" size "\n" hex(root) "\n" at_ms "\n"
 * with the key of its server certificate (ECDSA P-256, SHA-256). Anyone
 * holding the deployment's CA certificate and the server certificate can
 * check a checkpoint offline; two checkpoints of the same log are tied by a
 * consistency proof (merkle.h).
 */
#ifndef YB_CHECKPOINT_H
#define YB_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "merkle.h"
#include "pki.h"
#include "status.h"

struct checkpoint {
	uint64_t size;
	uint8_t root[MERKLE_HASH_LEN];
	int64_t at_ms;
	uint8_t sig[PKI_MAX_SIGNATURE];
	size_t sig_len;
};

/* Longest text checkpoint_text writes, with its NUL. */
#define CHECKPOINT_TEXT_MAX 160

/* The signed text of c into buf (CHECKPOINT_TEXT_MAX bytes); returns its length. */
size_t checkpoint_text(const struct checkpoint *c, char buf[CHECKPOINT_TEXT_MAX]);

/* Signs c with id (the daemon's own identity). YB_ECRYPTO on failure. */
int checkpoint_sign(struct checkpoint *c, const struct pki_identity *id, struct errbuf *eb);

/*
 * Checks c's signature against the server certificate cert_der, which must
 * chain to the verifier's CA. YB_OK or YB_UNAUTHENTICATED (eb says why).
 */
int checkpoint_verify(const struct checkpoint *c, const struct pki_verifier *v,
                      const uint8_t *cert_der, size_t cert_len, struct errbuf *eb);

#endif
