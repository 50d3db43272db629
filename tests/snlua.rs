//! Our snlua service (`cservice/snlua.c`) and the stand-alone `lua` interpreter
//! (`tools/lua.c`, built into `3rd/lua/lua`).

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output as ProcOutput, Stdio};
use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(60);

fn assert_line(out: &Output, needle: &str) {
    assert!(out.contains(needle), "no line containing {needle:?}\n\n{out}");
}

/// The boot environment: libraries, registry, globals, preload, skynet.profile and
/// skynet.codecache, the collector's mode, the service's arguments.
#[test]
fn boot_environment() {
    let extra = "preload = root..\"tests/lua/snlua_preload.lua\"";
    for layout in LAYOUTS {
        lua_test("snlua_env", "alpha 42", layout, extra, LIMIT);
    }
}

/// A service failing while it loads is logged with a traceback, its launcher call fails,
/// and the node carries on launching services.
#[test]
fn loader_error_is_logged_with_traceback() {
    for layout in LAYOUTS {
        let out = lua_test("snlua_loaderr", "", layout, "", LIMIT);
        let line = out
            .lines()
            .into_iter()
            .find(|l| l.contains("lua loader error : ") && l.contains("snlua_broken fails on purpose"))
            .map(str::to_string);
        assert!(line.is_some(), "no loader error for snlua_broken\n\n{out}");
        assert_line(&out, "stack traceback:");
        assert_line(&out, "snlua_no_such_service");
    }
}

/// A loader file that can't be loaded is reported as upstream does.
#[test]
fn missing_loader_is_reported() {
    let mut config = lua_config("main", Layout::Single, "");
    config.push_str("lualoader = \"/nonexistent/snlua/loader.lua\"\n");
    let mut node = start_node(&config);
    let line = node.wait_for_line("Can't load", LIMIT);
    assert!(
        line.contains("Can't load /nonexistent/snlua/loader.lua : ") && line.contains("No such file"),
        "unexpected line {line:?}"
    );
    node.kill();
}

/// skynet.memlimit caps one service's heap, and big heaps are reported.
#[test]
fn memory_limit_and_warnings() {
    for layout in LAYOUTS {
        let out = lua_test("snlua_memlimit", "", layout, "", LIMIT);
        assert_line(&out, "Set memory limit to 4.00 M");
        assert_line(&out, "Memory warning ");
    }
}

/// SIGNAL 0 breaks an endless loop with the error "signal 0"; SIGNAL 1 reports memory.
#[test]
fn signal_breaks_endless_loop() {
    for layout in LAYOUTS {
        let out = lua_test("snlua_signal", "", layout, "", LIMIT);
        assert_line(&out, "recv a signal 0");
        let broken = out.lines().into_iter().any(|l| l.contains("signal 0") && !l.contains("recv a signal"));
        assert!(broken, "the loop was not broken with \"signal 0\"\n\n{out}");
        assert_line(&out, "recv a signal 1");
        assert_line(&out, "Current Memory ");
    }
}

// ---- the stand-alone interpreter ----

fn lua_bin() -> PathBuf {
    let path = root().join("3rd").join("lua").join("lua");
    assert!(path.exists(), "{} is missing: run `make linux` first", path.display());
    path
}

fn run_lua(args: &[&str], stdin: &str, envs: &[(&str, &str)]) -> ProcOutput {
    let mut cmd = Command::new(lua_bin());
    cmd.args(args).env_remove("LUA_INIT").env_remove("LUA_INIT_5_4").env_remove("LUA_INIT_5_5");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("can't run {}: {e}", lua_bin().display()));
    let mut input = child.stdin.take().expect("stdin is piped");
    input.write_all(stdin.as_bytes()).expect("write the interpreter's stdin");
    drop(input);
    child.wait_with_output().expect("wait for the interpreter")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn show(out: &ProcOutput) -> String {
    format!("status {}\nstdout:\n{}\nstderr:\n{}", out.status, text(&out.stdout), text(&out.stderr))
}

