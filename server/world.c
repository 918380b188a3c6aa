/*
 * world.c - loading what the daemon serves with, and recording each load
 * in the store and the audit log (see world.h).
 */
#include "world.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "checkpoint.h"
#include "clock.h"
#include "hash.h"
#include "i18n.h"
#include "log.h"
#include "rollup.h"
#include "store.h"
#include "store_audit.h"

void world_free(struct world *w)
{
	if (w == NULL)
		return;
	orgtree_free(w->orgs);
	catalog_free(w->cat);
	pki_verifier_free(w->verifier);
	free(w);
}

/*
 * The log key may sign this log: its certificate is a log certificate of
 * this CA, valid now, and the log's latest checkpoint verifies under it. A
 * log keeps its key for life: one signed by another key (an earlier log
 * key, or the TLS key that signed checkpoints before there was a log key)
 * would not verify as one log, so the daemon refuses to add to it.
 */
static int check_log_key(struct store *db, const char *ca_path, const struct pki_identity *signer,
                         struct errbuf *eb)
{
	struct pki_verifier *then = NULL;
	struct pki_principal who;
	bool signed_by_it;
	struct checkpoint last;
	struct errbuf why = {{0}};
	size_t cert_len = 0;
	const uint8_t *cert = pki_identity_cert(signer, &cert_len);
	int rc;

	if (pki_describe_cert(cert, cert_len, &who) != YB_OK)
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("the log certificate is not valid DER"));
	if (strcmp(who.role, PKI_LOG_ROLE) != 0)
		return status_fail(
		    eb, YB_INVALID_ARGUMENT,
		    _("the log certificate (%s) is not of role log: the audit log is "
		      "signed by a key of its own, issued with `yuebao-certs log DIR` "
		      "(yuebao-certs init makes one)"),
		    who.subject);
	/*
	 * As an auditor checks it: against the CA alone. A CRL issued after a
	 * checkpoint is not yet valid at its time, and dates that run out are
	 * warned about and refused elsewhere (expiry.h), not by a daemon that
	 * will not start.
	 */
	if ((rc = pki_verifier_new(ca_path, NULL, &then, eb)) != YB_OK)
		return rc;
	if (pki_verify_cert(then, cert, cert_len, PKI_ANY_TIME, &why) != YB_OK) {
		pki_verifier_free(then);
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("the log certificate (%s) does not verify against the CA: %s"),
		                   who.subject, why.msg);
	}
	rc = store_checkpoint_get(db, 0, &last, &why);
	if (rc == YB_OK) {
		/* Whether this key signed it, whatever the clocks said then (faketime, a
		 * clock set wrong): dates are what an auditor's verify judges. */
		char text[CHECKPOINT_TEXT_MAX];
		size_t n = checkpoint_text(&last, text);
		signed_by_it =
		    pki_verify_signed(then, cert, cert_len, (const uint8_t *)text, n, last.sig,
		                      last.sig_len, PKI_ANY_TIME, NULL, &why) == YB_OK;
	} else {
		signed_by_it = false;
	}
	pki_verifier_free(then);
	if (rc == YB_NOT_FOUND)
		return YB_OK; /* a new log: its first checkpoint will be this key's */
	if (rc != YB_OK)
		return status_fail(eb, rc, "%s", why.msg);
	if (!signed_by_it)
		return status_fail(
		    eb, YB_FAILED_PRECONDITION,
		    _("the audit log's latest checkpoint (size %llu) does not verify "
		      "under the log key %.16s (%s): %s. A log keeps its key for life: "
		      "give --log-cert and --log-key the pair that signed it"),
		    (unsigned long long)last.size, who.key_fingerprint, who.subject, why.msg);
	return YB_OK;
}

