//! Exports of skynet.h, skynet_harbor.h and skynet_env.h.

use std::ffi::{c_char, c_int, c_void, CStr};

use crate::abi::SkynetCb;
use crate::context::{self, Context};
use crate::{command, env, harbor, timer};

/// Borrows the context C passed in.
///
/// # Safety
/// `ctx` must be NULL or a pointer the core handed to C (`Context::as_ptr`) whose service is
/// still alive, which holds while the module instance exists.
pub unsafe fn context<'a>(ctx: *mut c_void) -> Option<&'a Context> {
    // SAFETY: see the function's contract.
    unsafe { (ctx as *const Context).as_ref() }
}

/// Borrows a C string, None for NULL.
///
/// # Safety
/// `s` must be NULL or a NUL-terminated string that outlives the borrow.
pub unsafe fn cstr<'a>(s: *const c_char) -> Option<&'a CStr> {
    // SAFETY: see the function's contract.
    (!s.is_null()).then(|| unsafe { CStr::from_ptr(s) })
}

/// Called by the variadic `skynet_error` shim (src/ffi/error.c) with the formatted text.
#[no_mangle]
pub unsafe extern "C" fn skynet_error_forward(ctx: *mut c_void, msg: *const c_char, len: usize) {
    // SAFETY: the shim passes its caller's context and `len` readable bytes.
    let (ctx, text) = unsafe { (context(ctx), std::slice::from_raw_parts(msg as *const u8, len)) };
    crate::log::error(ctx.map_or(0, Context::handle), text);
}

/// Runs a text command for the calling service (see `command`).
#[no_mangle]
pub unsafe extern "C" fn skynet_command(ctx: *mut c_void, cmd: *const c_char, parm: *const c_char) -> *const c_char {
    // SAFETY: C passes its own context and C strings (reference §4.2).
    let (Some(ctx), Some(cmd)) = (unsafe { context(ctx) }, unsafe { cstr(cmd) }) else {
        return std::ptr::null();
    };
    // SAFETY: as above.
    command::run_c(ctx, cmd, unsafe { cstr(parm) })
}

/// Resolves `:hex` or `.name` to a handle (0 if unknown).
#[no_mangle]
pub unsafe extern "C" fn skynet_queryname(ctx: *mut c_void, name: *const c_char) -> u32 {
    // SAFETY: C passes its own context and a C string.
    match unsafe { cstr(name) } {
        Some(name) => context::query_name(unsafe { context(ctx) }, name.to_bytes()),
        None => 0,
    }
}

/// Sends a message; returns the session, -1 (no destination) or -2 (too large).
#[no_mangle]
pub unsafe extern "C" fn skynet_send(
    ctx: *mut c_void,
    source: u32,
    destination: u32,
    ty: c_int,
    session: c_int,
    msg: *mut c_void,
    sz: usize,
) -> c_int {
    // SAFETY: C passes its own context (or NULL); msg/sz follow skynet_send's contract.
    context::send(unsafe { context(ctx) }, source, destination, ty, session, msg, sz)
}

/// Sends a message addressed by name.
#[no_mangle]
pub unsafe extern "C" fn skynet_sendname(
    ctx: *mut c_void,
    source: u32,
    destination: *const c_char,
    ty: c_int,
    session: c_int,
    msg: *mut c_void,
    sz: usize,
) -> c_int {
    // SAFETY: C passes its own context and a C string.
    let ctx = unsafe { context(ctx) };
    match unsafe { cstr(destination) } {
        Some(name) => context::send_name(ctx, source, name.to_bytes(), ty, session, msg, sz),
        None => {
            context::free_donated(ty, msg);
            -1
        }
    }
}

/// True if the handle belongs to another node; stores its harbor id.
#[no_mangle]
pub unsafe extern "C" fn skynet_isremote(_ctx: *mut c_void, handle: u32, harbor_out: *mut c_int) -> c_int {
    if !harbor_out.is_null() {
        // SAFETY: a non-NULL out-pointer from C.
        unsafe { *harbor_out = (handle >> 24) as c_int };
    }
    harbor::is_remote(handle) as c_int
}

/// Installs the calling service's message callback.
#[no_mangle]
pub unsafe extern "C" fn skynet_callback(ctx: *mut c_void, ud: *mut c_void, cb: Option<SkynetCb>) {
    // SAFETY: C passes its own context.
    if let Some(ctx) = unsafe { context(ctx) } {
        ctx.set_callback(ud, cb);
    }
}

/// The handle of the service running on this thread.
#[no_mangle]
pub extern "C" fn skynet_current_handle() -> u32 {
    context::current_handle()
}

/// Centiseconds since the node started.
#[no_mangle]
pub extern "C" fn skynet_now() -> u64 {
    timer::now()
}

/// Prints the current service's memory to stderr.
#[no_mangle]
pub unsafe extern "C" fn skynet_debug_memory(info: *const c_char) {
    let handle = context::current_handle();
    let mem = crate::malloc::service_memory(handle);
    // SAFETY: a C string or NULL.
    let info = unsafe { cstr(info) }.map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    eprintln!("[:{handle:08x}] {info} {mem:#x}");
}

/// Makes the calling service the harbor that receives remote sends.
#[no_mangle]
pub unsafe extern "C" fn skynet_harbor_start(ctx: *mut c_void) {
    // SAFETY: the harbor service passes its own live context.
    if let Some(ctx) = unsafe { context(ctx) } {
        if let Some(owned) = context::handles().grab(ctx.handle()) {
            harbor::start(owned);
        }
    }
}

/// The env value of a key, or NULL.
#[no_mangle]
pub unsafe extern "C" fn skynet_getenv(key: *const c_char) -> *const c_char {
    // SAFETY: a C string or NULL.
    match unsafe { cstr(key) } {
        Some(key) => env::get(&key.to_string_lossy()).map_or(std::ptr::null(), |v| v.as_ptr()),
        None => std::ptr::null(),
    }
}

/// Sets an env key once.
#[no_mangle]
pub unsafe extern "C" fn skynet_setenv(key: *const c_char, value: *const c_char) {
    // SAFETY: C strings or NULL.
    if let (Some(key), Some(value)) = (unsafe { cstr(key) }, unsafe { cstr(value) }) {
        if let Err(e) = env::set(&key.to_string_lossy(), value.to_bytes()) {
            crate::skynet_error!(context::current_handle(), "error: {e}");
        }
    }
}