#[test]
fn lua_runs_a_string() {
    let out = run_lua(&["-e", "print(1+1)"], "", &[]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(text(&out.stdout), "2\n", "{}", show(&out));
}

#[test]
fn lua_runs_a_script_with_arguments() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("args.lua");
    std::fs::write(
        &script,
        "local n = select('#', ...)\n\
         print('varargs', n, ...)\n\
         for i = -2, #arg do print(i, arg[i]) end\n",
    )
    .expect("write the script");
    let script = script.display().to_string();
    let out = run_lua(&["-e", "x = 1", &script, "one", "two words"], "", &[]);
    assert!(out.status.success(), "{}", show(&out));
    let expected = format!(
        "varargs\t2\tone\ttwo words\n-2\t-e\n-1\tx = 1\n0\t{script}\n1\tone\n2\ttwo words\n"
    );
    assert_eq!(text(&out.stdout), expected, "{}", show(&out));
}

#[test]
fn lua_error_exits_1_with_traceback() {
    let out = run_lua(&["-e", "local function f() error('snlua oops') end f()"], "", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = text(&out.stderr);
    assert!(err.starts_with("lua: (command line):1: snlua oops\n"), "{}", show(&out));
    assert!(err.contains("stack traceback:"), "{}", show(&out));

    let out = run_lua(&["/nonexistent/snlua.lua"], "", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(text(&out.stderr).starts_with("lua: cannot open /nonexistent/snlua.lua"), "{}", show(&out));

    let out = run_lua(&["-Z"], "", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(text(&out.stderr).contains("usage:"), "{}", show(&out));
}

#[test]
fn lua_reads_the_script_from_stdin() {
    let out = run_lua(&["-", "a", "b"], "print('stdin', ...)\n", &[]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(text(&out.stdout), "stdin\ta\tb\n", "{}", show(&out));

    // no arguments and stdin not a terminal: run stdin
    let out = run_lua(&[], "print(6 * 7)\n", &[]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(text(&out.stdout), "42\n", "{}", show(&out));
}

#[test]
fn lua_options_and_lua_init() {
    let out = run_lua(&["-l", "s=string", "-e", "print(s.rep('ab', 2))", "-v"], "", &[]);
    assert!(out.status.success(), "{}", show(&out));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("Lua 5."), "{}", show(&out));
    assert!(stdout.ends_with("abab\n"), "{}", show(&out));

    let out = run_lua(&["-e", "print(INIT_SEEN)"], "", &[("LUA_INIT", "INIT_SEEN = 'yes'")]);
    assert_eq!(text(&out.stdout), "yes\n", "{}", show(&out));
    let out = run_lua(&["-E", "-e", "print(INIT_SEEN)"], "", &[("LUA_INIT", "INIT_SEEN = 'yes'")]);
    assert_eq!(text(&out.stdout), "nil\n", "{}", show(&out));
}

#[test]
fn lua_interactive_loop() {
    let input = "1 + 1\nx = 20\nx, x + 1\nfunction f()\n  return 'multi'\nend\nf()\n";
    let out = run_lua(&["-i"], input, &[]);
    assert!(out.status.success(), "{}", show(&out));
    let stdout = text(&out.stdout);
    for want in ["> 2\n", "20\t21\n", "multi\n"] {
        assert!(stdout.contains(want), "missing {want:?}\n{}", show(&out));
    }
}

#[test]
fn lua_loads_c_modules() {
    let module = c_service("snlua_cmod");
    let dir = module.parent().expect("the module has a directory").display().to_string();
    let code = format!("package.cpath = '{dir}/?.so' print(require('snlua_cmod').add(2, 3))");
    let out = run_lua(&["-e", &code], "", &[]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(text(&out.stdout), "5\n", "{}", show(&out));
}

/// The process-wide code cache behind loadfile and require: a cached file is not re-read
/// until clear(), the per-state modes ON/EXIST/OFF, debug info and env kept, shared
/// between services.
#[test]
fn code_cache() {
    for layout in LAYOUTS {
        lua_test("snlua_codecache", "", layout, "", LIMIT);
    }
}

/// Shared chunks behind the code cache: separate upvalues per load, error messages with
/// variable names, debug info, line hooks, dumps, an exact memory count, smaller loads,
/// and a chunk that outlives clear() while a service runs it.
#[test]
fn shared_chunks() {
    for layout in LAYOUTS {
        lua_test("snlua_shared", "", layout, "", LIMIT);
    }
}
