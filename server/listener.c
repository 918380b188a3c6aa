/*
 * listener.c - the TLS listener and its configuration (see listener.h).
 */
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nng/supplemental/tls/tls.h>

#include "expiry.h"
#include "log.h"
#include "rpc.h"
#include "tlsengine.h"

struct listener {
	struct listener_config cfg; /* its strings borrowed from the caller */
	nng_socket sock;
	char url[256];
	pthread_mutex_t lock; /* guards everything below */
	nng_listener l;
	bool listening; /* l is open and started */
	bool stopped;   /* listener_stop: never again */
	/*
	 * The TLS configuration, with the CRL or without (listener_open), and
	 * the one it replaced, kept alive until the listener is freed: nng
	 * 1.5.2 reads the listener's configuration without its lock when it
	 * starts an accept, and only then takes a reference; and that accept
	 * uses it for the next connection, whenever that comes.
	 */
	nng_tls_config *tls, *tls_retired;
	time_t crl_next_update; /* of the CRL in tls; 0: tls has none */
};

/* A server TLS configuration of the daemon's files, checking crl_path (NULL: no CRL). */
static yb_status tls_config(const struct listener *l, const char *crl_path, nng_tls_config **out,
                            struct errbuf *eb)
{
	int rc, rv;

	if ((rc = rpc_tls_config_new(NNG_TLS_MODE_SERVER, l->cfg.cert_path, l->cfg.key_path,
	                             l->cfg.ca_path, crl_path, out, eb)) != YB_OK)
		return rc;
	if (l->cfg.tls13_only &&
	    (rv = nng_tls_config_version(*out, NNG_TLS_1_3, NNG_TLS_1_3)) != 0) {
		nng_tls_config_free(*out);
		*out = NULL;
		return status_fail(eb, YB_ECONNECT, "cannot require TLS 1.3: %s", nng_strerror(rv));
	}
	return YB_OK;
}

/*
 * Whether the TLS layer may check the CRL that runs out at crl_next_update.
 * Past its next update the TLS layer would fail every handshake
 * ("certificate expired", which the client would take for its own); and a
 * new configuration reaches the listener one connection late (struct
 * listener), so the CRL is dropped well before. Revocation does not depend
 * on it: every request's certificate is checked against the CRL loaded last
 * (pki_verify_caller), and past that CRL's next update every request is
 * refused with a message saying so (expiry_check_crl).
 */
static bool tls_may_use_crl(const struct listener *l, time_t crl_next_update, time_t now)
{
	return l->cfg.crl_path != NULL && l->cfg.crl_path[0] != '\0' && crl_next_update != 0 &&
	       !expiry_soon(crl_next_update, now);
}

/* Creates, configures and starts l->l on url. Under l->lock once others may call. */
static yb_status start(struct listener *l, const char *url, struct errbuf *eb)
{
	int rv;

	if ((rv = nng_listener_create(&l->l, l->sock, url)) != 0)
		return status_fail(eb, YB_INVALID_ARGUMENT, "cannot listen on '%s': %s", url,
		                   nng_strerror(rv));
	if ((rv = nng_listener_set_ptr(l->l, NNG_OPT_TLS_CONFIG, l->tls)) != 0 ||
	    (rv = nng_listener_set_size(l->l, NNG_OPT_RECVMAXSZ, l->cfg.recv_max)) != 0) {
		nng_listener_close(l->l);
		return status_fail(eb, YB_ECONNECT, "cannot configure listener: %s",
		                   nng_strerror(rv));
	}
	if ((rv = nng_listener_start(l->l, 0)) != 0) {
		nng_listener_close(l->l);
		return status_fail(eb, YB_ECONNECT, "cannot listen on %s: %s", url,
		                   nng_strerror(rv));
	}
	l->listening = true;
	return YB_OK;
}

