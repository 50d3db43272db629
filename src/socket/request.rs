//! Requests services queue for the socket thread, and how the thread carries them out:
//! connecting, registering listeners and bound fds, start/pause, close. They run in the
//! order they were made, so their CONNECT, CLOSE and ERROR messages keep that order too.

use std::ffi::CString;
use std::os::fd::RawFd;

use crate::abi::{SKYNET_SOCKET_TYPE_CLOSE, SKYNET_SOCKET_TYPE_CONNECT};

use super::addr::SockAddr;
use super::message::Event;
use super::open::{self, Connection};
use super::server::Server;
use super::slot::{Protocol, Socket, State};
use super::sys;

/// The text of upstream's error for a socket the poller refused.
pub(super) const SOCKET_LIMIT: &str = "reach skynet socket number limit";

/// One request. Where a new socket is made, the caller has already reserved `id` for its
/// owner.
pub(super) enum Request {
    /// Connect the reserved socket `id` to `host:port`.
    Open { id: i32, host: CString, port: i32 },
    /// Register a bound, listening fd.
    Listen { id: i32, fd: RawFd },
    /// Adopt an existing fd.
    Bind { id: i32, fd: RawFd },
    /// Resume reading, making `owner` the owner.
    Start { id: i32, owner: u32 },
    /// Stop reading.
    Pause { id: i32 },
    /// Close gracefully, or at once with `force` (shutdown).
    Close { id: i32, force: bool },
    /// Set TCP_NODELAY.
    Nodelay { id: i32 },
    /// Stop the socket thread.
    Exit,
}

impl Request {
    /// Carries the request out on the socket thread; false for Exit.
    pub(super) fn execute(self, server: &Server) -> bool {
        match self {
            Request::Open { id, host, port } => open_socket(server, id, &host, port),
            Request::Listen { id, fd } => listen_socket(server, id, fd),
            Request::Bind { id, fd } => bind_socket(server, id, fd),
            Request::Start { id, owner } => start_socket(server, id, owner),
            Request::Pause { id } => pause_socket(server, id),
            Request::Close { id, force } => close_socket(server, id, force),
            Request::Nodelay { id } => nodelay_socket(server, id),
            Request::Exit => return false,
        }
        true
    }

    /// Releases what an unprocessed request owns (at `free`, after the thread stopped).
    pub(super) fn discard(self) {
        if let Request::Listen { fd, .. } = self {
            sys::close(fd);
        }
    }
}

/// Locks the reserved slot `id`, which only its own request can have released.
fn reserved(server: &Server, id: i32) -> Option<parking_lot::MutexGuard<'_, Socket>> {
    server.lock(id).filter(|sock| sock.state == State::Reserve)
}

/// Connects; the result is CONNECT (peer IP) or ERROR. DNS runs outside the slot lock so
/// services writing to the socket meanwhile (their data waits) are not held up.
fn open_socket(server: &Server, id: i32, host: &CString, port: i32) {
    let outcome = open::connect(host, port);
    let Some(mut sock) = reserved(server, id) else {
        if let Ok(conn) = outcome {
            sys::close(conn.fd);
        }
        return;
    };
    let conn = match outcome {
        Ok(conn) => conn,
        Err(text) => return server.fail(&mut sock, &text),
    };
    if sock.install(&server.poller, conn.fd, Protocol::Tcp, true).is_err() {
        sys::close(conn.fd);
        return server.fail(&mut sock, SOCKET_LIMIT);
    }
    finish_open(server, &mut sock, conn);
}

/// Marks a fresh outgoing connection connected, or waits for writability to learn the outcome.
fn finish_open(server: &Server, sock: &mut Socket, conn: Connection) {
    if conn.connected {
        sock.state = State::Connected;
        let ip = conn.peer.ip().unwrap_or_default();
        return server.emit(sock.owner, Event::text(SKYNET_SOCKET_TYPE_CONNECT, sock.id, 0, &ip));
    }
    if sock.set_writing(&server.poller, true).is_err() {
        return server.fail(sock, "enable write failed");
    }
    sock.state = State::Connecting;
}

