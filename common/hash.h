/*
 * hash.h - SHA-256 as the project writes it down: 64 lower-case hex digits.
 * Stored digests, audit entries and call records all use this form.
 */
#ifndef YB_HASH_H
#define YB_HASH_H

#include <stddef.h>
#include <stdint.h>

/* data's len bytes as 2 × len lower-case hex digits and a NUL into out. */
void hash_hex(const void *data, size_t len, char *out);

/* Hex SHA-256 of data into out (64 digits and a NUL). Never fails. */
void hash_sha256_hex(const void *data, size_t len, char out[65]);

/* The value of a hex digit (either case), or -1. */
int hash_hex_digit(char c);

/*
 * Decodes the whole string s (pairs of hex digits, either case, nothing
 * else) into out, at most max bytes; *len is how many. 0, or -1 when s is
 * not such a string or does not fit (out is then partly written).
 */
int hash_unhex(const char *s, uint8_t *out, size_t max, size_t *len);

#endif
