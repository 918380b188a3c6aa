/*
 * handle_consolidate.h - Consolidate, a reading method (handlers.h): the
 * figures of a subtree over a period (SPEC §6), grouped by month or org
 * unit, compared year over year or with the previous period, and the
 * returns behind one figure on request.
 */
#ifndef YB_HANDLE_CONSOLIDATE_H
#define YB_HANDLE_CONSOLIDATE_H

#include "handlers.h"

yb_status handle_consolidate(struct call *c, const ProtobufCMessage *in, ProtobufCMessage *out);

#endif
