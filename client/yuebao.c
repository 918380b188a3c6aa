/*
 * yuebao.c - the command-line client.
 *
 * Connection settings come from flags, then YUEBAO_* environment variables,
 * then ~/.config/yuebao/client.ini. Every command that talks to the daemon
 * goes through rpc_client_call. Exit codes (SPEC §7): 0 success, 1 the
 * server refused, 2 usage error, 3 cannot connect / TLS failure,
 * 4 validation failed.
 */
#define _XOPEN_SOURCE 700 /* strptime */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ini.h>
#include <nng/nng.h>
#include <openssl/crypto.h>
#include <xlsxwriter.h>

#include "auditcmd.h"
#include "clock.h"
#include "hash.h"
#include "catalog.h"
#include "checkpoint.h"
#include "merkle.h"
#include "narrative.h"
#include "pki.h"
#include "i18n.h"
#include "output.h"
#include "progress.h"
#include "period.h"
#include "report.h"
#include "report_html.h"
#include "report_xlsx.h"
#include "returnfile.h"
#include "sheet.h"
#include "template.h"
#include "rpc.h"
#include "tz.h"

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_CONNECT = 3, EXIT_INVALID = 4 };

struct client {
	const char *server, *cert, *key, *ca;
	const char *call_id;
	int timeout_ms;
	struct rpc_client *rpc;
	const struct tz *zone; /* the deployment's, from the first reply naming it */
	struct tz *own_zone;   /* zone when it was loaded here (not tz_utc()) */
	bool quiet;            /* --quiet: no progress lines */
};

struct command {
	const char *name;
	int (*run)(struct client *cl, int argc, char **argv);
	const char *summary;
	const char *help;
};

static const struct command *find_command(const char *name);

static const char *const global_help =
    N_("usage: yuebao [--server URL] [--cert F] [--key F] [--ca F] COMMAND [ARGS]\n"
       "\n"
       "Client of the yuebao daemon (月报): branches submit their monthly party-building\n"
       "returns; the central office reviews and consolidates them.\n"
       "\n"
       "  --server URL   daemon address, tls+tcp://HOST:PORT      (YUEBAO_SERVER)\n"
       "  --cert F       your certificate, PEM                    (YUEBAO_CERT)\n"
       "  --key F        your private key, PEM                    (YUEBAO_KEY)\n"
       "  --ca F         the deployment CA certificate, PEM       (YUEBAO_CA)\n"
       "  --timeout S    seconds to wait to connect, and for each reply (default 30)\n"
       "  --call-id ID   reuse a call id (32 hex digits) to retry a call safely:\n"
       "                 the daemon executes each call id once\n"
       "  --quiet        no progress line on long work (there is none anyway when\n"
       "                 stderr is not a terminal)\n"
       "  --version      print the version and exit\n"
       "These options may also follow the command (yuebao ping --timeout 5).\n"
       "Settings not given as flags or environment variables are read from\n"
       "~/.config/yuebao/client.ini (keys server, cert, key, ca).\n"
       "\n"
       "Commands:\n");

static const char *const global_tail =
    N_("\n"
       "`yuebao COMMAND --help` explains a command, with an example.\n"
       "Times are shown in the deployment's time zone, which the server names, with\n"
       "their offset (2027-01-06 04:00:00 +08:00); CSV and JSON carry RFC 3339 times\n"
       "(2027-01-06T04:00:00+08:00).\n"
       "Exit codes: 0 success, 1 the server refused, 2 usage error,\n"
       "3 cannot connect / TLS failure, 4 validation failed.\n");

/* Prints where to find help after a usage error; returns the usage exit code. */
static int usage_hint(const char *cmd)
{
	if (cmd != NULL && cmd[0] != '\0')
		fprintf(stderr, _("Try 'yuebao %s --help'.\n"), cmd);
	else
		fprintf(stderr, "%s", _("Try 'yuebao --help'.\n"));
	return EXIT_USAGE;
}

/*
 * Reports a usage error of command cmd (NULL: of yuebao itself). fmt is
 * English and translated here (scripts/update-po.sh extracts it).
 */
static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "yuebao%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, _(fmt), ap);
	va_end(ap);
	fputc('\n', stderr);
	return usage_hint(cmd);
}

/* ---- settings ---------------------------------------------------------- */

struct ini_settings {
	char *server, *cert, *key, *ca;
};

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct ini_settings *s = user;
	char **slot = NULL;

	(void)section;
	if (strcmp(name, "server") == 0)
		slot = &s->server;
	else if (strcmp(name, "cert") == 0)
		slot = &s->cert;
	else if (strcmp(name, "key") == 0)
		slot = &s->key;
	else if (strcmp(name, "ca") == 0)
		slot = &s->ca;
	if (slot != NULL && *slot == NULL)
		*slot = strdup(value);
	return 1;
}

/*
 * Fills unset connection settings from the environment, then the INI file.
 * Returns 0, or an exit code after saying why an existing INI file cannot
 * be used; *ini_path is the file looked at ("" when there is none to look
 * at) and *ini_errno why it was not read (0 when it was).
 */
static int resolve_settings(struct client *cl, char *ini_path, size_t len, int *ini_errno)
{
	static struct ini_settings ini;
	const char *home = getenv("HOME");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	int line;

	ini_path[0] = '\0';
	*ini_errno = 0;
	if (!cl->server)
		cl->server = getenv("YUEBAO_SERVER");
	if (!cl->cert)
		cl->cert = getenv("YUEBAO_CERT");
	if (!cl->key)
		cl->key = getenv("YUEBAO_KEY");
	if (!cl->ca)
		cl->ca = getenv("YUEBAO_CA");
	if (cl->server && cl->cert && cl->key && cl->ca)
		return 0;
	if (xdg != NULL && xdg[0])
		snprintf(ini_path, len, "%s/yuebao/client.ini", xdg);
	else if (home != NULL)
		snprintf(ini_path, len, "%s/.config/yuebao/client.ini", home);
	else
		return 0;
	if (access(ini_path, R_OK) != 0) {
		*ini_errno = errno;
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, _("yuebao: cannot read %s: %s\n"), ini_path, strerror(errno));
		return EXIT_USAGE;
	}
	if ((line = ini_parse(ini_path, on_ini, &ini)) != 0) {
		if (line < 0)
			fprintf(stderr, _("yuebao: cannot read %s: %s\n"), ini_path,
			        strerror(errno));
		else
			fprintf(stderr, _("yuebao: %s, line %d: not a key = value line\n"),
			        ini_path, line);
		return EXIT_USAGE;
	}
	if (!cl->server)
		cl->server = ini.server;
	if (!cl->cert)
		cl->cert = ini.cert;
	if (!cl->key)
		cl->key = ini.key;
	if (!cl->ca)
		cl->ca = ini.ca;
	return 0;
}

/* Connects on first use; prints why not and returns an exit code on failure. */
static int connect_client(struct client *cl)
{
	struct rpc_client_options opt;
	struct errbuf eb = {{0}};
	char ini_path[PATH_MAX];
	int rc, ini_errno;

	if (cl->rpc != NULL)
		return 0;
	if ((rc = resolve_settings(cl, ini_path, sizeof(ini_path), &ini_errno)) != 0)
		return rc;
	if (!cl->server || !cl->cert || !cl->key || !cl->ca) {
		fprintf(stderr,
		        _("yuebao: missing %s: give --server, --cert, --key and --ca, set "
		          "YUEBAO_SERVER, YUEBAO_CERT, YUEBAO_KEY and YUEBAO_CA, or write them "
		          "in ~/.config/yuebao/client.ini\n"),
		        !cl->server ? _("the server URL")
		        : !cl->cert ? _("your certificate")
		        : !cl->key  ? _("your private key")
		                    : _("the CA certificate"));
		if (ini_errno != 0)
			fprintf(stderr, _("(%s: %s)\n"), ini_path, strerror(ini_errno));
		return EXIT_USAGE;
	}
	/* As ssh does for its keys: a key others may read is no longer only yours. */
	if (pki_check_key_mode(cl->key, 077, &eb) == YB_PERMISSION_DENIED)
		fprintf(stderr, _("yuebao: warning: %s\n"), eb.msg);
	opt = (struct rpc_client_options){cl->server, cl->cert, cl->key, cl->ca, cl->timeout_ms};
	rc = rpc_client_open(&opt, &cl->rpc, &eb);
	if (rc != YB_OK) {
		fprintf(stderr, "yuebao: %s\n", eb.msg);
		if (rc == YB_ECONNECT)
			fprintf(stderr,
			        _("hint: is yuebaod running at %s, and were your certificate "
			          "and the server's issued by the same CA?\n"),
			        cl->server);
		return EXIT_CONNECT;
	}
	return 0;
}

/*
 * Calls a method and reports a failure. Returns 0 with *out set, or an exit
 * code: 1 refused, 3 no answer, 4 refused for invalid data.
 */
static int call_unless(struct client *cl, const char *method, const ProtobufCMessage *in,
                       ProtobufCMessage **out, int quiet_status);

static int call(struct client *cl, const char *method, const ProtobufCMessage *in,
                ProtobufCMessage **out)
{
	return call_unless(cl, method, in, out, -1);
}

/*
 * Takes the deployment's time zone from the first reply that names it, so
 * times show the office's clock whatever this machine's zone is. A zone
 * this machine cannot load (no tzdata) leaves UTC, said once: every time
 * still carries its offset, so none is misread.
 */
static void learn_zone(struct client *cl, const Yuebao__V1__RpcReply *reply)
{
	struct errbuf eb = {{0}};

	if (cl->zone != NULL || reply->time_zone[0] == '\0')
		return;
	if (tz_load(reply->time_zone, &cl->own_zone, &eb) == YB_OK) {
		cl->zone = cl->own_zone;
		return;
	}
	fprintf(stderr, _("yuebao: times are shown in UTC: %s\n"), eb.msg);
	cl->zone = tz_utc();
}

/* The zone to show times in: the deployment's, or UTC if no reply named one. */
static const struct tz *zone_of(const struct client *cl)
{
	return cl->zone != NULL ? cl->zone : tz_utc();
}

/* Like call(), but a reply with status quiet_status returns -1 without a word. */
static int call_unless(struct client *cl, const char *method, const ProtobufCMessage *in,
                       ProtobufCMessage **out, int quiet_status)
{
	Yuebao__V1__RpcReply *reply = NULL;
	struct errbuf eb = {{0}};
	int rc, code;

	if ((rc = connect_client(cl)) != 0)
		return rc;
	rc = rpc_client_call(cl->rpc, method, in, cl->call_id, out, &reply, &eb);
	if (reply != NULL)
		learn_zone(cl, reply);
	if (rc == YB_OK || (reply != NULL && rc == quiet_status)) {
		yuebao__v1__rpc_reply__free_unpacked(reply, NULL);
		return rc == YB_OK ? 0 : -1;
	}
	if (reply == NULL) {
		fprintf(stderr, "yuebao: %s\n", eb.msg);
		return rc == YB_ECONNECT ? EXIT_CONNECT : EXIT_REFUSED;
	}
	fprintf(stderr, _("yuebao: refused (%s): %s\n"), status_name(rc), reply->message);
	for (size_t i = 0; i < reply->n_errors; i++)
		output_field_error(stderr, reply->errors[i]);
	code = rc == YB_INVALID_ARGUMENT && reply->n_errors > 0 ? EXIT_INVALID : EXIT_REFUSED;
	yuebao__v1__rpc_reply__free_unpacked(reply, NULL);
	return code;
}

/* ---- catalog cache ----------------------------------------------------- */

static int cache_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (xdg != NULL && xdg[0])
		snprintf(buf, len, "%s/yuebao/catalog", xdg);
	else if (home != NULL && home[0])
		snprintf(buf, len, "%s/.cache/yuebao/catalog", home);
	else
		return -1;
	return 0;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(tmp, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* Keeps the daemon's catalog for offline `validate`; failures only warn. */
static void cache_catalog(const Yuebao__V1__CatalogReply *r)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];

	if (cache_dir(dir, sizeof(dir)) != 0 || mkdir_p(dir) != 0)
		return;
	for (size_t i = 0; i < r->n_files; i++) {
		FILE *f;
		if (strchr(r->files[i]->name, '/') != NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, r->files[i]->name);
		if ((f = fopen(path, "wb")) == NULL)
			continue;
		fwrite(r->files[i]->content.data, 1, r->files[i]->content.len, f);
		fclose(f);
	}
	/* An optional file the server no longer has must not linger in the cache. */
	for (size_t k = CATALOG_NREQUIRED; k < CATALOG_NFILES; k++) {
		size_t i;
		for (i = 0; i < r->n_files; i++)
			if (strcmp(r->files[i]->name, catalog_file_names[k]) == 0)
				break;
		snprintf(path, sizeof(path), "%s/%s", dir, catalog_file_names[k]);
		if (i == r->n_files)
			unlink(path);
	}
}

/* Fetches the catalog from the daemon (and caches it). */
static int fetch_catalog(struct client *cl, struct catalog **out)
{
	Yuebao__V1__GetCatalogRequest req = YUEBAO__V1__GET_CATALOG_REQUEST__INIT;
	Yuebao__V1__CatalogReply *r = NULL;
	struct catalog_file files[CATALOG_NFILES];
	struct errbuf eb = {{0}};
	int rc;

	if ((rc = call(cl, "GetCatalog", &req.base, (ProtobufCMessage **)&r)) != 0)
		return rc;
	if (r->n_files < CATALOG_NREQUIRED || r->n_files > CATALOG_NFILES) {
		fprintf(stderr, _("yuebao: the server sent %zu catalog files, expected %d to %d\n"),
		        r->n_files, CATALOG_NREQUIRED, CATALOG_NFILES);
		yuebao__v1__catalog_reply__free_unpacked(r, NULL);
		return EXIT_REFUSED;
	}
	for (size_t i = 0; i < r->n_files; i++) {
		files[i].name = r->files[i]->name;
		files[i].data = (char *)r->files[i]->content.data;
		files[i].len = r->files[i]->content.len;
	}
	rc = catalog_load_files(files, r->n_files, out, &eb);
	if (rc == YB_OK)
		cache_catalog(r);
	else
		fprintf(stderr, _("yuebao: the server's catalog does not load: %s\n"), eb.msg);
	yuebao__v1__catalog_reply__free_unpacked(r, NULL);
	return rc == YB_OK ? 0 : EXIT_REFUSED;
}

/* ---- commands ------------------------------------------------------------ */

/* Parses a command's options; returns -1 after printing help, else EXIT_USAGE on error, 0. */
struct opt_spec {
	const char *name;
	int has_arg;
	const char **value; /* string options */
	int *flag;          /* flags */
};

