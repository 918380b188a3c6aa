/*
 * audit.h - the daemon's tamper-evident audit log.
 *
 * Every state change (a revision submitted, a review, a period closed or
 * reopened, an org tree or catalog loaded) and every refusal that matters to
 * security is appended as an entry, inside the same transaction as the
 * change it records. Entry i is leaf i of an RFC 6962 Merkle tree; after
 * each append the daemon signs a checkpoint (size, root, time) with its own
 * key. Editing, removing, reordering or back-dating any entry then changes a
 * root that was signed and handed out in receipts, which anyone holding the
 * CA certificate can check offline.
 *
 * An entry is the text
 *   "yuebao-audit-v1\nindex=" i "\ntime=" ms "\nactor=" subject
 *   "\nfingerprint=" hex "\naction=" action "\nobject=" object
 *   "\ndigest=" hex "\n"
 * where digest is the SHA-256 of what the entry is about (for a submission,
 * the signed request exactly as received). A submission's entry then has
 * "due=" ms "\n": the deadline in force when it was received (due day and
 * time zone of that moment), so that its on-time flag (time < due) can be
 * recomputed; entries of earlier releases have no due line. The actor is the verified
 * caller's certificate subject "O=…, OU=role, CN=code"; "yuebaod" for what
 * the daemon does itself (loads), with its server certificate's
 * fingerprint; or, for a refused call whose certificate did not verify,
 * "unverified:" and the subject that certificate claims ("" when none
 * could be read), with the fingerprint of the bytes presented. Entries of
 * earlier releases name such a caller "(unverified caller)" with no
 * fingerprint, and their loads have no fingerprint either.
 */
#ifndef YB_AUDIT_H
#define YB_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "pki.h"
#include "status.h"
#include "store.h"

/* What one append records. */
struct audit_event {
	int64_t at_ms;
	const char *actor;       /* certificate subject, or AUDIT_DAEMON */
	const char *fingerprint; /* of the actor's certificate, or "" */
	const char *action;      /* submit, review:accept, close, load:orgs, refused:..., ... */
	const char *object;      /* ORG/2026-06/r2, ORG/2026H1, a file, a method */
	const char *org;         /* "" when not about one org unit */
	int month;               /* 0 when not about one month; the first of month_last's */
	const char *digest;      /* hex SHA-256 */
	/* Last, so that positional initialisers of the fields above stay right. */
	bool unverified; /* a refused certificate: actor is what it claims */
	int64_t due_ms;  /* a submission: its deadline instant (due=); 0 for none */
	int month_last;  /* a close or reopen of several months: the last; 0 for month alone */
};

/* The actor of what the daemon does itself. */
#define AUDIT_DAEMON "yuebaod"

/* Who an entry names, read back from its text. */
struct audit_actor {
	char role[16];        /* OU: branch, central, auditor, admin; AUDIT_DAEMON; "" unknown */
	char org[65];         /* CN, the org unit code; "" when none */
	char fingerprint[65]; /* hex SHA-256 of the certificate; "" when none was recorded */
	bool verified;        /* false: a refused certificate, named as it claims itself */
};

/*
 * Reads the actor and fingerprint lines of an entry's text (any version of
 * the layout above) into *out; fields it cannot find stay empty. Control
 * characters a refused certificate may claim are replaced by '?'.
 */
void audit_entry_actor(const void *entry, size_t len, struct audit_actor *out);

/* Proof that an entry is in the log: what a submitter keeps. */
struct audit_receipt {
	uint64_t index; /* leaf index (0-based) */
	uint8_t leaf[MERKLE_HASH_LEN];
	struct checkpoint checkpoint; /* the signed checkpoint right after the entry */
};

/*
 * Appends e inside the caller's write transaction, updates the tree's right
 * edge and stores a checkpoint signed with signer. Fills *receipt when not
 * NULL. Any failure leaves the transaction to be rolled back by the caller.
 */
int audit_append(struct store *s, const struct pki_identity *signer, const struct audit_event *e,
                 struct audit_receipt *receipt, struct errbuf *eb);

/*
 * Proofs against the latest checkpoint *cp: that leaf `index` is in it
 * (*incl, *n_incl), and that the tree of old_size is a prefix of it (*cons,
 * *n_cons; old_size 0 for none). The caller frees both with free().
 * YB_OUT_OF_RANGE for an index or size beyond the log (a truncated log).
 */
int audit_proofs(struct store *s, uint64_t index, uint64_t old_size, struct checkpoint *cp,
                 uint8_t (**incl)[MERKLE_HASH_LEN], size_t *n_incl,
                 uint8_t (**cons)[MERKLE_HASH_LEN], size_t *n_cons, struct errbuf *eb);

#endif
