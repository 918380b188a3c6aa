/*
 * rpc.c - request signing layout, TLS configuration and the client call.
 */
#include "rpc.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/protocol/reqrep0/req.h>

#include "clock.h"
#include "hash.h"
#include "i18n.h"
#include "pki.h"
#include "tlsengine.h"

/* PEM files (certificates, keys, CRLs) are small; anything larger is a mistake. */
#define PEM_MAX_BYTES (1u << 20)

struct rpc_client {
	nng_socket sock;
	nng_dialer dialer;
	nng_tls_config *tls;
	struct pki_identity *id;
	int timeout_ms;
};

int rpc_signed_bytes(const char *method, const char *call_id, int64_t sent_at_ms,
                     int64_t deadline_ms, const uint8_t *payload, size_t payload_len, uint8_t **out,
                     size_t *out_len)
{
	char head[512];
	int n =
	    snprintf(head, sizeof(head), "yuebao-rpc-v1\n%.128s\n%.64s\n%" PRId64 "\n%" PRId64 "\n",
	             method, call_id, sent_at_ms, deadline_ms);
	uint8_t *buf;

	if (n < 0 || (size_t)n >= sizeof(head))
		return YB_INVALID_ARGUMENT;
	buf = malloc((size_t)n + payload_len + 1);
	if (buf == NULL)
		return YB_ENOMEM;
	memcpy(buf, head, (size_t)n);
	if (payload_len > 0)
		memcpy(buf + n, payload, payload_len);
	*out = buf;
	*out_len = (size_t)n + payload_len;
	return YB_OK;
}

/* Reads a whole PEM file as a NUL-terminated string; caller frees. */
static int read_pem(const char *path, const char *what, char **out, struct errbuf *eb)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;

	if (f == NULL)
		return status_fail(eb, YB_EIO, _("cannot read %s file '%s'"), what, path);
	buf = malloc(PEM_MAX_BYTES + 1);
	if (buf == NULL) {
		fclose(f);
		return status_fail(eb, YB_ENOMEM, _("out of memory"));
	}
	n = fread(buf, 1, PEM_MAX_BYTES + 1, f);
	fclose(f);
	if (n > PEM_MAX_BYTES) {
		free(buf);
		return status_fail(eb, YB_INVALID_ARGUMENT,
		                   _("%s file '%s' is larger than %u bytes"), what, path,
		                   PEM_MAX_BYTES);
	}
	buf[n] = '\0';
	*out = buf;
	return YB_OK;
}

int rpc_tls_config_new(nng_tls_mode mode, const char *cert_path, const char *key_path,
                       const char *ca_path, const char *crl_path, nng_tls_config **out,
                       struct errbuf *eb)
{
	nng_tls_config *cfg = NULL;
	char *cert = NULL, *key = NULL, *ca = NULL, *crl = NULL;
	int rc, nrc;

	if ((rc = read_pem(cert_path, _("certificate"), &cert, eb)) != YB_OK ||
	    (rc = read_pem(key_path, _("private key"), &key, eb)) != YB_OK ||
	    (rc = read_pem(ca_path, _("CA certificate"), &ca, eb)) != YB_OK)
		goto done;
	if (crl_path != NULL && crl_path[0] != '\0' &&
	    (rc = read_pem(crl_path, _("CRL"), &crl, eb)) != YB_OK)
		goto done;
	if ((rc = tlsengine_register(eb)) != YB_OK)
		goto done;
	if ((nrc = nng_tls_config_alloc(&cfg, mode)) != 0) {
		rc = status_fail(eb, YB_ECONNECT, _("cannot set up TLS: %s"), nng_strerror(nrc));
		goto done;
	}
	if ((nrc = nng_tls_config_ca_chain(cfg, ca, crl)) != 0) {
		if (crl)
			rc = status_fail(eb, YB_INVALID_ARGUMENT,
			                 _("cannot use CA '%s' with CRL %s: %s"), ca_path, crl_path,
			                 nng_strerror(nrc));
		else
			rc = status_fail(eb, YB_INVALID_ARGUMENT, _("cannot use CA '%s': %s"),
			                 ca_path, nng_strerror(nrc));
		goto done;
	}
	if ((nrc = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0) {
		rc = status_fail(eb, YB_INVALID_ARGUMENT,
		                 _("cannot use certificate '%s' with key '%s': %s"), cert_path,
		                 key_path, nng_strerror(nrc));
		goto done;
	}
	if ((nrc = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED)) != 0) {
		rc = status_fail(eb, YB_ECONNECT, _("cannot require peer certificates: %s"),
		                 nng_strerror(nrc));
		goto done;
	}
	*out = cfg;
	cfg = NULL;
	rc = YB_OK;
done:
	if (cfg != NULL)
		nng_tls_config_free(cfg);
	if (key != NULL) {
		/* Don't leave the private key lying in freed heap memory. */
		memset(key, 0, strlen(key));
		free(key);
	}
	free(cert);
	free(ca);
	free(crl);
	return rc;
}

