/*
 * lua: a stand-alone interpreter for client scripts, on the same Lua library the
 * skynet executable embeds (linked with -Wl,-E so C modules load into it).
 *
 *   lua [options] [script [args...]]
 *     -e stat   run the string stat
 *     -l mod    require mod into global mod (-l g=mod: into global g)
 *     -i        enter the interactive loop after the rest
 *     -v        print the version
 *     -E        ignore LUA_INIT and the LUA_PATH/LUA_CPATH environment variables
 *     -W        turn warnings on
 *     --        stop handling options
 *     -         run standard input as the script
 */

#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROGNAME "lua"

/* What the command line asks for, found before any Lua runs. */
struct cmdline {
	int argc;
	char **argv;
	int script;	/* index of the script in argv, 0 if none */
	int stdin_script;	/* the script is "-": read it from standard input */
	int run_e;	/* some -e or -l is present */
	int interactive;
	int version;
	int noenv;
	int warnings;
};

static lua_State *running_state;

static void
print_usage(const char *badopt) {
	if (badopt[1] == 'e' || badopt[1] == 'l')
		fprintf(stderr, PROGNAME ": '%s' needs argument\n", badopt);
	else
		fprintf(stderr, PROGNAME ": unrecognized option '%s'\n", badopt);
	fprintf(stderr,
		"usage: " PROGNAME " [options] [script [args]]\n"
		"Available options are:\n"
		"  -e stat   execute string 'stat'\n"
		"  -i        enter interactive mode after executing 'script'\n"
		"  -l mod    require library 'mod' into global 'mod'\n"
		"  -l g=mod  require library 'mod' into global 'g'\n"
		"  -v        show version information\n"
		"  -E        ignore environment variables\n"
		"  -W        turn warnings on\n"
		"  --        stop handling options\n"
		"  -         stop handling options and execute stdin\n");
}

static void
print_error(const char *msg) {
	fprintf(stderr, PROGNAME ": %s\n", msg);
	fflush(stderr);
}

/* Prints the error on top of the stack (if status says there is one) and pops it. */
static int
report(lua_State *L, int status) {
	if (status != LUA_OK) {
		print_error(lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	return status;
}

/* Fills c from argv; returns 0, or -1 after printing the usage for a bad option. */
static int
parse_cmdline(struct cmdline *c, int argc, char **argv) {
	int i;
	memset(c, 0, sizeof(*c));
	c->argc = argc;
	c->argv = argv;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-') {
			c->script = i;
			return 0;
		}
		if (strcmp(a, "--") == 0) {
			if (i + 1 < argc)
				c->script = i + 1;
			return 0;
		}
		if (strcmp(a, "-") == 0) {
			c->script = i;
			c->stdin_script = 1;
			return 0;
		}
		switch (a[1]) {
		case 'e':
		case 'l':
			c->run_e = 1;
			if (a[2] == '\0') {
				/* the argument is the next word */
				if (++i >= argc || argv[i][0] == '-') {
					print_usage(a);
					return -1;
				}
			}
			break;
		case 'i':
		case 'v':
		case 'E':
		case 'W':
			if (a[2] != '\0') {
				print_usage(a);
				return -1;
			}
			if (a[1] == 'i')
				c->interactive = c->version = 1;
			else if (a[1] == 'v')
				c->version = 1;
			else if (a[1] == 'E')
				c->noenv = 1;
			else
				c->warnings = 1;
			break;
		default:
			print_usage(a);
			return -1;
		}
	}
	return 0;
}

/* ---- running chunks ---- */

static void
interrupted_hook(lua_State *L, lua_Debug *ar) {
	(void)ar;
	lua_sethook(L, NULL, 0, 0);
	luaL_error(L, "interrupted!");
}

