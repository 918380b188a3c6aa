/*
 * test_rollup.c - the consolidation pre-aggregates give exactly the figures
 * of the returns themselves.
 *
 * A seeded random sequence of submissions (months with gaps, elements left
 * out, empty returns, units outside the tree), new revisions and review
 * decisions on any revision (accept, reject, reopen) runs against a real
 * SQLite store over a small tree in which inner units file returns too.
 * Between the writes, many consolidations (every unit, periods of 1 to 14
 * months, no / yoy / prev comparison, total / by org / by month, both
 * modes) are checked two ways: their element figures and completeness
 * against a brute-force model computed here from the revisions, and the
 * whole result against the store scan that consolidate falls back to.
 * The buckets maintained write by write must equal those of a rebuild,
 * byte for byte; a new org tree and catalog, a version 1 database and rows
 * written behind the pre-aggregates' back must all give the same answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "catalog.h"
#include "consolidate.h"
#include "decimal.h"
#include "orgtree.h"
#include "period.h"
#include "rollup.h"
#include "store.h"
#include "store_returns.h"

/* ---- fixtures ------------------------------------------------------------------------------ */

#define EL_HEAD "code,section,name_zh,name_en,unit,type,aggregation,min,max\n"
#define IND_HEAD "code,name_zh,name_en,unit,formula,decimals,change\n"
#define RULE_HEAD "code,rule,severity,message_zh,message_en\n"

/* Every code any return may carry; the catalogs use some of them. */
#define N_CODES 7
static const char *const codes[N_CODES] = {"s1", "s2", "s3", "l1", "l2", "l3", "n1"};
static const bool is_amount[N_CODES] = {false, true, false, false, false, true, false};

static const char cat1_elements[] = EL_HEAD "s1,org,甲,s1,x,int,sum,,\n"
                                            "l1,org,乙,l1,x,int,last,,\n"
                                            "s2,org,丙,s2,x,amount,sum,,\n"
                                            "l2,org,丁,l2,x,int,last,,\n"
                                            "s3,org,戊,s3,x,int,sum,,\n"
                                            "l3,org,己,l3,x,amount,last,,\n";
static const char cat1_indicators[] = IND_HEAD "r1,率,r1,%,s1 / l1 * 100,1,points\n"
                                               "r2,和,r2,x,s2 + l3,2,percent\n";
/* s3 gone, n1 new, l1 now summed, another order. */
static const char cat2_elements[] = EL_HEAD "l3,org,己,l3,x,amount,last,,\n"
                                            "n1,org,庚,n1,x,int,last,,\n"
                                            "s2,org,丙,s2,x,amount,sum,,\n"
                                            "l1,org,乙,l1,x,int,sum,,\n"
                                            "s1,org,甲,s1,x,int,sum,,\n"
                                            "l2,org,丁,l2,x,int,last,,\n";
static const char cat2_indicators[] = IND_HEAD "r1,率,r1,%,s1 / l2 * 100,1,points\n"
                                               "r2,商,r2,x,n1 / l1,2,percent\n";

/* Inner units AA, A3 and BB file returns too; GONE and XX are not in tree 1. */
static const char tree1[] = "code,name,parent\n"
                            "ROOT,总,\n"
                            "AA,AA,ROOT\n"
                            "A1,A1,AA\n"
                            "A2,A2,AA\n"
                            "A3,A3,AA\n"
                            "A31,A31,A3\n"
                            "A32,A32,A3\n"
                            "BB,BB,ROOT\n"
                            "B1,B1,BB\n"
                            "B2,B2,BB\n"
                            "CC,CC,ROOT\n";
/* A2 moves under BB, A32 and CC go, GONE comes: another shape. */
static const char tree2[] = "code,name,parent\n"
                            "ROOT,总,\n"
                            "BB,BB,ROOT\n"
                            "B1,B1,BB\n"
                            "A2,A2,BB\n"
                            "B2,B2,BB\n"
                            "AA,AA,ROOT\n"
                            "A1,A1,AA\n"
                            "A3,A3,AA\n"
                            "A31,A31,A3\n"
                            "GONE,GONE,ROOT\n";
