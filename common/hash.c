/*
 * hash.c - hex SHA-256 (see hash.h), by OpenSSL's one-shot digest.
 */

#include <stdio.h>

#include <openssl/evp.h>

#include "hash.h"

void hash_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
}
