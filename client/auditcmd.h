/*
 * auditcmd.h - the client's side of the audit log: receipts kept after each
 * submission, and the audit commands (log, prove) that check what the
 * daemon says against the deployment CA, offline where they can.
 */
#ifndef YB_AUDITCMD_H
#define YB_AUDITCMD_H

#include <stdbool.h>
#include <stdio.h>

#include "rpc.h"
#include "yuebao.pb-c.h"

/*
 * The fingerprint of a CA file: the hex SHA-256 of its first certificate's
 * DER (what `openssl x509 -fingerprint -sha256` shows, without colons).
 * 0, or -1 with a message on stderr naming the file.
 */
int auditcmd_ca_fingerprint(const char *ca_path, char fp[65]);

/*
 * Writes the receipt of a submission as JSON to path, or when path is NULL
 * to $XDG_DATA_HOME/yuebao/receipts/ORG-PERIOD-rREV.json (~/.local/share by
 * default), with ca_sha256 (the fingerprint of the CA the submitter trusted,
 * NULL to leave it out). *written (a static buffer) names the file. Returns
 * 0, or -1 with a message on stderr.
 */
int auditcmd_save_receipt(const Yuebao__V1__SubmitReply *r, const char *path, const char *ca_sha256,
                          const char **written);

/*
 * Reads a receipt file: its entry index, leaf hash, checkpoint, the server
 * certificate (caller frees *cert) and the CA fingerprint it records (""
 * for receipts written before they did). The CA fingerprint only names the
 * CA in messages: trust comes from the user's own CA. 0 or -1 (message on
 * stderr).
 */
struct checkpoint;
int auditcmd_read_receipt(const char *path, uint64_t *index, uint8_t leaf[32],
                          struct checkpoint *cp, uint8_t **cert, size_t *cert_len,
                          char ca_sha256[65]);

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
 *   revisions.tsv        org, period, revision, state, request sha256, values,
 *                        received time, on time (1/0), reason (hex),
 *                        submitter subject (hex), certificate fingerprint
 *   reviews.tsv          org, period, revision, action, time, comment (hex),
 *                        reviewer subject (hex), certificate fingerprint
 *   closures.tsv         org, month, closed (1/0), time, comment (hex),
 *                        subject (hex), certificate fingerprint
 *   requests/SHA256.bin  every signed request exactly as the daemon received it
 * Bundles of earlier releases lack the columns after the comment or values
 * and closures.tsv: verify reads them and says what it could not check.
 */
struct auditcmd_bundle;

/*
 * Starts a bundle for DIR (which must not exist): the files are written in
 * DIR.partial (which must not exist either), with ca.crt copied from
 * ca_path, and become DIR only when the export completes, so a bundle that
 * exists is whole: an export cut short never leaves a folder that verify
 * would read as records deleted. -1 with a message on stderr.
 */
int auditcmd_bundle_open(const char *dir, const char *ca_path, struct auditcmd_bundle **out);

/*
 * Bounds the bundle to the log as head (its latest checkpoint, fetched
 * before the pages) shows it: entries from head->size on, larger
 * checkpoints and rows made after head's time are left out, so that a log
 * that grows during the export does not read as rows without entries.
 */
void auditcmd_bundle_bound(struct auditcmd_bundle *b, const struct checkpoint *head);

/*
 * Makes b an incremental bundle of the entries after the first
 * from->cp.size: since-checkpoint (from, as the auditor's file has it) says
 * where it starts, consistency.tsv ("FROM\tTO", then one hash a line) holds
 * the daemon's proof that the log of that size is a prefix of the one of
 * `to` entries. -1 when a file cannot be written (message on stderr).
 */
struct checkpoint_trusted;
int auditcmd_bundle_since(struct auditcmd_bundle *b, const struct checkpoint_trusted *from,
                          uint64_t to, const uint8_t (*proof)[32], size_t n);

/* Adds a page of each kind; the server certificate is written once. */
int auditcmd_bundle_entries(struct auditcmd_bundle *b, const Yuebao__V1__AuditLogReply *page);
int auditcmd_bundle_export(struct auditcmd_bundle *b, const Yuebao__V1__AuditExportReply *page);

/*
 * Finishes the files and frees b (NULL is allowed: -1). With complete set
 * and every file written, DIR.partial becomes DIR and 0 is returned;
 * otherwise DIR.partial is removed (what was fetched is worth nothing
 * without the rest) and -1. Only a killed process leaves DIR.partial.
 */
int auditcmd_bundle_close(struct auditcmd_bundle *b, bool complete);

/* How an offline verification ended. */
enum auditcmd_verdict {
	AUDITCMD_CHECKED,    /* checked: *problems says how many were found */
	AUDITCMD_UNREADABLE, /* the bundle or the CA could not be read (message on out) */
	AUDITCMD_OTHER_CA,   /* the bundle is of another CA: refused (message on stderr) */
};

/*
 * With trusted_path (a verified-checkpoint an earlier verify wrote; NULL for
 * none), the log up to that checkpoint is taken as verified: an incremental
 * bundle (export --since) is checked from it, through the daemon's
 * consistency proof and the new entries alone; a whole bundle must agree
 * with it at its size. Either way a log rewritten before it is a problem
 * that names both tree heads. An incremental bundle without trusted_path is
 * UNREADABLE. With no problem found, DIR/verified-checkpoint is written for
 * the next verify (a note on out says so).
 *
 * Verifies a bundle offline against the auditor's own CA (ca_path), never
 * the one inside the bundle: a bundle whose ca.crt is not that CA is
 * refused before anything else, naming both fingerprints. Prints the
 * fingerprint of the CA used, then every problem, naming the entry,
 * checkpoint or revision, on out. Unless quiet, a progress line over the
 * entries checked goes to stderr when it is a terminal (progress.h).
 */
enum auditcmd_verdict auditcmd_verify(const char *dir, const char *ca_path,
                                      const char *trusted_path, FILE *out, bool quiet,
                                      long *problems);