/* tree 1 with other names and sibling order: the same shape. */
static const char tree1_renamed[] = "code,name,parent\n"
                                    "ROOT,总部,\n"
                                    "CC,丙,ROOT\n"
                                    "BB,乙,ROOT\n"
                                    "B2,B2,BB\n"
                                    "B1,B1,BB\n"
                                    "AA,甲,ROOT\n"
                                    "A3,A3,AA\n"
                                    "A32,A32,A3\n"
                                    "A31,A31,A3\n"
                                    "A1,A1,AA\n"
                                    "A2,A2,AA\n";

static const char *const submitters[] = {"ROOT", "AA", "A1", "A2", "A3",   "A31", "A32",
                                         "BB",   "B1", "B2", "CC", "GONE", "XX"};
#define N_SUBMITTERS (sizeof(submitters) / sizeof(submitters[0]))

static const char *const state_names[] = {"submitted", "accepted", "rejected"};

static char tmpdir[] = "/tmp/yb-test-rollup.XXXXXX";
static char db_path[256];

struct world {
	struct orgtree *orgs;
	struct catalog *cat;
};

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static struct orgtree *load_tree(const char *text)
{
	char path[300];
	struct orgtree *t = NULL;
	struct errbuf eb = {{0}};

	snprintf(path, sizeof(path), "%s/orgs.csv", tmpdir);
	write_text(path, text);
	if (orgtree_load(path, &t, &eb) != YB_OK)
		fail_msg("org tree: %s", eb.msg);
	return t;
}

static struct catalog *load_catalog(const char *elements, const char *indicators)
{
	struct catalog_file files[CATALOG_NREQUIRED] = {
	    {(char *)"elements.csv", (char *)elements, strlen(elements)},
	    {(char *)"indicators.csv", (char *)indicators, strlen(indicators)},
	    {(char *)"rules.csv", (char *)RULE_HEAD, strlen(RULE_HEAD)},
	};
	struct catalog *c = NULL;
	struct errbuf eb = {{0}};

	if (catalog_load_files(files, CATALOG_NREQUIRED, &c, &eb) != YB_OK)
		fail_msg("catalog: %s", eb.msg);
	return c;
}

static void world_free(struct world *w)
{
	orgtree_free(w->orgs);
	catalog_free(w->cat);
}

static struct store *open_store(void)
{
	struct store *s = NULL;
	struct errbuf eb = {{0}};

	if (store_open(db_path, &s, &eb) != YB_OK)
		fail_msg("store: %s", eb.msg);
	return s;
}

static void fresh_db(void)
{
	char path[300];

	snprintf(db_path, sizeof(db_path), "%s/test.db", tmpdir);
	unlink(db_path);
	snprintf(path, sizeof(path), "%s-wal", db_path);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", db_path);
	unlink(path);
}

/* SQL on the database through a connection of its own: what no yuebaod code does. */
static void raw_sql(const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_close(db);
}

struct dump {
	char *text;
	size_t len, cap;
};

static int on_dump_row(void *ctx, int n, char **vals, char **cols)
{
	struct dump *d = ctx;

	(void)cols;
	for (int i = 0; i < n; i++) {
		size_t k = strlen(vals[i] ? vals[i] : "NULL") + 2;
		if (d->len + k + 1 > d->cap) {
			d->cap = (d->len + k + 1) * 2;
			d->text = realloc(d->text, d->cap);
			assert_non_null(d->text);
		}
		d->len += (size_t)snprintf(d->text + d->len, d->cap - d->len, "%s%c",
		                           vals[i] ? vals[i] : "NULL", i + 1 < n ? '|' : '\n');
	}
	return 0;
}

/* Every bucket and effective revision, as text. */
static char *dump_rollup(void)
{
	sqlite3 *db = NULL;
	struct dump d = {calloc(1, 1), 0, 1};

	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db,
	                 "SELECT mode, node, month, next, hex(data) FROM rollup_buckets"
	                 " ORDER BY 1, 2, 3, 4;"
	                 " SELECT mode, org, month, revision FROM rollup_effective"
	                 " ORDER BY 1, 2, 3;",
	                 on_dump_row, &d, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	return d.text;
}

/* ---- the model: every revision, in memory --------------------------------------------------- */

struct rev {
	int64_t v[N_CODES];
	bool has[N_CODES];
	int state; /* index in state_names */
};

struct ret {
	const char *org;
	int month;
	struct rev *revs;
	size_t n;
};

struct model {
	struct ret *rets;
	size_t n, cap;
};

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static int base_month(void)
{
	return period_month(2024, 1);
}

