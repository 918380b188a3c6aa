/*
 * status.c - names of status codes and the errbuf helpers.
 */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *status_name(int code)
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
	default:
		return "UNKNOWN";
	}
}

int status_fail(struct errbuf *eb, int code, const char *fmt, ...)
{
	if (eb != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

void status_prefix(struct errbuf *eb, const char *fmt, ...)
{
	char head[ERRBUF_MAX];
	size_t hn, rn;
	va_list ap;
	int n;

	if (eb == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	hn = strlen(head);
	rn = strlen(eb->msg);
	/* Keep the head whole and cut the old message if the two do not fit. */
	if (hn + rn >= sizeof(eb->msg))
		rn = sizeof(eb->msg) - 1 - hn;
	memmove(eb->msg + hn, eb->msg, rn);
	memcpy(eb->msg, head, hn);
	eb->msg[hn + rn] = '\0';
}
