/*
 * yuebaod.c - the daemon's command line, configuration file and signals.
 *
 * Settings come from --config FILE (INI, section [yuebaod]) and are
 * overridden by flags. SIGHUP reloads the org tree, the catalog, the CA and
 * CRL and the TLS setup; SIGTERM and SIGINT stop the daemon after in-flight
 * requests are answered.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <ini.h>
#include <nng/nng.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "i18n.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "tz.h"

static const char usage_text[] =
    "usage: yuebaod --listen URL --db FILE|URL --cert F --key F --ca F [--crl F]\n"
    "               --orgs FILE [--catalog DIR] [--workers N] [--config FILE]\n"
    "               [--max-connections N] [--max-per-source N]\n"
    "       yuebaod                 (the settings of " YB_DEFAULT_CONFIG ")\n"
    "\n"
    "The yuebao daemon: receives signed monthly returns from branches over mutual\n"
    "TLS, stores them in SQLite (or PostgreSQL) and answers the central office's\n"
    "queries.\n"
    "\n"
    "  --listen URL      tls+tcp://HOST:PORT to listen on (port 0: any free port,\n"
    "                    the chosen one is logged)\n"
    "  --db FILE|URL     SQLite database, created if missing; or a PostgreSQL\n"
    "                    database, postgresql://USER@HOST/DBNAME (libpq's URL:\n"
    "                    the password in ~/.pgpass, not here), which several\n"
    "                    yuebaod may share; the tables are created if missing\n"
    "  --cert F --key F  the server's certificate and P-256 key (PEM), for TLS\n"
    "  --log-cert F --log-key F|URI  the log certificate (OU=log) and its key,\n"
    "                    which signs the audit log's checkpoints and nothing else\n"
    "                    (default: log.crt and log.key beside --cert). The key may\n"
    "                    be a PKCS#11 URI for a key on a token, e.g.\n"
    "                    'pkcs11:token=yuebao;object=log?pin-source=file:/etc/yuebao/pin'\n"
    "                    (OpenSSL's pkcs11 engine or provider: libengine-pkcs11-openssl)\n"
    "  --ca F            the deployment CA: clients must hold a certificate from it\n"
    "  --crl F           the CA's revocation list (PEM); revoked clients are refused\n"
    "                    (reloaded on SIGHUP). Past its next update every request\n"
    "                    is refused until it is renewed (yuebao-certs crl DIR)\n"
    "  --tls-min V       oldest TLS version accepted: 1.2 (default; ECDHE with\n"
    "                    AES-GCM or ChaCha20-Poly1305 only) or 1.3\n"
    "  --orgs FILE       the org tree, CSV code,name,parent (reloaded on SIGHUP)\n"
    "  --catalog DIR     elements.csv, indicators.csv, rules.csv (default: the\n"
    "                    catalog installed with yuebaod; reloaded on SIGHUP)\n"
    "  --workers N       requests served at once (default 16)\n"
    "  --max-connections N  TCP connections open at once (default: the descriptor\n"
    "                    limit, raised to its hard limit at start, less 64 and 2\n"
    "                    per worker; at most 65536)\n"
    "  --max-per-source N  TCP connections open at once from one IP address\n"
    "                    (default 64). When either cap is reached, the oldest\n"
    "                    connection without a verified client certificate is\n"
    "                    closed, or the new one refused; one that has not\n"
    "                    finished its TLS handshake in 10 s is closed. Each\n"
    "                    refusal or close is logged, at most once a second per\n"
    "                    address\n"
    "  --time-window S   accepted client clock difference in seconds (default 300)\n"
    "  --max-message B   largest request in bytes (default 1048576)\n"
    "  --due-day D       returns for month M are due by day D of M+1 (default 5)\n"
    "  --timezone ZONE   the office's IANA time zone (default Asia/Shanghai): deadlines,\n"
    "                    the month in progress and every time shown to people follow\n"
    "                    its clock, with the offset (+08:00); the log stays in UTC (Z)\n"
    "  --outlier-factor F  warn when a value is above F times the branch's median\n"
    "                    of the last 12 months (default 3; 0 = off)\n"
    "  --stock-jump P    warn when a stock (members_total...) moves more than P%\n"
    "                    from the previous month (default 50; 0 = off)\n"
    "  --config FILE     INI file with the same settings in a [yuebaod] section,\n"
    "                    e.g. listen = tls+tcp://0.0.0.0:7443; flags win. Without\n"
    "                    any argument yuebaod reads " YB_DEFAULT_CONFIG "\n"
    "  --backup FILE     copy the database (--db, db = in --config FILE, or in\n"
    "                    " YB_DEFAULT_CONFIG ") to\n"
    "                    the new FILE and exit: a consistent online copy, made\n"
    "                    with SQLite's backup API while a daemon serves, checked\n"
    "                    before it is given its name (mode 0640). SQLite only:\n"
    "                    back PostgreSQL up with pg_dump or a standby\n"
    "  -h, --help        this help\n"
    "  --version         print the version and exit\n"
    "\n"
    "  --log-level L     error, warning, info (default) or debug: info adds a line\n"
    "                    per request and a daily summary (calls, refused, returns\n"
    "                    stored); debug the later pages of paged answers\n"
    "\n"
    "One line per request goes to standard error (to the journal, with the fields\n"
    "METHOD, CALLER, STATUS and MS, when systemd runs yuebaod): time (UTC,\n"
    "2027-01-05T20:00:00.000Z), method, caller, status, milliseconds. At start, on SIGHUP and once "
    "a day a\n"
    "warning names the server certificate, CA certificate or CRL that runs out\n"
    "within 30 days, and an error each one that has, e.g.\n"
    "  warning: the CRL pki/crl.pem expires on 2027-06-30 02:00:00 UTC, in 29 days: ...\n"
    "SIGHUP reloads the org tree, the catalog, the CA, the CRL and the TLS setup.\n"
    "Example:\n"
    "  yuebaod --listen tls+tcp://127.0.0.1:7443 --db yuebao.db --cert pki/server.crt \\\n"
    "          --key pki/server.key --ca pki/ca.crt --crl pki/crl.pem --orgs orgs.csv\n"
    "  (add --max-per-source 500 when many branches connect through one NAT address)\n";

/* Settings as strings until all sources are merged. */
struct settings {
	char *listen, *db, *cert, *key, *ca, *crl, *orgs, *catalog, *config;
	char *log_cert, *log_key; /* default: log.crt and log.key beside --cert */
	char *workers, *max_connections, *max_per_source, *time_window, *max_message, *due_day,
	    *outlier_factor, *stock_jump;
	char *timezone, *tls_min, *log_level;
	char *backup; /* --backup FILE: copy the database and exit */
	/* The values read from --config live here: bounded, and nothing to free. */
	char ini_text[8192];
	size_t ini_used;
};

