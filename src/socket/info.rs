//! socket_info: a malloc'd linked list describing every live socket, for `socket.info()`.

use std::mem::size_of;

use crate::abi::{
    SocketInfo, SOCKET_INFO_BIND, SOCKET_INFO_CLOSING, SOCKET_INFO_LISTEN, SOCKET_INFO_TCP, SOCKET_INFO_UDP,
};

use super::addr::SockAddr;
use super::server::Server;
use super::slot::{Socket, State};

/// One zeroed node in front of `last` (`socket_info_create`); aborts when out of memory.
pub fn create(last: *mut SocketInfo) -> *mut SocketInfo {
    // SAFETY: plain calloc; NULL is handled below.
    let node = unsafe { libc::calloc(1, size_of::<SocketInfo>()) } as *mut SocketInfo;
    if node.is_null() {
        crate::malloc::out_of_memory(size_of::<SocketInfo>());
    }
    // SAFETY: `node` is a fresh, zeroed, suitably aligned SocketInfo (all-zero is valid).
    unsafe { (*node).next = last };
    node
}

/// Frees a whole list (`socket_info_release`).
///
/// # Safety
/// `list` must be NULL or a list built by `create` that nobody uses afterwards.
pub unsafe fn release(mut list: *mut SocketInfo) {
    while !list.is_null() {
        // SAFETY: each node is a live malloc block from `create`, freed exactly once.
        let next = unsafe { (*list).next };
        // SAFETY: as above.
        unsafe { libc::free(list.cast()) };
        list = next;
    }
}

/// Describes every connected, listening, bound or half-closed socket. The node of the
/// highest slot comes first, as upstream builds the list by prepending.
pub(super) fn collect(server: &Server) -> *mut SocketInfo {
    let mut list = std::ptr::null_mut();
    for slot in server.slots() {
        let sock = slot.lock();
        let Some((kind, name)) = describe(&sock) else { continue };
        list = create(list);
        // SAFETY: `list` is the node `create` just made, owned by us until returned.
        let node = unsafe { &mut *list };
        fill(node, &sock, kind, &name);
    }
    list
}

/// The info type and name of a socket, None for the states the list leaves out.
fn describe(sock: &Socket) -> Option<(i32, String)> {
    let udp_name = || sock.udp_peer.map(|peer| SockAddr::from_udp(&peer).name()).unwrap_or_default();
    let peer_name = || SockAddr::peer_of(sock.fd).map(|peer| peer.name()).unwrap_or_default();
    Some(match sock.state {
        State::Bind => (SOCKET_INFO_BIND, String::new()),
        State::Listen => (SOCKET_INFO_LISTEN, SockAddr::local_of(sock.fd).map(|a| a.name()).unwrap_or_default()),
        _ if sock.is_udp() && is_open(sock.state) => (SOCKET_INFO_UDP, udp_name()),
        State::Connected => (SOCKET_INFO_TCP, peer_name()),
        State::HalfcloseRead | State::HalfcloseWrite => (SOCKET_INFO_CLOSING, peer_name()),
        _ => return None,
    })
}

/// Connected or half-closed.
fn is_open(state: State) -> bool {
    matches!(state, State::Connected | State::HalfcloseRead | State::HalfcloseWrite)
}

/// Copies a socket's counters and name into its node.
fn fill(node: &mut SocketInfo, sock: &Socket, kind: i32, name: &str) {
    node.id = sock.id;
    node.ty = kind;
    node.opaque = sock.owner as u64;
    node.read = sock.stat.read;
    node.write = sock.stat.write;
    node.rtime = sock.stat.rtime;
    node.wtime = sock.stat.wtime;
    node.wbuffer = sock.pending;
    node.reading = sock.reading as u8;
    node.writing = sock.writing as u8;
    // Truncated to leave room for the NUL (the node is zeroed).
    let len = name.len().min(node.name.len() - 1);
    node.name[..len].copy_from_slice(&name.as_bytes()[..len]);
}
