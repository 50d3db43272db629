//! The user's skynet tutorial (a Chinese guide, chapters 3-11, 13-15 and 18) as acceptance tests:
//! its example services live in `tests/tutorial/chNN/` as the tutorial prints them (only
//! ports, typos that break them, and hard-coded paths changed; see the comments there).
//!
//! The tutorial launches services by typing their names into the console of a running
//! node. The harness gives nodes no stdin, so each node here runs `debug_console` as its
//! `start` service and the test types `start <service> <args>` into it over TCP, which
//! launches the service the same way (`skynet.newservice`, one command after another).
//! The node runs as the tutorial's `examples/config` does: harbor 1, standalone master.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(90);

/// A node booted for one tutorial scenario.
struct Tut {
    node: RunningNode,
    /// The node's output lines taken so far, and how far `expect` has read them.
    log: Vec<String>,
    cursor: usize,
    console: u16,
    master: String,
}

/// `extra` config lines putting the given dirs first on the service and module paths (so
/// each section's own version of a same-named file wins). A relative dir is under
/// `tests/tutorial/`; an absolute one is a `variant`'s.
fn search_paths(dirs: &[&str]) -> String {
    let list: String = dirs.iter().map(|d| format!("{}..", lua_str(&format!("{}/?.lua;", tutorial_path(d))))).collect();
    format!("luaservice = {list}luaservice\nlua_path = {list}lua_path\n")
}

/// A path under `tests/tutorial/`, or an absolute one as it is.
fn tutorial_path(p: &str) -> String {
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("{}/tests/tutorial/{p}", root().display())
    }
}

/// A section that changes one line of a program: writes `tests/tutorial/<file>` with `from`
/// (which must occur once) replaced by `to` into `target/tutorial/<section>/` and returns
/// that dir, to put first on the search paths or to run the file from.
fn variant(section: &str, file: &str, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(tutorial_path(file)).unwrap_or_else(|e| panic!("read {file}: {e}"));
    assert_eq!(text.matches(from).count(), 1, "{from:?} must occur once in {file}");
    let dir = root().join("target/tutorial").join(section);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    let name = std::path::Path::new(file).file_name().expect("a file name");
    // Another test may read the file now: write aside, then rename into place.
    let tmp = dir.join(format!(".{}.{}", name.to_string_lossy(), std::process::id()));
    std::fs::write(&tmp, text.replace(from, to)).unwrap_or_else(|e| panic!("write {}: {e}", tmp.display()));
    std::fs::rename(&tmp, dir.join(name)).unwrap_or_else(|e| panic!("rename into {}: {e}", dir.display()));
    dir.display().to_string()
}

impl Tut {
    /// Node 1 and the harbor master, as the tutorial's `examples/config`.
    fn boot(dirs: &[&str], extra: &str) -> Tut {
        let master = format!("127.0.0.1:{}", free_port());
        let harbor = format!(
            "harbor = 1\nstandalone = {m}\nmaster = {m}\naddress = {a}\n",
            m = lua_str(&master),
            a = lua_str(&format!("127.0.0.1:{}", free_port()))
        );
        Tut::start(dirs, &format!("{harbor}{extra}"), master)
    }

    /// Node 2 joining `first`'s harbor network, as the tutorial's `config2`.
    fn join(first: &Tut, dirs: &[&str], extra: &str) -> Tut {
        let harbor = format!(
            "harbor = 2\nmaster = {m}\naddress = {a}\n",
            m = lua_str(&first.master),
            a = lua_str(&format!("127.0.0.1:{}", free_port()))
        );
        Tut::start(dirs, &format!("{harbor}{extra}"), first.master.clone())
    }

    fn start(dirs: &[&str], extra: &str, master: String) -> Tut {
        let console = free_port();
        let config = lua_config(
            &format!("debug_console {console}"),
            Layout::Single,
            &format!("{extra}\n{}", search_paths(dirs)),
        );
        let mut t = Tut { node: start_node(&config), log: Vec::new(), cursor: 0, console, master };
        t.expect("Start debug console");
        t
    }

    fn console(&mut self) -> Console {
        let stream = TcpStream::connect(("127.0.0.1", self.console))
            .unwrap_or_else(|e| panic!("can't reach the debug console: {e}\n{}", self.node.output_so_far()));
        stream.set_read_timeout(Some(LIMIT)).expect("set_read_timeout");
        Console { reader: BufReader::new(stream.try_clone().expect("clone")), writer: stream }
    }

    /// Takes the node's next output line into `log`.
    fn pull(&mut self) {
        let line = self.node.wait_for_line("", LIMIT);
        self.log.push(line);
    }

    /// Waits for a line containing `needle` after the last line `expect` returned.
    fn expect(&mut self, needle: &str) -> String {
        loop {
            if let Some(i) = self.log[self.cursor..].iter().position(|l| l.contains(needle)) {
                self.cursor += i + 1;
                return self.log[self.cursor - 1].clone();
            }
            self.pull();
        }
    }

    /// `expect` for a line of the service at `addr`.
    fn expect_from(&mut self, addr: &str, needle: &str) -> String {
        let head = format!("[{addr}] ");
        loop {
            let found = self.log[self.cursor..].iter().position(|l| l.starts_with(&head) && l.contains(needle));
            if let Some(i) = found {
                self.cursor += i + 1;
                return self.log[self.cursor - 1].clone();
            }
            self.pull();
        }
    }

    /// Waits until the service at `addr` has logged `n` messages containing `needle`.
    fn wait_count(&mut self, addr: &str, needle: &str, n: usize) {
        while self.said_by(addr).iter().filter(|m| m.contains(needle)).count() < n {
            self.pull();
        }
    }

    /// Pings each service in turn through the console: everything each one was sent
    /// before its ping (by a service pinged earlier) has been handled once this returns.
    ///
    /// Each service is pinged twice: a first ping can overtake the start message that a
    /// fresh service queues while its main chunk runs; the second one cannot.
    fn settle(&mut self, addrs: &[&str]) {
        let mut c = self.console();
        for a in addrs {
            for _ in 0..2 {
                c.send(&format!("ping {a}"));
                let reply = c.reply();
                assert!(reply.contains("<CMD OK>"), "ping {a}: {reply}");
            }
        }
    }

    /// Waits for each needle, in this order.
    fn expect_all(&mut self, needles: &[&str]) {
        for n in needles {
            self.expect(n);
        }
    }

    /// Messages logged so far (`[:0100000a] text` split into address and text).
    fn messages(&self) -> Vec<(String, String)> {
        self.log
            .iter()
            .filter_map(|l| {
                let rest = l.strip_prefix("[:")?;
                let (addr, text) = rest.split_once("] ")?;
                Some((format!(":{addr}"), text.to_string()))
            })
            .collect()
    }

    /// What the service at `addr` logged so far, in order (but its LAUNCH line).
    fn said_by(&self, addr: &str) -> Vec<String> {
        self.messages().into_iter().filter(|(a, t)| a == addr && !t.starts_with("LAUNCH ")).map(|(_, t)| t).collect()
    }

    /// Waits until the service at `addr` has logged `n` messages; returns all so far.
    fn said(&mut self, addr: &str, n: usize) -> Vec<String> {
        loop {
            let said = self.said_by(addr);
            if said.len() >= n {
                return said;
            }
            self.pull();
        }
    }

