/*
 * hash.h - SHA-256 as the project writes it down: 64 lower-case hex digits.
 * Stored digests, audit entries and call records all use this form.
 */
#ifndef YB_HASH_H
#define YB_HASH_H

#include <stddef.h>

/* Hex SHA-256 of data into out (64 digits and a NUL). Never fails. */
void hash_sha256_hex(const void *data, size_t len, char out[65]);

#endif