/* On Ctrl-C, make the running code raise an error at its next step. */
static void
on_sigint(int sig) {
	signal(sig, SIG_DFL);
	lua_sethook(running_state, interrupted_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static int
traceback_handler(lua_State *L) {
	const char *msg = lua_tostring(L, 1);
	if (msg == NULL) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			return 1;
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

/* Calls the function below the nargs arguments on top, with a traceback on error. */
static int
call_chunk(lua_State *L, int nargs, int nres) {
	int status;
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, traceback_handler);
	lua_insert(L, base);
	running_state = L;
	signal(SIGINT, on_sigint);
	status = lua_pcall(L, nargs, nres, base);
	signal(SIGINT, SIG_DFL);
	lua_remove(L, base);
	return status;
}

static int
run_string(lua_State *L, const char *code, const char *name) {
	int status = luaL_loadbuffer(L, code, strlen(code), name);
	if (status == LUA_OK)
		status = call_chunk(L, 0, 0);
	return report(L, status);
}

static int
run_file(lua_State *L, const char *filename) {
	int status = luaL_loadfile(L, filename);
	if (status == LUA_OK)
		status = call_chunk(L, 0, 0);
	return report(L, status);
}

/* -l spec: spec is "mod" or "global=mod". */
static int
require_module(lua_State *L, const char *spec) {
	const char *eq = strchr(spec, '=');
	const char *mod = eq ? eq + 1 : spec;
	int status;
	lua_getglobal(L, "require");
	lua_pushstring(L, mod);
	status = call_chunk(L, 1, 1);
	if (status != LUA_OK)
		return report(L, status);
	if (eq)
		lua_pushlstring(L, spec, eq - spec);
	else
		lua_pushstring(L, mod);
	lua_insert(L, -2);
	lua_setglobal(L, lua_tostring(L, -2));
	lua_pop(L, 1);
	return LUA_OK;
}

static int
run_init_env(lua_State *L) {
	const char *name = "=LUA_INIT" LUA_VERSUFFIX;
	const char *init = getenv(name + 1);
	if (init == NULL) {
		name = "=LUA_INIT";
		init = getenv(name + 1);
	}
	if (init == NULL)
		return LUA_OK;
	if (init[0] == '@')
		return run_file(L, init + 1);
	return run_string(L, init, name);
}

/* Runs the -e and -l options in command-line order. */
static int
run_options(lua_State *L, const struct cmdline *c) {
	int last = c->script ? c->script : c->argc;
	int i;
	for (i = 1; i < last; i++) {
		const char *a = c->argv[i];
		const char *val;
		int status;
		if (a[0] != '-' || (a[1] != 'e' && a[1] != 'l'))
			continue;
		val = a[2] ? a + 2 : c->argv[++i];
		if (a[1] == 'e')
			status = run_string(L, val, "=(command line)");
		else
			status = require_module(L, val);
		if (status != LUA_OK)
			return status;
	}
	return LUA_OK;
}

/* The global arg: the script at 0, its arguments after, the interpreter and options below. */
static void
make_arg_table(lua_State *L, const struct cmdline *c) {
	int zero = c->script;
	int i;
	lua_createtable(L, c->argc - zero, zero + 1);
	for (i = 0; i < c->argc; i++) {
		lua_pushstring(L, c->argv[i]);
		lua_rawseti(L, -2, i - zero);
	}
	lua_setglobal(L, "arg");
}

static int
run_script(lua_State *L, const struct cmdline *c) {
	int nargs = c->argc - c->script - 1;
	int i;
	int status = luaL_loadfile(L, c->stdin_script ? NULL : c->argv[c->script]);
	if (status == LUA_OK) {
		luaL_checkstack(L, nargs, "too many arguments to script");
		for (i = c->script + 1; i < c->argc; i++)
			lua_pushstring(L, c->argv[i]);
		status = call_chunk(L, nargs, 0);
	}
	return report(L, status);
}

/* ---- interactive loop ---- */

/* Pushes one line of standard input without its newline; returns 0 at end of input. */
static int
read_line(lua_State *L, const char *prompt) {
	char chunk[512];
	luaL_Buffer b;
	int got = 0;
	fputs(prompt, stdout);
	fflush(stdout);
	luaL_buffinit(L, &b);
	while (fgets(chunk, sizeof(chunk), stdin) != NULL) {
		size_t n = strlen(chunk);
		got = 1;
		if (n > 0 && chunk[n - 1] == '\n') {
			luaL_addlstring(&b, chunk, n - 1);
			break;
		}
		luaL_addlstring(&b, chunk, n);
	}
	luaL_pushresult(&b);
	if (!got) {
		lua_pop(L, 1);
		return 0;
	}
	return 1;
}

/* A syntax error that only says the input ended early: more lines may complete it. */
static int
incomplete(lua_State *L, int status) {
	static const char eof_mark[] = "<eof>";
	size_t len;
	const char *msg;
	if (status != LUA_ERRSYNTAX)
		return 0;
	msg = lua_tolstring(L, -1, &len);
	return len >= sizeof(eof_mark) - 1 && strcmp(msg + len - (sizeof(eof_mark) - 1), eof_mark) == 0;
}

/*
 * Replaces the line on top of the stack with its compiled chunk (or the error): as an
 * expression first, so that "1+1" prints 2, then as a statement, reading continuation
 * lines while the statement is incomplete. Returns the load status, or -1 at end of input.
 */
static int
compile_input(lua_State *L) {
	size_t len;
	const char *code = lua_pushfstring(L, "return %s", lua_tostring(L, -1));
	int status = luaL_loadbuffer(L, code, strlen(code), "=stdin");
	if (status == LUA_OK) {
		lua_replace(L, -3);
		lua_pop(L, 1);
		return status;
	}
	lua_pop(L, 2);
	for (;;) {
		code = lua_tolstring(L, -1, &len);
		status = luaL_loadbuffer(L, code, len, "=stdin");
		if (!incomplete(L, status)) {
			lua_remove(L, -2);
			return status;
		}
		lua_pop(L, 1);
		if (!read_line(L, ">> ")) {
			lua_pop(L, 1);
			return -1;
		}
		lua_pushliteral(L, "\n");
		lua_insert(L, -2);
		lua_concat(L, 3);
	}
}

static void
print_results(lua_State *L, int base) {
	int n = lua_gettop(L) - base;
	if (n <= 0)
		return;
	luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
	lua_getglobal(L, "print");
	lua_insert(L, base + 1);
	if (lua_pcall(L, n, 0, 0) != LUA_OK)
		report(L, LUA_ERRRUN);
}

static void
repl(lua_State *L) {
	for (;;) {
		int base = lua_gettop(L);
		int status;
		if (!read_line(L, "> "))
			break;
		status = compile_input(L);
		if (status < 0)
			break;
		if (status == LUA_OK)
			status = call_chunk(L, 0, LUA_MULTRET);
		if (status == LUA_OK)
			print_results(L, base);
		else
			report(L, status);
		lua_settop(L, base);
	}
	fputs("\n", stdout);
	fflush(stdout);
}

/* ---- main ---- */

static void
print_version(void) {
	fputs(LUA_COPYRIGHT "\n", stdout);
	fflush(stdout);
}

/* Runs protected, so that errors outside call_chunk (memory, mostly) are caught too. */
static int
protected_main(lua_State *L) {
	const struct cmdline *c = lua_touserdata(L, 1);
	int ok = 0;
	luaL_checkversion(L);
	if (c->noenv) {
		lua_pushboolean(L, 1);
		lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
	}
	luaL_openlibs(L);
	make_arg_table(L, c);
	lua_gc(L, LUA_GCRESTART);
	if (c->warnings)
		lua_warning(L, "@on", 0);
	if (c->version)
		print_version();
	if (!c->noenv && run_init_env(L) != LUA_OK)
		goto done;
	if (run_options(L, c) != LUA_OK)
		goto done;
	if (c->script && run_script(L, c) != LUA_OK)
		goto done;
	if (c->interactive) {
		repl(L);
	} else if (c->script == 0 && !c->run_e && !c->version) {
		if (isatty(STDIN_FILENO)) {
			print_version();
			repl(L);
		} else if (run_file(L, NULL) != LUA_OK) {
			goto done;
		}
	}
	ok = 1;
done:
	lua_pushboolean(L, ok);
	return 1;
}

int
main(int argc, char **argv) {
	struct cmdline c;
	lua_State *L;
	int status, ok;
	if (parse_cmdline(&c, argc, argv) != 0)
		return EXIT_FAILURE;
	L = luaL_newstate();
	if (L == NULL) {
		print_error("cannot create state: not enough memory");
		return EXIT_FAILURE;
	}
	lua_gc(L, LUA_GCSTOP);
	lua_pushcfunction(L, protected_main);
	lua_pushlightuserdata(L, &c);
	status = lua_pcall(L, 1, 1, 0);
	ok = lua_toboolean(L, -1);
	report(L, status);
	lua_close(L);
	return (status == LUA_OK && ok) ? EXIT_SUCCESS : EXIT_FAILURE;
}
