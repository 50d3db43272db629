//! Service contexts: creation through a C module, message send and delivery, and the
//! dispatch of a service's queue on a worker thread.

use std::cell::{Cell, UnsafeCell};
use std::ffi::{c_void, CStr};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crate::abi::*;
use crate::handle::{HandleStorage, Handled};
use crate::log::{self, LogFile};
use crate::module::Module;
use crate::monitor::WorkerMonitor;
use crate::mq::{GlobalQueue, Message, Popped, ServiceQueue};
use crate::{harbor, skynet_error};

/// A running service: its module instance, callback and mailbox.
pub struct Context {
    handle: u32,
    instance: *mut c_void,
    module: &'static Module,
    callback: AtomicUsize,
    ud: AtomicPtr<c_void>,
    pub(crate) queue: ServiceQueue,
    session_id: AtomicI32,
    retired: AtomicBool,
    /// Set by the monitor when a message takes too long; read and cleared by `STAT endless`.
    pub(crate) endless: AtomicBool,
    pub(crate) message_count: AtomicUsize,
    /// Total callback CPU time in microseconds (profile on).
    pub(crate) cpu_cost: AtomicU64,
    /// Thread CPU time in microseconds when the current message started (profile on).
    pub(crate) cpu_start: AtomicU64,
    pub(crate) logfile: parking_lot::Mutex<Option<LogFile>>,
    logging: AtomicBool,
    result: UnsafeCell<Vec<u8>>,
}

// SAFETY: `instance` is touched only through the module's entry points, which skynet's
// contract serialises (init before scheduling, one callback at a time, release once on drop;
// `_signal` is documented thread-safe). `result` is used only by the service's own thread
// (see `Context::set_result`). Everything else is atomic or locked.
unsafe impl Send for Context {}
unsafe impl Sync for Context {}

impl Handled for Context {
    fn handle(&self) -> u32 {
        self.handle
    }
}

static HANDLES: OnceLock<HandleStorage<Context>> = OnceLock::new();
/// The run queue of services with pending messages.
pub static GLOBAL: GlobalQueue<Arc<Context>> = GlobalQueue::new();
/// Live contexts; the process ends when it drops to zero.
static TOTAL: AtomicUsize = AtomicUsize::new(0);
static PROFILE: AtomicBool = AtomicBool::new(false);

thread_local! {
    static CURRENT: Cell<u32> = const { Cell::new(u32::MAX) };
    /// Thread CPU time (µs) read after the last profiled callback on this thread, 0 if none.
    static CPU_MARK: Cell<u64> = const { Cell::new(0) };
    /// The payload of the message this thread is dispatching while the core still owns it
    /// (null once the callback freed it or handed it on).
    static PAYLOAD: Cell<*mut c_void> = const { Cell::new(std::ptr::null_mut()) };
}

/// Notes that the running code gave `data` up: freed it, or handed it to a send that takes
/// ownership (DONTCOPY, a socket MEMORY buffer).
///
/// When `data` is the payload of the message being dispatched, the core then leaves it
/// alone after the callback. Lua code often does this to the message it is handling
/// (`netpack.tostring`, `skynet.ret(skynet.rawcall(...))` in a proxy, `skynet.redirect`
/// of the received message): upstream frees such a block a second time after the
/// callback, which corrupts the heap.
pub fn payload_released(data: *mut c_void) {
    if data.is_null() {
        return;
    }
    // try_with: free() may run while the thread's locals are being torn down.
    let _ = PAYLOAD.try_with(|p| {
        if p.get() == data {
            p.set(std::ptr::null_mut());
        }
    });
}

/// Thread tags stored as the current handle of non-worker threads, as upstream.
pub const THREAD_MAIN: u32 = u32::MAX;
pub const THREAD_SOCKET: u32 = u32::MAX - 1;
pub const THREAD_TIMER: u32 = u32::MAX - 2;
pub const THREAD_MONITOR: u32 = u32::MAX - 3;

/// Sets up the handle registry for node `harbor` and the `profile` option.
pub fn init(harbor: u32, profile: bool) {
    let _ = HANDLES.set(HandleStorage::new(harbor));
    PROFILE.store(profile, Ordering::Relaxed);
}

/// The handle registry.
pub fn handles() -> &'static HandleStorage<Context> {
    HANDLES.get_or_init(|| HandleStorage::new(0))
}

