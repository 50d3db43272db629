//! `skynet.crypt` (luaclib/skynet.so, in a service) and `client.crypt` (luaclib/client.so,
//! in the stand-alone `3rd/lua/lua`) against published test vectors and skynet v1.8.0's
//! own outputs; both run the same cases, `tests/lua/crypt_cases.lua`.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn skynet_crypt_in_a_service() {
    lua_test("crypt_vectors", "", Layout::Single, "", LIMIT);
}

#[test]
fn client_crypt_in_the_interpreter() {
    let lua = root().join("3rd").join("lua").join("lua");
    let client_so = root().join("luaclib").join("client.so");
    assert!(lua.exists() && client_so.exists(), "run `make linux` first: need {} and {}", lua.display(), client_so.display());
    let out = Command::new(&lua)
        .arg(root().join("tests").join("lua").join("client_crypt.lua"))
        .arg(root())
        .env_remove("LUA_INIT")
        .env_remove("LUA_INIT_5_4")
        .env_remove("LUA_INIT_5_5")
        .output()
        .unwrap_or_else(|e| panic!("can't run {}: {e}", lua.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let shown = format!("status {}\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status);
    assert!(out.status.success(), "client_crypt.lua failed\n{shown}");
    assert!(stdout.lines().any(|l| l == "TEST client_crypt PASS"), "no PASS line\n{shown}");
    assert!(!stdout.contains("FAIL"), "{shown}");
}