static int parse_opts(const char *cmd, int argc, char **argv, struct opt_spec *specs,
                      const char **positional, int npos_max, int *npos)
{
	*npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		struct opt_spec *s = NULL;
		const char *val = NULL;
		char name[64];

		if (strcmp(a, "-o") == 0) /* the one short option, as cc and curl spell it */
			a = "--output";
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			const struct command *c = find_command(cmd);
			printf("%s", _(c->help));
			return -1;
		}
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			if (*npos >= npos_max)
				return usage_error(cmd, "unexpected argument '%s'", a);
			positional[(*npos)++] = a;
			continue;
		}
		snprintf(name, sizeof(name), "%s", a + 2);
		if (strchr(name, '=') != NULL) {
			*strchr(name, '=') = '\0';
			val = strchr(a, '=') + 1;
		}
		for (struct opt_spec *p = specs; p->name != NULL; p++)
			if (strcmp(p->name, name) == 0)
				s = p;
		if (s == NULL)
			return usage_error(cmd, "unknown option '%s'", a);
		if (s->has_arg) {
			if (val == NULL) {
				if (i + 1 >= argc)
					return usage_error(cmd, "option '%s' needs a value", a);
				val = argv[++i];
			}
			*s->value = val;
		} else {
			if (val != NULL)
				return usage_error(cmd, "option '%s' takes no value", a);
			*s->flag = 1;
		}
	}
	return 0;
}

static int check_format(const char *cmd, const char *s, enum output_format *fmt)
{
	if (s == NULL) {
		*fmt = OUTPUT_TABLE;
		return 0;
	}
	if (output_parse_format(s, fmt) != 0)
		return usage_error(cmd, "--format must be table, csv or json, not '%s'", s);
	return 0;
}

/* Checks --period P of a command over any period: month, quarter, ..., range. */
static int check_period(const char *cmd, const char *p)
{
	struct errbuf eb = {{0}};
	struct period per;

	if (p == NULL)
		return usage_error(cmd, "--period is required");
	if (period_parse(p, &per, &eb) != YB_OK) {
		fprintf(stderr, "yuebao %s: %s\n", cmd, eb.msg);
		return usage_hint(cmd);
	}
	return 0;
}

/*
 * Checks --period *p of a month-only command, in any form a clerk types
 * (2026-6, 2026/06, 202606, 2026年6月), and points *p at its canonical text
 * written into canon[PERIOD_TEXT_MAX]: the daemon, its log and the signed
 * request all see "2026-06". *month (may be NULL) gets the month number.
 */
static int check_month(const char *cmd, const char **p, char *canon, int *month)
{
	struct errbuf eb = {{0}};
	int m;

	if (*p == NULL)
		return usage_error(cmd, "--period is required");
	if (period_parse_month(*p, &m, &eb) != YB_OK) {
		fprintf(stderr, "yuebao %s: %s\n", cmd, eb.msg);
		return usage_hint(cmd);
	}
	period_format_month(m, canon, PERIOD_TEXT_MAX);
	*p = canon;
	if (month != NULL)
		*month = m;
	return 0;
}

static int cmd_ping(struct client *cl, int argc, char **argv)
{
	Yuebao__V1__PingRequest req = YUEBAO__V1__PING_REQUEST__INIT;
	Yuebao__V1__PingReply *r = NULL;
	struct opt_spec specs[] = {{NULL, 0, NULL, NULL}};
	struct timespec t0, t1;
	char when[TZ_TEXT_MAX];
	int npos, rc;

	if ((rc = parse_opts("ping", argc, argv, specs, NULL, 0, &npos)) != 0)
		return rc < 0 ? 0 : rc;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = connect_client(cl)) != 0 ||
	    (rc = call(cl, "Ping", &req.base, (ProtobufCMessage **)&r)) != 0)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf(_("server %s: yuebaod %s, round trip %.1f ms\n"), cl->server, r->version,
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	printf(_("you are %s\n"), r->subject);
	printf(_("role %s, org unit %s %s\n"), r->role, r->org,
	       r->org_name[0] ? r->org_name : _("(not in the org tree)"));
	tz_format(zone_of(cl), r->server_time_ms, TZ_PEOPLE, when, sizeof(when));
	printf(_("server time %s, time zone %s\n"), when, tz_name(zone_of(cl)));
	output_ping_expiry(stdout, r, zone_of(cl));
	output_ping_daemons(stdout, r, zone_of(cl));
	yuebao__v1__ping_reply__free_unpacked(r, NULL);
	return 0;
}

static int cmd_catalog(struct client *cl, int argc, char **argv)
{
	const char *format = NULL;
	struct opt_spec specs[] = {{"format", 1, &format, NULL}, {NULL, 0, NULL, NULL}};
	struct catalog *cat = NULL;
	enum output_format fmt;
	int npos, rc;

	if ((rc = parse_opts("catalog", argc, argv, specs, NULL, 0, &npos)) != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = check_format("catalog", format, &fmt)) != 0)
		return rc;
	if ((rc = fetch_catalog(cl, &cat)) != 0)
		return rc;
	output_catalog(stdout, cat, fmt);
	catalog_free(cat);
	return 0;
}

/*
 * The stocks (`last` elements) of the return for the month before, to start
 * a template from; *prev stays NULL when there is none.
 */
static int previous_return(struct client *cl, const char *org, int month,
                           Yuebao__V1__ReturnRevision **prev)
{
	Yuebao__V1__GetReturnRequest req = YUEBAO__V1__GET_RETURN_REQUEST__INIT;
	char before[PERIOD_TEXT_MAX];
	int rc;

	*prev = NULL;
	period_format_month(month - 1, before, sizeof(before));
	req.org = (char *)(org ? org : "");
	req.period = before;
	rc = call_unless(cl, "GetReturn", &req.base, (ProtobufCMessage **)prev, YB_NOT_FOUND);
	if (rc == -1) {
		fprintf(
		    stderr,
		    _("yuebao template: no return for %s to start from; all values left blank\n"),
		    before);
		return 0;
	}
	return rc;
}

/* Whether path ends in ".xlsx" (any case). */
static bool is_xlsx_name(const char *path)
{
	size_t n = path != NULL ? strlen(path) : 0;
	return n >= 5 && strcasecmp(path + n - 5, ".xlsx") == 0;
}

static int cmd_template(struct client *cl, int argc, char **argv)
{
	const char *period = NULL, *org = NULL, *output = NULL, *format = NULL;
	int from_previous = 0;
	struct opt_spec specs[] = {{"period", 1, &period, NULL},
	                           {"org", 1, &org, NULL},
	                           {"output", 1, &output, NULL},
	                           {"format", 1, &format, NULL},
	                           {"from-previous", 0, NULL, &from_previous},
	                           {NULL, 0, NULL, NULL}};
	Yuebao__V1__ReturnRevision *prev = NULL;
	struct catalog *cat = NULL;
	const char **prefill = NULL;
	struct template_spec t;
	struct errbuf eb = {{0}};
	FILE *f = stdout;
	char canon[PERIOD_TEXT_MAX];
	size_t filled = 0;
	bool xlsx;
	int npos, month, rc;

	if ((rc = parse_opts("template", argc, argv, specs, NULL, 0, &npos)) != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = check_month("template", &period, canon, &month)) != 0)
		return rc;
	if (format != NULL && strcmp(format, "csv") != 0 && strcmp(format, "xlsx") != 0)
		return usage_error("template", "--format must be csv or xlsx, not '%s'", format);
	xlsx = format != NULL ? strcmp(format, "xlsx") == 0 : is_xlsx_name(output);
	if (xlsx && output == NULL)
		return usage_error("template",
		                   "an xlsx template is a file: give -o FILE.xlsx (the terminal "
		                   "cannot show a workbook)");
	if ((rc = fetch_catalog(cl, &cat)) != 0)
		return rc;
	if (from_previous && (rc = previous_return(cl, org, month, &prev)) != 0)
		goto done;
	if ((prefill = calloc(cat->n_elements + 1, sizeof(*prefill))) == NULL) {
		rc = EXIT_REFUSED;
		goto done;
	}
	/* Only stocks carry over: a flow is the month's own. */
	for (size_t i = 0; prev != NULL && i < cat->n_elements; i++)
		for (size_t k = 0; cat->elements[i].agg == CATALOG_LAST && k < prev->n_values; k++)
			if (strcmp(prev->values[k]->code, cat->elements[i].code) == 0 &&
			    prev->values[k]->value[0] != '\0') {
				prefill[i] = prev->values[k]->value;
				filled++;
			}
	t = (struct template_spec){.cat = cat, .month = month, .prefill = prefill};
	if (xlsx) {
		if (template_write_xlsx(output, &t, &eb) != YB_OK) {
			fprintf(stderr, "yuebao template: %s\n", eb.msg);
			rc = EXIT_USAGE;
			goto done;
		}
	} else {
		if (output != NULL && (f = fopen(output, "wx")) == NULL) {
			fprintf(stderr, _("yuebao template: cannot create %s: %s\n"), output,
			        strerror(errno));
			rc = EXIT_USAGE;
			goto done;
		}
		/* A file gets a byte-order mark: without it Excel reads UTF-8 Chinese as mojibake.
		 */
		template_write_csv(f, &t, f != stdout);
		if (f != stdout && fclose(f) != 0) {
			fprintf(stderr, _("yuebao template: cannot write %s: %s\n"), output,
			        strerror(errno));
			rc = EXIT_USAGE;
			goto done;
		}
	}
	if (prev != NULL)
		fprintf(stderr,
		        filled == 1
		            ? _("started from %s revision %u: %zu stock value filled in\n")
		            : _("started from %s revision %u: %zu stock values filled in\n"),
		        prev->period, prev->revision, filled);
	if (output != NULL) {
		if (org != NULL)
			fprintf(stderr,
			        _("wrote %s: fill in the values for %s of %s, then: yuebao submit "
			          "%s --org %s\n"),
			        output, period, org, output, org);
		else
			fprintf(stderr,
			        _("wrote %s: fill in the values for %s, then: yuebao submit %s\n"),
			        output, period, output);
	}
	rc = 0;
done:
	if (prev != NULL)
		yuebao__v1__return_revision__free_unpacked(prev, NULL);
	free(prefill);
	catalog_free(cat);
	return rc;
}

/*
 * Settles the month of the return rf read from path: *month is the month
 * --period gave, or -1. The month the file's period row names must agree
 * with it, and stands in for it when --period was not given. Writes the
 * month's canonical text into canon[PERIOD_TEXT_MAX], "" when neither names
 * one (*month stays -1). Returns 0, or EXIT_INVALID (said why) when the two
 * differ: a June file submitted as May is refused, never filed as May.
 */
static int settle_month(const char *cmd, const char *path, const struct returnfile *rf, int *month,
                        char *canon)
{
	char in_file[PERIOD_TEXT_MAX];

	canon[0] = '\0';
	if (rf->month_line > 0) {
		period_format_month(rf->month, in_file, sizeof(in_file));
		if (*month >= 0 && *month != rf->month) {
			period_format_month(*month, canon, PERIOD_TEXT_MAX);
			fprintf(stderr,
			        _("yuebao %s: %s: line %zu: the file is the return for %s, but "
			          "--period is %s: check which month you mean (the period row of "
			          "the file, or --period)\n"),
			        cmd, path, rf->month_line, in_file, canon);
			return EXIT_INVALID;
		}
		*month = rf->month;
	}
	if (*month >= 0)
		period_format_month(*month, canon, PERIOD_TEXT_MAX);
	return 0;
}

static void print_findings(FILE *f, const struct catalog_findings *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		const struct catalog_finding *x = &fs->items[i];
		output_problem(f,
		               x->kind == CATALOG_FINDING_ERROR     ? "error"
		               : x->kind == CATALOG_FINDING_WARNING ? "warning"
		                                                    : "skipped",
		               x->message);
	}
}

static int cmd_validate(struct client *cl, int argc, char **argv)
{
	const char *catalog_dir = NULL, *period = NULL, *pos[1];
	struct opt_spec specs[] = {{"catalog", 1, &catalog_dir, NULL},
	                           {"period", 1, &period, NULL},
	                           {NULL, 0, NULL, NULL}};
	struct catalog *cat = NULL;
	struct returnfile *rf = NULL;
	struct catalog_values vals = {0};
	struct catalog_findings fs = {0};
	struct errbuf eb = {{0}};
	char dir[PATH_MAX], where[PATH_MAX + 64], canon[PERIOD_TEXT_MAX];
	int npos, rc, month = -1;

	(void)cl;
	if ((rc = parse_opts("validate", argc, argv, specs, pos, 1, &npos)) != 0)
		return rc < 0 ? 0 : rc;
	if (npos != 1)
		return usage_error("validate", "give the file to check");
	if (period != NULL && (rc = check_month("validate", &period, canon, &month)) != 0)
		return rc;
	if (catalog_dir != NULL) {
		snprintf(dir, sizeof(dir), "%s", catalog_dir);
		snprintf(where, sizeof(where), _("catalog %s"), dir);
	} else if (cache_dir(dir, sizeof(dir)) == 0 && access(dir, R_OK) == 0) {
		struct stat st;
		char el[PATH_MAX + 16];
		snprintf(el, sizeof(el), "%s/elements.csv", dir);
		if (stat(el, &st) == 0) {
			char t[32];
			strftime(t, sizeof(t), "%Y-%m-%d %H:%M %z", localtime(&st.st_mtime));
			snprintf(where, sizeof(where),
			         _("the catalog cached from the server on %s"), t);
		} else {
			snprintf(where, sizeof(where), _("cached catalog %s"), dir);
		}
	} else if (catalog_default_dir(dir, sizeof(dir), NULL) == YB_OK) {
		snprintf(where, sizeof(where), "%s",
		         _("the default catalog (run `yuebao catalog` once to use the server's)"));
	} else {
		fprintf(stderr, "%s",
		        _("yuebao validate: no catalog: run `yuebao catalog` once while "
		          "connected, or give --catalog DIR\n"));
		return EXIT_USAGE;
	}
	if ((rc = catalog_load_dir(dir, &cat, &eb)) != YB_OK) {
		fprintf(stderr, "yuebao validate: %s\n", eb.msg);
		return EXIT_USAGE;
	}
	if ((rc = returnfile_read(pos[0], &rf, &eb)) != YB_OK) {
		fprintf(stderr, "yuebao validate: %s\n", eb.msg);
		catalog_free(cat);
		return EXIT_INVALID;
	}
	if ((rc = settle_month("validate", pos[0], rf, &month, canon)) != 0) {
		returnfile_free(rf);
		catalog_free(cat);
		return rc;
	}
	rc = catalog_check(cat, rf->entries, rf->n, &vals, &fs);
	if (canon[0] != '\0')
		fprintf(stderr, _("checked %s, the return for %s, against %s\n"), pos[0], canon,
		        where);
	else
		fprintf(stderr, _("checked %s against %s\n"), pos[0], where);
	print_findings(stdout, &fs);
	if (rc == YB_OK) {
		char nv[128], nw[64], ns[64];
		size_t given = 0, blank;

		/* The values given, not the rows: blank ones are not reported. */
		for (size_t i = 0; i < vals.n; i++)
			given += vals.present[i];
		blank = cat->n_elements - given;
		snprintf(nv, sizeof(nv), given == 1 ? _("%zu value") : _("%zu values"), given);
		if (blank > 0)
			snprintf(nv + strlen(nv), sizeof(nv) - strlen(nv),
			         blank == 1 ? _(" (%zu element not reported)")
			                    : _(" (%zu elements not reported)"),
			         blank);
		snprintf(nw, sizeof(nw), fs.warnings == 1 ? _("%zu warning") : _("%zu warnings"),
		         fs.warnings);
		snprintf(ns, sizeof(ns),
		         fs.skipped == 1 ? _("%zu rule skipped") : _("%zu rules skipped"),
		         fs.skipped);
		/* TRANSLATORS: the file, then "81 values", "0 warnings", "2 rules skipped" */
		printf(_("%s: valid, %s, %s, %s\n"), pos[0], nv, nw, ns);
	} else {
		printf(fs.errors == 1 ? _("%s: %zu error\n") : _("%s: %zu errors\n"), pos[0],
		       fs.errors);
	}
	catalog_values_free(&vals);
	catalog_findings_clear(&fs);
	returnfile_free(rf);
	catalog_free(cat);
	return rc == YB_OK ? 0 : EXIT_INVALID;
}