/// The handle of the service running on this thread (or a THREAD_* tag).
pub fn current_handle() -> u32 {
    CURRENT.with(|c| c.get())
}

/// Tags this thread for `current_handle`.
pub fn set_current_handle(handle: u32) {
    CURRENT.with(|c| c.set(handle));
}

/// Number of live contexts.
pub fn total() -> usize {
    TOTAL.load(Ordering::SeqCst)
}

/// Removes one context from the live count without retiring it (the harbor's reserve).
pub fn reserve() {
    TOTAL.fetch_sub(1, Ordering::SeqCst);
}

impl Context {
    /// This service's handle.
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// The pointer C code knows this context by.
    pub fn as_ptr(&self) -> *mut c_void {
        self as *const Context as *mut c_void
    }

    /// The module this service runs.
    pub fn module(&self) -> &'static Module {
        self.module
    }

    /// The module instance (for `_signal`).
    pub fn instance(&self) -> *mut c_void {
        self.instance
    }

    /// Installs the message callback (`skynet_callback`).
    pub fn set_callback(&self, ud: *mut c_void, cb: Option<SkynetCb>) {
        self.ud.store(ud, Ordering::Relaxed);
        self.callback.store(cb.map_or(0, |f| f as usize), Ordering::Release);
    }

    /// Allocates a new positive session, wrapping back to 1.
    pub fn new_session(&self) -> i32 {
        let mut session = self.session_id.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        if session <= 0 {
            self.session_id.store(1, Ordering::Relaxed);
            session = 1;
        }
        session
    }

    /// True once the handle was retired.
    pub fn is_retired(&self) -> bool {
        self.retired.load(Ordering::Acquire)
    }

    /// Turns the per-message log (LOGON) on or off.
    pub fn set_logging(&self, on: bool) {
        self.logging.store(on, Ordering::Release);
    }

    /// Stores a command result and returns it as a NUL-terminated C string.
    ///
    /// # Safety
    /// Only the service's own thread (its init or callback) may call this: the previous
    /// result, which C may still hold, is overwritten.
    pub unsafe fn set_result(&self, text: &[u8]) -> *const libc::c_char {
        // SAFETY: the caller guarantees exclusive access (see above).
        let buf = unsafe { &mut *self.result.get() };
        buf.clear();
        buf.extend_from_slice(text);
        buf.push(0);
        buf.as_ptr().cast()
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        if let Some(file) = self.logfile.get_mut().take() {
            file.close();
        }
        if log::is_logger(self.handle) {
            // The logger is released last, after the workers stopped: write what it holds.
            dispatch_all(self);
        }
        self.module.release(self.instance);
        for msg in self.queue.drain() {
            drop_message(self.handle, msg);
        }
        TOTAL.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Frees the payload of a message the core queued, with the data buffer of a socket event.
fn free_queued(msg: &Message) {
    let ty = (msg.sz >> MESSAGE_TYPE_SHIFT) as i32;
    let sz = msg.sz & MESSAGE_TYPE_MASK;
    if ty == PTYPE_SOCKET && !msg.data.is_null() && sz >= std::mem::size_of::<SocketMessage>() {
        // SAFETY: PTYPE_SOCKET messages are made by the socket server: a malloc'd
        // SocketMessage whose buffer is NULL or malloc'd and owned by the receiver.
        unsafe { libc::free((*(msg.data as *mut SocketMessage)).buffer.cast()) };
    }
    free(msg.data);
}

/// Frees a payload the caller donated with DONTCOPY (the core owns it even when a send fails).
pub fn free_donated(ty: i32, data: *mut c_void) {
    if ty & PTYPE_TAG_DONTCOPY != 0 {
        free(data);
    }
}

/// Frees a malloc'd payload (NULL is fine).
pub fn free(data: *mut c_void) {
    // SAFETY: every payload that reaches the core was allocated with the process malloc.
    unsafe { libc::free(data) };
}

/// Copies `sz` bytes into a new malloc'd buffer with a trailing NUL (not counted in `sz`).
///
/// # Safety
/// `data` must point to `sz` readable bytes.
unsafe fn copy_payload(data: *const c_void, sz: usize) -> *mut c_void {
    // SAFETY: malloc either fails (checked) or returns sz+1 writable bytes; the caller
    // guarantees the source range.
    unsafe {
        let copy = libc::malloc(sz + 1) as *mut u8;
        if copy.is_null() {
            crate::malloc::out_of_memory(sz + 1);
        }
        std::ptr::copy_nonoverlapping(data as *const u8, copy, sz);
        *copy.add(sz) = 0;
        copy.cast()
    }
}

/// Frees an undeliverable message and tells its sender with a PTYPE_ERROR carrying its session.
fn drop_message(from: u32, msg: Message) {
    free_queued(&msg);
    if msg.source != 0 {
        send(None, from, msg.source, PTYPE_ERROR, msg.session, std::ptr::null_mut(), 0);
    }
}

/// Launches a service: loads `name`, creates and initialises an instance with `param`.
/// Returns the new context, or None (logged) if anything fails.
pub fn launch(name: &str, param: Option<&CStr>) -> Option<Arc<Context>> {
    let module = crate::module::query(name)?;
    let instance = module.create()?;
    let registered = handles().register(|handle| Context {
        handle,
        instance,
        module,
        callback: AtomicUsize::new(0),
        ud: AtomicPtr::new(std::ptr::null_mut()),
        queue: ServiceQueue::new(),
        session_id: AtomicI32::new(0),
        retired: AtomicBool::new(false),
        endless: AtomicBool::new(false),
        message_count: AtomicUsize::new(0),
        cpu_cost: AtomicU64::new(0),
        cpu_start: AtomicU64::new(0),
        logfile: parking_lot::Mutex::new(None),
        logging: AtomicBool::new(false),
        result: UnsafeCell::new(Vec::with_capacity(32)),
    });
    let Some(ctx) = registered else {
        module.release(instance);
        skynet_error!(0, "error: launch {name} FAILED: no free handle");
        return None;
    };
    TOTAL.fetch_add(1, Ordering::SeqCst);
    if module.init(instance, ctx.as_ptr(), param) == 0 {
        let args = param.map(|p| p.to_string_lossy()).unwrap_or_default();
        skynet_error!(ctx.handle, "LAUNCH {name} {args}");
        // The queue was created scheduled; now it may run.
        GLOBAL.push(ctx.clone());
        Some(ctx)
    } else {
        skynet_error!(ctx.handle, "error: launch {name} FAILED");
        retire(ctx.handle);
        None
    }
}

/// Removes a service; its context is released once the last user drops it.
pub fn retire(handle: u32) -> bool {
    match handles().retire(handle) {
        Some(ctx) => {
            ctx.retired.store(true, Ordering::Release);
            true
        }
        None => false,
    }
}

/// Retires every service but the logger (ABORT); the node then stops and flushes the logger.
pub fn retire_all() {
    for handle in handles().handles() {
        if !log::is_logger(handle) {
            retire(handle);
        }
    }
}

/// Live services other than the logger: the node runs while this is non-zero.
pub fn live_services() -> usize {
    let logger = log::logger_handle();
    let logger_alive = logger != 0 && handles().grab(logger).is_some();
    total().saturating_sub(logger_alive as usize)
}

/// Puts a message on a local service's queue, scheduling the service if it was idle.
/// Gives the message back if no such service exists.
pub fn push(handle: u32, msg: Message) -> Result<(), Message> {
    let mut msg = Some(msg);
    handles().with(handle, |ctx| {
        if let Some(m) = msg.take() {
            push_to(ctx, m);
        }
    });
    match msg {
        None => Ok(()),
        Some(m) => Err(m),
    }
}

/// Puts a message on `ctx`'s queue, scheduling it if it was idle.
pub fn push_to(ctx: &Arc<Context>, msg: Message) {
    if ctx.queue.push(msg) {
        GLOBAL.push(ctx.clone());
    }
}

/// Delivers a message the core made (timer, socket, log; type already in `sz`), freeing its
/// payload if the destination is gone. Returns false in that case.
pub fn deliver(handle: u32, msg: Message) -> bool {
    match push(handle, msg) {
        Ok(()) => true,
        Err(m) => {
            free_queued(&m);
            false
        }
    }
}

/// Applies the type tags: allocates a session, copies the payload unless DONTCOPY.
/// Returns the session and the payload the core now owns.
fn filter_args(
    ctx: Option<&Context>,
    ty: i32,
    session: i32,
    data: *mut c_void,
    sz: usize,
) -> Option<(i32, *mut c_void)> {
    let mut session = session;
    if ty & PTYPE_TAG_ALLOCSESSION != 0 {
        session = ctx?.new_session();
    }
    let data = if ty & PTYPE_TAG_DONTCOPY == 0 && !data.is_null() {
        // SAFETY: without DONTCOPY the caller lends `sz` readable bytes at `data`.
        unsafe { copy_payload(data, sz) }
    } else {
        data
    };
    Some((session, data))
}

/// `skynet_send`: returns the session, -1 if the destination does not exist, -2 if too large.
/// The core owns the payload from here on when DONTCOPY is set, even on failure.
pub fn send(
    ctx: Option<&Context>,
    source: u32,
    destination: u32,
    ty: i32,
    session: i32,
    data: *mut c_void,
    sz: usize,
) -> i32 {
    if ty & PTYPE_TAG_DONTCOPY != 0 {
        payload_released(data);
    }
    let own = ctx.map_or(0, |c| c.handle);
    if sz > MESSAGE_TYPE_MASK {
        skynet_error!(own, "error: The message to {destination:x} is too large");
        free_donated(ty, data);
        return -2;
    }
    let Some((session, data)) = filter_args(ctx, ty, session, data, sz) else {
        skynet_error!(own, "error: can't allocate a session without a context");
        free_donated(ty, data);
        return -1;
    };
    let source = if source == 0 { own } else { source };
    let ty = ty & 0xff;
    if destination == 0 {
        if !data.is_null() {
            skynet_error!(own, "error: Destination address can't be 0");
            free(data);
            return -1;
        }
        return session;
    }
    if harbor::is_remote(destination) {
        harbor::send_to_handle(destination, source, ty, session, data, sz);
        return session;
    }
    let msg = Message { source, session, data, sz: sz | ((ty as usize) << MESSAGE_TYPE_SHIFT) };
    match push(destination, msg) {
        Ok(()) => session,
        Err(m) => {
            free(m.data);
            -1
        }
    }
}

/// `skynet_sendname`: like `send`, addressed by `:hex`, `.name` or a global name.
pub fn send_name(
    ctx: Option<&Context>,
    source: u32,
    name: &[u8],
    ty: i32,
    session: i32,
    data: *mut c_void,
    sz: usize,
) -> i32 {
    if ty & PTYPE_TAG_DONTCOPY != 0 {
        payload_released(data);
    }
    let own = ctx.map_or(0, |c| c.handle);
    let source = if source == 0 { own } else { source };
    match name.first() {
        Some(b':') => send(ctx, source, parse_hex(&name[1..]), ty, session, data, sz),
        Some(b'.') => match handles().find_name(&String::from_utf8_lossy(&name[1..])) {
            Some(handle) => send(ctx, source, handle, ty, session, data, sz),
            None => {
                free_donated(ty, data);
                -1
            }
        },
        _ => {
            if sz > MESSAGE_TYPE_MASK {
                skynet_error!(own, "error: The message to {} is too large", String::from_utf8_lossy(name));
                free_donated(ty, data);
                return -2;
            }
            let Some((session, data)) = filter_args(ctx, ty, session, data, sz) else {
                free_donated(ty, data);
                return -1;
            };
            harbor::send_to_name(name, source, ty & 0xff, session, data, sz);
            session
        }
    }
}

/// Parses the hex digits of a `:hex` address as strtoul does (stops at the first non-digit).
pub fn parse_hex(digits: &[u8]) -> u32 {
    let mut value: u32 = 0;
    for &b in digits {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => break,
        };
        value = value.wrapping_mul(16).wrapping_add(d as u32);
    }
    value
}

