//! The Lua framework (lualib/skynet.lua and its companions, the boot services), run by
//! the Lua test services `tests/lua/core_*.lua` on a node booted with `snlua bootstrap`.
//! Each prints `TEST <name> PASS` (or `TEST ... FAIL` lines) and aborts the node.

mod common;

use std::time::Duration;

use common::*;

/// Guards against hangs only.
const LIMIT: Duration = Duration::from_secs(60);

/// Runs `tests/lua/<name>.lua` under each layout and returns the outputs.
fn each_layout(name: &str) -> Vec<Output> {
    LAYOUTS.iter().map(|&layout| lua_test(name, "", layout, "", LIMIT)).collect()
}

fn assert_line(out: &Output, needle: &str) {
    assert!(out.contains(needle), "no line containing {needle:?}\n\n{out}");
}

#[test]
fn call_send_ret_response() {
    // call/send/rawcall/rawsend/redirect, ret/retpack/context/ignoreret, response with
    // "TEST" and the double-response error, custom protocols, unknown request/response.
    each_layout("core_call");
}

#[test]
fn error_semantics() {
    // Dead callee, callee exiting mid-call, callee raising, forks raising, held requests
    // of an exiting service, skynet.term, failing newservice.
    for out in each_layout("core_errors") {
        // an error in a dispatch function is logged with its traceback...
        let line = out
            .lines()
            .into_iter()
            .position(|l| l.contains("core_errors boom in dispatch"))
            .unwrap_or_else(|| panic!("the dispatch error was not logged\n\n{out}"));
        assert!(
            out.lines()[line..].iter().take(8).any(|l| l.contains("stack traceback")),
            "the dispatch error has no traceback\n\n{out}"
        );
        // ...and so are errors in forks, which kill neither the request nor the service
        assert_line(&out, "core_errors boom in fork");
        assert_line(&out, "core_errors own fork boom");
        assert_line(&out, "Maybe forgot response session");
        assert_line(&out, "init service failed");
    }
}

#[test]
fn sleep_wakeup_timeout_fork() {
    // sleep/wakeup ("BREAK"), wait, timeout order, fork order and arguments, yield,
    // killthread, task/uniqtask, trace_timeout.
    for out in each_layout("core_sleep") {
        assert!(!out.contains("Unknown session"), "a stray response arrived\n\n{out}");
    }
}

#[test]
fn services_and_launcher() {
    // newservice/uniqueservice/queryservice (local and global), launcher
    // LIST/STAT/MEM/GC/KILL, launch/kill/name/register, monitor, dbg.
    for out in each_layout("core_services") {
        // dbg LIST printed the launcher's list on stdout
        assert!(
            out.stdout.lines().any(|l| l.starts_with(':') && l.contains("snlua core_services")),
            "dbg printed no service list\n\n{out}"
        );
    }
}

#[test]
fn cmemory_prints_memory() {
    for out in each_layout("core_cmemory") {
        assert!(out.stdout.contains("Total memory:"), "cmemory printed no total\n\n{out}");
        assert!(out.stdout.contains("Total block:"), "cmemory printed no block count\n\n{out}");
    }
}

#[test]
fn queue_critical_section() {
    each_layout("core_queue");
}

#[test]
fn skynet_coroutine() {
    each_layout("core_coroutine");
}

#[test]
fn datacenter() {
    each_layout("core_datacenter");
}

#[test]
fn service_new() {
    each_layout("core_service_new");
}

#[test]
fn mqueue() {
    each_layout("core_mqueue");
}

#[test]
fn debug_protocol() {
    // MEM/GC/STAT/TASK/UNIQTASK/INFO/RUN/PING/SUPPORT/TRACELOG/KILLTASK/LINK/EXIT/TERM
    // and reg_debugcmd.
    for out in each_layout("core_debug") {
        assert_line(&out, "Turn trace log true for lua");
    }
}

#[test]
fn require_and_init() {
    each_layout("core_require");
}

#[test]
fn forward_type_and_filter() {
    each_layout("core_manager");
}

#[test]
fn identity_env_time_trace() {
    for out in each_layout("core_basic") {
        assert_line(&out, "Set memory limit to 8.00 M");
        assert_line(&out, "trace core_basic");
        assert_line(&out, "<TRACE core_basic_tag>");
        assert_line(&out, "core_basic error joins 3 values");
    }
}
