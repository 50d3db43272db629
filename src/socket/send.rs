//! The write path. A service's send runs on its own thread under the socket's slot lock:
//! with nothing queued it writes straight to the fd (upstream's direct write), otherwise it
//! appends to the high or low list, and the socket thread flushes those lists when the fd
//! becomes writable. Holding the slot lock for both keeps bytes in order without a global lock.

use crate::abi::SKYNET_SOCKET_TYPE_WARNING;

use super::addr::{SockAddr, UdpAddress};
use super::message::Event;
use super::server::Server;
use super::slot::{Protocol, Socket, State};
use super::sys::{self, Errno};
use super::write_buffer::{Outgoing, WriteList};

/// The backlog that triggers the first WARNING; later ones need twice the previous level.
const WARNING_SIZE: i64 = 1024 * 1024;

/// Which list a packet joins when it cannot go out at once.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Priority {
    High,
    Low,
}

/// Sends `data` on socket `id` (to `udp`, or the default peer, for UDP). Returns 0 when
/// sent or queued, -1 (dropping the data) if the socket can't take it.
pub(super) fn send(server: &Server, id: i32, data: Outgoing, priority: Priority, udp: Option<UdpAddress>) -> i32 {
    let Some(mut sock) = server.lock(id) else { return -1 };
    // An explicit address only makes sense for UDP, as upstream checks it against the protocol.
    if sock.closing || (udp.is_some() && !sock.is_udp()) {
        return -1;
    }
    match sock.state {
        State::Connected | State::HalfcloseRead | State::Bind => {
            if sock.has_output() {
                enqueue(server, &mut sock, data, 0, priority, udp)
            } else {
                write_now(server, &mut sock, data, udp)
            }
        }
        // Not connected yet: the data waits for the connection. An accepted socket waits
        // for its start: upstream passes such a write through the request pipe, behind a
        // start asked for earlier (a gate's forward), so it goes out once started.
        State::Reserve | State::Connecting | State::PAccept => enqueue(server, &mut sock, data, 0, priority, udp),
        State::PListen | State::Listen => {
            crate::skynet_error!(0, "socket-server: write to listen fd {id}.");
            -1
        }
        State::HalfcloseWrite | State::Invalid => -1,
    }
}

/// The destination of a UDP packet: explicit, or the socket's default peer; None (logged)
/// if there is none or its IP version doesn't match the socket's.
fn udp_destination(sock: &Socket, udp: Option<UdpAddress>) -> Option<UdpAddress> {
    let Protocol::Udp(protocol) = sock.protocol else { return None };
    match udp.or(sock.udp_peer) {
        Some(address) if address.protocol() == protocol => Some(address),
        _ => {
            crate::skynet_error!(0, "socket-server: udp socket ({}) type mismatch.", sock.id);
            None
        }
    }
}

/// Writes at once on an idle socket. A short TCP write queues the rest on the high list
/// (whatever the priority) for the socket thread; so does any write error, which the socket
/// thread then meets again and reports.
fn write_now(server: &Server, sock: &mut Socket, data: Outgoing, udp: Option<UdpAddress>) -> i32 {
    if sock.is_udp() {
        return send_datagram_now(server, sock, data, udp);
    }
    let bytes = data.bytes();
    if bytes.is_empty() {
        return 0;
    }
    let written = sys::write(sock.fd, bytes, sock.state != State::Bind).unwrap_or(0);
    if written > 0 {
        sock.stat_write(written);
    }
    if written == bytes.len() {
        return 0;
    }
    enqueue(server, sock, data, written, Priority::High, None)
}

/// Sends one datagram at once; a full socket buffer queues it, other errors drop it (logged).
fn send_datagram_now(server: &Server, sock: &mut Socket, data: Outgoing, udp: Option<UdpAddress>) -> i32 {
    let Some(address) = udp_destination(sock, udp) else { return -1 };
    match sys::send_to(sock.fd, data.bytes(), &SockAddr::from_udp(&address)) {
        Ok(n) => {
            sock.stat_write(n);
            0
        }
        Err(libc::EAGAIN | libc::EINTR | libc::ENOBUFS) => {
            enqueue(server, sock, data, 0, Priority::High, Some(address))
        }
        Err(e) => {
            log_sendto_error(sock.id, e);
            0
        }
    }
}

/// Queues what is left of `data` after `written` bytes. The first packet of an idle socket
/// always goes to the high list; then turns writing on and checks the backlog warning.
fn enqueue(
    server: &Server,
    sock: &mut Socket,
    data: Outgoing,
    written: usize,
    priority: Priority,
    udp: Option<UdpAddress>,
) -> i32 {
    let udp = match sock.protocol {
        Protocol::Tcp => None,
        Protocol::Udp(_) => match udp_destination(sock, udp) {
            Some(address) => Some(address),
            None => return -1,
        },
    };
    let list = if priority == Priority::Low && sock.has_output() { &mut sock.low } else { &mut sock.high };
    let packet = data.into_pending(written, udp);
    sock.pending += packet.remaining().len() as i64;
    list.push_back(packet);
    // A reserved slot has no fd yet and an accepted one is not started: installing or
    // starting it will turn writing on.
    let waiting = matches!(sock.state, State::Reserve | State::PAccept);
    if !waiting && sock.set_writing(&server.poller, true).is_err() {
        server.emit(sock.owner, Event::error(sock.id, "enable write failed"));
    }
    warn_if_backlogged(server, sock);
    0
}

