//! Slots: reuse over many open/close cycles, id wrapping, and the 65536-socket limit.

use std::io::Read;

use super::super::server::{self, MAX_SOCKET};
use super::*;

#[test]
fn slots_are_reused_across_many_cycles() {
    let h = Harness::start();
    // More sockets than slots, a batch at a time, so every slot is used and freed again.
    const BATCH: usize = 500;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..(MAX_SOCKET + BATCH) / BATCH + 1 {
        let ids: Vec<i32> = (0..BATCH).map(|_| super::super::udp(1, None, 0)).collect();
        for &id in &ids {
            assert!(id > 0, "udp() failed: slots or fds leaked");
            seen.insert(id as usize % MAX_SOCKET);
            super::super::close(1, id);
        }
        for &id in &ids {
            h.expect(id, SKYNET_SOCKET_TYPE_CLOSE);
        }
    }
    assert_eq!(seen.len(), MAX_SOCKET, "every slot was in use at some point");

    // TCP paths too: connect, accept, data and close on both sides.
    let (lid, port) = listener(&h, "127.0.0.1").expect("listen");
    for _ in 0..200 {
        let cid = super::super::connect(2, "127.0.0.1", port as i32);
        let sid = accept(&h, lid, 3);
        h.expect(cid, SKYNET_SOCKET_TYPE_CONNECT);
        assert_eq!(send_owned(cid, b"x", false), 0);
        assert_eq!(receive(&h, sid, 1), b"x");
        super::super::close(2, cid);
        h.expect(cid, SKYNET_SOCKET_TYPE_CLOSE);
        h.expect(sid, SKYNET_SOCKET_TYPE_CLOSE);
        super::super::close(3, sid);
    }
    super::super::close(1, lid);
    h.expect(lid, SKYNET_SOCKET_TYPE_CLOSE);
    h.settle(lid);
}

#[test]
fn ids_stay_positive_when_wrapping() {
    let h = Harness::start();
    server::get().expect("running").set_last_id(0x7fff_fffe);
    let top = super::super::udp(1, None, 0);
    let wrapped = super::super::udp(1, None, 0);
    assert_eq!((top, wrapped), (0x7fff_ffff, 1));
    for id in [top, wrapped] {
        super::super::close(1, id);
        h.expect(id, SKYNET_SOCKET_TYPE_CLOSE);
    }
}

#[test]
fn socket_number_limit() {
    let h = Harness::start();
    let (lid, port) = listener(&h, "127.0.0.1").expect("listen");
    let server = server::get().expect("running");
    let taken: Vec<i32> = std::iter::from_fn(|| server.reserve(9)).collect();
    assert_eq!(taken.len(), MAX_SOCKET - 1, "the listener holds the last slot");

    assert_eq!(super::super::connect(2, "127.0.0.1", port as i32), -1);
    assert_eq!(super::super::udp(2, None, 0), -1);
    assert_eq!(super::super::listen(2, Some("127.0.0.1"), 0, 1), -1);
    assert_eq!(super::super::bind(2, 0), -1);

    // A connection arriving now is refused with ERROR on the listener, which survives.
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    client.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let refused = h.expect(lid, SKYNET_SOCKET_TYPE_ERROR);
    assert_eq!(refused.text(), "reach skynet socket number limit");
    let mut rest = Vec::new();
    let _ = client.read_to_end(&mut rest);

    for id in taken {
        server.unreserve(id);
    }
    let _again = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let sid = accept(&h, lid, 3);
    for id in [sid, lid] {
        super::super::close(3, id);
        h.expect(id, SKYNET_SOCKET_TYPE_CLOSE);
    }
}

/// The name of `emfile_child` for the test harness.
const EMFILE_CHILD: &str = "socket::tests::limits::emfile_child";

#[test]
fn accept_survives_running_out_of_fds() {
    // Exhausting fds would disturb tests running alongside, so a child process does it.
    let exe = std::env::current_exe().expect("test binary");
    let out = std::process::Command::new(exe)
        .args(["--exact", EMFILE_CHILD, "--ignored", "--test-threads=1", "--nocapture"])
        .output()
        .expect("run child");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("1 passed"),
        "child failed:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "run in its own process by accept_survives_running_out_of_fds"]
fn emfile_child() {
    let h = Harness::start();
    let (lid, port) = listener(&h, "127.0.0.1").expect("listen");
    // Take every fd but one, which the client uses: the server's accept then hits EMFILE.
    // A low limit keeps that quick; this process is ours alone.
    let limit = libc::rlimit { rlim_cur: 256, rlim_max: libc::RLIM_INFINITY };
    let mut current = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: get/setrlimit with valid structs.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut current);
        libc::setrlimit(libc::RLIMIT_NOFILE, &libc::rlimit { rlim_max: current.rlim_max, ..limit });
    }
    let mut hogs = Vec::new();
    while let Ok(file) = std::fs::File::open("/dev/null") {
        hogs.push(file);
    }
    hogs.pop();
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    client.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let error = h.expect(lid, SKYNET_SOCKET_TYPE_ERROR);
    assert_eq!(error.text(), "Too many open files");
    // The pending connection was accepted with the spare fd and dropped.
    let mut rest = Vec::new();
    let _ = client.read_to_end(&mut rest);
    drop(hogs);

    let _next = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let id = accept(&h, lid, 3);
    for id in [id, lid] {
        super::super::close(3, id);
        h.expect(id, SKYNET_SOCKET_TYPE_CLOSE);
    }
}
