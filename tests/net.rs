//! The socket server and the gate, driven from outside the node by real clients: Python
//! (`tests/py/net_*.py`), `nc`, and plain TCP streams from this test process.
//!
//! Each node runs one C test service, `tests/c/netecho.c` (the socket ABI) or
//! `tests/c/netwatch.c` (a watchdog for `cservice/gate`). The service connects back to a
//! control listener of the test, which drives it line by line and reads its events. When
//! the test drops the control connection the service ABORTs, and the node must exit 0.

mod common;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::Duration;

use common::*;

/// Guards against hangs only.
const LIMIT: Duration = Duration::from_secs(120);

/// One socket of `skynet_socket_info()`, as netecho prints it.
#[derive(Debug)]
struct Sock {
    id: i32,
    kind: i32,
    wbuffer: i64,
    name: String,
}

const INFO_LISTEN: i32 = 1;
const INFO_TCP: i32 = 2;

/// A running node and the control connection its test service opened to us.
struct Session {
    node: RunningNode,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    /// Lines read while looking for another one, kept for later `expect`s.
    backlog: VecDeque<String>,
    /// The service's first line: "hello :<handle> ...".
    hello: String,
}

/// Waits (up to `limit`) for a connection on `listener`.
fn accept_within(listener: &TcpListener, limit: Duration) -> Option<TcpStream> {
    let mut pfd = libc::pollfd { fd: listener.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut pfd, 1, limit.as_millis() as libc::c_int) };
    if n != 1 {
        return None;
    }
    listener.accept().ok().map(|(s, _)| s)
}

impl Session {
    /// Starts a node whose bootstrap is `<module> 127.0.0.1 <ctlport> <args>` and takes
    /// the control connection; the service's first line starts with "hello".
    fn start(module: &str, args: &str) -> Session {
        c_service(module);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the control listener");
        let port = listener.local_addr().unwrap().port();
        let boot = format!("{module} 127.0.0.1 {port} {args}");
        let config = format!("thread = 4\nharbor = 0\nbootstrap = {}\n", lua_str(boot.trim()));
        let mut node = start_node(&config);
        let Some(stream) = accept_within(&listener, LIMIT) else {
            node.kill();
            panic!("{module} did not connect to the control port\n{}", node.output_so_far());
        };
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        let writer = stream.try_clone().unwrap();
        let mut s =
            Session { node, reader: BufReader::new(stream), writer, backlog: VecDeque::new(), hello: String::new() };
        s.hello = s.expect("hello ");
        s
    }

    fn fail(&mut self, why: String) -> ! {
        self.node.kill();
        panic!("{why}\nunread control lines: {:?}\n{}", self.backlog, self.node.output_so_far());
    }

    fn send(&mut self, line: &str) {
        if let Err(e) = self.writer.write_all(format!("{line}\n").as_bytes()) {
            self.fail(format!("can't send {line:?} to the service: {e}"));
        }
    }

    fn read_line(&mut self) -> String {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => self.fail("the service closed the control connection".into()),
            Ok(_) => line.trim_end_matches('\n').to_string(),
            Err(e) => self.fail(format!("no control line within {LIMIT:?}: {e}")),
        }
    }

    /// The next line starting with `prefix`; others are kept for later.
    fn expect(&mut self, prefix: &str) -> String {
        if let Some(i) = self.backlog.iter().position(|l| l.starts_with(prefix)) {
            return self.backlog.remove(i).unwrap();
        }
        loop {
            let line = self.read_line();
            if line.starts_with(prefix) {
                return line;
            }
            self.backlog.push_back(line);
        }
    }

    /// Sends `cmd` and returns the whitespace-separated words of the reply starting with `prefix`.
    fn ask(&mut self, cmd: &str, prefix: &str) -> Vec<String> {
        self.send(cmd);
        let line = self.expect(prefix);
        line.split_whitespace().map(str::to_string).collect()
    }

    /// `skynet_socket_info()` after the socket thread handled everything asked before.
    fn info(&mut self) -> Vec<Sock> {
        self.send("info");
        let mut socks = Vec::new();
        loop {
            // The reply follows the request: read it from the connection, not the backlog.
            let line = self.read_line();
            if line == "end" {
                return socks;
            }
            let Some(rest) = line.strip_prefix("sock ") else {
                self.backlog.push_back(line);
                continue;
            };
            let f: Vec<&str> = rest.splitn(4, ' ').collect();
            let parse = |i: usize| f.get(i).and_then(|s| s.parse::<i64>().ok());
            match (parse(0), parse(1), parse(2)) {
                (Some(id), Some(kind), Some(wbuffer)) => socks.push(Sock {
                    id: id as i32,
                    kind: kind as i32,
                    wbuffer,
                    name: f.get(3).unwrap_or(&"").to_string(),
                }),
                _ => self.fail(format!("bad info line {line:?}")),
            }
        }
    }

    /// `listen <host> <port> <mode>` on a free port; returns (socket id, port).
    fn listen(&mut self, host: &str, mode: &str) -> (i32, u16) {
        let port = free_port();
        let reply = self.ask(&format!("listen {host} {port} {mode}"), "listen");
        if reply[0] != "listening" {
            self.fail(format!("listen {host} {port} failed: {reply:?}"));
        }
        (reply[1].parse().unwrap(), port)
    }

    /// Drops the control connection (the service ABORTs) and checks the node exits 0.
    fn finish(self) -> Output {
        let Session { node, reader, writer, .. } = self;
        drop(reader);
        drop(writer);
        let out = node.wait(LIMIT);
        assert_success(&out);
        out
    }
}

