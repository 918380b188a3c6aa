/*
 * handle_status.h - Status, a reading method (handlers.h): for a subtree
 * and a period, each leaf unit's returns by month (filed, on time, review
 * state), paged by rows, with totals.
 */
#ifndef YB_HANDLE_STATUS_H
#define YB_HANDLE_STATUS_H

#include "handlers.h"

yb_status handle_status(struct call *c, const ProtobufCMessage *in, ProtobufCMessage *out);

#endif
