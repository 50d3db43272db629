//! skynet.socket, snax.gateserver + service/gate.lua, and the example node, each driven
//! by Lua services inside a node and by real clients outside it (Rust sockets, Python,
//! and examples/client.lua on our `lua` interpreter).

mod common;

use common::*;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
/// Guards blocking socket reads against a node that stopped answering.
const IO_LIMIT: Duration = Duration::from_secs(30);

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("connect to port {port}: {e}"));
    s.set_read_timeout(Some(IO_LIMIT)).expect("set_read_timeout");
    s
}

/// The number at the end of a line such as "[:00000008] OUTSIDE ready 41234".
fn trailing_port(line: &str) -> u16 {
    line.split_whitespace()
        .last()
        .and_then(|w| w.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port at the end of {line:?}"))
}

/// True once the peer has closed: a read returns end of file or the connection was reset.
fn sees_close(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => panic!("waiting for the close: {e}"),
        }
    }
}

// ---------------------------------------------------------------- skynet.socket in a node

#[test]
fn socket_tcp_between_services() {
    for layout in LAYOUTS {
        let out = lua_test("socket_tcp", "", layout, "", LIMIT);
        // The big-buffer case pauses reading by hand, resumes it for a reader, and pauses
        // again when a read is satisfied with more than 128K buffered.
        assert!(out.contains("Pause socket ("), "no pause logged\n{out}");
        assert!(out.contains("Resume socket ("), "no resume logged\n{out}");
        assert!(out.contains("socket buffer overflow"), "socket.limit did not trip\n{out}");
    }
}

#[test]
fn socket_udp_and_resolve() {
    for layout in LAYOUTS {
        let args = format!("{} {}", free_port(), free_port());
        lua_test("socket_udp", &args, layout, "", LIMIT);
    }
}

// ---------------------------------------------------------------- outside clients

/// Reads one line from the node, without the newline.
fn line(r: &mut BufReader<TcpStream>) -> String {
    let mut s = String::new();
    r.read_line(&mut s).unwrap_or_else(|e| panic!("reading a line: {e}"));
    assert!(s.ends_with('\n'), "connection ended mid-line: {s:?}");
    s.trim_end_matches('\n').to_string()
}

fn pattern(n: usize) -> Vec<u8> {
    b"0123456789abcdef".iter().copied().cycle().take(n).collect()
}

#[test]
fn socket_with_outside_clients() {
    for layout in LAYOUTS {
        let mut node = start_node(&lua_config("socket_outside", layout, ""));
        let port = trailing_port(&node.wait_for_line("OUTSIDE ready", LIMIT));

        // Lines cut at arbitrary places come back whole.
        let mut c = connect(port);
        let mut r = BufReader::new(c.try_clone().expect("clone"));
        for piece in [&b"hel"[..], b"lo\nwor", b"ld\n", b"\n"] {
            c.write_all(piece).expect("write");
        }
        assert_eq!(line(&mut r), "echo:hello");
        assert_eq!(line(&mut r), "echo:world");
        assert_eq!(line(&mut r), "echo:");

        // A megabyte in one go: the node pauses and resumes reading on the way.
        let n = 1 << 20;
        c.write_all(format!("bulk {n}\n").as_bytes()).expect("write");
        c.write_all(&pattern(n)).expect("write bulk");
        assert_eq!(line(&mut r), format!("bulk {n} ok"));

        // The node as a client: it connects out, writes, and reads until we close.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let lport = listener.local_addr().expect("addr").port();
        c.write_all(format!("dial {lport}\n").as_bytes()).expect("write");
        let (mut peer, _) = listener.accept().expect("accept the node");
        peer.set_read_timeout(Some(IO_LIMIT)).expect("timeout");
        let mut greeting = [0u8; 5];
        peer.read_exact(&mut greeting).expect("node greeting");
        assert_eq!(&greeting, b"node\n");
        peer.write_all(b"from ").expect("write");
        peer.write_all(b"rust").expect("write");
        drop(peer);
        assert_eq!(line(&mut r), "dialed from rust");

        // A peer that closes while the node waits for the rest of a line.
        let mut half = connect(port);
        half.write_all(b"partial").expect("write");
        half.shutdown(Shutdown::Write).expect("shutdown");
        node.wait_for_line("OUTSIDE closed rest=partial", LIMIT);
        assert!(sees_close(&mut half), "the node closes its side too");

        // Python's socket module as the client.
        let script = "import socket,sys\n\
                      s=socket.create_connection(('127.0.0.1',int(sys.argv[1])))\n\
                      s.sendall(b'from python\\n')\n\
                      f=s.makefile('rb')\n\
                      sys.stdout.write(f.readline().decode())\n";
        let py = Command::new("python3")
            .args(["-c", script, &port.to_string()])
            .output()
            .unwrap_or_else(|e| panic!("can't run python3: {e}"));
        assert!(py.status.success(), "python client failed: {}", String::from_utf8_lossy(&py.stderr));
        assert_eq!(String::from_utf8_lossy(&py.stdout), "echo:from python\n");

        c.write_all(b"bye\n").expect("write");
        assert_eq!(line(&mut r), "bye");
        let out = node.wait(LIMIT);
        assert_passed(&out, "socket_outside");
        assert_success(&out);
    }
}

