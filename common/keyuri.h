/*
 * keyuri.h - private keys named by a URI rather than held in a file: a key
 * on a hardware token (RFC 7512 "pkcs11:" URIs) or anything else one of
 * OpenSSL's store loaders opens ("file:", and what configured providers
 * add). The daemon's log key may live on such a token, so that the host
 * running yuebaod can use the key without being able to copy it.
 */
#ifndef YB_KEYURI_H
#define YB_KEYURI_H

#include <stdbool.h>

#include <openssl/evp.h>

#include "status.h"

/*
 * True when s names a key by URI (a scheme such as "pkcs11:" or "file:"
 * before anything else) rather than by a file path. A path that merely
 * holds a colon ("./a:b.key", "/etc/x:y") is a path.
 */
bool keyuri_is_uri(const char *s);

/*
 * Loads the private key uri names. OpenSSL's store loaders are tried first
 * (OSSL_STORE: the default provider's "file:", a PKCS#11 provider's
 * "pkcs11:" when OpenSSL is configured with one). A "pkcs11:" URI no store
 * loader takes goes to the pkcs11 engine (Debian's libengine-pkcs11-openssl,
 * libp11), whose module is the URI's module-path attribute (RFC 7512) or
 * else p11-kit's proxy; a PIN is given as pin-value in the URI, or
 * pin-source=file:PATH. The caller owns *out (EVP_PKEY_free). YB_NOT_FOUND
 * when nothing holds such a key, YB_UNAVAILABLE when no loader takes the
 * URI's scheme, YB_ECRYPTO otherwise; eb names the URI without its PIN.
 */
int keyuri_load(const char *uri, EVP_PKEY **out, struct errbuf *eb);

#endif
