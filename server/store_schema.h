/*
 * store_schema.h - the SQLite schema of the store and its upgrades, for
 * store_open (store.c). The version numbers and what each added are in
 * store_schema.c; PostgreSQL's schema (store_pg.c) has the same version.
 */
#ifndef YB_STORE_SCHEMA_H
#define YB_STORE_SCHEMA_H

#include "status.h"

struct store;

/* The schema version this build reads and writes. */
#define STORE_SCHEMA_VERSION 6

/* The schema version of s's SQLite database (PRAGMA user_version; 0 when new). */
int store_schema_version(struct store *s, int *version, struct errbuf *eb);

/*
 * Brings s's SQLite database from schema `version` to STORE_SCHEMA_VERSION:
 * the tables and indexes it lacks, then the steps that change existing
 * tables. Runs inside the caller's write transaction, with foreign keys
 * off and the legacy ALTER TABLE RENAME on (store_open sets them); fails
 * as the statement that failed, or with YB_DATA_LOSS when the upgrade left
 * a row pointing at nothing.
 */
int store_schema_migrate(struct store *s, int version, struct errbuf *eb);

#endif
