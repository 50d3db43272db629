//! skynet.socketchannel against Python servers (tests/py/channel_peer.py), and skynet.dns
//! against a UDP DNS responder written in Python (tests/py/dns_responder.py); no outside
//! network is used.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(120);
/// Guards the waits for a Python peer to start and to end.
const PEER_LIMIT: Duration = Duration::from_secs(30);

fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// A Python peer started for one test. It prints "PORT <n>" first and exits once its
/// stdin closes; every line it prints is kept.
struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    port: u16,
}

impl Peer {
    fn start(script: &str, args: &[&str]) -> Peer {
        let path = root().join("tests").join("py").join(script);
        let mut child = Command::new(python())
            .arg(&path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("can't run {} {}: {e}", python(), path.display()));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = mpsc::channel();
        // Ends by itself when the peer exits and its stdout closes.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = lines.recv_timeout(PEER_LIMIT).unwrap_or_else(|e| panic!("{script} printed no first line ({e})"));
        let port = first
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("{script} started with {first:?}, not PORT <n>"));
        Peer { child, stdin, lines, port }
    }

    /// Closes the peer's stdin and returns what it printed after its PORT line, once its
    /// output ends.
    fn finish(mut self) -> Vec<String> {
        self.stdin.take();
        let deadline = Instant::now() + PEER_LIMIT;
        let mut out = Vec::new();
        loop {
            match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => out.push(line),
                Err(RecvTimeoutError::Disconnected) => return out,
                Err(RecvTimeoutError::Timeout) => panic!("the peer kept running after its stdin closed"),
            }
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------- socketchannel

#[test]
fn channel_order_mode() {
    for layout in LAYOUTS {
        let peer = Peer::start("channel_peer.py", &["order", "sesame"]);
        let args = format!("{} {}", peer.port, free_port());
        let out = lua_test("channel_order", &args, layout, "", LIMIT);
        // What the channel logged on the way, as upstream's does.
        for needle in ["socket: connect to backup host", "socket: auth failed", "failed (", "Connect to"] {
            assert!(out.contains(needle), "no {needle:?} line\n{out}");
        }
        peer.finish();
    }
}

#[test]
fn channel_session_mode() {
    for layout in LAYOUTS {
        let peer = Peer::start("channel_peer.py", &["session"]);
        let out = lua_test("channel_session", &peer.port.to_string(), layout, "", LIMIT);
        assert!(out.contains("socket: unknown session : 999999"), "unknown session not logged\n{out}");
        peer.finish();
    }
}

// ---------------------------------------------------------------- dns

/// How many queries the responder logged for `name` (lines "Q <name> <type>").
fn queries(log: &[String], name: &str, qtype: &str) -> usize {
    let want = format!("Q {name} {qtype}");
    log.iter().filter(|l| **l == want).count()
}

#[test]
fn dns_resolver() {
    for layout in LAYOUTS {
        let peer = Peer::start("dns_responder.py", &[]);
        let node = Node::new();
        let hosts = node.dir().join("hosts");
        std::fs::write(&hosts, "# test hosts\n10.7.7.7 myhost.test MyAlias # trailing\n::1 myhost.test\n")
            .expect("write hosts file");
        let start = format!("dns_basic {} {}", peer.port, hosts.display());
        let out = node.run(&lua_config(&start, layout, ""), LIMIT);
        assert_passed(&out, "dns_basic");
        assert_success(&out);
        let log = peer.finish();
        let all = log.join("\n");
        // Cached within the TTL: asked once though resolved three times.
        assert_eq!(queries(&log, "host-a.test", "A"), 1, "host-a.test A cached\n{all}");
        // TTL 0: every resolve asks (twice, then once after dns.flush).
        assert_eq!(queries(&log, "zero.test", "A"), 3, "zero.test not cached\n{all}");
        // A dropped query is sent again.
        assert_eq!(queries(&log, "drop1.test", "A"), 2, "drop1.test retried once\n{all}");
        assert!(queries(&log, "drop.test", "A") >= 2, "drop.test retried before timing out\n{all}");
        // An alias with no address in the answer: its target is asked next.
        assert_eq!(queries(&log, "chain.test", "A"), 1, "{all}");
        assert_eq!(queries(&log, "target.test", "A"), 1, "{all}");
        // The hosts file answers without a query.
        assert!(!all.contains("myhost.test") && !all.contains("myalias") && !all.contains("localhost"), "{all}");
        assert!(out.contains("DNS query drop.test timeout"), "timeout not logged\n{out}");
    }
}