/// Runs `tests/py/<script>` with `args`; it must print a line starting with `<ok>` and exit 0.
fn python(script: &str, args: &[&str], ok: &str) -> String {
    let path = root().join("tests").join("py").join(script);
    let out = Command::new("python3").arg(&path).args(args).output().expect("can't run python3");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.lines().any(|l| l.starts_with(ok)),
        "{script} {args:?} failed ({}):\n{stdout}{stderr}",
        out.status
    );
    stdout
}

// ---------------------------------------------------------------- the echo service

#[test]
fn echo_many_clients_and_sizes() {
    let mut s = Session::start("netecho", "");
    let (listen_id, port) = s.listen("127.0.0.1", "echo");
    let clients = 40;
    let out = python("net_echo.py", &["127.0.0.1", &port.to_string(), &clients.to_string()], "net_echo OK");
    let per_client: u64 = [1u64, 100, 4096, 65536, 1 << 20].iter().sum();
    assert!(out.contains(&format!("net_echo OK {clients} {}", per_client * clients)), "{out}");
    // Every client's CLOSE reached the service, which closed its half-closed socket.
    s.ask(&format!("closed {clients}"), "closed");
    let socks = s.info();
    let listeners: Vec<i32> = socks.iter().filter(|so| so.kind == INFO_LISTEN).map(|so| so.id).collect();
    let tcp = socks.iter().filter(|so| so.kind == INFO_TCP).count();
    assert!(
        listeners == [listen_id] && tcp == 1 && socks.len() == 2,
        "only the listener and the control connection may remain: {socks:?}"
    );
    s.finish();
}

#[test]
fn echo_with_netcat() {
    let mut s = Session::start("netecho", "");
    let (_, port) = s.listen("127.0.0.1", "echo");
    let text = "hello from nc\nsecond line\n";
    let mut nc = Command::new("nc")
        .args(["-N", "-w", "60", "127.0.0.1", &port.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("can't run nc (netcat-openbsd)");
    nc.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = nc.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), text, "nc got back something else ({})", out.status);
    s.ask("closed 1", "closed");
    s.finish();
}

#[test]
fn connect_cycles_leave_no_slot() {
    let mut s = Session::start("netecho", "");
    let (listen_id, port) = s.listen("127.0.0.1", "echo");
    let before = s.info();
    let cycles = 10_000;
    python("net_cycles.py", &["127.0.0.1", &port.to_string(), &cycles.to_string()], "net_cycles OK");
    let closed = s.ask(&format!("closed {cycles}"), "closed");
    assert_eq!(closed[1], cycles.to_string(), "more connections closed than were opened");
    let after = s.info();
    let ids = |v: &[Sock]| {
        let mut ids: Vec<i32> = v.iter().map(|so| so.id).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&after), ids(&before), "slots leaked: before {before:?}, after {after:?}");
    let listener = after.iter().find(|so| so.id == listen_id).expect("the listener is gone");
    assert_eq!(listener.kind, INFO_LISTEN, "{listener:?}");
    assert!(after.iter().all(|so| so.id == listen_id || so.kind == INFO_TCP), "{after:?}");
    s.finish();
}

