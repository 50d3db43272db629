//! sproto (lualib/sproto.lua, sprotoparser.lua, sprotoloader.lua on luaclib/sproto.so):
//! the wire format against sproto's README examples, the schema parser and its errors,
//! and RPC between services and with a stand-alone client on the bundled interpreter.

mod common;

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn sproto_wire_format() {
    lua_test("sproto_wire", "", Layout::Single, "", LIMIT);
}

#[test]
fn sproto_schema_parser() {
    lua_test("sproto_parser", "", Layout::Single, "", LIMIT);
}

/// Runs `tests/lua/sproto_cli.lua` on the bundled interpreter against `port`, killed after LIMIT.
fn run_client(port: u16) -> std::process::Output {
    let lua = root().join("3rd").join("lua").join("lua");
    for needed in [lua.clone(), root().join("luaclib").join("client.so"), root().join("luaclib").join("sproto.so")] {
        assert!(needed.exists(), "run `make linux` first: {} is missing", needed.display());
    }
    let child = Command::new(&lua)
        .arg(root().join("tests").join("lua").join("sproto_cli.lua"))
        .arg(root())
        .arg(port.to_string())
        .env_remove("LUA_INIT")
        .env_remove("LUA_INIT_5_4")
        .env_remove("LUA_INIT_5_5")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("can't run {}: {e}", lua.display()));
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(LIMIT) {
        Ok(out) => out.expect("sproto_cli.lua output"),
        Err(_) => {
            // SAFETY: signals our own child, which has not been reaped (its waiter is stuck).
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("sproto_cli.lua did not finish within {LIMIT:?}");
        }
    }
}

#[test]
fn sproto_rpc_between_services_and_with_a_client() {
    for layout in LAYOUTS {
        let mut node = start_node(&lua_config("sproto_rpc", layout, ""));
        let line = node.wait_for_line("SPROTO listen", LIMIT);
        let port: u16 = line
            .rsplit(' ')
            .next()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        let client = run_client(port);
        let said = format!("{}{}", String::from_utf8_lossy(&client.stdout), String::from_utf8_lossy(&client.stderr));
        assert!(client.status.success(), "sproto_cli.lua failed ({})\n{said}\n{}", client.status, node.output_so_far());
        assert!(said.lines().any(|l| l == "TEST sproto_cli PASS"), "no PASS from the client\n{said}");
        let out = node.wait(LIMIT);
        assert_passed(&out, "sproto_rpc");
        assert_success(&out);
        assert_eq!(out.lines().into_iter().filter(|l| l.contains("LAUNCH snlua sproto_peer")).count(), 2, "{out}");
    }
}
