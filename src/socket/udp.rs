//! Creating UDP sockets and setting their default peer. Unlike TCP these are set up on the
//! caller's thread (no message announces them), so the id is usable as soon as it is returned.

use std::ffi::CStr;
use std::os::fd::RawFd;

use super::addr::{self, Transport, UdpAddress, UdpProtocol};
use super::message::Event;
use super::open;
use super::server::Server;
use super::slot::{Protocol, State};
use super::sys;

/// A UDP socket, bound to `host:port` if either is given, else an unbound IPv4 socket.
pub(super) fn create(server: &Server, owner: u32, host: Option<&CStr>, port: i32) -> i32 {
    let opened = if port != 0 || host.is_some() {
        open::bind(host, port, Transport::Udp)
    } else {
        sys::socket(libc::AF_INET, libc::SOCK_DGRAM).ok().map(|fd| (fd, libc::AF_INET))
    };
    let Some((fd, family)) = opened else { return -1 };
    register(server, owner, fd, UdpProtocol::of_family(family), None)
}

/// A UDP socket bound to `host:port`; the port must not be 0.
pub(super) fn listen(server: &Server, owner: u32, host: &CStr, port: i32) -> i32 {
    if port == 0 {
        return -1;
    }
    let Some((fd, family)) = open::bind(Some(host), port, Transport::Udp) else { return -1 };
    register(server, owner, fd, UdpProtocol::of_family(family), None)
}

/// An unbound UDP socket whose default peer is `host:port`.
pub(super) fn dial(server: &Server, owner: u32, host: &CStr, port: i32) -> i32 {
    let Some(peer) = resolve(host, port) else { return -1 };
    let protocol = peer.protocol();
    let family = if protocol == UdpProtocol::V6 { libc::AF_INET6 } else { libc::AF_INET };
    let Ok(fd) = sys::socket(family, libc::SOCK_DGRAM) else { return -1 };
    register(server, owner, fd, protocol, Some(peer))
}

/// Sets the default peer of socket `id`. Returns -1 for an unknown id or an unresolvable
/// address; an IP version mismatch is reported to the owner as ERROR, as upstream.
pub(super) fn connect(server: &Server, id: i32, host: &CStr, port: i32) -> i32 {
    if server.lock(id).is_none() {
        return -1;
    }
    // Resolve without holding the slot: DNS may take a while.
    let Some(peer) = resolve(host, port) else { return -1 };
    let Some(mut sock) = server.lock(id) else { return -1 };
    if sock.protocol != Protocol::Udp(peer.protocol()) {
        server.emit(sock.owner, Event::error(id, "protocol mismatch"));
        return 0;
    }
    sock.udp_peer = Some(peer);
    0
}

/// The first address `host:port` resolves to, in binary form.
fn resolve(host: &CStr, port: i32) -> Option<UdpAddress> {
    let list = addr::resolve(host, port, Transport::Udp).ok()?;
    let first = list.iter().next()?;
    first.udp_address()
}

/// Gives a new UDP fd a slot, reading at once; -1 (fd closed) if no slot is free.
fn register(server: &Server, owner: u32, fd: RawFd, protocol: UdpProtocol, peer: Option<UdpAddress>) -> i32 {
    let Some(id) = server.reserve(owner) else {
        sys::close(fd);
        return -1;
    };
    let Some(mut sock) = server.lock(id) else {
        sys::close(fd);
        return -1;
    };
    if sock.install(&server.poller, fd, Protocol::Udp(protocol), true).is_err() {
        sys::close(fd);
        sock.force_close(&server.poller);
        return -1;
    }
    sock.udp_peer = peer;
    sock.state = State::Connected;
    id
}
