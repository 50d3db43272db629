//! The debug console (service/debug_console.lua), driven over TCP as a user would with
//! telnet or curl, and the multicast library on one node.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;

/// Guards against hangs only.
const LIMIT: Duration = Duration::from_secs(60);

/// A line-mode connection to a debug console.
struct Console {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

/// What one command printed, and whether it ended with `<CMD OK>`.
struct Reply {
    lines: Vec<String>,
    ok: bool,
}

impl Reply {
    fn text(&self) -> String {
        self.lines.join("\n")
    }

    fn has(&self, needle: &str) -> bool {
        self.lines.iter().any(|l| l.contains(needle))
    }
}

impl Console {
    fn connect(port: u16) -> Console {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the debug console");
        stream.set_read_timeout(Some(LIMIT)).expect("set_read_timeout");
        let writer = stream.try_clone().expect("clone the stream");
        let mut console = Console { reader: BufReader::new(stream), writer };
        assert_eq!(console.line(), "Welcome to skynet console");
        console
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).expect("read from the debug console");
        assert!(n > 0, "the debug console closed the connection");
        line.trim_end_matches('\n').to_string()
    }

    /// Sends one command line and reads its output up to `<CMD OK>` / `<CMD Error>`.
    fn run(&mut self, cmd: &str) -> Reply {
        self.writer.write_all(format!("{cmd}\r\n").as_bytes()).expect("write to the debug console");
        let mut lines = Vec::new();
        loop {
            let line = self.line();
            match line.as_str() {
                "<CMD OK>" => return Reply { lines, ok: true },
                "<CMD Error>" => return Reply { lines, ok: false },
                _ => lines.push(line),
            }
        }
    }

    /// `run`, asserting success.
    fn ok(&mut self, cmd: &str) -> Reply {
        let reply = self.run(cmd);
        assert!(reply.ok, "{cmd:?} failed:\n{}", reply.text());
        reply
    }
}

/// Sends a raw request on a fresh connection and returns everything until the console
/// closes it.
fn one_shot(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the debug console");
    stream.set_read_timeout(Some(LIMIT)).expect("set_read_timeout");
    stream.write_all(request.as_bytes()).expect("send the request");
    let mut out = String::new();
    stream.read_to_string(&mut out).expect("read the reply");
    out
}

/// The address printed after `key=` in `line`.
fn address_after(line: &str, key: &str) -> String {
    let at = line.find(key).unwrap_or_else(|| panic!("no {key} in {line:?}")) + key.len();
    line[at..].split_whitespace().next().unwrap_or_default().to_string()
}