static struct ret *model_find(struct model *m, const char *org, int month, bool add)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->rets[i].month == month && strcmp(m->rets[i].org, org) == 0)
			return &m->rets[i];
	if (!add)
		return NULL;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->rets = realloc(m->rets, m->cap * sizeof(*m->rets));
		assert_non_null(m->rets);
	}
	m->rets[m->n] = (struct ret){org, month, NULL, 0};
	return &m->rets[m->n++];
}

static void model_free(struct model *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->rets[i].revs);
	free(m->rets);
	memset(m, 0, sizeof(*m));
}

/* The effective revision of a return in a mode (0: not rejected, 1: accepted), or NULL. */
static const struct rev *effective(const struct ret *r, int mode)
{
	if (r == NULL)
		return NULL;
	for (size_t i = r->n; i-- > 0;)
		if (mode == 0 ? r->revs[i].state != 2 : r->revs[i].state == 1)
			return &r->revs[i];
	return NULL;
}

static int code_index(const char *code)
{
	for (int i = 0; i < N_CODES; i++)
		if (strcmp(codes[i], code) == 0)
			return i;
	fail_msg("unknown code %s", code);
	return -1;
}

/* Group aggregates computed from the revisions, as SPEC §5/§6 say. */
static void model_group(struct model *m, const struct world *w, int root, struct period p, int mode,
                        int64_t *sum, bool *has, uint32_t *present)
{
	const struct org_unit *r = &w->orgs->units[root];

	*present = 0;
	memset(sum, 0, w->cat->n_elements * sizeof(*sum));
	memset(has, 0, w->cat->n_elements * sizeof(*has));
	for (int u = r->first; u <= r->last; u++) {
		const char *org = w->orgs->units[u].code;
		for (int mo = p.first; mo <= p.last; mo++) {
			const struct rev *v = effective(model_find(m, org, mo, false), mode);
			if (v == NULL)
				continue;
			*present += orgtree_is_leaf(w->orgs, u);
			for (size_t e = 0; e < w->cat->n_elements; e++) {
				int c = code_index(w->cat->elements[e].code);
				if (w->cat->elements[e].agg == CATALOG_SUM && v->has[c]) {
					sum[e] += v->v[c];
					has[e] = true;
				}
			}
		}
		for (size_t e = 0; e < w->cat->n_elements; e++) {
			int c = code_index(w->cat->elements[e].code);
			if (w->cat->elements[e].agg != CATALOG_LAST)
				continue;
			for (int mo = p.last; mo >= p.first; mo--) {
				const struct rev *v =
				    effective(model_find(m, org, mo, false), mode);
				if (v != NULL && v->has[c]) {
					sum[e] += v->v[c];
					has[e] = true;
					break;
				}
			}
		}
	}
}

/* ---- writes ------------------------------------------------------------------------------- */

static void insert_revision(struct store *s, struct model *m, const char *org, int month,
                            const struct rev *rv)
{
	struct ret *r = model_find(m, org, month, true);
	struct store_value vals[N_CODES];
	struct store_revision sr = {0};
	struct errbuf eb = {{0}};
	static const uint8_t request[] = "request";

	sr.org = org;
	sr.month = month;
	sr.revision = (uint32_t)r->n + 1;
	sr.state = state_names[rv->state];
	sr.received_at_ms = 1;
	sr.reason = "";
	sr.subject = "CN=test";
	sr.fingerprint = "00";
	sr.request = request;
	sr.request_len = sizeof(request);
	sr.request_sha256 = "00";
	sr.values = vals;
	for (int c = 0; c < N_CODES; c++)
		if (rv->has[c])
			vals[sr.n_values++] = (struct store_value){codes[c], rv->v[c]};
	if (store_insert_revision(s, &sr, &eb) != YB_OK)
		fail_msg("insert: %s", eb.msg);
	r->revs = realloc(r->revs, (r->n + 1) * sizeof(*r->revs));
	assert_non_null(r->revs);
	r->revs[r->n++] = *rv;
}

