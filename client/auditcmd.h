/*
 * auditcmd.h - the client's side of the audit log: receipts kept after each
 * submission, and the audit commands (log, prove) that check what the
 * daemon says against the deployment CA, offline where they can.
 */
#ifndef YB_AUDITCMD_H
#define YB_AUDITCMD_H

#include <stdio.h>

#include "rpc.h"
#include "yuebao.pb-c.h"

/*
 * Writes the receipt of a submission as JSON to path, or when path is NULL
 * to $XDG_DATA_HOME/yuebao/receipts/ORG-PERIOD-rREV.json (~/.local/share by
 * default). *written (a static buffer) names the file. Returns 0, or -1
 * with a message on stderr.
 */
int auditcmd_save_receipt(const Yuebao__V1__SubmitReply *r, const char *path, const char **written);

/* Reads a receipt file: its entry index, leaf hash and checkpoint. 0 or -1 (message on stderr). */
struct checkpoint;
int auditcmd_read_receipt(const char *path, uint64_t *index, uint8_t leaf[32],
                          struct checkpoint *cp, uint8_t **cert, size_t *cert_len);

/*
 * consolidate --explain: the returns behind one figure, each with its audit
 * log entry; as CSV (org,period,revision,code,value,log_index) when csv.
 */
void auditcmd_print_explain(FILE *out, const Yuebao__V1__ConsolidateReply *r, const char *code,
                            int csv);

#endif

/*
 * An audit bundle: a folder with everything an offline audit needs.
 *   ca.crt, server.crt   the deployment CA and the daemon's certificate (PEM)
 *   entries.tsv          index, leaf hash, entry bytes (hex)
 *   checkpoints.tsv      size, root, time, signature (hex)
 *   revisions.tsv        org, period, revision, state, request sha256, values
 *   reviews.tsv          org, period, revision, action, time, comment (hex)
 *   requests/SHA256.bin  every signed request exactly as the daemon received it
 */
struct auditcmd_bundle;

/* Creates DIR (which must not exist) with ca.crt copied from ca_path. */
int auditcmd_bundle_open(const char *dir, const char *ca_path, struct auditcmd_bundle **out);

/* Adds a page of each kind; the server certificate is written once. */
int auditcmd_bundle_entries(struct auditcmd_bundle *b, const Yuebao__V1__AuditLogReply *page);
int auditcmd_bundle_export(struct auditcmd_bundle *b, const Yuebao__V1__AuditExportReply *page);

/* Finishes the files; returns 0 when everything was written. Frees b. */
int auditcmd_bundle_close(struct auditcmd_bundle *b);

/*
 * Verifies a bundle offline and prints every problem, naming the entry,
 * checkpoint or revision. Returns the number of problems, or -1 when the
 * bundle cannot be read at all.
 */
long auditcmd_verify(const char *dir, FILE *out);
