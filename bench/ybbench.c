/*
 * ybbench.c - the measuring half of yuebao's benchmark harness.
 *
 * bench/run.sh makes the certificates and org trees, starts and stops a real
 * yuebaod for each round and prints the report; this program does the
 * measuring, one subcommand per kind, each printing one line of
 * "key=value" words on standard output:
 *
 *   submit       N client threads sharing B branches, one rpc_client (mutual
 *                TLS connection) per branch, submitting distinct (org, month)
 *                returns to a running yuebaod, one call at a time per thread
 *   sqlite       the local limit: the same rows inserted by a plain loop into
 *                a fresh database, one transaction per return, through the
 *                daemon's own store (same schema, WAL, synchronous=FULL)
 *   rtt          Ping round trips through yuebaod, then through a raw nng
 *                REQ/REP echo server (in this process) over the same TLS
 *   gen          synthetic returns for every branch of a tree and the months
 *                of some periods, written straight into a fresh database
 *                through the daemon's store, for the consolidation rounds
 *   consolidate  Consolidate calls through yuebaod, timed (median of runs)
 *   connect      N client threads each connecting to yuebaod again and again:
 *                the time until a session is up (TCP, a full TLS handshake,
 *                the SP headers), and the daemon's CPU per connection
 *
 * Every loop is bounded by a count and by --max-seconds. Nothing here is a
 * test: it measures, and run.sh compares with the targets of issue 6.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <sqlite3.h>

#include "catalog.h"
#include "clock.h"
#include "hash.h"
#include "i18n.h"
#include "orgtree.h"
#include "period.h"
#include "pki.h"
#include "returnfile.h"
#include "rpc.h"
#include "store.h"
#include "store_returns.h"

/* Hard caps, whatever the command line says. */
#define MAX_CLIENTS 256
#define MAX_DAEMONS 8
#define MAX_COUNT 100000
/* Months per branch: 1,200 months back from 2026 is still after 1900. */
#define MAX_MONTHS 1200
#define MAX_RUNS 1000
#define MAX_SECONDS 3600
/* Per-call timeout of the RPC clients: consolidation at 10,000 branches is slow. */
#define CALL_TIMEOUT_MS 300000

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ybbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Monotonic clock in seconds. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --name VALUE from argv, or dflt. */
static const char *opt_str(int argc, char **argv, const char *name, const char *dflt)
{
	for (int i = 2; i + 1 < argc; i++)
		if (argv[i][0] == '-' && argv[i][1] == '-' && strcmp(argv[i] + 2, name) == 0)
			return argv[i + 1];
	if (dflt == NULL)
		die("%s needs --%s", argv[1], name);
	return dflt;
}

static long opt_long(int argc, char **argv, const char *name, long dflt, long min, long max)
{
	char buf[32], *end;
	const char *s;
	long v;

	snprintf(buf, sizeof(buf), "%ld", dflt);
	s = opt_str(argc, argv, name, buf);
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		die("--%s must be a whole number in %ld..%ld", name, min, max);
	return v;
}

