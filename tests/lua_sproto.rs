//! sproto (lualib/sproto.lua, sprotoparser.lua, sprotoloader.lua on luaclib/sproto.so):
//! the wire format against sproto's README examples, the schema parser and its errors,
//! and RPC between services and with a stand-alone client on the bundled interpreter.

mod common;

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
        let client = run_lua_script("tests/lua/sproto_cli.lua", &[&root().display().to_string(), &port.to_string()], LIMIT);
        let said = format!("{}{}", String::from_utf8_lossy(&client.stdout), String::from_utf8_lossy(&client.stderr));
        assert!(client.status.success(), "sproto_cli.lua failed ({})\n{said}\n{}", client.status, node.output_so_far());
        assert!(said.lines().any(|l| l == "TEST sproto_cli PASS"), "no PASS from the client\n{said}");
        let out = node.wait(LIMIT);
        assert_passed(&out, "sproto_rpc");
        assert_success(&out);
        assert_eq!(out.lines().into_iter().filter(|l| l.contains("LAUNCH snlua sproto_peer")).count(), 2, "{out}");
    }
}
