/*
 * pki.c - request signing and caller verification with OpenSSL 3.0.
 */
#include "pki.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "hash.h"
#include "keyuri.h"
#include "i18n.h"

struct pki_identity {
	X509 *cert;
	EVP_PKEY *key;
	uint8_t *der;
	size_t der_len;
};

/*
 * Callers' certificates that passed every check, so that a caller's next
 * requests cost one signature check instead of parsing and chain, CRL and
 * subject checks. CACHE_WAYS-way set-associative by the certificate's
 * SHA-256, the least recently used entry of a set evicted first: with one
 * slot per hash (direct-mapped), two of 64 active callers already shared a
 * slot more often than not and evicted each other on every request, each
 * paying the full chain check again. An entry holds only while the time is
 * inside the certificate's validity and before the CRL's next update; a
 * new CRL comes with a new verifier (SIGHUP), and so with an empty cache.
 */
#define CACHE_SLOTS 1024
#define CACHE_WAYS 4

struct cached_cert {
	uint8_t digest[32];
	time_t valid_from, valid_until;
	uint64_t used; /* the verifier's use_tick when last found or put */
	EVP_PKEY *key; /* NULL: the slot is empty */
	struct pki_principal who;
	/*
	 * Passed every check of a caller (pki_verify_caller), not only its
	 * chain (pki_verify_signed): only such an entry serves a caller.
	 */
	bool caller;
};

struct pki_verifier {
	X509_STORE *store;
	char deployment[65];
	int check_crl;
	time_t ca_not_after;    /* the earliest notAfter in the CA file */
	time_t crl_next_update; /* 0 without a CRL or a next update */
	pthread_mutex_t cache_lock;
	struct cached_cert *cache; /* CACHE_SLOTS, CACHE_WAYS to a set */
	uint64_t use_tick;         /* under cache_lock */
};

/* The reason OpenSSL gave for the last failure, for messages. */
static const char *ssl_reason(void)
{
	unsigned long e = ERR_get_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	ERR_clear_error();
	return r ? r : _("unknown OpenSSL error");
}

static BIO *open_file(const char *path, const char *what, struct errbuf *eb)
{
	BIO *b = BIO_new_file(path, "r");
	if (b == NULL) {
		ERR_clear_error();
		status_fail(eb, YB_EIO, _("cannot read %s file '%s'"), what, path);
	}
	return b;
}

static int is_p256(EVP_PKEY *key)
{
	char group[64];
	size_t glen = 0;

	if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
		return 0;
	if (!EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group), &glen))
		return 0;
	return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

/* Copies the first entry of a subject field (by NID) as UTF-8, "" if absent. */
static void name_field(X509_NAME *name, int nid, char *out, size_t len)
{
	int idx = X509_NAME_get_index_by_NID(name, nid, -1);
	unsigned char *utf8 = NULL;
	int n;

	out[0] = '\0';
	if (idx < 0)
		return;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
	if (n < 0)
		return;
	snprintf(out, len, "%.*s", n, (const char *)utf8);
	OPENSSL_free(utf8);
}

bool pki_valid_org_code(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 32)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

/* The role an OU names: false for an OU that is no role. */
static bool parse_role(const char *r, enum pki_role *out)
{
	static const char *const names[] = {
	    [PKI_ROLE_BRANCH] = "branch",
	    [PKI_ROLE_CENTRAL] = "central",
	    [PKI_ROLE_AUDITOR] = "auditor",
	    [PKI_ROLE_ADMIN] = "admin",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(r, names[i]) == 0) {
			*out = (enum pki_role)i;
			return true;
		}
	return false;
}

static void fill_principal(X509 *cert, const uint8_t *der, size_t der_len, struct pki_principal *p)
{
	X509_NAME *name = X509_get_subject_name(cert);

	memset(p, 0, sizeof(*p));
	name_field(name, NID_organizationName, p->deployment, sizeof(p->deployment));
	name_field(name, NID_organizationalUnitName, p->role, sizeof(p->role));
	name_field(name, NID_commonName, p->org, sizeof(p->org));
	snprintf(p->subject, sizeof(p->subject), "O=%s, OU=%s, CN=%s", p->deployment, p->role,
	         p->org);
	hash_sha256_hex(der, der_len, p->fingerprint);
	{
		unsigned char *spki = NULL;
		int n = i2d_PUBKEY(X509_get0_pubkey(cert), &spki);
		if (n > 0)
			hash_sha256_hex(spki, (size_t)n, p->key_fingerprint);
		else
			ERR_clear_error();
		OPENSSL_free(spki);
	}
}

