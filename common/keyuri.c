/*
 * keyuri.c - private keys named by a URI (see keyuri.h).
 *
 * OpenSSL 3 opens URIs through OSSL_STORE, the provider interface: that is
 * tried first, and serves any scheme a configured provider registers. Debian
 * 12 packages no PKCS#11 provider, only the PKCS#11 engine of libp11
 * (libengine-pkcs11-openssl), so a "pkcs11:" URI no store takes goes there.
 * ENGINE is deprecated in OpenSSL 3 but still its only PKCS#11 route on that
 * release: hence OPENSSL_SUPPRESS_DEPRECATED in this file alone.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "keyuri.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/store.h>
#include <openssl/ui.h>

#include "i18n.h"

/* Longest URI accepted, and longest PIN read from a pin-source file. */
#define KEYURI_MAX 2048
#define PIN_MAX 256

bool keyuri_is_uri(const char *s)
{
	const char *p = s;

	if (!isalpha((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	/* At least two letters: "c:key" reads as a path, as it would elsewhere. */
	return *p == ':' && p - s >= 2;
}

/* The URI as shown in messages: up to its query, where a PIN may be. */
static void shown(const char *uri, char *out, size_t len)
{
	size_t n = strcspn(uri, "?");
	snprintf(out, len, "%.*s%s", (int)(n < 200 ? n : 200), uri, uri[n] ? "?..." : "");
}

/*
 * Copies the value of query attribute name (RFC 7512: after '?', pairs
 * joined by '&') into out, percent-decoded; false when absent or too long.
 */
static bool query_attr(const char *uri, const char *name, char *out, size_t len)
{
	const char *q = strchr(uri, '?');
	size_t nl = strlen(name);

	while (q != NULL) {
		q++;
		if (strncmp(q, name, nl) == 0 && q[nl] == '=') {
			const char *v = q + nl + 1;
			size_t o = 0;
			while (*v && *v != '&') {
				unsigned hi, lo;
				char c = *v++;
				if (c == '%' && isxdigit((unsigned char)v[0]) &&
				    isxdigit((unsigned char)v[1]) &&
				    sscanf(v, "%1x%1x", &hi, &lo) == 2) {
					c = (char)(hi << 4 | lo);
					v += 2;
				}
				if (o + 1 >= len)
					return false;
				out[o++] = c;
			}
			out[o] = '\0';
			return true;
		}
		q = strchr(q, '&');
	}
	return false;
}

/* The reason of OpenSSL's last error, for messages, and the queue cleared. */
static const char *ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	if (e == 0)
		snprintf(buf, len, "%s", _("no key there"));
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

/*
 * Through the store loaders: 1 loaded, 0 no loader took the URI, or -1
 * failed with *rc and eb set.
 */
static int load_from_store(const char *uri, const char *name, EVP_PKEY **out, int *rc,
                           struct errbuf *eb)
{
	OSSL_STORE_CTX *ctx;
	EVP_PKEY *key = NULL;
	char why[256];

	/* Whether a provider loads the URI's scheme: OpenSSL's own errors do not
	 * tell "no such loader" from "no such key" (it tries the text as a file too). */
	{
		char scheme[32];
		size_t n = strcspn(uri, ":");
		OSSL_STORE_LOADER *loader;
		if (n >= sizeof(scheme))
			return 0;
		memcpy(scheme, uri, n);
		scheme[n] = '\0';
		if ((loader = OSSL_STORE_LOADER_fetch(NULL, scheme, NULL)) == NULL) {
			ERR_clear_error();
			return 0;
		}
		OSSL_STORE_LOADER_free(loader);
	}
	ERR_clear_error();
	/* UI_null: a daemon never prompts; a PIN comes with the URI. */
	ctx = OSSL_STORE_open_ex(uri, NULL, NULL, UI_null(), NULL, NULL, NULL, NULL);
	if (ctx == NULL) {
		*rc = status_fail(eb, YB_NOT_FOUND, _("cannot open the key %s: %s"), name,
		                  ssl_reason(why, sizeof(why)));
		return -1;
	}
	(void)OSSL_STORE_expect(ctx, OSSL_STORE_INFO_PKEY);
	while (key == NULL && !OSSL_STORE_eof(ctx)) {
		OSSL_STORE_INFO *info = OSSL_STORE_load(ctx);
		if (info == NULL) {
			if (OSSL_STORE_error(ctx))
				break;
			continue;
		}
		if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
			key = OSSL_STORE_INFO_get1_PKEY(info);
		OSSL_STORE_INFO_free(info);
	}
	OSSL_STORE_close(ctx);
	if (key == NULL) {
		*rc = status_fail(eb, YB_NOT_FOUND, _("no private key at %s: %s"), name,
		                  ssl_reason(why, sizeof(why)));
		return -1;
	}
	*out = key;
	return 1;
}

/*
 * The pkcs11 engine, loaded and initialised once for the process: the keys
 * it hands out use it for as long as they live.
 */
static ENGINE *pkcs11_engine;

static int load_from_engine(const char *uri, const char *name, EVP_PKEY **out, struct errbuf *eb)
{
	char module[KEYURI_MAX], source[KEYURI_MAX], pin[PIN_MAX + 2], why[256];
	EVP_PKEY *key;

	if (pkcs11_engine == NULL) {
		ENGINE *e = ENGINE_by_id("pkcs11");
		if (e == NULL) {
			ERR_clear_error();
			return status_fail(eb, YB_UNAVAILABLE,
			                   _("cannot use %s: this machine's OpenSSL has no PKCS#11 "
			                     "provider and no pkcs11 engine (install "
			                     "libengine-pkcs11-openssl)"),
			                   name);
		}
		if (query_attr(uri, "module-path", module, sizeof(module)) &&
		    ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0) != 1) {
			ENGINE_free(e);
			return status_fail(eb, YB_ECRYPTO, _("cannot use PKCS#11 module %s: %s"),
			                   module, ssl_reason(why, sizeof(why)));
		}
		if (ENGINE_init(e) != 1) {
			ENGINE_free(e);
			return status_fail(eb, YB_ECRYPTO, _("cannot start the pkcs11 engine: %s"),
			                   ssl_reason(why, sizeof(why)));
		}
		ENGINE_free(e); /* the functional reference ENGINE_init took stays */
		pkcs11_engine = e;
	}
	/* A PIN kept in a file (pin-source=file:PATH), so it is not in the settings. */
	if (query_attr(uri, "pin-source", source, sizeof(source))) {
		const char *path = strncmp(source, "file:", 5) == 0 ? source + 5 : source;
		FILE *f = fopen(path, "r");
		size_t n = f != NULL ? fread(pin, 1, sizeof(pin) - 1, f) : 0;
		if (f != NULL)
			fclose(f);
		if (f == NULL || n == 0 || n > PIN_MAX)
			return status_fail(eb, YB_NOT_FOUND, _("cannot read the PIN of %s from %s"),
			                   name, path);
		pin[n] = '\0';
		pin[strcspn(pin, "\r\n")] = '\0';
		if (ENGINE_ctrl_cmd_string(pkcs11_engine, "PIN", pin, 0) != 1) {
			OPENSSL_cleanse(pin, sizeof(pin));
			return status_fail(eb, YB_ECRYPTO, _("the pkcs11 engine refused the PIN"));
		}
		OPENSSL_cleanse(pin, sizeof(pin));
	}
	/*
	 * libp11 refuses a query attribute it does not know: it is given the
	 * URI's path, and its pin-value alone.
	 */
	{
		char plain[KEYURI_MAX + 16];
		size_t path_len = strcspn(uri, "?");
		int n = snprintf(plain, sizeof(plain), "%.*s", (int)path_len, uri);
		if (query_attr(uri, "pin-value", pin, sizeof(pin)))
			snprintf(plain + n, sizeof(plain) - (size_t)n, "?pin-value=%s", pin);
		key = ENGINE_load_private_key(pkcs11_engine, plain, (UI_METHOD *)UI_null(), NULL);
		OPENSSL_cleanse(plain, sizeof(plain));
		OPENSSL_cleanse(pin, sizeof(pin));
	}
	if (key == NULL)
		return status_fail(eb, YB_NOT_FOUND, _("no private key at %s: %s"), name,
		                   ssl_reason(why, sizeof(why)));
	*out = key;
	return YB_OK;
}

int keyuri_load(const char *uri, EVP_PKEY **out, struct errbuf *eb)
{
	char name[256];
	int got, rc = YB_OK;

	*out = NULL;
	shown(uri, name, sizeof(name));
	if (strlen(uri) > KEYURI_MAX)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("key URI %s is too long"), name);
	if ((got = load_from_store(uri, name, out, &rc, eb)) == 1)
		return YB_OK;
	if (got < 0 && strncmp(uri, "pkcs11:", 7) != 0)
		return rc;
	if (strncmp(uri, "pkcs11:", 7) == 0)
		return load_from_engine(uri, name, out, eb);
	return status_fail(eb, YB_UNAVAILABLE,
	                   _("cannot use %s: no OpenSSL provider handles that kind of URI"), name);
}
