/*
 * call.c - the call a handler serves: its arena, its refusal, and who may
 * act on which org unit (see call.h).
 */
#include "call.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "i18n.h"
#include "period.h"
#include "tz.h"

/*
 * Arena blocks, freed together by call_release. Small allocations are cut
 * from a shared block (a submission's decoded payload is some 300 of them);
 * one larger than BLOCK_BYTES / 4 gets a block of its own, behind the
 * current one, so the rest of the current block stays in use.
 */
#define BLOCK_BYTES 16384
/*
 * Under AddressSanitizer every allocation gets a block of its own, of the
 * exact size asked for, so that a write past it is caught as with malloc.
 */
#if defined(__SANITIZE_ADDRESS__)
#define OWN_BLOCKS true
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OWN_BLOCKS true
#endif
#endif
#ifndef OWN_BLOCKS
#define OWN_BLOCKS false
#endif
struct call_block {
	struct call_block *next;
	size_t used, cap; /* bytes of data */
	bool own;         /* holds one allocation only: arena_free may free it */
	max_align_t data[];
};

static size_t round_up(size_t n)
{
	const size_t a = _Alignof(max_align_t);
	return (n + a - 1) / a * a;
}

void *call_alloc(struct call *c, size_t n)
{
	struct call_block *b = c->arena;
	size_t need = n > SIZE_MAX / 2 ? SIZE_MAX : round_up(n ? n : 1);
	bool own = OWN_BLOCKS || need > BLOCK_BYTES / 4;
	void *p;

	if (own || b == NULL || b->cap - b->used < need) {
		size_t cap = !own ? BLOCK_BYTES : OWN_BLOCKS ? (n ? n : 1) : need;
		struct call_block *nb = cap > SIZE_MAX / 2 ? NULL : malloc(sizeof(*nb) + cap);
		if (nb == NULL) {
			c->out_of_memory = true;
			return NULL;
		}
		nb->used = 0;
		nb->cap = cap;
		nb->own = own;
		if (own)
			need = cap;
		if (own && b != NULL) {
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			c->arena = nb;
		}
		b = nb;
	}
	p = (char *)b->data + b->used;
	b->used += need;
	assert(b->used <= b->cap);
	return memset(p, 0, n);
}

static void *arena_alloc(void *c, size_t n)
{
	return call_alloc(c, n);
}

/*
 * Gives back a block of its own at once: protobuf-c frees its scratch
 * tables (as large as the message has fields) before it returns, and a
 * hostile payload of many fields would otherwise hold them until the call
 * ends. Memory cut from a shared block waits for call_release.
 */
static void arena_free(void *arg, void *p)
{
	struct call *c = arg;

	if (p == NULL)
		return;
	for (struct call_block **b = &c->arena; *b != NULL; b = &(*b)->next)
		if ((*b)->own && (void *)(*b)->data == p) {
			struct call_block *dead = *b;
			*b = dead->next;
			free(dead);
			return;
		}
}

ProtobufCAllocator call_allocator(struct call *c)
{
	return (ProtobufCAllocator){.alloc = arena_alloc, .free = arena_free, .allocator_data = c};
}

void *call_message(struct call *c, const ProtobufCMessageDescriptor *d)
{
	void *m = call_alloc(c, d->sizeof_message);

	if (m != NULL)
		protobuf_c_message_init(d, m);
	return m;
}

char *call_strdup(struct call *c, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = call_alloc(c, n);

	if (d == NULL)
		return (char *)"";
	memcpy(d, s, n);
	return d;
}

void call_release(struct call *c)
{
	while (c->arena != NULL) {
		struct call_block *b = c->arena;
		c->arena = b->next;
		free(b);
	}
	c->errors = NULL;
	c->n_errors = 0;
	c->out_of_memory = false;
}

yb_status call_refuse(struct call *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg.msg, sizeof(c->msg.msg), fmt, ap);
	va_end(ap);
	return code;
}

/*
 * The list is allocated once at its cap, so a request with many bad values
 * costs linear memory.
 */
void call_add_error(struct call *c, const char *severity, const char *field, uint32_t line,
                    const char *value, const char *message)
{
	Yuebao__V1__FieldError *e;

	if (c->errors == NULL &&
	    (c->errors = call_alloc(c, CALL_MAX_ERRORS * sizeof(*c->errors))) == NULL)
		return;
	if (c->n_errors >= CALL_MAX_ERRORS || (e = call_alloc(c, sizeof(*e))) == NULL)
		return;
	yuebao__v1__field_error__init(e);
	e->severity = call_strdup(c, severity);
	e->field = call_strdup(c, field);
	e->line = line;
	e->value = call_strdup(c, value ? value : "");
	e->message = call_strdup(c, message);
	c->errors[c->n_errors++] = e;
}