static void random_submission(struct store *s, struct model *m)
{
	const char *org = submitters[rnd(N_SUBMITTERS)];
	/* 30 months with gaps: most returns fall in a few busy months. */
	int month = base_month() + (rnd(3) == 0 ? (int)rnd(30) : 12 + (int)rnd(6));
	struct rev rv = {{0}, {0}, 0};

	if (rnd(10) != 0)
		for (int c = 0; c < N_CODES; c++) {
			if (rnd(10) < 3)
				continue; /* left out: not reported */
			rv.has[c] = true;
			rv.v[c] = rnd(6) == 0    ? 0
			          : is_amount[c] ? (int64_t)rnd(1000000)
			                         : (int64_t)rnd(500) * DEC_SCALE;
		}
	insert_revision(s, m, org, month, &rv);
}

static void random_review(struct store *s, struct model *m)
{
	struct errbuf eb = {{0}};
	struct ret *r;
	size_t i;
	int state;

	if (m->n == 0)
		return;
	r = &m->rets[rnd((uint32_t)m->n)];
	i = rnd(4) != 0 ? r->n - 1 : rnd((uint32_t)r->n);
	state = (int)rnd(3);
	if (store_set_state(s, (struct return_key){r->org, r->month}, (uint32_t)i + 1,
	                    state_names[state], &eb) != YB_OK)
		fail_msg("set state: %s", eb.msg);
	r->revs[i].state = state;
}

/* One write transaction as a handler makes it; refresh=false leaves the change pending. */
static void random_write(struct store *s, struct model *m, bool refresh)
{
	struct errbuf eb = {{0}};

	assert_int_equal(store_begin(s, &eb), YB_OK);
	if (rnd(3) == 0)
		random_review(s, m);
	else
		random_submission(s, m);
	if (refresh && rollup_refresh(s, &eb) != YB_OK)
		fail_msg("refresh: %s", eb.msg);
	assert_int_equal(store_commit(s, &eb), YB_OK);
}

static void refresh(struct store *s)
{
	struct errbuf eb = {{0}};

	assert_int_equal(store_begin(s, &eb), YB_OK);
	if (rollup_refresh(s, &eb) != YB_OK)
		fail_msg("refresh: %s", eb.msg);
	assert_int_equal(store_commit(s, &eb), YB_OK);
}

static int log_calls;

static void count_log(const char *fmt, ...)
{
	(void)fmt;
	log_calls++;
}

/* rollup_sync as world_load runs it; returns whether it rebuilt. */
static bool sync_world(struct store *s, const struct world *w)
{
	struct errbuf eb = {{0}};
	int before = log_calls;

	assert_int_equal(store_begin(s, &eb), YB_OK);
	if (rollup_sync(s, w->orgs, w->cat, count_log, &eb) != YB_OK)
		fail_msg("sync: %s", eb.msg);
	assert_int_equal(store_commit(s, &eb), YB_OK);
	return log_calls > before;
}

static bool usable(struct store *s, const struct world *w)
{
	struct errbuf eb = {{0}};
	bool ok = false;

	assert_int_equal(rollup_usable(s, w->orgs, w->cat, &ok, &eb), YB_OK);
	return ok;
}

/* ---- checks -------------------------------------------------------------------------------- */

static void expect_figure(const struct catalog *cat, size_t e, bool has, int64_t sum,
                          const char *got, const char *what)
{
	char want[64] = "";

	if (has)
		dec_ratio_format(dec_ratio_from_hundredths(sum),
		                 cat->elements[e].type == CATALOG_AMOUNT ? 2 : 0, want,
		                 sizeof(want));
	if (strcmp(want, got) != 0)
		fail_msg("%s of %s: want '%s', got '%s'", what, cat->elements[e].code, want, got);
}

/* Every element figure and completeness count of res against the model. */
static void check_against_model(struct model *m, const struct world *w,
                                const struct consol_query *q, const struct consol_result *res)
{
	size_t ne = w->cat->n_elements;
	int64_t *sum = calloc(ne, sizeof(*sum));
	bool *has = calloc(ne, sizeof(*has));
	int mode = q->accepted_only ? 1 : 0;

	assert_non_null(sum);
	assert_non_null(has);
	for (size_t g = 0; g < res->n_groups; g++) {
		const struct consol_group *grp = &res->groups[g];
		struct period p = q->period, pp = res->previous;
		int root = q->org;
		uint32_t present;
		if (g > 0 && q->by == CONSOL_BY_ORG) {
			root = w->orgs->units[q->org].children[g - 1];
		} else if (g > 0 && q->by == CONSOL_BY_MONTH) {
			p.first = p.last = q->period.first + (int)g - 1;
			pp.first = pp.last = res->previous.first + (int)g - 1;
		}
		model_group(m, w, root, p, mode, sum, has, &present);
		assert_int_equal(grp->present, present);
		for (size_t e = 0; e < ne; e++)
			expect_figure(w->cat, e, has[e], sum[e], grp->figures[e].value, "value");
		if (!res->has_previous)
			continue;
		model_group(m, w, root, pp, mode, sum, has, &present);
		assert_int_equal(grp->previous_present, present);
		for (size_t e = 0; e < ne; e++)
			expect_figure(w->cat, e, has[e], sum[e], grp->figures[e].previous,
			              "previous");
	}
	free(sum);
	free(has);
}

