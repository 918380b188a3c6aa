/*
 * fuzz_tls.c - the TLS engine (common/tlsengine.c) fed records by a peer
 * that sends anything: the bytes nng would have read from the TCP stream go
 * straight into the engine's connection, through the same calls nng makes
 * (init, handshake, recv, send, close, fini), with the engine's transport
 * pointed at the input (tlsengine_set_transport).
 *
 * The first byte of an input says how to play it:
 *   bit 0: the engine is the server (clear: what yuebaod faces) or the client;
 *   bits 1-7: the size of each read nng hands over (1 + the value, so
 *     records arrive whole, split or several at once).
 * The rest is the peer's bytes. Whatever they are, the engine must answer
 * with 0, NNG_EAGAIN or an error of that connection (never NNG_ECLOSED),
 * and free everything.
 *
 * Set-up (once per process): a P-256 key and a self-signed certificate made
 * here, used as both sides' certificate and CA, mutual authentication
 * required, as rpc_tls_config_new configures the daemon and the client.
 * YB_FUZZ_WRITE_SEEDS=DIR writes two seeds into DIR and exits: a ClientHello
 * for the server, and a server's first flight for the client; that is how
 * tests/fuzz/corpus/tls was made.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tlsengine.h"

#define MAX_CALLS 4096

struct feed {
	const uint8_t *data;
	size_t len, pos, chunk;
};

static const nng_tls_engine *eng;
static nng_tls_engine_config *configs[2]; /* server, client */
static char *cert_pem, *key_pem;

static int feed_send(void *arg, const uint8_t *buf, size_t *n)
{
	(void)arg;
	(void)buf;
	(void)n; /* everything the engine writes is taken, and dropped */
	return 0;
}

static int feed_recv(void *arg, uint8_t *buf, size_t *n)
{
	struct feed *f = arg;
	size_t k = f->len - f->pos;

	if (k == 0)
		return NNG_EAGAIN;
	if (k > f->chunk)
		k = f->chunk;
	if (k > *n)
		k = *n;
	memcpy(buf, f->data + f->pos, k);
	f->pos += k;
	*n = k;
	return 0;
}

static char *bio_string(BIO *b)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *s = malloc((size_t)n + 1);

	if (s == NULL)
		abort();
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	return s;
}

/* A P-256 key and a self-signed certificate for "localhost", as PEM strings. */
static void make_identity(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIO *c = BIO_new(BIO_s_mem()), *k = BIO_new(BIO_s_mem());

	if (key == NULL || x == NULL || name == NULL || c == NULL || k == NULL)
		abort();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
	                           -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, key);
	if (X509_sign(x, key, EVP_sha256()) == 0 || PEM_write_bio_X509(c, x) != 1 ||
	    PEM_write_bio_PrivateKey(k, key, NULL, NULL, 0, NULL, NULL) != 1)
		abort();
	cert_pem = bio_string(c);
	key_pem = bio_string(k);
	BIO_free(c);
	BIO_free(k);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(key);
}

static nng_tls_engine_config *make_config(nng_tls_mode mode)
{
	nng_tls_engine_config *cfg = calloc(1, eng->config_ops->size);

	if (cfg == NULL || eng->config_ops->init(cfg, mode) != 0 ||
	    eng->config_ops->ca_chain(cfg, cert_pem, NULL) != 0 ||
	    eng->config_ops->own_cert(cfg, cert_pem, key_pem, NULL) != 0 ||
	    eng->config_ops->auth(cfg, NNG_TLS_AUTH_MODE_REQUIRED) != 0 ||
	    (mode == NNG_TLS_MODE_CLIENT && eng->config_ops->server(cfg, "localhost") != 0))
		abort();
	return cfg;
}

static void cleanup(void)
{
	for (int i = 0; i < 2; i++) {
		if (configs[i] != NULL)
			eng->config_ops->fini(configs[i]);
		free(configs[i]);
	}
	free(cert_pem);
	free(key_pem);
}

