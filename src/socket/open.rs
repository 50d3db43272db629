//! Making new sockets: outgoing TCP connections, listeners and bound UDP sockets.

use std::ffi::CStr;
use std::os::fd::RawFd;

use super::addr::{self, SockAddr, Transport};
use super::sys;

/// An outgoing connection that was started.
pub(super) struct Connection {
    pub(super) fd: RawFd,
    /// True if connect finished at once (loopback can); otherwise it is in progress.
    pub(super) connected: bool,
    /// The address connected to.
    pub(super) peer: SockAddr,
}

/// Starts a non-blocking connect (SO_KEEPALIVE on) to the first address of `host` that
/// accepts one. The error is the resolver's or strerror's text, as upstream reports it.
pub(super) fn connect(host: &CStr, port: i32) -> Result<Connection, String> {
    let list = addr::resolve(host, port, Transport::Tcp)?;
    let mut last_error = 0;
    for peer in list.iter() {
        let fd = match sys::socket(peer.family(), libc::SOCK_STREAM) {
            Ok(fd) => fd,
            Err(e) => {
                last_error = e;
                continue;
            }
        };
        sys::set_option(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
        match sys::connect(fd, &peer) {
            Ok(()) => return Ok(Connection { fd, connected: true, peer }),
            Err(libc::EINPROGRESS) => return Ok(Connection { fd, connected: false, peer }),
            Err(e) => {
                last_error = e;
                sys::close(fd);
            }
        }
    }
    Err(sys::strerror(last_error))
}

/// A socket bound to `host:port` (host NULL or "" means 0.0.0.0, as upstream) with
/// SO_REUSEADDR, and its address family. Only the first resolved address is tried.
pub(super) fn bind(host: Option<&CStr>, port: i32, transport: Transport) -> Option<(RawFd, i32)> {
    let host = host.filter(|h| !h.is_empty()).unwrap_or(c"0.0.0.0");
    let list = addr::resolve(host, port, transport).ok()?;
    let local = list.iter().next()?;
    let fd = sys::socket(local.family(), transport.socktype()).ok()?;
    sys::set_option(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
    if sys::bind(fd, &local).is_err() {
        sys::close(fd);
        return None;
    }
    Some((fd, local.family()))
}

/// A listening TCP socket on `host:port`.
pub(super) fn listen(host: Option<&CStr>, port: i32, backlog: i32) -> Option<RawFd> {
    let (fd, _) = bind(host, port, Transport::Tcp)?;
    if sys::listen(fd, backlog).is_err() {
        sys::close(fd);
        return None;
    }
    Some(fd)
}