/* True when id's key makes signatures its certificate's public key verifies. */
static bool signs_for(const struct pki_identity *id)
{
	static const uint8_t probe[] = "yuebao: does this key belong to this certificate?";
	uint8_t sig[PKI_MAX_SIGNATURE];
	size_t n = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, id->key) == 1 &&
	          EVP_DigestSign(md, sig, &n, probe, sizeof(probe)) == 1;

	EVP_MD_CTX_free(md);
	md = ok ? EVP_MD_CTX_new() : NULL;
	ok = md != NULL &&
	     EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, X509_get0_pubkey(id->cert)) == 1 &&
	     EVP_DigestVerify(md, sig, n, probe, sizeof(probe)) == 1;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok;
}

int pki_identity_load(const char *cert_path, const char *key_path, struct pki_identity **out,
                      struct errbuf *eb)
{
	struct pki_identity *id = calloc(1, sizeof(*id));
	BIO *b = NULL;
	unsigned char *der = NULL;
	int rc = YB_OK;
	int n;

	if (id == NULL)
		return status_fail(eb, YB_ENOMEM, _("out of memory"));
	if ((b = open_file(cert_path, _("certificate"), eb)) == NULL) {
		rc = YB_EIO;
		goto fail;
	}
	id->cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (id->cert == NULL) {
		rc = status_fail(eb, YB_INVALID_ARGUMENT, _("'%s' is not a PEM certificate: %s"),
		                 cert_path, ssl_reason());
		goto fail;
	}
	if (keyuri_is_uri(key_path)) {
		/* A key on a token may show nothing but its handle: what it is and that it
		 * belongs to the certificate are proved by a signature the certificate verifies. */
		if ((rc = keyuri_load(key_path, &id->key, eb)) != YB_OK)
			goto fail;
		if (!is_p256(X509_get0_pubkey(id->cert))) {
			rc = status_fail(eb, YB_INVALID_ARGUMENT,
			                 _("certificate '%s' is not for an EC P-256 key"),
			                 cert_path);
			goto fail;
		}
		if (!signs_for(id)) {
			rc = status_fail(eb, YB_INVALID_ARGUMENT,
			                 _("the key at %.*s does not belong to certificate '%s'"),
			                 (int)strcspn(key_path, "?"), key_path, cert_path);
			goto fail;
		}
		goto encode;
	}
	if ((b = open_file(key_path, _("private key"), eb)) == NULL) {
		rc = YB_EIO;
		goto fail;
	}
	id->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (id->key == NULL) {
		rc = status_fail(eb, YB_INVALID_ARGUMENT, _("'%s' is not a PEM private key: %s"),
		                 key_path, ssl_reason());
		goto fail;
	}
	if (!is_p256(id->key)) {
		rc = status_fail(eb, YB_INVALID_ARGUMENT, _("'%s' is not an EC P-256 key"),
		                 key_path);
		goto fail;
	}
	if (X509_check_private_key(id->cert, id->key) != 1) {
		ERR_clear_error();
		rc = status_fail(eb, YB_INVALID_ARGUMENT,
		                 _("private key '%s' does not belong to certificate '%s'"),
		                 key_path, cert_path);
		goto fail;
	}
encode:
	n = i2d_X509(id->cert, &der);
	if (n <= 0) {
		rc = status_fail(eb, YB_ECRYPTO, _("cannot encode '%s': %s"), cert_path,
		                 ssl_reason());
		goto fail;
	}
	id->der = malloc((size_t)n);
	if (id->der == NULL) {
		OPENSSL_free(der);
		rc = status_fail(eb, YB_ENOMEM, _("out of memory"));
		goto fail;
	}
	memcpy(id->der, der, (size_t)n);
	id->der_len = (size_t)n;
	OPENSSL_free(der);
	*out = id;
	return YB_OK;
fail:
	pki_identity_free(id);
	return rc;
}

