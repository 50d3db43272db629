//! The socket server (upstream socket_server.c and skynet_socket.c). One socket thread polls
//! every socket with epoll and turns network events into PTYPE_SOCKET messages for the
//! owning services; services call the functions below from any thread.
//!
//! Requests that create, start or close sockets go to the socket thread through a lock-free
//! queue and an eventfd wake-up. Sends don't: they take the socket's own slot lock and write
//! directly when nothing is queued, or append to its write lists.

mod addr;
mod event;
mod info;
mod message;
mod open;
mod poll;
mod request;
mod send;
mod server;
mod slot;
mod sys;
mod udp;
mod write_buffer;

#[cfg(test)]
mod tests;

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;

use crate::abi::{
    SocketInfo, SocketMessage, SocketSendBuffer, SKYNET_SOCKET_TYPE_UDP, SOCKET_BUFFER_MEMORY, SOCKET_BUFFER_OBJECT,
    SOCKET_BUFFER_RAWPOINTER,
};
use crate::mq::Message;

use addr::UdpAddress;
use request::Request;
use send::Priority;
use write_buffer::{MallocBuf, Outgoing};

pub use info::{create as info_create, release as info_release};

/// Delivers one PTYPE_SOCKET message to `owner`. Returns false if the owner is dead, in
/// which case the sink has already freed the message (its buffer, then the struct).
pub type Sink = fn(owner: u32, msg: Message) -> bool;

/// Longest host name `connect` takes (upstream's request-size limit).
const MAX_HOST: usize = 231;

/// Creates the server, which hands every event to `sink`. Again possible after `free`.
pub fn init(sink: Sink) -> io::Result<()> {
    server::init(sink)
}

/// The socket thread's body; returns once `exit` has been called.
pub fn run() {
    crate::context::set_current_handle(crate::context::THREAD_SOCKET);
    if let Some(server) = server::get() {
        event::Poll::new(server).run();
    }
}

/// Asks the socket thread to return (from any thread).
pub fn exit() {
    request(Request::Exit);
}

/// Closes every socket and the poller, freeing all buffers; call after `run` returned.
pub fn free() {
    server::free();
}

/// Queues a request for the socket thread, if the server runs.
fn request(request: Request) {
    if let Some(server) = server::get() {
        server.request(request);
    }
}

/// Listens on `host:port` (None or "" = 0.0.0.0), synchronously. Returns the id or -1. The
/// socket stays paused until `start`; CONNECT (ud = port) follows.
pub fn listen(opaque: u32, host: Option<&str>, port: i32, backlog: i32) -> i32 {
    let Some(server) = server::get() else { return -1 };
    let host = match host.map(CString::new).transpose() {
        Ok(host) => host,
        Err(_) => return -1,
    };
    let Some(fd) = open::listen(host.as_deref(), port, backlog) else { return -1 };
    let Some(id) = server.reserve(opaque) else {
        sys::close(fd);
        return -1;
    };
    server.request(Request::Listen { id, fd });
    id
}

/// Connects to `host:port` in the background: CONNECT or ERROR follows. Returns the id, or
/// -1 for an over-long host or when no slot is free.
pub fn connect(opaque: u32, host: &str, port: i32) -> i32 {
    let Some(server) = server::get() else { return -1 };
    if host.len() > MAX_HOST {
        crate::skynet_error!(0, "socket-server : Invalid addr {host}.");
        return -1;
    }
    let Ok(host) = CString::new(host) else { return -1 };
    let Some(id) = server.reserve(opaque) else { return -1 };
    server.request(Request::Open { id, host, port });
    id
}

/// Adopts an open fd (stdin, say) and reads it; CONNECT "binding" follows. The fd is not
/// closed when the socket is.
pub fn bind(opaque: u32, fd: RawFd) -> i32 {
    let Some(server) = server::get() else { return -1 };
    if fd < 0 {
        return -1;
    }
    let Some(id) = server.reserve(opaque) else { return -1 };
    server.request(Request::Bind { id, fd });
    id
}

/// Resumes reading and makes `opaque` the owner (after ACCEPT or listen, or to transfer).
pub fn start(opaque: u32, id: i32) {
    request(Request::Start { id, owner: opaque });
}

/// Stops reading. (`opaque` is kept for the C signature.)
pub fn pause(_opaque: u32, id: i32) {
    request(Request::Pause { id });
}

/// Closes gracefully: pending output is flushed first. (`opaque` is kept for the C signature.)
pub fn close(_opaque: u32, id: i32) {
    request(Request::Close { id, force: false });
}

/// Closes at once, dropping pending output. (`opaque` is kept for the C signature.)
pub fn shutdown(_opaque: u32, id: i32) {
    request(Request::Close { id, force: true });
}

/// Sets TCP_NODELAY.
pub fn nodelay(id: i32) {
    request(Request::Nodelay { id });
}

/// Sends with high priority. Returns 0 if sent or queued, -1 if the socket can't take it
/// (the buffer is freed either way when it is ours).
///
/// # Safety
/// `buf.buffer` must match `buf.ty`: for MEMORY a malloc'd block of `buf.sz` bytes (or NULL
/// with `sz == 0`) that the server takes over; for RAWPOINTER `buf.sz` readable bytes,
/// borrowed for the call only.
pub unsafe fn send(buf: &SocketSendBuffer) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { send_with(buf, Priority::High, None) }
}

