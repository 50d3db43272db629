//! Closing: CLOSE exactly once, graceful close flushing pending output, shutdown dropping
//! it, the backlog WARNINGs, priorities, and bound fds.

use std::io::Write;

use super::*;

#[test]
fn peer_close_gives_one_close() {
    let h = Harness::start();
    let (id, peer) = std_pair(&h);
    drop(peer);
    assert_eq!(h.expect(id, SKYNET_SOCKET_TYPE_CLOSE).owner, 3);
    // Writing after the peer's close is allowed; closing now sends no second CLOSE.
    super::super::close(3, id);
    h.settle(id);
    assert_eq!(send_raw(id, b"late"), -1);
}

#[test]
fn local_close_reaches_peer() {
    let h = Harness::start();
    let (id, mut peer) = std_pair(&h);
    assert_eq!(send_raw(id, b"bye"), 0);
    super::super::close(3, id);
    h.expect(id, SKYNET_SOCKET_TYPE_CLOSE);
    assert_eq!(read_to_end(&mut peer), b"bye");
    super::super::close(3, id);
    h.settle(id);
}

/// Queues `len` bytes on a socket whose peer is not reading; returns what was sent.
fn backlog(id: i32, len: usize) -> Vec<u8> {
    let data = pattern(len);
    for chunk in data.chunks(64 * 1024) {
        assert_eq!(send_owned(id, chunk, false), 0);
    }
    data
}

#[test]
fn close_with_pending_output_flushes_then_closes() {
    let h = Harness::start();
    let (id, mut peer) = std_pair(&h);
    let sent = backlog(id, 32 << 20);
    super::super::close(3, id);
    // CLOSE comes at once (after the backlog WARNINGs), before the data is out.
    let close = loop {
        let got = h.next(id);
        if got.ty != SKYNET_SOCKET_TYPE_WARNING {
            break got;
        }
    };
    assert_eq!(close.ty, SKYNET_SOCKET_TYPE_CLOSE);
    assert_eq!(send_raw(id, b"more"), -1, "a closing socket takes no more data");
    // EOF only comes once every byte was written and the fd closed.
    let received = read_to_end(&mut peer);
    assert_eq!(received.len(), sent.len());
    assert!(received == sent);
    h.settle(id);
}

#[test]
fn shutdown_drops_pending_output() {
    let h = Harness::start();
    let (id, mut peer) = std_pair(&h);
    let sent = backlog(id, 32 << 20);
    super::super::shutdown(3, id);
    let close = loop {
        let got = h.next(id);
        if got.ty != SKYNET_SOCKET_TYPE_WARNING {
            break got;
        }
    };
    assert_eq!(close.ty, SKYNET_SOCKET_TYPE_CLOSE);
    let mut received = Vec::new();
    // EOF or a reset, either way short of everything.
    let _ = peer.read_to_end(&mut received);
    assert!(received.len() < sent.len());
    h.settle(id);
}

#[test]
fn warning_when_peer_does_not_read() {
    let h = Harness::start();
    let (id, mut peer) = std_pair(&h);
    let sent = backlog(id, 24 << 20);
    let first = h.expect(id, SKYNET_SOCKET_TYPE_WARNING);
    assert_eq!(first.owner, 3);
    assert!(first.ud >= 1024, "first warning at 1 MiB, got {} KiB", first.ud);
    let second = h.expect(id, SKYNET_SOCKET_TYPE_WARNING);
    assert!(second.ud >= 2048, "the threshold doubles, got {} KiB", second.ud);

    let reader = std::thread::spawn(move || {
        let mut all = vec![0u8; sent.len()];
        peer.read_exact(&mut all).expect("read everything");
        assert!(all == sent);
        peer
    });
    // Once drained: WARNING with ud 0, after any further threshold warnings.
    loop {
        let got = h.expect(id, SKYNET_SOCKET_TYPE_WARNING);
        if got.ud == 0 {
            break;
        }
    }
    let peer = reader.join().expect("reader");
    super::super::close(3, id);
    h.expect(id, SKYNET_SOCKET_TYPE_CLOSE);
    drop(peer);
    h.settle(id);
}

#[test]
fn high_priority_overtakes_low() {
    let h = Harness::start();
    let (id, mut peer) = std_pair(&h);
    let first = vec![b'a'; 32 << 20];
    assert_eq!(send_raw(id, &first), 0);
    assert_eq!(send_owned(id, &[b'l'; 1 << 20], true), 0);
    assert_eq!(send_owned(id, &[b'h'; 1 << 20], false), 0);
    super::super::close(3, id);
    let received = read_to_end(&mut peer);
    assert_eq!(received.len(), first.len() + (2 << 20));
    let (a, rest) = received.split_at(first.len());
    assert!(a.iter().all(|&b| b == b'a'));
    assert!(rest[..1 << 20].iter().all(|&b| b == b'h'), "high before low");
    assert!(rest[1 << 20..].iter().all(|&b| b == b'l'));
    // The CLOSE (and WARNINGs) arrived meanwhile.
    while h.next(id).ty != SKYNET_SOCKET_TYPE_CLOSE {}
    h.settle(id);
}

#[test]
fn bind_adopts_an_fd_without_closing_it() {
    let h = Harness::start();
    let mut fds = [0; 2];
    // SAFETY: pipe writes two fds into the array.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let id = super::super::bind(5, fds[0]);
    let bound = h.expect(id, SKYNET_SOCKET_TYPE_CONNECT);
    assert_eq!((bound.owner, bound.text().as_str()), (5, "binding"));
    assert!(tcp::socket_row(id).is_some_and(|row| row.ty == SOCKET_INFO_BIND));

    // SAFETY: we own the write end of the pipe.
    let mut writer = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[1]) };
    writer.write_all(b"abc").expect("write pipe");
    assert_eq!(receive(&h, id, 3), b"abc");
    drop(writer);
    h.expect(id, SKYNET_SOCKET_TYPE_CLOSE);
    super::super::close(5, id);
    h.settle(id);
    // SAFETY: fcntl on the read end, which is still ours.
    assert_ne!(unsafe { libc::fcntl(fds[0], libc::F_GETFD) }, -1, "a bound fd stays open");
    // SAFETY: closing our own fd.
    unsafe { libc::close(fds[0]) };
}

#[test]
fn peer_reset_closes_only_that_socket() {
    let h = Harness::start();
    let (reset_id, reset_peer) = std_pair(&h);
    let (id, mut peer) = std_pair(&h);
    // SO_LINGER 0 makes close send RST.
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: setsockopt on the stream's own fd with a linger struct of the advertised size.
    unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&reset_peer),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    drop(reset_peer);
    let mut got = h.next(reset_id);
    if got.ty == SKYNET_SOCKET_TYPE_ERROR {
        assert_eq!(got.text(), "Connection reset by peer");
        got = h.next(reset_id);
    }
    assert_eq!(got.ty, SKYNET_SOCKET_TYPE_CLOSE);
    // Writing to the dead peer is accepted, then fails quietly on the socket thread.
    let _ = send_raw(reset_id, b"into the void");
    super::super::close(3, reset_id);
    h.settle(reset_id);

    peer.write_all(b"still here").expect("write");
    assert_eq!(receive(&h, id, 10), b"still here");
    super::super::close(3, id);
    h.expect(id, SKYNET_SOCKET_TYPE_CLOSE);
}
