//! Tests of the socket server over loopback. There is one server per process, so each test
//! takes `Harness`, which serializes them, starts the server and its thread, and on drop
//! stops and frees it and checks that no slot is left behind.

mod close;
mod info;
mod limits;
mod tcp;
mod udp;

use std::collections::VecDeque;
use std::io::Read;
use std::net::TcpStream;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};

use crate::abi::*;
use crate::mq::Message;

/// Generous bound on any single wait, so a broken test fails instead of hanging.
pub(super) const TIMEOUT: Duration = Duration::from_secs(30);
/// An owner the sink treats as a dead service.
pub(super) const DEAD: u32 = 0xdead;

static SERIAL: Mutex<()> = Mutex::new(());
static EVENTS: Mutex<Option<Sender<Got>>> = Mutex::new(None);

/// A delivered event, copied out of its message.
#[derive(Debug, Clone)]
pub(super) struct Got {
    pub(super) owner: u32,
    pub(super) ty: i32,
    pub(super) id: i32,
    pub(super) ud: i32,
    /// Padding text, or the buffer (DATA: `ud` bytes; UDP: payload then address).
    pub(super) data: Vec<u8>,
    /// For UDP, what `udp_address` returns.
    pub(super) address: Option<Vec<u8>>,
}

impl Got {
    /// The payload as text.
    pub(super) fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// The test sink: copies the event out, frees the message as `context::deliver` would, and
/// reports owner `DEAD` as gone (after freeing, as the real sink does).
fn sink(owner: u32, msg: Message) -> bool {
    assert_eq!(msg.sz >> MESSAGE_TYPE_SHIFT, PTYPE_SOCKET as usize);
    assert_eq!((msg.source, msg.session), (0, 0));
    let total = msg.sz & MESSAGE_TYPE_MASK;
    // SAFETY: the server made this message: a malloc'd SocketMessage followed by `total - 24`
    // text bytes, or with a malloc'd buffer; we own both now.
    let got = unsafe { copy_event(owner, &*(msg.data as *const SocketMessage), total) };
    // SAFETY: as above; each block is freed once.
    unsafe {
        libc::free((*(msg.data as *mut SocketMessage)).buffer.cast());
        libc::free(msg.data);
    }
    // Events for the dead owner are still reported, so tests can wait for them.
    if let Some(tx) = EVENTS.lock().as_ref() {
        let _ = tx.send(got);
    }
    owner != DEAD
}

/// Copies what a message carries.
///
/// # Safety
/// `sm` is a live message from the server and `total` its size.
unsafe fn copy_event(owner: u32, sm: &SocketMessage, total: usize) -> Got {
    let header = std::mem::size_of::<SocketMessage>();
    // SAFETY: see the function's contract.
    let address = unsafe { super::udp_address(sm) }.map(<[u8]>::to_vec);
    let data = if sm.buffer.is_null() {
        // SAFETY: the text follows the struct within the `total` bytes.
        unsafe { std::slice::from_raw_parts((sm as *const SocketMessage as *const u8).add(header), total - header) }
            .to_vec()
    } else {
        let len = sm.ud as usize + address.as_ref().map_or(0, Vec::len);
        // SAFETY: DATA buffers hold `ud` bytes, UDP buffers `ud` plus the address.
        unsafe { std::slice::from_raw_parts(sm.buffer, len) }.to_vec()
    };
    assert!(sm.buffer.is_null() || total == header, "buffer-form messages have no padding");
    Got { owner, ty: sm.ty, id: sm.id, ud: sm.ud, data, address }
}

/// A running server for one test.
pub(super) struct Harness {
    rx: Receiver<Got>,
    /// Events received while waiting for another socket's.
    early: std::cell::RefCell<VecDeque<Got>>,
    thread: Option<JoinHandle<()>>,
    _serial: MutexGuard<'static, ()>,
}

impl Harness {
    /// Takes the server for this test and starts its thread.
    pub(super) fn start() -> Harness {
        let serial = SERIAL.lock();
        let (tx, rx) = channel();
        *EVENTS.lock() = Some(tx);
        super::init(sink).expect("socket server init");
        let thread = std::thread::spawn(super::run);
        Harness { rx, early: Default::default(), thread: Some(thread), _serial: serial }
    }

    /// The next event for socket `id`, in delivery order.
    pub(super) fn next(&self, id: i32) -> Got {
        let mut early = self.early.borrow_mut();
        if let Some(pos) = early.iter().position(|g| g.id == id) {
            return early.remove(pos).expect("position is in range");
        }
        loop {
            let got = self.rx.recv_timeout(TIMEOUT).unwrap_or_else(|e| panic!("no event for socket {id}: {e}"));
            if got.id == id {
                return got;
            }
            early.push_back(got);
        }
    }

