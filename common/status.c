/*
 * status.c - names of status codes and the errbuf helpers.
 */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *status_name(yb_status code)
{
	static const char *const grpc[] = {
	    "OK",
	    "CANCELLED",
	    "UNKNOWN",
	    "INVALID_ARGUMENT",
	    "DEADLINE_EXCEEDED",
	    "NOT_FOUND",
	    "ALREADY_EXISTS",
	    "PERMISSION_DENIED",
	    "RESOURCE_EXHAUSTED",
	    "FAILED_PRECONDITION",
	    "ABORTED",
	    "OUT_OF_RANGE",
	    "UNIMPLEMENTED",
	    "INTERNAL",
	    "UNAVAILABLE",
	    "DATA_LOSS",
	    "UNAUTHENTICATED",
	};
	if (code >= 0 && code < (int)(sizeof(grpc) / sizeof(grpc[0])))
		return grpc[code];
	switch (code) {
	case YB_ENOMEM:
		return "OUT_OF_MEMORY";
	case YB_EIO:
		return "IO_ERROR";
	case YB_ECRYPTO:
		return "CRYPTO_ERROR";
	case YB_EDB:
		return "DATABASE_ERROR";
	case YB_ECONNECT:
		return "CONNECT_ERROR";
	case YB_EBUG:
		return "PROGRAM_ERROR";
	default:
		return "UNKNOWN";
	}
}

yb_status status_fail(struct errbuf *eb, yb_status code, const char *fmt, ...)
{
	if (eb != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

yb_status status_vfail_first(yb_status *first, struct errbuf *eb, yb_status code, const char *name,
                             const char *fmt, va_list ap)
{
	char msg[ERRBUF_MAX];

	if (*first != YB_OK)
		return *first;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	*first = status_fail(eb, code, "%s: %s", name, msg);
	return *first;
}