yb_status world_load(const struct server_config *cfg, const char *catalog_dir, struct batch *b,
                     const struct pki_identity *signer, struct world **out, struct errbuf *eb)
{
	struct world *w = calloc(1, sizeof(*w));
	int64_t now;
	struct errbuf scratch;
	struct store *db;
	int rc;

	if (w == NULL)
		return status_fail(eb, YB_ENOMEM, _("out of memory"));
	w->due_day = cfg->due_day;
	w->zone = cfg->zone;
	w->outlier_factor = cfg->outlier_factor;
	w->stock_jump_pct = cfg->stock_jump_pct;
	if ((rc = orgtree_load(cfg->orgs_path, &w->orgs, eb)) != YB_OK ||
	    (rc = catalog_load_dir(catalog_dir, &w->cat, eb)) != YB_OK ||
	    (rc = pki_verifier_new(cfg->ca_path, cfg->crl_path, &w->verifier, eb)) != YB_OK ||
	    (rc = pki_cert_not_after(cfg->cert_path, &w->server_cert_not_after, eb)) != YB_OK)
		goto fail;
	/* Through the group commit: a reload waits its turn like any write. */
	if ((rc = batch_join(b, &db, eb)) != YB_OK)
		goto fail;
	if ((rc = check_log_key(db, cfg->ca_path, signer, eb)) != YB_OK)
		goto rollback;
	now = clock_now_ms(); /* with the writing connection held, as pipeline.c's writes */
	if ((rc = store_record_load(db, "orgs", now, w->orgs->digest, cfg->orgs_path, w->orgs->text,
	                            w->orgs->text_len, eb)) != YB_OK)
		goto rollback;
	for (size_t i = 0; i < CATALOG_NFILES; i++) {
		char src[PATH_MAX + 64];
		if (w->cat->files[i].data == NULL)
			continue;
		snprintf(src, sizeof(src), "%s/%s", catalog_dir, w->cat->files[i].name);
		if ((rc = store_record_load(db, "catalog", now, w->cat->digest, src,
		                            w->cat->files[i].data, w->cat->files[i].len, eb)) !=
		    YB_OK)
			goto rollback;
	}
	{
		/*
		 * Each load is audited with the SHA-256 of exactly what was loaded,
		 * by the daemon under its own certificate.
		 */
		size_t cert_len = 0;
		const uint8_t *cert = pki_identity_cert(signer, &cert_len);
		char fp[65];
		struct audit_event ev = {.at_ms = now,
		                         .actor = AUDIT_DAEMON,
		                         .fingerprint = fp,
		                         .action = "load:orgs",
		                         .object = cfg->orgs_path,
		                         .org = "",
		                         .digest = w->orgs->digest};
		hash_sha256_hex(cert, cert_len, fp);
		if ((rc = audit_append(db, signer, &ev, NULL, eb)) != YB_OK)
			goto rollback;
		ev.action = "load:catalog";
		ev.object = catalog_dir;
		ev.digest = w->cat->digest;
		if ((rc = audit_append(db, signer, &ev, NULL, eb)) != YB_OK)
			goto rollback;
	}
	if ((rc = rollup_sync(db, w->orgs, w->cat, log_line, eb)) != YB_OK)
		goto rollback;
	if ((rc = batch_finish(b, true, eb)) != YB_OK)
		goto fail;
	log_line("loaded %zu org units from %s (sha256 %.12s), catalog of %zu elements, %zu "
	         "indicators, %zu rules from %s (sha256 %.12s)",
	         w->orgs->n, cfg->orgs_path, w->orgs->digest, w->cat->n_elements,
	         w->cat->n_indicators, w->cat->n_rules, catalog_dir, w->cat->digest);
	*out = w;
	return YB_OK;
rollback:
	batch_finish(b, false, &scratch);
fail:
	world_free(w);
	return rc;
}

void world_dates(const struct server_config *cfg, const struct world *w, struct expiry_dates *d)
{
	*d = (struct expiry_dates){.path = {cfg->cert_path, cfg->ca_path, cfg->crl_path}};
	d->at[EXPIRY_SERVER_CERT] = w->server_cert_not_after;
	pki_verifier_dates(w->verifier, &d->at[EXPIRY_CA_CERT], &d->at[EXPIRY_CRL]);
}