static void check_same(const struct consol_result *a, const struct consol_result *b)
{
	assert_int_equal(a->n_groups, b->n_groups);
	assert_int_equal(a->n_figures, b->n_figures);
	for (size_t g = 0; g < a->n_groups; g++) {
		const struct consol_group *x = &a->groups[g], *y = &b->groups[g];
		assert_string_equal(x->key, y->key);
		assert_string_equal(x->name, y->name);
		assert_int_equal(x->expected, y->expected);
		assert_int_equal(x->present, y->present);
		assert_int_equal(x->previous_expected, y->previous_expected);
		assert_int_equal(x->previous_present, y->previous_present);
		for (size_t i = 0; i < a->n_figures; i++) {
			assert_string_equal(x->figures[i].value, y->figures[i].value);
			assert_string_equal(x->figures[i].previous, y->figures[i].previous);
			assert_string_equal(x->figures[i].change, y->figures[i].change);
			assert_string_equal(x->figures[i].change_unit, y->figures[i].change_unit);
		}
	}
}

static struct consol_result *run(struct store *s, const struct consol_query *q)
{
	struct consol_result *r = NULL;
	struct errbuf eb = {{0}};

	if (consol_run(s, q, &r, &eb) != YB_OK)
		fail_msg("consol_run: %s", eb.msg);
	return r;
}

/*
 * n random consolidations: each against the model, and, when the
 * pre-aggregates are in use, against the scan (made to run by a pending
 * change that no refresh applies meanwhile).
 */
static void check_queries(struct store *s, struct model *m, const struct world *w, int n,
                          size_t *via_rollup)
{
	bool pre = usable(s, w);

	for (int i = 0; i < n; i++) {
		struct consol_query q = {.cat = w->cat, .orgs = w->orgs};
		struct consol_result *a, *b;
		q.org = (int)rnd((uint32_t)w->orgs->n);
		q.period.first = base_month() - 2 + (int)rnd(34);
		q.period.last = q.period.first + (rnd(4) == 0 ? 0 : (int)rnd(14));
		q.compare = (enum consol_compare)rnd(3);
		q.by = (enum consol_by)rnd(3);
		q.current_month = base_month() + 26;
		q.accepted_only = rnd(3) == 0;
		a = run(s, &q);
		check_against_model(m, w, &q, a);
		if (pre) {
			raw_sql("INSERT INTO rollup_pending(org, month) VALUES ('ZZ', 0)");
			assert_false(usable(s, w));
			b = run(s, &q);
			raw_sql("DELETE FROM rollup_pending WHERE org = 'ZZ'");
			check_same(a, b);
			consol_result_free(b);
			(*via_rollup)++;
		}
		consol_result_free(a);
	}
}

