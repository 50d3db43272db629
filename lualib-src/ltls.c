/*
 * ltls: TLS on OpenSSL for http.tlshelper, with no socket of its own. Each connection is
 * an SSL object between two memory BIOs: the caller feeds the bytes it read from the
 * socket in, and gets back the bytes to write to the socket.
 *
 *   require "ltls.init.c"   constructor() / destructor(): set up / tear down OpenSSL
 *   require "ltls.c"        newctx() -> sslctx, newtls(method, sslctx [, hostname]) -> tls
 *
 * Both modules live in luaclib/ltls.so (Lua's all-in-one loader finds them there).
 */

#include <limits.h>
#include <stdatomic.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "lua.h"
#include "lauxlib.h"

#define SSLCTX_META "_TLS_SSLCTX_METATABLE_"
#define TLS_META "_TLS_CONTEXT_METATABLE_"
#define CHUNK 4096

/* Set once by ltls.init.c's constructor (the ltls_holder service, at boot). */
static atomic_int openssl_ready;

struct sslctx {
	SSL_CTX *ctx;
};

struct tlsconn {
	SSL *ssl;
	BIO *inbio;		/* bytes from the peer, fed by the caller */
	BIO *outbio;	/* bytes for the peer, drained by the caller */
	int closed;
};

/* The reason of OpenSSL's latest queued error (or "unknown"), and clears the queue. */
static const char *
openssl_reason(char *buf, size_t sz) {
	unsigned long e = ERR_get_error();
	if (e == 0) {
		strcpy(buf, "unknown");
	} else {
		ERR_error_string_n(e, buf, sz);
	}
	ERR_clear_error();
	return buf;
}

/* ---------------------------------------------------------------- SSL_CTX */

static struct sslctx *
check_sslctx(lua_State *L, int idx) {
	struct sslctx *c = (struct sslctx *)luaL_checkudata(L, idx, SSLCTX_META);
	if (c->ctx == NULL)
		luaL_error(L, "sslctx is released");
	return c;
}

static int
lctx_set_cert(lua_State *L) {
	struct sslctx *c = check_sslctx(L, 1);
	const char *certfile = lua_tostring(L, 2);
	const char *keyfile = lua_tostring(L, 3);
	char reason[256];
	if (certfile == NULL)
		return luaL_error(L, "need certfile");
	if (keyfile == NULL)
		return luaL_error(L, "need private key");
	if (SSL_CTX_use_certificate_chain_file(c->ctx, certfile) != 1)
		return luaL_error(L, "SSL_CTX_use_certificate_chain_file error: %s (%s)", certfile,
			openssl_reason(reason, sizeof(reason)));
	if (SSL_CTX_use_PrivateKey_file(c->ctx, keyfile, SSL_FILETYPE_PEM) != 1)
		return luaL_error(L, "SSL_CTX_use_PrivateKey_file error: %s (%s)", keyfile,
			openssl_reason(reason, sizeof(reason)));
	if (SSL_CTX_check_private_key(c->ctx) != 1)
		return luaL_error(L, "SSL_CTX_check_private_key error: %s",
			openssl_reason(reason, sizeof(reason)));
	return 0;
}

static int
lctx_set_ciphers(lua_State *L) {
	struct sslctx *c = check_sslctx(L, 1);
	const char *list = lua_tostring(L, 2);
	char reason[256];
	if (list == NULL)
		return luaL_error(L, "need cipher list");
	if (SSL_CTX_set_cipher_list(c->ctx, list) != 1)
		return luaL_error(L, "SSL_CTX_set_cipher_list error: %s",
			openssl_reason(reason, sizeof(reason)));
	return 0;
}

static int
lctx_gc(lua_State *L) {
	struct sslctx *c = (struct sslctx *)luaL_checkudata(L, 1, SSLCTX_META);
	if (c->ctx) {
		SSL_CTX_free(c->ctx);
		c->ctx = NULL;
	}
	return 0;
}

