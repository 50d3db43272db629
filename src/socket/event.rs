//! The socket thread: waits on epoll, runs queued requests, and turns readiness into
//! messages (connect results, accepted connections, data, datagrams, errors and closes).

use parking_lot::MutexGuard;

use crate::abi::{
    SKYNET_SOCKET_TYPE_ACCEPT, SKYNET_SOCKET_TYPE_CLOSE, SKYNET_SOCKET_TYPE_CONNECT, SKYNET_SOCKET_TYPE_DATA,
    SKYNET_SOCKET_TYPE_UDP,
};

use super::addr::SockAddr;
use super::message::Event as Message;
use super::poll::{Event, MAX_EVENT, WAKE_TOKEN};
use super::request::SOCKET_LIMIT;
use super::send;
use super::server::Server;
use super::slot::{Protocol, Socket, State, MIN_READ_BUFFER};
use super::sys;
use super::write_buffer::MallocBuf;

/// Largest UDP payload.
const MAX_UDP_PACKAGE: usize = 65535;

/// Whether the handler of one event should go on to the next part of it.
#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    /// The socket was closed or reported an error: skip its pending write.
    Stop,
}

/// The socket thread's own state.
pub(super) struct Poll {
    server: &'static Server,
    events: Box<[libc::epoll_event; MAX_EVENT]>,
    udp_buffer: Box<[u8]>,
}

impl Poll {
    /// The loop for `server`.
    pub(super) fn new(server: &'static Server) -> Poll {
        Poll {
            server,
            events: Box::new([libc::epoll_event { events: 0, u64: 0 }; MAX_EVENT]),
            udp_buffer: vec![0; MAX_UDP_PACKAGE].into_boxed_slice(),
        }
    }

    /// Serves events until an Exit request arrives.
    ///
    /// Requests go before the socket events of the same batch: a request queued before
    /// data arrived (a `start` handing the socket to a new owner, say) then applies to
    /// that data. Upstream handles them after the batch, so such data can reach the old
    /// owner.
    pub(super) fn run(&mut self) {
        loop {
            let Some(n) = self.server.poller.wait(&mut self.events) else { return };
            let woken = self.events[..n].iter().any(|e| e.u64 == WAKE_TOKEN);
            if woken && !self.run_requests() {
                return;
            }
            for i in 0..n {
                let event = Event::from(self.events[i]);
                if event.token != WAKE_TOKEN {
                    self.dispatch(event);
                }
            }
        }
    }

    /// Carries out every queued request; false once Exit was among them.
    fn run_requests(&self) -> bool {
        // Clear the wake-up first: a request queued after this point wakes us again.
        self.server.poller.clear_wake();
        while let Some(request) = self.server.next_request() {
            if !request.execute(self.server) {
                return false;
            }
        }
        true
    }

    /// Handles readiness of one socket (ignored if the socket it was for is gone).
    fn dispatch(&mut self, event: Event) {
        let server = self.server;
        let Some(mut sock) = server.lock(event.token as i32) else { return };
        match sock.state {
            State::Connecting => report_connect(server, &mut sock),
            State::Listen => accept(server, &mut sock),
            State::Invalid | State::Reserve => {}
            _ => self.socket_event(&mut sock, event),
        }
    }

    /// Read, then write; errors and hang-ups only matter when neither is ready.
    fn socket_event(&mut self, sock: &mut MutexGuard<'_, Socket>, event: Event) {
        let server = self.server;
        if event.read || event.write {
            if event.read {
                let flow = match sock.protocol {
                    Protocol::Tcp => read_stream(server, sock),
                    Protocol::Udp(_) => self.read_datagrams(sock),
                };
                if flow == Flow::Stop {
                    return;
                }
            }
            if event.write && sock.state != State::Invalid {
                send::flush(server, sock);
            }
        } else if event.error {
            let text = match sys::socket_error(sock.fd) {
                Err(err) => sys::strerror(err),
                Ok(()) => "Unknown error".to_string(),
            };
            server.emit(sock.owner, Message::error(sock.id, &text));
        } else if event.eof {
            // Both directions are down. CLOSE unless the peer's close already sent it.
            let peer_closed = sock.state == State::HalfcloseRead;
            sock.force_close(&server.poller);
            if !peer_closed {
                server.emit(sock.owner, Message::bare(SKYNET_SOCKET_TYPE_CLOSE, sock.id, 0));
            }
        }
    }

    /// Receives datagrams until the socket is empty; each becomes a UDP message whose buffer
    /// holds the payload followed by the sender's binary address.
    fn read_datagrams(&mut self, sock: &mut Socket) -> Flow {
        let server = self.server;
        let Protocol::Udp(protocol) = sock.protocol else { return Flow::Continue };
        loop {
            let (n, from) = match sys::recv_from(sock.fd, &mut self.udp_buffer) {
                Ok(received) => received,
                Err(libc::EINTR) => continue,
                Err(libc::EAGAIN) => return Flow::Continue,
                Err(err) => {
                    server.fail(sock, &sys::strerror(err));
                    return Flow::Stop;
                }
            };
            sock.stat_read(n);
            // A datagram from the other IP version (or no IP at all) is dropped, as upstream.
            let Some(address) = from.udp_address().filter(|a| a.protocol() == protocol) else { continue };
            let data = MallocBuf::concat(&self.udp_buffer[..n], address.as_bytes());
            server.emit(sock.owner, Message::buffer(SKYNET_SOCKET_TYPE_UDP, sock.id, n as i32, data));
        }
    }
}

