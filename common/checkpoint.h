/*
 * checkpoint.h - signed checkpoints of the audit log, like Certificate
 * Transparency's signed tree heads.
 *
 * A checkpoint says: at time at_ms the audit log had `size` entries whose
 * Merkle root (RFC 6962) is `root`. The daemon signs the text
 *   "yuebao-checkpoint-v1\n" size "\n" hex(root) "\n" at_ms "\n"
 * with its log key (ECDSA P-256, SHA-256), whose certificate (OU=log) the
 * deployment's CA issued for that use alone: not the TLS key, so that the
 * host serving TLS need not hold it (it may sit on a token). Anyone holding
 * the CA certificate and the log certificate can check a checkpoint
 * offline; two checkpoints of the same log are tied by a consistency proof
 * (merkle.h).
 */
#ifndef YB_CHECKPOINT_H
#define YB_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

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

/* Signs c with id (the daemon's log key). YB_ECRYPTO on failure. */
int checkpoint_sign(struct checkpoint *c, const struct pki_identity *id, struct errbuf *eb);

/*
 * Checks c's signature against the log certificate cert_der, which must
 * chain to the verifier's CA, be valid at c's time and have OU=log.
 * YB_OK or YB_UNAUTHENTICATED (eb says why).
 */
int checkpoint_verify(const struct checkpoint *c, const struct pki_verifier *v,
                      const uint8_t *cert_der, size_t cert_len, struct errbuf *eb);

/*
 * A witness's cosignature of c (yuebao audit witness): its own key's
 * signature over "yuebao-cosignature-v1\n" + checkpoint_text(c), saying it
 * saw c and that c extends every checkpoint it saw before. *sig is the
 * caller's (free). YB_ECRYPTO on failure.
 */
int checkpoint_cosign(const struct checkpoint *c, const struct pki_identity *id, uint8_t **sig,
                      size_t *sig_len, struct errbuf *eb);

/*
 * Checks a cosignature of c by the certificate cert_der: of this CA, valid
 * at `at` (an auditor checks at c's time, the witness cosigning right after
 * it; PKI_ANY_TIME for a caller already verified now), of role auditor or
 * central. YB_OK with *witness naming it, or YB_UNAUTHENTICATED (eb says why).
 */
int checkpoint_cosign_verify(const struct checkpoint *c, const struct pki_verifier *v,
                             const uint8_t *cert_der, size_t cert_len, const uint8_t *sig,
                             size_t sig_len, time_t at, struct pki_principal *witness,
                             struct errbuf *eb);

/*
 * What an auditor keeps between two verifications: the checkpoint it last
 * verified, the log certificate that signed it, and the tree's right
 * edge at its size, from which the next verify goes on with the new
 * entries alone. `yuebao audit verify DIR` writes it to
 * DIR/verified-checkpoint; `--trusted FILE` and `audit export --since FILE`
 * read it. A text file, language-free:
 *   yuebao-verified-checkpoint-v1
 *   size N
 *   root HEX
 *   time MS
 *   signature HEX
 *   log-certificate HEX (DER)
 *   edge LEVEL HEX           (one line for each set bit of N, lowest first;
 *                             none in a witness's state)
 */
struct checkpoint_trusted {
	struct checkpoint cp;
	uint8_t *cert; /* malloc'd DER; checkpoint_trusted_free frees it */
	size_t cert_len;
	struct merkle_frontier edge; /* edge.size == cp.size, when has_edge */
	/*
	 * False for a witness's state (`yuebao audit witness`), which holds no
	 * edge lines: it knows the signed head, not the leaves under it, so a
	 * verify cannot go on from it.
	 */
	bool has_edge;
};

/* Longest verified-checkpoint file read (a certificate and 64 edge lines fit). */
#define CHECKPOINT_TRUSTED_MAX (64 * 1024)

/*
 * Writes t to path atomically (a temporary file renamed over it), mode 0644:
 * nothing in it is secret. YB_EIO with eb naming the file on failure.
 */
int checkpoint_trusted_save(const char *path, const struct checkpoint_trusted *t,
                            struct errbuf *eb);

/*
 * Reads path into *t (zeroed first; free with checkpoint_trusted_free, also
 * on failure). Fails with YB_EIO when it cannot be read, YB_INVALID_ARGUMENT
 * when it is not such a file or its edge does not give its root (eb says
 * which). Its signature is not checked here: checkpoint_verify does that.
 */
int checkpoint_trusted_load(const char *path, struct checkpoint_trusted *t, struct errbuf *eb);

/*
 * The same from text[0..len) (at most CHECKPOINT_TRUSTED_MAX bytes; NULs
 * refuse it), whose messages call it `name`.
 */
int checkpoint_trusted_parse(const char *text, size_t len, const char *name,
                             struct checkpoint_trusted *t, struct errbuf *eb);

/* Frees what t holds (not t itself); t may be NULL. */
void checkpoint_trusted_free(struct checkpoint_trusted *t);

#endif
