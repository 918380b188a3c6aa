/*
 * output.h - how the client prints catalogs, returns and consolidated
 * figures: an aligned table for people, CSV and JSON for scripts (SPEC §7).
 * Times are shown in the deployment's zone (the one the server names) with
 * their offset: "2027-01-06 04:00:00 +08:00" in tables, RFC 3339
 * ("2027-01-06T04:00:00+08:00") in CSV and JSON.
 */
#ifndef YB_OUTPUT_H
#define YB_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "catalog.h"
#include "tz.h"
#include "yuebao.pb-c.h"

enum output_format { OUTPUT_TABLE, OUTPUT_CSV, OUTPUT_JSON };

/* Parses "table", "csv" or "json"; -1 for anything else. */
int output_parse_format(const char *s, enum output_format *out);

/* Writes one CSV field, quoted when it holds a comma, quote or line break. */
void output_csv_field(FILE *f, const char *s);

/* The catalog: elements, indicators and rules. */
int output_catalog(FILE *f, const struct catalog *cat, enum output_format fmt);

/*
 * Consolidated figures. CSV goes to out with completeness notes on err; the
 * table and JSON carry completeness themselves.
 */
int output_consolidate(FILE *out, FILE *err, const Yuebao__V1__ConsolidateReply *r,
                       enum output_format fmt);

/* One revision of a return, names from cat (may be NULL), times in zone. */
int output_return(FILE *f, const Yuebao__V1__ReturnRevision *r, const struct catalog *cat,
                  const struct tz *zone, enum output_format fmt);

/* The revisions of a return and its reviews, from all pages of History. */
int output_history(FILE *f, Yuebao__V1__HistoryReply *const *pages, size_t n_pages,
                   const struct tz *zone, enum output_format fmt);

/*
 * Who has submitted, from all pages of Status: a branch × month grid, then
 * completeness and timeliness (to err in CSV mode), rounded to one decimal
 * half away from zero.
 */
int output_status(FILE *out, FILE *err, Yuebao__V1__StatusReply *const *pages, size_t n_pages,
                  const struct tz *zone, enum output_format fmt);

/*
 * The audit log, from all pages of AuditLog: each entry with who did it
 * (role, org unit, certificate fingerprint; refused certificates marked
 * unverified) and the comment of a review, close or reopen. The table ends
 * with the latest checkpoint's size and root.
 */
int output_audit_log(FILE *f, Yuebao__V1__AuditLogReply *const *pages, size_t n_pages,
                     const struct tz *zone, enum output_format fmt);

/*
 * The dates on which the server's certificate, its CA certificate and its
 * CRL run out, as Ping tells an admin (nothing for other roles): one line
 * each, in the deployment's time zone (zone), with the days left by the
 * server's clock.
 */
void output_ping_expiry(FILE *f, const Yuebao__V1__PingReply *r, const struct tz *zone);

/*
 * For an admin's ping: the daemons serving the database (several may serve
 * one PostgreSQL database), which one answered, which are gone, and which
 * serve another org tree or catalog than the one that answered. Prints
 * nothing when the reply lists none (not an admin, or an older daemon).
 */
void output_ping_daemons(FILE *f, const Yuebao__V1__PingReply *r, const struct tz *zone);

/* One finding or field error, as a line for people. */
void output_field_error(FILE *f, const Yuebao__V1__FieldError *e);

/* A problem of severity "error" ("" too), "warning" or "skipped", as a line for people. */
void output_problem(FILE *f, const char *severity, const char *message);

/*
 * A return's state ("submitted", "accepted", "rejected", "missing", "not
 * due") as a word for people, in the user's language; anything else as is.
 * CSV and JSON keep the state itself.
 */
const char *output_state_word(const char *state);

#endif