/* Ranks exit codes for a command that does several things: the worst wins. */
static int exit_worse(int a, int b)
{
	/* 0 success < 4 a file was invalid < 1 the server refused < 3 cannot connect */
	static const int rank[] = {
	    [0] = 0, [EXIT_INVALID] = 1, [EXIT_REFUSED] = 2, [EXIT_CONNECT] = 3, [EXIT_USAGE] = 4};
	if (a < 0 || a > EXIT_INVALID)
		return a;
	if (b < 0 || b > EXIT_INVALID)
		return b;
	return rank[b] > rank[a] ? b : a;
}

/* Files one submit takes. */
#define SUBMIT_MAX_FILES 1000

/* What became of one file of a submit, for the summary of a bulk submit. */
struct submit_result {
	char period[PERIOD_TEXT_MAX]; /* "" when the file named none */
	uint32_t revision;            /* 0 when nothing was stored */
	bool on_time, dry_run;
};

/*
 * Submits the return in path: month is --period's (-1 when not given),
 * checked against the file's own. Prints the outcome (receipt, warnings)
 * as a single submit always has. Returns 0 or an exit code; one Submit call,
 * so the daemon stores the whole file or nothing of it.
 */
static int submit_file(struct client *cl, const char *path, int month, const char *org,
                       const char *reason, bool dry_run, const char *receipt,
                       struct submit_result *res)
{
	Yuebao__V1__SubmitRequest req = YUEBAO__V1__SUBMIT_REQUEST__INIT;
	Yuebao__V1__SubmitReply *r = NULL;
	Yuebao__V1__Value *vals = NULL, **list = NULL;
	struct returnfile *rf = NULL;
	struct errbuf eb = {{0}};
	char when[TZ_TEXT_MAX], canon[PERIOD_TEXT_MAX];
	int rc;

	*res = (struct submit_result){.dry_run = dry_run};
	if (returnfile_read(path, &rf, &eb) != YB_OK) {
		fprintf(stderr, "yuebao submit: %s\n", eb.msg);
		return EXIT_INVALID;
	}
	if ((rc = settle_month("submit", path, rf, &month, canon)) != 0)
		goto done;
	snprintf(res->period, sizeof(res->period), "%s", canon);
	if (month < 0) {
		rc = usage_error("submit",
		                 "--period is required: %s does not name its month (it has no "
		                 "period row)",
		                 path);
		goto done;
	}
	vals = calloc(rf->n + 1, sizeof(*vals));
	list = calloc(rf->n + 1, sizeof(*list));
	if (vals == NULL || list == NULL) {
		rc = EXIT_REFUSED;
		goto done;
	}
	for (size_t i = 0; i < rf->n; i++) {
		yuebao__v1__value__init(&vals[i]);
		vals[i].code = (char *)rf->entries[i].code;
		vals[i].value = (char *)rf->entries[i].value;
		vals[i].line = (uint32_t)rf->entries[i].line;
		list[i] = &vals[i];
	}
	req.org = (char *)(org ? org : "");
	req.period = canon;
	req.reason = (char *)(reason ? reason : "");
	req.dry_run = dry_run;
	req.values = list;
	req.n_values = rf->n;
	if ((rc = call(cl, "Submit", &req.base, (ProtobufCMessage **)&r)) != 0)
		goto done;
	tz_format(zone_of(cl), r->received_at_ms, TZ_PEOPLE, when, sizeof(when));
	if (r->dry_run)
		printf(_("dry run: the return of %s for %s is valid and was not stored\n"), r->org,
		       r->period);
	else
		printf(_("submitted %s %s revision %u, %s, received %s\nrequest sha256 %s\n"),
		       r->org, r->period, r->revision, r->on_time ? _("on time") : _("late"), when,
		       r->request_sha256);
	for (size_t i = 0; i < r->n_findings; i++)
		output_field_error(stdout, r->findings[i]);
	if (!r->dry_run) {
		/* The CA this call trusted names the deployment in the receipt. */
		const char *written = NULL;
		char ca_sha256[65];
		if (auditcmd_save_receipt(
		        r, receipt,
		        auditcmd_ca_fingerprint(cl->ca, ca_sha256) == 0 ? ca_sha256 : NULL,
		        &written) == 0)
			printf(_("receipt %s (audit entry %llu)\n"), written,
			       (unsigned long long)r->receipt->index);
		res->revision = r->revision;
		res->on_time = r->on_time;
	}
	yuebao__v1__submit_reply__free_unpacked(r, NULL);
done:
	free(vals);
	free(list);
	returnfile_free(rf);
	return rc;
}

/* The table after a bulk submit: each file, its month and what became of it. */
static void print_submit_summary(char **files, const struct submit_result *res, const int *rcs,
                                 size_t n)
{
	int width = 4;

	for (size_t i = 0; i < n; i++)
		if ((int)strlen(files[i]) > width)
			width = (int)strlen(files[i]);
	printf("\n%-*s  %-8s  %s\n", width, _("file"), _("month"), _("result"));
	for (size_t i = 0; i < n; i++) {
		char result[128];

		if (rcs[i] == 0 && res[i].dry_run)
			snprintf(result, sizeof(result), "%s", _("valid (dry run, not stored)"));
		else if (rcs[i] == 0)
			snprintf(result, sizeof(result), _("revision %u, %s"), res[i].revision,
			         res[i].on_time ? _("on time") : _("late"));
		else if (rcs[i] < 0)
			snprintf(result, sizeof(result), "%s",
			         _("not sent: the daemon could not be reached"));
		else if (rcs[i] == EXIT_INVALID)
			snprintf(result, sizeof(result),
			         _("not sent: the file is invalid (exit %d)"), rcs[i]);
		else
			snprintf(result, sizeof(result), _("not stored (exit %d)"), rcs[i]);
		printf("%-*s  %-8s  %s\n", width, files[i], res[i].period[0] ? res[i].period : "-",
		       result);
	}
}

static int cmd_submit(struct client *cl, int argc, char **argv)
{
	const char *period = NULL, *org = NULL, *reason = NULL, *receipt = NULL;
	int dry_run = 0;
	struct opt_spec specs[] = {{"period", 1, &period, NULL},   {"org", 1, &org, NULL},
	                           {"reason", 1, &reason, NULL},   {"dry-run", 0, NULL, &dry_run},
	                           {"receipt", 1, &receipt, NULL}, {NULL, 0, NULL, NULL}};
	const char *pos[SUBMIT_MAX_FILES + 1];
	struct submit_result res[SUBMIT_MAX_FILES];
	int rcs[SUBMIT_MAX_FILES];
	char canon[PERIOD_TEXT_MAX];
	struct progress *bar;
	int npos, rc, month = -1, worst = 0;

	if ((rc = parse_opts("submit", argc, argv, specs, pos, SUBMIT_MAX_FILES + 1, &npos)) != 0)
		return rc < 0 ? 0 : rc;
	if (npos < 1)
		return usage_error("submit", "give the return file to submit");
	if (npos > SUBMIT_MAX_FILES)
		return usage_error("submit", "at most %d files in one submit", SUBMIT_MAX_FILES);
	if (npos > 1 && receipt != NULL)
		return usage_error("submit", "--receipt names one file: with several returns, "
		                             "each receipt goes to its default place");
	if (period != NULL && (rc = check_month("submit", &period, canon, &month)) != 0)
		return rc;
	if (npos == 1) {
		rc = submit_file(cl, pos[0], month, org, reason, dry_run, receipt, &res[0]);
		return rc;
	}
	bar = progress_new(_("submit: files"), (uint64_t)npos, cl->quiet);
	for (int i = 0; i < npos; i++) {
		if (worst == EXIT_CONNECT) {
			/* The daemon is out of reach: the rest are not tried. */
			res[i] = (struct submit_result){.period = ""};
			rcs[i] = -1;
			continue;
		}
		progress_clear(bar);
		printf("== %s\n", pos[i]);
		fflush(stdout);
		rcs[i] = submit_file(cl, pos[i], month, org, reason, dry_run, NULL, &res[i]);
		worst = exit_worse(worst, rcs[i]);
		progress_update(bar, (uint64_t)i + 1);
	}
	progress_free(bar);
	print_submit_summary((char **)pos, res, rcs, (size_t)npos);
	return worst;
}

static int cmd_show(struct client *cl, int argc, char **argv)
{
	const char *period = NULL, *org = NULL, *revision = NULL, *format = NULL;
	struct opt_spec specs[] = {{"period", 1, &period, NULL},
	                           {"org", 1, &org, NULL},
	                           {"revision", 1, &revision, NULL},
	                           {"format", 1, &format, NULL},
	                           {NULL, 0, NULL, NULL}};
	Yuebao__V1__GetReturnRequest req = YUEBAO__V1__GET_RETURN_REQUEST__INIT;
	Yuebao__V1__ReturnRevision *r = NULL;
	struct catalog *cat = NULL;
	enum output_format fmt;
	char canon[PERIOD_TEXT_MAX];
	int npos, rc;

	if ((rc = parse_opts("show", argc, argv, specs, NULL, 0, &npos)) != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = check_month("show", &period, canon, NULL)) != 0 ||
	    (rc = check_format("show", format, &fmt)) != 0)
		return rc;
	if (revision != NULL) {
		char *end;
		long v = strtol(revision, &end, 10);
		if (*end != '\0' || v < 1 || v > 1000000)
			return usage_error("show", "--revision must be a number from 1, not '%s'",
			                   revision);
		req.revision = (uint32_t)v;
	}
	req.org = (char *)(org ? org : "");
	req.period = (char *)period;
	if ((rc = call(cl, "GetReturn", &req.base, (ProtobufCMessage **)&r)) != 0)
		return rc;
	if (fmt != OUTPUT_JSON && fetch_catalog(cl, &cat) != 0)
		cat = NULL; /* names are a nicety; the values are already here */
	output_return(stdout, r, cat, zone_of(cl), fmt);
	catalog_free(cat);
	yuebao__v1__return_revision__free_unpacked(r, NULL);
	return 0;
}

static int cmd_consolidate(struct client *cl, int argc, char **argv)
{
	const char *period = NULL, *org = NULL, *compare = NULL, *by = NULL, *format = NULL;
	const char *explain = NULL;
	int accepted_only = 0, bom = 0;
	struct opt_spec specs[] = {
	    {"period", 1, &period, NULL},   {"org", 1, &org, NULL},
	    {"compare", 1, &compare, NULL}, {"by", 1, &by, NULL},
	    {"format", 1, &format, NULL},   {"accepted-only", 0, NULL, &accepted_only},
	    {"explain", 1, &explain, NULL}, {"bom", 0, NULL, &bom},
	    {NULL, 0, NULL, NULL}};
	Yuebao__V1__ConsolidateRequest req = YUEBAO__V1__CONSOLIDATE_REQUEST__INIT;
	Yuebao__V1__ConsolidateReply *r = NULL;
	enum output_format fmt;
	int npos, rc;

	if ((rc = parse_opts("consolidate", argc, argv, specs, NULL, 0, &npos)) != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = check_period("consolidate", period)) != 0 ||
	    (rc = check_format("consolidate", format, &fmt)) != 0)
		return rc;
	if (compare != NULL && strcmp(compare, "yoy") != 0 && strcmp(compare, "prev") != 0)
		return usage_error("consolidate", "--compare must be yoy or prev, not '%s'",
		                   compare);
	if (by != NULL && strcmp(by, "org") != 0 && strcmp(by, "month") != 0)
		return usage_error("consolidate", "--by must be org or month, not '%s'", by);
	if (bom && fmt != OUTPUT_CSV)
		return usage_error("consolidate", "--bom is for --format csv%s", "");
	req.org = (char *)(org ? org : "");
	req.period = (char *)period;
	req.compare = (char *)(compare ? compare : "");
	req.by = (char *)(by ? by : "");
	req.accepted_only = accepted_only;
	req.explain = (char *)(explain ? explain : "");
	if ((rc = call(cl, "Consolidate", &req.base, (ProtobufCMessage **)&r)) != 0)
		return rc;
	/* A UTF-8 byte-order mark: Excel on Chinese Windows reads the file as GBK without one. */
	if (bom)
		fputs("\xef\xbb\xbf", stdout);
	if (explain != NULL)
		auditcmd_print_explain(stdout, r, explain, fmt == OUTPUT_CSV);
	else
		output_consolidate(stdout, stderr, r, fmt);
	yuebao__v1__consolidate_reply__free_unpacked(r, NULL);
	return 0;
}

/* Parses --page-size; 0 (the server's default) when not given. */
static int parse_page_size(const char *cmd, const char *s, uint32_t *out)
{
	char *end;
	long v;

	*out = 0;
	if (s == NULL)
		return 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 1 || v > 1000)
		return usage_error(cmd, "--page-size must be 1 to 1000, not '%s'", s);
	*out = (uint32_t)v;
	return 0;
}

/* Pages fetched before a list call gives up: a bound on a misbehaving server. */
#define MAX_PAGES 10000

/*
 * Calls a list method page by page until the server gives no next page.
 * *token is the request's page_token field; every reply lands in *pages
 * (the caller frees each with protobuf_c_message_free_unpacked, then the
 * array). Returns 0 or an exit code, like call().
 */
static int fetch_pages(struct client *cl, const char *method, ProtobufCMessage *req, char **token,
                       ProtobufCMessage ***pages, size_t *n)
{
	const ProtobufCFieldDescriptor *next;
	int rc = 0;

	*pages = NULL;
	*n = 0;
	*token = "";
	do {
		void *p = realloc(*pages, (*n + 1) * sizeof(**pages));
		if (p == NULL)
			return EXIT_REFUSED;
		*pages = p;
		if ((rc = call(cl, method, req, &(*pages)[*n])) != 0)
			return rc;
		next = protobuf_c_message_descriptor_get_field_by_name((*pages)[*n]->descriptor,
		                                                       "next_page_token");
		if (next == NULL)
			return EXIT_REFUSED;
		*token = *(char **)((char *)(*pages)[*n] + next->offset);
		(*n)++;
	} while ((*token)[0] != '\0' && *n < MAX_PAGES);
	return rc;
}

