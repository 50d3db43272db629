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
        self.reply()
    }

    /// Reads the output of a command sent earlier, up to `<CMD OK>` / `<CMD Error>`.
    fn reply(&mut self) -> Reply {
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

    /// `run`, asserting failure with a line containing `message`.
    fn fails(&mut self, cmd: &str, message: &str) -> Reply {
        let reply = self.run(cmd);
        assert!(!reply.ok && reply.has(message), "{cmd:?} must fail with {message:?}:\n{}", reply.text());
        reply
    }

    /// Sends a line without waiting for its output.
    fn send(&mut self, line: &str) {
        self.writer.write_all(format!("{line}\r\n").as_bytes()).expect("write to the debug console");
    }

    /// In a remote debug session: the lines printed before the next prompt (a last line
    /// without newline, ending with `>`), and that prompt.
    fn prompt(&mut self) -> (Vec<String>, String) {
        let mut text = Vec::new();
        loop {
            let mut byte = [0u8];
            self.reader.read_exact(&mut byte).expect("read from the debug session");
            text.push(byte[0]);
            if byte[0] == b'>' {
                let s = String::from_utf8_lossy(&text).into_owned();
                let (lines, last) = match s.rfind('\n') {
                    Some(at) => (s[..at].lines().map(str::to_string).collect(), s[at + 1..].to_string()),
                    None => (Vec::new(), s.clone()),
                };
                if is_prompt(&last) {
                    return (lines, last);
                }
            }
        }
    }

    /// Sends a line to the remote debugger and returns what it printed, asserting that the
    /// prompt that follows ends with `prompt`.
    fn debug(&mut self, line: &str, prompt: &str) -> Vec<String> {
        self.send(line);
        let (lines, got) = self.prompt();
        assert!(got.ends_with(prompt), "prompt after {line:?}: {got:?}, not {prompt:?} (output {lines:?})");
        lines
    }
}

