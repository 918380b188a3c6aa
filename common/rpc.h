/*
 * rpc.h - the wire contract both sides share: what a request signature
 * covers, how TLS is set up, and the client's one call function.
 *
 * A call is an RpcRequest (proto/yuebao.proto) sent on an nng REQ socket over
 * tls+tcp:// with mutual TLS, answered by one RpcReply. The signature covers
 * rpc_signed_bytes(): method, call id, sent-at, deadline and payload, so a
 * stored request can be re-verified by anyone holding the CA certificate.
 */
#ifndef YB_RPC_H
#define YB_RPC_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <protobuf-c/protobuf-c.h>

#include "status.h"
#include "yuebao.pb-c.h"

/* Method names are RPC_METHOD_PREFIX followed by the service method name. */
#define RPC_METHOD_PREFIX "/yuebao.v1.Returns/"

/*
 * Default cap on one request (SPEC §3). The daemon refuses larger requests.
 */
#define RPC_DEFAULT_MAX_MESSAGE (1u << 20)

/*
 * Cap on one reply, which the client enforces on receipt. The daemon sends
 * at most min(2 x its --max-message, this) bytes, so that a page of an
 * audit export can carry a stored signed request (itself up to
 * --max-message bytes) with its envelope, and fills list pages (history,
 * audit log, export) up to half of min(--max-message, the default) bytes,
 * always with at least one item.
 */
#define RPC_MAX_REPLY (2 * RPC_DEFAULT_MAX_MESSAGE)

/* A call id: 32 lower-case hex digits. */
#define RPC_CALL_ID_LEN 32

/*
 * The exact bytes a caller signs: "yuebao-rpc-v1\n" method "\n" call_id "\n"
 * sent_at_ms "\n" deadline_ms "\n" then the payload. A method longer than
 * 128 bytes or a call id longer than 64 is cut there (neither is valid, and
 * the call is refused anyway). The caller frees *out with free().
 * YB_ENOMEM on failure.
 */
int rpc_signed_bytes(const char *method, const char *call_id, int64_t sent_at_ms,
                     int64_t deadline_ms, const uint8_t *payload, size_t payload_len, uint8_t **out,
                     size_t *out_len);

/*
 * Makes an nng TLS configuration for `mode` (client or server) that presents
 * cert/key (PEM files), trusts only the CA in ca_path and, when crl_path is
 * not NULL, refuses certificates on that CRL. The peer must present a
 * certificate (NNG_TLS_AUTH_MODE_REQUIRED) on both sides. TLS is done by
 * OpenSSL (tlsengine.h: TLS 1.3, or 1.2 with ECDHE and AEAD suites), which
 * this registers with nng first. The caller owns *out (nng_tls_config_free).
 * Errors name the file and nng's reason.
 */
int rpc_tls_config_new(nng_tls_mode mode, const char *cert_path, const char *key_path,
                       const char *ca_path, const char *crl_path, nng_tls_config **out,
                       struct errbuf *eb);

/*
 * Makes a client configuration check the server's certificate against the
 * host of url (tls+tcp://HOST:PORT, tls+tcp://[IPv6]:PORT): a DNS name
 * against its DNS names, an IPv4 or IPv6 address against its IP addresses.
 * 0 or nng's error.
 */
int rpc_tls_set_server(nng_tls_config *cfg, const char *url);

/* Fills id with a fresh random call id (RPC_CALL_ID_LEN hex digits + NUL). */
int rpc_new_call_id(char id[RPC_CALL_ID_LEN + 1]);

/* True when s is a well-formed call id. */
int rpc_valid_call_id(const char *s);

struct rpc_client;

/* How a client reaches the daemon. Paths are PEM files. */
struct rpc_client_options {
	const char *url;       /* tls+tcp://host:port */
	const char *cert_path; /* the caller's certificate */
	const char *key_path;  /* its private key */
	const char *ca_path;   /* the deployment CA, to check the server */
	int timeout_ms;        /* connecting, and then each call with its retries; 0 = 30 s */
};

/*
 * Loads the identity and connects. Returns YB_OK, YB_EIO/YB_INVALID_ARGUMENT
 * for unusable files (eb names the file), or YB_ECONNECT when the server
 * cannot be reached, the TLS handshake fails, or no session is up within
 * timeout_ms (a server that accepts but never answers). The caller owns *out
 * (rpc_client_close). After such a timeout the connection attempt goes on in
 * the background with its socket (a few KB) until it ends, as nng 1.5.2
 * cannot safely close a dial in progress: fine for a process that then exits.
 */
int rpc_client_open(const struct rpc_client_options *opt, struct rpc_client **out,
                    struct errbuf *eb);

/*
 * Closes the connection and frees c; NULL is allowed. Returns within c's
 * timeout: a close nng has not finished by then goes on in the background
 * (fine for a process that then exits).
 */
void rpc_client_close(struct rpc_client *c);

/*
 * One unary call of `method` (the short name, "Submit"). `in` must be that
 * method's input message. call_id may be NULL (a fresh one is made) or a
 * caller-chosen id to retry a call: the server executes a call id once.
 * On return *reply (caller frees with yuebao__v1__rpc_reply__free_unpacked)
 * holds the server's status, message and field errors, and, when the status
 * is OK, *out (free with protobuf_c_message_free_unpacked) the method's
 * output message. Returns the reply's status code (YB_OK, or a gRPC code),
 * YB_ECONNECT when no reply arrived in time, or another local code (eb says).
 */
int rpc_client_call(struct rpc_client *c, const char *method, const ProtobufCMessage *in,
                    const char *call_id, ProtobufCMessage **out, Yuebao__V1__RpcReply **reply,
                    struct errbuf *eb);

#endif