static void free_pages(ProtobufCMessage **pages, size_t n)
{
	for (size_t i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(pages[i], NULL);
	free(pages);
}

static int cmd_history(struct client *cl, int argc, char **argv)
{
	const char *period = NULL, *org = NULL, *format = NULL, *psize = NULL;
	struct opt_spec specs[] = {{"period", 1, &period, NULL},
	                           {"org", 1, &org, NULL},
	                           {"format", 1, &format, NULL},
	                           {"page-size", 1, &psize, NULL},
	                           {NULL, 0, NULL, NULL}};
	Yuebao__V1__HistoryRequest req = YUEBAO__V1__HISTORY_REQUEST__INIT;
	Yuebao__V1__HistoryReply **pages = NULL;
	enum output_format fmt;
	char canon[PERIOD_TEXT_MAX];
	size_t n = 0;
	int npos, rc;

	if ((rc = parse_opts("history", argc, argv, specs, NULL, 0, &npos)) != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = check_month("history", &period, canon, NULL)) != 0 ||
	    (rc = check_format("history", format, &fmt)) != 0 ||
	    (rc = parse_page_size("history", psize, &req.page_size)) != 0)
		return rc;
	req.org = (char *)(org ? org : "");
	req.period = (char *)period;
	rc = fetch_pages(cl, "History", &req.base, &req.page_token, (ProtobufCMessage ***)&pages,
	                 &n);
	if (rc == 0)
		output_history(stdout, pages, n, zone_of(cl), fmt);
	free_pages((ProtobufCMessage **)pages, n);
	return rc;
}

static int cmd_status(struct client *cl, int argc, char **argv)
{
	const char *period = NULL, *org = NULL, *format = NULL, *psize = NULL;
	struct opt_spec specs[] = {{"period", 1, &period, NULL},
	                           {"org", 1, &org, NULL},
	                           {"format", 1, &format, NULL},
	                           {"page-size", 1, &psize, NULL},
	                           {NULL, 0, NULL, NULL}};
	Yuebao__V1__StatusRequest req = YUEBAO__V1__STATUS_REQUEST__INIT;
	Yuebao__V1__StatusReply **pages = NULL;
	enum output_format fmt;
	size_t n = 0;
	int npos, rc;

	if ((rc = parse_opts("status", argc, argv, specs, NULL, 0, &npos)) != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = check_period("status", period)) != 0 ||
	    (rc = check_format("status", format, &fmt)) != 0 ||
	    (rc = parse_page_size("status", psize, &req.page_size)) != 0)
		return rc;
	req.org = (char *)(org ? org : "");
	req.period = (char *)period;
	rc =
	    fetch_pages(cl, "Status", &req.base, &req.page_token, (ProtobufCMessage ***)&pages, &n);
	if (rc == 0)
		output_status(stdout, stderr, pages, n, zone_of(cl), fmt);
	free_pages((ProtobufCMessage **)pages, n);
	return rc;
}

/* A walk over every cell (org, month) of fetched Status pages. */
struct cell_walk {
	size_t page, row, month;
};

/* Sets *row and *cell to the next cell; false after the last. */
static bool next_cell(Yuebao__V1__StatusReply **pages, size_t n, struct cell_walk *w,
                      const Yuebao__V1__StatusRow **row, const Yuebao__V1__StatusCell **cell)
{
	for (; w->page < n; w->page++, w->row = 0)
		for (; w->row < pages[w->page]->n_rows; w->row++, w->month = 0)
			if (w->month < pages[w->page]->rows[w->row]->n_months) {
				*row = pages[w->page]->rows[w->row];
				*cell = (*row)->months[w->month++];
				return true;
			}
	return false;
}

/*
 * The Status pages of org's subtree for period (all pages; the caller frees
 * them with free_pages). Returns 0 or an exit code, like call().
 */
static int fetch_status(struct client *cl, const char *org, const char *period,
                        Yuebao__V1__StatusReply ***pages, size_t *n)
{
	Yuebao__V1__StatusRequest req = YUEBAO__V1__STATUS_REQUEST__INIT;

	req.org = (char *)(org ? org : "");
	req.period = (char *)period;
	req.page_size = 1000;
	return fetch_pages(cl, "Status", &req.base, &req.page_token, (ProtobufCMessage ***)pages,
	                   n);
}

/*
 * review --accept --all-submitted: accepts, one call each, every return of
 * org's subtree for the month whose latest revision is submitted and not yet
 * reviewed, naming the revision Status showed, so a revision sent in between
 * is refused rather than accepted unseen. Lists each decision; the exit
 * status is the worst of them.
 */
static int review_all_submitted(struct client *cl, const char *org, const char *period,
                                const char *comment)
{
	Yuebao__V1__StatusReply **pages = NULL;
	const Yuebao__V1__StatusRow *row;
	const Yuebao__V1__StatusCell *cell;
	struct cell_walk walk = {0};
	size_t n = 0, submitted = 0, done = 0;
	int rc, worst = 0;

	if ((rc = fetch_status(cl, org, period, &pages, &n)) != 0)
		goto done;
	while (next_cell(pages, n, &walk, &row, &cell)) {
		Yuebao__V1__ReviewRequest req = YUEBAO__V1__REVIEW_REQUEST__INIT;
		Yuebao__V1__ReviewReply *r = NULL;

		if (strcmp(cell->state, "submitted") != 0)
			continue;
		submitted++;
		req.org = row->org;
		req.period = cell->month;
		req.action = "accept";
		req.comment = (char *)(comment ? comment : "");
		req.revision = cell->revision;
		if ((rc = call(cl, "Review", &req.base, (ProtobufCMessage **)&r)) != 0) {
			worst = exit_worse(worst, rc);
			if (rc == EXIT_CONNECT)
				goto done;
			continue;
		}
		printf(_("%s %s revision %u is now %s\n"), r->org, r->period, r->revision,
		       output_state_word(r->state));
		done++;
		yuebao__v1__review_reply__free_unpacked(r, NULL);
	}
	if (submitted == 0)
		printf(_("no return of %s for %s is waiting for review\n"),
		       n > 0 ? pages[0]->org : org, period);
	else
		printf(submitted == 1 ? _("accepted %zu of %zu submitted return\n")
		                      : _("accepted %zu of %zu submitted returns\n"),
		       done, submitted);
	rc = worst;
done:
	free_pages((ProtobufCMessage **)pages, n);
	return rc;
}

static int cmd_review(struct client *cl, int argc, char **argv)
{
	const char *period = NULL, *org = NULL, *comment = NULL, *revision = NULL;
	int accept = 0, reject = 0, reopen = 0, all = 0;
	struct opt_spec specs[] = {{"period", 1, &period, NULL},   {"org", 1, &org, NULL},
	                           {"comment", 1, &comment, NULL}, {"revision", 1, &revision, NULL},
	                           {"accept", 0, NULL, &accept},   {"reject", 0, NULL, &reject},
	                           {"reopen", 0, NULL, &reopen},   {"all-submitted", 0, NULL, &all},
	                           {NULL, 0, NULL, NULL}};
	Yuebao__V1__ReviewRequest req = YUEBAO__V1__REVIEW_REQUEST__INIT;
	Yuebao__V1__ReviewReply *r = NULL;
	char canon[PERIOD_TEXT_MAX];
	int npos, rc;

	if ((rc = parse_opts("review", argc, argv, specs, NULL, 0, &npos)) != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = check_month("review", &period, canon, NULL)) != 0)
		return rc;
	if (org == NULL)
		return usage_error("review",
		                   all ? "--org is required: the org unit whose subtree you review"
		                       : "--org is required: the branch whose return you review");
	if (accept + reject + reopen != 1)
		return usage_error("review", "give exactly one of --accept, --reject, --reopen");
	if (all && !accept)
		return usage_error("review", "--all-submitted goes with --accept only: a rejection "
		                             "or a reopening is decided return by return");
	if (all && revision != NULL)
		return usage_error("review", "--revision names one return's revision: not with "
		                             "--all-submitted");
	if (all)
		return review_all_submitted(cl, org, canon, comment);
	if (revision != NULL) {
		char *end;
		long v = strtol(revision, &end, 10);
		if (*end != '\0' || v < 1 || v > 1000000)
			return usage_error("review", "--revision must be a number from 1, not '%s'",
			                   revision);
		req.revision = (uint32_t)v;
	}
	req.org = (char *)org;
	req.period = (char *)period;
	req.action = accept ? "accept" : reject ? "reject" : "reopen";
	req.comment = (char *)(comment ? comment : "");
	if ((rc = call(cl, "Review", &req.base, (ProtobufCMessage **)&r)) != 0)
		return rc;
	printf(_("%s %s revision %u is now %s\n"), r->org, r->period, r->revision,
	       output_state_word(r->state));
	yuebao__v1__review_reply__free_unpacked(r, NULL);
	return 0;
}

/* Returns listed before close refuses: the rest are counted. */
#define CLOSE_LIST_MAX 20

/*
 * Before closing: the returns of the subtree and period that are submitted
 * but not reviewed, rejected and not resubmitted, or missing. Lists them on
 * stderr and returns EXIT_REFUSED when there are any (0 when none), so a
 * period is never closed over them unless the user says --force.
 */
static int close_check(struct client *cl, const char *org, const char *period)
{
	static const char *const open_states[] = {"submitted", "rejected", "missing"};
	Yuebao__V1__PingRequest ping = YUEBAO__V1__PING_REQUEST__INIT;
	Yuebao__V1__PingReply *me = NULL;
	Yuebao__V1__StatusReply **pages = NULL;
	const Yuebao__V1__StatusRow *row;
	const Yuebao__V1__StatusCell *cell;
	struct cell_walk walk = {0};
	size_t n = 0, count[3] = {0}, listed = 0, total;
	bool central;
	int rc;

	/* Only central may close: anyone else hears that from the daemon, first. */
	if ((rc = call(cl, "Ping", &ping.base, (ProtobufCMessage **)&me)) != 0)
		return rc;
	central = strcmp(me->role, "central") == 0;
	yuebao__v1__ping_reply__free_unpacked(me, NULL);
	if (!central)
		return 0;
	if ((rc = fetch_status(cl, org, period, &pages, &n)) != 0)
		goto done;
	while (next_cell(pages, n, &walk, &row, &cell)) {
		size_t k = 0;

		while (k < 3 && strcmp(cell->state, open_states[k]) != 0)
			k++;
		if (k == 3)
			continue;
		if (count[0] + count[1] + count[2] == 0)
			fprintf(stderr,
			        _("yuebao close: not closed: these returns of %s "
			          "for %s "
			          "are not settled:\n"),
			        pages[0]->org, period);
		count[k]++;
		if (listed++ < CLOSE_LIST_MAX) {
			if (cell->revision > 0)
				fprintf(stderr, _("  %-12s %s  %s (revision %u)\n"), row->org,
				        cell->month, output_state_word(cell->state),
				        cell->revision);
			else
				fprintf(stderr, "  %-12s %s  %s\n", row->org, cell->month,
				        output_state_word(cell->state));
		}
	}
	total = count[0] + count[1] + count[2];
	if (total == 0)
		goto done;
	if (listed > CLOSE_LIST_MAX)
		fprintf(stderr, _("  ... and %zu more (yuebao status --period %s --org %s)\n"),
		        listed - CLOSE_LIST_MAX, period, pages[0]->org);
	fprintf(stderr,
	        _("%zu not reviewed, %zu rejected and not resubmitted, %zu missing. Review "
	          "them first (yuebao review --org %s --period MONTH --accept --all-submitted "
	          "accepts the submitted ones), or close over them with --force.\n"),
	        count[0], count[1], count[2], pages[0]->org);
	rc = EXIT_REFUSED;
done:
	free_pages((ProtobufCMessage **)pages, n);
	return rc;
}

static int cmd_close(struct client *cl, int argc, char **argv)
{
	const char *period = NULL, *org = NULL, *comment = NULL;
	int reopen = 0, force = 0;
	struct opt_spec specs[] = {{"period", 1, &period, NULL},   {"org", 1, &org, NULL},
	                           {"comment", 1, &comment, NULL}, {"reopen", 0, NULL, &reopen},
	                           {"force", 0, NULL, &force},     {NULL, 0, NULL, NULL}};
	Yuebao__V1__ClosePeriodRequest req = YUEBAO__V1__CLOSE_PERIOD_REQUEST__INIT;
	Yuebao__V1__ClosePeriodReply *r = NULL;
	int npos, rc;

	if ((rc = parse_opts("close", argc, argv, specs, NULL, 0, &npos)) != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = check_period("close", period)) != 0)
		return rc;
	if (!reopen && !force && (rc = close_check(cl, org, period)) != 0)
		return rc;
	req.org = (char *)(org ? org : "");
	req.period = (char *)period;
	req.reopen = reopen;
	req.comment = (char *)(comment ? comment : "");
	if ((rc = call(cl, "ClosePeriod", &req.base, (ProtobufCMessage **)&r)) != 0)
		return rc;
	if (r->closed)
		printf(r->months == 1 ? _("%s %s (%u month) is now closed for submissions\n")
		                      : _("%s %s (%u months) is now closed for submissions\n"),
		       r->org, r->period, r->months);
	else
		printf(r->months == 1 ? _("%s %s (%u month) is now open for submissions\n")
		                      : _("%s %s (%u months) is now open for submissions\n"),
		       r->org, r->period, r->months);
	yuebao__v1__close_period_reply__free_unpacked(r, NULL);
	return 0;
}

/*
 * The audit's trust anchor is the user's own CA (--ca, YUEBAO_CA or
 * client.ini), never one a bundle or receipt brings along: 0 when there is
 * one, else a usage error saying where to give it.
 */
static int own_ca(struct client *cl, const char *cmd, const char *what)
{
	char ini_path[PATH_MAX];
	int rc, ini_errno;

	if ((rc = resolve_settings(cl, ini_path, sizeof(ini_path), &ini_errno)) != 0)
		return rc;
	if (cl->ca != NULL)
		return 0;
	return usage_error(cmd,
	                   "%s checks against your deployment's CA certificate: give --ca FILE, "
	                   "set YUEBAO_CA, or write ca = FILE in ~/.config/yuebao/client.ini",
	                   what);
}

/* Verifies a checkpoint against the log certificate and the CA; prints why not. */
static int check_checkpoint(const struct pki_verifier *v, const struct checkpoint *cp,
                            const uint8_t *cert, size_t cert_len, const char *what)
{
	struct errbuf eb = {{0}};

	if (checkpoint_verify(cp, v, cert, cert_len, &eb) != YB_OK) {
		fprintf(stderr,
		        _("yuebao audit: the %s checkpoint (size %llu) does not verify: %s\n"),
		        what, (unsigned long long)cp->size, eb.msg);
		return -1;
	}
	return 0;
}

/* A Checkpoint message as a struct checkpoint; -1 when malformed. */
static int checkpoint_of(const Yuebao__V1__Checkpoint *m, struct checkpoint *cp)
{
	if (m == NULL || m->root.len != 32 || m->signature.len > sizeof(cp->sig))
		return -1;
	memset(cp, 0, sizeof(*cp));
	cp->size = m->size;
	memcpy(cp->root, m->root.data, 32);
	cp->at_ms = m->at_ms;
	memcpy(cp->sig, m->signature.data, m->signature.len);
	cp->sig_len = m->signature.len;
	return 0;
}

static void describe_head(const struct client *cl, const struct checkpoint *cp, char *buf,
                          size_t len);

/*
 * The witnesses' part of a proof: the checkpoint they cosigned is the log
 * key's, today's log extends it, and each cosignature verifies against the
 * user's CA (an auditor's or the central office's certificate). Prints who
 * saw it; 0, or -1 after saying what failed.
 */
