//! The http libraries (httpd, httpc, url, sockethelper, internal) and the simpleweb
//! example, against clients and servers nobody here wrote: curl against our httpd, our
//! httpc against Python's http.server (plain and TLS), and both halves against each other.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(120);
/// Guards blocking socket reads and curl against a node that stopped answering.
const IO_LIMIT: Duration = Duration::from_secs(30);
const BIG: usize = 10 * 1024 * 1024;

/// The Debian python3 (with its packages) when there is one.
fn python3() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

fn pattern(n: usize) -> Vec<u8> {
    b"0123456789abcdef".iter().copied().cycle().take(n).collect()
}

/// Runs curl (silent, bounded by IO_LIMIT) and returns what it printed on stdout.
fn curl(args: &[&str]) -> String {
    let max = IO_LIMIT.as_secs().to_string();
    let out = Command::new("curl")
        .args(["-sS", "--max-time", &max])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("can't run curl: {e}"));
    assert!(
        out.status.success(),
        "curl {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes raw bytes to the node, ends our side, and returns everything it answers until
/// it closes.
fn raw_exchange(port: u16, pieces: &[&[u8]]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("connect to {port}: {e}"));
    s.set_read_timeout(Some(IO_LIMIT)).expect("set_read_timeout");
    for p in pieces {
        s.write_all(p).expect("write");
    }
    s.shutdown(Shutdown::Write).expect("shutdown");
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).expect("read the answer until the node closes");
    String::from_utf8_lossy(&answer).into_owned()
}

/// The numbers at the end of a line such as "[:00000008] HTTP ready 41234 41235".
fn trailing_ports(line: &str, n: usize) -> Vec<u16> {
    let words: Vec<&str> = line.split_whitespace().collect();
    assert!(words.len() >= n, "no {n} ports in {line:?}");
    words[words.len() - n..].iter().map(|w| w.parse().unwrap_or_else(|_| panic!("bad port in {line:?}"))).collect()
}

fn write_file(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap_or_else(|e| panic!("can't write {}: {e}", path.display()));
    path
}

// ---------------------------------------------------------------- inside the node

#[test]
fn url_parsing() {
    for layout in LAYOUTS {
        lua_test("http_url", "", layout, "", LIMIT);
    }
}

#[test]
fn httpc_against_our_httpd() {
    for layout in LAYOUTS {
        lua_test("http_loop", &free_port().to_string(), layout, "", LIMIT);
    }
}

// ---------------------------------------------------------------- curl against httpd

#[test]
fn httpd_with_curl() {
    let files = tempfile::tempdir().expect("temp dir");
    let big = write_file(files.path(), "big.bin", &pattern(BIG));
    let half = write_file(files.path(), "half.bin", &pattern(512 * 1024));
    let big_arg = format!("@{}", big.display());
    let half_arg = format!("@{}", half.display());

    for layout in LAYOUTS {
        let mut node = start_node(&lua_config("http_server", layout, ""));
        let ports = trailing_ports(&node.wait_for_line("HTTP ready", LIMIT), 2);
        let (open, small) = (ports[0], ports[1]);
        let url = |port: u16, path: &str| format!("http://127.0.0.1:{port}{path}");

        // keep-alive: curl sends both requests on one connection
        let out = curl(&[&url(open, "/echo?a=1&b=x%20y"), &url(open, "/echo?c=2")]);
        let conn = out.split_whitespace().next().unwrap_or_default().to_string();
        assert!(conn.starts_with("conn="), "unexpected answer {out:?}");
        assert_eq!(
            out,
            format!(
                "{conn} req=1 method=GET path=/echo len=0 match=yes q.a=1 q.b=x y\
                 {conn} req=2 method=GET path=/echo len=0 match=yes q.c=2"
            )
        );

        // 10 MB, with Content-Length and chunked
        let expect_big = format!("req=1 method=POST path=/echo len={BIG} match=yes");
        let out = curl(&["-H", "Expect:", "--data-binary", &big_arg, &url(open, "/echo")]);
        assert!(out.ends_with(&expect_big), "10 MB body: {out:?}");
        let out = curl(&["-H", "Expect:", "-H", "Transfer-Encoding: chunked", "--data-binary", &big_arg, &url(open, "/echo")]);
        assert!(out.ends_with(&expect_big), "10 MB chunked body: {out:?}");

        // the interface form answers 100-continue, and refuses bodies over its 1 MB limit
        let out = curl(&["-H", "Expect: 100-continue", "--data-binary", &half_arg, &url(small, "/echo")]);
        assert!(out.ends_with("len=524288 match=yes"), "512 KB body: {out:?}");
        let out = curl(&["-w", " %{http_code}", "--data-binary", &big_arg, &url(small, "/echo")]);
        assert_eq!(out, "refused 413 413");
        let out = curl(&["-w", " %{http_code}", "-H", "Transfer-Encoding: chunked", "--data-binary", &big_arg, &url(small, "/echo")]);
        assert_eq!(out, "refused 413 413");

        // a chunked answer
        let out = curl(&["-D", "-", &url(open, "/chunked?n=4")]);
        assert!(out.to_ascii_lowercase().contains("transfer-encoding: chunked"), "not chunked: {out:?}");
        assert!(out.ends_with("\r\n\r\npiece1;piece2;piece3;piece4;"), "chunked answer: {out:?}");

        // a malformed request line: 400, and the next client is served
        let answer = raw_exchange(open, &[b"GARBAGE\r\n\r\n"]);
        assert!(answer.starts_with("HTTP/1.1 400 "), "malformed request line: {answer:?}");
        assert!(curl(&[&url(open, "/echo")]).ends_with("req=1 method=GET path=/echo len=0 match=yes"));

        // an oversized header, from curl at once and from a raw socket in pieces
        let big_header = format!("X-Big: {}", "a".repeat(20000));
        let out = curl(&["-w", " %{http_code}", "-H", &big_header, &url(open, "/echo")]);
        assert_eq!(out, "refused 413 413");
        let filler = format!("X-Fill: {}\r\n", "b".repeat(1000));
        let mut pieces: Vec<&[u8]> = vec![b"GET /echo HTTP/1.1\r\nHost: x\r\n"];
        pieces.extend(std::iter::repeat_n(filler.as_bytes(), 10));
        let answer = raw_exchange(open, &pieces);
        assert!(answer.starts_with("HTTP/1.1 413 "), "oversized header in pieces: {answer:?}");
        assert!(curl(&[&url(open, "/echo")]).ends_with("req=1 method=GET path=/echo len=0 match=yes"));

        assert_eq!(curl(&[&url(open, "/quit")]), "bye");
        let out = node.wait(LIMIT);
        assert_passed(&out, "http_server");
        assert_success(&out);
        assert!(out.contains("HTTP refused 400"), "no 400 logged\n{out}");
    }
}