void pki_identity_free(struct pki_identity *id)
{
	if (id == NULL)
		return;
	X509_free(id->cert);
	EVP_PKEY_free(id->key); /* OpenSSL clears key material on free */
	free(id->der);
	free(id);
}

const uint8_t *pki_identity_cert(const struct pki_identity *id, size_t *len)
{
	*len = id->der_len;
	return id->der;
}

int pki_sign(const struct pki_identity *id, const uint8_t *data, size_t len, uint8_t **sig,
             size_t *sig_len, struct errbuf *eb)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t *buf = NULL;
	size_t n = 0;
	int rc = YB_OK;

	if (md == NULL)
		return status_fail(eb, YB_ENOMEM, _("out of memory"));
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, id->key) != 1 ||
	    EVP_DigestSign(md, NULL, &n, data, len) != 1) {
		rc = status_fail(eb, YB_ECRYPTO, _("cannot sign request: %s"), ssl_reason());
		goto done;
	}
	if ((buf = malloc(n)) == NULL) {
		rc = status_fail(eb, YB_ENOMEM, _("out of memory"));
		goto done;
	}
	if (EVP_DigestSign(md, buf, &n, data, len) != 1) {
		free(buf);
		rc = status_fail(eb, YB_ECRYPTO, _("cannot sign request: %s"), ssl_reason());
		goto done;
	}
	*sig = buf;
	*sig_len = n;
done:
	EVP_MD_CTX_free(md);
	return rc;
}

/* t as Unix time; fallback when t is absent or unreadable. */
static time_t asn1_time_t(const ASN1_TIME *t, time_t fallback)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return fallback;
	return timegm(&tm);
}

/* The first of the CACHE_WAYS entries that a certificate of this digest may use. */
static struct cached_cert *cache_set(const struct pki_verifier *v, const uint8_t digest[32])
{
	return &v->cache[((digest[0] | digest[1] << 8) % (CACHE_SLOTS / CACHE_WAYS)) * CACHE_WAYS];
}

/*
 * The cached principal and key of a certificate checked before (as a
 * caller, when caller is set) and still valid at now: YB_OK with *who and
 * *key (EVP_PKEY_free), else YB_NOT_FOUND.
 */
static int cache_find(const struct pki_verifier *v, const uint8_t digest[32], time_t now,
                      bool caller, struct pki_principal *who, EVP_PKEY **key)
{
	struct pki_verifier *mv = (struct pki_verifier *)v; /* the lock and the LRU ticks */
	struct cached_cert *set = cache_set(v, digest);
	int rc = YB_NOT_FOUND;

	pthread_mutex_lock(&mv->cache_lock);
	for (int i = 0; i < CACHE_WAYS; i++) {
		struct cached_cert *c = &set[i];
		if (c->key != NULL && memcmp(c->digest, digest, 32) == 0) {
			if (now >= c->valid_from && now <= c->valid_until &&
			    (c->caller || !caller) && EVP_PKEY_up_ref(c->key) == 1) {
				c->used = ++mv->use_tick;
				*who = c->who;
				*key = c->key;
				rc = YB_OK;
			}
			break;
		}
	}
	pthread_mutex_unlock(&mv->cache_lock);
	return rc;
}

/*
 * Remembers a certificate that passed every check, for as long as every
 * certificate of its verified chain (the CA's too) and the CRL are valid.
 */
