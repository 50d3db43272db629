//! Our Lua C modules in `luaclib/skynet.so`: `skynet.pack`/`unpack` (reference §11) and
//! `skynet.core`, `skynet.stm`, `skynet.multicast.core`, `skynet.memory`,
//! `skynet.debugchannel` (§12.1), driven by the Lua services `tests/lua/pack_*.lua` and
//! `tests/lua/core_c_*.lua` on our whole tree.

mod common;

use std::time::Duration;

use common::*;

/// Guards against hangs only; each test normally ends in a few seconds.
const LIMIT: Duration = Duration::from_secs(60);

fn single(name: &str) -> Output {
    lua_test(name, "", Layout::Single, "", LIMIT)
}

/// The first output line containing every needle, or a failure showing all the output.
fn line_with<'a>(out: &'a Output, needles: &[&str]) -> &'a str {
    out.lines()
        .into_iter()
        .find(|l| needles.iter().all(|n| l.contains(n)))
        .unwrap_or_else(|| panic!("no line with {needles:?}\n\n{out}"))
}

#[test]
fn pack_bytes() {
    // Hand-derived encodings of every type, integer width, string length class, table shape.
    single("pack_bytes");
}

#[test]
fn pack_roundtrip() {
    // Every supported value survives pack/unpack, by pointer and by string.
    single("pack_roundtrip");
}

#[test]
fn pack_errors() {
    // Unsupported types, depth, truncated and corrupt streams raise Lua errors; no leak.
    single("pack_errors");
}

#[test]
fn core_c_api() {
    for layout in LAYOUTS {
        let out = lua_test("core_c_api", "", layout, "", LIMIT);
        // skynet.error joins its arguments with spaces; no argument prints nil
        line_with(&out, &["core_c_api 42 nil true"]);
        assert!(out.lines().iter().any(|l| l.ends_with("] nil")), "c.error() should log nil\n\n{out}");
        // trace lines: tag, a nanosecond stamp, the text, then the requested source lines
        let plain = line_with(&out, &["<TRACE core_c_tag>", " plain"]);
        let stamp = plain.split("<TRACE core_c_tag> ").nth(1).and_then(|r| r.split(' ').next()).unwrap_or("");
        assert!(!stamp.is_empty() && stamp.chars().all(|c| c.is_ascii_digit()), "trace stamp in {plain:?}");
        line_with(&out, &["<TRACE core_c_tag>", " located : @", "core_c_api.lua:"]);
        line_with(&out, &["<TRACE core_c_tag>", " in a coroutine : @", "core_c_api.lua:"]);
        // a failing callback is logged with its traceback, and the service lives on
        line_with(&out, &["lua call [", "error : ", "rawcb deliberate error"]);
        line_with(&out, &["lua call [", "core_c_api dispatch failure: boom"]);
        assert!(out.contains("stack traceback:"), "no traceback logged\n\n{out}");
    }
}

#[test]
fn core_c_stm() {
    // Writer, local and remote readers, updates, the writer's release, argument checks.
    single("core_c_stm");
}

#[test]
fn core_c_multicast() {
    // multicast.core packages directly, then channels through multicastd.
    for layout in LAYOUTS {
        lua_test("core_c_multicast", "", layout, "", LIMIT);
    }
}

#[test]
fn core_c_misc() {
    // skynet.memory's functions and skynet.debugchannel's channel and hook.
    let out = single("core_c_misc");
    line_with(&out, &["dump all service mem"]);
}
