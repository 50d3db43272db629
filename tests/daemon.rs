//! Process-level features: `daemon = "pidfile"` and the logger's reopen on SIGHUP.
//!
//! The node runs `tests/c/netecho.c`, which connects back to a control listener of the
//! test: that connection is how the test talks to a detached node (its stdout is
//! /dev/null) and knows it is up. This process makes itself a child subreaper, so a
//! daemonized node becomes its child and can be reaped: waits are exact, never sleeps.

mod common;

use std::ffi::CString;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use common::*;

/// Guards against hangs only.
const LIMIT: Duration = Duration::from_secs(60);

/// The control connection of a node's netecho service.
struct Ctrl {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Ctrl {
    /// Waits for netecho to connect to `listener` and say hello.
    fn accept(listener: &TcpListener) -> Ctrl {
        let mut pfd = libc::pollfd { fd: listener.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, LIMIT.as_millis() as libc::c_int) };
        assert_eq!(n, 1, "the node's service did not connect within {LIMIT:?}");
        let (stream, _) = listener.accept().expect("accept the control connection");
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        let writer = stream.try_clone().unwrap();
        let mut c = Ctrl { reader: BufReader::new(stream), writer };
        assert!(c.line().starts_with("hello "), "netecho did not greet");
        c
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).expect("read a control line");
        assert!(n > 0, "the node closed the control connection");
        line.trim_end().to_string()
    }

    fn ask(&mut self, cmd: &str) -> String {
        self.writer.write_all(format!("{cmd}\n").as_bytes()).expect("send a control line");
        self.line()
    }

    /// The node's pid, as the service sees it.
    fn pid(&mut self) -> i32 {
        let reply = self.ask("pid");
        reply.strip_prefix("pid ").and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("bad reply {reply:?}"))
    }
}

/// A control listener and a config running netecho against it, plus `extra` lines.
fn config(extra: &str) -> (TcpListener, String) {
    c_service("netecho");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the control listener");
    let port = listener.local_addr().unwrap().port();
    let boot = format!("netecho 127.0.0.1 {port}");
    let config = format!("thread = 2\nharbor = 0\nbootstrap = {}\n{extra}\n", lua_str(&boot));
    (listener, config)
}

/// Adopts orphaned descendants (the daemonized nodes) so they can be waited for.
fn become_subreaper() {
    // SAFETY: prctl with an integer argument.
    let r = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    assert_eq!(r, 0, "PR_SET_CHILD_SUBREAPER failed");
}

/// Waits (up to LIMIT) for the adopted process `pid` to end and reaps it: returns
/// waitid's (si_code, si_status).
fn reap(pid: i32) -> (i32, i32) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // SAFETY: a zeroed siginfo_t is a valid out-buffer.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: waits for our own (adopted) child.
            let r = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED) };
            if r == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                // SAFETY: waitid filled a CLD_* siginfo, whose si_status is valid.
                let _ = tx.send((r, info.si_code, unsafe { info.si_status() }));
                return;
            }
        }
    });
    let (r, code, status) = rx.recv_timeout(LIMIT).unwrap_or_else(|_| {
        // SAFETY: kill of the node we started, so the test does not leave it behind.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        panic!("process {pid} did not end within {LIMIT:?}")
    });
    assert_eq!(r, 0, "waitid({pid}) failed: is the daemon not our adopted child?");
    (code, status)
}

/// Kills a detached node if the test fails before it ended.
struct Detached(i32);

impl Drop for Detached {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // SAFETY: signalling the node this test started.
            unsafe { libc::kill(self.0, libc::SIGKILL) };
        }
    }
}

fn read_pidfile(path: &Path) -> i32 {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("can't read {}: {e}", path.display()));
    text.trim().parse().unwrap_or_else(|e| panic!("pid file {} holds {text:?}: {e}", path.display()))
}