static void cache_put(const struct pki_verifier *v, const uint8_t digest[32], X509 *cert,
                      X509_STORE_CTX *ctx, bool caller, const struct pki_principal *who)
{
	struct pki_verifier *mv = (struct pki_verifier *)v; /* the lock and the LRU ticks */
	struct cached_cert *set = cache_set(v, digest), *c;
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	EVP_PKEY *key = X509_get0_pubkey(cert);
	time_t from = asn1_time_t(X509_get0_notBefore(cert), -1);
	time_t until = asn1_time_t(X509_get0_notAfter(cert), -1);

	for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		time_t nb = asn1_time_t(X509_get0_notBefore(x), -1);
		time_t na = asn1_time_t(X509_get0_notAfter(x), -1);
		if (nb == -1 || na == -1)
			return;
		if (nb > from)
			from = nb;
		if (na < until)
			until = na;
	}
	if (chain == NULL || key == NULL || from == -1 || until == -1 || EVP_PKEY_up_ref(key) != 1)
		return;
	if (v->crl_next_update != 0 && v->crl_next_update < until)
		until = v->crl_next_update;
	pthread_mutex_lock(&mv->cache_lock);
	/* The entry of this certificate, else an empty one, else the least recently used. */
	c = set;
	for (int i = 0; i < CACHE_WAYS; i++) {
		if (set[i].key != NULL && memcmp(set[i].digest, digest, 32) == 0) {
			c = &set[i];
			break;
		}
		if (c->key != NULL && (set[i].key == NULL || set[i].used < c->used))
			c = &set[i];
	}
	EVP_PKEY_free(c->key);
	memcpy(c->digest, digest, 32);
	c->valid_from = from;
	c->valid_until = until;
	c->used = ++mv->use_tick;
	c->key = key;
	c->who = *who;
	c->caller = caller;
	pthread_mutex_unlock(&mv->cache_lock);
}

int pki_verifier_new(const char *ca_path, const char *crl_path, struct pki_verifier **out,
                     struct errbuf *eb)
{
	struct pki_verifier *v = calloc(1, sizeof(*v));
	STACK_OF(X509_INFO) *infos = NULL;
	BIO *b = NULL;
	int rc = YB_OK;
	int ncert = 0;

	if (v == NULL || (v->store = X509_STORE_new()) == NULL ||
	    (v->cache = calloc(CACHE_SLOTS, sizeof(*v->cache))) == NULL) {
		rc = status_fail(eb, YB_ENOMEM, _("out of memory"));
		goto fail;
	}
	pthread_mutex_init(&v->cache_lock, NULL);
	if ((b = open_file(ca_path, _("CA certificate"), eb)) == NULL) {
		rc = YB_EIO;
		goto fail;
	}
	infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
	BIO_free(b);
	b = NULL;
	for (int i = 0; infos != NULL && i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *xi = sk_X509_INFO_value(infos, i);
		if (xi->x509 == NULL)
			continue;
		if (X509_STORE_add_cert(v->store, xi->x509) != 1) {
			rc = status_fail(eb, YB_ECRYPTO, _("cannot use CA certificate '%s': %s"),
			                 ca_path, ssl_reason());
			goto fail;
		}
		if (ncert++ == 0)
			name_field(X509_get_subject_name(xi->x509), NID_organizationName,
			           v->deployment, sizeof(v->deployment));
		{
			time_t until = asn1_time_t(X509_get0_notAfter(xi->x509), 0);
			if (ncert == 1 || until < v->ca_not_after)
				v->ca_not_after = until;
		}
	}
	if (ncert == 0) {
		rc = status_fail(eb, YB_INVALID_ARGUMENT, _("'%s' holds no PEM certificate"),
		                 ca_path);
		goto fail;
	}
	if (crl_path != NULL && crl_path[0] != '\0') {
		X509_CRL *crl;
		if ((b = open_file(crl_path, _("CRL"), eb)) == NULL) {
			rc = YB_EIO;
			goto fail;
		}
		crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
		BIO_free(b);
		b = NULL;
		if (crl == NULL) {
			rc = status_fail(eb, YB_INVALID_ARGUMENT, _("'%s' is not a PEM CRL: %s"),
			                 crl_path, ssl_reason());
			goto fail;
		}
		rc = X509_STORE_add_crl(v->store, crl) == 1 ? YB_OK : YB_ECRYPTO;
		v->crl_next_update = asn1_time_t(X509_CRL_get0_nextUpdate(crl), 0);
		X509_CRL_free(crl);
		if (rc != YB_OK) {
			status_fail(eb, rc, _("cannot use CRL '%s': %s"), crl_path, ssl_reason());
			goto fail;
		}
		v->check_crl = 1;
		X509_STORE_set_flags(v->store, X509_V_FLAG_CRL_CHECK);
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	*out = v;
	return YB_OK;
fail:
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	pki_verifier_free(v);
	return rc;
}

void pki_verifier_free(struct pki_verifier *v)
{
	if (v == NULL)
		return;
	X509_STORE_free(v->store);
	if (v->cache != NULL) {
		for (size_t i = 0; i < CACHE_SLOTS; i++)
			EVP_PKEY_free(v->cache[i].key);
		pthread_mutex_destroy(&v->cache_lock);
		free(v->cache);
	}
	free(v);
}

void pki_verifier_dates(const struct pki_verifier *v, time_t *ca_not_after, time_t *crl_next_update)
{
	*ca_not_after = v->ca_not_after;
	*crl_next_update = v->crl_next_update;
}

int pki_cert_not_after(const char *path, time_t *out, struct errbuf *eb)
{
	BIO *b = open_file(path, _("certificate"), eb);
	X509 *cert;

	if (b == NULL)
		return YB_EIO;
	cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (cert == NULL)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("'%s' is not a PEM certificate: %s"),
		                   path, ssl_reason());
	*out = asn1_time_t(X509_get0_notAfter(cert), 0);
	X509_free(cert);
	return YB_OK;
}

