/*
 * status.h - the project's status codes and error messages.
 *
 * Every fallible function returns a status: YB_OK (0) or one of the codes
 * below. Codes 1..16 are the gRPC codes, so a status can travel in an
 * RpcReply unchanged; codes from 100 on are local failures that never cross
 * the wire. A function that can say more than its code takes a
 * `struct errbuf *` (which may be NULL) and writes one human sentence into it
 * that names the cause: the file, line, field or library call that failed.
 */
#ifndef YB_STATUS_H
#define YB_STATUS_H

#include <stdarg.h>

#include <stddef.h>

typedef enum yb_status {
	YB_OK = 0,
	YB_CANCELLED = 1,
	YB_UNKNOWN = 2,
	YB_INVALID_ARGUMENT = 3,
	YB_DEADLINE_EXCEEDED = 4,
	YB_NOT_FOUND = 5,
	YB_ALREADY_EXISTS = 6,
	YB_PERMISSION_DENIED = 7,
	YB_RESOURCE_EXHAUSTED = 8,
	YB_FAILED_PRECONDITION = 9,
	YB_ABORTED = 10,
	YB_OUT_OF_RANGE = 11,
	YB_UNIMPLEMENTED = 12,
	YB_INTERNAL = 13,
	YB_UNAVAILABLE = 14,
	YB_DATA_LOSS = 15,
	YB_UNAUTHENTICATED = 16,

	YB_ENOMEM = 100,   /* out of memory */
	YB_EIO = 101,      /* a file or OS call failed */
	YB_ECRYPTO = 102,  /* an OpenSSL call failed */
	YB_EDB = 103,      /* a SQLite call failed */
	YB_ECONNECT = 104, /* cannot connect, or the TLS handshake failed */
	YB_EBUG = 105,     /* an invariant of the program did not hold: a defect to report */
} yb_status;

#define ERRBUF_MAX 512

/* One sentence explaining the last failure. */
struct errbuf {
	char msg[ERRBUF_MAX];
};

/* The upper-case name of a status ("INVALID_ARGUMENT"); never NULL. */
const char *status_name(yb_status code);

/*
 * Writes a printf-style message into eb (if eb is not NULL), truncating it
 * to ERRBUF_MAX-1 bytes, and returns code, so that failures read
 *   return status_fail(eb, YB_INVALID_ARGUMENT, "line %zu: ...", line);
 */
yb_status status_fail(struct errbuf *eb, yb_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The rule of a parse whose failures are met in callbacks: only the first
 * counts. When *first is YB_OK, sets it to code and writes "NAME: message"
 * (name: the file being read) into eb; a later failure changes nothing.
 * Returns *first.
 */
yb_status status_vfail_first(yb_status *first, struct errbuf *eb, yb_status code, const char *name,
                             const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

#endif