/// Sends WARNING (ud = KB pending, rounded up) when the backlog reaches 1 MiB, then at 2, 4,
/// ... MiB. Runs under the slot lock, so it can't overtake the "drained" WARNING.
fn warn_if_backlogged(server: &Server, sock: &mut Socket) {
    if sock.pending < WARNING_SIZE || sock.pending < sock.warn_size {
        return;
    }
    sock.warn_size = if sock.warn_size == 0 { WARNING_SIZE * 2 } else { sock.warn_size * 2 };
    let kb = (sock.pending + 1023) / 1024;
    server.emit(sock.owner, Event::bare(SKYNET_SOCKET_TYPE_WARNING, sock.id, kb.min(i32::MAX as i64) as i32));
}

fn log_sendto_error(id: i32, err: Errno) {
    crate::skynet_error!(0, "socket-server : udp ({id}) sendto error {}.", sys::strerror(err));
}

/// What a flush of one list ended with.
enum Flushed {
    /// Everything written, or the fd is full for now.
    Ok,
    /// A TCP write failed with this errno.
    Failed(Errno),
}

/// Socket thread, fd writable: drains the high list, then the low one (a partly written
/// low packet moves to the high list so it finishes first). Once both are empty it closes
/// a closing socket, or turns writing off and, after a WARNING, reports the drain (ud 0).
pub(super) fn flush(server: &Server, sock: &mut Socket) {
    if let Flushed::Failed(err) = flush_list(sock, Priority::High) {
        return write_failed(server, sock, err);
    }
    if !sock.high.is_empty() {
        return;
    }
    if !sock.low.is_empty() {
        if let Flushed::Failed(err) = flush_list(sock, Priority::Low) {
            return write_failed(server, sock, err);
        }
        if sock.low.front().is_some_and(|p| p.is_started()) {
            let started = sock.low.pop_front();
            sock.high.extend(started);
            return;
        }
        if !sock.low.is_empty() {
            return;
        }
    }
    drained(server, sock);
}

/// Both lists are empty.
fn drained(server: &Server, sock: &mut Socket) {
    if sock.closing {
        // CLOSE went out when `close` was called; the output is done, so is the socket.
        return sock.force_close(&server.poller);
    }
    if sock.set_writing(&server.poller, false).is_err() {
        return server.emit(sock.owner, Event::error(sock.id, "disable write failed"));
    }
    if sock.warn_size > 0 {
        sock.warn_size = 0;
        server.emit(sock.owner, Event::bare(SKYNET_SOCKET_TYPE_WARNING, sock.id, 0));
    }
}

/// Writes packets from the front of one list until it is empty or the fd is full, and
/// accounts for what left the list.
fn flush_list(sock: &mut Socket, priority: Priority) -> Flushed {
    let (fd, id, is_socket) = (sock.fd, sock.id, sock.state != State::Bind);
    let list = if priority == Priority::High { &mut sock.high } else { &mut sock.low };
    let mut progress = Progress::default();
    let outcome = match sock.protocol {
        Protocol::Tcp => flush_stream(fd, is_socket, list, &mut progress),
        Protocol::Udp(_) => flush_datagrams(fd, id, list, &mut progress),
    };
    sock.pending -= (progress.written + progress.dropped) as i64;
    if progress.written > 0 {
        sock.stat_write(progress.written);
    }
    outcome
}

/// Bytes that left a list during a flush.
#[derive(Default)]
struct Progress {
    written: usize,
    dropped: usize,
}

/// Writes a TCP (or bound fd) list.
fn flush_stream(fd: i32, is_socket: bool, list: &mut WriteList, progress: &mut Progress) -> Flushed {
    while let Some(packet) = list.front_mut() {
        match sys::write(fd, packet.remaining(), is_socket) {
            Err(libc::EINTR) => continue,
            Err(libc::EAGAIN) => return Flushed::Ok,
            Err(err) => return Flushed::Failed(err),
            Ok(n) => {
                progress.written += n;
                if n < packet.remaining().len() {
                    packet.advance(n);
                    return Flushed::Ok;
                }
                list.pop_front();
            }
        }
    }
    Flushed::Ok
}

/// Sends a UDP list; a datagram that fails for any reason but a full buffer is dropped
/// (logged), as upstream.
fn flush_datagrams(fd: i32, id: i32, list: &mut WriteList, progress: &mut Progress) -> Flushed {
    while let Some(packet) = list.front() {
        let len = packet.remaining().len();
        // Queued datagrams always carry their destination (see `enqueue`).
        let sent = match packet.udp {
            Some(address) => sys::send_to(fd, packet.remaining(), &SockAddr::from_udp(&address)),
            None => Err(libc::EDESTADDRREQ),
        };
        match sent {
            Err(libc::EINTR) => continue,
            Err(libc::EAGAIN) => return Flushed::Ok,
            Err(err) => {
                log_sendto_error(id, err);
                progress.dropped += len;
            }
            Ok(_) => progress.written += len,
        }
        list.pop_front();
    }
    Flushed::Ok
}

/// A TCP write failed. A closing socket, or one whose peer already closed, is simply closed
/// (its CLOSE was sent); otherwise writing stops and the owner gets ERROR.
fn write_failed(server: &Server, sock: &mut Socket, err: Errno) {
    match sock.state {
        _ if sock.closing => sock.force_close(&server.poller),
        State::HalfcloseRead => sock.force_close(&server.poller),
        State::HalfcloseWrite => {}
        _ => {
            sock.close_write(&server.poller);
            server.emit(sock.owner, Event::error(sock.id, &sys::strerror(err)));
        }
    }
}
