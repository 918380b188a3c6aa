/*
 * handlers.c - the method table of the Returns service (see handlers.h),
 * and the two methods that touch no return: Ping and GetCatalog.
 */
#include "handlers.h"

#include <string.h>

#include "daemons.h"
#include "handle_audit.h"
#include "handle_consolidate.h"
#include "handle_returns.h"
#include "handle_review.h"
#include "handle_status.h"

/*
 * The daemons serving this database (daemons.h), for an admin's Ping: a
 * failure to read them leaves the list empty rather than failing the Ping,
 * which must work when the database does not.
 */
static void list_daemons(struct call *c, Yuebao__V1__PingReply *r)
{
	struct store_daemon *seen = call_alloc(c, DAEMONS_MAX * sizeof(*seen));
	Yuebao__V1__DaemonSeen *items, **list;
	struct errbuf eb;
	size_t n = 0;

	if (seen == NULL || store_daemon_list(c->store, seen, DAEMONS_MAX, &n, &eb) != YB_OK ||
	    n == 0)
		return;
	items = call_alloc(c, n * sizeof(*items));
	list = call_alloc(c, n * sizeof(*list));
	if (items == NULL || list == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		Yuebao__V1__DaemonSeen *d = &items[i];
		yuebao__v1__daemon_seen__init(d);
		d->host = seen[i].host;
		d->pid = seen[i].pid;
		d->listen = seen[i].listen;
		d->started_at_ms = seen[i].started_at_ms;
		d->seen_at_ms = seen[i].seen_at_ms;
		d->orgs_digest = seen[i].orgs_digest;
		d->catalog_digest = seen[i].catalog_digest;
		d->self = c->daemon_id != NULL && strcmp(seen[i].id, c->daemon_id) == 0;
		d->gone = daemons_gone(&seen[i], c->now_ms);
		d->differs = strcmp(seen[i].orgs_digest, c->world->orgs->digest) != 0 ||
		             strcmp(seen[i].catalog_digest, c->world->cat->digest) != 0;
		list[i] = d;
	}
	r->daemons = list;
	r->n_daemons = n;
}

static yb_status handle_ping(struct call *c, const ProtobufCMessage *in, ProtobufCMessage *out)
{
	Yuebao__V1__PingReply *r = (Yuebao__V1__PingReply *)out;
	int idx;

	(void)in;
	idx = orgtree_find(c->world->orgs, c->who->org);
	r->version = YB_VERSION;
	r->subject = (char *)c->who->subject;
	r->role = (char *)c->who->role;
	r->org = (char *)c->who->org;
	r->org_name = idx >= 0 ? c->world->orgs->units[idx].name : "";
	r->server_time_ms = c->now_ms;
	if (c->who->kind == PKI_ROLE_ADMIN) {
		/* The administrator renews these: ping shows when they run out. */
		time_t ca, crl;
		pki_verifier_dates(c->world->verifier, &ca, &crl);
		r->server_cert_not_after_ms = (int64_t)c->world->server_cert_not_after * 1000;
		r->ca_cert_not_after_ms = (int64_t)ca * 1000;
		r->crl_next_update_ms = (int64_t)crl * 1000;
		list_daemons(c, r);
	}
	return YB_OK;
}

static yb_status handle_get_catalog(struct call *c, const ProtobufCMessage *in,
                                    ProtobufCMessage *out)
{
	const struct catalog *cat = c->world->cat;
	Yuebao__V1__CatalogReply *r = (Yuebao__V1__CatalogReply *)out;
	Yuebao__V1__CatalogFile *files = call_alloc(c, CATALOG_NFILES * sizeof(*files));
	Yuebao__V1__CatalogFile **list = call_alloc(c, CATALOG_NFILES * sizeof(*list));

	(void)in;
	if (files == NULL || list == NULL)
		return YB_ENOMEM;
	/* The optional files only when the catalog has them. */
	for (size_t i = 0; i < CATALOG_NFILES; i++) {
		Yuebao__V1__CatalogFile *f = &files[r->n_files];
		if (cat->files[i].data == NULL)
			continue;
		yuebao__v1__catalog_file__init(f);
		f->name = cat->files[i].name;
		f->content.data = (uint8_t *)cat->files[i].data;
		f->content.len = cat->files[i].len;
		list[r->n_files++] = f;
	}
	r->files = list;
	r->digest = (char *)cat->digest;
	return YB_OK;
}

/* In the order of the service declaration in proto/yuebao.proto. */
static const struct handler handlers[] = {
    {"Ping", handle_ping, NULL, NULL},
    {"GetCatalog", handle_get_catalog, NULL, NULL},
    {"Submit", NULL, handle_submit_check, handle_submit_apply},
    {"GetReturn", handle_get_return, NULL, NULL},
    {"Consolidate", handle_consolidate, NULL, NULL},
    {"History", handle_history, NULL, NULL},
    {"Review", NULL, handle_review_check, handle_review_apply},
    {"Status", handle_status, NULL, NULL},
    {"ClosePeriod", NULL, handle_close_check, handle_close_apply},
    {"AuditLog", handle_audit_log, NULL, NULL},
    {"AuditProve", handle_audit_prove, NULL, NULL},
    {"AuditExport", handle_audit_export, NULL, NULL},
    {"AuditCosign", NULL, handle_audit_cosign_check, handle_audit_cosign_apply},
};

yb_status handlers_check(struct errbuf *eb)
{
	const ProtobufCServiceDescriptor *d = &yuebao__v1__returns__descriptor;
	size_t n = sizeof(handlers) / sizeof(handlers[0]);

	if (d->n_methods != n)
		return status_fail(eb, YB_INTERNAL, "service declares %u methods, %zu handlers",
		                   d->n_methods, n);
	for (unsigned i = 0; i < d->n_methods; i++) {
		const struct handler *h = &handlers[i];
		if (strcmp(d->methods[i].name, h->method) != 0)
			return status_fail(eb, YB_INTERNAL,
			                   "service method %u is %s but its handler is for %s", i,
			                   d->methods[i].name, h->method);
		if ((h->read != NULL) == (h->check != NULL) ||
		    (h->check != NULL) != (h->apply != NULL))
			return status_fail(eb, YB_INTERNAL,
			                   "the handler of %s must read, or check and apply",
			                   h->method);
	}
	return YB_OK;
}

const struct handler *handlers_get(unsigned i)
{
	return i < sizeof(handlers) / sizeof(handlers[0]) ? &handlers[i] : NULL;
}
