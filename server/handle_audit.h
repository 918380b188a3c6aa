/*
 * handle_audit.h - the audit methods (handlers.h): AuditLog, AuditProve,
 * AuditExport (reading) and AuditCosign (writing); and the checkpoint and receipt
 * messages every method that shows the log's state builds.
 */
#ifndef YB_HANDLE_AUDIT_H
#define YB_HANDLE_AUDIT_H

#include "audit.h"
#include "checkpoint.h"
#include "handlers.h"

/* AuditLog: a page of the entries about a subtree (central and auditor), with the checkpoint. */
yb_status handle_audit_log(struct call *c, const ProtobufCMessage *in, ProtobufCMessage *out);

/*
 * AuditProve: inclusion and consistency proofs against the latest
 * checkpoint, with the latest cosigned one, its cosignatures and its
 * consistency proof to the latest.
 */
yb_status handle_audit_prove(struct call *c, const ProtobufCMessage *in, ProtobufCMessage *out);

/* AuditExport: the whole log and what it commits to, a page at a time (root only). */
yb_status handle_audit_export(struct call *c, const ProtobufCMessage *in, ProtobufCMessage *out);

/*
 * AuditCosign (writing): a witness, an auditor or the central office,
 * cosigns a checkpoint the daemon signed. check refuses another role, a
 * checkpoint the log does not hold as given, and a cosignature that does
 * not verify under the caller's certificate; apply stores it (once per
 * certificate and checkpoint) and audits it ("cosign", checkpoint/SIZE).
 */
yb_status handle_audit_cosign_check(struct call *c, const ProtobufCMessage *in,
                                    struct write_plan *plan);
yb_status handle_audit_cosign_apply(struct call *c, const struct write_plan *plan,
                                    struct write_result *res);

/* A Checkpoint message in the call's arena, copied from cp; NULL when out of memory. */
Yuebao__V1__Checkpoint *handle_audit_checkpoint(struct call *c, const struct checkpoint *cp);

/*
 * A Receipt message in the call's arena for an entry appended by this call,
 * naming c->signer's certificate; NULL when out of memory.
 */
Yuebao__V1__Receipt *handle_audit_receipt(struct call *c, const struct audit_receipt *ar);

#endif
