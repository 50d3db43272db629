//! UDP: create, connect, dial, listen, send both ways, and the binary address format.

use std::net::{SocketAddr, UdpSocket};

use super::*;

/// skynet's binary form of a std address.
fn encode(addr: SocketAddr) -> Vec<u8> {
    let mut out = Vec::new();
    match addr {
        SocketAddr::V4(a) => {
            out.push(1);
            out.extend_from_slice(&a.port().to_be_bytes());
            out.extend_from_slice(&a.ip().octets());
        }
        SocketAddr::V6(a) => {
            out.push(2);
            out.extend_from_slice(&a.port().to_be_bytes());
            out.extend_from_slice(&a.ip().octets());
        }
    }
    out
}

/// Receives one datagram on a std socket.
fn recv(peer: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = [0u8; 2048];
    let (n, from) = peer.recv_from(&mut buf).expect("datagram");
    (buf[..n].to_vec(), from)
}

/// A free UDP port on `host` (the probe socket is closed again).
fn free_port(host: &str) -> u16 {
    let probe = UdpSocket::bind((host, 0)).expect("bind probe");
    probe.local_addr().expect("probe addr").port()
}

fn round_trip(host: &str) {
    let h = Harness::start();
    let Ok(peer) = UdpSocket::bind((host, 0)) else {
        eprintln!("skipping: no UDP on {host}");
        return;
    };
    peer.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let peer_port = peer.local_addr().expect("addr").port() as i32;

    // udp + udp_connect: send() goes to the default peer.
    let id = super::super::udp(1, Some(host), 0);
    assert!(id > 0);
    assert_eq!(super::super::udp_connect(id, host, peer_port), 0);
    assert_eq!(send_raw(id, b"ping"), 0);
    let (data, from) = recv(&peer);
    assert_eq!(data, b"ping");

    // The reply carries the sender address after the payload.
    peer.send_to(b"pong", from).expect("reply");
    let got = h.expect(id, SKYNET_SOCKET_TYPE_UDP);
    let address = encode(peer.local_addr().expect("addr"));
    assert_eq!((got.owner, got.ud), (1, 4));
    assert_eq!(&got.data[..4], b"pong");
    assert_eq!(&got.data[4..], &address[..]);
    assert_eq!(got.address.as_deref(), Some(&address[..]));
    assert_eq!(address.len(), if host.contains(':') { 19 } else { 7 });

    // udp_send to an explicit address.
    // SAFETY: a valid RAWPOINTER buffer for the call.
    let sent = unsafe { super::super::udp_send(&address, &raw_buffer(id, b"back")) };
    assert_eq!(sent, 0);
    assert_eq!(recv(&peer).0, b"back");
    let wrong_version = if address.len() == 7 {
        encode("[::1]:9".parse().expect("v6 literal"))
    } else {
        encode("127.0.0.1:9".parse().expect("v4 literal"))
    };
    // SAFETY: as above.
    assert_eq!(unsafe { super::super::udp_send(&wrong_version, &raw_buffer(id, b"x")) }, -1);
    // SAFETY: as above.
    assert_eq!(unsafe { super::super::udp_send(&[9, 0, 0], &raw_buffer(id, b"x")) }, -1);

    // udp_dial: a new socket with a default peer.
    let dialed = super::super::udp_dial(2, host, peer_port);
    assert!(dialed > 0);
    assert_eq!(send_owned(dialed, b"dial", false), 0);
    assert_eq!(recv(&peer).0, b"dial");

    // udp_listen: bound to a given port.
    assert_eq!(super::super::udp_listen(3, host, 0), -1);
    let port = free_port(host);
    let listening = super::super::udp_listen(3, host, port as i32);
    assert!(listening > 0);
    peer.send_to(b"hi", (host, port)).expect("send");
    let got = h.expect(listening, SKYNET_SOCKET_TYPE_UDP);
    assert_eq!((got.owner, &got.data[..2]), (3, &b"hi"[..]));

    for (owner, sock) in [(1, id), (2, dialed), (3, listening)] {
        super::super::close(owner, sock);
        h.expect(sock, SKYNET_SOCKET_TYPE_CLOSE);
    }
}

/// A RAWPOINTER send buffer over `bytes`.
fn raw_buffer(id: i32, bytes: &[u8]) -> SocketSendBuffer {
    SocketSendBuffer { id, ty: SOCKET_BUFFER_RAWPOINTER, buffer: bytes.as_ptr().cast(), sz: bytes.len() }
}

#[test]
fn udp_round_trip_ipv4() {
    round_trip("127.0.0.1");
}

#[test]
fn udp_round_trip_ipv6() {
    round_trip("::1");
}

#[test]
fn udp_connect_checks() {
    let h = Harness::start();
    assert_eq!(super::super::udp_connect(777, "127.0.0.1", 9), -1);
    let id = super::super::udp(1, None, 0);
    assert!(id > 0);
    // No default peer yet.
    assert_eq!(send_raw(id, b"nowhere"), -1);
    // An IPv6 peer for an IPv4 socket is reported as ERROR, as upstream.
    assert_eq!(super::super::udp_connect(id, "::1", 9), 0);
    assert_eq!(h.expect(id, SKYNET_SOCKET_TYPE_ERROR).text(), "protocol mismatch");
    assert_eq!(super::super::udp_connect(id, "host.invalid", 9), -1);
    super::super::close(1, id);
    h.expect(id, SKYNET_SOCKET_TYPE_CLOSE);
}