#[test]
fn daemon_pidfile() {
    become_subreaper();
    let node = Node::new();
    let pidfile = node.dir().join("skynet.pid");
    let log = node.dir().join("log");
    let (listener, cfg) = config(&format!(
        "daemon = {}\nlogger = {}",
        lua_str(&pidfile.display().to_string()),
        lua_str(&log.display().to_string())
    ));

    // The launching process returns at once with 0; the node lives on, detached.
    let launcher = node.start(&cfg);
    let launcher_pid = launcher.pid() as i32;
    let out = launcher.wait(LIMIT);
    assert_success(&out);
    let mut ctrl = Ctrl::accept(&listener);
    let pid = ctrl.pid();
    let _guard = Detached(pid);
    assert_ne!(pid, launcher_pid, "the node did not detach into a new process");
    assert_eq!(read_pidfile(&pidfile), pid, "the pid file does not hold the node's pid");
    // SAFETY: getsid of a live process.
    let (sid, our_sid) = unsafe { (libc::getsid(pid), libc::getsid(0)) };
    assert_ne!(sid, our_sid, "the daemon is still in our session");

    // A second instance on the same pid file refuses to start, naming the running one.
    let node2 = Node::new();
    let second = node2.run(&cfg, LIMIT);
    assert_eq!(second.status.code(), Some(1), "a second instance must exit 1\n{second}");
    assert!(
        second.stderr.contains("already running") && second.stderr.contains(&pid.to_string()),
        "no clear \"already running, pid = {pid}\" error\n{second}"
    );
    assert_eq!(read_pidfile(&pidfile), pid, "the refused instance touched the pid file");

    // SIGTERM ends it as upstream: no handler, so the pid file stays, naming a dead process.
    // SAFETY: signalling the daemon this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    assert_eq!(reap(pid), (libc::CLD_KILLED, libc::SIGTERM), "the daemon did not die from SIGTERM");
    drop(ctrl);
    assert_eq!(read_pidfile(&pidfile), pid, "the pid file changed");

    // A stale pid file does not block the next start; a clean exit removes the file.
    let launcher = Node::new().start(&cfg);
    assert_success(&launcher.wait(LIMIT));
    let mut ctrl = Ctrl::accept(&listener);
    let pid2 = ctrl.pid();
    let _guard2 = Detached(pid2);
    assert_eq!(read_pidfile(&pidfile), pid2, "the restarted daemon did not rewrite the pid file");
    drop(ctrl); // netecho ABORTs when its control connection closes
    assert_eq!(reap(pid2), (libc::CLD_EXITED, 0), "the daemon did not exit cleanly");
    assert!(!pidfile.exists(), "a clean exit must remove the pid file");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains("LAUNCH netecho"), "the daemon's log file lacks its lines:\n{text}");
}

/// Waits (up to LIMIT) for a file named `name` to be created in the watched directory.
fn wait_created(inotify: i32, name: &str) {
    let mut buf = vec![0u8; 4096];
    loop {
        let mut pfd = libc::pollfd { fd: inotify, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, LIMIT.as_millis() as libc::c_int) };
        assert_eq!(n, 1, "{name} was not created within {LIMIT:?}");
        // SAFETY: reading into a buffer we own.
        let got = unsafe { libc::read(inotify, buf.as_mut_ptr().cast(), buf.len()) };
        assert!(got > 0, "reading inotify events failed");
        let mut off = 0usize;
        let head = std::mem::size_of::<libc::inotify_event>();
        while off + head <= got as usize {
            // SAFETY: the kernel wrote whole events; read_unaligned copes with the layout.
            let ev: libc::inotify_event = unsafe { std::ptr::read_unaligned(buf[off..].as_ptr().cast()) };
            let raw = &buf[off + head..off + head + ev.len as usize];
            let file = raw.split(|b| *b == 0).next().unwrap_or(&[]);
            if file == name.as_bytes() {
                return;
            }
            off += head + ev.len as usize;
        }
    }
}

#[test]
fn sighup_reopens_the_log_file() {
    let node = Node::new();
    let dir = node.dir().to_path_buf();
    let log = dir.join("log");
    let rotated = dir.join("log.1");
    let (listener, cfg) = config(&format!("logger = {}", lua_str(&log.display().to_string())));
    let running = node.start(&cfg);
    let mut ctrl = Ctrl::accept(&listener);
    // "logged" means the line is queued for the logger, ahead of the SIGHUP's reopen.
    assert_eq!(ctrl.ask("log line before the rotation"), "logged");
    std::fs::rename(&log, &rotated).expect("rename the log file");

    let cdir = CString::new(dir.display().to_string()).unwrap();
    // SAFETY: plain inotify calls on a fd we own and close below.
    let inotify = unsafe { libc::inotify_init1(libc::IN_CLOEXEC) };
    assert!(inotify >= 0, "inotify_init1 failed");
    // SAFETY: as above; cdir is a valid C string.
    assert!(unsafe { libc::inotify_add_watch(inotify, cdir.as_ptr(), libc::IN_CREATE) } >= 0);
    // SAFETY: signalling the node this test started.
    assert_eq!(unsafe { libc::kill(running.pid() as i32, libc::SIGHUP) }, 0);
    wait_created(inotify, "log");
    // SAFETY: closing our inotify fd.
    unsafe { libc::close(inotify) };

    assert_eq!(ctrl.ask("log line after the rotation"), "logged");
    drop(ctrl);
    let out = running.wait(LIMIT);
    assert_success(&out);
    let old = std::fs::read_to_string(&rotated).unwrap();
    let new = std::fs::read_to_string(&log).unwrap();
    assert!(old.contains("] line before the rotation"), "the rotated file lacks the earlier line:\n{old}");
    assert!(!old.contains("after the rotation"), "a line after SIGHUP went to the rotated file:\n{old}");
    assert!(new.contains("] line after the rotation"), "the reopened file lacks the later line:\n{new}");
    assert!(!new.contains("before the rotation"), "the reopened file has an earlier line:\n{new}");
    // The node kept running through SIGHUP and still ends normally.
    assert!(new.lines().all(|l| l.contains("] ")), "malformed lines in\n{new}");
}
