/*
 * pki.h - identities, request signatures and certificate checks (OpenSSL).
 *
 * nng 1.5 does not tell the server which certificate a TLS peer presented,
 * so each request carries the caller's certificate and an ECDSA P-256 /
 * SHA-256 signature. The client signs with a pki_identity; the server checks
 * the certificate against the deployment CA (chain, CRL, dates) and the
 * signature with a pki_verifier, and names the caller by its subject
 * O=<deployment>, OU=<role>, CN=<org unit code>.
 */
#ifndef YB_PKI_H
#define YB_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "status.h"

/* Caps on what the server accepts from a peer. */
#define PKI_MAX_CERT_DER 8192
#define PKI_MAX_SIGNATURE 256

struct pki_identity;
struct pki_verifier;

/*
 * The OU of the log certificate: its key signs the audit log's checkpoints
 * and nothing else. It is no caller's role: pki_verify_caller refuses it.
 */
#define PKI_LOG_ROLE "log"

/* For pki_verify_cert and pki_verify_signed: whether the chain holds, whatever the dates. */
#define PKI_ANY_TIME ((time_t)0)

/* What a certificate's OU lets its holder do (SPEC §4). */
enum pki_role { PKI_ROLE_BRANCH, PKI_ROLE_CENTRAL, PKI_ROLE_AUDITOR, PKI_ROLE_ADMIN };

/* Who a verified caller is. */
struct pki_principal {
	char subject[256];    /* "O=yuebao-demo, OU=branch, CN=ZFW-JG" */
	char deployment[65];  /* O */
	char role[16];        /* OU as written: branch | central | auditor | admin */
	enum pki_role kind;   /* role, parsed: set only by pki_verify_* (a verified caller) */
	char org[65];         /* CN: the org unit code */
	char fingerprint[65]; /* hex SHA-256 of the certificate DER */
	/* hex SHA-256 of its public key (SubjectPublicKeyInfo DER): names a key
	 * across the certificates issued for it, as the log key is named */
	char key_fingerprint[65];
};

/*
 * Loads a PEM certificate and its private key (a P-256 EC key) and checks
 * they belong together. key_path is a PEM file, or a URI (keyuri.h) such as
 * "pkcs11:token=...;object=..." for a key on a token. YB_EIO if a file cannot
 * be read, YB_INVALID_ARGUMENT (eb names the file) if it is not PEM, not
 * P-256, or the key does not match; a URI's failures as keyuri_load's.
 * The caller owns *out (pki_identity_free).
 */
int pki_identity_load(const char *cert_path, const char *key_path, struct pki_identity **out,
                      struct errbuf *eb);

/* Frees id (and wipes the key); NULL is allowed. */
void pki_identity_free(struct pki_identity *id);

/* The identity's certificate in DER (owned by id). */
const uint8_t *pki_identity_cert(const struct pki_identity *id, size_t *len);

/*
 * Signs data (ECDSA over SHA-256, DER signature). The caller frees *sig with
 * free(). YB_ECRYPTO with the OpenSSL reason on failure.
 */
int pki_sign(const struct pki_identity *id, const uint8_t *data, size_t len, uint8_t **sig,
             size_t *sig_len, struct errbuf *eb);

/*
 * Loads the deployment CA (PEM, one or more certificates) and, when crl_path
 * is not NULL, its CRL; certificates are then checked against the CRL too.
 * The deployment name is the CA subject's O. The caller owns *out.
 * A verifier is safe to use from many threads at once.
 */
int pki_verifier_new(const char *ca_path, const char *crl_path, struct pki_verifier **out,
                     struct errbuf *eb);

/* Frees v; NULL is allowed. */
void pki_verifier_free(struct pki_verifier *v);

/*
 * When v stops being usable: *ca_not_after, the end of validity of the
 * earliest-ending certificate in the CA file; *crl_next_update, the CRL's
 * next update, 0 without a CRL or when the CRL names no next update.
 * Unix times.
 */
void pki_verifier_dates(const struct pki_verifier *v, time_t *ca_not_after,
                        time_t *crl_next_update);

/*
 * The end of validity (notAfter, Unix time) of the PEM certificate in path.
 * YB_EIO if the file cannot be read, YB_INVALID_ARGUMENT (eb names the file)
 * if it holds no PEM certificate.
 */
int pki_cert_not_after(const char *path, time_t *out, struct errbuf *eb);

/*
 * Checks a caller: cert_der parses, chains to the CA, is valid at `now`, is
 * not on the CRL, its subject has O equal to the CA's O, an OU that is a
 * known role and a CN that is an org unit code ([A-Z0-9-]{2,32}); and sig is
 * its key's signature over data. Returns YB_OK and fills *out, or
 * YB_UNAUTHENTICATED with eb saying which check failed ("certificate
 * revoked", "certificate expired", "signature does not verify", ...).
 */
int pki_verify_caller(const struct pki_verifier *v, const uint8_t *cert_der, size_t cert_len,
                      const uint8_t *data, size_t len, const uint8_t *sig, size_t sig_len,
                      time_t now, struct pki_principal *out, struct errbuf *eb);

/*
 * Checks that sig is a signature over data by the key of cert_der, a
 * certificate of this deployment's CA valid at `at` (at any time for
 * PKI_ANY_TIME), of any role and purpose (the caller checks the role it wants in *signer:
 * checkpoints want PKI_LOG_ROLE). YB_OK with *signer (when not NULL) naming the certificate, or
 * YB_UNAUTHENTICATED with eb saying which check failed.
 */
int pki_verify_signed(const struct pki_verifier *v, const uint8_t *cert_der, size_t cert_len,
                      const uint8_t *data, size_t len, const uint8_t *sig, size_t sig_len,
                      time_t at, struct pki_principal *signer, struct errbuf *eb);

/*
 * Checks only that cert_der chains to the verifier's CA and is valid at
 * `at` (at any time for PKI_ANY_TIME). YB_OK, or YB_UNAUTHENTICATED with eb
 * saying why ("certificate not issued by this deployment's CA", ...).
 */
int pki_verify_cert(const struct pki_verifier *v, const uint8_t *cert_der, size_t cert_len,
                    time_t at, struct errbuf *eb);

/*
 * Reads what a certificate claims (subject, O, OU, CN) and its fingerprint,
 * trusting nothing: for naming a caller whose certificate was refused.
 * YB_OK, or YB_INVALID_ARGUMENT when cert_der is not one DER certificate of
 * at most PKI_MAX_CERT_DER bytes.
 */
int pki_describe_cert(const uint8_t *cert_der, size_t cert_len, struct pki_principal *out);

/* Reads a PEM certificate file as DER (caller frees *der). YB_EIO / YB_INVALID_ARGUMENT. */
int pki_read_cert_der(const char *path, uint8_t **der, size_t *len, struct errbuf *eb);

/* True when code has the form of an org unit code: [A-Z0-9-]{2,32}. */
bool pki_valid_org_code(const char *code);

/* Fills buf with len cryptographically random bytes; YB_ECRYPTO on failure. */
int pki_random(void *buf, size_t len);

/*
 * Whether the private key file at path is kept private: YB_OK when none of
 * the permission bits in `forbidden` is set (077: neither group nor others
 * may read or write it; 007: others may not), YB_PERMISSION_DENIED with what
 * to do (chmod 600) in eb when one is, YB_EIO when it cannot be examined.
 * Loading the key is pki_identity_load's business.
 */
int pki_check_key_mode(const char *path, unsigned forbidden, struct errbuf *eb);

#endif