yb_status listener_open(nng_socket sock, const struct listener_config *cfg, time_t crl_next_update,
                        time_t now, struct listener **out, struct errbuf *eb)
{
	struct listener *l = calloc(1, sizeof(*l));
	bool with_crl;
	int rc, port = 0;

	if (l == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	l->cfg = *cfg;
	l->sock = sock;
	pthread_mutex_init(&l->lock, NULL);
	with_crl = tls_may_use_crl(l, crl_next_update, now);
	l->crl_next_update = with_crl ? crl_next_update : 0;
	if ((rc = tls_config(l, with_crl ? cfg->crl_path : NULL, &l->tls, eb)) != YB_OK ||
	    (rc = start(l, cfg->url, eb)) != YB_OK) {
		listener_free(l);
		return rc;
	}
	nng_listener_get_int(l->l, NNG_OPT_TCP_BOUND_PORT, &port);
	snprintf(l->url, sizeof(l->url), "%s", cfg->url);
	{
		/* Report the bound port when the URL asked for port 0. */
		char *colon = strrchr(l->url, ':');
		if (colon != NULL && strcmp(colon, ":0") == 0)
			snprintf(colon, sizeof(l->url) - (size_t)(colon - l->url), ":%d", port);
	}
	*out = l;
	return YB_OK;
}

const char *listener_url(const struct listener *l)
{
	return l->url;
}

/*
 * nng 1.5.2 gives the accept already waiting the configuration it had when
 * that accept started: one TCP connection of our own, closed at once, is
 * what it takes, so that the next client gets the new one (the kernel hands
 * connections to accept in the order they came). Best effort: when it
 * cannot connect, the next client still gets the old configuration.
 */
static void use_up_pending_accept(struct listener *l)
{
	nng_sockaddr sa;
	struct sockaddr_storage ss = {0};
	socklen_t len = 0;
	int fd;

	if (nng_listener_get_addr(l->l, NNG_OPT_LOCADDR, &sa) != 0)
		return;
	if (sa.s_family == NNG_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = sa.s_in.sa_port;
		in->sin_addr.s_addr =
		    sa.s_in.sa_addr != 0 ? sa.s_in.sa_addr : htonl(INADDR_LOOPBACK);
		len = sizeof(*in);
	} else if (sa.s_family == NNG_AF_INET6) {
		static const uint8_t any[16] = {0};
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = sa.s_in6.sa_port;
		if (memcmp(sa.s_in6.sa_addr, any, 16) != 0)
			memcpy(&in6->sin6_addr, sa.s_in6.sa_addr, 16);
		else
			in6->sin6_addr = in6addr_loopback;
		len = sizeof(*in6);
	} else {
		return;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	if (connect(fd, (struct sockaddr *)&ss, len) != 0)
		log_line("cannot hand the listener its new TLS configuration at once: %s",
		         strerror(errno));
	close(fd);
}

void listener_use_crl(struct listener *l, time_t crl_next_update, time_t now)
{
	bool with_crl = tls_may_use_crl(l, crl_next_update, now);
	nng_tls_config *cfg = NULL;
	struct errbuf eb = {{0}};
	int rv;

	if (tls_config(l, with_crl ? l->cfg.crl_path : NULL, &cfg, &eb) != YB_OK) {
		log_line("cannot make a new TLS configuration, keeping the old one: %s", eb.msg);
		return;
	}
	pthread_mutex_lock(&l->lock);
	if (l->stopped) {
		nng_tls_config_free(cfg);
	} else if (l->listening &&
	           (rv = nng_listener_set_ptr(l->l, NNG_OPT_TLS_CONFIG, cfg)) != 0) {
		log_line("cannot give the listener its new TLS configuration: %s",
		         nng_strerror(rv));
		nng_tls_config_free(cfg);
	} else {
		if (l->tls_retired != NULL)
			nng_tls_config_free(l->tls_retired);
		l->tls_retired = l->tls;
		l->tls = cfg;
		l->crl_next_update = with_crl ? crl_next_update : 0;
		/* Not listening (listener_tick could not listen again): the next start takes it. */
		if (l->listening)
			use_up_pending_accept(l);
		if (with_crl)
			log_line("TLS handshakes now check the CRL %s as loaded now",
			         l->cfg.crl_path);
		else if (l->cfg.crl_path != NULL && l->cfg.crl_path[0] != '\0')
			log_line(
			    "TLS handshakes no longer check the CRL %s, which runs out within %d "
			    "days; each request's certificate is still checked against the CRL "
			    "loaded last",
			    l->cfg.crl_path, EXPIRY_WARN_DAYS);
	}
	pthread_mutex_unlock(&l->lock);
}

void listener_check_crl(struct listener *l, time_t now)
{
	time_t next;

	pthread_mutex_lock(&l->lock);
	next = l->crl_next_update;
	pthread_mutex_unlock(&l->lock);
	if (next != 0 && expiry_soon(next, now))
		listener_use_crl(l, 0, now);
}

void listener_tick(struct listener *l, int stall_ms)
{
	struct errbuf eb = {{0}};
	int stalled;

	pthread_mutex_lock(&l->lock);
	if (l->stopped)
		goto out;
	if (l->listening) {
		if ((stalled = tlsengine_guard_stalled(stall_ms)) == 0)
			goto out;
		log_msg(LOG_LEVEL_ERROR,
		        "nng's listener stopped making sessions of new connections (%d "
		        "negotiated and left waiting, a known nng 1.5.2 defect): listening again "
		        "on %s; the sessions open now end, and their clients retry",
		        stalled, l->url);
		nng_listener_close(l->l);
		l->listening = false;
		/* nng never frees those: they must not count against the next listener. */
		(void)tlsengine_guard_abandon_stalled(stall_ms);
	}
	/* l->url has the bound port: the same address and port again. */
	if (start(l, l->url, &eb) != YB_OK) {
		log_msg(LOG_LEVEL_ERROR, "%s; trying again in a second", eb.msg);
		goto out;
	}
	log_line("listening again on %s", l->url);
out:
	pthread_mutex_unlock(&l->lock);
}

void listener_stop(struct listener *l)
{
	pthread_mutex_lock(&l->lock);
	if (l->listening)
		nng_listener_close(l->l);
	l->listening = false;
	l->stopped = true;
	pthread_mutex_unlock(&l->lock);
}

void listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	if (l->tls != NULL)
		nng_tls_config_free(l->tls);
	if (l->tls_retired != NULL)
		nng_tls_config_free(l->tls_retired);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