/* Reading: a branch only itself; central and auditor their subtree. */
static yb_status authorize_read(struct call *c, int idx, const char *code)
{
	const struct orgtree *t = c->world->orgs;
	int own;

	switch (c->who->kind) {
	case PKI_ROLE_BRANCH:
		if (strcmp(code, c->who->org) != 0)
			return call_refuse(c, YB_PERMISSION_DENIED,
			                   _("branch %s may not read org unit %s"), c->who->org,
			                   code);
		return YB_OK;
	case PKI_ROLE_CENTRAL:
	case PKI_ROLE_AUDITOR:
		own = orgtree_find(t, c->who->org);
		if (own < 0 || !orgtree_within(t, idx, own))
			return call_refuse(c, YB_PERMISSION_DENIED,
			                   _("%s may not read org unit %s outside its subtree"),
			                   c->who->org, code);
		return YB_OK;
	case PKI_ROLE_ADMIN:
		break;
	}
	return call_refuse(c, YB_PERMISSION_DENIED, _("a %s certificate cannot read returns"),
	                   c->who->role);
}

yb_status call_authorize(struct call *c, const char *org, enum call_access access, int *idx)
{
	const struct orgtree *t = c->world->orgs;
	const char *code = org[0] ? org : c->who->org;
	enum pki_role role = c->who->kind;
	int own, rc;

	if (access == CALL_AUDIT && role != PKI_ROLE_AUDITOR && role != PKI_ROLE_CENTRAL)
		return call_refuse(c, YB_PERMISSION_DENIED,
		                   _("the audit log is for auditors and the central "
		                     "office, not a %s certificate"),
		                   c->who->role);
	/*
	 * A branch is a unit without children: one issued for a unit with units
	 * under it would read their returns and add its own to their totals.
	 */
	if (role == PKI_ROLE_BRANCH) {
		own = orgtree_find(t, c->who->org);
		if (own >= 0 && !orgtree_is_leaf(t, own))
			return call_refuse(
			    c, YB_PERMISSION_DENIED,
			    _("the branch certificate of %s is refused: %s has units under "
			      "it in the org tree, and a branch certificate is only for a "
			      "unit without any; ask the administrator for a central or "
			      "auditor certificate"),
			    c->who->org, c->who->org);
	}
	*idx = orgtree_find(t, code);
	if (*idx < 0)
		return call_refuse(c, YB_NOT_FOUND, _("org unit '%s' is not in the org tree"),
		                   code);
	if (access == CALL_SUBMIT) {
		if (role != PKI_ROLE_BRANCH)
			return call_refuse(
			    c, YB_PERMISSION_DENIED,
			    _("a %s certificate cannot submit returns; only the branch "
			      "%s itself can"),
			    c->who->role, code);
		if (strcmp(code, c->who->org) != 0)
			return call_refuse(c, YB_PERMISSION_DENIED,
			                   _("branch %s may not submit for org unit %s"),
			                   c->who->org, code);
		return YB_OK;
	}
	if ((rc = authorize_read(c, *idx, code)) != YB_OK)
		return rc;
	if (access == CALL_REVIEW && role != PKI_ROLE_CENTRAL)
		return call_refuse(c, YB_PERMISSION_DENIED,
		                   _("a %s certificate cannot review returns or close periods; "
		                     "only the central office can"),
		                   c->who->role);
	return YB_OK;
}

yb_status call_authorize_month(struct call *c, const char *org, const char *period,
                               enum call_access access, int *idx, int *month)
{
	yb_status rc = call_authorize(c, org, access, idx);

	if (rc == YB_OK)
		rc = (yb_status)period_parse_month(period, month, &c->msg);
	return rc;
}

void call_format_when(const struct call *c, int64_t ms, char *buf, size_t len)
{
	tz_format(c->world->zone, ms, TZ_PEOPLE_MINUTES, buf, len);
}

char *call_format_value(struct call *c, const struct catalog_element *e, int64_t v)
{
	char buf[48];

	dec_format(v, e->type == CATALOG_AMOUNT ? 2 : 0, buf, sizeof(buf));
	return call_strdup(c, buf);
}

int call_current_month(const struct call *c)
{
	return period_month_at(c->world->zone, c->now_ms / 1000);
}

int call_parse_word(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

uint32_t call_page_size(uint32_t asked, uint32_t dflt, uint32_t max)
{
	return asked == 0 ? dflt : asked > max ? max : asked;
}

bool call_page_takes(const struct call *c, size_t n, size_t *used, size_t size)
{
	size += 8; /* its tag and length in the repeated field */
	if (n > 0 && *used + size > c->page_bytes)
		return false;
	*used += size;
	return true;
}

long call_parse_token(const char *token, char kind)
{
	char *end;
	long v;

	if (token[0] == '\0')
		return 0;
	if (token[0] != kind)
		return -1;
	v = strtol(token + 1, &end, 10);
	return *end != '\0' || v < 0 || v > 100000000 ? -1 : v;
}

char *call_make_token(struct call *c, char kind, long pos)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%c%ld", kind, pos);
	return call_strdup(c, buf);
}
