//! The core's side of harbor: which handles are remote, and handing remote sends to the
//! harbor service as `remote_message`s.

use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwapOption;

use crate::abi::*;
use crate::context::{self, Context};
use crate::mq::Message;

/// This node's harbor id, already shifted into the top byte.
static HARBOR: AtomicU32 = AtomicU32::new(!0);
/// The harbor service (the REMOTE context); held outside the live count.
static REMOTE: ArcSwapOption<Context> = ArcSwapOption::const_empty();

/// Sets this node's harbor id (0..255).
pub fn init(harbor: u32) {
    HARBOR.store((harbor & 0xff) << HANDLE_REMOTE_SHIFT, Ordering::Relaxed);
}

/// True if `handle` belongs to another node (its harbor byte is neither 0 nor ours).
pub fn is_remote(handle: u32) -> bool {
    let h = handle & !HANDLE_MASK;
    h != HARBOR.load(Ordering::Relaxed) && h != 0
}

/// `skynet_harbor_start`: the given context now receives every remote send.
pub fn start(ctx: Arc<Context>) {
    context::reserve();
    REMOTE.store(Some(ctx));
}

/// Releases the harbor service after the workers have stopped.
pub fn exit() {
    REMOTE.store(None);
}

/// Sends to a handle on another node through the harbor service.
pub fn send_to_handle(destination: u32, source: u32, ty: i32, session: i32, data: *mut c_void, sz: usize) {
    let name = RemoteName { name: [0; GLOBALNAME_LENGTH], handle: destination };
    forward(name, source, ty, session, data, sz);
}

/// Sends to a global name (its first 16 bytes, zero-padded) through the harbor service.
pub fn send_to_name(name: &[u8], source: u32, ty: i32, session: i32, data: *mut c_void, sz: usize) {
    let mut remote = RemoteName { name: [0; GLOBALNAME_LENGTH], handle: 0 };
    let n = name.len().min(GLOBALNAME_LENGTH);
    remote.name[..n].copy_from_slice(&name[..n]);
    forward(remote, source, ty, session, data, sz);
}

fn forward(destination: RemoteName, source: u32, ty: i32, session: i32, data: *mut c_void, sz: usize) {
    let guard = REMOTE.load();
    let Some(remote) = guard.as_ref() else {
        crate::skynet_error!(source, "error: no harbor service for a remote message (type {ty}) from :{source:x}");
        context::free(data);
        return;
    };
    if ty == PTYPE_SYSTEM || ty == PTYPE_HARBOR {
        crate::skynet_error!(source, "error: message type {ty} can't be sent to another node");
        context::free(data);
        return;
    }
    // SAFETY: a malloc'd RemoteMessage, freed by the core after the harbor's callback returns.
    let rmsg = unsafe {
        let p = libc::malloc(std::mem::size_of::<RemoteMessage>()) as *mut RemoteMessage;
        if p.is_null() {
            crate::malloc::out_of_memory(std::mem::size_of::<RemoteMessage>());
        }
        p.write(RemoteMessage { destination, message: data, sz, ty });
        p
    };
    let msg = Message {
        source,
        session,
        data: rmsg.cast(),
        sz: std::mem::size_of::<RemoteMessage>() | ((PTYPE_SYSTEM as usize) << MESSAGE_TYPE_SHIFT),
    };
    context::push_to(remote, msg);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_means_another_nonzero_harbor() {
        init(1);
        assert!(!is_remote(0x0100_0010));
        assert!(!is_remote(0x0000_0010), "harbor 0 handles are never remote");
        assert!(is_remote(0x0200_0010));
    }
}
