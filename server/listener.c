/*
 * listener.c - the TLS listener and its configuration (see listener.h).
 */
#include "listener.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/supplemental/tls/tls.h>

#include "clock.h"
#include "expiry.h"
#include "log.h"
#include "rpc.h"
#include "session.h"
#include "tlsengine.h"

struct listener {
	struct listener_config cfg; /* its strings borrowed from the caller */
	struct session_inbox *inbox;
	char url[256];
	pthread_mutex_t lock; /* guards everything below */
	nng_stream_listener *sl;
	nng_aio *accept;        /* at most one accept, or a pause, at a time */
	bool pausing;           /* accept is sleeping: no memory or descriptors, or no room */
	bool stopped;           /* listener_stop: never again */
	time_t crl_next_update; /* of the CRL in the listener's configuration; 0: none */
	int64_t error_logged_ms;
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
 * ("certificate expired", which the client would take for its own), so the
 * CRL is dropped well before. Revocation does not depend
 * on it: every request's certificate is checked against the CRL loaded last
 * (pki_verify_caller), and past that CRL's next update every request is
 * refused with a message saying so (expiry_check_crl).
 */
static bool tls_may_use_crl(const struct listener *l, time_t crl_next_update, time_t now)
{
	return l->cfg.crl_path != NULL && l->cfg.crl_path[0] != '\0' && crl_next_update != 0 &&
	       !expiry_soon(crl_next_update, now);
}

/* Accepts the next connection. Under l->lock once others may call. */
static void accept_next(struct listener *l)
{
	nng_stream_listener_accept(l->sl, l->accept);
}

/*
 * A connection came, or the accept failed. Each connection becomes a
 * session; the next accept starts at once, 100 ms later when the process
 * lacks memory or descriptors (logged at most once a minute), or, while the
 * connection guard has no room (tlsengine_guard_has_room), in 10 ms steps
 * until it has: meanwhile new connections wait in the kernel's queue.
 */
static void accept_done(void *arg)
{
	struct listener *l = arg;
	int rv = nng_aio_result(l->accept);
	nng_stream *stream = NULL;
	int64_t now;

	pthread_mutex_lock(&l->lock);
	if (l->stopped || (rv == NNG_ECLOSED && !l->pausing)) {
		if (rv == 0 && !l->pausing) {
			/* Accepted as the listener stopped: nobody will serve it. */
			nng_stream *late = nng_aio_get_output(l->accept, 0);
			nng_stream_close(late);
			nng_stream_free(late);
		}
		goto out;
	}
	if (l->pausing) {
		l->pausing = false;
	} else if (rv == 0) {
		stream = nng_aio_get_output(l->accept, 0);
	} else if (rv == NNG_ENOMEM || rv == NNG_ENOFILES || rv == NNG_ENOSPC) {
		now = clock_monotonic_ms();
		if (l->error_logged_ms == 0 || now - l->error_logged_ms >= 60000) {
			log_msg(LOG_LEVEL_ERROR,
			        "cannot accept connections on %s: %s; trying again", l->url,
			        nng_strerror(rv));
			l->error_logged_ms = now;
		}
		l->pausing = true;
		nng_sleep_aio(100, l->accept);
		goto out;
	}
	/* Else a peer gone before its accept, one the guard refused, or a new configuration. */
	if (!tlsengine_guard_has_room()) {
		l->pausing = true;
		nng_sleep_aio(10, l->accept);
		goto out;
	}
	accept_next(l);
out:
	pthread_mutex_unlock(&l->lock);
	if (stream != NULL)
		session_start(l->inbox, stream);
}

yb_status listener_open(struct session_inbox *inbox, const struct listener_config *cfg,
                        time_t crl_next_update, time_t now, struct listener **out,
                        struct errbuf *eb)
{
	struct listener *l = calloc(1, sizeof(*l));
	nng_tls_config *tls = NULL;
	bool with_crl;
	int rc, rv, port = 0;

	if (l == NULL)
		return status_fail(eb, YB_ENOMEM, "out of memory");
	l->cfg = *cfg;
	l->inbox = inbox;
	pthread_mutex_init(&l->lock, NULL);
	with_crl = tls_may_use_crl(l, crl_next_update, now);
	l->crl_next_update = with_crl ? crl_next_update : 0;
	if ((rc = tls_config(l, with_crl ? cfg->crl_path : NULL, &tls, eb)) != YB_OK)
		goto fail;
	if ((rv = nng_stream_listener_alloc(&l->sl, cfg->url)) != 0) {
		rc = status_fail(eb, YB_INVALID_ARGUMENT, "cannot listen on '%s': %s", cfg->url,
		                 nng_strerror(rv));
		goto fail;
	}
	/* Replies are one write each: no reason to wait for more. */
	(void)nng_stream_listener_set_bool(l->sl, NNG_OPT_TCP_NODELAY, true);
	if ((rv = nng_stream_listener_set_ptr(l->sl, NNG_OPT_TLS_CONFIG, tls)) != 0 ||
	    (rv = nng_aio_alloc(&l->accept, accept_done, l)) != 0) {
		rc =
		    status_fail(eb, YB_ECONNECT, "cannot configure listener: %s", nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_stream_listener_listen(l->sl)) != 0) {
		rc = status_fail(eb, YB_ECONNECT, "cannot listen on %s: %s", cfg->url,
		                 nng_strerror(rv));
		goto fail;
	}
	nng_tls_config_free(tls); /* the listener holds its own reference */
	tls = NULL;
	nng_stream_listener_get_int(l->sl, NNG_OPT_TCP_BOUND_PORT, &port);
	snprintf(l->url, sizeof(l->url), "%s", cfg->url);
	{
		/* Report the bound port when the URL asked for port 0. */
		char *colon = strrchr(l->url, ':');
		if (colon != NULL && strcmp(colon, ":0") == 0)
			snprintf(colon, sizeof(l->url) - (size_t)(colon - l->url), ":%d", port);
	}
	pthread_mutex_lock(&l->lock);
	accept_next(l);
	pthread_mutex_unlock(&l->lock);
	*out = l;
	return YB_OK;
fail:
	if (tls != NULL)
		nng_tls_config_free(tls);
	listener_free(l);
	return rc;
}

const char *listener_url(const struct listener *l)
{
	return l->url;
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
	if (l->stopped)
		goto out;
	if ((rv = nng_stream_listener_set_ptr(l->sl, NNG_OPT_TLS_CONFIG, cfg)) != 0) {
		log_line("cannot give the listener its new TLS configuration: %s",
		         nng_strerror(rv));
	} else {
		l->crl_next_update = with_crl ? crl_next_update : 0;
		/*
		 * The accept waiting now was given the old configuration when
		 * it started: cancelled, the next one takes the new one.
		 */
		nng_aio_abort(l->accept, NNG_ECANCELED);
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
out:
	pthread_mutex_unlock(&l->lock);
	nng_tls_config_free(cfg); /* the listener holds its own reference */
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

void listener_stop(struct listener *l)
{
	pthread_mutex_lock(&l->lock);
	l->stopped = true;
	if (l->sl != NULL)
		nng_stream_listener_close(l->sl);
	pthread_mutex_unlock(&l->lock);
}

void listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	if (l->sl != NULL)
		listener_stop(l);
	nng_aio_free(l->accept); /* waits for accept_done */
	if (l->sl != NULL)
		nng_stream_listener_free(l->sl);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
