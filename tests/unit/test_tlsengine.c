/*
 * test_tlsengine.c - the OpenSSL engine for nng (common/tlsengine.h), two of
 * its connections talking to each other: a client and a server, each with
 * the configuration rpc_tls_config_new would make, joined by two byte
 * queues of nng's buffer size (16 KB) in place of the TCP stream.
 *
 * What the contract promises: TLS 1.3 with mutual authentication; data
 * both ways; --tls-min 1.3 against a TLS 1.2 peer refused; a client refused
 * for a revoked, expired or foreign certificate, or trusting the wrong CA,
 * or dialing a name the certificate does not carry, told which
 * (tlsengine_take_client_failure) and given a sentence that says so; every
 * peer failure an error of that connection, never NNG_ECLOSED, even when
 * the transport under it reports NNG_ECLOSED; bad PEM and a key that does
 * not match its certificate refused.
 *
 * The certificates are made once by certs/yuebao-certs.sh in a temporary
 * directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "tlsengine.h"

#define QUEUE_SIZE 16384 /* nng's send and receive buffers */
#define MAX_ROUNDS 200

static char dir[] = "/tmp/yb-test-tlsengine.XXXXXX";
static const nng_tls_engine *eng;

/* ---- the transport: two queues ------------------------------------------ */

struct queue {
	uint8_t buf[QUEUE_SIZE];
	size_t len;
};

/* One side's view: it reads `in`, writes `out`; `fail` once in is empty. */
struct end {
	struct queue *in, *out;
	int fail; /* 0: NNG_EAGAIN when there is nothing to read */
};

static int q_send(void *arg, const uint8_t *buf, size_t *n)
{
	struct end *e = arg;
	size_t k = QUEUE_SIZE - e->out->len;

	if (k == 0)
		return NNG_EAGAIN;
	if (k > *n)
		k = *n;
	memcpy(e->out->buf + e->out->len, buf, k);
	e->out->len += k;
	*n = k;
	return 0;
}

static int q_recv(void *arg, uint8_t *buf, size_t *n)
{
	struct end *e = arg;
	size_t k = e->in->len;

	if (k == 0)
		return e->fail != 0 ? e->fail : NNG_EAGAIN;
	if (k > *n)
		k = *n;
	memcpy(buf, e->in->buf, k);
	memmove(e->in->buf, e->in->buf + k, e->in->len - k);
	e->in->len -= k;
	*n = k;
	return 0;
}

/* ---- configurations and connections -------------------------------------- */