// ---------------------------------------------------------------- gate.lua

fn frame(payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len()).expect("a frame holds at most 65535 bytes");
    let mut v = len.to_be_bytes().to_vec();
    v.extend_from_slice(payload);
    v
}

fn read_frame(s: &mut TcpStream) -> String {
    let mut head = [0u8; 2];
    s.read_exact(&mut head).unwrap_or_else(|e| panic!("reading a frame header: {e}"));
    let mut body = vec![0u8; u16::from_be_bytes(head) as usize];
    s.read_exact(&mut body).unwrap_or_else(|e| panic!("reading a frame body: {e}"));
    String::from_utf8(body).expect("utf-8 frame")
}

#[test]
fn gate_with_a_watchdog_and_agents() {
    for layout in LAYOUTS {
        let mut node = start_node(&lua_config("gate_watchdog 3", layout, ""));
        let port = trailing_port(&node.wait_for_line("GATE listen", LIMIT));

        let mut c1 = connect(port);
        node.wait_for_line("GATE open", LIMIT);
        // A frame cut inside its header and inside its body.
        let f = frame(b"hello");
        c1.write_all(&f[..1]).expect("write");
        c1.write_all(&f[1..4]).expect("write");
        c1.write_all(&f[4..]).expect("write");
        assert_eq!(read_frame(&mut c1), "echo:hello");
        // Several frames in one write, the last one incomplete until the next write.
        let mut batch = [frame(b"a"), frame(b"bb"), frame(b"ccc")].concat();
        let tail = frame(b"dddd");
        batch.extend_from_slice(&tail[..3]);
        c1.write_all(&batch).expect("write");
        c1.write_all(&tail[3..]).expect("write");
        for want in ["echo:a", "echo:bb", "echo:ccc", "echo:dddd"] {
            assert_eq!(read_frame(&mut c1), want);
        }
        // The largest frame the 2-byte header allows, in uneven pieces.
        let big = frame(&pattern(65535));
        for chunk in big.chunks(7000) {
            c1.write_all(chunk).expect("write");
        }
        assert_eq!(read_frame(&mut c1), "len:65535");

        // Hand the connection to an agent: the gate forwards to it from then on.
        c1.write_all(&frame(b"agent")).expect("write");
        assert_eq!(read_frame(&mut c1), "agent ready");
        c1.write_all(&[frame(b"x"), frame(b"yz")].concat()).expect("write");
        assert_eq!(read_frame(&mut c1), "agent:x");
        assert_eq!(read_frame(&mut c1), "agent:yz");

        // The watchdog kicks a client.
        let mut c2 = connect(port);
        node.wait_for_line("GATE open", LIMIT);
        c2.write_all(&frame(b"kick")).expect("write");
        assert!(sees_close(&mut c2), "kicked client is closed");
        node.wait_for_line("GATE close", LIMIT);

        // maxclient is 3: c1, c3 and c4 fill the gate, c5 is refused.
        let mut c3 = connect(port);
        c3.write_all(&frame(b"three")).expect("write");
        assert_eq!(read_frame(&mut c3), "echo:three");
        let mut c4 = connect(port);
        c4.write_all(&frame(b"four")).expect("write");
        assert_eq!(read_frame(&mut c4), "echo:four");
        let mut c5 = connect(port);
        assert!(sees_close(&mut c5), "a client over maxclient is closed");

        // A client leaving with half a frame sent frees its place.
        let partial = frame(b"never finished");
        c3.write_all(&partial[..6]).expect("write");
        drop(c3);
        node.wait_for_line("GATE close", LIMIT);
        let mut c6 = connect(port);
        c6.write_all(&frame(b"six")).expect("write");
        assert_eq!(read_frame(&mut c6), "echo:six");

        // The gate stops listening; connected clients stay.
        c4.write_all(&frame(b"close")).expect("write");
        assert_eq!(read_frame(&mut c4), "closed");
        // Refused, or (if the kernel queued it before the listen socket closed) reset.
        if let Ok(mut late) = TcpStream::connect(("127.0.0.1", port)) {
            late.set_read_timeout(Some(IO_LIMIT)).expect("set_read_timeout");
            assert!(sees_close(&mut late), "the gate still accepts after close");
        }
        c6.write_all(&frame(b"still")).expect("write");
        assert_eq!(read_frame(&mut c6), "echo:still");

        c4.write_all(&frame(b"bye")).expect("write");
        let out = node.wait(LIMIT);
        assert_passed(&out, "gate_watchdog");
        assert_success(&out);
        assert!(!out.contains("GATE error"), "no socket errors expected\n{out}");
    }
}