/// A remote debugger prompt: `:0000000a>` or `file(line)>`.
fn is_prompt(s: &str) -> bool {
    let Some(body) = s.strip_suffix('>') else { return false };
    let service = body.len() == 9 && body.starts_with(':') && body[1..].chars().all(|c| c.is_ascii_hexdigit());
    let line = body
        .strip_suffix(')')
        .and_then(|b| b.rsplit_once('('))
        .is_some_and(|(_, n)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    service || line
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

/// Starts a node running tests/lua/console_more.lua: a unique console_worker and a debug
/// console on a free port. Returns the node, the port and the worker's address.
fn more_node(extra: &str) -> (RunningNode, u16, String) {
    let port = free_port();
    let mut node = start_node(&lua_config(&format!("console_more {port}"), Layout::Single, extra));
    let line = node.wait_for_line("console_more worker=", LIMIT);
    let worker = address_after(&line, "worker=");
    assert!(worker.starts_with(':') && worker.len() == 9, "bad worker address {worker:?}");
    (node, port, worker)
}

/// The 1-based number of the line of tests/lua/console_worker.lua containing `needle`.
fn worker_line(needle: &str) -> usize {
    let path = root().join("tests").join("lua").join("console_worker.lua");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    1 + text.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("no {needle:?} in {}", path.display()))
}

/// help, service, start (of a service that exits at once, dbg), log, setenv, clearcache,
/// dbgcmd, and the commands whose subsystem this build lacks (snax, shrtbl).
#[test]
fn debug_console_services() {
    let logdir = tempfile::tempdir().expect("temp dir");
    let logpath = logdir.path().display().to_string();
    let (mut node, port, worker) = more_node(&format!("logpath = {}", lua_str(&logpath)));
    let mut c = Console::connect(port);

    let help = c.ok("help");
    for cmd in [
        "help", "list", "stat", "info", "exit", "kill", "mem", "gc", "start", "snax", "clearcache", "service", "task",
        "uniqtask", "inject", "logon", "logoff", "log", "debug", "signal", "cmem", "jmem", "ping", "call", "trace",
        "netstat", "profactive", "dumpheap", "killtask", "dbgcmd", "getenv", "setenv", "shrtbl",
    ] {
        assert!(help.lines.iter().any(|l| l.starts_with(&format!("{cmd}\t"))), "help lacks {cmd}:\n{}", help.text());
    }

    let service = c.ok("service");
    assert_eq!(service.lines, [format!("console_worker\t{worker}")], "service");

    // dbg prints the launcher's list on the node's stdout and exits in its start function.
    let dbg = c.ok("start dbg LIST");
    assert_eq!(dbg.lines, ["Exit"], "start of a service that exits at once");
    node.wait_for_line(&format!("{worker}\tsnlua console_worker"), LIMIT);

    // log: a service launched with its messages logged to logpath/<handle>.log
    let logged = c.ok("log console_target");
    let addr = logged.lines.first().and_then(|l| l.strip_suffix("\tconsole_target")).unwrap_or_default().to_string();
    assert!(addr.starts_with(':') && addr.len() == 9, "log:\n{}", logged.text());
    let call = c.ok(&format!("call {addr} \"ping\""));
    assert_eq!(call.lines, ["1\tping", "n\t1"], "the logged service answers");
    c.ok(&format!("logoff {addr}"));
    let file = logdir.path().join(format!("{}.log", &addr[1..]));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert!(text.contains("open time") && text.contains("close time"), "{}:\n{text}", file.display());

    c.ok("setenv console_key 42");
    assert_eq!(c.ok("getenv console_key").lines, ["console_key\t42"]);
    c.fails("setenv console_key 43", "Can't setenv exist key : console_key");
    c.fails("setenv other_key", "Need a name and a value");

    c.ok("clearcache");

    assert_eq!(c.ok(&format!("dbgcmd {worker} SUPPORT lua")).lines, ["true"]);
    assert_eq!(c.ok(&format!("dbgcmd {worker} SUPPORT nosuch")).lines, ["false"]);
    assert!(c.ok(&format!("dbgcmd {worker} PING")).lines.is_empty());
    c.fails(&format!("dbgcmd {worker}"), "Need a debug command");

    c.fails("snax pingserver", "snax is not available in this skynet build");
    c.fails("shrtbl", "the shared short string table (shrtbl) is not available in this skynet build");
    node.kill();
}

/// cmem, jmem (jemalloc is the default allocator), and the heap profiler commands, which
/// this build's jemalloc does not support.
#[test]
fn debug_console_memory() {
    let (mut node, port, worker) = more_node("");
    let mut c = Console::connect(port);

    let cmem = c.ok("cmem");
    let number_after = |key: &str| {
        cmem.lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("{key}\t")))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("cmem has no {key}:\n{}", cmem.text()))
    };
    assert!(number_after(&worker) > 0 && number_after("total") >= number_after(&worker), "cmem:\n{}", cmem.text());
    assert!(number_after("block") > 0, "cmem:\n{}", cmem.text());

    let jmem = c.ok("jmem");
    for key in ["stats.active", "stats.allocated", "stats.mapped", "stats.resident", "stats.retained"] {
        assert!(
            jmem.lines.iter().any(|l| l.starts_with(&format!("{key}\t")) && l.ends_with(" Mb")),
            "jmem lacks {key}:\n{}",
            jmem.text()
        );
    }

    assert_eq!(c.ok("profactive").lines, ["heap profilling is deactive"]);
    assert_eq!(
        c.ok("profactive on").lines,
        ["heap profilling is deactive", "jemalloc heap profiling is not enabled in this skynet build"]
    );
    assert_eq!(c.ok("profactive off").lines, ["heap profilling is deactive"]);
    c.fails("dumpheap", "heap profiling is not active, nothing dumped (try profactive on)");
    node.kill();
}

