//! http.websocket and TLS (ltls.c, http.tlshelper) against programs nobody here wrote:
//! Python's `websockets` package as client and server (ws:// and wss://), an HTTPS server
//! made with Python's `ssl` and `http.server` for our httpc, and curl for our httpd over
//! TLS. Certificates are made by the `openssl` command for each test. The protocol's rules
//! are checked frame by frame against raw sockets (tests/lua/http_wsproto.lua), and the
//! echo example (examples/simplewebsocket.lua) against a `websockets` client.

mod common;

use common::*;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);

/// The Python with Debian's packages (`websockets`): /usr/bin/python3 when there is one.
fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

fn script(name: &str) -> PathBuf {
    root().join("tests").join("py").join(name)
}

/// Fails early, saying what to install, when the TLS module was not built.
fn require_tls() {
    let so = root().join("luaclib").join("ltls.so");
    assert!(
        so.exists(),
        "{} is missing: it is built by `make linux` only where OpenSSL's headers are installed \
         (Debian: apt-get install libssl-dev), then rerun make linux",
        so.display()
    );
}

/// A self-signed certificate for localhost (cert.pem, key.pem) in a temp dir.
struct Cert {
    dir: tempfile::TempDir,
}

impl Cert {
    fn new() -> Cert {
        require_tls();
        let dir = tempfile::Builder::new().prefix("skynet-tls").tempdir().expect("temp dir");
        let out = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"])
            .arg("-keyout")
            .arg(dir.path().join("key.pem"))
            .arg("-out")
            .arg(dir.path().join("cert.pem"))
            .output()
            .unwrap_or_else(|e| panic!("can't run openssl (is it installed?): {e}"));
        assert!(out.status.success(), "openssl req failed:\n{}", String::from_utf8_lossy(&out.stderr));
        Cert { dir }
    }

    fn cert(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    fn key(&self) -> PathBuf {
        self.dir.path().join("key.pem")
    }

    /// Config lines switching TLS on with this certificate for our servers.
    fn config(&self) -> String {
        format!(
            "enablessl = \"true\"\ncertfile = {}\nkeyfile = {}\n",
            lua_str(&self.cert().display().to_string()),
            lua_str(&self.key().display().to_string())
        )
    }
}

/// A Python program running beside a node; killed when dropped.
struct Py {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Py {
    fn start(name: &str, args: &[&str]) -> Py {
        let mut child = Command::new(python())
            .arg(script(name))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("can't start {} {name}: {e}", python()));
        let (tx, lines) = mpsc::channel();
        for pipe in [
            Box::new(child.stdout.take().expect("piped")) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().expect("piped")),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Py { child, lines, seen: Vec::new() }
    }

    /// Waits for a line starting with `prefix` and returns it; panics with everything the
    /// program printed if its output ends first or `limit` passes.
    fn wait_for_line(&mut self, prefix: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        if let Some(l) = self.seen.iter().find(|l| l.starts_with(prefix)) {
            return l.clone();
        }
        loop {
            match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no line {prefix:?} from the Python program within {limit:?}:\n{}", self.seen.join("\n"))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the Python program ended without a line {prefix:?}:\n{}", self.seen.join("\n"))
                }
            }
        }
    }

    /// The port from its "PORT <n>" line.
    fn port(&mut self) -> u16 {
        let line = self.wait_for_line("PORT ", LIMIT);
        line[5..].trim().parse().unwrap_or_else(|_| panic!("bad port line {line:?}"))
    }

    /// Waits for the program to end by itself; panics (showing its output) unless it
    /// exits with status 0 within `limit`.
    fn finish(mut self, limit: Duration) -> Vec<String> {
        let deadline = Instant::now() + limit;
        // its output ends when it exits
        loop {
            match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("the Python program did not end within {limit:?}:\n{}", self.seen.join("\n"))
                }
            }
        }
        let status = self.child.wait().expect("wait for python");
        assert!(status.success(), "the Python program failed ({status}):\n{}", self.seen.join("\n"));
        std::mem::take(&mut self.seen)
    }
}

