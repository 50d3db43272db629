//! TCP: listen, connect, accept, start, data both ways, ownership, pause, connect errors.

use std::io::{Read, Write};

use super::*;

/// Listen, connect, accept and echo between two server sockets over `host`.
fn echo_over(host: &str) {
    let h = Harness::start();
    let Some((lid, port)) = listener(&h, host) else {
        eprintln!("skipping: cannot listen on {host}");
        return;
    };
    let cid = super::super::connect(2, host, port as i32);
    assert!(cid > 0);
    let acc = h.expect(lid, SKYNET_SOCKET_TYPE_ACCEPT);
    assert!(acc.text().starts_with(&format!("{host}:")), "accept name {}", acc.text());
    let sid = acc.ud;
    let connected = h.expect(cid, SKYNET_SOCKET_TYPE_CONNECT);
    assert_eq!((connected.owner, connected.ud, connected.text().as_str()), (2, 0, host));
    super::super::start(3, sid);
    assert_eq!(h.expect(sid, SKYNET_SOCKET_TYPE_CONNECT).text(), "start");

    // User objects need an interface nothing registers (as upstream): rejected.
    let object = SocketSendBuffer { id: cid, ty: SOCKET_BUFFER_OBJECT, buffer: b"obj".as_ptr().cast(), sz: usize::MAX };
    // SAFETY: the buffer is never read for an OBJECT.
    assert_eq!(unsafe { super::super::send(&object) }, -1);
    assert_eq!(send_raw(cid, b"hello"), 0);
    let hello = receive(&h, sid, 5);
    assert_eq!(hello, b"hello");
    assert_eq!(send_owned(sid, &hello, false), 0);
    assert_eq!(receive(&h, cid, 5), b"hello");

    // A bulk transfer grows the read buffer beyond its 64 bytes.
    let big = pattern(1 << 20);
    assert_eq!(send_raw(cid, &big), 0);
    let mut got = Vec::new();
    let mut largest = 0;
    while got.len() < big.len() {
        let chunk = h.expect(sid, SKYNET_SOCKET_TYPE_DATA);
        assert_eq!(chunk.owner, 3);
        largest = largest.max(chunk.data.len());
        got.extend_from_slice(&chunk.data);
    }
    assert_eq!(got, big);
    assert!(largest > 64, "read buffer never grew");

    // Local close: CLOSE to the owner; the peer sees EOF and gets its own CLOSE, once.
    super::super::close(2, cid);
    assert_eq!(h.expect(cid, SKYNET_SOCKET_TYPE_CLOSE).owner, 2);
    assert_eq!(h.expect(sid, SKYNET_SOCKET_TYPE_CLOSE).owner, 3);
    super::super::close(3, sid);
    h.settle(sid);
    super::super::close(1, lid);
    h.expect(lid, SKYNET_SOCKET_TYPE_CLOSE);
}

#[test]
fn echo_ipv4() {
    echo_over("127.0.0.1");
}

#[test]
fn echo_ipv6() {
    echo_over("::1");
}

#[test]
fn connect_errors() {
    let h = Harness::start();
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind probe");
        probe.local_addr().expect("probe addr").port()
    };
    let id = super::super::connect(2, "127.0.0.1", port as i32);
    let refused = h.expect(id, SKYNET_SOCKET_TYPE_ERROR);
    assert_eq!((refused.owner, refused.text().as_str()), (2, "Connection refused"));

    let id = super::super::connect(2, "host.invalid", 80);
    let unresolved = h.expect(id, SKYNET_SOCKET_TYPE_ERROR);
    assert!(!unresolved.data.is_empty());

    assert_eq!(super::super::connect(2, &"a".repeat(300), 80), -1);
    assert_eq!(super::super::connect(2, "bad\0host", 80), -1);
    assert_eq!(super::super::listen(1, Some("bad\0host"), 0, 1), -1);
    assert_eq!(send_raw(12345, b"nobody"), -1);
    assert_eq!(send_owned(12345, b"nobody", false), -1);

    super::super::start(2, 4242);
    assert_eq!(h.expect(4242, SKYNET_SOCKET_TYPE_ERROR).text(), "invalid socket");
}