#[test]
fn slow_reader_gets_warning_and_memory_stays_bounded() {
    let mut s = Session::start("netecho", "");
    let (_, port) = s.listen("127.0.0.1", "spray");
    // A client that never reads: the service writes 64 KiB chunks until the first WARNING.
    let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let warning = s.expect("warning ");
    let f: Vec<&str> = warning.split(' ').collect();
    let id: i32 = f[1].parse().unwrap();
    let kb: i64 = f[2].parse().unwrap();
    assert!(kb >= 1024, "the first WARNING comes at 1 MiB pending, got {kb} KiB");
    let socks = s.info();
    let Some(sock) = socks.iter().find(|so| so.id == id) else {
        s.fail(format!("socket {id} missing from {socks:?}"));
    };
    // It stopped at the warning: the backlog is about 1 MiB, not growing without bound.
    assert!(
        (1 << 20..=2 << 20).contains(&sock.wbuffer),
        "pending write size {} after the WARNING (want 1 to 2 MiB)",
        sock.wbuffer
    );
    let peer = client.local_addr().unwrap().port();
    assert!(sock.name.ends_with(&format!(":{peer}")), "info name {:?} is not the client {peer}", sock.name);
    // Closing the unread client resets the connection: the slot and its buffer go away.
    drop(client);
    s.expect(&format!("gone {id}"));
    let socks = s.info();
    assert!(socks.iter().all(|so| so.id != id), "socket {id} still listed after the peer left: {socks:?}");
    s.finish();
}

#[test]
fn connect_to_closed_port_reports_error() {
    let mut s = Session::start("netecho", "");
    let port = free_port(); // nothing listens there any more
    let reply = s.ask(&format!("connect 127.0.0.1 {port}"), "connect");
    assert_eq!(reply[0], "connecting", "{reply:?}");
    let id = &reply[1];
    let error = s.expect(&format!("error {id}"));
    let text = error.splitn(3, ' ').nth(2).unwrap_or("");
    assert!(!text.trim().is_empty(), "ERROR without a reason: {error:?}");
    let socks = s.info();
    assert!(socks.iter().all(|so| so.id.to_string() != *id), "failed socket {id} still listed: {socks:?}");
    s.finish();
}

#[test]
fn ipv6_loopback() {
    let mut s = Session::start("netecho", "");
    let (listen_id, port) = s.listen("::1", "echo");
    let listener = s.info().into_iter().find(|so| so.id == listen_id).expect("the listener is listed");
    assert!(listener.name.contains("::1"), "listener name {:?}", listener.name);
    python("net_echo.py", &["::1", &port.to_string(), "4", "1,1000,100000"], "net_echo OK 4 404004");
    // The service's own connect over IPv6, echoed by its own listener.
    let reply = s.ask(&format!("connect ::1 {port}"), "connect");
    assert_eq!(reply[0], "connecting", "{reply:?}");
    let id = reply[1].clone();
    s.expect(&format!("connected {id}"));
    s.send(&format!("send {id} hello over v6"));
    let data = s.expect(&format!("data {id} "));
    assert_eq!(data, format!("data {id} hello over v6"));
    s.finish();
}

// ---------------------------------------------------------------- gate

/// A gate client: frames with a `header`-byte big-endian length.
struct Client {
    stream: TcpStream,
    header: usize,
}

impl Client {
    fn connect(port: u16, header: usize) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the gate");
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client { stream, header }
    }

    fn port(&self) -> u16 {
        self.stream.local_addr().unwrap().port()
    }

    fn frame(&self, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u64;
        let mut out: Vec<u8> = (0..self.header).rev().map(|i| (len >> (8 * i)) as u8).collect();
        out.extend_from_slice(payload);
        out
    }

    fn write(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to the gate");
    }

    /// Reads one reply frame: (mark, payload).
    fn read(&mut self) -> (u8, Vec<u8>) {
        let mut head = vec![0u8; self.header];
        self.stream.read_exact(&mut head).expect("read a reply header");
        let len = head.iter().fold(0usize, |n, b| n << 8 | *b as usize);
        let mut body = vec![0u8; len];
        self.stream.read_exact(&mut body).expect("read a reply body");
        assert!(!body.is_empty(), "empty reply frame");
        (body[0], body[1..].to_vec())
    }

    fn expect_reply(&mut self, mark: u8, payload: &[u8]) {
        let (m, p) = self.read();
        assert_eq!((m as char, p.len()), (mark as char, payload.len()), "reply mark or size");
        assert!(p == payload, "reply payload differs");
    }

    /// True once the gate closed the connection (EOF or reset), without data before.
    fn closed(&mut self) -> bool {
        let mut buf = [0u8; 1];
        match self.stream.read(&mut buf) {
            Ok(0) => true,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => true,
            _ => false,
        }
    }
}

/// A netwatch node with its gate (`header` 'S' or 'L', `max` connections) on a free
/// port: (session, gate port).
fn gate_node(header: char, max: u32) -> (Session, u16) {
    let port = free_port();
    let s = Session::start("netwatch", &format!("{header} 127.0.0.1:{port} {max}"));
    (s, port)
}

