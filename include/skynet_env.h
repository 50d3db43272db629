#ifndef SKYNET_ENV_H
#define SKYNET_ENV_H

/* the config key/value store (the process-wide "env") */
const char * skynet_getenv(const char *key);
void skynet_setenv(const char *key, const char *value);

void skynet_env_init();

#endif