impl Drop for Py {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------- our server, their client

#[test]
fn ws_server_against_websockets_client() {
    let cert = Cert::new();
    for layout in LAYOUTS {
        for scheme in ["ws", "wss"] {
            let port = free_port();
            let config = lua_config(&format!("ws_server {port} {scheme}"), layout, &cert.config());
            let mut node = start_node(&config);
            node.wait_for_line("WS ready", LIMIT);
            let client = Py::start("ws_client.py", &[&port.to_string(), scheme]);
            let printed = client.finish(LIMIT);
            assert!(printed.iter().any(|l| l == "WSCLIENT OK"), "{scheme} client:\n{}", printed.join("\n"));
            let out = node.wait(LIMIT);
            assert_passed(&out, "ws_server");
            assert_success(&out);
        }
    }
}

// ---------------------------------------------------------------- our client, their server

/// Our client against the Python server: ws:// without a certificate, wss:// with one.
fn ws_client_against(cert: Option<&Cert>, layout: Layout) {
    let port = free_port().to_string();
    let (scheme, host, tls_args, config) = match cert {
        // a name, so that our client sends it as the TLS server name
        Some(c) => {
            ("wss", "localhost", vec![c.cert().display().to_string(), c.key().display().to_string()], c.config())
        }
        None => ("ws", "127.0.0.1", vec![], String::new()),
    };
    let mut args = vec![host.to_string(), port.clone()];
    args.extend(tls_args);
    let mut server = Py::start("ws_server.py", &args.iter().map(String::as_str).collect::<Vec<_>>());
    server.port();
    let dead = free_port();
    lua_test("ws_client", &format!("{port} {scheme} {host} {dead}"), layout, &config, LIMIT);
    // the server saw our extra header, our close code and reason
    server.wait_for_line("HDR yes", LIMIT);
    server.wait_for_line("CLOSED /echo 4003 client bye", LIMIT);
    if cert.is_some() {
        server.wait_for_line("SNI localhost", LIMIT);
    }
}

#[test]
fn ws_client_against_websockets_server() {
    for layout in LAYOUTS {
        ws_client_against(None, layout);
    }
}

#[test]
fn wss_client_against_websockets_server() {
    let cert = Cert::new();
    for layout in LAYOUTS {
        ws_client_against(Some(&cert), layout);
    }
}

// ---------------------------------------------------------------- TLS

#[test]
fn tls_module_in_memory() {
    let cert = Cert::new();
    for layout in LAYOUTS {
        lua_test("tls_ltls", "", layout, &cert.config(), LIMIT);
    }
}

#[test]
fn tls_needs_enablessl() {
    require_tls();
    lua_test("tls_noinit", "", Layout::Single, "", LIMIT);
}

#[test]
fn httpc_against_python_https_server() {
    let cert = Cert::new();
    let mut server =
        Py::start("tls_https_server.py", &[&cert.cert().display().to_string(), &cert.key().display().to_string()]);
    let port = server.port();
    for layout in LAYOUTS {
        lua_test("tls_httpc", &port.to_string(), layout, &cert.config(), LIMIT);
    }
}

fn curl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("curl")
        .args(["-k", "-sS", "--max-time", "60"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("can't run curl (is it installed?): {e}"));
    assert!(out.status.success(), "curl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Deterministic bytes that are not all alike.
fn pattern(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[test]
fn httpd_over_tls_with_curl() {
    let cert = Cert::new();
    for layout in LAYOUTS {
        let port = free_port();
        let base = format!("https://127.0.0.1:{port}");
        let mut node = start_node(&lua_config(&format!("tls_httpd {port}"), layout, &cert.config()));
        node.wait_for_line("TLSHTTPD ready", LIMIT);

        // two requests on one kept-alive connection
        let got = curl(&[&format!("{base}/hello"), &format!("{base}/again?x=1")]);
        assert_eq!(String::from_utf8_lossy(&got), "GET /hello 0\nGET /again?x=1 0\n");
        node.wait_for_line("TLSHTTPD served 2", LIMIT);

        // a 1 MB body each way, with a length and chunked
        let dir = tempfile::tempdir().expect("temp dir");
        let body = pattern(1 << 20);
        let input = dir.path().join("in.bin");
        std::fs::write(&input, &body).expect("write body");
        let data = format!("@{}", input.display());
        let got = curl(&["--data-binary", &data, &format!("{base}/upload")]);
        assert!(got == body, "1 MB echo differs ({} bytes back)", got.len());
        let got = curl(&["-H", "Transfer-Encoding: chunked", "--data-binary", &data, &format!("{base}/chunked")]);
        assert!(got == body, "1 MB chunked echo differs ({} bytes back)", got.len());

        // plain HTTP on the TLS port: the handshake fails, the connection is closed, the
        // server goes on
        let mut plain = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        plain.set_read_timeout(Some(LIMIT)).expect("set_read_timeout");
        plain.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
        let mut buf = [0u8; 256];
        loop {
            match plain.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
                Err(e) => panic!("waiting for the server to drop a plain connection: {e}"),
            }
        }
        node.wait_for_line("TLSHTTPD handshake failed", LIMIT);

        assert_eq!(curl(&[&format!("{base}/quit")]), b"bye");
        let out = node.wait(LIMIT);
        assert_passed(&out, "tls_httpd");
        assert_success(&out);
    }
}

// ---------------------------------------------------------------- protocol rules

#[test]
fn websocket_protocol_rules_frame_by_frame() {
    for layout in LAYOUTS {
        lua_test("http_wsproto", "", layout, "", LIMIT);
    }
}

// ---------------------------------------------------------------- the echo example

#[test]
fn simplewebsocket_example() {
    let cert = Cert::new();
    for layout in LAYOUTS {
        for scheme in ["ws", "wss"] {
            let port = free_port();
            let mut node = start_node(&lua_config(&format!("simplewebsocket {port} {scheme}"), layout, &cert.config()));
            node.wait_for_line(&format!("Listen websocket port {port} protocol:{scheme}"), LIMIT);
            // the example's own client: a message answered, and its ping seen by an agent
            node.wait_for_line("<: hello world!", LIMIT);
            node.wait_for_line("ws ping from:", LIMIT);

            let client = Py::start("ws_echo.py", &[&port.to_string(), scheme]);
            let printed = client.finish(LIMIT);
            assert!(printed.iter().any(|l| l == "ECHO OK"), "{scheme} echo client:\n{}", printed.join("\n"));
            // the agent reported the Python client's close with its code and reason
            let closed = node.wait_for_line("ws close from:", LIMIT);
            let words: Vec<&str> = closed.split_whitespace().collect();
            assert!(words.ends_with(&["1000", "done"]), "close not reported with its code: {closed:?}");
            node.kill();
        }
    }
}