/// Resolves `:hex` or `.name` to a handle (0 if unknown); global names are not supported here.
pub fn query_name(ctx: Option<&Context>, name: &[u8]) -> u32 {
    match name.first() {
        Some(b':') => parse_hex(&name[1..]),
        Some(b'.') => handles().find_name(&String::from_utf8_lossy(&name[1..])).unwrap_or(0),
        _ => {
            let own = ctx.map_or(0, |c| c.handle);
            skynet_error!(own, "error: Don't support query global name {}", String::from_utf8_lossy(name));
            0
        }
    }
}

/// Thread CPU time in microseconds.
pub fn thread_cpu_us() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid out-pointer; the clock id is supported on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1000
}

/// Hands one message to the service's callback, then frees the payload unless kept.
fn dispatch_message(ctx: &Context, msg: Message) {
    set_current_handle(ctx.handle);
    let ty = (msg.sz >> MESSAGE_TYPE_SHIFT) as i32;
    let sz = msg.sz & MESSAGE_TYPE_MASK;
    if ctx.logging.load(Ordering::Relaxed) {
        if let Some(file) = ctx.logfile.lock().as_mut() {
            file.output(msg.source, ty, msg.session, msg.data, sz);
        }
    }
    // Single writer: only the worker holding the service updates its counters.
    ctx.message_count.store(ctx.message_count.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    let cb = ctx.callback.load(Ordering::Acquire);
    if cb == 0 {
        free_queued(&msg);
        return;
    }
    // SAFETY: `callback` only ever holds 0 or a `SkynetCb` stored by `set_callback`.
    let cb: SkynetCb = unsafe { std::mem::transmute::<usize, SkynetCb>(cb) };
    let ud = ctx.ud.load(Ordering::Relaxed);
    let call = || {
        // SAFETY: the module contract: the callback gets its own context, ud and the message;
        // this thread is the only one running this service (see `dispatch_batch`).
        unsafe { cb(ctx.as_ptr(), ud, ty, msg.session, msg.source, msg.data, sz) }
    };
    // Nested dispatch (dispatch_all from a callback) restores the outer payload afterwards.
    let outer = PAYLOAD.replace(msg.data);
    let kept = if PROFILE.load(Ordering::Relaxed) {
        // The thread CPU clock is a syscall: read it once per message, using the previous
        // reading as this message's start (the few instructions between count as its cost).
        let start = match CPU_MARK.with(Cell::get) {
            0 => thread_cpu_us(),
            mark => mark,
        };
        ctx.cpu_start.store(start, Ordering::Relaxed);
        let kept = call();
        let end = thread_cpu_us();
        CPU_MARK.with(|m| m.set(end));
        let cost = ctx.cpu_cost.load(Ordering::Relaxed) + end.saturating_sub(start);
        ctx.cpu_cost.store(cost, Ordering::Relaxed);
        kept
    } else {
        call()
    };
    let still_ours = PAYLOAD.replace(outer) == msg.data;
    if kept == 0 && still_ours {
        free(msg.data);
    }
}

/// Dispatches a batch of `ctx`'s messages (its size set by the worker's `weight`, as upstream)
/// and returns the service this worker should run next.
///
/// Only one worker holds a given service here: a service enters the global queue once
/// (`ServiceQueue::push` reports the idle→scheduled transition) and leaves it only through a
/// worker, so its callback never runs on two threads at once.
pub fn dispatch_batch(ctx: Arc<Context>, weight: i32, monitor: &WorkerMonitor) -> Option<Arc<Context>> {
    let mut n = 1;
    let mut i = 0;
    while i < n {
        if ctx.is_retired() {
            for msg in ctx.queue.drain() {
                drop_message(ctx.handle, msg);
            }
            return GLOBAL.pop();
        }
        let Some(Popped { msg, left, overload }) = ctx.queue.pop() else {
            return GLOBAL.pop();
        };
        if i == 0 && weight >= 0 {
            n = (left >> weight).max(1);
        }
        if overload > 0 {
            skynet_error!(ctx.handle, "May overload, message queue length = {overload}");
        }
        monitor.trigger(msg.source, ctx.handle);
        dispatch_message(&ctx, msg);
        monitor.trigger(0, 0);
        i += 1;
    }
    match GLOBAL.pop() {
        Some(next) => {
            GLOBAL.requeue(ctx);
            Some(next)
        }
        None => Some(ctx),
    }
}

/// Launches the logger and names it `logger` (skynet_error routes through it).
pub fn launch_logger(service: &str, param: Option<&CStr>) -> Option<Arc<Context>> {
    let ctx = launch(service, param)?;
    handles().bind_name("logger", ctx.handle);
    log::set_logger(ctx.handle);
    Some(ctx)
}

/// Delivers everything queued for `ctx` on this thread (the logger, before an early exit).
pub fn dispatch_all(ctx: &Context) {
    while let Some(p) = ctx.queue.pop() {
        dispatch_message(ctx, p.msg);
    }
}