static int check_witnessed(const struct client *cl, const struct pki_verifier *v,
                           const Yuebao__V1__AuditProveReply *r, const struct checkpoint *now,
                           uint64_t index)
{
	struct checkpoint w;
	uint8_t(*cons)[32] = NULL;
	char head[256];
	int rc = -1;

	if (checkpoint_of(r->witnessed, &w) != 0 || w.size > now->size ||
	    r->n_witnessed_consistency > MERKLE_MAX_PROOF || r->n_cosignatures == 0 ||
	    (cons = calloc(r->n_witnessed_consistency + 1, 32)) == NULL) {
		fprintf(stderr, _("yuebao audit: the server's witness evidence is malformed\n"));
		return -1;
	}
	if (check_checkpoint(v, &w, r->log_cert.data, r->log_cert.len, _("witnessed")) != 0)
		goto done;
	for (size_t i = 0; i < r->n_witnessed_consistency; i++) {
		if (r->witnessed_consistency[i].len != 32)
			goto done;
		memcpy(cons[i], r->witnessed_consistency[i].data, 32);
	}
	describe_head(cl, &w, head, sizeof(head));
	if (!merkle_consistency_verify(w.size, now->size, w.root, now->root,
	                               (const uint8_t(*)[32])cons, r->n_witnessed_consistency)) {
		fprintf(stderr,
		        _("yuebao audit: FAILED: today's log does not extend the checkpoint the "
		          "witnesses cosigned (%s)\n"),
		        head);
		goto done;
	}
	printf(_("witnessed: the checkpoint of %s was cosigned by %zu witness(es), and today's "
	         "log extends it%s\n"),
	       head, r->n_cosignatures,
	       index < w.size ? _("; your entry is in it") : _("; your entry came after it"));
	for (size_t i = 0; i < r->n_cosignatures; i++) {
		const Yuebao__V1__Cosignature *cs = r->cosignatures[i];
		struct pki_principal who;
		struct errbuf eb = {{0}};
		char when[TZ_TEXT_MAX];
		if (checkpoint_cosign_verify(&w, v, cs->witness_cert.data, cs->witness_cert.len,
		                             cs->signature.data, cs->signature.len,
		                             (time_t)(w.at_ms / 1000), &who, &eb) != YB_OK) {
			fprintf(stderr,
			        _("yuebao audit: FAILED: cosignature %zu does not verify: %s\n"),
			        i + 1, eb.msg);
			goto done;
		}
		tz_format(zone_of(cl), cs->at_ms, TZ_PEOPLE, when, sizeof(when));
		printf(_("  cosigned by %s/%s (certificate %.16s) at %s\n"), who.role, who.org,
		       who.fingerprint, when);
	}
	rc = 0;
done:
	free(cons);
	return rc;
}

static int audit_prove(struct client *cl, int argc, char **argv)
{
	const char *receipt = NULL;
	struct opt_spec specs[] = {{"receipt", 1, &receipt, NULL}, {NULL, 0, NULL, NULL}};
	Yuebao__V1__AuditProveRequest req = YUEBAO__V1__AUDIT_PROVE_REQUEST__INIT;
	Yuebao__V1__AuditProveReply *r = NULL;
	struct checkpoint old, now;
	struct pki_verifier *v = NULL;
	struct errbuf eb = {{0}};
	uint8_t leaf[32], *cert = NULL, (*incl)[32] = NULL, (*cons)[32] = NULL;
	char own[65], recorded[65];
	size_t cert_len = 0;
	uint64_t index;
	int npos, rc;

	if ((rc = parse_opts("audit", argc, argv, specs, NULL, 0, &npos)) != 0)
		return rc < 0 ? 0 : rc;
	if (receipt == NULL)
		return usage_error("audit", "prove needs --receipt FILE%s", "");
	if ((rc = own_ca(cl, "audit", "prove")) != 0)
		return rc;
	if (auditcmd_read_receipt(receipt, &index, leaf, &old, &cert, &cert_len, recorded) != 0)
		return EXIT_USAGE;
	if (auditcmd_ca_fingerprint(cl->ca, own) != 0) {
		free(cert);
		return EXIT_USAGE;
	}
	if (pki_verifier_new(cl->ca, NULL, &v, &eb) != YB_OK) {
		fprintf(stderr, _("yuebao audit: cannot use the CA certificate: %s\n"), eb.msg);
		free(cert);
		return EXIT_USAGE;
	}
	/* Trust comes from the user's CA alone; the receipt's only names the other side. */
	rc = EXIT_REFUSED;
	if (recorded[0] && strcmp(recorded, own) != 0) {
		fprintf(stderr,
		        _("yuebao audit: refused: the receipt was issued under another CA (SHA-256 "
		          "%s), not yours (%s, SHA-256 %s): it comes from another deployment, or "
		          "--ca names the wrong file\n"),
		        recorded, cl->ca, own);
		goto done;
	}
	if (pki_verify_cert(v, cert, cert_len, (time_t)(old.at_ms / 1000), &eb) != YB_OK) {
		char logcert[65];
		hash_sha256_hex(cert, cert_len, logcert);
		fprintf(stderr,
		        _("yuebao audit: refused: the receipt's log certificate (SHA-256 %s) was "
		          "not issued by your CA (%s, SHA-256 %s): %s\n"),
		        logcert, cl->ca, own, eb.msg);
		goto done;
	}
	printf(_("CA certificate SHA-256 %s (%s)\n"), own, cl->ca);
	{
		struct pki_principal log_key;
		if (pki_describe_cert(cert, cert_len, &log_key) == YB_OK)
			printf(_("log key SHA-256 %s (certificate %s)\n"), log_key.key_fingerprint,
			       log_key.subject);
	}
	rc = EXIT_INVALID;
	if (check_checkpoint(v, &old, cert, cert_len, _("receipt's")) != 0)
		goto done;
	req.index = index;
	req.old_size = old.size;
	rc = call_unless(cl, "AuditProve", &req.base, (ProtobufCMessage **)&r, YB_OUT_OF_RANGE);
	if (rc == -1) {
		/* The log is shorter than it was when the receipt was issued: proof fails. */
		fprintf(
		    stderr,
		    _("yuebao audit: PROOF FAILED: the log now holds fewer entries than the %llu "
		      "of your receipt's checkpoint (entry %llu): it was truncated or rebuilt "
		      "after your receipt was issued\n"),
		    (unsigned long long)old.size, (unsigned long long)index);
		rc = EXIT_INVALID;
		goto done;
	}
	if (rc != 0)
		goto done;
	rc = EXIT_INVALID;
	if (checkpoint_of(r->checkpoint, &now) != 0 || r->n_inclusion > MERKLE_MAX_PROOF ||
	    r->n_consistency > MERKLE_MAX_PROOF) {
		fprintf(stderr, _("yuebao audit: the server's proof is malformed\n"));
		goto done;
	}
	if (check_checkpoint(v, &now, r->log_cert.data, r->log_cert.len, _("current")) != 0)
		goto done;
	incl = calloc(r->n_inclusion + 1, 32);
	cons = calloc(r->n_consistency + 1, 32);
	if (incl == NULL || cons == NULL)
		goto done;
	for (size_t i = 0; i < r->n_inclusion; i++) {
		if (r->inclusion[i].len != 32)
			goto done;
		memcpy(incl[i], r->inclusion[i].data, 32);
	}
	for (size_t i = 0; i < r->n_consistency; i++) {
		if (r->consistency[i].len != 32)
			goto done;
		memcpy(cons[i], r->consistency[i].data, 32);
	}
	if (!merkle_inclusion_verify(leaf, index, now.size, (const uint8_t(*)[32])incl,
	                             r->n_inclusion, now.root)) {
		fprintf(stderr,
		        _("yuebao audit: FAILED: entry %llu is not in the current log of %llu "
		          "entries\n"),
		        (unsigned long long)index, (unsigned long long)now.size);
		goto done;
	}
	if (!merkle_consistency_verify(old.size, now.size, old.root, now.root,
	                               (const uint8_t(*)[32])cons, r->n_consistency)) {
		fprintf(stderr,
		        _("yuebao audit: FAILED: the log of %llu entries in the receipt is not a "
		          "prefix "
		          "of the current log of %llu entries: it was rewritten\n"),
		        (unsigned long long)old.size, (unsigned long long)now.size);
		goto done;
	}
	printf(
	    _("receipt %s: entry %llu is in the log, and the log of %llu entries it was "
	      "issued with is a prefix of today's %llu entries: nothing before it was changed\n"),
	    receipt, (unsigned long long)index, (unsigned long long)old.size,
	    (unsigned long long)now.size);
	if (r->witnessed != NULL && check_witnessed(cl, v, r, &now, index) != 0)
		goto done;
	rc = 0;
done:
	if (r != NULL)
		yuebao__v1__audit_prove_reply__free_unpacked(r, NULL);
	pki_verifier_free(v);
	free(cert);
	free(incl);
	free(cons);
	return rc;
}

/* A checkpoint for people: "N entries, root R…, signed TIME". */
static void describe_head(const struct client *cl, const struct checkpoint *cp, char *buf,
                          size_t len)
{
	char when[TZ_TEXT_MAX], root[65];

	hash_hex(cp->root, 32, root);
	tz_format(zone_of(cl), cp->at_ms, TZ_PEOPLE, when, sizeof(when));
	snprintf(buf, len, _("%llu entries, root %.16s…, signed %s"), (unsigned long long)cp->size,
	         root, when);
}

/* Says what a witness found wrong; its exit status (1). */
static int witness_alert(const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fprintf(stderr, _("yuebao audit witness: ALERT: %s\n"), text);
	return 1;
}

/*
 * Cosigns cp (as m, the daemon's own message of it) with the caller's key
 * and hands the cosignature to the daemon, which serves it with proofs.
 * 0, or the exit code of the failure (said).
 */
static int cosign(struct client *cl, const struct checkpoint *cp, Yuebao__V1__Checkpoint *m)
{
	Yuebao__V1__AuditCosignRequest req = YUEBAO__V1__AUDIT_COSIGN_REQUEST__INIT;
	Yuebao__V1__AuditCosignReply *r = NULL;
	struct pki_identity *id = NULL;
	struct errbuf eb = {{0}};
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	int rc;

	if (pki_identity_load(cl->cert, cl->key, &id, &eb) != YB_OK ||
	    checkpoint_cosign(cp, id, &sig, &sig_len, &eb) != YB_OK) {
		fprintf(stderr, _("yuebao audit: cannot cosign: %s\n"), eb.msg);
		pki_identity_free(id);
		return EXIT_USAGE;
	}
	req.checkpoint = m;
	req.signature = (ProtobufCBinaryData){sig_len, sig};
	rc = call(cl, "AuditCosign", &req.base, (ProtobufCMessage **)&r);
	if (rc == 0) {
		printf(_("cosigned it: %u witness(es) have cosigned this checkpoint\n"),
		       r->witnesses);
		yuebao__v1__audit_cosign_reply__free_unpacked(r, NULL);
	}
	free(sig);
	pki_identity_free(id);
	return rc;
}

/*
 * yuebao audit witness --state DIR: one look at the log, as an independent
 * party does on a schedule. It fetches the daemon's latest checkpoint with
 * the consistency proof from the one it saw last (DIR/witnessed-checkpoint),
 * checks both against its own CA and the proof, and keeps the new one. Any
 * inconsistency (a log that shrank, a head that does not extend the last
 * one, a checkpoint that does not verify) is an alert: exit 1, the state
 * left as it was.
 */
static int audit_witness(struct client *cl, int argc, char **argv)
{
	const char *state = NULL, *server = NULL;
	struct opt_spec specs[] = {
	    {"state", 1, &state, NULL}, {"server", 1, &server, NULL}, {NULL, 0, NULL, NULL}};
	Yuebao__V1__AuditProveRequest req = YUEBAO__V1__AUDIT_PROVE_REQUEST__INIT;
	Yuebao__V1__AuditProveReply *r = NULL;
	struct checkpoint_trusted seen = {0}, next = {0};
	struct pki_verifier *v = NULL;
	struct pki_principal log_key;
	struct errbuf eb = {{0}};
	uint8_t(*cons)[32] = NULL;
	char path[PATH_MAX], own[65], was[256] = "-", now[256];
	bool first;
	int npos, rc;

	if ((rc = parse_opts("audit", argc, argv, specs, NULL, 0, &npos)) != 0)
		return rc < 0 ? 0 : rc;
	if (state == NULL)
		return usage_error("audit", "witness needs --state DIR%s", "");
	if (server != NULL)
		cl->server = server;
	if ((rc = own_ca(cl, "audit", "witness")) != 0)
		return rc;
	if (snprintf(path, sizeof(path), "%s/witnessed-checkpoint", state) >= (int)sizeof(path))
		return usage_error("audit", "--state %s: path too long", state);
	if (mkdir_p(state) != 0) {
		fprintf(stderr, _("yuebao audit: cannot create %s: %s\n"), state, strerror(errno));
		return EXIT_USAGE;
	}
	first = access(path, F_OK) != 0;
	if (!first && checkpoint_trusted_load(path, &seen, &eb) != YB_OK) {
		fprintf(stderr, "yuebao audit: %s\n", eb.msg);
		return EXIT_USAGE;
	}
	if (auditcmd_ca_fingerprint(cl->ca, own) != 0 ||
	    pki_verifier_new(cl->ca, NULL, &v, &eb) != YB_OK) {
		fprintf(stderr, _("yuebao audit: cannot use the CA certificate: %s\n"), eb.msg);
		checkpoint_trusted_free(&seen);
		return EXIT_USAGE;
	}
	rc = 1;
	if (!first) {
		describe_head(cl, &seen.cp, was, sizeof(was));
		if (checkpoint_verify(&seen.cp, v, seen.cert, seen.cert_len, &eb) != YB_OK) {
			rc = witness_alert(_("the checkpoint witnessed before (%s, in %s) does not "
			                     "verify against your CA: %s"),
			                   was, path, eb.msg);
			goto done;
		}
	}
	req.index = 0;
	req.old_size = first ? 0 : seen.cp.size;
	rc = call_unless(cl, "AuditProve", &req.base, (ProtobufCMessage **)&r, YB_OUT_OF_RANGE);
	if (!first) /* again, now in the deployment's zone (the reply named it) */
		describe_head(cl, &seen.cp, was, sizeof(was));
	if (rc == -1) {
		rc = witness_alert(_("the log at %s now holds fewer entries than the checkpoint "
		                     "witnessed before (%s): it was truncated or rebuilt"),
		                   cl->server, was);
		goto done;
	}
	if (rc != 0)
		goto done;
	if (checkpoint_of(r->checkpoint, &next.cp) != 0 || r->n_consistency > MERKLE_MAX_PROOF ||
	    r->log_cert.len == 0 || r->log_cert.len > PKI_MAX_CERT_DER ||
	    (cons = calloc(r->n_consistency + 1, 32)) == NULL) {
		rc = witness_alert(_("the daemon at %s sent a malformed checkpoint or proof"),
		                   cl->server);
		goto done;
	}
	describe_head(cl, &next.cp, now, sizeof(now));
	if (checkpoint_verify(&next.cp, v, r->log_cert.data, r->log_cert.len, &eb) != YB_OK) {
		rc = witness_alert(_("the daemon's checkpoint (%s) does not verify against your "
		                     "CA: %s"),
		                   now, eb.msg);
		goto done;
	}
	for (size_t i = 0; i < r->n_consistency; i++) {
		if (r->consistency[i].len != 32) {
			rc =
			    witness_alert(_("the daemon at %s sent a malformed proof"), cl->server);
			goto done;
		}
		memcpy(cons[i], r->consistency[i].data, 32);
	}
	if (!first &&
	    (next.cp.size < seen.cp.size ||
	     !merkle_consistency_verify(seen.cp.size, next.cp.size, seen.cp.root, next.cp.root,
	                                (const uint8_t(*)[32])cons, r->n_consistency))) {
		rc = witness_alert(_("the log at %s was rewritten: its tree head (%s) does not "
		                     "extend the one witnessed before (%s)"),
		                   cl->server, now, was);
		goto done;
	}
	if ((next.cert = malloc(r->log_cert.len)) == NULL) {
		rc = EXIT_REFUSED;
		goto done;
	}
	memcpy(next.cert, r->log_cert.data, r->log_cert.len);
	next.cert_len = r->log_cert.len;
	if (checkpoint_trusted_save(path, &next, &eb) != YB_OK) {
		fprintf(stderr, "yuebao audit: %s\n", eb.msg);
		rc = EXIT_REFUSED;
		goto done;
	}
	printf(_("CA certificate SHA-256 %s (%s)\n"), own, cl->ca);
	if (pki_describe_cert(next.cert, next.cert_len, &log_key) == YB_OK)
		printf(_("log key SHA-256 %s (certificate %s)\n"), log_key.key_fingerprint,
		       log_key.subject);
	if (first)
		printf(_("witnessed %s: %s (the first checkpoint seen; kept in %s)\n"), cl->server,
		       now, path);
	else
		printf(_("witnessed %s: %s; it extends the one witnessed before (%s): %llu new "
		         "entries, nothing before them changed\n"),
		       cl->server, now, was, (unsigned long long)(next.cp.size - seen.cp.size));
	rc = cosign(cl, &next.cp, r->checkpoint);
done:
	if (r != NULL)
		yuebao__v1__audit_prove_reply__free_unpacked(r, NULL);
	pki_verifier_free(v);
	checkpoint_trusted_free(&seen);
	checkpoint_trusted_free(&next);
	free(cons);
	return rc;
}