/* The maintained buckets equal a rebuild's, byte for byte. */
static void check_rebuild_equal(struct store *s, const struct world *w)
{
	struct errbuf eb = {{0}};
	struct rollup_stats st;
	char *before, *after;

	refresh(s);
	before = dump_rollup();
	assert_int_equal(store_begin(s, &eb), YB_OK);
	if (rollup_rebuild(s, w->orgs, w->cat, &st, &eb) != YB_OK)
		fail_msg("rebuild: %s", eb.msg);
	assert_int_equal(store_commit(s, &eb), YB_OK);
	after = dump_rollup();
	assert_int_equal(st.units, w->orgs->n);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

/* ---- tests --------------------------------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void differential(uint64_t seed)
{
	struct world w1 = {load_tree(tree1), load_catalog(cat1_elements, cat1_indicators)};
	struct world w2 = {load_tree(tree2), load_catalog(cat2_elements, cat2_indicators)};
	struct model m = {0};
	struct store *s;
	size_t via_rollup = 0;

	rng_state = seed;
	fresh_db();
	s = open_store();
	assert_true(sync_world(s, &w1)); /* none yet: built (empty) */
	assert_false(sync_world(s, &w1));
	assert_true(usable(s, &w1));
	for (int round = 0; round < 16; round++) {
		const struct world *w = round < 8 ? &w1 : &w2;
		if (round == 8) {
			/* A reload with another tree and catalog: the scan answers until the sync.
			 */
			assert_false(usable(s, &w2));
			check_queries(s, &m, &w2, 20, &via_rollup);
			assert_true(sync_world(s, &w2));
			assert_true(usable(s, &w2));
			/* A call still holding the previous tree and catalog reads the returns. */
			assert_false(usable(s, &w1));
			check_queries(s, &m, &w1, 10, &via_rollup);
		}
		for (int k = 0; k < 40; k++)
			random_write(s, &m, rnd(5) != 0);
		/* Mostly with every change applied; sometimes some still wait. */
		if (rnd(4) != 0)
			refresh(s);
		check_queries(s, &m, w, 40, &via_rollup);
		if (round % 4 == 3)
			check_rebuild_equal(s, w);
	}
	/* Changes left pending make the next sync rebuild (returns written directly). */
	random_write(s, &m, false);
	assert_true(sync_world(s, &w2));
	check_queries(s, &m, &w2, 20, &via_rollup);
	/* The pre-aggregates did answer most queries. */
	assert_true(via_rollup > 300);
	store_close(s);
	model_free(&m);
	world_free(&w1);
	world_free(&w2);
}

static void test_differential_1(void **state)
{
	(void)state;
	differential(0x9e3779b97f4a7c15ULL);
}

static void test_differential_2(void **state)
{
	(void)state;
	differential(20260601);
}

static void test_differential_3(void **state)
{
	(void)state;
	differential(42);
}

/* Renaming units or reordering siblings changes no bucket: no rebuild. */
static void test_shape(void **state)
{
	struct orgtree *a = load_tree(tree1), *b = load_tree(tree1_renamed), *c = load_tree(tree2);

	(void)state;
	assert_string_equal(a->shape, b->shape);
	assert_string_not_equal(a->digest, b->digest);
	assert_string_not_equal(a->shape, c->shape);
	orgtree_free(a);
	orgtree_free(b);
	orgtree_free(c);
}

/* A database of schema version 1 (no pre-aggregate tables) gets them, and the same answers. */
static void test_version_1_database(void **state)
{
	struct world w = {load_tree(tree1), load_catalog(cat1_elements, cat1_indicators)};
	struct model m = {0};
	struct store *s;
	size_t via_rollup = 0;

	(void)state;
	rng_state = 7;
	fresh_db();
	s = open_store();
	for (int k = 0; k < 150; k++)
		random_write(s, &m, false);
	store_close(s);
	raw_sql("DROP TRIGGER rollup_revision_added; DROP TRIGGER rollup_state_changed;"
	        " DROP TRIGGER rollup_revision_removed; DROP TABLE rollup_meta;"
	        " DROP TABLE rollup_elements; DROP TABLE rollup_units; DROP TABLE rollup_effective;"
	        " DROP TABLE rollup_buckets; DROP TABLE rollup_pending;"
	        " ALTER TABLE revision_findings DROP COLUMN kind;"
	        " ALTER TABLE revision_findings DROP COLUMN params; PRAGMA user_version=1;");
	s = open_store();
	check_queries(s, &m, &w, 20, &via_rollup);
	assert_int_equal(via_rollup, 0);
	assert_true(sync_world(s, &w));
	for (int k = 0; k < 60; k++)
		random_write(s, &m, true);
	check_queries(s, &m, &w, 40, &via_rollup);
	assert_int_equal(via_rollup, 40);
	check_rebuild_equal(s, &w);
	store_close(s);
	model_free(&m);
	world_free(&w);
}

/*
 * Totals beyond int64: a bucket keeps them (128-bit), a query that would
 * have to print one fails as the scan does, and taking values out again
 * makes it answer.
 */
