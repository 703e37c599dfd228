/* SPDX-License-Identifier: MIT */
/*
 * TLS client connections over memory BIOs (see tls-client.h), on OpenSSL 3.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "tls-client.h"

/* New session tickets go to the slot of the connection that got them, so
 * that client resumes its own session when it reconnects. */
static int on_new_session(SSL *ssl, SSL_SESSION *s)
{
	SSL_SESSION **slot = SSL_get_app_data(ssl);

	if (!slot)
		return 0;
	if (*slot)
		SSL_SESSION_free(*slot);
	*slot = s;
	return 1; /* we keep the reference */
}

int tls_context_new(const char *ca_file, bool insecure, SSL_CTX **ret, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		snprintf(err, errlen, "cannot create a TLS context");
		return -ENOMEM;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_session_cache_mode(ctx,
	                               SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, on_new_session);
	/* Ciphertext is written as it comes; partial writes are the
	 * worker's business, not the engine's. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_RELEASE_BUFFERS);
	if (insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1
		            : SSL_CTX_set_default_verify_paths(ctx) != 1) {
			unsigned long e = ERR_get_error();

			snprintf(err, errlen, "--ca: cannot load '%s': %s", ca_file ? ca_file : "",
			         e ? ERR_reason_error_string(e) : "no certificates");
			ERR_clear_error();
			SSL_CTX_free(ctx);
			return -EINVAL;
		}
	}
	*ret = ctx;
	return 0;
}

void tls_context_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

int tls_conn_start(struct tls_conn *t, SSL_CTX *ctx, const char *host, SSL_SESSION *session,
                   SSL_SESSION **session_slot)
{
	struct in6_addr a6;
	struct in_addr a4;
	bool ip = inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1;

	memset(t, 0, sizeof(*t));
	t->ssl = SSL_new(ctx);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->rbio || !t->wbio) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		SSL_free(t->ssl);
		memset(t, 0, sizeof(*t));
		return -ENOMEM;
	}
	/* An empty read BIO means "try again", not end of file. */
	BIO_set_mem_eof_return(t->rbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio); /* the SSL owns both now */
	SSL_set_connect_state(t->ssl);
	SSL_set_app_data(t->ssl, session_slot);
	/* RFC 6066 section 3: SNI carries names only, never addresses. */
	if (ip) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host);
	} else {
		SSL_set_tlsext_host_name(t->ssl, host);
		SSL_set1_host(t->ssl, host);
	}
	if (session)
		SSL_set_session(t->ssl, session);
	return 0;
}

void tls_conn_free(struct tls_conn *t)
{
	if (t->ssl)
		SSL_free(t->ssl);
	memset(t, 0, sizeof(*t));
}

void tls_session_free(SSL_SESSION *s)
{
	if (s)
		SSL_SESSION_free(s);
}

int tls_conn_feed(struct tls_conn *t, const void *data, size_t len)
{
	return BIO_write(t->rbio, data, (int)len) == (int)len ? 0 : -ENOMEM;
}

int tls_conn_handshake(struct tls_conn *t)
{
	int r = SSL_do_handshake(t->ssl);

	if (r == 1)
		return 0;
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 1;
	default:
		return -EPROTO;
	}
}

ssize_t tls_conn_read(struct tls_conn *t, void *buf, size_t size)
{
	int r = SSL_read(t->ssl, buf, (int)(size > INT32_MAX ? INT32_MAX : size));

	if (r > 0)
		return r;
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		return -EPIPE;
	default:
		return -EPROTO;
	}
}

int tls_conn_write(struct tls_conn *t, const void *data, size_t len)
{
	/* A memory BIO takes everything: one call writes it all. */
	while (len) {
		int r = SSL_write(t->ssl, data, (int)(len > INT32_MAX ? INT32_MAX : len));

		if (r <= 0)
			return -EPROTO;
		data = (const char *)data + r;
		len -= (size_t)r;
	}
	return 0;
}

size_t tls_conn_pending(const struct tls_conn *t)
{
	return BIO_ctrl_pending(t->wbio);
}

size_t tls_conn_take(struct tls_conn *t, void *buf, size_t size)
{
	int r = BIO_read(t->wbio, buf, (int)(size > INT32_MAX ? INT32_MAX : size));

	return r > 0 ? (size_t)r : 0;
}

void tls_conn_describe(struct tls_conn *t, char *out, size_t size)
{
	long v = t->ssl ? SSL_get_verify_result(t->ssl) : X509_V_OK;
	unsigned long e = ERR_peek_last_error();

	if (v != X509_V_OK)
		snprintf(out, size, "certificate verify failed: %s",
		         X509_verify_cert_error_string(v));
	else if (e)
		snprintf(out, size, "%s",
		         ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "TLS error");
	else
		snprintf(out, size, "TLS connection failed");
	ERR_clear_error();
}

bool tls_conn_resumed(const struct tls_conn *t)
{
	return SSL_session_reused(t->ssl) == 1;
}

const char *tls_conn_version(const struct tls_conn *t)
{
	return SSL_get_version(t->ssl);
}

const char *tls_conn_cipher(const struct tls_conn *t)
{
	return SSL_get_cipher_name(t->ssl);
}