/// Connects a client and returns it with its gate id (from the "open" report).
fn open(s: &mut Session, port: u16, header: usize) -> (Client, String) {
    let c = Client::connect(port, header);
    let line = s.expect("open ");
    let f: Vec<&str> = line.split(' ').collect();
    // upstream's report format: "<id> open <id> <ip:port>:0"
    let addr = f[2].strip_suffix(":0").unwrap_or_else(|| panic!("no \":0\" after the address in {line:?}"));
    let addr: SocketAddr = addr.parse().unwrap_or_else(|e| panic!("bad address in {line:?}: {e}"));
    assert_eq!(addr.port(), c.port(), "open report {line:?} is not for the client just connected");
    (c, f[1].to_string())
}

#[test]
fn gate_framing() {
    let (mut s, port) = gate_node('S', 16);
    let (mut a, id) = open(&mut s, port, 2);
    // Several frames in one write, a zero-length one among them (skipped, as upstream).
    let mut bytes = a.frame(b"one");
    bytes.extend(a.frame(b""));
    bytes.extend(a.frame(b"two"));
    bytes.extend(a.frame(&[0u8, b'\n', 255, b' ']));
    a.write(&bytes);
    a.expect_reply(b'T', b"one");
    a.expect_reply(b'T', b"two");
    a.expect_reply(b'T', &[0u8, b'\n', 255, b' ']);
    for len in [3, 3, 4] {
        assert_eq!(s.expect(&format!("data {id} ")), format!("data {id} {len}"));
    }
    // One frame written a byte at a time, header included.
    let payload: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
    for b in a.frame(&payload) {
        a.write(&[b]);
    }
    a.expect_reply(b'T', &payload);
    // A frame split across two writes, the second also carrying the start of the next.
    let big: Vec<u8> = (0..65534u32).map(|i| (i % 251) as u8).collect();
    let mut bytes = a.frame(&big);
    bytes.extend(a.frame(b"tail"));
    let (first, rest) = bytes.split_at(1000);
    a.write(first);
    a.write(rest);
    a.expect_reply(b'T', &big);
    a.expect_reply(b'T', b"tail");
    s.finish();
}

#[test]
fn gate_forward_broker_kick() {
    let (mut s, port) = gate_node('S', 16);
    // "hello :<watchdog> :<gate>"
    let watchdog = s.hello.split(' ').nth(1).expect("the watchdog's handle").to_string();
    let (mut a, id) = open(&mut s, port, 2);
    let (mut b, id_b) = open(&mut s, port, 2);
    // forward: packets of a go to the agent (the watchdog itself here) as PTYPE_CLIENT,
    // from the client handle given. "push" is the barrier: the gate ran the command.
    s.send(&format!("gate forward {id} {watchdog} {watchdog}"));
    s.send(&format!("push {id} forwarded"));
    a.expect_reply(b'P', b"forwarded");
    a.write(&a.frame(b"to the agent"));
    a.expect_reply(b'A', b"to the agent");
    let agent = s.expect(&format!("agent {id} "));
    assert_eq!(agent, format!("agent {id} 12 {watchdog}"), "the agent sees the client handle as source");
    // b is not forwarded: still reported as text.
    b.write(&b.frame(b"plain"));
    b.expect_reply(b'T', b"plain");
    // broker: every connection's packets go to the named broker.
    s.send("gate broker .netwatch");
    s.send(&format!("push {id} brokered"));
    a.expect_reply(b'P', b"brokered");
    a.write(&a.frame(b"x"));
    a.expect_reply(b'B', b"x");
    b.write(&b.frame(b"y"));
    b.expect_reply(b'B', b"y");
    // An unknown broker name clears it: back to agent and text.
    s.send("gate broker .no_such_name");
    s.send(&format!("push {id} unbrokered"));
    a.expect_reply(b'P', b"unbrokered");
    a.write(&a.frame(b"z"));
    a.expect_reply(b'A', b"z");
    // kick closes that connection only.
    s.send(&format!("gate kick {id}"));
    assert!(a.closed(), "a kicked client must see its connection closed");
    s.expect(&format!("close {id}"));
    b.write(&b.frame(b"still here"));
    b.expect_reply(b'T', b"still here");
    // An unknown command is logged, as upstream.
    s.send("gate frobnicate 1");
    s.send(&format!("push {id_b} after"));
    b.expect_reply(b'P', b"after");
    s.node.wait_for_line("[gate] Unknown command : frobnicate 1", LIMIT);
    s.finish();
}