static void test_overflow(void **state)
{
	struct world w = {load_tree(tree1), load_catalog(cat1_elements, cat1_indicators)};
	struct consol_query q = {.cat = w.cat, .orgs = w.orgs, .org = 0};
	static const char *const leaves[] = {"A1", "A2", "A31", "A32", "B1", "B2", "CC"};
	const int64_t big = DEC_MAX_UNITS * DEC_SCALE; /* the largest value a return may carry */
	struct consol_result *r = NULL;
	struct errbuf eb = {{0}};
	struct model m = {0};
	struct store *s;
	int month = base_month() + 3;

	(void)state;
	fresh_db();
	s = open_store();
	sync_world(s, &w);
	assert_int_equal(store_begin(s, &eb), YB_OK);
	/* s1 = big for 7 leaves x 14 months: 98 x 1e17 hundredths > INT64_MAX (9.2e18). */
	for (int mo = 0; mo < 14; mo++)
		for (size_t i = 0; i < 7; i++) {
			struct rev rv = {{0}, {0}, 0};
			rv.has[0] = true;
			rv.v[0] = big;
			insert_revision(s, &m, leaves[i], month + mo, &rv);
		}
	assert_int_equal(rollup_refresh(s, &eb), YB_OK);
	assert_int_equal(store_commit(s, &eb), YB_OK);
	assert_true(usable(s, &w));
	q.period = (struct period){month, month + 13};
	q.current_month = month + 13;
	assert_int_equal(consol_run(s, &q, &r, &eb), YB_OUT_OF_RANGE);
	raw_sql("INSERT INTO rollup_pending(org, month) VALUES ('ZZ', 0)");
	assert_int_equal(consol_run(s, &q, &r, &eb), YB_OUT_OF_RANGE);
	raw_sql("DELETE FROM rollup_pending WHERE org = 'ZZ'");
	/* One month fits. */
	q.period = (struct period){month, month};
	r = run(s, &q);
	check_against_model(&m, &w, &q, r);
	consol_result_free(r);
	/* Rejecting all but a few brings the whole period back within range. */
	assert_int_equal(store_begin(s, &eb), YB_OK);
	for (int mo = 1; mo < 14; mo++)
		for (size_t i = 0; i < 7; i++) {
			assert_int_equal(store_set_state(s,
			                                 (struct return_key){leaves[i], month + mo},
			                                 1, "rejected", &eb),
			                 YB_OK);
			model_find(&m, leaves[i], month + mo, false)->revs[0].state = 2;
		}
	assert_int_equal(rollup_refresh(s, &eb), YB_OK);
	assert_int_equal(store_commit(s, &eb), YB_OK);
	q.period = (struct period){month, month + 13};
	q.by = CONSOL_BY_MONTH;
	r = run(s, &q);
	check_against_model(&m, &w, &q, r);
	consol_result_free(r);
	check_rebuild_equal(s, &w);
	store_close(s);
	model_free(&m);
	world_free(&w);
}

/* A damaged bucket costs speed, never a wrong figure or a refused return. */
static void test_damaged_bucket(void **state)
{
	struct world w = {load_tree(tree1), load_catalog(cat1_elements, cat1_indicators)};
	struct model m = {0};
	struct store *s;
	size_t via_rollup = 0;

	(void)state;
	rng_state = 99;
	fresh_db();
	s = open_store();
	sync_world(s, &w);
	for (int k = 0; k < 120; k++)
		random_write(s, &m, true);
	raw_sql("UPDATE rollup_buckets SET data = x'01ff' WHERE node = 'ROOT'");
	assert_true(usable(s, &w));
	/* Every query of ROOT hits a damaged bucket and reads the returns instead. */
	check_queries(s, &m, &w, 40, &via_rollup);
	raw_sql("UPDATE rollup_buckets SET data = x'02' WHERE node = 'AA'");
	/* Writes go on; touching a damaged bucket drops the pre-aggregates. */
	for (int k = 0; k < 40; k++)
		random_write(s, &m, true);
	assert_false(usable(s, &w));
	check_queries(s, &m, &w, 20, &via_rollup);
	assert_true(sync_world(s, &w));
	assert_true(usable(s, &w));
	check_queries(s, &m, &w, 20, &via_rollup);
	check_rebuild_equal(s, &w);
	store_close(s);
	model_free(&m);
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shape),
	    cmocka_unit_test(test_differential_1),
	    cmocka_unit_test(test_differential_2),
	    cmocka_unit_test(test_differential_3),
	    cmocka_unit_test(test_version_1_database),
	    cmocka_unit_test(test_overflow),
	    cmocka_unit_test(test_damaged_bucket),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
