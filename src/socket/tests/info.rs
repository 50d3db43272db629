//! socket_info: what the list shows for each kind of socket.

use std::ffi::CStr;
use std::io::Write;

use super::*;

/// The list as (id, type, name, row) tuples, released afterwards.
fn rows() -> Vec<(i32, i32, String, SocketInfo)> {
    let list = super::super::info();
    let mut rows = Vec::new();
    let mut node = list;
    while !node.is_null() {
        // SAFETY: nodes of the list `info` just returned.
        let row = unsafe { std::ptr::read(node) };
        let name = CStr::from_bytes_until_nul(&row.name).expect("NUL-terminated name").to_string_lossy().into_owned();
        node = row.next;
        rows.push((row.id, row.ty, name, row));
    }
    // SAFETY: the list came from `info` and is released once.
    unsafe { super::super::info_release(list) };
    rows
}

#[test]
fn info_lists_live_sockets() {
    let h = Harness::start();
    let paused = super::super::listen(1, Some("127.0.0.1"), 0, 8);
    h.expect(paused, SKYNET_SOCKET_TYPE_CONNECT);
    let (lid, port) = listener(&h, "127.0.0.1").expect("listen");
    let mut peer = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let id = accept(&h, lid, 3);
    peer.write_all(b"12345").expect("write");
    assert_eq!(receive(&h, id, 5), b"12345");
    assert_eq!(send_raw(id, b"abc"), 0);
    let udp = super::super::udp(2, Some("127.0.0.1"), 0);
    assert_eq!(super::super::udp_connect(udp, "127.0.0.1", 4444), 0);
    h.settle(udp);

    let rows = rows();
    let find = |id: i32| rows.iter().find(|r| r.0 == id).unwrap_or_else(|| panic!("socket {id} not listed"));
    assert!(rows.iter().all(|r| r.0 != paused), "a paused listener is not listed");
    let listen = find(lid);
    assert_eq!((listen.1, listen.2.clone()), (SOCKET_INFO_LISTEN, format!("127.0.0.1:{port}")));
    assert_eq!(listen.3.read, 1, "a listener counts accepts");
    let tcp = find(id);
    let peer_name = format!("127.0.0.1:{}", peer.local_addr().expect("addr").port());
    assert_eq!((tcp.1, tcp.2.clone(), tcp.3.opaque), (SOCKET_INFO_TCP, peer_name, 3));
    assert_eq!((tcp.3.read, tcp.3.write, tcp.3.wbuffer, tcp.3.reading), (5, 3, 0, 1));
    let udp_row = find(udp);
    assert_eq!((udp_row.1, udp_row.2.clone()), (SOCKET_INFO_UDP, "127.0.0.1:4444".to_string()));
    // The list is built by prepending, so the highest slot comes first.
    assert!(rows.windows(2).all(|w| w[0].0 % 65536 > w[1].0 % 65536));

    for (owner, sock) in [(1, paused), (1, lid), (3, id), (2, udp)] {
        super::super::close(owner, sock);
        h.expect(sock, SKYNET_SOCKET_TYPE_CLOSE);
    }
    assert!(rows_for_test_ids(&[paused, lid, id, udp]).is_empty());
}

/// Rows still listed for the given ids.
fn rows_for_test_ids(ids: &[i32]) -> Vec<i32> {
    rows().into_iter().map(|r| r.0).filter(|id| ids.contains(id)).collect()
}

#[test]
fn info_nodes_are_created_and_released() {
    let last = super::super::info_create(std::ptr::null_mut());
    let first = super::super::info_create(last);
    // SAFETY: nodes we just created.
    unsafe {
        assert_eq!((*first).next, last);
        assert!((*last).next.is_null());
        assert_eq!(((*first).id, (*first).name[0]), (0, 0));
        super::super::info_release(first);
    }
}