int rpc_new_call_id(char id[RPC_CALL_ID_LEN + 1])
{
	unsigned char raw[RPC_CALL_ID_LEN / 2];

	if (pki_random(raw, sizeof(raw)) != YB_OK)
		return YB_ECRYPTO;
	hash_hex(raw, sizeof(raw), id);
	return YB_OK;
}

int rpc_valid_call_id(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')) ||
		    i >= RPC_CALL_ID_LEN)
			return 0;
	return i == RPC_CALL_ID_LEN;
}

int rpc_tls_set_server(nng_tls_config *cfg, const char *url)
{
	char host[256];
	const char *p = strstr(url, "://");
	size_t n;

	p = p ? p + 3 : url;
	if (*p == '[') {
		const char *e = strchr(p, ']');
		n = e ? (size_t)(e - p - 1) : 0;
		p++;
	} else {
		n = strcspn(p, ":/");
	}
	if (n == 0 || n >= sizeof(host))
		return 0;
	memcpy(host, p, n);
	host[n] = '\0';
	return nng_tls_config_server_name(cfg, host);
}

/*
 * A blocking nng call, run on a thread of its own so that the caller can
 * give up on it: nng 1.5 puts no time limit on a dial (TCP connect plus TLS
 * handshake: a peer that accepts but never answers would hold it forever)
 * or on a close (it waits for every pipe's TLS session to end). A caller
 * that gives up abandons the call: nng 1.5.2 can crash (a panic on a freed
 * mutex) or leak when a dial in progress is closed, so nothing is
 * cancelled; when the call ends, its thread runs `left` and frees it.
 */
struct bounded {
	int (*call)(struct bounded *b);  /* the blocking call: its nng error */
	void (*left)(struct bounded *b); /* after an abandoned call: frees what it used */
	nng_dialer dialer;               /* what the call works on */
	struct rpc_client *client;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;      /* under mu */
	bool abandoned; /* under mu: the thread frees the call */
	int result;     /* once done */
};

static void bounded_free(struct bounded *b)
{
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b);
}

static void *bounded_run(void *arg)
{
	struct bounded *b = arg;
	int nrc = b->call(b);
	bool abandoned;

	pthread_mutex_lock(&b->mu);
	b->result = nrc;
	b->done = true;
	abandoned = b->abandoned;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
	if (abandoned) {
		if (b->left != NULL)
			b->left(b);
		bounded_free(b);
	}
	return NULL;
}

/*
 * Runs b->call on its own thread and waits at most timeout_ms. Returns its
 * nng error, NNG_ENOMEM when no thread could start (b is freed, the call
 * not made), or NNG_ETIMEDOUT with *abandoned set when time ran out first:
 * the call goes on, and what it uses must be left to it (b->left).
 */