/* CPU seconds (user + system) used so far by process pid; 0 when unknown. */
static double process_cpu_s(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	size_t n;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields 14 and 15, counted after the command name in parentheses. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile p (0..1) of v[0..n) (sorted in place); 0 when empty. */
static double percentile(double *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	k = (size_t)ceil(p * (double)n);
	return v[k > 0 ? k - 1 : 0];
}

/* Certificate and key file names of ROLE-CODE in a yuebao-certs directory. */
static void cert_paths(const char *pki, const char *role, const char *code, char *crt, char *key,
                       size_t len)
{
	snprintf(crt, len, "%s/%s-%s.crt", pki, role, code);
	snprintf(key, len, "%s/%s-%s.key", pki, role, code);
}

/* The template return: its entries, as the client would send them. */
struct template
{
	struct returnfile *rf;
	Yuebao__V1__Value *vals;
	Yuebao__V1__Value **list;
};

static void template_load(const char *path, struct template *t)
{
	struct errbuf eb = {{0}};

	if (returnfile_read(path, &t->rf, &eb) != YB_OK)
		die("%s", eb.msg);
	t->vals = calloc(t->rf->n + 1, sizeof(*t->vals));
	t->list = calloc(t->rf->n + 1, sizeof(*t->list));
	if (t->vals == NULL || t->list == NULL)
		die("out of memory");
	for (size_t i = 0; i < t->rf->n; i++) {
		yuebao__v1__value__init(&t->vals[i]);
		t->vals[i].code = (char *)t->rf->entries[i].code;
		t->vals[i].value = (char *)t->rf->entries[i].value;
		t->vals[i].line = (uint32_t)t->rf->entries[i].line;
		t->list[i] = &t->vals[i];
	}
}

static void template_free(struct template *t)
{
	free(t->vals);
	free(t->list);
	returnfile_free(t->rf);
}

/* The leaf units of an org tree file, in file (pre-)order; the caller frees the array. */
static const char **tree_leaves(const struct orgtree *t, size_t *n)
{
	const char **codes = calloc(t->n + 1, sizeof(*codes));

	if (codes == NULL)
		die("out of memory");
	*n = 0;
	for (size_t u = 0; u < t->n; u++)
		if (orgtree_is_leaf(t, (int)u))
			codes[(*n)++] = t->units[u].code;
	return codes;
}

static struct orgtree *tree_load(const char *path)
{
	struct orgtree *t = NULL;
	struct errbuf eb = {{0}};

	if (orgtree_load(path, &t, &eb) != YB_OK)
		die("%s", eb.msg);
	return t;
}

/*
 * A signed RpcRequest of `method` carrying `in`, exactly as rpc_client_call
 * builds it (the bytes the daemon stores as a revision's request).
 */
static uint8_t *build_request(const struct pki_identity *id, const char *method,
                              const ProtobufCMessage *in, size_t *len)
{
	Yuebao__V1__RpcRequest req = YUEBAO__V1__RPC_REQUEST__INIT;
	char full[128], call_id[RPC_CALL_ID_LEN + 1];
	uint8_t *payload, *signed_bytes = NULL, *sig = NULL, *wire;
	size_t payload_len, signed_len = 0, sig_len = 0, cert_len = 0;
	struct errbuf eb = {{0}};

	snprintf(full, sizeof(full), "%s%s", RPC_METHOD_PREFIX, method);
	if (rpc_new_call_id(call_id) != YB_OK)
		die("no random call id");
	payload_len = protobuf_c_message_get_packed_size(in);
	if ((payload = malloc(payload_len + 1)) == NULL)
		die("out of memory");
	protobuf_c_message_pack(in, payload);
	req.method = full;
	req.call_id = call_id;
	req.sent_at_ms = clock_now_ms();
	req.deadline_ms = req.sent_at_ms + 30000;
	req.payload.data = payload;
	req.payload.len = payload_len;
	req.caller_cert.data = (uint8_t *)pki_identity_cert(id, &cert_len);
	req.caller_cert.len = cert_len;
	req.language = "en";
	if (rpc_signed_bytes(full, call_id, req.sent_at_ms, req.deadline_ms, payload, payload_len,
	                     &signed_bytes, &signed_len) != YB_OK ||
	    pki_sign(id, signed_bytes, signed_len, &sig, &sig_len, &eb) != YB_OK)
		die("cannot sign a request: %s", eb.msg);
	req.signature.data = sig;
	req.signature.len = sig_len;
	*len = protobuf_c_message_get_packed_size(&req.base);
	if ((wire = malloc(*len + 1)) == NULL)
		die("out of memory");
	protobuf_c_message_pack(&req.base, wire);
	free(payload);
	free(signed_bytes);
	free(sig);
	return wire;
}

/* The principal the daemon would see for identity id (subject, fingerprint). */
static void principal_of(const char *pki, const struct pki_identity *id, struct pki_principal *who)
{
	char ca[4096], crl[4096];
	struct pki_verifier *v = NULL;
	struct errbuf eb = {{0}};
	uint8_t *sig = NULL;
	size_t sig_len = 0, cert_len = 0;
	const uint8_t *cert = pki_identity_cert(id, &cert_len);
	static const uint8_t probe[] = "ybbench";

	snprintf(ca, sizeof(ca), "%s/ca.crt", pki);
	snprintf(crl, sizeof(crl), "%s/crl.pem", pki);
	if (pki_verifier_new(ca, crl, &v, &eb) != YB_OK ||
	    pki_sign(id, probe, sizeof(probe), &sig, &sig_len, &eb) != YB_OK ||
	    pki_verify_caller(v, cert, cert_len, probe, sizeof(probe), sig, sig_len, time(NULL),
	                      who, &eb) != YB_OK)
		die("cannot verify the bench certificate: %s", eb.msg);
	free(sig);
	pki_verifier_free(v);
}

/* The daemon's default time zone, which bench/run.sh starts it with; loaded once. */
static const struct tz *office_zone(void)
{
	static struct tz *zone; /* lives as long as the process */
	struct errbuf eb = {{0}};

	if (zone == NULL && tz_load(TZ_DEFAULT, &zone, &eb) != YB_OK)
		die("%s", eb.msg);
	return zone;
}

/* The month in progress in that zone. */
static int current_month(void)
{
	return period_month_at(office_zone(), time(NULL));
}

/* As the daemon decides it: due by the end of day due_day (5) of the next month. */
static bool on_time(int m, int64_t now_ms)
{
	return now_ms < period_due_ms(m, 5, office_zone());
}

/*
 * What the daemon stores for the template: its values (hundredths, catalog
 * order, present ones only) and its non-error findings.
 */
struct stored_template {
	struct catalog *cat;
	struct store_value *values;
	size_t n_values;
	struct store_finding *findings;
	size_t n_findings;
	struct catalog_findings f;
	struct catalog_values v;
};

static void stored_template_make(const struct template *t, struct stored_template *st)
{
	char dir[4096];
	struct errbuf eb = {{0}};

	memset(st, 0, sizeof(*st));
	if (catalog_default_dir(dir, sizeof(dir), &eb) != YB_OK ||
	    catalog_load_dir(dir, &st->cat, &eb) != YB_OK)
		die("%s", eb.msg);
	if (catalog_check(st->cat, t->rf->entries, t->rf->n, &st->v, &st->f) != YB_OK)
		die("the template return does not pass the catalog's checks");
	st->values = calloc(st->cat->n_elements + 1, sizeof(*st->values));
	st->findings = calloc(st->f.n + 1, sizeof(*st->findings));
	if (st->values == NULL || st->findings == NULL)
		die("out of memory");
	for (size_t e = 0; e < st->cat->n_elements; e++)
		if (st->v.present[e])
			st->values[st->n_values++] =
			    (struct store_value){st->cat->elements[e].code, st->v.value[e]};
	for (size_t i = 0; i < st->f.n; i++) {
		const struct catalog_finding *x = &st->f.items[i];
		st->findings[st->n_findings++] = (struct store_finding){
		    x->kind == CATALOG_FINDING_WARNING ? "warning" : "skipped",
		    x->code,
		    (uint32_t)x->line,
		    x->value,
		    x->what,
		    x->message};
	}
}

static void stored_template_free(struct stored_template *st)
{
	free(st->values);
	free(st->findings);
	catalog_values_free(&st->v);
	catalog_findings_clear(&st->f);
	catalog_free(st->cat);
}

/* ---- submit ------------------------------------------------------------ */

/*
 * One client thread: a set of branches (a branch certificate may submit only
 * for its own org unit), each with its own rpc_client (its own TLS
 * connection), submitting month by month, one call at a time.
 */
struct submit_job {
	const char *url, *pki;
	const char **codes; /* this thread's branches */
	int n_codes;
	const struct template *tpl;
	int first_month, months;
	double max_seconds;
	pthread_barrier_t *start;
	double *lat_ms; /* n_codes * months slots */
	int done, errors;
	char error[1024];
};

static void *submit_main(void *arg)
{
	struct submit_job *j = arg;
	struct rpc_client **c = calloc((size_t)j->n_codes + 1, sizeof(*c));
	char ca[4096];
	struct errbuf eb = {{0}};
	int open = 0;
	double t0;

	if (c == NULL)
		die("out of memory");
	snprintf(ca, sizeof(ca), "%s/ca.crt", j->pki);
	for (int b = 0; b < j->n_codes; b++) {
		struct rpc_client_options o = {0};
		char crt[4096], key[4096];

		cert_paths(j->pki, "branch", j->codes[b], crt, key, sizeof(crt));
		o.url = j->url;
		o.cert_path = crt;
		o.key_path = key;
		o.ca_path = ca;
		o.timeout_ms = CALL_TIMEOUT_MS;
		if (rpc_client_open(&o, &c[b], &eb) != YB_OK) {
			j->errors += j->months;
			snprintf(j->error, sizeof(j->error), "%s: %.900s", j->codes[b], eb.msg);
			c[b] = NULL;
		} else {
			open++;
		}
	}
	pthread_barrier_wait(j->start);
	t0 = now_s();
	for (int m = 0; open > 0 && m < j->months && now_s() - t0 < j->max_seconds; m++) {
		for (int b = 0; b < j->n_codes; b++) {
			Yuebao__V1__SubmitRequest req = YUEBAO__V1__SUBMIT_REQUEST__INIT;
			ProtobufCMessage *out = NULL;
			Yuebao__V1__RpcReply *rep = NULL;
			char period[PERIOD_TEXT_MAX];
			double t;
			int rc;

			if (c[b] == NULL)
				continue;
			period_format_month(j->first_month + m, period, sizeof(period));
			req.org = (char *)j->codes[b];
			req.period = period;
			req.reason = "";
			req.values = j->tpl->list;
			req.n_values = j->tpl->rf->n;
			t = now_s();
			rc = rpc_client_call(c[b], "Submit", &req.base, NULL, &out, &rep, &eb);
			j->lat_ms[j->done] = (now_s() - t) * 1000;
			if (rc == YB_OK) {
				j->done++;
			} else if (j->errors++ == 0) {
				snprintf(j->error, sizeof(j->error), "%s %s: %.900s", j->codes[b],
				         period, eb.msg);
			}
			if (out != NULL)
				protobuf_c_message_free_unpacked(out, NULL);
			if (rep != NULL)
				yuebao__v1__rpc_reply__free_unpacked(rep, NULL);
		}
	}
	for (int b = 0; b < j->n_codes; b++)
		rpc_client_close(c[b]);
	free(c);
	return NULL;
}

/*
 * Splits a comma-separated list (modified in place) into at most max items;
 * the number of items.
 */
static int split_list(char *list, char **items, int max)
{
	int n = 0;

	for (char *save = NULL, *p = strtok_r(list, ",", &save); p != NULL && n < max;
	     p = strtok_r(NULL, ",", &save))
		items[n++] = p;
	return n;
}

/* The CPU seconds of every daemon in a comma-separated list of pids. */
static double daemons_cpu_s(const char *pids)
{
	char buf[256], *items[MAX_DAEMONS];
	double sum = 0;
	int n;

	snprintf(buf, sizeof(buf), "%s", pids);
	n = split_list(buf, items, MAX_DAEMONS);
	for (int i = 0; i < n; i++)
		sum += process_cpu_s(strtol(items[i], NULL, 10));
	return sum;
}

/*
 * ybbench submit --url URL[,URL...]: client thread i calls the daemon
 * i mod (number of URLs), so that several daemons on one database share the
 * clients evenly; --daemon-pid PID[,PID...] sums their CPU.
 */
static int cmd_submit(int argc, char **argv)
{
	char url_list[4096], *urls[MAX_DAEMONS];
	const char *pids = opt_str(argc, argv, "daemon-pid", "0");
	int n_urls;
	const char *pki = opt_str(argc, argv, "pki", NULL);
	struct orgtree *tree = tree_load(opt_str(argc, argv, "orgs", NULL));
	int clients = (int)opt_long(argc, argv, "clients", 1, 1, MAX_CLIENTS);
	int branches = (int)opt_long(argc, argv, "branches", clients, 1, MAX_CLIENTS);
	int months = (int)opt_long(argc, argv, "months", 10, 1, MAX_MONTHS);
	double max_s = (double)opt_long(argc, argv, "max-seconds", 60, 1, MAX_SECONDS);
	struct template tpl;
	struct submit_job *jobs = calloc((size_t)clients, sizeof(*jobs));
	pthread_t *th = calloc((size_t)clients, sizeof(*th));
	const char **codes = calloc((size_t)branches + 1, sizeof(*codes));
	pthread_barrier_t start;
	size_t n_leaves, n_lat = 0;
	const char **leaves = tree_leaves(tree, &n_leaves);
	double *all, t0, secs, cpu0, cpu1;
	struct rusage ru;
	int done = 0, errors = 0, k = 0;

	if (jobs == NULL || th == NULL || codes == NULL)
		die("out of memory");
	snprintf(url_list, sizeof(url_list), "%s", opt_str(argc, argv, "url", NULL));
	if ((n_urls = split_list(url_list, urls, MAX_DAEMONS)) == 0)
		die("--url names no daemon");
	if (branches < clients || (size_t)branches > n_leaves)
		die("%d clients for %d branches, and the tree has %zu", clients, branches,
		    n_leaves);
	template_load(opt_str(argc, argv, "return", NULL), &tpl);
	pthread_barrier_init(&start, NULL, (unsigned)clients + 1);
	for (int i = 0; i < clients; i++) {
		struct submit_job *j = &jobs[i];
		j->url = urls[i % n_urls];
		j->pki = pki;
		/* Branches dealt out in turn: thread i has branches i, i + clients, ... */
		j->codes = codes + k;
		for (int b = i; b < branches; b += clients)
			codes[k++] = leaves[b];
		j->n_codes = (int)(codes + k - j->codes);
		j->tpl = &tpl;
		/* The latest `months` months up to this one: a history, as real branches have. */
		j->first_month = current_month() - months + 1;
		j->months = months;
		j->max_seconds = max_s;
		j->start = &start;
		if ((j->lat_ms = calloc((size_t)j->n_codes * (size_t)months, sizeof(double))) ==
		    NULL)
			die("out of memory");
		if (pthread_create(&th[i], NULL, submit_main, j) != 0)
			die("cannot start client thread %d", i);
	}
	pthread_barrier_wait(&start);
	t0 = now_s();
	cpu0 = daemons_cpu_s(pids);
	for (int i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	secs = now_s() - t0;
	cpu1 = daemons_cpu_s(pids);
	if ((all = calloc((size_t)branches * (size_t)months + 1, sizeof(double))) == NULL)
		die("out of memory");
	for (int i = 0; i < clients; i++) {
		memcpy(all + n_lat, jobs[i].lat_ms, (size_t)jobs[i].done * sizeof(double));
		n_lat += (size_t)jobs[i].done;
		done += jobs[i].done;
		errors += jobs[i].errors;
		if (jobs[i].errors > 0)
			fprintf(stderr, "ybbench submit: %d errors, the first: %s\n",
			        jobs[i].errors, jobs[i].error);
		free(jobs[i].lat_ms);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf(
	    "submit daemons=%d clients=%d branches=%d returns=%d errors=%d seconds=%.3f rps=%.1f "
	    "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f daemon_cpu_s=%.2f client_cpu_s=%.2f\n",
	    n_urls, clients, branches, done, errors, secs, done / secs,
	    percentile(all, n_lat, 0.50), percentile(all, n_lat, 0.99), percentile(all, n_lat, 1.0),
	    cpu1 - cpu0,
	    (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	        (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	pthread_barrier_destroy(&start);
	template_free(&tpl);
	free(all);
	free(jobs);
	free(th);
	free(codes);
	free(leaves);
	orgtree_free(tree);
	return errors == 0 ? 0 : 1;
}

/* ---- sqlite: the local limit --------------------------------------------- */

static int cmd_sqlite(int argc, char **argv)
{
	const char *db = opt_str(argc, argv, "db", NULL);
	const char *pki = opt_str(argc, argv, "pki", NULL);
	struct orgtree *tree = tree_load(opt_str(argc, argv, "orgs", NULL));
	int branches = (int)opt_long(argc, argv, "branches", 64, 1, MAX_CLIENTS);
	int per = (int)opt_long(argc, argv, "months", 10, 1, MAX_MONTHS);
	double max_s = (double)opt_long(argc, argv, "max-seconds", 60, 1, MAX_SECONDS);
	size_t n_leaves, n = (size_t)branches * (size_t)per, done = 0;
	const char **leaves = tree_leaves(tree, &n_leaves);
	struct template tpl;
	struct stored_template st;
	struct pki_principal *who = calloc((size_t)branches, sizeof(*who));
	uint8_t **blobs = calloc(n, sizeof(*blobs));
	size_t *lens = calloc(n, sizeof(*lens));
	double *lat = calloc(n + 1, sizeof(*lat)), t0, secs;
	int first = current_month() - per + 1;
	struct store *s = NULL;
	struct errbuf eb = {{0}};
	size_t blob_bytes = 0;

	if (who == NULL || blobs == NULL || lens == NULL || lat == NULL)
		die("out of memory");
	if ((size_t)branches > n_leaves)
		die("the tree has only %zu branches", n_leaves);
	template_load(opt_str(argc, argv, "return", NULL), &tpl);
	stored_template_make(&tpl, &st);
	/* The request each branch would have signed, built before the clock starts. */
	for (int b = 0; b < branches; b++) {
		char crt[4096], key[4096];
		struct pki_identity *id = NULL;

		cert_paths(pki, "branch", leaves[b], crt, key, sizeof(crt));
		if (pki_identity_load(crt, key, &id, &eb) != YB_OK)
			die("%s", eb.msg);
		principal_of(pki, id, &who[b]);
		for (int m = 0; m < per; m++) {
			Yuebao__V1__SubmitRequest req = YUEBAO__V1__SUBMIT_REQUEST__INIT;
			char period[PERIOD_TEXT_MAX];
			size_t k = (size_t)m * (size_t)branches + (size_t)b;

			period_format_month(first + m, period, sizeof(period));
			req.org = (char *)leaves[b];
			req.period = period;
			req.reason = "";
			req.values = tpl.list;
			req.n_values = tpl.rf->n;
			blobs[k] = build_request(id, "Submit", &req.base, &lens[k]);
			blob_bytes += lens[k];
		}
		pki_identity_free(id);
	}
	if (store_open(db, &s, &eb) != YB_OK)
		die("%s", eb.msg);
	t0 = now_s();
	/* Month by month, every branch: the order a deadline day brings them in. */
	for (size_t k = 0; k < n && now_s() - t0 < max_s; k++) {
		int b = (int)(k % (size_t)branches), m = (int)(k / (size_t)branches);
		struct store_revision rev = {0};
		char sha[65];
		double t = now_s();

		hash_sha256_hex(blobs[k], lens[k], sha);
		rev.org = leaves[b];
		rev.month = first + m;
		rev.revision = 1;
		rev.state = "submitted";
		rev.received_at_ms = clock_now_ms();
		rev.on_time = on_time(rev.month, rev.received_at_ms);
		rev.reason = "";
		rev.subject = who[b].subject;
		rev.fingerprint = who[b].fingerprint;
		rev.request = blobs[k];
		rev.request_len = lens[k];
		rev.request_sha256 = sha;
		rev.values = st.values;
		rev.n_values = st.n_values;
		rev.findings = st.findings;
		rev.n_findings = st.n_findings;
		if (store_begin(s, &eb) != YB_OK || store_insert_revision(s, &rev, &eb) != YB_OK ||
		    store_commit(s, &eb) != YB_OK)
			die("%s", eb.msg);
		lat[done++] = (now_s() - t) * 1000;
	}
	secs = now_s() - t0;
	printf("sqlite version=%s returns=%zu values_per_return=%zu request_bytes=%zu "
	       "seconds=%.3f rps=%.1f p50_ms=%.2f p99_ms=%.2f\n",
	       sqlite3_libversion(), done, st.n_values, blob_bytes / (n ? n : 1), secs, done / secs,
	       percentile(lat, done, 0.50), percentile(lat, done, 0.99));
	store_close(s);
	for (size_t k = 0; k < n; k++)
		free(blobs[k]);
	free(blobs);
	free(lens);
	free(lat);
	free(who);
	stored_template_free(&st);
	template_free(&tpl);
	free(leaves);
	orgtree_free(tree);
	return 0;
}

/* ---- rtt: Ping through yuebaod against a raw nng echo ---------------------- */

struct echo_server {
	nng_socket sock;
	pthread_t thread;
};

static void *echo_main(void *arg)
{
	struct echo_server *e = arg;

	for (;;) {
		nng_msg *m;
		if (nng_recvmsg(e->sock, &m, 0) != 0)
			break; /* closed */
		if (nng_sendmsg(e->sock, m, 0) != 0)
			nng_msg_free(m);
	}
	return NULL;
}

/* Round trips of `wire` on an open REQ socket: n latencies in ms into lat. */
static size_t echo_loop(nng_socket sock, const uint8_t *wire, size_t len, double *lat, size_t n,
                        double max_s)
{
	double t0 = now_s();
	size_t done = 0;

	for (size_t i = 0; i < n && now_s() - t0 < max_s; i++) {
		nng_msg *m;
		double t = now_s();
		if (nng_msg_alloc(&m, 0) != 0 || nng_msg_append(m, wire, len) != 0)
			die("out of memory");
		if (nng_sendmsg(sock, m, 0) != 0)
			die("echo: cannot send");
		if (nng_recvmsg(sock, &m, 0) != 0)
			die("echo: no reply");
		if (nng_msg_len(m) != len)
			die("echo: the reply is %zu bytes, not %zu", nng_msg_len(m), len);
		nng_msg_free(m);
		lat[done++] = (now_s() - t) * 1000;
	}
	return done;
}

static int cmd_rtt(int argc, char **argv)
{
	const char *url = opt_str(argc, argv, "url", NULL);
	const char *pki = opt_str(argc, argv, "pki", NULL);
	const char *code = opt_str(argc, argv, "code", NULL);
	size_t n = (size_t)opt_long(argc, argv, "count", 1000, 10, MAX_COUNT);
	double max_s = (double)opt_long(argc, argv, "max-seconds", 30, 1, MAX_SECONDS);
	char crt[4096], key[4096], ca[4096], scrt[4096], skey[4096], crl[4096], eurl[128];
	double *lat = calloc(n + 1, sizeof(*lat)), ping50, ping99, echo50, echo99;
	struct rpc_client_options o = {0};
	struct rpc_client *c = NULL;
	struct pki_identity *id = NULL;
	struct echo_server es;
	nng_tls_config *stls = NULL, *ctls = NULL;
	nng_listener l;
	nng_dialer d;
	nng_socket cs;
	struct errbuf eb = {{0}};
	Yuebao__V1__PingRequest ping = YUEBAO__V1__PING_REQUEST__INIT;
	uint8_t *wire;
	size_t wire_len, done = 0;
	int port = 0, rv;
	double t0;

	if (lat == NULL)
		die("out of memory");
	cert_paths(pki, "branch", code, crt, key, sizeof(crt));
	snprintf(ca, sizeof(ca), "%s/ca.crt", pki);
	snprintf(scrt, sizeof(scrt), "%s/server.crt", pki);
	snprintf(skey, sizeof(skey), "%s/server.key", pki);
	snprintf(crl, sizeof(crl), "%s/crl.pem", pki);

	/* 1. Ping through yuebaod: envelope, signature, certificate checks, reply. */
	o.url = url;
	o.cert_path = crt;
	o.key_path = key;
	o.ca_path = ca;
	o.timeout_ms = CALL_TIMEOUT_MS;
	if (rpc_client_open(&o, &c, &eb) != YB_OK)
		die("%s", eb.msg);
	t0 = now_s();
	for (size_t i = 0; i < n + n / 10 && now_s() - t0 < max_s; i++) {
		ProtobufCMessage *out = NULL;
		Yuebao__V1__RpcReply *rep = NULL;
		double t = now_s();
		if (rpc_client_call(c, "Ping", &ping.base, NULL, &out, &rep, &eb) != YB_OK)
			die("ping: %s", eb.msg);
		if (i >= n / 10) /* the first tenth warms up */
			lat[done++] = (now_s() - t) * 1000;
		protobuf_c_message_free_unpacked(out, NULL);
		yuebao__v1__rpc_reply__free_unpacked(rep, NULL);
	}
	rpc_client_close(c);
	ping50 = percentile(lat, done, 0.50);
	ping99 = percentile(lat, done, 0.99);

	/* 2. A raw REQ/REP echo with the same certificates, CA, CRL and auth mode. */
	if (rpc_tls_config_new(NNG_TLS_MODE_SERVER, scrt, skey, ca, crl, &stls, &eb) != YB_OK ||
	    rpc_tls_config_new(NNG_TLS_MODE_CLIENT, crt, key, ca, NULL, &ctls, &eb) != YB_OK)
		die("%s", eb.msg);
	if ((rv = nng_tls_config_server_name(ctls, "127.0.0.1")) != 0 ||
	    (rv = nng_rep0_open(&es.sock)) != 0 ||
	    (rv = nng_listener_create(&l, es.sock, "tls+tcp://127.0.0.1:0")) != 0 ||
	    (rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, stls)) != 0 ||
	    (rv = nng_listener_start(l, 0)) != 0 ||
	    (rv = nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port)) != 0)
		die("echo server: %s", nng_strerror(rv));
	if (pthread_create(&es.thread, NULL, echo_main, &es) != 0)
		die("cannot start the echo thread");
	snprintf(eurl, sizeof(eurl), "tls+tcp://127.0.0.1:%d", port);
	if ((rv = nng_req0_open(&cs)) != 0 ||
	    (rv = nng_socket_set_ms(cs, NNG_OPT_RECVTIMEO, 10000)) != 0 ||
	    (rv = nng_dialer_create(&d, cs, eurl)) != 0 ||
	    (rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, ctls)) != 0 ||
	    (rv = nng_dialer_start(d, 0)) != 0)
		die("echo client: %s", nng_strerror(rv));
	/* The same bytes a Ping call sends: a signed RpcRequest with the certificate. */
	if (pki_identity_load(crt, key, &id, &eb) != YB_OK)
		die("%s", eb.msg);
	wire = build_request(id, "Ping", &ping.base, &wire_len);
	echo_loop(cs, wire, wire_len, lat, n / 10, max_s);
	done = echo_loop(cs, wire, wire_len, lat, n, max_s);
	echo50 = percentile(lat, done, 0.50);
	echo99 = percentile(lat, done, 0.99);
	nng_close(cs);
	nng_close(es.sock);
	pthread_join(es.thread, NULL);
	nng_tls_config_free(stls);
	nng_tls_config_free(ctls);
	pki_identity_free(id);
	free(wire);
	printf("rtt count=%zu request_bytes=%zu ping_p50_ms=%.3f ping_p99_ms=%.3f "
	       "echo_p50_ms=%.3f echo_p99_ms=%.3f ratio=%.2f\n",
	       done, wire_len, ping50, ping99, echo50, echo99, echo50 > 0 ? ping50 / echo50 : 0);
	free(lat);
	return 0;
}

/* ---- gen: synthetic returns for the consolidation rounds ------------------ */

/* Commits every this many returns: a bulk load, not a durability test. */
#define GEN_BATCH 2000
/* Months a gen run may cover. */
#define GEN_MAX_MONTHS 240

static int cmd_gen(int argc, char **argv)
{
	const char *db = opt_str(argc, argv, "db", NULL);
	const char *pki = opt_str(argc, argv, "pki", NULL);
	const char *code = opt_str(argc, argv, "code", NULL);
	const char *periods = opt_str(argc, argv, "periods", "2025H1,2026H1");
	struct orgtree *tree = tree_load(opt_str(argc, argv, "orgs", NULL));
	size_t n_leaves, total = 0;
	const char **leaves = tree_leaves(tree, &n_leaves);
	struct template tpl;
	struct stored_template st;
	struct pki_identity *id = NULL;
	struct pki_principal who;
	struct store *s = NULL;
	struct errbuf eb = {{0}};
	char crt[4096], key[4096], list[256];
	int months[GEN_MAX_MONTHS], n_months = 0;
	double t0 = now_s();

	snprintf(list, sizeof(list), "%s", periods);
	for (char *save = NULL, *p = strtok_r(list, ",", &save); p != NULL;
	     p = strtok_r(NULL, ",", &save)) {
		struct period per;
		if (period_parse(p, &per, &eb) != YB_OK)
			die("%s", eb.msg);
		for (int m = per.first; m <= per.last && n_months < GEN_MAX_MONTHS; m++)
			months[n_months++] = m;
	}
	template_load(opt_str(argc, argv, "return", NULL), &tpl);
	stored_template_make(&tpl, &st);
	cert_paths(pki, "branch", code, crt, key, sizeof(crt));
	if (pki_identity_load(crt, key, &id, &eb) != YB_OK)
		die("%s", eb.msg);
	principal_of(pki, id, &who);
	if (store_open(db, &s, &eb) != YB_OK)
		die("%s", eb.msg);
	/* Month by month, every branch: the order in which they would have arrived. */
	for (int mi = 0; mi < n_months; mi++) {
		for (size_t b = 0; b < n_leaves; b++) {
			Yuebao__V1__SubmitRequest req = YUEBAO__V1__SUBMIT_REQUEST__INIT;
			struct store_revision rev = {0};
			char period[PERIOD_TEXT_MAX], sha[65];
			uint8_t *blob;
			size_t len;

			if (total % GEN_BATCH == 0 && store_begin(s, &eb) != YB_OK)
				die("%s", eb.msg);
			period_format_month(months[mi], period, sizeof(period));
			req.org = (char *)leaves[b];
			req.period = period;
			req.reason = "";
			req.values = tpl.list;
			req.n_values = tpl.rf->n;
			blob = build_request(id, "Submit", &req.base, &len);
			hash_sha256_hex(blob, len, sha);
			rev.org = leaves[b];
			rev.month = months[mi];
			rev.revision = 1;
			rev.state = "submitted";
			rev.received_at_ms = clock_now_ms();
			rev.on_time = true;
			rev.reason = "";
			rev.subject = who.subject;
			rev.fingerprint = who.fingerprint;
			rev.request = blob;
			rev.request_len = len;
			rev.request_sha256 = sha;
			rev.values = st.values;
			rev.n_values = st.n_values;
			rev.findings = st.findings;
			rev.n_findings = st.n_findings;
			if (store_insert_revision(s, &rev, &eb) != YB_OK)
				die("%s", eb.msg);
			free(blob);
			if (++total % GEN_BATCH == 0 && store_commit(s, &eb) != YB_OK)
				die("%s", eb.msg);
		}
	}
	if (total % GEN_BATCH != 0 && store_commit(s, &eb) != YB_OK)
		die("%s", eb.msg);
	store_close(s);
	printf("gen branches=%zu months=%d returns=%zu values=%zu seconds=%.1f\n", n_leaves,
	       n_months, total, total * st.n_values, now_s() - t0);
	pki_identity_free(id);
	stored_template_free(&st);
	template_free(&tpl);
	free(leaves);
	orgtree_free(tree);
	return 0;
}

/* ---- consolidate ----------------------------------------------------------- */

static int cmd_consolidate(int argc, char **argv)
{
	const char *url = opt_str(argc, argv, "url", NULL);
	const char *pki = opt_str(argc, argv, "pki", NULL);
	const char *code = opt_str(argc, argv, "code", NULL);
	int runs = (int)opt_long(argc, argv, "runs", 5, 1, MAX_RUNS);
	double max_s = (double)opt_long(argc, argv, "max-seconds", 60, 1, MAX_SECONDS);
	Yuebao__V1__ConsolidateRequest req = YUEBAO__V1__CONSOLIDATE_REQUEST__INIT;
	char crt[4096], key[4096], ca[4096];
	struct rpc_client_options o = {0};
	struct rpc_client *c = NULL;
	struct errbuf eb = {{0}};
	double lat[MAX_RUNS + 1], t0, med;
	uint32_t present = 0, expected = 0, prev_present = 0, prev_expected = 0;
	int done = 0;

	req.org = (char *)opt_str(argc, argv, "org", code);
	req.period = (char *)opt_str(argc, argv, "period", "2026H1");
	req.compare = (char *)opt_str(argc, argv, "compare", "yoy");
	cert_paths(pki, "central", code, crt, key, sizeof(crt));
	snprintf(ca, sizeof(ca), "%s/ca.crt", pki);
	o.url = url;
	o.cert_path = crt;
	o.key_path = key;
	o.ca_path = ca;
	o.timeout_ms = CALL_TIMEOUT_MS;
	if (rpc_client_open(&o, &c, &eb) != YB_OK)
		die("%s", eb.msg);
	t0 = now_s();
	/* One warm-up call (page cache, prepared statements), then the timed runs. */
	for (int i = 0; i <= runs && (i < 2 || now_s() - t0 < max_s); i++) {
		ProtobufCMessage *out = NULL;
		Yuebao__V1__RpcReply *rep = NULL;
		const Yuebao__V1__ConsolidateReply *r;
		double t = now_s();

		if (rpc_client_call(c, "Consolidate", &req.base, NULL, &out, &rep, &eb) != YB_OK)
			die("consolidate: %s", eb.msg);
		if (i > 0)
			lat[done++] = (now_s() - t) * 1000;
		r = (const Yuebao__V1__ConsolidateReply *)out;
		if (r->n_groups > 0) {
			present = r->groups[0]->present;
			expected = r->groups[0]->expected;
			prev_present = r->groups[0]->previous_present;
			prev_expected = r->groups[0]->previous_expected;
		}
		protobuf_c_message_free_unpacked(out, NULL);
		yuebao__v1__rpc_reply__free_unpacked(rep, NULL);
	}
	rpc_client_close(c);
	med = percentile(lat, (size_t)done, 0.50);
	printf("consolidate runs=%d median_ms=%.1f min_ms=%.1f max_ms=%.1f present=%u "
	       "expected=%u previous_present=%u previous_expected=%u\n",
	       done, med, lat[0], lat[done - 1], present, expected, prev_present, prev_expected);
	return present == expected && prev_present == prev_expected ? 0 : 1;
}

/* ---- connect: connection set-up ------------------------------------------ */

struct connect_job {
	const char *url;
	nng_tls_config *tls;
	int count;
	double max_seconds;
	pthread_barrier_t *start;
	double *lat_ms;
	int done, errors;
	char error[256];
};

/*
 * One thread's connections, one after another: each a REQ socket whose
 * dialer connects (TCP, a full TLS handshake: no session is resumed, and the
 * SP header exchange), timed until the session is up, then closed.
 */
static void *connect_main(void *arg)
{
	struct connect_job *j = arg;
	double t0;

	pthread_barrier_wait(j->start);
	t0 = now_s();
	for (int i = 0; i < j->count && now_s() - t0 < j->max_seconds; i++) {
		nng_socket s;
		nng_dialer d;
		double t = now_s();
		int rv;
		if ((rv = nng_req0_open(&s)) != 0 || (rv = nng_dialer_create(&d, s, j->url)) != 0 ||
		    (rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, j->tls)) != 0 ||
		    (rv = nng_dialer_start(d, 0)) != 0) {
			if (j->errors++ == 0)
				snprintf(j->error, sizeof(j->error), "%s", nng_strerror(rv));
		} else {
			j->lat_ms[j->done++] = (now_s() - t) * 1000;
		}
		nng_close(s);
	}
	return NULL;
}

static int cmd_connect(int argc, char **argv)
{
	const char *url = opt_str(argc, argv, "url", NULL);
	const char *pki = opt_str(argc, argv, "pki", NULL);
	const char *code = opt_str(argc, argv, "code", "ZB-00001");
	int clients = (int)opt_long(argc, argv, "clients", 1, 1, MAX_CLIENTS);
	int count = (int)opt_long(argc, argv, "count", 100, 1, MAX_COUNT);
	double max_s = (double)opt_long(argc, argv, "max-seconds", 30, 1, MAX_SECONDS);
	long pid = opt_long(argc, argv, "daemon-pid", 0, 0, 1L << 30);
	char crt[4096], key[4096], ca[4096];
	struct connect_job *jobs = calloc((size_t)clients, sizeof(*jobs));
	pthread_t *th = calloc((size_t)clients, sizeof(*th));
	double *all = calloc((size_t)clients * (size_t)count + 1, sizeof(*all));
	nng_tls_config *tls = NULL;
	pthread_barrier_t start;
	struct errbuf eb = {{0}};
	double t0, secs, cpu0, cpu1;
	size_t n = 0;
	int errors = 0, rv;

	if (jobs == NULL || th == NULL || all == NULL)
		die("out of memory");
	cert_paths(pki, "branch", code, crt, key, sizeof(crt));
	snprintf(ca, sizeof(ca), "%s/ca.crt", pki);
	if (rpc_tls_config_new(NNG_TLS_MODE_CLIENT, crt, key, ca, NULL, &tls, &eb) != YB_OK)
		die("%s", eb.msg);
	if ((rv = rpc_tls_set_server(tls, url)) != 0)
		die("%s: %s", url, nng_strerror(rv));
	pthread_barrier_init(&start, NULL, (unsigned)clients + 1);
	for (int i = 0; i < clients; i++) {
		struct connect_job *j = &jobs[i];
		*j = (struct connect_job){.url = url,
		                          .tls = tls,
		                          .count = count,
		                          .max_seconds = max_s,
		                          .start = &start,
		                          .lat_ms = all + (size_t)i * (size_t)count};
		if (pthread_create(&th[i], NULL, connect_main, j) != 0)
			die("cannot start client thread %d", i);
	}
	pthread_barrier_wait(&start);
	t0 = now_s();
	cpu0 = process_cpu_s(pid);
	for (int i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	secs = now_s() - t0;
	cpu1 = process_cpu_s(pid);
	for (int i = 0; i < clients; i++) {
		/* Gather every thread's times at the front of all. */
		memmove(all + n, jobs[i].lat_ms, (size_t)jobs[i].done * sizeof(double));
		n += (size_t)jobs[i].done;
		errors += jobs[i].errors;
		if (jobs[i].errors > 0)
			fprintf(stderr, "ybbench connect: %d errors, the first: %s\n",
			        jobs[i].errors, jobs[i].error);
	}
	printf("connect clients=%d connections=%zu errors=%d seconds=%.3f per_s=%.1f p50_ms=%.2f "
	       "p99_ms=%.2f max_ms=%.2f daemon_cpu_ms=%.3f tls=%s\n",
	       clients, n, errors, secs, (double)n / secs, percentile(all, n, 0.50),
	       percentile(all, n, 0.99), percentile(all, n, 1.0),
	       n > 0 ? 1000 * (cpu1 - cpu0) / (double)n : 0.0, nng_tls_engine_name());
	pthread_barrier_destroy(&start);
	nng_tls_config_free(tls);
	free(all);
	free(jobs);
	free(th);
	return errors == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
	    {"submit", cmd_submit}, {"sqlite", cmd_sqlite},           {"rtt", cmd_rtt},
	    {"gen", cmd_gen},       {"consolidate", cmd_consolidate}, {"connect", cmd_connect}};

	i18n_init();
	for (size_t i = 0; argc >= 2 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc, argv);
	fprintf(stderr,
	        "usage: ybbench submit|sqlite|rtt|gen|consolidate|connect --OPTION VALUE...\n"
	        "(bench/run.sh runs them all; see docs/performance.md)\n");
	return 2;
}