/* Writes what src has written to its BIO, after the mode byte, as a seed. */
static void write_seed(const char *dir, const char *name, uint8_t mode, BIO *src)
{
	char path[512], *p;
	long n = BIO_get_mem_data(src, &p);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(&mode, 1, 1, f) != 1 ||
	    fwrite(p, 1, (size_t)n, f) != (size_t)n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* A ClientHello and the server's answer to it, made by plain OpenSSL. */
static void write_seeds(const char *dir)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method()), *sctx = SSL_CTX_new(TLS_server_method());
	BIO *cert = BIO_new_mem_buf(cert_pem, -1), *key = BIO_new_mem_buf(key_pem, -1);
	X509 *x = PEM_read_bio_X509(cert, NULL, NULL, NULL);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(key, NULL, NULL, NULL);
	SSL *c, *s;
	BIO *c_out = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
	BIO *c_in = BIO_new(BIO_s_mem()), *s_in = BIO_new(BIO_s_mem());
	char buf[16384];
	int n;

	if (cctx == NULL || sctx == NULL || x == NULL || k == NULL ||
	    SSL_CTX_use_certificate(sctx, x) != 1 || SSL_CTX_use_PrivateKey(sctx, k) != 1)
		abort();
	SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER, NULL);
	c = SSL_new(cctx);
	s = SSL_new(sctx);
	SSL_set_bio(c, c_in, c_out);
	SSL_set_bio(s, s_in, s_out);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	(void)SSL_do_handshake(c); /* writes the ClientHello */
	write_seed(dir, "client-hello", 0x00 | (127 << 1), c_out);
	while ((n = BIO_read(c_out, buf, sizeof(buf))) > 0)
		BIO_write(s_in, buf, n);
	(void)SSL_do_handshake(s); /* writes ServerHello ... Finished */
	write_seed(dir, "server-flight", 0x01 | (127 << 1), s_out);
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(cert);
	BIO_free(key);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seeds = getenv("YB_FUZZ_WRITE_SEEDS");

	(void)argc;
	(void)argv;
	eng = tlsengine_engine();
	tlsengine_set_transport(feed_send, feed_recv);
	make_identity();
	configs[0] = make_config(NNG_TLS_MODE_SERVER);
	configs[1] = make_config(NNG_TLS_MODE_CLIENT);
	atexit(cleanup);
	if (seeds != NULL) {
		write_seeds(seeds);
		exit(0);
	}
	return 0;
}

/* An engine result must be 0, NNG_EAGAIN, or an error of this connection:
 * with NNG_ECLOSED nng's listener would stop for good. */
static void check_result(int rv)
{
	if (rv != 0 && rv != NNG_EAGAIN && rv != NNG_ECONNSHUT && rv != NNG_ECONNRESET &&
	    rv != NNG_EPEERAUTH && rv != NNG_ECRYPTO) {
		fprintf(stderr, "fuzz_tls: the engine answered %d (%s)\n", rv, nng_strerror(rv));
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed f;
	nng_tls_engine_conn *conn;
	uint8_t buf[16384];
	int rv = NNG_EAGAIN;

	if (size < 1)
		return 0;
	f = (struct feed){.data = data + 1, .len = size - 1, .chunk = 1 + (size_t)(data[0] >> 1)};
	if ((conn = calloc(1, eng->conn_ops->size)) == NULL)
		abort();
	if (eng->conn_ops->init(conn, &f, configs[data[0] & 1]) != 0)
		abort();
	/* As nng: the handshake until it is done, then reads, while input lasts. */
	for (int i = 0; i < MAX_CALLS && rv == NNG_EAGAIN && f.pos < f.len; i++)
		check_result(rv = eng->conn_ops->handshake(conn));
	for (int i = 0; i < MAX_CALLS && rv == 0 && f.pos < f.len; i++) {
		size_t n = sizeof(buf);
		check_result(rv = eng->conn_ops->recv(conn, buf, &n));
		if (rv == 0 && (n == 0 || n > sizeof(buf)))
			abort(); /* a read of nothing, or more than asked */
		if (rv == 0)
			check_result(rv = eng->conn_ops->send(conn, buf, &n));
		else if (rv == NNG_EAGAIN)
			rv = 0; /* part of a record: more input */
	}
	(void)eng->conn_ops->verified(conn);
	eng->conn_ops->close(conn);
	eng->conn_ops->fini(conn);
	free(conn);
	return 0;
}