/// task, uniqtask, killtask and trace on console_worker's three parked coroutines.
#[test]
fn debug_console_tasks() {
    let (mut node, port, worker) = more_node("");
    let mut c = Console::connect(port);
    let threads = |reply: &Reply| -> Vec<String> {
        reply.lines.iter().filter(|l| l.starts_with("thread: ")).cloned().collect()
    };

    let task = c.ok(&format!("task {worker}"));
    let parked = threads(&task);
    assert_eq!(parked.len(), 3, "task:\n{}", task.text());
    assert!(task.has("console_worker.lua"), "task shows where they wait:\n{}", task.text());

    let uniq = c.ok(&format!("uniqtask {worker}"));
    assert!(
        uniq.lines.iter().any(|l| l.starts_with("3\tsessions:[") && l.matches(',').count() == 2),
        "uniqtask groups the three:\n{}",
        uniq.text()
    );
    assert!(uniq.has("console_worker.lua"), "uniqtask:\n{}", uniq.text());

    // "thread: 0x... session: N\tstack traceback:"
    let first = parked[0].split('\t').next().unwrap_or_default();
    let name = first.split_whitespace().nth(1).unwrap_or_default().to_string();
    let session = first.rsplit(' ').next().unwrap_or_default().to_string();
    assert!(name.starts_with("0x") && session.parse::<u32>().is_ok(), "bad task line {first:?}");
    let one = c.ok(&format!("task {worker} {session}"));
    assert!(one.has("stack traceback:") && one.has("console_worker.lua"), "task of one session:\n{}", one.text());

    assert!(c.ok(&format!("killtask {worker} {name}")).lines.is_empty(), "killtask prints nothing on success");
    node.wait_for_line(&format!("[{worker}] Kill thread: {name}"), LIMIT);
    let task = c.ok(&format!("task {worker}"));
    assert_eq!(threads(&task).len(), 2, "task after killtask:\n{}", task.text());
    assert!(!task.has(&name), "the killed coroutine is gone:\n{}", task.text());
    assert!(c.ok(&format!("uniqtask {worker}")).has("2\tsessions:["), "uniqtask after killtask");
    assert_eq!(c.ok(&format!("killtask {worker} nosuchthread")).lines, ["Not found"]);
    node.wait_for_line(&format!("[{worker}] Kill nosuchthread : Not found"), LIMIT);

    c.ok(&format!("trace {worker} on"));
    node.wait_for_line(&format!("[{worker}] Turn trace log true for lua"), LIMIT);
    assert_eq!(c.ok(&format!("call {worker} \"add\", 1, 2")).lines, ["1\t3", "n\t1"]);
    let traced = node.wait_for_line(&format!("[{worker}] <TRACE {worker}-"), LIMIT);
    assert!(traced.ends_with(" trace"), "the traced request starts with a trace line: {traced:?}");
    c.ok(&format!("trace {worker} lua off"));
    node.wait_for_line(&format!("[{worker}] Turn trace log false for lua"), LIMIT);
    c.ok(&format!("trace {worker}"));
    node.wait_for_line(&format!("[{worker}] Turn trace log nil for lua"), LIMIT);
    let bad = c.run(&format!("trace {worker} nosuchproto on"));
    assert!(!bad.ok, "trace of an unknown protocol must fail:\n{}", bad.text());
    node.kill();
}