    /// The next event for `id`, which must be of type `ty`.
    pub(super) fn expect(&self, id: i32, ty: i32) -> Got {
        let got = self.next(id);
        assert_eq!(got.ty, ty, "unexpected event {got:?}");
        got
    }

    /// Waits until every earlier request was carried out (requests run in order) and
    /// checks that socket `id` got no event meanwhile.
    pub(super) fn settle(&self, id: i32) {
        super::start(1, id_never_used());
        let marker = self.expect(id_never_used(), SKYNET_SOCKET_TYPE_ERROR);
        assert_eq!(marker.text(), "invalid socket");
        assert!(self.early.borrow().iter().all(|g| g.id != id), "unexpected event for {id}");
    }
}

/// An id no test socket gets (ids start from 1 and tests make far fewer).
fn id_never_used() -> i32 {
    0x7fff_0000
}

impl Drop for Harness {
    /// Stops the thread (Exit runs after every earlier request) and frees the server. Every
    /// test closes what it opened, so all slots must be free by then.
    fn drop(&mut self) {
        super::exit();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let live = super::server::get().map_or(0, |s| s.live_slots());
        super::free();
        *EVENTS.lock() = None;
        if !std::thread::panicking() {
            assert!(super::server::get().is_none());
            assert_eq!(live, 0, "sockets still hold slots at the end of the test");
        }
    }
}

/// Sends borrowed bytes (RAWPOINTER).
pub(super) fn send_raw(id: i32, bytes: &[u8]) -> i32 {
    let buf = SocketSendBuffer { id, ty: SOCKET_BUFFER_RAWPOINTER, buffer: bytes.as_ptr().cast(), sz: bytes.len() };
    // SAFETY: the slice is readable for the call.
    unsafe { super::send(&buf) }
}

/// Sends a malloc'd copy of the bytes (MEMORY), which the server takes over.
pub(super) fn send_owned(id: i32, bytes: &[u8], low: bool) -> i32 {
    let copy = super::write_buffer::MallocBuf::copy_of(bytes).into_raw();
    let buf = SocketSendBuffer { id, ty: SOCKET_BUFFER_MEMORY, buffer: copy.cast(), sz: bytes.len() };
    // SAFETY: a malloc'd block of `sz` bytes handed over.
    unsafe {
        if low {
            super::send_lowpriority(&buf)
        } else {
            super::send(&buf)
        }
    }
}

/// A listener on `host` owned by service 1, started; returns its id and port.
pub(super) fn listener(h: &Harness, host: &str) -> Option<(i32, u16)> {
    let lid = super::listen(1, Some(host), 0, 32);
    if lid < 0 {
        return None;
    }
    let bound = h.expect(lid, SKYNET_SOCKET_TYPE_CONNECT);
    assert_eq!(bound.owner, 1);
    assert_eq!(bound.text(), host);
    super::start(1, lid);
    assert_eq!(h.expect(lid, SKYNET_SOCKET_TYPE_CONNECT).text(), "start");
    Some((lid, bound.ud as u16))
}

/// Accepts the next connection on `lid` and starts it for `owner`; returns its id.
pub(super) fn accept(h: &Harness, lid: i32, owner: u32) -> i32 {
    let acc = h.expect(lid, SKYNET_SOCKET_TYPE_ACCEPT);
    assert_eq!(acc.owner, 1);
    let id = acc.ud;
    assert!(id > 0);
    super::start(owner, id);
    let started = h.expect(id, SKYNET_SOCKET_TYPE_CONNECT);
    assert_eq!((started.owner, started.text().as_str()), (owner, "start"));
    id
}

/// A loopback connection from a std client, accepted and started for service 3.
pub(super) fn std_pair(h: &Harness) -> (i32, TcpStream) {
    let (lid, port) = listener(h, "127.0.0.1").expect("listen on 127.0.0.1");
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let id = accept(h, lid, 3);
    super::close(1, lid);
    h.expect(lid, SKYNET_SOCKET_TYPE_CLOSE);
    (id, stream)
}

/// Collects `len` bytes of DATA for `id`.
pub(super) fn receive(h: &Harness, id: i32, len: usize) -> Vec<u8> {
    let mut data = Vec::with_capacity(len);
    while data.len() < len {
        let got = h.expect(id, SKYNET_SOCKET_TYPE_DATA);
        assert_eq!(got.ud as usize, got.data.len());
        data.extend_from_slice(&got.data);
    }
    assert_eq!(data.len(), len);
    data
}

/// Reads a std stream to EOF.
pub(super) fn read_to_end(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    stream.read_to_end(&mut all).expect("read to EOF");
    all
}

/// `len` bytes of a recognisable pattern.
pub(super) fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}