    /// Asserts that the service at `addr` logged exactly `want` (waiting for that many).
    fn assert_said<S: AsRef<str>>(&mut self, addr: &str, want: &[S]) {
        let said = self.said(addr, want.len());
        let want: Vec<&str> = want.iter().map(AsRef::as_ref).collect();
        assert_eq!(said, want, "messages of {addr}\n{}", self.node.output_so_far());
    }

    /// Reads `n` bytes from `s`; on failure shows what the node printed.
    fn read(&self, s: &mut TcpStream, n: usize) -> String {
        let mut buf = vec![0; n];
        if let Err(e) = s.read_exact(&mut buf) {
            panic!("reading {n} bytes: {e}\n{}", self.node.output_so_far());
        }
        String::from_utf8_lossy(&buf).into_owned()
    }

    fn assert_no_error(&self) {
        let out = self.node.output_so_far();
        assert!(!out.contains("stack traceback"), "an error was logged\n{out}");
    }
}

/// One session of the debug console: each `start` launches a service as the tutorial's
/// console does.
struct Console {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Console {
    /// Types the command without waiting for it to finish (the service may block).
    fn send(&mut self, line: &str) {
        self.writer.write_all(format!("{line}\n").as_bytes()).expect("write to the console");
    }

    /// Reads the console's answer up to its `<CMD OK>`/`<CMD Error>` line.
    fn reply(&mut self) -> String {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).unwrap_or_else(|e| panic!("console read: {e}\n{text}"));
            assert!(n > 0, "the console closed\n{text}");
            text.push_str(&line);
            if line.starts_with("<CMD OK>") || line.starts_with("<CMD Error>") {
                return text;
            }
        }
    }

    /// `start <cmd>`; returns the new service's address (None if it exited in `start`).
    fn start(&mut self, cmd: &str) -> Option<String> {
        self.send(&format!("start {cmd}"));
        let reply = self.reply();
        assert!(reply.contains("<CMD OK>"), "start {cmd} failed:\n{reply}");
        let addr = reply.split_whitespace().find(|w| w.starts_with(':')).map(str::to_string);
        if addr.is_none() {
            assert!(reply.contains("Exit"), "start {cmd}: unexpected reply\n{reply}");
        }
        addr
    }

    /// `start <cmd>` for a service expected to stay up; its address.
    fn launch(&mut self, cmd: &str) -> String {
        self.start(cmd).unwrap_or_else(|| panic!("{cmd} exited during start"))
    }
}

/// The address at the start of a logged line `[:0100000a] ...`.
fn addr_of(line: &str) -> String {
    let rest = line.strip_prefix("[").unwrap_or_else(|| panic!("not a log line: {line}"));
    rest.split(']').next().unwrap_or_default().to_string()
}

/// The last word of a line.
fn last_word(line: &str) -> String {
    line.split_whitespace().last().unwrap_or_default().to_string()
}

fn client(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("connect to {port}: {e}"));
    s.set_read_timeout(Some(LIMIT)).expect("set_read_timeout");
    s
}

/// Reads until the peer closes; returns everything read.
fn read_to_end(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap_or_else(|e| panic!("reading to the end: {e}"));
    String::from_utf8_lossy(&buf).into_owned()
}