/* Maps an X509 verification error to the words a user needs. */
static const char *chain_error(int err)
{
	switch (err) {
	case X509_V_ERR_CERT_REVOKED:
		return _("certificate revoked");
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return _("certificate expired");
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return _("certificate not yet valid");
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		return _("certificate not issued by this deployment's CA");
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		return _("no CRL for the issuing CA");
	default:
		return X509_verify_cert_error_string(err);
	}
}

int pki_verify_caller(const struct pki_verifier *v, const uint8_t *cert_der, size_t cert_len,
                      const uint8_t *data, size_t len, const uint8_t *sig, size_t sig_len,
                      time_t now, struct pki_principal *out, struct errbuf *eb)
{
	const unsigned char *p = cert_der;
	uint8_t digest[32];
	X509 *cert = NULL;
	X509_STORE_CTX *ctx = NULL;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *key = NULL;
	int rc = YB_OK;

	if (cert_len == 0 || cert_len > PKI_MAX_CERT_DER)
		return status_fail(eb, YB_UNAUTHENTICATED,
		                   _("no caller certificate in the request"));
	if (sig_len == 0 || sig_len > PKI_MAX_SIGNATURE)
		return status_fail(eb, YB_UNAUTHENTICATED, _("no valid signature in the request"));
	if (EVP_Digest(cert_der, cert_len, digest, NULL, EVP_sha256(), NULL) != 1) {
		rc = status_fail(eb, YB_ECRYPTO, _("cannot verify certificate: %s"), ssl_reason());
		goto done;
	}
	if (cache_find(v, digest, now, true, out, &key) == YB_OK)
		goto check_signature;
	cert = d2i_X509(NULL, &p, (long)cert_len);
	if (cert == NULL || p != cert_der + cert_len) {
		ERR_clear_error();
		rc = status_fail(eb, YB_UNAUTHENTICATED, _("caller certificate is not valid DER"));
		goto done;
	}
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, v->store, cert, NULL) != 1) {
		rc = status_fail(eb, YB_ECRYPTO, _("cannot verify certificate: %s"), ssl_reason());
		goto done;
	}
	X509_STORE_CTX_set_time(ctx, 0, now);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	if (X509_verify_cert(ctx) != 1) {
		rc = status_fail(eb, YB_UNAUTHENTICATED, "%s",
		                 chain_error(X509_STORE_CTX_get_error(ctx)));
		ERR_clear_error();
		goto done;
	}
	fill_principal(cert, cert_der, cert_len, out);
	if (strcmp(out->deployment, v->deployment) != 0) {
		rc = status_fail(eb, YB_UNAUTHENTICATED,
		                 _("certificate is for deployment '%s', not '%s'"), out->deployment,
		                 v->deployment);
		goto done;
	}
	if (strcmp(out->role, PKI_LOG_ROLE) == 0) {
		rc = status_fail(eb, YB_UNAUTHENTICATED,
		                 _("a log certificate (OU=log) signs the audit log's checkpoints "
		                   "and makes no calls"));
		goto done;
	}
	if (!parse_role(out->role, &out->kind)) {
		rc = status_fail(eb, YB_UNAUTHENTICATED,
		                 _("certificate role OU='%s' is not a role"), out->role);
		goto done;
	}
	if (!pki_valid_org_code(out->org)) {
		rc = status_fail(eb, YB_UNAUTHENTICATED,
		                 _("certificate CN='%s' is not an org unit code"), out->org);
		goto done;
	}
	if (!is_p256(X509_get0_pubkey(cert))) {
		rc = status_fail(eb, YB_UNAUTHENTICATED, _("caller key is not EC P-256"));
		goto done;
	}
	cache_put(v, digest, cert, ctx, true, out);
	if ((key = X509_get_pubkey(cert)) == NULL) {
		rc = status_fail(eb, YB_ECRYPTO, _("cannot verify signature: %s"), ssl_reason());
		goto done;
	}