/// Registers a listener, paused; CONNECT carries the local IP with ud = the bound port.
fn listen_socket(server: &Server, id: i32, fd: RawFd) {
    let Some(mut sock) = reserved(server, id) else { return sys::close(fd) };
    // Anything "sent" to the id before it became a listener can never go out.
    sock.discard_output();
    if sock.install(&server.poller, fd, Protocol::Tcp, false).is_err() {
        sys::close(fd);
        return server.fail(&mut sock, SOCKET_LIMIT);
    }
    sock.state = State::PListen;
    match SockAddr::local_of(fd) {
        Ok(local) => {
            let ip = local.ip().unwrap_or_default();
            server.emit(sock.owner, Event::text(SKYNET_SOCKET_TYPE_CONNECT, id, local.port() as i32, &ip));
        }
        Err(err) => server.emit(sock.owner, Event::error(id, &sys::strerror(err))),
    }
}

/// Adopts `fd` (not ours to close) and starts reading it: CONNECT "binding".
fn bind_socket(server: &Server, id: i32, fd: RawFd) {
    let Some(mut sock) = reserved(server, id) else { return };
    if sock.install(&server.poller, fd, Protocol::Tcp, true).is_err() {
        return server.fail(&mut sock, SOCKET_LIMIT);
    }
    sys::set_nonblocking(fd);
    sock.state = State::Bind;
    server.emit(sock.owner, Event::text(SKYNET_SOCKET_TYPE_CONNECT, id, 0, "binding"));
}

/// Resumes reading: "start" for a paused listener or accepted socket, "transfer" when a
/// connected socket changes owner. Errors go to the service that asked.
fn start_socket(server: &Server, id: i32, owner: u32) {
    let Some(mut sock) = server.lock(id).filter(|s| s.state != State::Reserve) else {
        return server.emit(owner, Event::error(id, "invalid socket"));
    };
    if sock.state == State::HalfcloseRead {
        // The CLOSE may still be on its way to the service; see upstream issue #1374.
        return server.emit(owner, Event::error(id, "socket closed"));
    }
    if sock.set_reading(&server.poller, true).is_err() {
        return server.emit(owner, Event::error(id, "enable read failed"));
    }
    let text = match sock.state {
        State::PAccept => {
            sock.state = State::Connected;
            if sock.has_output() && sock.set_writing(&server.poller, true).is_err() {
                return server.emit(owner, Event::error(id, "enable write failed"));
            }
            "start"
        }
        State::PListen => {
            sock.state = State::Listen;
            "start"
        }
        State::Connected => "transfer",
        // Connecting, Bind, Listen or HalfcloseWrite: reading is on, nothing to report.
        _ => return,
    };
    sock.owner = owner;
    server.emit(owner, Event::text(SKYNET_SOCKET_TYPE_CONNECT, id, 0, text));
}

/// Stops reading.
fn pause_socket(server: &Server, id: i32) {
    let Some(mut sock) = server.lock(id).filter(|s| s.state != State::Reserve) else { return };
    if sock.set_reading(&server.poller, false).is_err() {
        server.emit(sock.owner, Event::error(id, "enable read failed"));
    }
}

/// Closes: at once if forced or nothing is pending (CLOSE now); otherwise stop reading, send
/// CLOSE now and close the fd once the output is flushed. CLOSE is sent only once: not again
/// if the peer's close already produced it.
fn close_socket(server: &Server, id: i32, force: bool) {
    let Some(mut sock) = server.lock(id).filter(|s| s.state != State::Reserve) else { return };
    let peer_closed = sock.state == State::HalfcloseRead;
    let owner = sock.owner;
    // An accepted socket never started has nothing flushing its output: drop it.
    if force || sock.nothing_to_send() || sock.state == State::PAccept {
        sock.force_close(&server.poller);
    } else {
        sock.closing = true;
        if peer_closed {
            return;
        }
        sock.close_read(&server.poller);
    }
    if !peer_closed {
        server.emit(owner, Event::bare(SKYNET_SOCKET_TYPE_CLOSE, id, 0));
    }
}

/// Sets TCP_NODELAY.
fn nodelay_socket(server: &Server, id: i32) {
    if let Some(sock) = server.lock(id).filter(|s| s.fd >= 0) {
        sys::set_option(sock.fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
    }
}