static char **setting(struct settings *st, const char *name)
{
	static const struct {
		const char *name;
		size_t off;
	} keys[] = {
	    {"listen", offsetof(struct settings, listen)},
	    {"db", offsetof(struct settings, db)},
	    {"cert", offsetof(struct settings, cert)},
	    {"key", offsetof(struct settings, key)},
	    {"log-cert", offsetof(struct settings, log_cert)},
	    {"log-key", offsetof(struct settings, log_key)},
	    {"ca", offsetof(struct settings, ca)},
	    {"crl", offsetof(struct settings, crl)},
	    {"orgs", offsetof(struct settings, orgs)},
	    {"catalog", offsetof(struct settings, catalog)},
	    {"workers", offsetof(struct settings, workers)},
	    {"max-connections", offsetof(struct settings, max_connections)},
	    {"max-per-source", offsetof(struct settings, max_per_source)},
	    {"time-window", offsetof(struct settings, time_window)},
	    {"max-message", offsetof(struct settings, max_message)},
	    {"due-day", offsetof(struct settings, due_day)},
	    {"outlier-factor", offsetof(struct settings, outlier_factor)},
	    {"stock-jump", offsetof(struct settings, stock_jump)},
	    {"timezone", offsetof(struct settings, timezone)},
	    {"tls-min", offsetof(struct settings, tls_min)},
	    {"log-level", offsetof(struct settings, log_level)},
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return (char **)((char *)st + keys[i].off);
	return NULL;
}

/* inih callback: a [yuebaod] key fills a setting the flags did not set. */
static int on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct settings *st = user;
	char key[64];
	char **slot;

	if (strcmp(section, "yuebaod") != 0)
		return 1;
	snprintf(key, sizeof(key), "%s", name);
	for (char *p = key; *p; p++)
		if (*p == '_')
			*p = '-';
	if ((slot = setting(st, key)) == NULL) {
		fprintf(stderr, "yuebaod: unknown setting '%s' in [yuebaod]\n", name);
		return 0;
	}
	if (*slot == NULL) {
		size_t n = strlen(value) + 1;
		if (n > sizeof(st->ini_text) - st->ini_used) {
			fprintf(stderr,
			        "yuebaod: the settings in the config file exceed %zu bytes\n",
			        sizeof(st->ini_text));
			return 0;
		}
		*slot = memcpy(st->ini_text + st->ini_used, value, n);
		st->ini_used += n;
	}
	return 1;
}