static int
lnewctx(lua_State *L) {
	char reason[256];
	struct sslctx *c = (struct sslctx *)lua_newuserdatauv(L, sizeof(*c), 0);
	c->ctx = NULL;
	if (luaL_newmetatable(L, SSLCTX_META)) {
		luaL_Reg methods[] = {
			{ "set_cert", lctx_set_cert },
			{ "set_ciphers", lctx_set_ciphers },
			{ NULL, NULL },
		};
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, lctx_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	/* the metatable is set first, so __gc frees the SSL_CTX if a later step fails */
	c->ctx = SSL_CTX_new(TLS_method());
	if (c->ctx == NULL)
		return luaL_error(L, "SSL_CTX_new failed: %s", openssl_reason(reason, sizeof(reason)));
	return 1;
}

/* ---------------------------------------------------------------- one connection */

static struct tlsconn *
check_tls(lua_State *L, int idx) {
	struct tlsconn *t = (struct tlsconn *)luaL_checkudata(L, idx, TLS_META);
	if (t->closed)
		luaL_error(L, "context is closed");
	return t;
}

/* Hands the peer's bytes (argument idx, may be nil or "") to OpenSSL. */
static void
feed(lua_State *L, struct tlsconn *t, int idx) {
	size_t sz = 0;
	const char *p = lua_isnoneornil(L, idx) ? NULL : luaL_checklstring(L, idx, &sz);
	while (sz > 0) {
		int n = BIO_write(t->inbio, p, sz > INT_MAX ? INT_MAX : (int)sz);
		if (n <= 0)
			luaL_error(L, "BIO_write error:%d", n);
		p += n;
		sz -= (size_t)n;
	}
}

/* Pushes everything OpenSSL queued for the peer (possibly ""); returns its length. */
static size_t
drain(lua_State *L, struct tlsconn *t) {
	luaL_Buffer b;
	size_t total = 0;
	luaL_buffinit(L, &b);
	while (BIO_ctrl_pending(t->outbio) > 0) {
		char *space = luaL_prepbuffsize(&b, CHUNK);
		int n = BIO_read(t->outbio, space, CHUNK);
		if (n <= 0)
			luaL_error(L, "BIO_read error:%d", n);
		luaL_addsize(&b, n);
		total += (size_t)n;
	}
	luaL_pushresult(&b);
	return total;
}

/* handshake([bytes]): feeds the peer's handshake bytes; returns the bytes to send, or
 * nothing when there are none yet. */
static int
ltls_handshake(lua_State *L) {
	struct tlsconn *t = check_tls(L, 1);
	int ret;
	char reason[256];
	if (SSL_is_init_finished(t->ssl))
		return luaL_error(L, "handshake is finished");
	feed(L, t, 2);
	ret = SSL_do_handshake(t->ssl);
	if (ret != 1) {
		int err = SSL_get_error(t->ssl, ret);
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
			return luaL_error(L, "SSL_do_handshake error:%d ret:%d (%s)", err, ret,
				openssl_reason(reason, sizeof(reason)));
		ERR_clear_error();
	}
	/* a finished client handshake still has its Finished message to send */
	if (drain(L, t) == 0)
		return 0;
	return 1;
}

static int
ltls_finished(lua_State *L) {
	struct tlsconn *t = check_tls(L, 1);
	lua_pushboolean(L, SSL_is_init_finished(t->ssl));
	return 1;
}

/* read([bytes]): feeds the peer's bytes; returns all the plain text they complete
 * (possibly ""). */
static int
ltls_read(lua_State *L) {
	struct tlsconn *t = check_tls(L, 1);
	luaL_Buffer b;
	char reason[256];
	feed(L, t, 2);
	luaL_buffinit(L, &b);
	for (;;) {
		char *space = luaL_prepbuffsize(&b, CHUNK);
		int n = SSL_read(t->ssl, space, CHUNK);
		if (n > 0) {
			luaL_addsize(&b, n);
			continue;
		}
		int err = SSL_get_error(t->ssl, n);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_ZERO_RETURN) {
			ERR_clear_error();
			break;
		}
		return luaL_error(L, "SSL_read error:%d (%s)", err, openssl_reason(reason, sizeof(reason)));
	}
	luaL_pushresult(&b);
	return 1;
}

/* write([text]): encrypts text; returns the bytes to send (possibly "", and with anything
 * else pending, such as the end of a server handshake, when called without text). */
static int
ltls_write(lua_State *L) {
	struct tlsconn *t = check_tls(L, 1);
	size_t sz = 0;
	const char *p = lua_isnoneornil(L, 2) ? NULL : luaL_checklstring(L, 2, &sz);
	char reason[256];
	while (sz > 0) {
		int n = SSL_write(t->ssl, p, sz > INT_MAX ? INT_MAX : (int)sz);
		if (n <= 0) {
			int err = SSL_get_error(t->ssl, n);
			return luaL_error(L, "SSL_write error:%d (%s)", err, openssl_reason(reason, sizeof(reason)));
		}
		p += n;
		sz -= (size_t)n;
	}
	drain(L, t);
	return 1;
}

