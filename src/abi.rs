//! Constants and `#[repr(C)]` layouts shared with C code through `include/`.

use std::ffi::c_void;

/// Message types (the top byte of a message size), as in skynet.h.
pub const PTYPE_TEXT: i32 = 0;
pub const PTYPE_RESPONSE: i32 = 1;
pub const PTYPE_CLIENT: i32 = 3;
pub const PTYPE_SYSTEM: i32 = 4;
pub const PTYPE_HARBOR: i32 = 5;
pub const PTYPE_SOCKET: i32 = 6;
pub const PTYPE_ERROR: i32 = 7;
/// The core takes the payload as is instead of copying it.
pub const PTYPE_TAG_DONTCOPY: i32 = 0x10000;
/// The core allocates a new session for the message.
pub const PTYPE_TAG_ALLOCSESSION: i32 = 0x20000;

/// The message type lives in the top 8 bits of a message size.
pub const MESSAGE_TYPE_SHIFT: u32 = usize::BITS - 8;
/// The bits of a message size that hold the payload length.
pub const MESSAGE_TYPE_MASK: usize = usize::MAX >> 8;

/// Local handles use the low 24 bits; the harbor id is the top byte.
pub const HANDLE_MASK: u32 = 0x00ff_ffff;
/// Shift of the harbor id within a handle.
pub const HANDLE_REMOTE_SHIFT: u32 = 24;

/// `skynet_cb`: the service callback; returns non-zero when it keeps the payload.
pub type SkynetCb = unsafe extern "C" fn(
    ctx: *mut c_void,
    ud: *mut c_void,
    ty: i32,
    session: i32,
    source: u32,
    msg: *const c_void,
    sz: usize,
) -> i32;

/// Socket event types carried in `SocketMessage::ty` (skynet_socket.h).
pub const SKYNET_SOCKET_TYPE_DATA: i32 = 1;
pub const SKYNET_SOCKET_TYPE_CONNECT: i32 = 2;
pub const SKYNET_SOCKET_TYPE_CLOSE: i32 = 3;
pub const SKYNET_SOCKET_TYPE_ACCEPT: i32 = 4;
pub const SKYNET_SOCKET_TYPE_ERROR: i32 = 5;
pub const SKYNET_SOCKET_TYPE_UDP: i32 = 6;
pub const SKYNET_SOCKET_TYPE_WARNING: i32 = 7;

/// `struct skynet_socket_message`: the payload of every PTYPE_SOCKET message.
#[repr(C)]
pub struct SocketMessage {
    pub ty: i32,
    pub id: i32,
    pub ud: i32,
    pub buffer: *mut u8,
}

/// `socket_sendbuffer.type`: a malloc'd buffer the core takes over.
pub const SOCKET_BUFFER_MEMORY: i32 = 0;
/// `socket_sendbuffer.type`: a user object (unsupported, as upstream).
pub const SOCKET_BUFFER_OBJECT: i32 = 1;
/// `socket_sendbuffer.type`: a borrowed buffer the core copies if it cannot send at once.
pub const SOCKET_BUFFER_RAWPOINTER: i32 = 2;

/// `struct socket_sendbuffer`.
#[repr(C)]
pub struct SocketSendBuffer {
    pub id: i32,
    pub ty: i32,
    pub buffer: *const c_void,
    pub sz: usize,
}

/// `socket_info.type` values.
pub const SOCKET_INFO_LISTEN: i32 = 1;
pub const SOCKET_INFO_TCP: i32 = 2;
pub const SOCKET_INFO_UDP: i32 = 3;
pub const SOCKET_INFO_BIND: i32 = 4;
pub const SOCKET_INFO_CLOSING: i32 = 5;

/// `struct socket_info`: one node of the list `skynet_socket_info` returns.
#[repr(C)]
pub struct SocketInfo {
    pub id: i32,
    pub ty: i32,
    pub opaque: u64,
    pub read: u64,
    pub write: u64,
    pub rtime: u64,
    pub wtime: u64,
    pub wbuffer: i64,
    pub reading: u8,
    pub writing: u8,
    pub name: [u8; 128],
    pub next: *mut SocketInfo,
}

/// Length of a global (harbor) name.
pub const GLOBALNAME_LENGTH: usize = 16;

/// `struct remote_name`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct RemoteName {
    pub name: [u8; GLOBALNAME_LENGTH],
    pub handle: u32,
}

/// `struct remote_message`: what the core hands the harbor service for a remote send.
#[repr(C)]
pub struct RemoteMessage {
    pub destination: RemoteName,
    pub message: *const c_void,
    pub sz: usize,
    pub ty: i32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    #[test]
    fn layouts_match_the_headers() {
        assert_eq!(size_of::<SocketMessage>(), 24);
        assert_eq!(offset_of!(SocketMessage, buffer), 16);
        assert_eq!(size_of::<SocketSendBuffer>(), 24);
        assert_eq!(offset_of!(SocketSendBuffer, sz), 16);
        assert_eq!(size_of::<SocketInfo>(), 200);
        assert_eq!(offset_of!(SocketInfo, wbuffer), 48);
        assert_eq!(offset_of!(SocketInfo, reading), 56);
        assert_eq!(offset_of!(SocketInfo, name), 58);
        assert_eq!(offset_of!(SocketInfo, next), 192);
        assert_eq!(size_of::<RemoteName>(), 20);
        assert_eq!(align_of::<RemoteName>(), 4);
        assert_eq!(size_of::<RemoteMessage>(), 48);
        assert_eq!(offset_of!(RemoteMessage, message), 24);
        assert_eq!(offset_of!(RemoteMessage, sz), 32);
        assert_eq!(offset_of!(RemoteMessage, ty), 40);
    }
}
