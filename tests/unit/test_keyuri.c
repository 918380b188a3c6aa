/*
 * test_keyuri.c - keys named by a URI: which strings are URIs and which are
 * paths, a key loaded through OpenSSL's store loaders (the "file:" scheme,
 * the same route a PKCS#11 provider takes), and failures that say what
 * failed without ever showing the PIN a URI carries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "keyuri.h"

static void test_uri_or_path(void **state)
{
	(void)state;
	assert_true(keyuri_is_uri("pkcs11:token=yuebao;object=log"));
	assert_true(keyuri_is_uri("file:/etc/yuebao/log.key"));
	assert_true(keyuri_is_uri("org.openssl.winstore:"));
	assert_false(keyuri_is_uri("/etc/yuebao/log.key"));
	assert_false(keyuri_is_uri("log.key"));
	assert_false(keyuri_is_uri("./a:b.key"));
	assert_false(keyuri_is_uri("/etc/x:y"));
	assert_false(keyuri_is_uri("c:key")); /* one letter: a path, as elsewhere */
	assert_false(keyuri_is_uri("1pkcs11:x"));
	assert_false(keyuri_is_uri(""));
}

/* A fresh P-256 key written to a temporary PEM file, whose name goes to path. */
static EVP_PKEY *write_key(char path[64])
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	FILE *f;
	int fd;

	assert_non_null(key);
	snprintf(path, 64, "/tmp/yb-keyuri-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	return key;
}

static void test_file_uri_loads_through_the_store(void **state)
{
	struct errbuf eb = {{0}};
	char path[64], uri[80];
	EVP_PKEY *want, *got = NULL;

	(void)state;
	want = write_key(path);
	snprintf(uri, sizeof(uri), "file:%s", path);
	assert_int_equal(keyuri_load(uri, &got, &eb), YB_OK);
	assert_non_null(got);
	assert_int_equal(EVP_PKEY_eq(want, got), 1);
	EVP_PKEY_free(got);
	EVP_PKEY_free(want);
	unlink(path);
}

static void test_failures_say_what(void **state)
{
	struct errbuf eb = {{0}};
	EVP_PKEY *got = NULL;
	int rc;

	(void)state;
	assert_int_equal(keyuri_load("file:/nonexistent/yb-log.key", &got, &eb), YB_NOT_FOUND);
	assert_null(got);
	assert_non_null(strstr(eb.msg, "/nonexistent/yb-log.key"));

	assert_int_equal(keyuri_load("nosuchscheme:abc", &got, &eb), YB_UNAVAILABLE);
	assert_non_null(strstr(eb.msg, "no OpenSSL provider handles"));

	/* A token that is not there: refused (by the engine, or for want of one),
	 * the URI named up to its query, the PIN never. */
	rc = keyuri_load("pkcs11:token=yb-none;object=log?module-path=/nonexistent/p11.so"
	                 "&pin-value=s3cret-4711",
	                 &got, &eb);
	assert_true(rc == YB_ECRYPTO || rc == YB_UNAVAILABLE || rc == YB_NOT_FOUND);
	assert_null(got);
	assert_non_null(strstr(eb.msg, "pkcs11:token=yb-none;object=log"));
	assert_null(strstr(eb.msg, "s3cret"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uri_or_path),
	    cmocka_unit_test(test_file_uri_loads_through_the_store),
	    cmocka_unit_test(test_failures_say_what),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
