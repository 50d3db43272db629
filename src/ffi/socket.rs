//! Exports of skynet_socket.h and socket_info.h: pointer and C-string checks, then the
//! socket server in `crate::socket`.

use std::ffi::{c_char, c_int, c_void};

use super::core::{context, cstr};
use crate::abi::{SocketInfo, SocketMessage, SocketSendBuffer};
use crate::context::Context;
use crate::socket;

/// The handle of the service C passed (0 for NULL), which becomes the socket's owner.
///
/// # Safety
/// `ctx` must be NULL or the context pointer the core gave that service (see `core::context`).
unsafe fn owner(ctx: *mut c_void) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { context(ctx) }.map_or(0, Context::handle)
}

/// A C string as UTF-8; None for NULL or invalid text (host names are ASCII).
///
/// # Safety
/// `s` must be NULL or a NUL-terminated string that outlives the borrow.
unsafe fn text<'a>(s: *const c_char) -> Option<&'a str> {
    // SAFETY: forwarded contract.
    unsafe { cstr(s) }?.to_str().ok()
}

/// Borrows a send buffer.
///
/// # Safety
/// `buffer` must be NULL or point to a valid `socket_sendbuffer`.
unsafe fn send_buffer<'a>(buffer: *const SocketSendBuffer) -> Option<&'a SocketSendBuffer> {
    // SAFETY: forwarded contract.
    unsafe { buffer.as_ref() }
}

/// Sends a buffer (high priority); 0 if sent or queued, -1 if the socket is gone or closing.
#[no_mangle]
pub unsafe extern "C" fn skynet_socket_sendbuffer(_ctx: *mut c_void, buffer: *mut SocketSendBuffer) -> c_int {
    // SAFETY: C passes a socket_sendbuffer whose buffer matches its type (skynet_socket.h).
    unsafe { send_buffer(buffer).map_or(-1, |buf| socket::send(buf)) }
}

/// Sends a buffer behind the high-priority data; 0 or -1 as `skynet_socket_sendbuffer`.
#[no_mangle]
pub unsafe extern "C" fn skynet_socket_sendbuffer_lowpriority(
    _ctx: *mut c_void,
    buffer: *mut SocketSendBuffer,
) -> c_int {
    // SAFETY: as in skynet_socket_sendbuffer.
    unsafe { send_buffer(buffer).map_or(-1, |buf| socket::send_lowpriority(buf)) }
}

/// Listens on `host:port` (NULL or "" = 0.0.0.0); returns the id or -1.
#[no_mangle]
pub unsafe extern "C" fn skynet_socket_listen(
    ctx: *mut c_void,
    host: *const c_char,
    port: c_int,
    backlog: c_int,
) -> c_int {
    // SAFETY: C passes its own context and NULL or a C string.
    let (owner, host) = unsafe { (owner(ctx), cstr(host)) };
    match host.map(|h| h.to_str()).transpose() {
        Ok(host) => socket::listen(owner, host, port, backlog),
        Err(_) => -1,
    }
}

/// Connects to `host:port` in the background; returns the id or -1.
#[no_mangle]
pub unsafe extern "C" fn skynet_socket_connect(ctx: *mut c_void, host: *const c_char, port: c_int) -> c_int {
    // SAFETY: C passes its own context and a C string.
    match unsafe { (owner(ctx), text(host)) } {
        (owner, Some(host)) => socket::connect(owner, host, port),
        _ => -1,
    }
}

/// Adopts an open fd (never closed by the core); returns the id or -1.
#[no_mangle]
pub unsafe extern "C" fn skynet_socket_bind(ctx: *mut c_void, fd: c_int) -> c_int {
    // SAFETY: C passes its own context.
    socket::bind(unsafe { owner(ctx) }, fd)
}

/// Closes gracefully, flushing pending output first.
#[no_mangle]
pub unsafe extern "C" fn skynet_socket_close(ctx: *mut c_void, id: c_int) {
    // SAFETY: C passes its own context.
    socket::close(unsafe { owner(ctx) }, id);
}