static char *slurp(const char *name)
{
	char path[256];
	FILE *f;
	char *s;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

/* A configuration as rpc_tls_config_new makes it, from files of dir. */
static nng_tls_engine_config *config(nng_tls_mode mode, const char *cert, const char *ca,
                                     const char *crl)
{
	nng_tls_engine_config *cfg = calloc(1, eng->config_ops->size);
	char crt_name[128], key_name[128], *c, *k, *a, *r = NULL;

	snprintf(crt_name, sizeof(crt_name), "%s.crt", cert);
	snprintf(key_name, sizeof(key_name), "%s.key", cert);
	c = slurp(crt_name);
	k = slurp(key_name);
	a = slurp(ca);
	if (crl != NULL)
		r = slurp(crl);
	assert_non_null(cfg);
	assert_int_equal(eng->config_ops->init(cfg, mode), 0);
	assert_int_equal(eng->config_ops->ca_chain(cfg, a, r), 0);
	assert_int_equal(eng->config_ops->own_cert(cfg, c, k, NULL), 0);
	assert_int_equal(eng->config_ops->auth(cfg, NNG_TLS_AUTH_MODE_REQUIRED), 0);
	free(c);
	free(k);
	free(a);
	free(r);
	return cfg;
}

static void config_free(nng_tls_engine_config *cfg)
{
	eng->config_ops->fini(cfg);
	free(cfg);
}

struct pair {
	struct queue c2s, s2c;
	struct end cend, send;
	nng_tls_engine_conn *c, *s;
	int crv, srv; /* the handshakes' results */
};

/* Connects a client with ccfg to a server with scfg and runs both handshakes
 * until neither waits (or MAX_ROUNDS). */
static struct pair *pair_run(nng_tls_engine_config *ccfg, nng_tls_engine_config *scfg)
{
	struct pair *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->cend = (struct end){.in = &p->s2c, .out = &p->c2s};
	p->send = (struct end){.in = &p->c2s, .out = &p->s2c};
	p->c = calloc(1, eng->conn_ops->size);
	p->s = calloc(1, eng->conn_ops->size);
	assert_non_null(p->c);
	assert_non_null(p->s);
	assert_int_equal(eng->conn_ops->init(p->c, &p->cend, ccfg), 0);
	assert_int_equal(eng->conn_ops->init(p->s, &p->send, scfg), 0);
	p->crv = p->srv = NNG_EAGAIN;
	for (int i = 0; i < MAX_ROUNDS && (p->crv == NNG_EAGAIN || p->srv == NNG_EAGAIN); i++) {
		if (p->crv == NNG_EAGAIN)
			p->crv = eng->conn_ops->handshake(p->c);
		if (p->srv == NNG_EAGAIN)
			p->srv = eng->conn_ops->handshake(p->s);
	}
	return p;
}

static void pair_free(struct pair *p)
{
	eng->conn_ops->fini(p->c);
	eng->conn_ops->fini(p->s);
	free(p->c);
	free(p->s);
	free(p);
}

/* What the client reads next: its data, or the error the server's alert made. */
static int client_read(struct pair *p)
{
	uint8_t buf[256];
	size_t n = sizeof(buf);

	return eng->conn_ops->recv(p->c, buf, &n);
}

static void take_failure(struct tlsengine_failure *f, char *text, size_t len)
{
	tlsengine_take_client_failure(f);
	tlsengine_failure_text(f, text, len);
}

/* ---- set-up -------------------------------------------------------------- */

static int run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int setup(void **state)
{
	const char *certs = YB_TEST_DATA_DIR "/../../../certs/yuebao-certs.sh";

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	/* One CA with good, expired and revoked clients; another CA with a client. */
	if (run("bash %s init %s/pki >/dev/null", certs, dir) != 0 ||
	    run("bash %s issue %s/pki branch GOOD-1 >/dev/null", certs, dir) != 0 ||
	    run("bash %s issue %s/pki branch OLD-1 --expired >/dev/null", certs, dir) != 0 ||
	    run("bash %s issue %s/pki branch REV-1 >/dev/null", certs, dir) != 0 ||
	    run("bash %s revoke %s/pki branch REV-1 >/dev/null", certs, dir) != 0 ||
	    run("bash %s init %s/other >/dev/null", certs, dir) != 0 ||
	    run("bash %s issue %s/other branch GOOD-1 >/dev/null", certs, dir) != 0)
		return -1;
	eng = tlsengine_engine();
	tlsengine_set_transport(q_send, q_recv);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tlsengine_set_transport(NULL, NULL);
	return run("rm -rf '%s'", dir) == 0 ? 0 : -1;
}

/* ---- tests --------------------------------------------------------------- */

static void test_handshake_and_data(void **state)
{
	nng_tls_engine_config *c =
	    config(NNG_TLS_MODE_CLIENT, "pki/branch-GOOD-1", "pki/ca.crt", NULL);
	nng_tls_engine_config *s =
	    config(NNG_TLS_MODE_SERVER, "pki/server", "pki/ca.crt", "pki/crl.pem");
	struct pair *p;
	uint8_t buf[64];
	size_t n = 5;

	(void)state;
	assert_int_equal(eng->config_ops->server(c, "127.0.0.1"), 0);
	p = pair_run(c, s);
	assert_int_equal(p->crv, 0);
	assert_int_equal(p->srv, 0);
	assert_true(eng->conn_ops->verified(p->c));
	assert_true(eng->conn_ops->verified(p->s));
	assert_int_equal(eng->conn_ops->send(p->c, (const uint8_t *)"hello", &n), 0);
	assert_int_equal(n, 5);
	n = sizeof(buf);
	assert_int_equal(eng->conn_ops->recv(p->s, buf, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "hello", 5);
	/* Nothing more: the server waits. Then the client closes (close_notify). */
	n = sizeof(buf);
	assert_int_equal(eng->conn_ops->recv(p->s, buf, &n), NNG_EAGAIN);
	eng->conn_ops->close(p->c);
	n = sizeof(buf);
	assert_int_equal(eng->conn_ops->recv(p->s, buf, &n), NNG_ECONNSHUT);
	pair_free(p);
	config_free(c);
	config_free(s);
}

static void test_tls_min_13_refuses_tls_12(void **state)
{
	nng_tls_engine_config *c =
	    config(NNG_TLS_MODE_CLIENT, "pki/branch-GOOD-1", "pki/ca.crt", NULL);
	nng_tls_engine_config *s = config(NNG_TLS_MODE_SERVER, "pki/server", "pki/ca.crt", NULL);
	struct tlsengine_failure f;
	struct pair *p;
	char text[256];

	(void)state;
	assert_int_equal(eng->config_ops->version(s, NNG_TLS_1_3, NNG_TLS_1_3), 0);
	assert_int_equal(eng->config_ops->version(c, NNG_TLS_1_2, NNG_TLS_1_2), 0);
	p = pair_run(c, s);
	assert_int_equal(p->srv, NNG_EPEERAUTH);
	assert_int_equal(p->crv, NNG_EPEERAUTH);
	take_failure(&f, text, sizeof(text));
	assert_int_equal(f.kind, TLSENGINE_FAILURE_PEER_ALERT);
	assert_int_equal(f.alert, SSL_AD_PROTOCOL_VERSION);
	assert_string_equal(text, "the server does not accept this client's TLS version");
	pair_free(p);
	config_free(c);
	config_free(s);
}

/* A client with cert (of dir) refused by a server with the CRL: the alert. */
static void refused_client(const char *cert, int alert, const char *text_want)
{
	nng_tls_engine_config *c = config(NNG_TLS_MODE_CLIENT, cert, "pki/ca.crt", NULL);
	nng_tls_engine_config *s =
	    config(NNG_TLS_MODE_SERVER, "pki/server", "pki/ca.crt", "pki/crl.pem");
	struct tlsengine_failure f;
	struct pair *p;
	char text[256];

	p = pair_run(c, s);
	/* TLS 1.3: the client's side is done before the server has checked it. */
	assert_int_equal(p->crv, 0);
	assert_int_equal(p->srv, NNG_EPEERAUTH);
	assert_int_equal(client_read(p), NNG_EPEERAUTH);
	take_failure(&f, text, sizeof(text));
	assert_int_equal(f.kind, TLSENGINE_FAILURE_PEER_ALERT);
	assert_int_equal(f.alert, alert);
	assert_string_equal(text, text_want);
	assert_false(eng->conn_ops->verified(p->s));
	pair_free(p);
	config_free(c);
	config_free(s);
}

static void test_revoked_client(void **state)
{
	(void)state;
	refused_client("pki/branch-REV-1", SSL_AD_CERTIFICATE_REVOKED,
	               "the server refused this client's certificate: it is revoked");
}

static void test_expired_client(void **state)
{
	(void)state;
	refused_client("pki/branch-OLD-1", SSL_AD_CERTIFICATE_EXPIRED,
	               "the server refused this client's certificate: it has expired or is not "
	               "valid yet");
}

static void test_client_of_another_ca(void **state)
{
	(void)state;
	refused_client("other/branch-GOOD-1", SSL_AD_UNKNOWN_CA,
	               "the server refused this client's certificate: it is not issued by the "
	               "server's CA");
}

/* A client that refuses the server's certificate: its verify result (any, if 0). */
static void refused_server(const char *ca, const char *name, long verify, const char *text_want)
{
	nng_tls_engine_config *c = config(NNG_TLS_MODE_CLIENT, "pki/branch-GOOD-1", ca, NULL);
	nng_tls_engine_config *s = config(NNG_TLS_MODE_SERVER, "pki/server", "pki/ca.crt", NULL);
	struct tlsengine_failure f;
	struct pair *p;
	char text[256];

	assert_int_equal(eng->config_ops->server(c, name), 0);
	p = pair_run(c, s);
	assert_int_equal(p->crv, NNG_EPEERAUTH);
	assert_int_equal(p->srv, NNG_EPEERAUTH);
	take_failure(&f, text, sizeof(text));
	assert_int_equal(f.kind, TLSENGINE_FAILURE_VERIFY);
	if (verify != 0)
		assert_int_equal(f.verify, verify);
	assert_string_equal(text, text_want);
	pair_free(p);
	config_free(c);
	config_free(s);
}

static void test_client_trusting_another_ca(void **state)
{
	(void)state;
	/* The server sends its certificate alone: no issuer the client knows. */
	refused_server("other/ca.crt", "localhost", X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
	               "the server's certificate is not issued by the CA this client trusts "
	               "(check --ca)");
}

static void test_server_name(void **state)
{
	static const char *const good[] = {"localhost", "127.0.0.1", "::1"};

	(void)state;
	/* The names yuebao-certs init puts in every server certificate. */
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		nng_tls_engine_config *c =
		    config(NNG_TLS_MODE_CLIENT, "pki/branch-GOOD-1", "pki/ca.crt", NULL);
		nng_tls_engine_config *s =
		    config(NNG_TLS_MODE_SERVER, "pki/server", "pki/ca.crt", NULL);
		struct pair *p;
		assert_int_equal(eng->config_ops->server(c, good[i]), 0);
		p = pair_run(c, s);
		assert_int_equal(p->crv, 0);
		assert_int_equal(p->srv, 0);
		pair_free(p);
		config_free(c);
		config_free(s);
	}
	refused_server("pki/ca.crt", "192.0.2.7", X509_V_ERR_IP_ADDRESS_MISMATCH,
	               "the server's certificate is not for the host in the server URL");
	refused_server("pki/ca.crt", "yuebao.example.org", X509_V_ERR_HOSTNAME_MISMATCH,
	               "the server's certificate is not for the host in the server URL");
}

/* A transport that fails under a handshake: that connection's error, and
 * NNG_ECLOSED from below never comes back up as NNG_ECLOSED. */
static void transport_failure(int from_below, int want)
{
	nng_tls_engine_config *c =
	    config(NNG_TLS_MODE_CLIENT, "pki/branch-GOOD-1", "pki/ca.crt", NULL);
	nng_tls_engine_config *s = config(NNG_TLS_MODE_SERVER, "pki/server", "pki/ca.crt", NULL);
	nng_tls_engine_conn *sc = calloc(1, eng->conn_ops->size),
	                    *cc = calloc(1, eng->conn_ops->size);
	struct queue c2s = {{0}, 0}, s2c = {{0}, 0};
	struct end cend = {.in = &s2c, .out = &c2s}, send = {.in = &c2s, .out = &s2c};

	assert_int_equal(eng->conn_ops->init(cc, &cend, c), 0);
	assert_int_equal(eng->conn_ops->init(sc, &send, s), 0);
	/* The ClientHello, then the client is gone: half of it arrives. */
	assert_int_equal(eng->conn_ops->handshake(cc), NNG_EAGAIN);
	assert_true(c2s.len > 10);
	c2s.len /= 2;
	send.fail = from_below;
	assert_int_equal(eng->conn_ops->handshake(sc), want);
	/* And it sticks: later calls get the same. */
	assert_int_equal(eng->conn_ops->handshake(sc), want);
	eng->conn_ops->close(sc);
	eng->conn_ops->fini(sc);
	eng->conn_ops->fini(cc);
	free(sc);
	free(cc);
	config_free(c);
	config_free(s);
}

static void test_transport_failures(void **state)
{
	(void)state;
	transport_failure(NNG_ECLOSED, NNG_ECONNSHUT);
	transport_failure(NNG_ECONNSHUT, NNG_ECONNSHUT);
	transport_failure(NNG_ECONNRESET, NNG_ECONNRESET);
}

static void test_garbage_records(void **state)
{
	/* A handshake record holding a ClientHello that claims 16 MB, then more bytes. */
	static const uint8_t bad[] = {0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0xff, 0xff,
	                              0xff, 'm',  'o',  'r',  'e',  '.',  '.',  '.'};
	nng_tls_engine_config *s = config(NNG_TLS_MODE_SERVER, "pki/server", "pki/ca.crt", NULL);
	nng_tls_engine_conn *sc = calloc(1, eng->conn_ops->size);
	struct queue in = {{0}, 0}, out = {{0}, 0};
	struct end e = {.in = &in, .out = &out};
	uint8_t buf[64];
	size_t n = sizeof(buf);

	(void)state;
	memcpy(in.buf, bad, sizeof(bad));
	in.len = sizeof(bad);
	assert_int_equal(eng->conn_ops->init(sc, &e, s), 0);
	/* Refused with an alert; the error is held while bytes keep arriving,
	 * so that nng sends the alert before it closes (tlsengine.c). */
	assert_int_equal(eng->conn_ops->handshake(sc), NNG_EAGAIN);
	assert_true(out.len > 0);
	assert_int_equal(out.buf[0], 0x15); /* an alert record */
	assert_int_equal(eng->conn_ops->handshake(sc), NNG_EAGAIN);
	assert_int_equal(in.len, 0);
	assert_int_equal(eng->conn_ops->handshake(sc), NNG_EPEERAUTH);
	assert_int_equal(eng->conn_ops->recv(sc, buf, &n), NNG_EPEERAUTH);
	/* Not TLS at all (a web browser): refused, with no alert to wait for. */
	eng->conn_ops->fini(sc);
	memset(sc, 0, eng->conn_ops->size);
	memcpy(in.buf, "GET / HTTP/1.1\r\n\r\n", 18);
	in.len = 18;
	out.len = 0;
	assert_int_equal(eng->conn_ops->init(sc, &e, s), 0);
	assert_int_equal(eng->conn_ops->handshake(sc), NNG_EPEERAUTH);
	eng->conn_ops->fini(sc);
	free(sc);
	config_free(s);
}

static void test_bad_configuration(void **state)
{
	nng_tls_engine_config *cfg = calloc(1, eng->config_ops->size);
	char *crt = slurp("pki/branch-GOOD-1.crt"), *other_key = slurp("other/branch-GOOD-1.key");

	(void)state;
	assert_int_equal(eng->config_ops->init(cfg, NNG_TLS_MODE_CLIENT), 0);
	assert_int_equal(eng->config_ops->ca_chain(cfg, "not a certificate", NULL), NNG_EINVAL);
	assert_int_equal(eng->config_ops->ca_chain(cfg, crt, "not a CRL"), NNG_EINVAL);
	assert_int_equal(eng->config_ops->own_cert(cfg, crt, other_key, NULL), NNG_EINVAL);
	assert_int_equal(eng->config_ops->own_cert(cfg, "junk", other_key, NULL), NNG_EINVAL);
	assert_int_equal(eng->config_ops->version(cfg, NNG_TLS_1_0, NNG_TLS_1_1), NNG_ENOTSUP);
	assert_int_equal(eng->config_ops->version(cfg, NNG_TLS_1_3, NNG_TLS_1_2), NNG_ENOTSUP);
	assert_int_equal(eng->config_ops->version(cfg, NNG_TLS_1_0, NNG_TLS_1_3), 0);
	assert_int_equal(eng->config_ops->auth(cfg, (nng_tls_auth_mode)42), NNG_EINVAL);
	free(crt);
	free(other_key);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_handshake_and_data),
	    cmocka_unit_test(test_tls_min_13_refuses_tls_12),
	    cmocka_unit_test(test_revoked_client),
	    cmocka_unit_test(test_expired_client),
	    cmocka_unit_test(test_client_of_another_ca),
	    cmocka_unit_test(test_client_trusting_another_ca),
	    cmocka_unit_test(test_server_name),
	    cmocka_unit_test(test_transport_failures),
	    cmocka_unit_test(test_garbage_records),
	    cmocka_unit_test(test_bad_configuration),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