static int parse_int(const char *s, const char *what, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (s == NULL)
		return 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "yuebaod: %s must be a whole number from %ld to %ld, not '%s'\n",
		        what, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * Reads the command line and the --config file into st. Returns -1 to go
 * on, or the exit status (0 after --help or --version, 2 on a usage error).
 */
static int read_settings(int argc, char **argv, struct settings *st)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 0},
	    {"db", required_argument, NULL, 0},
	    {"cert", required_argument, NULL, 0},
	    {"key", required_argument, NULL, 0},
	    {"log-cert", required_argument, NULL, 0},
	    {"log-key", required_argument, NULL, 0},
	    {"ca", required_argument, NULL, 0},
	    {"crl", required_argument, NULL, 0},
	    {"orgs", required_argument, NULL, 0},
	    {"catalog", required_argument, NULL, 0},
	    {"workers", required_argument, NULL, 0},
	    {"max-connections", required_argument, NULL, 0},
	    {"max-per-source", required_argument, NULL, 0},
	    {"time-window", required_argument, NULL, 0},
	    {"max-message", required_argument, NULL, 0},
	    {"due-day", required_argument, NULL, 0},
	    {"outlier-factor", required_argument, NULL, 0},
	    {"stock-jump", required_argument, NULL, 0},
	    {"timezone", required_argument, NULL, 0},
	    {"tls-min", required_argument, NULL, 0},
	    {"log-level", required_argument, NULL, 0},
	    {"config", required_argument, NULL, 0},
	    {"backup", required_argument, NULL, 0},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int idx, c;

	/* As a service starts it: everything from the installed configuration. */
	if (argc == 1) {
		if (access(YB_DEFAULT_CONFIG, F_OK) != 0) {
			fprintf(stderr,
			        "yuebaod: no arguments and no %s (%s): give the settings as flags "
			        "or write them there\n\n%s",
			        YB_DEFAULT_CONFIG, strerror(errno), usage_text);
			return 2;
		}
		st->config = (char *)YB_DEFAULT_CONFIG;
	}
	while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return 0;
		}
		if (c == 'V') {
			/* What a bug report needs: the libraries actually loaded, not those built
			 * against. */
			printf("yuebaod %s (nng %s, SQLite %s, %s)\n", YB_VERSION, nng_version(),
			       sqlite3_libversion(), OpenSSL_version(OPENSSL_VERSION));
			return 0;
		}
		if (c != 0) {
			/* getopt has said what was wrong, in the user's own locale. */
			fputs("Try 'yuebaod --help'.\n", stderr);
			return 2;
		}
		if (strcmp(opts[idx].name, "config") == 0)
			st->config = optarg;
		else if (strcmp(opts[idx].name, "backup") == 0)
			st->backup = optarg;
		else
			*setting(st, opts[idx].name) = optarg;
	}
	/* A backup of the installed daemon's database needs no more than --backup FILE. */
	if (st->backup != NULL && st->db == NULL && st->config == NULL &&
	    access(YB_DEFAULT_CONFIG, F_OK) == 0)
		st->config = (char *)YB_DEFAULT_CONFIG;
	if (optind < argc) {
		fprintf(stderr, "yuebaod: unexpected argument '%s'\n\n%s", argv[optind],
		        usage_text);
		return 2;
	}
	if (st->config != NULL) {
		int line = ini_parse(st->config, on_ini, st);
		if (line != 0) {
			if (line < 0)
				fprintf(stderr, "yuebaod: cannot read config file %s: %s\n",
				        st->config, strerror(errno));
			else
				fprintf(stderr, "yuebaod: %s: line %d: not a valid setting\n",
				        st->config, line);
			return 2;
		}
	}
	return -1;
}