/* Learns the deployment's time zone before a first call needs it (a Ping). */
static int ask_zone(struct client *cl)
{
	Yuebao__V1__PingRequest req = YUEBAO__V1__PING_REQUEST__INIT;
	ProtobufCMessage *r = NULL;
	int rc;

	if (cl->zone != NULL)
		return 0;
	if ((rc = call(cl, "Ping", &req.base, &r)) != 0)
		return rc;
	protobuf_c_message_free_unpacked(r, NULL);
	return 0;
}

static int audit_log(struct client *cl, int argc, char **argv)
{
	const char *org = NULL, *period = NULL, *since = NULL, *format = NULL;
	struct opt_spec specs[] = {{"org", 1, &org, NULL},
	                           {"period", 1, &period, NULL},
	                           {"since", 1, &since, NULL},
	                           {"format", 1, &format, NULL},
	                           {NULL, 0, NULL, NULL}};
	Yuebao__V1__AuditLogRequest req = YUEBAO__V1__AUDIT_LOG_REQUEST__INIT;
	Yuebao__V1__AuditLogReply **pages = NULL;
	enum output_format fmt;
	size_t n = 0;
	int npos, rc;

	if ((rc = parse_opts("audit", argc, argv, specs, NULL, 0, &npos)) != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = check_format("audit", format, &fmt)) != 0 ||
	    (period != NULL && (rc = check_period("audit", period)) != 0))
		return rc;
	if (since != NULL) {
		struct tm tm = {0};
		char *end = strptime(since, "%Y-%m-%d", &tm);
		if (end == NULL || (*end != '\0' && strptime(end, " %H:%M", &tm) == NULL))
			return usage_error("audit", "--since must be YYYY-MM-DD [HH:MM], not '%s'",
			                   since);
		/* On the office's clock, as every time the log shows. */
		if ((rc = ask_zone(cl)) != 0)
			return rc;
		req.since_ms = tz_unix(zone_of(cl), tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		                       tm.tm_hour * 3600 + tm.tm_min * 60) *
		               1000;
	}
	req.org = (char *)(org ? org : "");
	req.period = (char *)(period ? period : "");
	rc = fetch_pages(cl, "AuditLog", &req.base, &req.page_token, (ProtobufCMessage ***)&pages,
	                 &n);
	if (rc == 0)
		output_audit_log(stdout, pages, n, zone_of(cl), fmt);
	free_pages((ProtobufCMessage **)pages, n);
	return rc;
}

/*
 * The log's latest checkpoint, with the consistency proof from `from`
 * entries to it (none for 0), into *head and the bundle. The export
 * stops at it: what comes later waits for the next export.
 */
static int export_head(struct client *cl, struct auditcmd_bundle *b,
                       const struct checkpoint_trusted *from, const char *since,
                       struct checkpoint *head)
{
	Yuebao__V1__AuditProveRequest req = YUEBAO__V1__AUDIT_PROVE_REQUEST__INIT;
	Yuebao__V1__AuditProveReply *r = NULL;
	uint8_t(*cons)[32] = NULL;
	int rc;

	req.index = 0;
	req.old_size = from != NULL ? from->cp.size : 0;
	rc = call_unless(cl, "AuditProve", &req.base, (ProtobufCMessage **)&r, YB_OUT_OF_RANGE);
	if (rc == -1) {
		fprintf(stderr,
		        _("yuebao audit: FAILED: the log now holds fewer entries than the %llu of "
		          "%s: it was truncated or rebuilt after that checkpoint was verified\n"),
		        (unsigned long long)req.old_size, since);
		return EXIT_INVALID;
	}
	if (rc != 0)
		return rc;
	rc = EXIT_INVALID;
	if (checkpoint_of(r->checkpoint, head) != 0 || r->n_consistency > MERKLE_MAX_PROOF ||
	    (cons = calloc(r->n_consistency + 1, 32)) == NULL) {
		fprintf(stderr, _("yuebao audit: the server's proof is malformed\n"));
		goto done;
	}
	for (size_t i = 0; i < r->n_consistency; i++) {
		if (r->consistency[i].len != 32) {
			fprintf(stderr, _("yuebao audit: the server's proof is malformed\n"));
			goto done;
		}
		memcpy(cons[i], r->consistency[i].data, 32);
	}
	auditcmd_bundle_bound(b, head);
	rc = from == NULL || auditcmd_bundle_since(b, from, head->size, (const uint8_t(*)[32])cons,
	                                           r->n_consistency) == 0
	         ? 0
	         : EXIT_REFUSED;
done:
	free(cons);
	yuebao__v1__audit_prove_reply__free_unpacked(r, NULL);
	return rc;
}

static int audit_export(struct client *cl, int argc, char **argv)
{
	const char *pos[1], *since = NULL;
	struct opt_spec specs[] = {{"since", 1, &since, NULL}, {NULL, 0, NULL, NULL}};
	struct checkpoint_trusted from = {0};
	struct checkpoint head;
	Yuebao__V1__AuditLogRequest lreq = YUEBAO__V1__AUDIT_LOG_REQUEST__INIT;
	Yuebao__V1__AuditExportRequest xreq = YUEBAO__V1__AUDIT_EXPORT_REQUEST__INIT;
	static const char *const parts[] = {"checkpoints", "revisions", "reviews", "closures"};
	struct auditcmd_bundle *b = NULL;
	struct progress *bar = NULL;
	char *token = NULL;
	size_t pages = 0, entries = 0;
	int npos, rc;

	if ((rc = parse_opts("audit", argc, argv, specs, pos, 1, &npos)) != 0)
		return rc < 0 ? 0 : rc;
	if (npos != 1)
		return usage_error("audit", "export needs the folder to write%s", "");
	if (since != NULL) {
		struct errbuf eb = {{0}};
		if (checkpoint_trusted_load(since, &from, &eb) != YB_OK) {
			checkpoint_trusted_free(&from);
			fprintf(stderr, "yuebao audit: %s\n", eb.msg);
			return EXIT_USAGE;
		}
	}
	if ((rc = connect_client(cl)) != 0)
		goto out;
	if (auditcmd_bundle_open(pos[0], cl->ca, &b) != 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	if ((rc = export_head(cl, b, since != NULL ? &from : NULL, since, &head)) != 0)
		goto done;
	lreq.after_size = xreq.after_size = from.cp.size;
	lreq.org = "";
	lreq.period = "";
	lreq.page_size = 1000;
	lreq.page_token = "";
	/* The latest checkpoint's size is how many entries there are to fetch. */
	bar = progress_new(_("audit export: entries"), 0, cl->quiet);
	do {
		Yuebao__V1__AuditLogReply *r = NULL;
		if ((rc = call(cl, "AuditLog", &lreq.base, (ProtobufCMessage **)&r)) != 0)
			goto done;
		for (size_t i = 0; i < r->n_entries; i++)
			entries += r->entries[i]->index < head.size;
		progress_set_total(bar, head.size - from.cp.size);
		progress_update(bar, entries);
		auditcmd_bundle_entries(b, r);
		free(token);
		/* Entries past the head wait for the next export. */
		token = r->n_entries > 0 && r->entries[r->n_entries - 1]->index + 1 >= head.size
		            ? strdup("")
		            : strdup(r->next_page_token);
		lreq.page_token = token;
		yuebao__v1__audit_log_reply__free_unpacked(r, NULL);
	} while (token != NULL && token[0] != '\0' && ++pages < MAX_PAGES);
	for (size_t p = 0; p < sizeof(parts) / sizeof(parts[0]); p++) {
		char what[64];
		uint64_t items = 0;

		snprintf(what, sizeof(what), _("audit export: %s"), parts[p]);
		progress_free(bar);
		bar = progress_new(what, 0, cl->quiet);
		xreq.part = (char *)parts[p];
		xreq.page_token = "";
		pages = 0;
		do {
			Yuebao__V1__AuditExportReply *r = NULL;
			if ((rc = call(cl, "AuditExport", &xreq.base, (ProtobufCMessage **)&r)) !=
			    0)
				goto done;
			items += r->n_revisions + r->n_checkpoints + r->n_reviews + r->n_closures;
			progress_update(bar, items);
			auditcmd_bundle_export(b, r);
			free(token);
			token = strdup(r->next_page_token);
			xreq.page_token = token;
			yuebao__v1__audit_export_reply__free_unpacked(r, NULL);
		} while (token != NULL && token[0] != '\0' && ++pages < MAX_PAGES);
	}
done:
	progress_free(bar);
	free(token);
	if (auditcmd_bundle_close(b, rc == 0) != 0 && rc == 0) {
		fprintf(stderr, _("yuebao audit: could not write every file of %s\n"), pos[0]);
		rc = EXIT_REFUSED;
	}
	if (rc == 0 && since != NULL)
		printf(_("wrote %s: the %zu audit entries after the first %llu, with their "
		         "checkpoints and signed requests; check it offline with: yuebao audit "
		         "verify %s --trusted %s\n"),
		       pos[0], entries, (unsigned long long)from.cp.size, pos[0], since);
	else if (rc == 0)
		printf(_("wrote %s: %zu audit entries with their checkpoints and signed requests; "
		         "check it offline with: yuebao audit verify %s\n"),
		       pos[0], entries, pos[0]);
out:
	checkpoint_trusted_free(&from);
	return rc;
}

static int audit_verify(struct client *cl, int argc, char **argv)
{
	const char *pos[1], *trusted = NULL;
	struct opt_spec specs[] = {{"trusted", 1, &trusted, NULL}, {NULL, 0, NULL, NULL}};
	long problems = 0;
	int npos, rc;

	if ((rc = parse_opts("audit", argc, argv, specs, pos, 1, &npos)) != 0)
		return rc < 0 ? 0 : rc;
	if (npos != 1)
		return usage_error("audit", "verify needs the folder written by audit export%s",
		                   "");
	if ((rc = own_ca(cl, "audit", "verify")) != 0)
		return rc;
	switch (auditcmd_verify(pos[0], cl->ca, trusted, stdout, cl->quiet, &problems)) {
	case AUDITCMD_UNREADABLE:
		return EXIT_USAGE;
	case AUDITCMD_OTHER_CA:
		return EXIT_REFUSED;
	case AUDITCMD_CHECKED:
		break;
	}
	if (problems > 0)
		printf(_("%ld problem(s) found: the store does not match what was signed\n"),
		       problems);
	return problems > 0 ? EXIT_INVALID : 0;
}

/* ---- report ---------------------------------------------------------------- */

/* One Consolidate call of a report. */
static int report_consolidate(struct client *cl, const char *org, const char *period,
                              const char *compare, const char *by, int accepted_only,
                              Yuebao__V1__ConsolidateReply **out)
{
	Yuebao__V1__ConsolidateRequest req = YUEBAO__V1__CONSOLIDATE_REQUEST__INIT;

	req.org = (char *)org;
	req.period = (char *)period;
	req.compare = (char *)compare;
	req.by = (char *)by;
	req.accepted_only = accepted_only;
	return call(cl, "Consolidate", &req.base, (ProtobufCMessage **)out);
}

/*
 * The audit log's latest checkpoint, verified against the user's CA, into
 * rep; a log without one leaves has_checkpoint false. Also the server's
 * version.
 */
static int report_provenance_of(struct client *cl, const char *org, struct report *rep)
{
	Yuebao__V1__AuditLogRequest req = YUEBAO__V1__AUDIT_LOG_REQUEST__INIT;
	Yuebao__V1__PingRequest preq = YUEBAO__V1__PING_REQUEST__INIT;
	Yuebao__V1__AuditLogReply *r = NULL;
	Yuebao__V1__PingReply *pr = NULL;
	struct pki_verifier *v = NULL;
	struct errbuf eb = {{0}};
	struct checkpoint cp;
	int rc;

	if ((rc = call(cl, "Ping", &preq.base, (ProtobufCMessage **)&pr)) != 0)
		return rc;
	snprintf(rep->server_version, sizeof(rep->server_version), "%s", pr->version);
	rep->generated_ms = pr->server_time_ms;
	yuebao__v1__ping_reply__free_unpacked(pr, NULL);
	/* No entry is newer than the far future: the reply is the checkpoint alone. */
	req.org = (char *)org;
	req.since_ms = INT64_MAX;
	req.page_size = 1;
	if ((rc = call(cl, "AuditLog", &req.base, (ProtobufCMessage **)&r)) != 0)
		return rc;
	rc = EXIT_INVALID;
	if (auditcmd_ca_fingerprint(cl->ca, rep->ca_fingerprint) != 0)
		goto done;
	if (r->checkpoint == NULL) {
		rc = 0;
		goto done;
	}
	if (pki_verifier_new(cl->ca, NULL, &v, &eb) != YB_OK) {
		fprintf(stderr, _("yuebao report: cannot use the CA certificate: %s\n"), eb.msg);
		goto done;
	}
	if (checkpoint_of(r->checkpoint, &cp) != 0 ||
	    checkpoint_verify(&cp, v, r->log_cert.data, r->log_cert.len, &eb) != YB_OK) {
		fprintf(stderr,
		        _("yuebao report: the audit log's checkpoint does not verify against your "
		          "CA: %s\n"),
		        eb.msg[0] ? eb.msg : _("malformed"));
		goto done;
	}
	rep->has_checkpoint = true;
	rep->log_size = cp.size;
	rep->log_at_ms = cp.at_ms;
	hash_hex(cp.root, 32, rep->log_root);
	rc = 0;
done:
	pki_verifier_free(v);
	yuebao__v1__audit_log_reply__free_unpacked(r, NULL);
	return rc;
}

/* The template's text: --template FILE, else the catalog's report.md. */
static int report_template(const char *path, const struct catalog *cat, char **text, size_t *len)
{
	struct errbuf eb = {{0}};
	const struct catalog_file *f = &cat->files[CATALOG_FILE_REPORT];

	if (path == NULL) {
		if (f->data == NULL) {
			fprintf(stderr, _("yuebao report: the server's catalog has no report.md "
			                  "template; give one with --template FILE\n"));
			return EXIT_USAGE;
		}
		*text = f->data;
		*len = f->len;
		return 0;
	}
	if (sheet_read_file(path, text, len, &eb) != YB_OK) {
		fprintf(stderr, "yuebao report: %s\n", eb.msg);
		return EXIT_USAGE;
	}
	return 0;
}

/*
 * Writes the report to path ("-": standard output) through a temporary file
 * renamed into place, so a failure never leaves half a report.
 */
static int report_write(const struct report *rep, enum report_format fmt,
                        const struct narrative *nar, const char *path)
{
	struct errbuf eb = {{0}};
	char tmp[PATH_MAX];
	FILE *f = stdout;
	yb_status rc;
	int fd = -1;

	if (fmt == REPORT_XLSX) {
		rc = report_xlsx_write(rep, path, &eb);
		goto done;
	}
	if (strcmp(path, "-") != 0) {
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp) ||
		    (fd = mkstemp(tmp)) < 0 || (f = fdopen(fd, "w")) == NULL) {
			fprintf(stderr, _("yuebao report: cannot write %s: %s\n"), path,
			        strerror(errno));
			if (fd >= 0) {
				close(fd);
				unlink(tmp);
			}
			return EXIT_USAGE;
		}
		fchmod(fd, 0644);
	}
	rc = fmt == REPORT_MD ? narrative_render(nar, rep, f, &eb) : report_html_write(rep, f, &eb);
	if (f != stdout) {
		if (fclose(f) != 0 && rc == YB_OK)
			rc = status_fail(&eb, YB_EIO, _("writing %s failed: %s"), path,
			                 strerror(errno));
		if (rc == YB_OK && rename(tmp, path) != 0)
			rc = status_fail(&eb, YB_EIO, _("cannot write %s: %s"), path,
			                 strerror(errno));
		if (rc != YB_OK)
			unlink(tmp);
	}