/// Sends with low priority: queued behind high-priority data unless the socket is idle.
///
/// # Safety
/// As for `send`.
pub unsafe fn send_lowpriority(buf: &SocketSendBuffer) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { send_with(buf, Priority::Low, None) }
}

/// Sends a datagram to a binary UDP address (7 or 19 bytes, see skynet_socket.h).
///
/// # Safety
/// As for `send`.
pub unsafe fn udp_send(address: &[u8], buf: &SocketSendBuffer) -> i32 {
    match UdpAddress::parse(address) {
        // SAFETY: forwarded contract.
        Some(address) => unsafe { send_with(buf, Priority::High, Some(address)) },
        None => {
            // SAFETY: forwarded contract; dropping the data frees a MEMORY buffer.
            drop(unsafe { outgoing(buf) });
            -1
        }
    }
}

/// # Safety
/// As for `send`.
unsafe fn send_with(buf: &SocketSendBuffer, priority: Priority, udp: Option<UdpAddress>) -> i32 {
    // Take ownership first, so a MEMORY buffer is freed on every failure path.
    // SAFETY: forwarded contract.
    let Some(data) = (unsafe { outgoing(buf) }) else { return -1 };
    match server::get() {
        Some(server) => send::send(server, buf.id, data, priority, udp),
        None => -1,
    }
}

/// The bytes of a send buffer, owned (MEMORY) or borrowed (RAWPOINTER). None for a user
/// OBJECT (upstream never registers the interface those need) or an invalid buffer.
///
/// # Safety
/// As for `send`.
unsafe fn outgoing(buf: &SocketSendBuffer) -> Option<Outgoing<'_>> {
    let ptr = buf.buffer as *mut u8;
    match buf.ty {
        SOCKET_BUFFER_MEMORY | SOCKET_BUFFER_RAWPOINTER if ptr.is_null() => {
            (buf.sz == 0).then_some(Outgoing::Borrowed(&[]))
        }
        SOCKET_BUFFER_MEMORY => {
            crate::context::payload_released(ptr.cast());
            // SAFETY: the caller hands over a malloc'd block of `sz` bytes.
            Some(Outgoing::Owned(unsafe { MallocBuf::from_raw(ptr, buf.sz) }))
        }
        // SAFETY: the caller lends `sz` readable bytes for this call.
        SOCKET_BUFFER_RAWPOINTER => Some(Outgoing::Borrowed(unsafe { std::slice::from_raw_parts(ptr, buf.sz) })),
        // Nothing registers the user-object interface (socket_server_userobject) upstream either.
        SOCKET_BUFFER_OBJECT => None,
        _ => None,
    }
}

/// Creates a UDP socket, bound if `addr` or `port` is given. Returns the id or -1; no
/// `start` is needed.
pub fn udp(opaque: u32, addr: Option<&str>, port: i32) -> i32 {
    let Some(server) = server::get() else { return -1 };
    match addr.map(CString::new).transpose() {
        Ok(addr) => udp::create(server, opaque, addr.as_deref(), port),
        Err(_) => -1,
    }
}

/// Sets the default peer of a UDP socket. Returns 0, or -1 for a bad id or address.
pub fn udp_connect(id: i32, addr: &str, port: i32) -> i32 {
    match (server::get(), CString::new(addr)) {
        (Some(server), Ok(addr)) => udp::connect(server, id, &addr, port),
        _ => -1,
    }
}

/// Creates a UDP socket whose default peer is `addr:port`. Returns the id or -1.
pub fn udp_dial(opaque: u32, addr: &str, port: i32) -> i32 {
    match (server::get(), CString::new(addr)) {
        (Some(server), Ok(addr)) => udp::dial(server, opaque, &addr, port),
        _ => -1,
    }
}

/// Creates a UDP socket bound to `addr:port` (port ≠ 0). Returns the id or -1.
pub fn udp_listen(opaque: u32, addr: &str, port: i32) -> i32 {
    match (server::get(), CString::new(addr)) {
        (Some(server), Ok(addr)) => udp::listen(server, opaque, &addr, port),
        _ => -1,
    }
}

/// The length of a binary UDP address from its first (protocol) byte: 7, 19, or None.
pub fn udp_address_len(protocol: u8) -> Option<usize> {
    UdpAddress::len_for(protocol)
}

/// The sender address of a UDP message (7 or 19 bytes); None for other messages.
///
/// # Safety
/// `msg` must be a message this server made: for UDP, `buffer` holds `ud` payload bytes
/// followed by the address.
pub unsafe fn udp_address(msg: &SocketMessage) -> Option<&[u8]> {
    if msg.ty != SKYNET_SOCKET_TYPE_UDP || msg.buffer.is_null() || msg.ud < 0 {
        return None;
    }
    // SAFETY: per the contract the address starts right after the `ud` payload bytes.
    let start = unsafe { msg.buffer.add(msg.ud as usize) };
    // SAFETY: the first address byte is readable; it tells the length.
    let len = UdpAddress::len_for(unsafe { *start })?;
    // SAFETY: the server wrote a complete address of that length.
    Some(unsafe { std::slice::from_raw_parts(start, len) })
}

/// A malloc'd list describing every live socket (free with `info_release`); NULL if none.
pub fn info() -> *mut SocketInfo {
    server::get().map_or(std::ptr::null_mut(), info::collect)
}