check_signature:
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) != 1) {
		rc = status_fail(eb, YB_ECRYPTO, _("cannot verify signature: %s"), ssl_reason());
		goto done;
	}
	if (EVP_DigestVerify(md, sig, sig_len, data, len) != 1) {
		ERR_clear_error();
		rc = status_fail(eb, YB_UNAUTHENTICATED, _("signature does not verify"));
		goto done;
	}
done:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	X509_STORE_CTX_free(ctx);
	X509_free(cert);
	return rc;
}

/* Parses cert_der whole (no trailing bytes); NULL when it is not one DER certificate. */
static X509 *parse_der(const uint8_t *cert_der, size_t cert_len)
{
	const unsigned char *p = cert_der;
	X509 *cert;

	if (cert_len == 0 || cert_len > PKI_MAX_CERT_DER)
		return NULL;
	cert = d2i_X509(NULL, &p, (long)cert_len);
	if (cert != NULL && p != cert_der + cert_len) {
		X509_free(cert);
		cert = NULL;
	}
	if (cert == NULL)
		ERR_clear_error();
	return cert;
}

/* Checks that cert chains to the verifier's CA and is valid at `at` (any purpose). */
static int check_chain(const struct pki_verifier *v, X509 *cert, time_t at, struct errbuf *eb)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = YB_OK;

	if (ctx == NULL || X509_STORE_CTX_init(ctx, v->store, cert, NULL) != 1) {
		rc = status_fail(eb, YB_ECRYPTO, _("cannot verify certificate: %s"), ssl_reason());
	} else {
		if (at == PKI_ANY_TIME)
			X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
		else
			X509_STORE_CTX_set_time(ctx, 0, at);
		if (X509_verify_cert(ctx) != 1) {
			rc = status_fail(eb, YB_UNAUTHENTICATED, "%s",
			                 chain_error(X509_STORE_CTX_get_error(ctx)));
			ERR_clear_error();
		}
	}
	X509_STORE_CTX_free(ctx);
	return rc;
}

int pki_verify_cert(const struct pki_verifier *v, const uint8_t *cert_der, size_t cert_len,
                    time_t at, struct errbuf *eb)
{
	X509 *cert = parse_der(cert_der, cert_len);
	int rc;

	if (cert == NULL)
		return status_fail(eb, YB_UNAUTHENTICATED, _("certificate is not valid DER"));
	rc = check_chain(v, cert, at, eb);
	X509_free(cert);
	return rc;
}