#[test]
fn debug_console_commands() {
    let port = free_port();
    let node_dir = tempfile::tempdir().expect("temp dir");
    let logpath = node_dir.path().display().to_string();
    let config =
        lua_config(&format!("console_node {port}"), Layout::Single, &format!("logpath = {}", lua_str(&logpath)));
    let mut node = start_node(&config);
    let line = node.wait_for_line("console_node target=", LIMIT);
    let target = address_after(&line, "target=");
    assert!(target.starts_with(':') && target.len() == 9, "bad target address {target:?}");

    let mut c = Console::connect(port);

    let help = c.ok("help");
    for cmd in ["list", "stat", "mem", "gc", "kill", "exit", "inject", "call", "ping", "netstat", "logon", "signal"] {
        assert!(help.lines.iter().any(|l| l.starts_with(&format!("{cmd}\t"))), "help lacks {cmd}:\n{}", help.text());
    }

    let list = c.ok("list");
    assert!(list.has(&format!("{target}\tsnlua console_target")), "list:\n{}", list.text());
    assert!(list.has("snlua debug_console"), "list:\n{}", list.text());

    let mem = c.ok("mem");
    assert!(mem.lines.iter().any(|l| l.starts_with(&target) && l.contains("Kb")), "mem:\n{}", mem.text());
    let gc = c.ok("gc");
    assert!(gc.has(&target), "gc:\n{}", gc.text());
    let stat = c.ok("stat");
    assert!(stat.lines.iter().any(|l| l.starts_with(&target) && l.contains("message:")), "stat:\n{}", stat.text());

    let info = c.ok(&format!("info {target}"));
    assert!(info.has("console_target info 0"), "info:\n{}", info.text());
    let ping = c.ok(&format!("ping {target}"));
    assert!(ping.lines.len() == 1 && ping.lines[0].parse::<u64>().is_ok(), "ping:\n{}", ping.text());

    let call = c.ok(&format!("call {target} \"echo\", 1, \"x\""));
    assert_eq!(call.lines, ["1\techo", "2\t1", "3\tx", "n\t3"], "call output");
    let info = c.ok(&format!("info {target}"));
    assert!(info.has("console_target info 1"), "the call reached the target:\n{}", info.text());
    let bad = c.run(&format!("call {target} )"));
    assert!(!bad.ok, "a call with bad arguments must fail:\n{}", bad.text());

    let script = node_dir.path().join("inject_me.lua");
    std::fs::write(&script, "print(\"injected\", 6 * 7)\n").expect("write the inject script");
    let inject = c.ok(&format!("inject {target} {}", script.display()));
    assert!(inject.has("injected\t42"), "inject:\n{}", inject.text());
    let missing = c.ok(&format!("inject {target} {}/nope.lua", logpath));
    assert!(missing.has("Can't open"), "inject of a missing file:\n{}", missing.text());

    c.ok(&format!("task {target}"));
    let netstat = c.ok("netstat");
    assert!(
        netstat.lines.iter().any(|l| l.contains("type:LISTEN") && l.contains(&format!("127.0.0.1:{port}"))),
        "netstat shows the console's listen socket:\n{}",
        netstat.text()
    );

    c.ok(&format!("signal {target} 1"));
    node.wait_for_line(&format!("[{target}] recv a signal 1"), LIMIT);

    c.ok(&format!("logon {target}"));
    c.ok(&format!("call {target} \"logged\""));
    c.ok(&format!("logoff {target}"));
    let log = std::path::Path::new(&logpath).join(format!("{}.log", &target[1..]));
    let logged = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    assert!(logged.contains("open time") && logged.contains("close time"), "{}:\n{logged}", log.display());

    let env = c.ok("getenv thread");
    assert_eq!(env.lines, ["thread\t4"]);

    // start, then kill: kill answers once the launcher has dropped the service.
    let started = c.ok("start console_target");
    let other = started.lines.first().and_then(|l| l.split('\t').next()).unwrap_or_default().to_string();
    assert!(started.has("console_target") && other.starts_with(':'), "start:\n{}", started.text());
    assert!(c.ok("list").has(&other), "the started service is listed");
    let killed = c.ok(&format!("kill {other}"));
    assert!(killed.has(&other), "kill:\n{}", killed.text());
    assert!(!c.ok("list").has(&other), "a killed service is not listed");

    // exit, then ping: the ping queues behind EXIT, so it reaches a dead service.
    c.ok(&format!("exit {target}"));
    let dead = c.run(&format!("ping {target}"));
    assert!(!dead.ok, "ping of an exited service must fail:\n{}", dead.text());
    assert!(!c.ok("list").has(&target), "an exited service is not listed");

    let invalid = c.run("nosuchcommand");
    assert!(!invalid.ok && invalid.has("Invalid command"), "unknown command:\n{}", invalid.text());
    let noaddr = c.run("ping");
    assert!(!noaddr.ok && noaddr.has("Need an address"), "missing address:\n{}", noaddr.text());
    drop(c);

    let get = one_shot(port, "GET /list HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert!(get.contains("snlua debug_console") && get.contains("<CMD OK>"), "GET /list:\n{get}");
    let get = one_shot(port, "GET /getenv/thread HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert!(get.contains("thread\t4\n<CMD OK>"), "GET /getenv/thread:\n{get}");
    let post = one_shot(port, "POST / HTTP/1.1\r\nContent-Length: 13\r\n\r\ngetenv thread");
    assert!(post.contains("thread\t4\n<CMD OK>"), "POST:\n{post}");

    node.kill();
}

#[test]
fn multicast_single_node() {
    for layout in LAYOUTS {
        lua_test("multicast_basic", "", layout, "", LIMIT);
    }
}
