#ifndef LCRYPT_SHA1_H
#define LCRYPT_SHA1_H

#include <lua.h>

/* crypt.sha1(text) and crypt.hmac_sha1(key, text), defined in lsha1.c */
int lcrypt_sha1(lua_State *L);
int lcrypt_hmac_sha1(lua_State *L);

#endif