int pki_verify_signed(const struct pki_verifier *v, const uint8_t *cert_der, size_t cert_len,
                      const uint8_t *data, size_t len, const uint8_t *sig, size_t sig_len,
                      time_t at, struct pki_principal *signer, struct errbuf *eb)
{
	struct pki_principal who;
	uint8_t digest[32];
	X509 *cert = NULL;
	X509_STORE_CTX *ctx = NULL;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *key = NULL;
	int rc = YB_OK;

	if (cert_len == 0 || cert_len > PKI_MAX_CERT_DER || sig_len == 0 ||
	    sig_len > PKI_MAX_SIGNATURE)
		return status_fail(eb, YB_UNAUTHENTICATED, _("no certificate or signature"));
	if (EVP_Digest(cert_der, cert_len, digest, NULL, EVP_sha256(), NULL) != 1)
		return status_fail(eb, YB_ECRYPTO, _("cannot verify certificate: %s"),
		                   ssl_reason());
	/*
	 * One certificate signs every checkpoint of a log: its chain is checked
	 * once for the span its whole chain is valid, not once a checkpoint.
	 */
	if (at != PKI_ANY_TIME && cache_find(v, digest, at, false, &who, &key) == YB_OK)
		goto check_signature;
	if ((cert = parse_der(cert_der, cert_len)) == NULL)
		return status_fail(eb, YB_UNAUTHENTICATED, _("certificate is not valid DER"));
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, v->store, cert, NULL) != 1) {
		rc = status_fail(eb, YB_ECRYPTO, _("cannot verify certificate: %s"), ssl_reason());
		goto done;
	}
	if (at == PKI_ANY_TIME)
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
	else
		X509_STORE_CTX_set_time(ctx, 0, at);
	if (X509_verify_cert(ctx) != 1) {
		rc = status_fail(eb, YB_UNAUTHENTICATED, "%s",
		                 chain_error(X509_STORE_CTX_get_error(ctx)));
		ERR_clear_error();
		goto done;
	}
	fill_principal(cert, cert_der, cert_len, &who);
	if (at != PKI_ANY_TIME) /* the cache holds what was valid at some time */
		cache_put(v, digest, cert, ctx, false, &who);
	if ((key = X509_get_pubkey(cert)) == NULL) {
		rc = status_fail(eb, YB_ECRYPTO, _("cannot verify signature: %s"), ssl_reason());
		goto done;
	}
check_signature:
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestVerify(md, sig, sig_len, data, len) != 1) {
		ERR_clear_error();
		rc = status_fail(eb, YB_UNAUTHENTICATED, _("signature does not verify"));
	} else if (signer != NULL) {
		*signer = who;
	}
done:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	X509_STORE_CTX_free(ctx);
	X509_free(cert);
	return rc;
}

int pki_describe_cert(const uint8_t *cert_der, size_t cert_len, struct pki_principal *out)
{
	X509 *cert = parse_der(cert_der, cert_len);

	if (cert == NULL)
		return YB_INVALID_ARGUMENT;
	fill_principal(cert, cert_der, cert_len, out);
	X509_free(cert);
	return YB_OK;
}

int pki_read_cert_der(const char *path, uint8_t **der, size_t *len, struct errbuf *eb)
{
	BIO *b = open_file(path, "certificate", eb);
	X509 *cert;
	unsigned char *buf = NULL;
	int n;

	if (b == NULL)
		return YB_EIO;
	cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (cert == NULL)
		return status_fail(eb, YB_INVALID_ARGUMENT, "'%s' is not a PEM certificate: %s",
		                   path, ssl_reason());
	n = i2d_X509(cert, &buf);
	X509_free(cert);
	if (n <= 0)
		return status_fail(eb, YB_ECRYPTO, "cannot encode '%s': %s", path, ssl_reason());
	if ((*der = malloc((size_t)n)) == NULL) {
		OPENSSL_free(buf);
		return status_fail(eb, YB_ENOMEM, "out of memory");
	}
	memcpy(*der, buf, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(buf);
	return YB_OK;
}

int pki_random(void *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? YB_OK : YB_ECRYPTO;
}

int pki_check_key_mode(const char *path, unsigned forbidden, struct errbuf *eb)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return status_fail(eb, YB_EIO, _("cannot examine %s: %s"), path, strerror(errno));
	if ((st.st_mode & forbidden) != 0)
		return status_fail(eb, YB_PERMISSION_DENIED,
		                   _("private key %s may be read by others (mode %04o); run "
		                     "'chmod 600 %s'"),
		                   path, (unsigned)(st.st_mode & 07777), path);
	return YB_OK;
}