done:
	if (rc != YB_OK) {
		fprintf(stderr, "yuebao report: %s\n", eb.msg);
		return EXIT_USAGE;
	}
	return 0;
}

static int cmd_report(struct client *cl, int argc, char **argv)
{
	const char *period = NULL, *org = NULL, *compare = NULL, *format = NULL, *output = NULL;
	const char *template_path = NULL;
	int accepted_only = 0;
	struct opt_spec specs[] = {{"period", 1, &period, NULL},
	                           {"org", 1, &org, NULL},
	                           {"compare", 1, &compare, NULL},
	                           {"format", 1, &format, NULL},
	                           {"template", 1, &template_path, NULL},
	                           {"output", 1, &output, NULL},
	                           {"accepted-only", 0, NULL, &accepted_only},
	                           {NULL, 0, NULL, NULL}};
	Yuebao__V1__ConsolidateReply *total = NULL, *by_org = NULL, *by_month = NULL;
	struct progress *bar = NULL;
	struct report rep = {0};
	struct catalog *cat = NULL;
	struct narrative *nar = NULL;
	struct errbuf eb = {{0}};
	enum report_format fmt;
	char *text = NULL;
	size_t text_len = 0;
	struct period p;
	int npos, rc;

	if ((rc = parse_opts("report", argc, argv, specs, NULL, 0, &npos)) != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = check_period("report", period)) != 0)
		return rc;
	if (format == NULL || report_parse_format(format, &fmt) != YB_OK)
		return usage_error("report", "--format must be md, html or xlsx%s%s%s",
		                   format ? ", not '" : "", format ? format : "",
		                   format ? "'" : "");
	if (output == NULL)
		return usage_error("report", "give the file to write with -o FILE%s",
		                   fmt == REPORT_XLSX ? "" : " (- for standard output)");
	if (fmt == REPORT_XLSX && strcmp(output, "-") == 0)
		return usage_error("report",
		                   "an xlsx file cannot go to standard output: give -o "
		                   "FILE.xlsx%s",
		                   "");
	if (template_path != NULL && fmt != REPORT_MD)
		return usage_error("report", "--template is for --format md%s", "");
	if (compare == NULL)
		compare = "yoy"; /* a summary compares with the same months a year earlier */
	else if (strcmp(compare, "none") == 0)
		compare = "";
	else if (strcmp(compare, "yoy") != 0 && strcmp(compare, "prev") != 0)
		return usage_error("report", "--compare must be yoy, prev or none, not '%s'",
		                   compare);
	if ((rc = own_ca(cl, "report", "report")) != 0)
		return rc;
	org = org ? org : "";
	if ((rc = fetch_catalog(cl, &cat)) != 0)
		goto done;
	if (fmt == REPORT_MD) {
		if ((rc = report_template(template_path, cat, &text, &text_len)) != 0)
			goto done;
		if (narrative_parse(cat, template_path ? template_path : "report.md", text,
		                    text_len, &nar, &eb) != YB_OK) {
			fprintf(stderr, "yuebao report: %s\n", eb.msg);
			rc = template_path ? EXIT_USAGE : EXIT_REFUSED;
			goto done;
		}
	}
	/* Steps: the catalog (done), the three consolidations, the checkpoint, the file. */
	bar = progress_new(_("report: steps"), 6, cl->quiet);
	progress_update(bar, 1);
	if ((rc = report_consolidate(cl, org, period, compare, "", accepted_only, &total)) != 0)
		goto done;
	progress_update(bar, 2);
	if ((rc = report_consolidate(cl, org, period, compare, "org", accepted_only, &by_org)) != 0)
		goto done;
	progress_update(bar, 3);
	if ((rc = report_consolidate(cl, org, period, compare, "month", accepted_only,
	                             &by_month)) != 0)
		goto done;
	progress_update(bar, 4);
	if ((rc = report_provenance_of(cl, total->org, &rep)) != 0)
		goto done;
	progress_update(bar, 5);
	rep.cat = cat;
	rep.total = total;
	rep.by_org = by_org;
	rep.by_month = by_month;
	rep.zone = zone_of(cl);
	rep.accepted_only = accepted_only;
	/* The data go up to the period's last month that has begun. */
	if (period_parse(total->period, &p, &eb) == YB_OK) {
		int now = period_month_at(rep.zone, rep.generated_ms);
		period_format_month(p.last < now ? p.last : now, rep.cutoff, sizeof(rep.cutoff));
	}
	if (report_check(&rep, &eb) != YB_OK) {
		fprintf(stderr, "yuebao report: %s\n", eb.msg);
		rc = EXIT_REFUSED;
		goto done;
	}
	progress_free(bar); /* the report may go to this terminal */
	bar = NULL;
	rc = report_write(&rep, fmt, nar, output);
	if (rc == 0 && strcmp(output, "-") != 0)
		fprintf(stderr, _("yuebao report: wrote %s\n"), output);
done:
	progress_free(bar);
	if (template_path != NULL)
		free(text);
	narrative_free(nar);
	yuebao__v1__consolidate_reply__free_unpacked(total, NULL);
	yuebao__v1__consolidate_reply__free_unpacked(by_org, NULL);
	yuebao__v1__consolidate_reply__free_unpacked(by_month, NULL);
	catalog_free(cat);
	return rc;
}

static int cmd_audit(struct client *cl, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return audit_export(cl, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return audit_verify(cl, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "log") == 0)
		return audit_log(cl, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "prove") == 0)
		return audit_prove(cl, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "witness") == 0)
		return audit_witness(cl, argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(_(find_command("audit")->help), stdout);
		return 0;
	}
	return usage_error("audit", "give log, prove, export, verify or witness%s", "");
}