#[test]
fn transfer_pause_and_dead_owner() {
    let h = Harness::start();
    let (id, mut peer) = std_pair(&h);

    // Events for a dead owner are freed by the sink and the socket stays open.
    super::super::start(DEAD, id);
    assert_eq!(h.expect(id, SKYNET_SOCKET_TYPE_CONNECT).owner, DEAD);
    peer.write_all(b"lost").expect("write");
    let lost = h.expect(id, SKYNET_SOCKET_TYPE_DATA);
    assert_eq!((lost.owner, lost.text().as_str()), (DEAD, "lost"));
    super::super::start(4, id);
    let transfer = h.expect(id, SKYNET_SOCKET_TYPE_CONNECT);
    assert_eq!((transfer.owner, transfer.text().as_str()), (4, "transfer"));

    super::super::pause(4, id);
    h.settle(id);
    assert!(socket_row(id).is_some_and(|row| row.reading == 0));
    peer.write_all(b"later").expect("write");
    super::super::nodelay(id);
    super::super::start(4, id);
    assert_eq!(h.expect(id, SKYNET_SOCKET_TYPE_CONNECT).text(), "transfer");
    let later = h.expect(id, SKYNET_SOCKET_TYPE_DATA);
    assert_eq!((later.owner, later.text().as_str()), (4, "later"));

    super::super::close(4, id);
    h.expect(id, SKYNET_SOCKET_TYPE_CLOSE);
    assert!(read_to_end(&mut peer).is_empty());
}

/// The socket_info row of `id`, if listed.
pub(super) fn socket_row(id: i32) -> Option<SocketInfo> {
    let list = super::super::info();
    let mut row = None;
    let mut node = list;
    while !node.is_null() {
        // SAFETY: nodes of the list `info` just returned.
        let info = unsafe { &*node };
        if info.id == id {
            // SAFETY: SocketInfo is plain data; the copy's `next` is never followed.
            row = Some(unsafe { std::ptr::read(node) });
        }
        node = info.next;
    }
    // SAFETY: the list came from `info` and is released once.
    unsafe { super::super::info_release(list) };
    row
}

/// Requests just over the 64-byte start size: the first is split (64 + 2) and grows the
/// buffer; the tail read must not shrink it again, so each later request is one DATA.
#[test]
fn tail_read_keeps_the_grown_buffer() {
    let h = Harness::start();
    let (id, mut stream) = std_pair(&h);
    let request = pattern(66);
    stream.write_all(&request).expect("write");
    assert_eq!(receive(&h, id, 66), request);
    for _ in 0..5 {
        stream.write_all(&request).expect("write");
        let got = h.expect(id, SKYNET_SOCKET_TYPE_DATA);
        assert_eq!(got.data, request, "a 66-byte request arrived split");
    }
    super::super::close(3, id);
    h.expect(id, SKYNET_SOCKET_TYPE_CLOSE);
}

/// An accepted socket not started yet, and its peer.
fn accepted_pair(h: &Harness) -> (i32, TcpStream) {
    let (lid, port) = listener(h, "127.0.0.1").expect("listen on 127.0.0.1");
    let peer = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    peer.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let id = h.expect(lid, SKYNET_SOCKET_TYPE_ACCEPT).ud;
    super::super::close(1, lid);
    h.expect(lid, SKYNET_SOCKET_TYPE_CLOSE);
    (id, peer)
}

/// A write to an accepted socket before its start waits for the start (upstream queues it
/// behind the start in its request pipe); one never started is dropped by close.
#[test]
fn write_before_start_waits_for_it() {
    let h = Harness::start();
    let (id, mut peer) = accepted_pair(&h);
    assert_eq!(send_raw(id, b"early "), 0);
    assert_eq!(send_owned(id, b"bird", false), 0);
    super::super::start(3, id);
    assert_eq!(h.expect(id, SKYNET_SOCKET_TYPE_CONNECT).text(), "start");
    let mut got = [0u8; 10];
    peer.read_exact(&mut got).expect("the early writes arrive after the start");
    assert_eq!(&got, b"early bird");
    super::super::close(3, id);
    h.expect(id, SKYNET_SOCKET_TYPE_CLOSE);
    assert!(read_to_end(&mut peer).is_empty());

    let (id, mut peer) = accepted_pair(&h);
    assert_eq!(send_raw(id, b"never"), 0);
    super::super::close(3, id);
    h.expect(id, SKYNET_SOCKET_TYPE_CLOSE);
    assert!(read_to_end(&mut peer).is_empty(), "a socket never started sends nothing");
    assert!(socket_row(id).is_none(), "closed at once, not waiting for a flush");
}