static int run_within(struct bounded *b, int timeout_ms, bool *abandoned)
{
	pthread_t th;
	struct timespec until;
	int nrc, err = 0;

	*abandoned = false;
	clock_cond_init(&b->cv);
	pthread_mutex_init(&b->mu, NULL);
	if (pthread_create(&th, NULL, bounded_run, b) != 0) {
		bounded_free(b);
		return NNG_ENOMEM;
	}
	until = clock_monotonic_after(timeout_ms);
	pthread_mutex_lock(&b->mu);
	while (!b->done && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&b->cv, &b->mu, &until);
	*abandoned = !b->done;
	b->abandoned = *abandoned;
	pthread_mutex_unlock(&b->mu);
	if (*abandoned) {
		pthread_detach(th);
		return NNG_ETIMEDOUT;
	}
	pthread_join(th, NULL);
	nrc = b->result;
	bounded_free(b);
	return nrc;
}

static int dial_call(struct bounded *b)
{
	return nng_dialer_start(b->dialer, 0);
}

/*
 * Starts dialer and waits at most timeout_ms for the first connection (TCP,
 * TLS handshake, SP header) to be up. Returns 0 or the dial's nng error;
 * *timed_out says the wait ran out first: then the dial goes on in the
 * background, and the socket and its TLS configuration must be left open.
 */
static int dial_within(nng_dialer dialer, int timeout_ms, bool *timed_out)
{
	struct bounded *b = calloc(1, sizeof(*b));

	*timed_out = false;
	if (b == NULL)
		return NNG_ENOMEM;
	b->call = dial_call;
	b->dialer = dialer;
	return run_within(b, timeout_ms, timed_out);
}

/* The REQ resend interval for a call timeout: a third of it, 1 to 10 s. */
static int resend_ms(int timeout_ms)
{
	int ms = timeout_ms / 3;
	return ms < 1000 ? 1000 : ms > 10000 ? 10000 : ms;
}

int rpc_client_open(const struct rpc_client_options *opt, struct rpc_client **out,
                    struct errbuf *eb)
{
	struct rpc_client *c = calloc(1, sizeof(*c));
	int rc, nrc;
	int opened = 0;
	bool timed_out;

	if (c == NULL)
		return status_fail(eb, YB_ENOMEM, _("out of memory"));
	c->timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : 30000;
	if (opt->url == NULL || strncmp(opt->url, "tls+tcp://", 10) != 0) {
		rc = status_fail(eb, YB_INVALID_ARGUMENT,
		                 _("server URL '%s' must start with tls+tcp://"),
		                 opt->url ? opt->url : "");
		goto fail;
	}
	if ((rc = pki_identity_load(opt->cert_path, opt->key_path, &c->id, eb)) != YB_OK)
		goto fail;
	if ((rc = rpc_tls_config_new(NNG_TLS_MODE_CLIENT, opt->cert_path, opt->key_path,
	                             opt->ca_path, NULL, &c->tls, eb)) != YB_OK)
		goto fail;
	if ((nrc = rpc_tls_set_server(c->tls, opt->url)) != 0) {
		rc = status_fail(eb, YB_INVALID_ARGUMENT, _("bad host in '%s': %s"), opt->url,
		                 nng_strerror(nrc));
		goto fail;
	}
	if ((nrc = nng_req0_open(&c->sock)) != 0) {
		rc = status_fail(eb, YB_ECONNECT, _("cannot open socket: %s"), nng_strerror(nrc));
		goto fail;
	}
	opened = 1;
	nng_socket_set_ms(c->sock, NNG_OPT_RECVTIMEO, c->timeout_ms);
	nng_socket_set_ms(c->sock, NNG_OPT_SENDTIMEO, c->timeout_ms);
	/*
	 * A request with no reply is sent again, the same bytes and call id, a
	 * third of the way into the timeout (at most 10 s in): REQ's own remedy
	 * for a request or reply lost on the way (nng's default, 60 s, is past
	 * any timeout here). The daemon executes a call id once and answers a
	 * repeat from its record, so a repeat never does a write twice.
	 */
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, resend_ms(c->timeout_ms));
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, RPC_MAX_REPLY);
	if ((nrc = nng_dialer_create(&c->dialer, c->sock, opt->url)) != 0 ||
	    (nrc = nng_dialer_set_ptr(c->dialer, NNG_OPT_TLS_CONFIG, c->tls)) != 0) {
		rc = status_fail(eb, YB_ECONNECT, _("cannot dial '%s': %s"), opt->url,
		                 nng_strerror(nrc));
		goto fail;
	}
	/* Waits for the first connection, so a refused connection or handshake is
	 * reported now, and a server that never completes one within the timeout too. */
	{
		struct tlsengine_failure stale; /* of an earlier connection: not this one's */
		tlsengine_take_client_failure(&stale);
	}
	if ((nrc = dial_within(c->dialer, c->timeout_ms, &timed_out)) != 0 && timed_out) {
		rc = status_fail(eb, YB_ECONNECT, _("cannot connect to %s: no session within %d s"),
		                 opt->url, (c->timeout_ms + 999) / 1000);
		/* The dial still uses them (see dial_within): left to the process's end. */
		c->sock = (nng_socket)NNG_SOCKET_INITIALIZER;
		c->tls = NULL;
		goto fail;
	}
	if (nrc != 0) {
		struct tlsengine_failure why;
		char text[256];
		/* What TLS refused says more than nng's code ("Authentication failure"). */
		tlsengine_take_client_failure(&why);
		rc = status_fail(eb, YB_ECONNECT, _("cannot connect to %s: %s"), opt->url,
		                 why.kind != TLSENGINE_FAILURE_NONE
		                     ? tlsengine_failure_text(&why, text, sizeof(text))
		                     : nng_strerror(nrc));
		goto fail;
	}
	*out = c;
	return YB_OK;