/// `data` behind the two-byte big-endian length gateserver expects (tutorial 13.2.1).
fn framed(data: &str) -> Vec<u8> {
    let mut out = (data.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(data.as_bytes());
    out
}

fn port_config(port: u16) -> String {
    format!("tutorial_port = {port}\n")
}

// ---- chapter 3: basic API ----

#[test]
fn ch03_basic_api() {
    let mut t = Tut::boot(&["ch03"], "myname = \"Dmaker\"\nmyage = 20\n");
    let mut c = t.console();
    c.launch("test");
    t.expect("] Server First Test");

    // 3.3: testenv sets new variables and exits in start; test2 reads them
    assert_eq!(c.start("testenv"), None, "testenv calls skynet.exit in start");
    t.expect_all(&["] My name is Dmaker , 20 years old.", "] My new name is coder , 21 years old soon."]);
    c.launch("test2");
    t.expect("] My new name is coder , 21 years old soon.");

    // 3.4: init runs before start whatever the order in the file
    let addr = c.launch("testinit");
    t.expect("] service start");
    t.assert_said(&addr, &["service init", "service start"]);
    t.assert_no_error();
}

// ---- chapter 4: service types ----

#[test]
fn ch04_newservice() {
    let mut t = Tut::boot(&["ch04"], "");
    let mut c = t.console();
    let a = c.launch("testnewservice");
    t.assert_said(&a, &["My new service", "new test service"]);
    t.expect("] Server First Test");

    let a = c.launch("testnewservice2");
    t.assert_said(&a, &["My new service", "new test service 0", "new test service 1"]);
    let tests = t.messages().into_iter().filter(|(_, m)| m == "Server First Test").count();
    assert_eq!(tests, 3, "three test services\n{}", t.node.output_so_far());

    // console arguments arrive as strings
    let a = c.launch("testargs arg1 false 3");
    t.assert_said(&a, &["arg1 string", "false string", "3 string"]);
    t.assert_no_error();
}

#[test]
fn ch04_uniqueservice_and_queryservice() {
    let mut t = Tut::boot(&["ch04"], "");
    let mut c = t.console();
    // 4.2.2 first half: queryservice blocks until someone creates the service
    let mut waiting = t.console();
    waiting.send("start testqueryservice");
    let query = addr_of(&t.expect("] start query service"));

    let first = c.launch("testunique");
    let unique = last_word(&t.said(&first, 2)[1]);
    t.assert_said(&query, &["start query service", format!("end query service handler: {unique}").as_str()]);
    assert!(waiting.reply().contains("<CMD OK>"));

    let second = c.launch("testunique");
    t.assert_said(&second, &["test unique service", format!("uniqueservice handler: {unique}").as_str()]);
    let q = c.launch("testqueryservice");
    t.assert_said(&q, &["start query service", format!("end query service handler: {unique}").as_str()]);
    assert_eq!(t.said_by(&unique), ["Server First Test"], "one instance only");
    t.assert_no_error();
}

#[test]
fn ch04_global_unique_across_nodes() {
    let mut n1 = Tut::boot(&["ch04"], "");
    let mut n2 = Tut::join(&n1, &["ch04"], "");
    let mut c1 = n1.console();
    let mut c2 = n2.console();

    c1.launch("testunique true uniqueservice");
    let global = last_word(&n1.expect("] uniqueservice handler:"));
    assert!(global.starts_with(":01"), "created on node 1: {global}");

    // 4.3.2: node 2 finds node 1's service
    let q = c2.launch("testqueryservice true uniqueservice");
    n2.assert_said(&q, &["start query service", format!("end query service handler: {global}").as_str()]);

    // 4.3.3: a node-local one of the same script is another service; the global one is shared
    let local = c2.launch("testunique uniqueservice");
    let local_unique = last_word(&n2.said(&local, 2)[1]);
    assert!(local_unique.starts_with(":02") && local_unique != global, "{local_unique}");
    let again = c2.launch("testunique true uniqueservice");
    assert_eq!(n2.said(&again, 2)[1], format!("uniqueservice handler: {global}"));
    n1.assert_no_error();
    n2.assert_no_error();
}

// ---- chapter 5: aliases ----

#[test]
fn ch05_local_and_global_alias() {
    let mut t = Tut::boot(&["ch05"], "");
    let mut c = t.console();
    let a = c.launch("testalias");
    let test = addr_of(&t.expect("] My new service"));
    t.assert_said(
        &a,
        &[
            format!("localname .testalias handle {test}"),
            "localname testalias handle nil".to_string(),
            format!("queryname .testalias handle {test}"),
            format!("queryname testalias handle {test}"),
        ],
    );
    t.assert_no_error();
}

#[test]
fn ch05_global_alias_query_blocks() {
    let mut t = Tut::boot(&["ch05/s532", "ch05"], "");
    let mut blocked = t.console();
    blocked.send("start testalias");
    t.expect_all(&[
        "] localname .testalias handle nil",
        "] localname testalias handle nil",
        "] queryname .testalias handle nil",
    ]);
    // the global query returns once some service takes the name
    let mut c = t.console();
    c.launch("testaliasname");
    let test = addr_of(&t.expect("] My new service"));
    t.expect(&format!("] queryname testalias handle {test}"));
    assert!(blocked.reply().contains("<CMD OK>"));
    t.assert_no_error();
}

#[test]
fn ch05_global_alias_across_nodes() {
    let mut n1 = Tut::boot(&["ch05"], "");
    let mut n2 = Tut::join(&n1, &["ch05"], "");
    n1.console().launch("testaliasname");
    let test = addr_of(&n1.expect("] My new service"));
    let q = n2.console().launch("testaliasquery");
    n2.assert_said(
        &q,
        &[
            "localname .testalias handle nil".to_string(),
            "localname testalias handle nil".to_string(),
            "queryname .testalias handle nil".to_string(),
            format!("queryname testalias handle {test}"),
        ],
    );
    n1.assert_no_error();
    n2.assert_no_error();
}

#[test]
fn ch05_kill_aliased_service() {
    let mut t = Tut::boot(&["ch05/s534", "ch05"], "");
    let a = t.console().launch("testalias");
    let test = addr_of(&t.expect("] My new service"));
    t.expect("] queryname testalias handle");
    t.expect("] queryname testalias handle");
    // the local name goes with the service, the global one stays
    assert_eq!(
        t.said_by(&a).into_iter().filter(|m| m.contains("handle")).collect::<Vec<_>>(),
        [
            format!("localname .testalias handle {test}"),
            "localname testalias handle nil".to_string(),
            format!("queryname .testalias handle {test}"),
            format!("queryname testalias handle {test}"),
            "localname .testalias handle nil".to_string(),
            "localname testalias handle nil".to_string(),
            "queryname .testalias handle nil".to_string(),
            format!("queryname testalias handle {test}"),
        ]
    );
    t.assert_no_error();
}

// ---- chapter 6: scheduling ----

#[test]
fn ch06_sleep_blocks_the_console() {
    let mut t = Tut::boot(&["ch06"], "");
    let mut c = t.console();
    c.send("start testsleep");
    t.expect("] begin sleep");
    // typed while testsleep is still in its start function: runs only afterwards
    c.send("start test");
    t.expect("] begin end");
    t.expect("] My new service");
    assert!(c.reply().contains("<CMD OK>") && c.reply().contains("<CMD OK>"));
    t.assert_no_error();
}

#[test]
fn ch06_fork() {
    let mut t = Tut::boot(&["ch06"], "");
    let mut c = t.console();
    let a = c.launch("testfork");
    // start returned before the fork's sleep ends: the console is free again
    c.launch("test");
    t.expect("] My new service");
    let said = t.said(&a, 4);
    assert_eq!(said.len(), 4, "{said:?}");
    assert!(said[0].starts_with("start co: thread: "), "{said:?}");
    assert!(said[1].starts_with("fork co:"), "{said:?}");
    assert_ne!(said[0].split_whitespace().nth(3), said[1].split_whitespace().nth(3), "two coroutines");
    assert_eq!(&said[2..], ["begin sleep", "begin end"]);
    t.assert_no_error();
}

#[test]
fn ch06_busy_task_and_yield() {
    let mut t = Tut::boot(&["ch06"], "");
    let mut c = t.console();
    let busy = c.launch("busytask");
    t.expect("] task2 end task 200000000");
    t.assert_said(
        &busy,
        &["task1 begin task", "task1 end task 200000000", "task2 begin task", "task2 end task 200000000"],
    );
    let y = c.launch("testyield");
    t.expect("] task2 end task 200000000");
    t.assert_said(
        &y,
        &[
            "task1 begin task",
            "task2 begin task",
            "task1 task yield",
            "task2 task yield",
            "task1 task yield",
            "task2 task yield",
            "task1 task yield",
            "task2 task yield",
            "task1 task yield",
            "task1 end task 200000000",
            "task2 task yield",
            "task2 end task 200000000",
        ],
    );
    t.assert_no_error();
}

#[test]
fn ch06_wait_and_wakeup() {
    let mut t = Tut::boot(&["ch06"], "");
    let a = t.console().launch("testwakeup");
    t.expect("] task1 end task");
    // task1 runs until its wait before task2 starts; the woken task1 resumes after task2
    t.assert_said(
        &a,
        &[
            "task1 begin task",
            "task1 wait",
            "task2 begin task",
            "task2 wakeup task1",
            "task2 end task",
            "task1 end task",
        ],
    );
    t.assert_no_error();
}

#[test]
fn ch06_timeouts() {
    let mut t = Tut::boot(&["ch06"], "");
    let a = t.console().launch("testtimeout");
    t.expect("] task thread: ");
    let said = t.said(&a, 2);
    assert!(said.len() == 2 && said[0].starts_with("start thread: "), "{said:?}");

    // 6.6.3: the timeout re-arms itself
    let mut t = Tut::boot(&["ch06/s663", "ch06"], "");
    let a = t.console().launch("testtimeout");
    for _ in 0..3 {
        t.expect("] task thread: ");
    }
    let said = t.said(&a, 4);
    assert!(said.len() >= 4 && said[1..].iter().all(|m| m.starts_with("task thread: ")), "{said:?}");
    t.assert_no_error();
}

#[test]
fn ch06_time() {
    let mut t = Tut::boot(&["ch06"], "");
    let a = t.console().launch("testtime");
    let said = t.said(&a, 4);
    assert_eq!(said.len(), 4, "{said:?}");
    assert_eq!(said[0], "task");
    let num = |m: &str, key: &str| -> f64 {
        let v = m.strip_prefix(key).unwrap_or_else(|| panic!("{m:?} is not {key:?}"));
        v.trim().parse().unwrap_or_else(|e| panic!("{m:?}: {e}"))
    };
    let start = num(&said[1], "start time");
    let time = num(&said[2], "time");
    let now = num(&said[3], "now");
    let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs_f64();
    assert!(start <= wall && start > wall - 600.0, "starttime {start} vs {wall}");
    assert!(time >= start + 2.0 && time <= wall + 1.0, "time {time}");
    assert!(now >= 200.0, "now {now} (2 s slept)");
    assert_eq!(start.fract(), 0.0, "starttime is whole seconds");
}

#[test]
fn ch06_errors() {
    let mut t = Tut::boot(&["ch06"], "");
    let a = t.console().launch("testassert");
    // the failed coroutine ends; the other one and the node go on
    t.wait_count(&a, " end", 1);
    let said = t.said_by(&a);
    assert!(said.iter().any(|m| m.contains("testassert.lua:7: assertion failed!")), "{said:?}");
    let end = said.iter().find(|m| m.ends_with(" end")).expect("an end line");
    assert!(end.starts_with("task2 thread: "), "{end}");

    let mut t = Tut::boot(&["ch06/s68b", "ch06"], "");
    let a = t.console().launch("testassert");
    t.wait_count(&a, " end", 1);
    assert!(!t.node.output_so_far().contains("assertion failed"), "pcall caught it\n{}", t.node.output_so_far());
    t.assert_no_error();
}

// ---- chapter 7: messages between services ----

#[test]
fn ch07_send_rawsend_and_redirect() {
    let mut t = Tut::boot(&["ch07"], "");
    let mut c = t.console();
    let rx = c.launch("testluamsg");
    let tx = c.launch("testsendmsg");
    t.assert_said(&tx, &["skynet.send return value: 0", "skynet.rawsend return value: 0"]);
    t.expect("] arg3: false");
    let first = vec![
        "session 0".to_string(),
        format!("address {tx}"),
        "arg1: 1".into(),
        "arg2: nengzhong".into(),
        "arg3: true".into(),
        "session 0".into(),
        format!("address {tx}"),
        "arg1: 2".into(),
        "arg2: nengzhong".into(),
        "arg3: false".into(),
    ];
    t.assert_said(&rx, &first);

    // 7.14: a message that claims to come from testsendmsg
    c.launch("testredirect .testluamsg .testsendmsg");
    t.expect("] arg3: false");
    let mut all = first;
    all.extend([
        "session 0".to_string(),
        format!("address {tx}"),
        "arg1: nengzhong".into(),
        "arg2: 8.8".into(),
        "arg3: false".into(),
    ]);
    t.assert_said(&rx, &all);
    t.assert_no_error();
}

#[test]
fn ch07_call_without_and_with_response() {
    // 7.4.2: testluamsg never answers, the caller stays blocked in skynet.call
    let mut t = Tut::boot(&["ch07"], "");
    let mut c = t.console();
    let rx = c.launch("testluamsg");
    let mut blocked = t.console();
    blocked.send("start testcallmsg");
    t.expect("] arg3: true");
    let said = t.said(&rx, 5);
    assert_eq!(said[0], "session 2", "{said:?}");
    assert_eq!(&said[2..], ["arg1: 1", "arg2: nengzhong", "arg3: true"]);

    // 7.5: with retpack
    let mut t = Tut::boot(&["ch07/s75", "ch07"], "");
    let mut c = t.console();
    let rx = c.launch("testluamsg");
    let caller = c.launch("testcallmsg");
    t.expect("] skynet.rawcall return value:");
    t.assert_said(&caller, &["skynet.call return value: 100", "skynet.rawcall return value: 100"]);
    t.assert_said(
        &rx,
        &[
            "session 2".to_string(),
            format!("address {caller}"),
            "arg1: 1".into(),
            "arg2: nengzhong".into(),
            "arg3: true".into(),
            "session 3".into(),
            format!("address {caller}"),
            "arg1: 2".into(),
            "arg2: nengzhong".into(),
            "arg3: false".into(),
        ],
    );
    t.assert_no_error();
}

#[test]
fn ch07_mydb() {
    let mut t = Tut::boot(&["ch07"], "");
    let mut c = t.console();
    c.launch("mydb");
    c.launch("testmydb name nengzhong");
    t.expect_all(&["] mydb set Test 0", "] mydb get Test nengzhong"]);
    t.assert_no_error();
}

#[test]
fn ch07_sessions_match_forked_calls() {
    let mut t = Tut::boot(&["ch07"], "");
    let mut c = t.console();
    c.launch("echoluamsg");
    let a = c.launch("testforkcall");
    let said = t.said(&a, 20);
    for id in ["1", "2"] {
        let calls = said.iter().filter(|m| **m == format!("task{id} call")).count();
        let returns = said.iter().filter(|m| **m == format!("task{id} return: TASK{id}")).count();
        assert_eq!((calls, returns), (5, 5), "task{id}\n{said:?}");
    }
    t.assert_no_error();
}

#[test]
fn ch07_ret_from_another_coroutine_fails() {
    let mut t = Tut::boot(&["ch07"], "");
    let mut c = t.console();
    let db = c.launch("errormydb");
    let mut blocked = t.console();
    blocked.send("start testmydb name nengzhong");
    t.expect("] mydb set Test 0");
    // both the set and the get fail in the fork: retpack has no session there
    t.wait_count(&db, "No session", 2);
    let said = t.said(&db, 4);
    assert_eq!(said.iter().filter(|m| m.starts_with("lua dispatch")).count(), 2, "{said:?}");
    assert_eq!(said.iter().filter(|m| m.starts_with("fork")).count(), 2, "{said:?}");
}

#[test]
fn ch07_response_closure() {
    let mut t = Tut::boot(&["ch07/s78", "ch07"], "");
    let mut c = t.console();
    c.launch("mydb");
    c.launch("testmydb name nengzhong");
    t.expect_all(&["] mydb set Test 0", "] mydb get Test nengzhong"]);
    t.assert_no_error();
}

#[test]
fn ch07_call_fails_when_the_callee_exits() {
    let mut t = Tut::boot(&["ch07"], "");
    let mut c = t.console();
    let callee = c.launch("noresponse");
    let caller = c.launch("testnoresponse");
    t.wait_count(&callee, "KILL self", 1);
    t.wait_count(&caller, "call failed", 1);
    assert!(!t.node.output_so_far().contains("get Test"), "skynet.call must not return");
}

#[test]
fn ch07_reentrancy_and_queue() {
    // 7.10: the second set lands while the first get sleeps
    let mut t = Tut::boot(&["ch07/s710", "ch07"], "");
    let mut c = t.console();
    c.launch("mydb");
    let xm = c.launch("testmydb name xm");
    let xh = c.launch("testmydb name xh");
    t.expect("] mydb get Test");
    t.expect("] mydb get Test");
    assert_eq!(t.said(&xm, 2)[..2], ["mydb set Test 0", "mydb get Test xh"]);
    assert_eq!(t.said(&xh, 2)[..2], ["mydb set Test 0", "mydb get Test xh"]);

    // 7.11: skynet.queue serialises them
    let mut t = Tut::boot(&["ch07/s711", "ch07"], "");
    let mut c = t.console();
    c.launch("mydb");
    let xm = c.launch("testmydb name xm");
    let xh = c.launch("testmydb name xh");
    t.expect("] mydb get Test");
    t.expect("] mydb get Test");
    assert_eq!(t.said(&xm, 2)[..2], ["mydb set Test 0", "mydb get Test xm"]);
    assert_eq!(t.said(&xh, 2)[..2], ["mydb set Test 0", "mydb get Test xh"]);
    t.assert_no_error();
}

#[test]
fn ch07_other_protocol() {
    let mut t = Tut::boot(&["ch07"], "");
    let mut c = t.console();
    c.launch("othermsg");
    let a = c.launch("testothermsg");
    t.assert_said(&a, &["skynet.call return value: nengzhong"]);
    t.assert_no_error();
}

#[test]
fn ch07_proxies() {
    // 7.13.1's first proxy (ch07/proxy.lua) answers with skynet.ret(skynet.rawcall(...)):
    // it hands on the response it is handling. Upstream frees that block again after the
    // callback (the tutorial's 7.13.2 moves to forward_type because of it); ours leaves
    // a payload the callback gave away alone, so both proxies work.
    for dirs in [&["ch07/s7131", "ch07"][..], &["ch07/s7132", "ch07/s7131", "ch07"]] {
        let mut t = Tut::boot(dirs, "");
        let mut c = t.console();
        c.launch("mydb");
        c.launch("proxy .mydb");
        c.launch("testmydb name xx");
        t.expect_all(&["] mydb set Test 0", "] mydb get Test xx"]);
        t.assert_no_error();
    }
}

#[test]
fn ch07_call_across_nodes() {
    let mut n1 = Tut::boot(&["ch07"], "");
    let mut n2 = Tut::join(&n1, &["ch07"], "");
    n1.console().launch("globalluamsg");
    let a = n2.console().launch("globalcall");
    n2.assert_said(&a, &["skynet.call return value: NENGZHONG"]);
    n1.assert_no_error();
    n2.assert_no_error();
}

// ---- chapter 8: multicast ----

#[test]
fn ch08_multicast() {
    let mut t = Tut::boot(&["ch08"], "");
    let mut c = t.console();
    let publisher = c.launch("multicastpub");
    let id = last_word(&t.expect("] new channel ID"));
    let sub = c.launch(&format!("multicastsub {id}"));
    let hex = format!("{:x}", id.parse::<u64>().expect("channel id"));
    let first = t.expect(&format!("channel ID: [Multicast:{hex}]"));
    assert_eq!(addr_of(&first), sub);
    for _ in 0..2 {
        t.expect("msg: data");
    }
    let got: Vec<u32> = t
        .said_by(&sub)
        .iter()
        .map(|m| {
            assert!(m.contains(&format!("source: {publisher} ")), "{m}");
            m.rsplit("data").next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{m}"))
        })
        .collect();
    assert!(got.windows(2).all(|w| w[1] == w[0] + 1), "consecutive messages: {got:?}");
}

// ---- chapter 9: sockets ----

fn socket_node(dirs: &[&str]) -> (Tut, u16) {
    let port = free_port();
    (Tut::boot(dirs, &port_config(port)), port)
}

#[test]
fn ch09_echo_server() {
    let (mut t, port) = socket_node(&["ch09"]);
    t.console().launch("socketserver");
    t.expect(&format!("] listen 0.0.0.0:{port}"));
    let mut s = client(port);
    let me = s.local_addr().expect("local_addr");
    s.write_all(b"helloworld\n").unwrap();
    assert_eq!(t.read(&mut s, 11), "HELLOWORLD\n");
    drop(s);
    t.expect_all(&[&format!("] {me} accepted"), "] recv helloworld", &format!("] {me} disconnect, endstr")]);
    t.assert_no_error();
}

#[test]
fn ch09_readline_readall_lwrite() {
    let (mut t, port) = socket_node(&["ch09/s93", "ch09"]);
    t.console().launch("socketserver");
    let mut s = client(port);
    let me = s.local_addr().expect("local_addr");
    s.write_all(b"abc\ndef\nxyz").unwrap();
    assert_eq!(t.read(&mut s, 6), "ABCDEF");
    s.shutdown(Shutdown::Write).unwrap();
    t.expect_all(&["] recv abc", "] recv def", "] last recv xyz", &format!("] {me} disconnect")]);

    let (mut t, port) = socket_node(&["ch09/s94", "ch09"]);
    t.console().launch("socketserver");
    let mut s = client(port);
    let me = s.local_addr().expect("local_addr");
    s.write_all(b"hello ").unwrap();
    s.write_all(b"world").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    t.expect_all(&["] recv hello world", &format!("] {me} close")]);
    assert_eq!(read_to_end(&mut s), "");

    let (mut t, port) = socket_node(&["ch09/s95", "ch09"]);
    t.console().launch("socketserver");
    let mut s = client(port);
    s.write_all(b"hi").unwrap();
    let got = t.read(&mut s, 8);
    assert!(got == "l:HIh:HI" || got == "h:HIl:HI", "{got}");
    t.expect("] recv hi");
    t.assert_no_error();
}

#[test]
fn ch09_agent_per_connection() {
    let (mut t, port) = socket_node(&["ch09"]);
    t.console().launch("socketlisten");
    let mut s = client(port);
    let me = s.local_addr().expect("local_addr");
    s.write_all(b"aaaaaaaaaa").unwrap();
    assert_eq!(t.read(&mut s, 10), "AAAAAAAAAA");
    t.expect_all(&[&format!("] {me} accepted"), "LAUNCH snlua socketagent ", "] recv aaaaaaaaaa"]);
    drop(s);
    t.expect(&format!("] {me} disconnect"));
    t.assert_no_error();
}

#[test]
fn ch09_abandon() {
    let (mut t, port) = socket_node(&["ch09"]);
    t.console().launch("socketabandon");
    let mut s = client(port);
    let me = s.local_addr().expect("local_addr");
    s.write_all(b"aaaaaaaaaaaaaaaa").unwrap();
    assert_eq!(t.read(&mut s, 16), "AAAAAAAAAAAAAAAA");
    let launch = t.expect("LAUNCH snlua socketagent ");
    let agent = addr_of(&launch);
    // The tutorial types the next line by hand, long after socketagent took the socket
    // over in its forked socket.start; bytes arriving before that are dropped by
    // socketabandon (upstream v1.8.0 too). Settling the agent stands for the pause: its
    // start function, and the fork with socket.start in it, have run by then.
    t.settle(&[&agent]);
    s.write_all(b"bbbbbbbbbbbbbbbb").unwrap();
    assert_eq!(t.read(&mut s, 16), "BBBBBBBBBBBBBBBB");
    let recv = t.expect("] recv bbbbbbbbbbbbbbbb");
    assert_eq!(addr_of(&recv), agent, "the agent owns the socket now");
    drop(s);
    t.expect_from(&agent, &format!("{me} disconnect"));
    t.expect_from(&agent, "KILL self");
    t.assert_no_error();
}

#[test]
fn ch09_skynet_as_client() {
    let (mut t, port) = socket_node(&["ch09"]);
    let mut c = t.console();
    let server = c.launch("serverreadline");
    let cl = c.launch("socketclient");
    t.wait_count(&cl, "KILL self", 1);
    t.wait_count(&server, " disconnect", 1);
    t.assert_said(
        &cl,
        &[
            format!("connect 127.0.0.1:{port}"),
            "send data0".into(),
            "recv DATA0".into(),
            "send data1".into(),
            "recv DATA1".into(),
            "send data2".into(),
            "recv DATA2".into(),
            "KILL self".into(),
        ],
    );
    let said = t.said_by(&server);
    assert_eq!(said[2..5], ["recv data0", "recv data1", "recv data2"], "{said:?}");

    // 9.9: three requests at once; the answers come back in any order
    let cl = c.launch("socketforkclient");
    t.wait_count(&cl, "KILL self", 1);
    t.wait_count(&server, " disconnect", 2);
    let said = t.said_by(&cl);
    assert_eq!(said[1..4], ["send data0", "send data1", "send data2"], "{said:?}");
    let mut got: Vec<&String> = said.iter().filter(|m| m.starts_with("recv ")).collect();
    got.sort();
    assert_eq!(got, ["recv DATA0", "recv DATA1", "recv DATA2"]);
    t.assert_no_error();
}

// ---- chapter 13: gateserver ----

fn gate_node(dirs: &[&str]) -> (Tut, u16, String) {
    let (mut t, port) = socket_node(dirs);
    let opener = t.console().start("openmygateserver");
    assert_eq!(opener, None, "openmygateserver exits after opening the gate");
    let listen = t.expect(&format!("] Listen on 0.0.0.0:{port}"));
    t.expect(&format!("] gate server setup on {port}"));
    (t, port, addr_of(&listen))
}

/// The fd of a `ipaddr: ... fd: N connect` line.
fn fd_of(line: &str) -> String {
    line.split_whitespace().rev().nth(1).unwrap_or_default().to_string()
}

#[test]
fn ch13_plain_gateserver() {
    let (mut t, port, gate) = gate_node(&["ch13/s131", "ch13"]);
    // 13.1: unframed bytes never make a message
    let mut raw = client(port);
    let fd = fd_of(&t.expect("] ipaddr: "));
    raw.write_all(b"aaa\n").unwrap();
    drop(raw);
    t.expect(&format!("] fd: {fd} disconnect"));
    // 13.2.3: framed ones do
    let mut s = client(port);
    let fd2 = fd_of(&t.expect("] ipaddr: "));
    s.write_all(&framed("aaaaaaaaaa")).unwrap();
    t.expect(&format!("] recv message from fd: {fd2}"));
    let said = t.said_by(&gate);
    assert!(!said.contains(&format!("recv message from fd: {fd}")), "{said:?}");
    t.assert_no_error();
}

#[test]
fn ch13_gateserver_callbacks() {
    let (mut t, port, gate) = gate_node(&["ch13/s134", "ch13"]);
    let said = t.said_by(&gate);
    let open = said.iter().position(|m| m.starts_with("open by")).unwrap_or_else(|| panic!("{said:?}"));
    assert_eq!(
        said[open + 1..open + 4],
        [format!("listen on {port}"), "client max 64".to_string(), "nodelay true".to_string()]
    );
    let mut s = client(port);
    let fd = fd_of(&t.expect("] ipaddr: "));
    s.write_all(&framed("aaaaaaaaaa")).unwrap();
    t.expect(&format!("] recv message from fd: {fd}"));
    t.expect("] aaaaaaaaaa");
    drop(s);
    t.expect(&format!("] fd: {fd} disconnect"));
    t.assert_no_error();
}

#[test]
fn ch13_maxclient() {
    let (mut t, port, gate) = gate_node(&["ch13/s133", "ch13/s134", "ch13"]);
    assert!(t.said_by(&gate).contains(&"client max 2".to_string()));
    let _a = client(port);
    t.expect("] ipaddr: ");
    let _b = client(port);
    t.expect("] ipaddr: ");
    // The third is closed by the gate at once. Unlike the tutorial's output, our
    // gateserver does not call handler.disconnect for a connection it never announced.
    let mut third = client(port);
    assert_eq!(read_to_end(&mut third), "", "closed by the gate");
    t.settle(&[&gate]);
    let said = t.said_by(&gate);
    assert_eq!(said.iter().filter(|m| m.starts_with("ipaddr: ")).count(), 2, "{said:?}");
    assert!(!said.iter().any(|m| m.ends_with(" disconnect")), "{said:?}");
    t.assert_no_error();
}

#[test]
fn ch13_kick_and_close() {
    let (mut t, port, gate) = gate_node(&["ch13/s135", "ch13"]);
    let mut s = client(port);
    let fd = fd_of(&t.expect("] ipaddr: "));
    let kicker = t.console().start(&format!("kickmygateserver {gate} {fd}"));
    assert_eq!(kicker, None, "kickmygateserver exits in start");
    t.expect(&format!("kick fd: {fd}"));
    t.expect(&format!("] fd: {fd} disconnect"));
    assert_eq!(read_to_end(&mut s), "", "the client was kicked");

    // 13.6: after close the port no longer accepts
    assert_eq!(t.console().start(&format!("closemygateserver {gate}")), None);
    // (The listener is closed by the socket thread after the call returns: a connect
    // that still reaches the old backlog is reset rather than refused.)
    if let Ok(mut late) = TcpStream::connect(("127.0.0.1", port)) {
        late.set_read_timeout(Some(LIMIT)).expect("set_read_timeout");
        let mut buf = Vec::new();
        let got = late.read_to_end(&mut buf);
        assert!(got.is_err() || buf.is_empty(), "the gate still serves new clients: {got:?}");
    }
    t.settle(&[&gate]);
    let announced = t.said_by(&gate).iter().filter(|m| m.starts_with("ipaddr: ")).count();
    assert_eq!(announced, 1, "no connection after close\n{}", t.node.output_so_far());
    t.assert_no_error();
}

#[test]
fn ch13_agent() {
    let (mut t, port, gate) = gate_node(&["ch13/s137", "ch13"]);
    let mut s = client(port);
    let fd = fd_of(&t.expect("] ipaddr: "));
    let agent = addr_of(&t.expect(&format!("LAUNCH snlua myagent {fd}")));
    // The tutorial types into the client long after the gate recorded the new agent (its
    // newservice returned); data arriving before that meets `agents[fd] == nil`.
    t.settle(&[&agent, ".launcher", &gate]);
    s.write_all(&framed("aaaaaaaaaaaaaa")).unwrap();
    let mut head = [0u8; 2];
    s.read_exact(&mut head).unwrap();
    assert_eq!(u16::from_be_bytes(head), 14);
    assert_eq!(t.read(&mut s, 14), "AAAAAAAAAAAAAA");
    t.expect(&format!("recv from fd\t{fd}\taaaaaaaaaaaaaa"));
    drop(s);
    t.expect(&format!("] fd: {fd} disconnect"));
    let quit = t.expect("agent quit");
    assert_eq!(addr_of(&quit), agent);
    t.assert_no_error();
}

// ---- chapter 10: socketchannel ----

#[test]
fn ch10_channel_mode1() {
    let (mut t, port) = socket_node(&["ch10", "ch09"]);
    let mut c = t.console();
    let server = c.launch("serverreadline");
    t.expect(&format!("] listen 0.0.0.0:{port}"));
    let cl = c.launch("channelclient");
    t.wait_count(&cl, "KILL self", 1);
    // sock:read() returns what arrived, the reply with its newline
    let said = t.said_by(&cl);
    let replies: Vec<&String> = said.iter().filter(|m| m.starts_with("recv ")).collect();
    assert_eq!(replies, ["recv DATA0", "recv DATA1", "recv DATA2"], "{said:?}");
    t.wait_count(&server, " disconnect", 1);
    let said = t.said_by(&server);
    let got: Vec<&String> = said.iter().filter(|m| m.starts_with("recv ")).collect();
    assert_eq!(got, ["recv data0", "recv data1", "recv data2"], "{said:?}");
    t.assert_no_error();
}

#[test]
fn ch10_channel_mode1_bad_response() {
    // response returning false: the request raises the reply as its error
    let s10false = variant("s10false", "ch10/channelclient.lua", "return true, sock:read()", "return false, sock:read()");
    let (mut t, port) = socket_node(&[&s10false, "ch10", "ch09"]);
    let mut c = t.console();
    let server = c.launch("serverreadline");
    t.expect(&format!("] listen 0.0.0.0:{port}"));
    let cl = c.launch("channelclient");
    t.expect_from(&server, "recv data0");
    let err = t.expect_from(&cl, "error");
    assert!(err.contains("DATA0"), "{err}");
    t.settle(&[&cl, &server]);
    assert!(!t.said_by(&cl).iter().any(|m| m.starts_with("recv ")));
    assert!(!t.said_by(&server).iter().any(|m| m.contains("data1")));
}

#[test]
fn ch10_channel_mode2_sessions() {
    let (mut t, port) = socket_node(&["ch10", "ch09"]);
    let mut c = t.console();
    let server = c.launch("serverreadline");
    t.expect(&format!("] listen 0.0.0.0:{port}"));
    let cl = c.launch("channelclient2");
    let said = t.said(&cl, 3);
    // the server answers in random order; each reply reaches the request of its session
    let mut got = said.clone();
    got.sort();
    assert_eq!(got, ["recv DATA0 0", "recv DATA1 1", "recv DATA2 2"], "{said:?}");
    let srv = t.said(&server, 4);
    let mut reqs: Vec<&String> = srv.iter().filter(|m| m.starts_with("recv ")).collect();
    reqs.sort();
    assert_eq!(reqs, ["recv data0", "recv data1", "recv data2"], "{srv:?}");
    t.assert_no_error();
}

// ---- chapter 11: dns (against a local responder instead of a public server) ----

fn t2_python() -> &'static str {
    if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// `tests/py/tutorial2_dns.py` running; dropping it closes its stdin, which ends it.
struct T2Dns {
    child: std::process::Child,
    /// Kept open: the responder reports each query on it.
    queries: BufReader<std::process::ChildStdout>,
    port: u16,
}

impl T2Dns {
    fn start() -> T2Dns {
        let mut child = std::process::Command::new(t2_python())
            .arg(root().join("tests/py/tutorial2_dns.py"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start tutorial2_dns.py");
        let mut first = String::new();
        let mut queries = BufReader::new(child.stdout.take().expect("stdout"));
        queries.read_line(&mut first).expect("read the responder's port");
        let port = first.trim().strip_prefix("PORT ").and_then(|p| p.parse().ok());
        T2Dns { child, queries, port: port.unwrap_or_else(|| panic!("responder said {first:?}")) }
    }

    /// The next query the responder received.
    fn query(&mut self) -> String {
        let mut line = String::new();
        self.queries.read_line(&mut line).expect("read a query");
        line.trim_end().to_string()
    }
}

impl Drop for T2Dns {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

#[test]
fn ch11_dns() {
    let mut dns = T2Dns::start();
    let mut t = Tut::boot(&["ch11"], &format!("tutorial_dns_port = {}\n", dns.port));
    let mut c = t.console();
    let a = c.launch("test_dns");
    t.wait_count(&a, "github.com ", 2);
    // v1.8.0's dns.server returns nothing (the tutorial's older one returned the server),
    // and dns logs the socket it opens (as v1.8.0 does)
    let said: Vec<String> = t.said_by(&a).into_iter().filter(|m| !m.starts_with("Udp server open ")).collect();
    assert_eq!(
        said,
        [
            "nameserver:",
            "dns.resolve return: 192.30.255.112",
            "github.com 192.30.255.112",
            "github.com 192.30.255.113",
        ]
    );
    assert_eq!(dns.query(), "Q github.com");

    // 11.2: one service resolves for everyone
    c.launch("dnsservice");
    let q = c.start("testdnsservice getip www.baidu.com");
    let addr = q.unwrap_or_else(|| addr_of(&t.expect("LAUNCH snlua testdnsservice")));
    t.assert_said(&addr, &["dnsservice Test: www.baidu.com 14.215.177.39", "KILL self"]);
    assert_eq!(dns.query(), "Q www.baidu.com");
    t.assert_no_error();
}

// ---- chapter 14: loginserver ----

/// What a client script run by `3rd/lua/lua` printed, and whether it exited with 0.
struct T2Client {
    out: String,
    ok: bool,
}

fn t2_spawn_client(script: &str, port: u16) -> std::process::Child {
    t2_spawn_client2(script, port, 0)
}

/// The client with the login server's port and the msgserver's.
fn t2_spawn_client2(script: &str, port: u16, port2: u16) -> std::process::Child {
    std::process::Command::new(root().join("3rd/lua/lua"))
        .arg(tutorial_path(script))
        .current_dir(root())
        .env("TUTORIAL_PORT", port.to_string())
        .env("TUTORIAL_PORT2", port2.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start 3rd/lua/lua")
}

fn t2_finish_client(child: std::process::Child) -> T2Client {
    // The client ends on its own: the server answers or closes the socket.
    let done = child.wait_with_output().expect("wait for the client");
    let out = format!("{}{}", String::from_utf8_lossy(&done.stdout), String::from_utf8_lossy(&done.stderr));
    T2Client { out, ok: done.status.success() }
}

fn t2_client(script: &str, port: u16) -> T2Client {
    t2_finish_client(t2_spawn_client(script, port))
}

fn login_node(dirs: &[&str]) -> (Tut, u16, String) {
    let (mut t, port) = socket_node(dirs);
    let master = t.console().launch("mylogin");
    t.expect_from(&master, &format!("login server listen at : 127.0.0.1 {port}"));
    (t, port, master)
}

/// The hex secret a client printed (`secret is \t<hex>`).
fn t2_secret(out: &str) -> String {
    let line = out.lines().find(|l| l.starts_with("secret is")).unwrap_or_else(|| panic!("no secret\n{out}"));
    last_word(line)
}

#[test]
fn ch14_login() {
    let (mut t, port, master) = login_node(&["ch14"]);
    let slaves = t.messages().iter().filter(|(_, m)| m.starts_with("LAUNCH snlua mylogin")).count();
    assert_eq!(slaves, 9, "the master and eight slaves\n{}", t.node.output_so_far());
    for n in 1..=9 {
        let r = t2_client("ch14/myclient.lua", port);
        assert!(r.ok, "{}", r.out);
        let secret = t2_secret(&r.out);
        assert!(r.out.contains(&format!("200 {}", base64_digits(n))), "{}", r.out);
        assert!(r.out.contains(&format!("login ok, subid=\t{n}")), "{}", r.out);
        let conn = t.expect("] connect from 127.0.0.1:");
        assert_ne!(addr_of(&conn), master, "a slave does the handshake");
        // (the tutorial's auth_handler prints the global `uid`, which is nil)
        let auth = t.expect("] nil@sample:password");
        assert_eq!(addr_of(&auth), addr_of(&conn));
        t.expect_from(&master, &format!("hello@sample is login, secret is {secret}"));
    }
    t.assert_no_error();
}

/// base64 of the decimal digits of n (n < 10).
fn base64_digits(n: u32) -> String {
    let b = b'0' + n as u8;
    let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    format!("{}{}==", table[(b >> 2) as usize] as char, table[((b & 3) << 4) as usize] as char)
}

#[test]
fn ch14_login_refused() {
    let (mut t, port, master) = login_node(&["ch14"]);
    // 14.5: wrong password
    let s145 = variant("s145", "ch14/myclient.lua", "pass = \"password\"", "pass = \"wrongpasswd\"");
    let r = t2_client(&format!("{s145}/myclient.lua"), port);
    assert!(!r.ok && r.out.contains("401 Unauthorized"), "{}", r.out);
    t.expect("] nil@sample:wrongpasswd");
    let err = t.expect_from(&master, "invalid client (fd = ");
    assert!(err.contains("Invalid password"), "{err}");
    // 14.6 (second): a wrong hmac. v1.8.0 answers 401 (the tutorial's older skynet: 400)
    let s148 = variant("s148", "ch14/myclient.lua", "crypt.hmac64(challenge, secret)", "crypt.hmac64(\"11111111\", secret)");
    let r = t2_client(&format!("{s148}/myclient.lua"), port);
    assert!(!r.ok && r.out.contains("401 Unauthorized"), "{}", r.out);
    let err = t.expect_from(&master, "invalid client (fd = ");
    assert!(err.contains("challenge failed"), "{err}");
    assert_eq!(t.said_by(&master).iter().filter(|m| m.contains(" is login")).count(), 0);
}

#[test]
fn ch14_login_handler_fails() {
    // 14.6 adds error("login_handler") to mylogin's login_handler, after its log line.
    let logged = "crypt.hexencode(secret)))";
    let s146 = variant("s146", "ch14/mylogin.lua", logged, &format!("{logged}\n    error(\"login_handler\")"));
    let (mut t, port, master) = login_node(&[&s146, "ch14"]);
    let r = t2_client("ch14/myclient.lua", port);
    assert!(!r.ok && r.out.contains("403 Forbidden"), "{}", r.out);
    t.expect_from(&master, "hello@sample is login, secret is ");
    let err = t.expect_from(&master, "invalid client (fd = ");
    assert!(err.contains("login_handler"), "{err}");
}

#[test]
fn ch14_multilogin_off() {
    // 14.7 makes login_handler sleep 5 s after taking a subid.
    let s147 = variant("s147", "ch14/mylogin.lua", "subid = subid + 1", "subid = subid + 1\n    skynet.sleep(500)");
    let (mut t, port, master) = login_node(&[&s147, "ch14"]);
    let first = t2_spawn_client("ch14/myclient.lua", port);
    // the second arrives while the first one's login_handler sleeps
    t.expect_from(&master, "hello@sample is login");
    let second = t2_client("ch14/myclient.lua", port);
    assert!(!second.ok && second.out.contains("406 Not Acceptable"), "{}", second.out);
    let first = t2_finish_client(first);
    assert!(first.ok && first.out.contains("login ok, subid=\t1"), "{}", first.out);
}

// ---- chapter 18: http ----

#[test]
fn ch18_httpd_and_httpc() {
    let (mut t, port) = socket_node(&["ch18"]);
    let mut c = t.console();
    let httpd = c.launch("testhttpd");
    // testhttpd's start returned after launching all 20 agents
    let agents: Vec<String> =
        t.node.output_so_far().lines().filter(|l| l.contains("LAUNCH snlua testhttpagent")).map(addr_of).collect();
    assert_eq!(agents.len(), 20, "{}", t.node.output_so_far());

    // a browser's request, by hand
    let mut s = client(port);
    s.write_all(format!("GET /?color=blue&text=abc HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes()).unwrap();
    let reply = read_to_end(&mut s);
    assert!(reply.starts_with("HTTP/1.1 200 "), "{reply}");
    assert!(reply.contains("\r\n\r\n<body bgcolor=\"blue\">abc</body>\n"), "{reply}");
    let pass = t.expect_from(&httpd, "connected, pass it to agent ");
    assert_eq!(format!(":{}", last_word(&pass).trim_start_matches(':')), agents[0]);
    t.expect_from(&agents[0], &format!("header host 127.0.0.1:{port}"));
    t.expect_from(&agents[0], "path: /");
    let mut q = t.said(&agents[0], 4)[2..4].to_vec();
    q.sort();
    assert_eq!(q, ["query: color= blue", "query: text= abc"]);

    // 18.2: httpc against it; the second agent serves it
    // The client runs in its start and exits there. Its prints (flushed by Lua's print)
    // are the untagged lines.
    assert_eq!(c.start("testhttpclient"), None);
    let cl = addr_of(&t.expect("LAUNCH snlua testhttpclient"));
    let mark = t.cursor;
    t.expect_all(&[&format!("GET 127.0.0.1:{port}"), "[header] =====>", "content-length\t32", "[body] =====>\t200"]);
    t.expect("<body bgcolor=\"blue\">abc</body>");
    t.expect_from(&cl, "KILL self");
    let printed: Vec<&String> = t.log[mark..].iter().filter(|l| !l.starts_with("[:")).collect();
    assert_eq!(printed.last().map(|l| l.as_str()), Some("true"), "pcall(main) succeeded: {printed:?}");
    let mut q = t.said(&agents[1], 4)[2..4].to_vec();
    q.sort();
    assert_eq!(q, ["query: color= blue", "query: text= abc"]);
    assert!(t.said_by(&agents[1])[0].starts_with(&format!("header host 127.0.0.1:{port}")));
    t.assert_no_error();
}

// ---- chapter 15: msgserver ----

#[test]
fn ch15_msgserver_lua_commands() {
    let port2 = free_port();
    let mut t = Tut::boot(&["ch15"], &format!("tutorial_port2 = {port2}\n"));
    let starter = t.console().launch("sendtomsgserver");
    let gate = addr_of(&t.expect("LAUNCH snlua simplemsgserver"));
    t.assert_said(&starter, &["lua login subid 1"]);
    let user = "bnpoc29mdA==@c2FtcGxl#MQ==";
    t.assert_said(
        &gate,
        &[
            format!("Listen on 0.0.0.0:{port2}"),
            "register_handler invoked name sample".into(),
            "login_handler invoke nzhsoft 11111111".into(),
            format!("uid nzhsoft login, username {user}"),
            "logout_handler invoke nzhsoft 1".into(),
            "kick_handler invoke nzhsoft 1".into(),
        ],
    );
    // closed: nobody accepts on the port any more
    t.settle(&[&gate]);
    if let Ok(mut late) = TcpStream::connect(("127.0.0.1", port2)) {
        late.set_read_timeout(Some(LIMIT)).expect("set_read_timeout");
        let mut buf = Vec::new();
        let got = late.read_to_end(&mut buf);
        assert!(got.is_err() || buf.is_empty(), "the gate still serves: {got:?}");
    }
    t.assert_no_error();
}

#[test]
fn ch15_login_then_msgserver() {
    let port = free_port();
    let port2 = free_port();
    let mut t = Tut::boot(&["ch15"], &format!("{}tutorial_port2 = {port2}\n", port_config(port)));
    t.console().launch("testmsgserver");
    let master = addr_of(&t.expect(&format!("] login server listen at : 127.0.0.1 {port}")));
    let gate = addr_of(&t.expect("LAUNCH snlua mymsgserver"));
    t.expect_from(&gate, &format!("Listen on 0.0.0.0:{port2}"));
    t.expect_from(&master, "cmd register_gate");

    let r = t2_finish_client(t2_spawn_client2("ch15/myclient.lua", port, port2));
    assert!(r.ok, "{}", r.out);
    let lines: Vec<&str> = r.out.lines().collect();
    let secret = t2_secret(&r.out);
    assert_eq!(
        lines[1..],
        ["200 MQ==", "login ok, subid=\t1", "connect", "200 OK", "===>\techo\t0", "<===\ttrue\tECHO\t0", "disconnect"],
        "{}",
        r.out
    );
    let user = "bnpoc29mdA==@c2FtcGxl#MQ==";
    t.expect("] nzhsoft@sample:password");
    t.expect_from(&master, &format!("nzhsoft@sample is login, secret is {secret}"));
    t.expect_from(&gate, &format!("uid nzhsoft login, username {user}"));
    t.expect_from(&gate, &format!("recv echo from {user}"));
    t.expect_from(&gate, &format!("{user} disconnect"));
    t.assert_no_error();
}