static const struct command commands[] = {
    {"ping", cmd_ping, N_("round trip; server version; who the server thinks you are"),
     N_("usage: yuebao ping\n"
        "\n"
        "Checks the connection: prints the server's version, the round-trip time,\n"
        "your certificate subject, role and org unit as the server sees them, and the\n"
        "server's clock in the deployment's time zone. To an admin it also shows when\n"
        "the server's certificate, the CA certificate and the revocation list (CRL)\n"
        "run out; past the CRL's date the server refuses every call until\n"
        "`yuebao-certs crl` renews it. And it lists the daemons serving the\n"
        "database (several may serve one PostgreSQL database), marking any that\n"
        "serve another org tree or catalog than the one that answered.\n"
        "\n"
        "Examples:\n"
        "  yuebao --server tls+tcp://127.0.0.1:7443 --cert branch-ZFW-JG.crt \\\n"
        "         --key branch-ZFW-JG.key --ca ca.crt ping\n"
        "  yuebao --cert admin-JGDW.crt --key admin-JGDW.key ping\n"
        "    ...\n"
        "    server certificate: valid until 2028-06-30 10:00:00 +08:00 (729 days left)\n"
        "    CA certificate: valid until 2036-06-28 10:00:00 +08:00 (3649 days left)\n"
        "    revocation list (CRL): valid until 2027-06-30 10:00:00 +08:00 (364 days left)\n")},
    {"catalog", cmd_catalog, N_("the data elements, indicators and rules"),
     N_("usage: yuebao catalog [--format table|csv|json]\n"
        "\n"
        "Prints the server's catalog: what a return reports (elements), the figures\n"
        "derived from them (indicators) and the checks a return must pass (rules).\n"
        "Also keeps a copy for `yuebao validate` to use offline.\n"
        "\n"
        "Example:\n"
        "  yuebao catalog --format csv > catalog.csv\n")},
    {"template", cmd_template, N_("a return to fill in, as an Excel workbook or CSV"),
     N_("usage: yuebao template --period YYYY-MM [--org CODE] [--output FILE]\n"
        "                       [--format xlsx|csv] [--from-previous]\n"
        "\n"
        "Writes an empty return for the month, one row per element of the catalog.\n"
        "--format xlsx (the default when FILE ends in .xlsx) writes a workbook for\n"
        "Excel or WPS: headings in your language, the elements grouped by section,\n"
        "the month in cell D2 (named `period`), and only the month and the values\n"
        "editable; each value cell checks what is typed (a whole number or an\n"
        "amount with at most 2 decimals, within the element's bounds) and shows the\n"
        "element's unit and rules when selected. Fill it in, save it, and submit the\n"
        ".xlsx as it is.\n"
        "--format csv (the default otherwise) writes code,name,unit,value to standard\n"
        "output or FILE (UTF-8 with a byte-order mark, so that Excel shows the\n"
        "Chinese names). The row under the header, `period`, names the month\n"
        "(202606: a number Excel keeps as it is), so `submit` needs no --period and\n"
        "refuses the file for another month.\n"
        "Leave a value blank when it was not reported, but fill in at least one.\n"
        "FILE must not exist yet. --from-previous fills in the stocks (members_total\n"
        "and the other `last` elements) from your return for the month before. The\n"
        "month may be written 2026-06, 2026-6, 2026/06, 202606 or 2026年6月.\n"
        "\n"
        "Examples:\n"
        "  yuebao template --period 2026-06 --from-previous -o 2026-06.xlsx\n"
        "  yuebao template --period 2026年6月 > 2026-06.csv\n")},
    {"validate", cmd_validate, N_("check a filled-in return offline against the catalog"),
     N_("usage: yuebao validate FILE [--period YYYY-MM] [--catalog DIR]\n"
        "\n"
        "FILE is an Excel workbook (.xlsx: the template's sheet, or else the first\n"
        "one) or a CSV; its header names the columns code and value (or 代码 and\n"
        "数值). In a workbook, a formula counts by the result Excel saved with it.\n"
        "Checks a return without sending it: unknown or duplicate codes, values that\n"
        "are not numbers (with a percent sign, or N/A: the message says what to\n"
        "write instead), negative, fractional where whole numbers are due, out of\n"
        "range, a file with no value filled in at all, and every rule of the\n"
        "catalog. Counts the values given; blank ones are not reported, not zero.\n"
        "With --period, also that the month in the file's period row is that month.\n"
        "Uses the catalog cached by the last `yuebao catalog` (or the one shipped\n"
        "with yuebao), or DIR.\n"
        "Exit code 4 when the file has errors.\n"
        "\n"
        "Examples:\n"
        "  yuebao validate 2026-06.xlsx\n"
        "  yuebao validate 2026-06.csv --period 2026-06\n")},
    {"submit", cmd_submit, N_("upload returns; prints the receipts and any warnings"),
     N_("usage: yuebao submit FILE... [--period YYYY-MM] [--org CODE] [--reason TEXT]\n"
        "                             [--dry-run] [--receipt FILE]\n"
        "\n"
        "Sends the return in FILE for the month. FILE is an Excel workbook (.xlsx,\n"
        "as `yuebao template` writes it, filled in and saved) or a CSV, with at\n"
        "least the columns code and value (or 代码 and 数值). A file made by\n"
        "`yuebao template` names its month in its period row: then --period may be\n"
        "left out, and a --period for another month is refused (exit 4). The month\n"
        "may be written 2026-06, 2026-6, 2026/06, 202606 or 2026年6月. A file with no\n"
        "value filled in is refused. The first submission is revision 1; a later one\n"
        "amends it and needs --reason. --dry-run runs the server's full validation\n"
        "and stores nothing.\n"
        "Prints the receipt: revision, on time or late, and the SHA-256 of the signed\n"
        "request the server stored, and keeps the receipt of its audit entry (in\n"
        "~/.local/share/yuebao/receipts, or --receipt FILE) for `yuebao audit prove`.\n"
        "Several files are sent one after another, each for the month it names,\n"
        "each stored whole or not at all; a table at the end says what became of\n"
        "each. The exit status is the worst of them (3 cannot connect, then 1\n"
        "refused, then 4 invalid); once the daemon cannot be reached the rest are\n"
        "not tried.\n"
        "Exit code 4 when the server refuses the data.\n"
        "\n"
        "Examples:\n"
        "  yuebao submit 2026-06.xlsx\n"
        "  yuebao submit old-2026-06.csv --period 2026-06\n"
        "  yuebao submit 2026-04.xlsx 2026-05.xlsx 2026-06.xlsx\n"
        "  yuebao submit 2026-06.xlsx --reason \"corrected study_sessions\"\n")},
    {"show", cmd_show, N_("one return"),
     N_("usage: yuebao show --period YYYY-MM [--org CODE] [--revision N]\n"
        "                   [--format table|csv|json]\n"
        "\n"
        "Prints a return as stored: its values, state, who submitted it and when,\n"
        "and the warnings and skipped rules found in it, worded in your language.\n"
        "The latest revision unless --revision is given.\n"
        "\n"
        "Example:\n"
        "  yuebao show --org ZFW-JG --period 2026-06\n")},
    {"consolidate", cmd_consolidate, N_("consolidated figures for a subtree and period"),
     N_("usage: yuebao consolidate --period P [--org CODE] [--compare yoy|prev]\n"
        "                          [--by org|month] [--accepted-only]\n"
        "                          [--explain CODE] [--format table|csv|json] [--bom]\n"
        "\n"
        "Adds up the returns of the org unit's subtree over the period (2026-06,\n"
        "2026Q2, 2026H1, 2026, or a range 2026-01..2026-04) and computes the\n"
        "indicators from the totals. --compare yoy sets the same months a year\n"
        "earlier beside them, --compare prev the preceding period of the same length,\n"
        "with the change in % (or percentage points, pp, for rates). --by org breaks\n"
        "the figures down by child org unit, --by month by month, after the total.\n"
        "By default each return counts with its latest revision that was not\n"
        "rejected; --accepted-only counts only returns the central office accepted.\n"
        "CSV: code,name,unit,value,previous,change,change_unit (plus a first column\n"
        "org or month with --by); completeness goes to standard error. --bom starts\n"
        "the CSV with a UTF-8 byte-order mark, so that Excel on Chinese Windows\n"
        "shows the names right when it opens the file.\n"
        "--explain CODE lists instead the returns behind that figure of the total:\n"
        "org unit, month, revision, value and audit log entry (CSV:\n"
        "org,period,revision,code,value,log_index).\n"
        "\n"
        "Examples:\n"
        "  yuebao consolidate --org JGDW --period 2026H1 --compare yoy --format csv\n"
        "  yuebao consolidate --org JGDW --period 2026H1 --explain study_sessions\n")},
    {"report", cmd_report,
     N_("the figures of a period as a summary draft, an Excel annex or a page"),
     N_("usage: yuebao report --period P [--org CODE] [--compare yoy|prev|none]\n"
        "                     [--accepted-only] --format md|html|xlsx\n"
        "                     [--template FILE] -o FILE\n"
        "\n"
        "Writes the consolidated figures of the org unit's subtree for the period\n"
        "(central office and auditors), exactly those of `yuebao consolidate`, with\n"
        "the comparison (default yoy, the same months a year earlier):\n"
        "  md    a first draft of the written summary: the template (--template FILE,\n"
        "        else the catalog's report.md) with {{code}}, {{code.previous}},\n"
        "        {{code.change}} (增长14.3% / 提高3.7个百分点 / 持平), {{code.change_abs}},\n"
        "        {{code|万}}, {{period}}, {{org}}, {{cutoff}}, {{completeness}} and\n"
        "        {{provenance}} filled in; a figure without data is \"—\" with a footnote\n"
        "  xlsx  an Excel annex: summary by section with numbers as numbers, the\n"
        "        subtree's units side by side, the months, charts, and how the\n"
        "        figures were made\n"
        "  html  one self-contained page (no external files) with the same tables\n"
        "        and charts, for reading and printing on A4\n"
        "Every format ends with the provenance: data cut-off, completeness of both\n"
        "periods, the audit log's signed checkpoint (verified against your CA) and\n"
        "the CA's fingerprint, so a figure can be proved later with\n"
        "`consolidate --explain` and `audit verify`. -o - writes md or html to\n"
        "standard output. The file is written whole or not at all.\n"
        "\n"
        "Examples:\n"
        "  yuebao report --org JGDW --period 2026H1 --format md -o 2026上半年.md\n"
        "  yuebao report --org JGDW --period 2026H1 --format xlsx -o annex-2026H1.xlsx\n"
        "  yuebao report --org JGDW --period 2026 --compare prev --format html -o 2026.html\n")},
    {"history", cmd_history, N_("all revisions of a return: who, when, why, what changed"),
     N_("usage: yuebao history --period YYYY-MM [--org CODE] [--format table|csv|json]\n"
        "\n"
        "Lists every revision of the month's return, oldest first: its state, when it\n"
        "was received (on time or late), who sent it (certificate subject and\n"
        "fingerprint), the reason given, each value that changed from the revision\n"
        "before and the warnings and skipped rules found in it (in your language);\n"
        "then every review of the central office with its comment. Nothing is ever\n"
        "overwritten: the first revision stays as it was sent.\n"
        "\n"
        "Example:\n"
        "  yuebao history --org ZFW-JG --period 2026-06\n")},
    {"status", cmd_status, N_("who has submitted: on time or late, missing, reviewed"),
     N_("usage: yuebao status --period P [--org CODE] [--format table|csv|json]\n"
        "\n"
        "For every branch of the org unit's subtree and every month of P (a month, or\n"
        "up to 24 months such as 2026H1): missing, submitted, accepted or rejected,\n"
        "the latest revision when there are several, late when the first submission\n"
        "came after the due day, and (closed) when the period is closed. Then the\n"
        "totals: completeness (returns present / expected) and timeliness (on time /\n"
        "expected), as DHIS2 defines them. Months that have not begun are 'not due'.\n"
        "\n"
        "Examples:\n"
        "  yuebao status --period 2026-06\n"
        "  yuebao status --org FY-DZZ --period 2026H1 --format csv\n")},
    {"review", cmd_review, N_("central's decision: accept, reject or reopen a return"),
     N_("usage: yuebao review --org CODE --period YYYY-MM --accept|--reject|--reopen\n"
        "                     [--revision N] [--comment TEXT]\n"
        "       yuebao review --org CODE --period YYYY-MM --accept --all-submitted\n"
        "                     [--comment TEXT]\n"
        "\n"
        "Central office only, for its subtree. --accept locks the latest revision: the\n"
        "branch cannot amend it until it is reopened. --reject (a --comment saying why\n"
        "is required) sends it back: the branch submits a corrected revision with a\n"
        "reason. --reopen unlocks an accepted return. Every decision is kept with its\n"
        "comment and shown to the branch by `show` and `history`.\n"
        "--revision N decides only if N is still the latest revision (the one you\n"
        "looked at), and is refused if the branch has sent another since.\n"
        "--all-submitted accepts every return of CODE's subtree for the month that is\n"
        "submitted and not yet reviewed, each as the revision `status` showed, and\n"
        "lists them; the exit status is the worst of the decisions.\n"
        "\n"
        "Examples:\n"
        "  yuebao review --org ZFW-JG --period 2026-06 --accept\n"
        "  yuebao review --org ZFW-JG --period 2026-06 --reject --comment \"党课次数有误\"\n"
        "  yuebao review --org JGDW --period 2026-06 --accept --all-submitted\n")},
    {"audit", cmd_audit, N_("the audit trail: log, prove a receipt, export, verify offline"),
     N_("usage: yuebao audit log [--org CODE] [--period P] [--since YYYY-MM-DD]\n"
        "                        [--format table|csv|json]\n"
        "       yuebao audit prove --receipt FILE\n"
        "       yuebao audit export DIR [--since FILE]\n"
        "       yuebao audit verify DIR [--trusted FILE]\n"
        "       yuebao audit witness --state DIR [--server URL]\n"
        "\n"
        "Every submission, review, close and reopen, every load of the org tree and\n"
        "catalog, and every refused call that matters to security is an entry of an\n"
        "append-only log, a Merkle tree (RFC 6962) whose root the daemon signs after\n"
        "each entry. `submit` keeps a receipt of its entry (under\n"
        "~/.local/share/yuebao/receipts, or --receipt FILE).\n"
        "\n"
        "  log     the entries (auditors and the central office), each with who did\n"
        "          it: role and org unit of the certificate (\"yuebaod\" for the\n"
        "          daemon's own loads) and its SHA-256 fingerprint; a refused\n"
        "          certificate that did not verify is marked (unverified) and named\n"
        "          as it claims itself. Reviews, closes and reopens show their comment\n"
        "  prove   checks a receipt: its entry is still in the log and the log it was\n"
        "          issued with is a prefix of today's, so nothing before it changed\n"
        "  export  writes DIR: entries, signed checkpoints, every revision with its\n"
        "          signed request, every review and closure, the CA and log\n"
        "          certificates (root auditors). It stops at the latest checkpoint\n"
        "          when it starts. --since FILE: only what came after the checkpoint\n"
        "          in FILE (a verified-checkpoint), with the daemon's consistency\n"
        "          proof from it\n"
        "  verify  checks DIR offline: every entry against the signed checkpoints,\n"
        "          and its time between those of the checkpoints before and after\n"
        "          it; every submission's signature; that the stored values and\n"
        "          reason are those the branch signed; that the received time,\n"
        "          on-time flag (against the deadline the entry records), submitter\n"
        "          and certificate are those of its entry; each review's comment,\n"
        "          time and reviewer, and each close and reopen, against its entry;\n"
        "          and that every revision, review and closure has one. Names each\n"
        "          entry that fails (exit 4); says what an older log or bundle could\n"
        "          not show (submissions logged without a deadline). When nothing\n"
        "          fails it writes DIR/verified-checkpoint, the checkpoint it\n"
        "          verified and the tree's edge there. --trusted FILE (such a file):\n"
        "          the log up to it is taken as verified; a bundle exported --since\n"
        "          FILE is checked through the consistency proof and its new entries\n"
        "          alone; a log rewritten before it fails, naming both tree heads\n"
        "  witness one look at the log by an independent party (an auditor, a\n"
        "          higher office), run on a schedule from its own machine: fetches\n"
        "          the latest checkpoint with the consistency proof from the one in\n"
        "          DIR/witnessed-checkpoint, checks both against your CA, and keeps\n"
        "          the new one. A log that shrank or was rewritten, or a checkpoint\n"
        "          that does not verify, is an ALERT line (exit 1), the state kept\n"
        "\n"
        "prove and verify trust only your own CA certificate (--ca, YUEBAO_CA or\n"
        "ca = in client.ini), never one a receipt or bundle brings along, and print\n"
        "its SHA-256 fingerprint. A receipt or bundle made under another CA is\n"
        "refused (exit 1), naming both fingerprints.\n"
        "\n"
        "Examples:\n"
        "  yuebao audit log --org FY-DZB --period 2026H1 --format csv\n"
        "  yuebao audit prove --receipt ~/.local/share/yuebao/receipts/ZFW-JG-2026-06-r1.json\n"
        "  yuebao audit export /srv/audit/2026-07\n"
        "  yuebao --ca /etc/yuebao/ca.crt audit verify /srv/audit/2026-07\n"
        "  yuebao audit export /srv/audit/2026-08 --since /srv/audit/2026-07/verified-checkpoint\n"
        "  yuebao audit verify /srv/audit/2026-08 --trusted "
        "/srv/audit/2026-07/verified-checkpoint\n"
        "  yuebao audit witness --server tls+tcp://yuebao.example.org:7443 --state "
        "/var/lib/yuebao-witness   (cron, hourly)\n")},
    {"close", cmd_close, N_("close a period for a subtree (or reopen it)"),
     N_("usage: yuebao close --period P [--org CODE] [--force] [--reopen] [--comment TEXT]\n"
        "\n"
        "Central office only. Closes every month of P for the org unit and everything\n"
        "below it: no return can be submitted or amended there until the period is\n"
        "reopened with --reopen. Use it after publishing a report, so the figures\n"
        "behind it cannot move. Closing and reopening are recorded.\n"
        "While returns of the subtree and period are not reviewed, rejected and not\n"
        "resubmitted, or missing, close lists them and does not close (exit 1);\n"
        "--force closes over them.\n"
        "\n"
        "Examples:\n"
        "  yuebao close --period 2026H1 --comment \"上半年总结已发布\"\n"
        "  yuebao close --period 2026-06 --force --comment \"两个支部未报，不再等\"\n"
        "  yuebao close --period 2026-06 --reopen --comment \"补报\"\n")},
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void print_global_help(FILE *f)
{
	fputs(_(global_help), f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, _(commands[i].summary));
	fputs(_(global_tail), f);
}

/*
 * The option slot of a global option name ("server", "timeout"...), or NULL
 * when name is not one. Global options may stand before or after the command.
 */
static const char **global_slot(struct client *cl, const char **timeout, const char *name)
{
	if (strcmp(name, "server") == 0)
		return &cl->server;
	if (strcmp(name, "cert") == 0)
		return &cl->cert;
	if (strcmp(name, "key") == 0)
		return &cl->key;
	if (strcmp(name, "ca") == 0)
		return &cl->ca;
	if (strcmp(name, "timeout") == 0)
		return timeout;
	if (strcmp(name, "call-id") == 0)
		return &cl->call_id;
	return NULL;
}

int main(int argc, char **argv)
{
	struct client cl = {0};
	const char *timeout = NULL;
	const struct command *cmd = NULL;
	char **cargv;
	int i, cargc = 0, rc;

	i18n_init();
	/* argv minus the global options: the command's name, then its own arguments. */
	if ((cargv = calloc((size_t)argc + 1, sizeof(*cargv))) == NULL) {
		fprintf(stderr, "yuebao: %s\n", strerror(errno));
		return EXIT_REFUSED;
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot;
		char name[32];
		const char *eq;

		if (cmd == NULL &&
		    (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0)) {
			if (i + 1 < argc && (cmd = find_command(argv[i + 1])) != NULL)
				fputs(_(cmd->help), stdout);
			else
				print_global_help(stdout);
			free(cargv);
			return 0;
		}
		if (cmd == NULL && strcmp(a, "--version") == 0) {
			printf("yuebao %s (nng %s, %s, libxlsxwriter %s)\n", YB_VERSION,
			       nng_version(), OpenSSL_version(OPENSSL_VERSION), lxw_version());
			free(cargv);
			return 0;
		}
		if (strcmp(a, "--quiet") == 0) {
			cl.quiet = true;
			continue;
		}
		if (strncmp(a, "--", 2) == 0 && a[2] != '\0') {
			eq = strchr(a, '=');
			snprintf(name, sizeof(name), "%.*s",
			         (int)(eq ? eq - a - 2 : (long)strlen(a + 2)), a + 2);
			if ((slot = global_slot(&cl, &timeout, name)) != NULL) {
				if (eq != NULL) {
					*slot = eq + 1;
				} else if (i + 1 >= argc) {
					free(cargv);
					return usage_error(cmd ? cmd->name : NULL,
					                   "option '%s' needs a value", a);
				} else {
					*slot = argv[++i];
				}
				continue;
			}
			if (cmd == NULL) {
				free(cargv);
				return usage_error(NULL, "unknown option '%s'", a);
			}
		} else if (cmd == NULL) {
			if ((cmd = find_command(a)) == NULL) {
				free(cargv);
				return usage_error(NULL, "unknown command '%s'", a);
			}
		}
		cargv[cargc++] = argv[i];
	}
	if (cmd == NULL) {
		print_global_help(stderr);
		free(cargv);
		return EXIT_USAGE;
	}
	rc = 0;
	if (timeout != NULL) {
		char *end;
		long s = strtol(timeout, &end, 10);
		if (*end != '\0' || s < 1 || s > 3600)
			rc = usage_error(NULL, "--timeout must be 1 to 3600 seconds, not '%s'",
			                 timeout);
		else
			cl.timeout_ms = (int)s * 1000;
	}
	if (rc == 0 && cl.call_id != NULL && !rpc_valid_call_id(cl.call_id))
		rc = usage_error(NULL, "--call-id must be 32 lower-case hex digits, not '%s'",
		                 cl.call_id);
	if (rc == 0)
		rc = cmd->run(&cl, cargc, cargv);
	/* What the command printed is out before the connection is torn down. */
	fflush(stdout);
	rpc_client_close(cl.rpc);
	free(cargv);
	tz_free(cl.own_zone);
	return rc;
}