/* set_ext_host_name(hostname): the SNI name a client sends; nil keeps the current one. */
static int
ltls_set_ext_host_name(lua_State *L) {
	struct tlsconn *t = check_tls(L, 1);
	const char *host = luaL_optstring(L, 2, NULL);
	int ret = 1;
	if (host)
		ret = (int)SSL_set_tlsext_host_name(t->ssl, host);
	lua_pushinteger(L, ret);
	return 1;
}

static int
ltls_close(lua_State *L) {
	struct tlsconn *t = (struct tlsconn *)luaL_checkudata(L, 1, TLS_META);
	if (!t->closed) {
		t->closed = 1;
		if (t->ssl) {
			SSL_free(t->ssl);	/* frees both BIOs too */
		} else {
			/* SSL_new failed: the BIOs were never handed to an SSL */
			if (t->inbio)
				BIO_free(t->inbio);
			if (t->outbio)
				BIO_free(t->outbio);
		}
		t->ssl = NULL;
		t->inbio = t->outbio = NULL;
	}
	return 0;
}

static BIO *
memory_bio(lua_State *L) {
	BIO *bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		luaL_error(L, "BIO_new failed");
	/* an empty BIO means "wait for more", not end of file */
	BIO_set_mem_eof_return(bio, -1);
	return bio;
}

static int
lnewtls(lua_State *L) {
	const char *method = luaL_optstring(L, 1, "nil");
	struct sslctx *c = check_sslctx(L, 2);
	const char *hostname = luaL_optstring(L, 3, NULL);
	int server;
	struct tlsconn *t;
	if (strcmp(method, "client") == 0)
		server = 0;
	else if (strcmp(method, "server") == 0)
		server = 1;
	else
		return luaL_error(L, "invalid method:%s e.g[server, client]", method);

	t = (struct tlsconn *)lua_newuserdatauv(L, sizeof(*t), 1);
	memset(t, 0, sizeof(*t));
	if (luaL_newmetatable(L, TLS_META)) {
		luaL_Reg methods[] = {
			{ "close", ltls_close },
			{ "finished", ltls_finished },
			{ "handshake", ltls_handshake },
			{ "read", ltls_read },
			{ "write", ltls_write },
			{ "set_ext_host_name", ltls_set_ext_host_name },
			{ NULL, NULL },
		};
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, ltls_close);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	/* the connection keeps its SSL_CTX alive */
	lua_pushvalue(L, 2);
	lua_setiuservalue(L, -2, 1);

	t->inbio = memory_bio(L);
	t->outbio = memory_bio(L);
	t->ssl = SSL_new(c->ctx);
	if (t->ssl == NULL)
		return luaL_error(L, "SSL_new failed");
	SSL_set_bio(t->ssl, t->inbio, t->outbio);
	if (server) {
		SSL_set_accept_state(t->ssl);
	} else {
		SSL_set_connect_state(t->ssl);
		if (hostname)
			SSL_set_tlsext_host_name(t->ssl, hostname);
	}
	return 1;
}

int
luaopen_ltls_c(lua_State *L) {
	luaL_Reg l[] = {
		{ "newctx", lnewctx },
		{ "newtls", lnewtls },
		{ NULL, NULL },
	};
	luaL_checkversion(L);
	if (!openssl_ready)
		return luaL_error(L, "ltls need init, Put enablessl = true in you config file.");
	luaL_newlib(L, l);
	return 1;
}

/* ---------------------------------------------------------------- library set-up */

static int
linit_constructor(lua_State *L) {
	if (!openssl_ready) {
#if OPENSSL_VERSION_NUMBER >= 0x10100000L
		if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL) != 1)
			return luaL_error(L, "OPENSSL_init_ssl failed");
#else
		SSL_library_init();
		SSL_load_error_strings();
		OpenSSL_add_all_algorithms();
#endif
		openssl_ready = 1;
	}
	return 0;
}

/* OpenSSL 1.1 and later release themselves at exit; older ones need the calls. */
static int
linit_destructor(lua_State *L) {
	if (openssl_ready) {
#if OPENSSL_VERSION_NUMBER < 0x10100000L
		ERR_free_strings();
		EVP_cleanup();
		CRYPTO_cleanup_all_ex_data();
#endif
		openssl_ready = 0;
	}
	return 0;
}

int
luaopen_ltls_init_c(lua_State *L) {
	luaL_Reg l[] = {
		{ "constructor", linit_constructor },
		{ "destructor", linit_destructor },
		{ NULL, NULL },
	};
	luaL_checkversion(L);
	luaL_newlib(L, l);
	return 1;
}
