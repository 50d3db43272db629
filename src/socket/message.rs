//! Packing socket events into PTYPE_SOCKET messages (`struct skynet_socket_message`).

use std::mem::size_of;

use crate::abi::{SocketMessage, MESSAGE_TYPE_SHIFT, PTYPE_SOCKET, SKYNET_SOCKET_TYPE_ERROR};
use crate::mq::Message;

use super::write_buffer::MallocBuf;

/// At most this much of a text payload is copied after the struct, as upstream.
const MAX_TEXT: usize = 128;

/// What follows the event header.
pub(super) enum Payload<'a> {
    /// Nothing (CLOSE, WARNING): buffer form with a NULL buffer.
    None,
    /// Bytes the receiver takes over (DATA, UDP).
    Buffer(MallocBuf),
    /// A string copied right after the struct, unterminated (CONNECT, ACCEPT, ERROR).
    Text(&'a str),
}

/// One event for a service.
pub(super) struct Event<'a> {
    pub(super) ty: i32,
    pub(super) id: i32,
    pub(super) ud: i32,
    pub(super) payload: Payload<'a>,
}

impl Event<'_> {
    /// Packs the event into a malloc'd `skynet_socket_message` (plus text), as C expects.
    pub(super) fn into_message(self) -> Message {
        let (buffer, text): (*mut u8, &[u8]) = match self.payload {
            Payload::None => (std::ptr::null_mut(), &[]),
            Payload::Buffer(buffer) => (buffer.into_raw(), &[]),
            Payload::Text(text) => (std::ptr::null_mut(), &text.as_bytes()[..text.len().min(MAX_TEXT)]),
        };
        let header = SocketMessage { ty: self.ty, id: self.id, ud: self.ud, buffer };
        let sz = size_of::<SocketMessage>() + text.len();
        let data = MallocBuf::with_capacity(sz).into_raw();
        // SAFETY: `data` is a fresh malloc block of `sz` bytes, aligned for any type: the
        // header goes first and the text right after it.
        unsafe {
            std::ptr::write(data as *mut SocketMessage, header);
            std::ptr::copy_nonoverlapping(text.as_ptr(), data.add(size_of::<SocketMessage>()), text.len());
        }
        Message { source: 0, session: 0, data: data.cast(), sz: sz | (PTYPE_SOCKET as usize) << MESSAGE_TYPE_SHIFT }
    }
}

impl<'a> Event<'a> {
    /// An event with a text payload.
    pub(super) fn text(ty: i32, id: i32, ud: i32, text: &'a str) -> Event<'a> {
        Event { ty, id, ud, payload: Payload::Text(text) }
    }

    /// An ERROR event with its description.
    pub(super) fn error(id: i32, text: &'a str) -> Event<'a> {
        Event::text(SKYNET_SOCKET_TYPE_ERROR, id, 0, text)
    }

    /// An event without payload (CLOSE, WARNING).
    pub(super) fn bare(ty: i32, id: i32, ud: i32) -> Event<'a> {
        Event { ty, id, ud, payload: Payload::None }
    }

    /// An event carrying `ud` bytes of data the receiver takes over.
    pub(super) fn buffer(ty: i32, id: i32, ud: i32, data: MallocBuf) -> Event<'a> {
        Event { ty, id, ud, payload: Payload::Buffer(data) }
    }
}