// ---------------------------------------------------------------- httpc against Python

/// tests/py/http_origin.py, killed when dropped.
struct Origin {
    child: Child,
    port: u16,
}

impl Origin {
    fn start(args: &[&str]) -> Origin {
        let script = root().join("tests").join("py").join("http_origin.py");
        let mut child = Command::new(python3())
            .arg(&script)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("can't run {}: {e}", python3()));
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout is piped");
        BufReader::new(stdout).read_line(&mut line).expect("read the origin's port");
        let port = line
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("http_origin.py did not start: {line:?}"));
        Origin { child, port }
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn httpc_against_python() {
    let origin = Origin::start(&[]);
    for layout in LAYOUTS {
        lua_test("http_client", &origin.port.to_string(), layout, "", LIMIT);
    }
}

#[test]
fn httpc_against_python_tls() {
    if !Path::new("/usr/include/openssl/ssl.h").exists() {
        eprintln!("no OpenSSL headers: ltls is not built, https is not available");
        return;
    }
    let ltls = root().join("luaclib").join("ltls.so");
    assert!(ltls.exists(), "{} is missing although OpenSSL is installed: run `make linux`", ltls.display());
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let gen = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-days", "1", "-nodes", "-subj", "/CN=127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap_or_else(|e| panic!("can't run openssl: {e}"));
    assert!(gen.status.success(), "openssl req failed: {}", String::from_utf8_lossy(&gen.stderr));
    let cert_s = cert.display().to_string();
    let key_s = key.display().to_string();
    let origin = Origin::start(&["--tls", &cert_s, &key_s]);
    for layout in LAYOUTS {
        lua_test("http_client", &format!("{} https", origin.port), layout, "enablessl = true", LIMIT);
    }
}

// ---------------------------------------------------------------- the example

#[test]
fn simpleweb_example() {
    for layout in LAYOUTS {
        let port = free_port();
        let mut node = start_node(&lua_config(&format!("simpleweb {port}"), layout, ""));
        node.wait_for_line(&format!("Listen web port {port} protocol:http"), LIMIT);
        let base = format!("http://127.0.0.1:{port}");

        let out = curl(&[&format!("{base}/some/pa%20th?x=1&y=a%20b")]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.first().copied(), Some(format!("host: 127.0.0.1:{port}").as_str()), "{out}");
        assert_eq!(lines.get(1).copied(), Some("path: /some/pa th"), "{out}");
        assert!(lines.contains(&"query: x= 1") && lines.contains(&"query: y= a b"), "{out}");
        assert!(lines.contains(&"-----header----") && lines.contains(&"accept = */*"), "{out}");

        let out = curl(&["--data-binary", "hello body", &format!("{base}/post")]);
        assert!(out.ends_with("-----body----\nhello body"), "{out}");

        // the example's body limit is 8192 bytes
        let long = "z".repeat(9000);
        let out = curl(&["-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect:", "--data-binary", &long, &base]);
        assert_eq!(out, "413");
        node.kill();
    }
}
