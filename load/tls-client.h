/* SPDX-License-Identifier: MIT */
/*
 * TLS for wsbench-load's connections, on OpenSSL with memory BIOs: the
 * worker still owns the socket (recvmsg() with kernel receive timestamps,
 * write() and its own output queue), feeds what it reads into the TLS
 * engine and writes out whatever the engine produced. So TLS changes
 * nothing about how the event loop waits, and the bytes on the wire are
 * counted where they cross the socket.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;
typedef struct bio_st BIO;

#define TLS_ERROR_MAX 200

/**
 * tls_context_new() - the client context every connection of a run shares.
 * @ca_file: certificates to verify the server against; NULL: the system's.
 * @insecure: no verification at all (recorded in the report).
 * @err: one line naming the problem (an unreadable CA file).
 * Return: 0, or -EINVAL / -ENOMEM.
 */
int tls_context_new(const char *ca_file, bool insecure, SSL_CTX **ret, char *err, size_t errlen);
void tls_context_free(SSL_CTX *ctx);

/* One connection's TLS state. */
struct tls_conn {
	SSL *ssl;
	BIO *rbio; /* ciphertext read from the socket, for the engine */
	BIO *wbio; /* ciphertext the engine produced, for the socket */
};

/**
 * tls_conn_start() - begin a client handshake.
 * @host: the URL's host: sent as SNI and checked against the certificate
 *        when it is a name; checked as an IP address when it is one.
 * @session: NULL, or a session of an earlier connection to resume.
 * @session_slot: where the engine stores each new session ticket this
 *        connection receives (replacing and freeing the one there).
 * Return: 0, or -ENOMEM.
 */
int tls_conn_start(struct tls_conn *t, SSL_CTX *ctx, const char *host, SSL_SESSION *session,
                   SSL_SESSION **session_slot);
void tls_conn_free(struct tls_conn *t);

/* Frees a session stored through a session slot. */
void tls_session_free(SSL_SESSION *s);

/* Hands @len bytes read from the socket to the engine. Return: 0 or -ENOMEM. */
int tls_conn_feed(struct tls_conn *t, const void *data, size_t len);

/**
 * tls_conn_handshake() - advance the handshake with what was fed.
 * Return: 0 when complete, 1 while more bytes must arrive, -EPROTO on
 * failure (tls_conn_describe() says why).
 */
int tls_conn_handshake(struct tls_conn *t);

/**
 * tls_conn_read() - decrypted bytes.
 * Return: bytes (> 0), 0 when nothing more can be decrypted from what was
 * fed, -EPIPE on the peer's close_notify, -EPROTO on an alert or a bad
 * record (tls_conn_describe() says which).
 */
ssize_t tls_conn_read(struct tls_conn *t, void *buf, size_t size);

/* Encrypts @len bytes into the engine's output. Return: 0, or -EPROTO. */
int tls_conn_write(struct tls_conn *t, const void *data, size_t len);

/* Ciphertext waiting for the socket. */
size_t tls_conn_pending(const struct tls_conn *t);
/* Moves up to @size bytes of it to @buf. Return: bytes moved. */
size_t tls_conn_take(struct tls_conn *t, void *buf, size_t size);

/**
 * tls_conn_describe() - the reason for the last failure, in words: the
 * certificate problem when verification failed ("certificate verify
 * failed: self-signed certificate"), else OpenSSL's error (an alert
 * received: "tlsv1 alert internal error"). Clears OpenSSL's error queue.
 */
void tls_conn_describe(struct tls_conn *t, char *out, size_t size);

bool tls_conn_resumed(const struct tls_conn *t);
const char *tls_conn_version(const struct tls_conn *t);
const char *tls_conn_cipher(const struct tls_conn *t);