fail:
	if (!opened)
		c->sock = (nng_socket)NNG_SOCKET_INITIALIZER;
	rpc_client_close(c);
	return rc;
}

static void client_free(struct rpc_client *c)
{
	if (c->tls != NULL)
		nng_tls_config_free(c->tls);
	pki_identity_free(c->id);
	free(c);
}

static int close_call(struct bounded *b)
{
	return nng_close(b->client->sock);
}

static void close_left(struct bounded *b)
{
	client_free(b->client);
}

/*
 * A client's whole run is bounded by its timeout, the close included: a
 * close nng has not finished by then is abandoned (run_within).
 */
void rpc_client_close(struct rpc_client *c)
{
	struct bounded *b;
	bool abandoned;

	if (c == NULL)
		return;
	if (nng_socket_id(c->sock) > 0) {
		if ((b = calloc(1, sizeof(*b))) == NULL) {
			nng_close(c->sock);
		} else {
			b->call = close_call;
			b->left = close_left;
			b->client = c;
			if (run_within(b, c->timeout_ms, &abandoned) == NNG_ENOMEM && !abandoned)
				nng_close(c->sock);
			if (abandoned)
				return;
		}
	}
	client_free(c);
}

/* Packs msg into a fresh buffer; caller frees. */
static uint8_t *pack_message(const ProtobufCMessage *msg, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(n ? n : 1);

	if (buf != NULL)
		*len = protobuf_c_message_pack(msg, buf);
	return buf;
}

int rpc_client_call(struct rpc_client *c, const char *method, const ProtobufCMessage *in,
                    const char *call_id, ProtobufCMessage **out, Yuebao__V1__RpcReply **reply,
                    struct errbuf *eb)
{
	Yuebao__V1__RpcRequest req = YUEBAO__V1__RPC_REQUEST__INIT;
	const ProtobufCMethodDescriptor *md;
	char full[128], id[RPC_CALL_ID_LEN + 1];
	uint8_t *payload = NULL, *signed_bytes = NULL, *sig = NULL, *wire = NULL;
	size_t payload_len = 0, signed_len = 0, sig_len = 0, wire_len = 0, cert_len = 0;
	nng_msg *msg = NULL;
	Yuebao__V1__RpcReply *rep = NULL;
	int rc, nrc;

