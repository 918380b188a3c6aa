/*
 * hash.c - hex SHA-256 (see hash.h), by OpenSSL's one-shot digest, and
 * hex back to bytes.
 */

#include <pthread.h>

#include <openssl/evp.h>

#include "hash.h"

/*
 * SHA-256 fetched once: EVP_sha256() makes OpenSSL 3 look the
 * implementation up again on every digest. NULL if the fetch failed, and
 * then EVP_sha256() serves.
 */
static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void hash_hex(const void *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = data;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

void hash_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	pthread_once(&sha256_once, fetch_sha256);
	EVP_Digest(data, len, md, &n, sha256 != NULL ? sha256 : EVP_sha256(), NULL);
	hash_hex(md, sizeof(md), out);
}

int hash_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hash_unhex(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t i = 0;

	for (; s[0] != '\0'; s += 2, i++) {
		int hi = hash_hex_digit(s[0]), lo = hi < 0 ? -1 : hash_hex_digit(s[1]);
		if (lo < 0 || i >= max)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = i;
	return 0;
}