// ---------------------------------------------------------------- the example node

/// examples/config (with examples/config.path inlined, so it can live in a temp dir),
/// with free ports for the harbor, the debug console and the watchdog.
fn example_config(layout: Layout, debug_port: u16, gate_port: u16) -> String {
    let read = |name: &str| {
        let path = root().join("examples").join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("can't read {}: {e}", path.display()))
    };
    let (master, address) = (free_port(), free_port());
    let mut out = String::new();
    for l in read("config").lines() {
        let key = l.split('=').next().unwrap_or("").trim();
        let replaced = match key {
            _ if l.trim() == "include \"config.path\"" => read("config.path"),
            "start" => format!("start = \"main {debug_port} {gate_port}\""),
            "harbor" if layout == Layout::Single => "harbor = 0".to_string(),
            "address" | "master" | "standalone" if layout == Layout::Single => String::new(),
            "address" => format!("address = \"127.0.0.1:{address}\""),
            "master" => format!("master = \"127.0.0.1:{master}\""),
            "standalone" => format!("standalone = \"127.0.0.1:{master}\""),
            "thread" => "thread = 4".to_string(),
            _ => l.to_string(),
        };
        out.push_str(&replaced);
        out.push('\n');
    }
    out
}


/// examples/client.lua on the bundled interpreter, fed from a pipe like a terminal.
struct ExampleClient {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl ExampleClient {
    fn start(lua: &std::path::Path, port: u16) -> ExampleClient {
        let mut child = Command::new(lua)
            .args(["examples/client.lua", "127.0.0.1", &port.to_string()])
            .current_dir(root())
            .env_remove("LUA_INIT")
            .env_remove("LUA_INIT_5_4")
            .env_remove("LUA_INIT_5_5")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("can't run {}: {e}", lua.display()));
        let stdout = child.stdout.take().expect("piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let stdin = child.stdin.take();
        ExampleClient { child, stdin, lines, seen: Vec::new() }
    }