/// debug: the remote debugger, stepping through a request another connection made.
#[test]
fn debug_console_remote_debug() {
    let (mut node, port, worker) = more_node("");
    let dispatch_line = worker_line("local f = assert(CMD[cmd], cmd)");
    let ret_line = worker_line("skynet.ret(skynet.pack(f(...)))");
    let sum_line = worker_line("local sum = a + b");
    let return_line = worker_line("return sum");
    let top = format!("{worker}>");
    let at = |n: usize| format!("console_worker.lua({n})>");

    let mut c = Console::connect(port);
    let mut caller = Console::connect(port);

    c.send(&format!("debug {worker}"));
    let (lines, prompt) = c.prompt();
    assert!(lines.is_empty() && prompt == top, "attach: {lines:?} then {prompt:?}");
    node.wait_for_line(&format!("[{worker}] Enter debug mode"), LIMIT);
    assert_eq!(c.debug("1 + 2", &top), ["3"]);
    assert!(c.debug("debug_probe = 6 * 7", &top).is_empty());
    assert_eq!(c.debug("debug_probe", &top), ["42"]);
    assert_eq!(c.debug("print('a', 1)", &top), ["a\t1"]);
    assert!(c.debug("error('boom')", &top).iter().any(|l| l.contains("boom")), "an error is shown");

    // A second debugger cannot attach; that console goes on working.
    caller.fails(&format!("debug {worker}"), "Debugger attach failed");

    // watch: the next lua request stops at its first line; s steps into calls, a line
    // runs inside the stopped function (here changing a local), c lets it run on.
    c.debug("watch('lua')", &top);
    caller.send(&format!("call {worker} \"add\", 2, 3"));
    let (_, prompt) = c.prompt();
    assert!(prompt.ends_with(&at(dispatch_line)), "stopped at {prompt:?}");
    assert_eq!(c.debug("cmd", &at(dispatch_line)), ["add"]);
    c.debug("s", &at(ret_line));
    c.debug("s", &at(sum_line));
    assert_eq!(c.debug("a", &at(sum_line)), ["2"]);
    c.debug("a = 10", &at(sum_line));
    c.debug("s", &at(return_line));
    assert_eq!(c.debug("sum", &at(return_line)), ["13"]);
    c.debug("c", &top);
    let reply = caller.reply();
    assert!(reply.ok, "the call of a debugged request:\n{}", reply.text());
    assert_eq!(reply.lines, ["1\t13", "n\t1"], "the debugger changed the request's result");

    // n steps over calls; a watch condition picks the request.
    c.debug("watch('lua', function(_, _, cmd) return cmd == 'add' end)", &top);
    caller.send(&format!("call {worker} \"add\", 4, 5"));
    let (_, prompt) = c.prompt();
    assert!(prompt.ends_with(&at(dispatch_line)), "stopped at {prompt:?}");
    c.debug("n", &at(ret_line));
    c.debug("c", &top);
    assert_eq!(caller.reply().lines, ["1\t9", "n\t1"]);

    c.send("cont");
    assert_eq!(c.line(), "<CMD OK>");
    node.wait_for_line(&format!("[{worker}] Leave debug mode"), LIMIT);
    c.ok(&format!("ping {worker}"));

    // A console that goes away in the middle of a session lets the stopped request go on.
    c.send(&format!("debug {worker}"));
    assert_eq!(c.prompt().1, top);
    c.debug("watch('lua')", &top);
    caller.send(&format!("call {worker} \"add\", 20, 22"));
    let (_, prompt) = c.prompt();
    assert!(prompt.ends_with(&at(dispatch_line)), "stopped at {prompt:?}");
    drop(c);
    assert_eq!(caller.reply().lines, ["1\t42", "n\t1"]);
    node.wait_for_line(&format!("[{worker}] Leave debug mode"), LIMIT);

    caller.fails("debug", "Need an address");
    caller.fails("debug :00ffffff", "call to invalid address :00ffffff");
    let get = one_shot(port, &format!("GET /debug/{} HTTP/1.1\r\n\r\n", &worker[1..]));
    assert!(get.contains("debug needs an interactive connection") && get.contains("<CMD Error>"), "GET /debug:\n{get}");

    // The debugged service exits in the middle of a session: the session ends with an error.
    let mut c = Console::connect(port);
    c.send(&format!("debug {worker}"));
    assert_eq!(c.prompt().1, top);
    c.debug("watch('lua')", &top);
    caller.send(&format!("call {worker} \"add\", 1, 1"));
    let (_, prompt) = c.prompt();
    assert!(prompt.ends_with(&at(dispatch_line)), "stopped at {prompt:?}");
    Console::connect(port).ok(&format!("exit {worker}"));
    let ended = c.reply();
    assert!(!ended.ok && ended.has(&format!("Debug session ended: {worker} exited")), "{}", ended.text());
    assert!(!caller.reply().ok, "the stopped request fails when its service exits");
    assert!(!c.ok("list").has(&worker), "the console goes on working");
    node.kill();
}

/// service/console.lua: each line typed on the node's stdin launches a service.
#[test]
fn stdin_console() {
    let mut node = start_node_piped(&lua_config("console_stdin", Layout::Single, ""));
    let mut stdin = node.take_stdin().expect("piped stdin");
    node.wait_for_line("console_stdin ready", LIMIT);
    stdin.write_all(b"console_target one two\n\n  \n").expect("write to the node's stdin");
    node.wait_for_line("LAUNCH snlua console_target one two", LIMIT);
    stdin.write_all(b"nosuch_service\n").expect("write to the node's stdin");
    node.wait_for_line("console: nosuch_service: ", LIMIT);
    stdin.write_all(b"snax pingserver\n").expect("write to the node's stdin");
    node.wait_for_line("console: snax is not available in this skynet build", LIMIT);
    stdin.write_all(b"console_target three\n").expect("write to the node's stdin");
    node.wait_for_line("LAUNCH snlua console_target three", LIMIT);
    node.kill();
}

/// service/console.lua with stdin on /dev/null (as under a service manager) says so.
#[test]
fn stdin_console_without_terminal() {
    let mut node = start_node(&lua_config("console_stdin", Layout::Single, ""));
    node.wait_for_line("console: stdin is not a pipe or terminal, console disabled", LIMIT);
    node.kill();
}

#[test]
fn multicast_single_node() {
    for layout in LAYOUTS {
        lua_test("multicast_basic", "", layout, "", LIMIT);
    }
}