/// Closes at once, dropping pending output.
#[no_mangle]
pub unsafe extern "C" fn skynet_socket_shutdown(ctx: *mut c_void, id: c_int) {
    // SAFETY: C passes its own context.
    socket::shutdown(unsafe { owner(ctx) }, id);
}

/// Starts reading and makes the calling service the owner.
#[no_mangle]
pub unsafe extern "C" fn skynet_socket_start(ctx: *mut c_void, id: c_int) {
    // SAFETY: C passes its own context.
    socket::start(unsafe { owner(ctx) }, id);
}

/// Stops reading.
#[no_mangle]
pub unsafe extern "C" fn skynet_socket_pause(ctx: *mut c_void, id: c_int) {
    // SAFETY: C passes its own context.
    socket::pause(unsafe { owner(ctx) }, id);
}

/// Sets TCP_NODELAY.
#[no_mangle]
pub unsafe extern "C" fn skynet_socket_nodelay(_ctx: *mut c_void, id: c_int) {
    socket::nodelay(id);
}

/// Creates a UDP socket, bound if `addr` or `port` is given; returns the id or -1.
#[no_mangle]
pub unsafe extern "C" fn skynet_socket_udp(ctx: *mut c_void, addr: *const c_char, port: c_int) -> c_int {
    // SAFETY: C passes its own context and NULL or a C string.
    let (owner, addr) = unsafe { (owner(ctx), cstr(addr)) };
    match addr.map(|a| a.to_str()).transpose() {
        Ok(addr) => socket::udp(owner, addr, port),
        Err(_) => -1,
    }
}

/// Sets the default peer of a UDP socket; 0 or -1.
#[no_mangle]
pub unsafe extern "C" fn skynet_socket_udp_connect(
    _ctx: *mut c_void,
    id: c_int,
    addr: *const c_char,
    port: c_int,
) -> c_int {
    // SAFETY: C passes a C string.
    match unsafe { text(addr) } {
        Some(addr) => socket::udp_connect(id, addr, port),
        None => -1,
    }
}

/// Creates a UDP socket with a default peer; returns the id or -1.
#[no_mangle]
pub unsafe extern "C" fn skynet_socket_udp_dial(ctx: *mut c_void, addr: *const c_char, port: c_int) -> c_int {
    // SAFETY: C passes its own context and a C string.
    match unsafe { (owner(ctx), text(addr)) } {
        (owner, Some(addr)) => socket::udp_dial(owner, addr, port),
        _ => -1,
    }
}

/// Creates a UDP socket bound to `addr:port` (port != 0); returns the id or -1.
#[no_mangle]
pub unsafe extern "C" fn skynet_socket_udp_listen(ctx: *mut c_void, addr: *const c_char, port: c_int) -> c_int {
    // SAFETY: C passes its own context and a C string.
    match unsafe { (owner(ctx), text(addr)) } {
        (owner, Some(addr)) => socket::udp_listen(owner, addr, port),
        _ => -1,
    }
}

/// The binary UDP address at `address`: as many bytes as its first byte announces (one
/// byte, which then fails to parse, if that byte is unknown).
///
/// # Safety
/// `address` must be non-NULL and point to a complete address as skynet_socket.h defines it.
unsafe fn udp_address_bytes<'a>(address: *const c_char) -> &'a [u8] {
    let address = address as *const u8;
    // SAFETY: the first byte is readable; it gives the length of the rest.
    let len = socket::udp_address_len(unsafe { *address }).unwrap_or(1);
    // SAFETY: per the contract the whole address is readable.
    unsafe { std::slice::from_raw_parts(address, len) }
}

/// Sends a datagram to a binary UDP address; 0 or -1.
#[no_mangle]
pub unsafe extern "C" fn skynet_socket_udp_sendbuffer(
    _ctx: *mut c_void,
    address: *const c_char,
    buffer: *mut SocketSendBuffer,
) -> c_int {
    // SAFETY: C passes a valid send buffer and NULL or a binary UDP address.
    unsafe {
        let Some(buf) = send_buffer(buffer) else { return -1 };
        // A NULL address can't parse, which frees the buffer and fails.
        let address = if address.is_null() { &[][..] } else { udp_address_bytes(address) };
        socket::udp_send(address, buf)
    }
}