	*out = NULL;
	*reply = NULL;
	md = protobuf_c_service_descriptor_get_method_by_name(&yuebao__v1__returns__descriptor,
	                                                      method);
	if (md == NULL || in->descriptor != md->input)
		return status_fail(eb, YB_INVALID_ARGUMENT, _("no method '%s' for that message"),
		                   method);
	snprintf(full, sizeof(full), "%s%s", RPC_METHOD_PREFIX, method);
	if (call_id != NULL) {
		if (!rpc_valid_call_id(call_id))
			return status_fail(eb, YB_INVALID_ARGUMENT,
			                   _("call id '%s' is not %d lower-case hex digits"),
			                   call_id, RPC_CALL_ID_LEN);
		strcpy(id, call_id);
	} else if (rpc_new_call_id(id) != YB_OK) {
		return status_fail(eb, YB_ECRYPTO, _("cannot make a random call id"));
	}
	if ((payload = pack_message(in, &payload_len)) == NULL) {
		rc = status_fail(eb, YB_ENOMEM, _("out of memory"));
		goto done;
	}
	req.method = full;
	req.call_id = id;
	req.sent_at_ms = clock_now_ms();
	req.deadline_ms = req.sent_at_ms + c->timeout_ms;
	req.payload.data = payload;
	req.payload.len = payload_len;
	req.caller_cert.data = (uint8_t *)pki_identity_cert(c->id, &cert_len);
	req.caller_cert.len = cert_len;
	req.language = (char *)i18n_code(i18n_language());
	if ((rc = rpc_signed_bytes(full, id, req.sent_at_ms, req.deadline_ms, payload, payload_len,
	                           &signed_bytes, &signed_len)) != YB_OK) {
		status_fail(eb, rc, _("out of memory"));
		goto done;
	}
	if ((rc = pki_sign(c->id, signed_bytes, signed_len, &sig, &sig_len, eb)) != YB_OK)
		goto done;
	req.signature.data = sig;
	req.signature.len = sig_len;
	if ((wire = pack_message(&req.base, &wire_len)) == NULL) {
		rc = status_fail(eb, YB_ENOMEM, _("out of memory"));
		goto done;
	}
	if (wire_len > RPC_DEFAULT_MAX_MESSAGE) {
		rc = status_fail(eb, YB_RESOURCE_EXHAUSTED,
		                 _("request is %zu bytes, more than the %u-byte limit"), wire_len,
		                 RPC_DEFAULT_MAX_MESSAGE);
		goto done;
	}
	if ((nrc = nng_msg_alloc(&msg, 0)) != 0 ||
	    (nrc = nng_msg_append(msg, wire, wire_len)) != 0) {
		rc = status_fail(eb, YB_ENOMEM, _("cannot build message: %s"), nng_strerror(nrc));
		goto done;
	}
	if ((nrc = nng_sendmsg(c->sock, msg, 0)) != 0) {
		rc = status_fail(eb, YB_ECONNECT, _("cannot send %s: %s"), method,
		                 nng_strerror(nrc));
		goto done;
	}
	msg = NULL;
	if ((nrc = nng_recvmsg(c->sock, &msg, 0)) != 0) {
		rc = status_fail(eb, YB_ECONNECT, _("no reply to %s: %s"), method,
		                 nng_strerror(nrc));
		goto done;
	}
	rep = yuebao__v1__rpc_reply__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
	if (rep == NULL) {
		rc = status_fail(eb, YB_INTERNAL, _("the server's reply to %s is not an RpcReply"),
		                 method);
		goto done;
	}
	rc = (int)rep->status;
	if (rc == YB_OK) {
		*out = protobuf_c_message_unpack(md->output, NULL, rep->payload.len,
		                                 rep->payload.data);
		if (*out == NULL) {
			rc = status_fail(eb, YB_INTERNAL, _("the server's %s reply is malformed"),
			                 method);
			goto done;
		}
	} else {
		status_fail(eb, rc, "%s", rep->message ? rep->message : status_name(rc));
	}
	*reply = rep;
	rep = NULL;
done:
	if (msg != NULL)
		nng_msg_free(msg);
	if (rep != NULL)
		yuebao__v1__rpc_reply__free_unpacked(rep, NULL);
	free(payload);
	free(signed_bytes);
	free(sig);
	free(wire);
	return rc;
}