/*
 * The server's configuration from the settings, checked; *zone is loaded
 * (the caller frees it). Returns -1 to go on, or 2 on a usage error.
 */
static int make_config(const struct settings *st, struct server_config *cfg, struct tz **zone)
{
	long workers = 16, max_conns = 0, max_per_source = 0, window = 300, maxmsg = 1 << 20,
	     due = 5, factor = 3, jump = 50;
	enum log_level level = LOG_LEVEL_INFO;
	struct errbuf eb = {{0}};

	if (st->listen == NULL || st->db == NULL || st->cert == NULL || st->key == NULL ||
	    st->ca == NULL || st->orgs == NULL) {
		fprintf(stderr,
		        "yuebaod: --listen, --db, --cert, --key, --ca and --orgs are "
		        "required\n\n%s",
		        usage_text);
		return 2;
	}
	if (parse_int(st->workers, "--workers", 1, 256, &workers) != 0 ||
	    parse_int(st->max_connections, "--max-connections", 1, SERVER_MAX_CONNECTIONS_CAP,
	              &max_conns) != 0 ||
	    parse_int(st->max_per_source, "--max-per-source", 1, SERVER_MAX_CONNECTIONS_CAP,
	              &max_per_source) != 0 ||
	    parse_int(st->time_window, "--time-window", 1, 86400, &window) != 0 ||
	    parse_int(st->max_message, "--max-message", 4096, 64 << 20, &maxmsg) != 0 ||
	    parse_int(st->due_day, "--due-day", 1, 28, &due) != 0 ||
	    parse_int(st->outlier_factor, "--outlier-factor", 0, 1000, &factor) != 0 ||
	    parse_int(st->stock_jump, "--stock-jump", 0, 100000, &jump) != 0)
		return 2;
	if (st->log_level != NULL && log_parse_level(st->log_level, &level) != YB_OK) {
		fprintf(stderr,
		        "yuebaod: --log-level must be error, warning, info or debug, not '%s'\n",
		        st->log_level);
		return 2;
	}
	log_open(level);
	if (st->tls_min != NULL && strcmp(st->tls_min, "1.2") != 0 &&
	    strcmp(st->tls_min, "1.3") != 0) {
		fprintf(stderr, "yuebaod: --tls-min must be 1.2 or 1.3, not '%s'\n", st->tls_min);
		return 2;
	}
	if (tz_load(st->timezone ? st->timezone : TZ_DEFAULT, zone, &eb) != YB_OK) {
		fprintf(stderr, "yuebaod: --timezone: %s\n", eb.msg);
		return 2;
	}
	*cfg = (struct server_config){
	    .listen_url = st->listen,
	    .db_path = st->db,
	    .cert_path = st->cert,
	    .key_path = st->key,
	    .log_cert_path = st->log_cert,
	    .log_key_path = st->log_key,
	    .ca_path = st->ca,
	    .crl_path = st->crl,
	    .orgs_path = st->orgs,
	    .catalog_dir = st->catalog,
	    .workers = (int)workers,
	    .max_connections = (int)max_conns,
	    .max_per_source = (int)max_per_source,
	    .time_window_s = (int)window,
	    .max_message = (size_t)maxmsg,
	    .due_day = (int)due,
	    .outlier_factor = (int)factor,
	    .stock_jump_pct = (int)jump,
	    .zone = *zone,
	    .tls_min = st->tls_min != NULL && strcmp(st->tls_min, "1.3") == 0 ? SERVER_TLS_MIN_1_3
	                                                                      : SERVER_TLS_MIN_1_2,
	};
	return -1;
}