/// The sender address of a UDP message (NULL for others); stores its length in `addrsz`.
#[no_mangle]
pub unsafe extern "C" fn skynet_socket_udp_address(msg: *const SocketMessage, addrsz: *mut c_int) -> *const c_char {
    // SAFETY: C passes NULL or a socket message it received from the core.
    let Some(address) = (unsafe { msg.as_ref() }).and_then(|m| unsafe { socket::udp_address(m) }) else {
        return std::ptr::null();
    };
    if !addrsz.is_null() {
        // SAFETY: a non-NULL `addrsz` points to an int C owns.
        unsafe { *addrsz = address.len() as c_int };
    }
    address.as_ptr() as *const c_char
}

/// A malloc'd list describing every live socket (NULL if none).
#[no_mangle]
pub extern "C" fn skynet_socket_info() -> *mut SocketInfo {
    socket::info()
}

/// Allocates one zeroed node in front of `last`.
#[no_mangle]
pub extern "C" fn socket_info_create(last: *mut SocketInfo) -> *mut SocketInfo {
    socket::info_create(last)
}

/// Frees a list from `skynet_socket_info`.
#[no_mangle]
pub unsafe extern "C" fn socket_info_release(si: *mut SocketInfo) {
    // SAFETY: C passes NULL or a list it got from skynet_socket_info.
    unsafe { socket::info_release(si) };
}

#[cfg(test)]
mod tests {
    use std::ptr::{null, null_mut};

    use super::*;
    use crate::abi::{SKYNET_SOCKET_TYPE_DATA, SKYNET_SOCKET_TYPE_UDP, SOCKET_BUFFER_MEMORY};

    #[test]
    fn null_arguments_fail_cleanly() {
        // SAFETY: NULL is an allowed value for each pointer passed here.
        unsafe {
            assert_eq!(skynet_socket_sendbuffer(null_mut(), null_mut()), -1);
            assert_eq!(skynet_socket_sendbuffer_lowpriority(null_mut(), null_mut()), -1);
            assert_eq!(skynet_socket_connect(null_mut(), null(), 80), -1);
            assert_eq!(skynet_socket_udp_connect(null_mut(), 1, null(), 80), -1);
            assert_eq!(skynet_socket_udp_dial(null_mut(), null(), 80), -1);
            assert_eq!(skynet_socket_udp_listen(null_mut(), null(), 80), -1);
            assert!(skynet_socket_udp_address(null(), null_mut()).is_null());
            socket_info_release(null_mut());
        }
    }

    #[test]
    fn udp_sendbuffer_without_address_frees_the_buffer() {
        // SAFETY: a fresh malloc block handed over as MEMORY.
        let block = unsafe { libc::malloc(16) };
        let mut buf = SocketSendBuffer { id: 1, ty: SOCKET_BUFFER_MEMORY, buffer: block, sz: 16 };
        // SAFETY: a valid send buffer and a NULL address.
        assert_eq!(unsafe { skynet_socket_udp_sendbuffer(null_mut(), null(), &mut buf) }, -1);
    }

    #[test]
    fn udp_address_points_after_the_payload() {
        let mut data = b"pong".to_vec();
        data.extend_from_slice(&[1, 0x12, 0x34, 127, 0, 0, 1]);
        let mut msg = SocketMessage { ty: SKYNET_SOCKET_TYPE_UDP, id: 1, ud: 4, buffer: data.as_mut_ptr() };
        let mut sz = 0;
        // SAFETY: a UDP message whose buffer holds 4 bytes then a 7-byte address.
        let address = unsafe { skynet_socket_udp_address(&msg, &mut sz) };
        assert_eq!(sz, 7);
        // SAFETY: the returned pointer addresses `sz` bytes of `data`.
        assert_eq!(unsafe { std::slice::from_raw_parts(address as *const u8, 7) }, &data[4..]);

        msg.ty = SKYNET_SOCKET_TYPE_DATA;
        sz = -1;
        // SAFETY: as above.
        assert!(unsafe { skynet_socket_udp_address(&msg, &mut sz) }.is_null());
        assert_eq!(sz, -1);
    }
}