    /// Reads printed lines up to the one that is exactly `line`.
    fn expect(&mut self, line: &str) {
        loop {
            match self.lines.recv_timeout(LIMIT) {
                Ok(l) => {
                    let found = l == line;
                    self.seen.push(l);
                    if found {
                        return;
                    }
                }
                Err(_) => panic!("client.lua printed no {line:?}; printed:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// Types `line` into the client.
    fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open until the end");
        writeln!(stdin, "{line}").expect("write to client.lua");
    }

    /// Waits for the client to exit (its stdin stays open until then: at the end of its
    /// input it would exit by itself).
    fn finish(self) {
        let (tx, rx) = mpsc::channel();
        let pid = self.child.id();
        let mut child = self.child;
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        let status = match rx.recv_timeout(LIMIT) {
            Ok(status) => status.expect("client.lua exit"),
            Err(_) => {
                // SAFETY: signals our own child, which has not been reaped (its waiter is stuck).
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                panic!("client.lua did not exit within {LIMIT:?}\n{}", self.seen.join("\n"));
            }
        };
        assert!(status.success(), "client.lua exited with {status}\n{}", self.seen.join("\n"));
    }
}

#[test]
fn example_node_serves_clients() {
    let lua = bundled_lua();
    for layout in LAYOUTS {
        let (debug_port, gate_port) = (free_port(), free_port());
        let mut node = start_node(&example_config(layout, debug_port, gate_port));
        node.wait_for_line(&format!("Watchdog listen on 0.0.0.0:{gate_port}"), LIMIT);

        // The debug console is up on its port.
        let mut console = BufReader::new(connect(debug_port));
        let mut welcome = String::new();
        console.read_line(&mut welcome).expect("console greeting");
        assert!(welcome.contains("Welcome to skynet console"), "debug console said {welcome:?}");

        // Two scripted clients: handshake, set/get, a value shared between them, the
        // heartbeat, a bad packet, quit.
        let cli = run_lua_script("tests/lua/example_cli.lua", &[&root().display().to_string(), &gate_port.to_string()], LIMIT);
        let said = format!("{}{}", String::from_utf8_lossy(&cli.stdout), String::from_utf8_lossy(&cli.stderr));
        assert!(cli.status.success(), "example_cli.lua failed ({})\n{said}\n{}", cli.status, node.output_so_far());
        assert!(said.lines().any(|l| l == "TEST example_cli PASS"), "no PASS from example_cli.lua\n{said}");

        // examples/client.lua: its opening handshake and set, then typed requests.
        let mut c = ExampleClient::start(&lua, gate_port);
        c.expect("Request:\t1\thandshake");
        c.expect("RESPONSE\t1");
        c.expect("msg\tWelcome to skynet, I will send heartbeat every 5 sec.");
        c.expect("RESPONSE\t2");
        c.type_line("example_cli");
        c.expect("Request:\t3\tget");
        c.expect("RESPONSE\t3");
        c.expect("result\tsecond value"); // stored by example_cli.lua's clients
        c.type_line("set typed some text");
        c.type_line("typed");
        c.expect("Request:\t5\tget");
        c.expect("RESPONSE\t5");
        c.expect("result\tsome text");
        c.type_line("hello");
        c.expect("RESPONSE\t6");
        c.expect("result\tworld");
        c.expect("REQUEST\theartbeat");
        c.type_line("quit");
        c.expect("Request:\t7\tquit");
        c.expect("RESPONSE\t7");
        c.expect("Server closed");
        c.finish();

        node.kill();
        let out = node.wait(LIMIT);
        assert!(out.contains("LAUNCH snlua simpledb"), "simpledb started\n{out}");
        let loaders = out.lines().into_iter().filter(|l| l.contains("LAUNCH snlua protoloader")).count();
        assert_eq!(loaders, 1, "one protoloader\n{out}");
        assert!(out.contains("set hello world"), "the agent logs requests\n{out}");
        // The bad packet is logged, once; no other Lua error was raised in the example
        // services, the gate or sproto.
        let bad: Vec<&str> = out.lines().into_iter().filter(|l| l.contains("bad packet from fd")).collect();
        assert_eq!(bad.len(), 1, "{out}");
        let ours = ["examples/", "service/gate.lua", "snax/gateserver.lua", "sproto"];
        let raised: Vec<&str> = out
            .lines()
            .into_iter()
            .filter(|l| l.contains(".lua:") && !l.contains("bad packet from fd") && ours.iter().any(|f| l.contains(f)))
            .collect();
        assert!(raised.is_empty(), "errors in the example node:\n{}\n\n{out}", raised.join("\n"));
    }
}