#[test]
fn gate_connection_limit() {
    let (mut s, port) = gate_node('S', 3);
    let mut clients: Vec<(Client, String)> = (0..3).map(|_| open(&mut s, port, 2)).collect();
    // The fourth is accepted by the kernel and closed at once by the gate, unreported.
    let mut extra = Client::connect(port, 2);
    assert!(extra.closed(), "a client beyond max must be closed");
    let (first, first_id) = clients.remove(0);
    drop(first);
    s.expect(&format!("close {first_id}"));
    assert!(!s.backlog.iter().any(|l| l.starts_with("open ")), "the refused client was reported: {:?}", s.backlog);
    // A slot is free again.
    let (mut again, _) = open(&mut s, port, 2);
    again.write(&again.frame(b"in"));
    again.expect_reply(b'T', b"in");
    for (c, _) in clients.iter_mut() {
        c.write(&c.frame(b"ok"));
        c.expect_reply(b'T', b"ok");
    }
    s.finish();
}

#[test]
fn gate_peer_closes_mid_frame() {
    let (mut s, port) = gate_node('S', 16);
    let (mut stay, _) = open(&mut s, port, 2);
    let (mut quit, quit_id) = open(&mut s, port, 2);
    // 100 bytes announced, 10 sent, then the peer goes away.
    let mut bytes = vec![0u8, 100];
    bytes.extend_from_slice(&[b'q'; 10]);
    quit.write(&bytes);
    quit.stream.shutdown(Shutdown::Both).unwrap();
    drop(quit);
    s.expect(&format!("close {quit_id}"));
    assert!(
        !s.backlog.iter().any(|l| l.starts_with(&format!("data {quit_id} "))),
        "a truncated frame was delivered: {:?}",
        s.backlog
    );
    stay.write(&stay.frame(b"unaffected"));
    stay.expect_reply(b'T', b"unaffected");
    let (mut fresh, _) = open(&mut s, port, 2);
    fresh.write(&fresh.frame(b"new"));
    fresh.expect_reply(b'T', b"new");
    s.finish();
}

#[test]
fn gate_oversized_header_closes_the_connection() {
    // 4-byte headers: a length of 16 MiB or more drops the connection with upstream's log.
    let (mut s, port) = gate_node('L', 16);
    let (mut good, _) = open(&mut s, port, 4);
    let (mut bad, bad_id) = open(&mut s, port, 4);
    let mut bytes = vec![0x01, 0x00, 0x00, 0x00];
    bytes.extend_from_slice(b"some bytes of a body that will never be complete");
    bad.write(&bytes);
    assert!(bad.closed(), "the gate must close a connection announcing a 16 MiB packet");
    s.expect(&format!("close {bad_id}"));
    s.node.wait_for_line("Recv socket message > 16M", LIMIT);
    // Large packets below the limit still pass on the other connection.
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    good.write(&good.frame(&payload));
    good.expect_reply(b'T', &payload);
    s.finish();
}

#[test]
fn gate_connect_cycles_leave_no_slot() {
    // The gate finishes every connection its peer closed (upstream's gate leaves them
    // half-closed): after many cycles only the listener and the control socket remain.
    // max is above the cycles, so none is refused (refusals are not reported).
    let cycles = 2000;
    let (mut s, port) = gate_node('S', cycles + 1);
    let before: Vec<i32> = s.info().iter().map(|so| so.id).collect();
    python("net_cycles.py", &["127.0.0.1", &port.to_string(), &cycles.to_string()], "net_cycles OK");
    let mut last = String::new();
    for _ in 0..cycles {
        last = s.expect("close ");
    }
    // Reports precede the gate's own close request: only the last one may still be pending.
    let last: i32 = last[6..].parse().unwrap();
    let after = s.info();
    let leaked: Vec<&Sock> = after.iter().filter(|so| !before.contains(&so.id) && so.id != last).collect();
    assert!(leaked.is_empty(), "slots leaked after {cycles} cycles: {leaked:?}");
    assert!(s.backlog.iter().all(|l| !l.starts_with("data ")), "unexpected data: {:?}", s.backlog);
    s.finish();
}

#[test]
fn gate_close_stops_listening() {
    let (mut s, port) = gate_node('S', 16);
    let (mut a, id) = open(&mut s, port, 2);
    // Requests reach the socket thread in order: once the kick is done, so is the close.
    s.send("gate close");
    s.send(&format!("gate kick {id}"));
    assert!(a.closed(), "kicked client not closed");
    match TcpStream::connect(("127.0.0.1", port)) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}"),
        Ok(_) => panic!("the gate still accepts connections after \"close\""),
    }
    s.finish();
}