/// A non-blocking connect finished: CONNECT with the peer's IP, or ERROR and close.
fn report_connect(server: &Server, sock: &mut Socket) {
    if let Err(err) = sys::socket_error(sock.fd) {
        return server.fail(sock, &sys::strerror(err));
    }
    sock.state = State::Connected;
    if !sock.has_output() && sock.set_writing(&server.poller, false).is_err() {
        return server.fail(sock, "disable write failed");
    }
    let ip = SockAddr::peer_of(sock.fd).and_then(|peer| peer.ip()).unwrap_or_default();
    server.emit(sock.owner, Message::text(SKYNET_SOCKET_TYPE_CONNECT, sock.id, 0, &ip));
}

/// Accepts every pending connection. Each new socket stays paused until `start`; the
/// listener's owner gets ACCEPT (id = listener, ud = new id, text = "ip:port").
fn accept(server: &Server, listener: &mut Socket) {
    loop {
        let (fd, peer) = match sys::accept(listener.fd) {
            Ok(accepted) => accepted,
            Err(libc::EINTR | libc::ECONNABORTED) => continue,
            Err(err @ (libc::EMFILE | libc::ENFILE)) => {
                server.emit(listener.owner, Message::error(listener.id, &sys::strerror(err)));
                return shed_connection(server, listener.fd);
            }
            Err(_) => return,
        };
        match adopt(server, fd, listener.owner) {
            Some(id) => {
                listener.stat_read(1);
                server.emit(listener.owner, Message::text(SKYNET_SOCKET_TYPE_ACCEPT, listener.id, id, &peer.name()));
            }
            None => {
                sys::close(fd);
                server.emit(listener.owner, Message::error(listener.id, SOCKET_LIMIT));
            }
        }
    }
}

/// Gives an accepted fd a slot, paused; None if no slot (or poller entry) is available.
fn adopt(server: &Server, fd: i32, owner: u32) -> Option<i32> {
    let id = server.reserve(owner)?;
    let mut sock = server.lock(id)?;
    sys::set_option(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
    if sock.install(&server.poller, fd, Protocol::Tcp, false).is_err() {
        sock.force_close(&server.poller);
        return None;
    }
    sock.state = State::PAccept;
    Some(id)
}

/// Out of fds: give up the spare one, accept and drop one pending connection so the
/// listener stops firing for it, and take a spare again.
fn shed_connection(server: &Server, listen_fd: i32) {
    use std::sync::atomic::Ordering;
    let spare = server.spare_fd.swap(-1, Ordering::AcqRel);
    if spare < 0 {
        return;
    }
    sys::close(spare);
    if let Ok((fd, _)) = sys::accept(listen_fd) {
        sys::close(fd);
    }
    server.spare_fd.store(sys::spare_fd(), Ordering::Release);
}

/// Reads a TCP socket until a read comes back short: DATA per read, the buffer doubling
/// after a full read and halving when less than half was used. Returns Stop after CLOSE or
/// ERROR.
///
/// The tail read that follows a full one does not halve the buffer (upstream's does): for
/// requests just over a power of two that would split every request in two DATA messages,
/// and a reply written in two pieces then waits for a delayed ACK (Nagle).
fn read_stream(server: &Server, sock: &mut Socket) -> Flow {
    let mut grew = false;
    loop {
        let size = sock.read_size;
        let mut buf = MallocBuf::with_capacity(size);
        // SAFETY: the block has room for `size` bytes.
        let n = match unsafe { sys::read(sock.fd, buf.as_mut_ptr(), buf.capacity()) } {
            Ok(0) => return peer_closed(server, sock),
            Ok(n) => n,
            Err(libc::EINTR) => continue,
            Err(libc::EAGAIN) => return Flow::Continue,
            Err(err) => {
                server.emit(sock.owner, Message::error(sock.id, &sys::strerror(err)));
                return Flow::Stop;
            }
        };
        // SAFETY: read wrote `n` bytes into the block.
        unsafe { buf.set_len(n) };
        if sock.state == State::HalfcloseRead {
            // Reading was turned off within this batch of events; the data is unwanted.
            return Flow::Continue;
        }
        sock.stat_read(n);
        server.emit(sock.owner, Message::buffer(SKYNET_SOCKET_TYPE_DATA, sock.id, n as i32, buf));
        if n < size {
            if !grew && size > MIN_READ_BUFFER && n * 2 < size {
                sock.read_size = size / 2;
            }
            return Flow::Continue;
        }
        sock.read_size = size * 2;
        grew = true;
    }
}

/// Read returned 0 (EOF).
fn peer_closed(server: &Server, sock: &mut Socket) -> Flow {
    if sock.closing {
        // CLOSE was sent by `close`; finish now unless output still waits.
        if sock.nothing_to_send() {
            sock.force_close(&server.poller);
        }
        return Flow::Continue;
    }
    match sock.state {
        State::HalfcloseRead => return Flow::Continue,
        // Writing failed earlier, reading is over now: nothing is left.
        State::HalfcloseWrite => sock.force_close(&server.poller),
        _ => sock.close_read(&server.poller),
    }
    server.emit(sock.owner, Message::bare(SKYNET_SOCKET_TYPE_CLOSE, sock.id, 0));
    Flow::Stop
}
