//! The process's one socket server: its slots, id allocation, the request queue to the
//! socket thread, and event delivery through the sink.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicUsize, Ordering};
use std::sync::OnceLock;

use crossbeam_queue::SegQueue;
use parking_lot::{Mutex, MutexGuard};

use super::message::Event;
use super::poll::Poller;
use super::request::Request;
use super::slot::{Socket, State};
use super::{sys, Sink};
use crate::mq::Message;

/// Number of slots, hence of sockets alive at once (upstream's 2^16).
pub(super) const MAX_SOCKET: usize = 1 << 16;
/// Ids are positive ints and wrap back to 1 after this.
const MAX_ID: u32 = 0x7fff_ffff;

/// All shared state of the server.
pub(super) struct Server {
    slots: Box<[Mutex<Socket>]>,
    next_id: AtomicU32,
    requests: SegQueue<Request>,
    pub(super) poller: Poller,
    /// The `Sink` fn pointer, as usize so it can be swapped by a later `init`.
    sink: AtomicUsize,
    /// The spare fd given up to survive EMFILE on accept.
    pub(super) spare_fd: AtomicI32,
    running: AtomicBool,
}

static SERVER: OnceLock<Server> = OnceLock::new();

/// The running server, None before `init` and after `free`.
pub(super) fn get() -> Option<&'static Server> {
    SERVER.get().filter(|s| s.running.load(Ordering::Acquire))
}

/// Starts (or restarts, after `free`) the server.
pub(super) fn init(sink: Sink) -> io::Result<()> {
    let server = SERVER.get_or_init(Server::new);
    if server.running.load(Ordering::Acquire) {
        return Err(io::Error::new(io::ErrorKind::AlreadyExists, "the socket server is already running"));
    }
    server.poller.open()?;
    server.spare_fd.store(sys::spare_fd(), Ordering::Release);
    server.sink.store(sink as usize, Ordering::Release);
    server.next_id.store(0, Ordering::Relaxed);
    server.running.store(true, Ordering::Release);
    Ok(())
}

/// Closes every socket, drops unprocessed requests and closes the poller. The socket thread
/// must have returned.
pub(super) fn free() {
    let Some(server) = get() else { return };
    server.running.store(false, Ordering::Release);
    while let Some(request) = server.requests.pop() {
        request.discard();
    }
    for slot in server.slots.iter() {
        slot.lock().force_close(&server.poller);
    }
    server.poller.close();
    sys::close(server.spare_fd.swap(-1, Ordering::AcqRel));
    server.sink.store(discard as Sink as usize, Ordering::Release);
}

/// The sink outside `init`..`free`: frees the message as a dead owner would.
fn discard(_owner: u32, msg: Message) -> bool {
    // SAFETY: socket messages are built by `Event::into_message`: a malloc'd SocketMessage
    // whose buffer is NULL or malloc'd, both ours to free here.
    unsafe {
        let sm = msg.data as *mut crate::abi::SocketMessage;
        libc::free((*sm).buffer.cast());
        libc::free(sm.cast());
    }
    false
}

impl Server {
    fn new() -> Server {
        Server {
            slots: (0..MAX_SOCKET).map(|_| Mutex::new(Socket::new())).collect(),
            next_id: AtomicU32::new(0),
            requests: SegQueue::new(),
            poller: Poller::new(),
            sink: AtomicUsize::new(discard as Sink as usize),
            spare_fd: AtomicI32::new(-1),
            running: AtomicBool::new(false),
        }
    }

    /// Every slot, in index order.
    pub(super) fn slots(&self) -> &[Mutex<Socket>] {
        &self.slots
    }

    /// The slot an id maps to.
    fn slot(&self, id: i32) -> &Mutex<Socket> {
        &self.slots[id as u32 as usize % MAX_SOCKET]
    }

    /// Locks the socket `id`; None if its slot now holds nothing or another socket.
    pub(super) fn lock(&self, id: i32) -> Option<MutexGuard<'_, Socket>> {
        let sock = self.slot(id).lock();
        sock.is(id).then_some(sock)
    }

    /// Hands out a new id and reserves its slot for `owner`; None when all slots are taken.
    pub(super) fn reserve(&self, owner: u32) -> Option<i32> {
        for _ in 0..MAX_SOCKET {
            let id = self.next_id.fetch_add(1, Ordering::Relaxed).wrapping_add(1) & MAX_ID;
            if id == 0 {
                continue;
            }
            // A slot locked right now is in use (or being looked at); try the next id rather
            // than wait, which also keeps a thread from locking a slot it already holds.
            let Some(mut sock) = self.slot(id as i32).try_lock() else { continue };
            if sock.state == State::Invalid {
                sock.reserve(id as i32, owner);
                return Some(id as i32);
            }
        }
        None
    }

    /// Queues a request for the socket thread and wakes it.
    pub(super) fn request(&self, request: Request) {
        self.requests.push(request);
        self.poller.wake();
    }

    /// The next queued request.
    pub(super) fn next_request(&self) -> Option<Request> {
        self.requests.pop()
    }

    /// Closes `sock` at once and tells its owner why (ERROR).
    pub(super) fn fail(&self, sock: &mut Socket, text: &str) {
        sock.force_close(&self.poller);
        self.emit(sock.owner, Event::error(sock.id, text));
    }

    /// Delivers an event to `owner`. A dead owner's message is freed by the sink and the
    /// socket stays open, as upstream.
    pub(super) fn emit(&self, owner: u32, event: Event) {
        let raw = self.sink.load(Ordering::Acquire);
        // SAFETY: `sink` only ever holds a `Sink` fn pointer stored as usize (by `new`,
        // `init` or `free`), and fn pointers round-trip through usize unchanged.
        let sink = unsafe { std::mem::transmute::<usize, Sink>(raw) };
        sink(owner, event.into_message());
    }
}

#[cfg(test)]
impl Server {
    /// Makes the next id `last + 1` (to test wrapping).
    pub(super) fn set_last_id(&self, last: u32) {
        self.next_id.store(last, Ordering::Relaxed);
    }

    /// How many slots are not free.
    pub(super) fn live_slots(&self) -> usize {
        self.slots.iter().filter(|s| s.lock().state != State::Invalid).count()
    }

    /// Frees a slot reserved by a test.
    pub(super) fn unreserve(&self, id: i32) {
        if let Some(mut sock) = self.lock(id) {
            sock.force_close(&self.poller);
        }
    }
}