/* yuebaod --backup FILE: exit status 0, 1 (the copy failed) or 2 (no --db). */
static int backup(const struct settings *st)
{
	struct errbuf eb = {{0}};
	struct timespec t0, t1;
	long pages;

	if (st->db == NULL) {
		fprintf(stderr, "yuebaod: --backup needs the database: --db FILE or db = in "
		                "--config FILE\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (store_backup(st->db, st->backup, &pages, &eb) != YB_OK) {
		fprintf(stderr, "yuebaod: backup: %s\n", eb.msg);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "yuebaod: backed up %s to %s (%ld pages, checked) in %lld ms\n", st->db,
	        st->backup, pages,
	        (long long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
	return 0;
}

/* Serves until SIGTERM or SIGINT (sigs, blocked in every thread): SIGHUP reloads. */
static void serve_until_stopped(struct server *srv, const sigset_t *sigs)
{
	struct errbuf eb = {{0}};
	int sig;

	for (;;) {
		/* A second at most: server_tick keeps the listener serving. */
		struct timespec tick = {1, 0};
		if ((sig = sigtimedwait(sigs, NULL, &tick)) < 0) {
			server_tick(srv);
			continue;
		}
		if (sig == SIGHUP) {
			/* systemctl reload waits for READY=1 again (Type=notify). */
			sd_notify(0, "RELOADING=1");
			server_reload(srv, &eb);
			sd_notify(0, "READY=1");
			continue;
		}
		sd_notify(0, "STOPPING=1");
		fprintf(stderr, "yuebaod: %s received, stopping\n",
		        sig == SIGINT ? "SIGINT" : "SIGTERM");
		return;
	}
}

int main(int argc, char **argv)
{
	struct settings st = {0};
	struct server_config cfg = {0};
	struct server *srv = NULL;
	struct tz *zone = NULL;
	struct errbuf eb = {{0}};
	sigset_t sigs;
	int rc;

	i18n_init();
	/*
	 * Before SQLite initialises: no allocation statistics. Kept, they put
	 * every SQLite malloc and free of every thread behind one global mutex,
	 * which the 16 workers and the writer contended for: 10% of the
	 * daemon's CPU at 64 clients went to that lock and its futex calls.
	 * yuebaod reads no SQLite memory statistics and sets no heap limit.
	 */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/*
	 * Each writing call runs in its own savepoint of the group commit's
	 * transaction, and SQLite keeps the pages a savepoint changes in a
	 * sub-journal that it spills to a temporary file past 64 KiB. At 64
	 * clients nearly every batch created, wrote and unlinked such a file:
	 * 40% of the daemon's pwrite calls. Kept in memory, a sub-journal
	 * holds the pages one call changes (some 30 for a submission).
	 */
	sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, -1);
	if ((rc = read_settings(argc, argv, &st)) >= 0)
		return rc;
	if (st.backup != NULL)
		return backup(&st);
	if ((rc = make_config(&st, &cfg, &zone)) >= 0)
		return rc;
	/* Every thread inherits this mask; signals are taken only by sigtimedwait. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	{
		/*
		 * Every connection costs a descriptor: allow as many as the system lets
		 * us. server_open derives the default --max-connections from this.
		 */
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (server_open(&cfg, &srv, &eb) != 0) {
		fprintf(stderr, "yuebaod: %s\n", eb.msg);
		tz_free(zone);
		return 1;
	}
	/*
	 * The store is open and the listener up: under systemd (Type=notify)
	 * the unit is started only now; elsewhere NOTIFY_SOCKET is unset and
	 * this does nothing.
	 */
	sd_notify(0, "READY=1");
	serve_until_stopped(srv, &sigs);
	server_close(srv);
	tz_free(zone);
	return 0;
}
