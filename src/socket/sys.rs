//! Thin wrappers over the file-descriptor system calls the server uses. Failures come back
//! as the raw errno, because messages carry strerror's exact text.

use std::ffi::CStr;
use std::os::fd::RawFd;

use super::addr::SockAddr;

/// A raw errno value.
pub(super) type Errno = i32;

/// The calling thread's errno.
pub(super) fn errno() -> Errno {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// strerror's text for `code`, as upstream puts into ERROR messages.
pub(super) fn strerror(code: Errno) -> String {
    let mut text = [0 as libc::c_char; 128];
    // SAFETY: the buffer and its length match; strerror_r (XSI) NUL-terminates on success.
    let r = unsafe { libc::strerror_r(code, text.as_mut_ptr(), text.len()) };
    if r != 0 {
        return format!("Unknown error {code}");
    }
    // SAFETY: success means `text` holds a NUL-terminated string.
    unsafe { CStr::from_ptr(text.as_ptr()) }.to_string_lossy().into_owned()
}

/// Maps a -1/errno style return to a Result.
fn check(r: isize) -> Result<usize, Errno> {
    if r < 0 {
        Err(errno())
    } else {
        Ok(r as usize)
    }
}

/// Closes an fd we own (errors are meaningless after close).
pub(super) fn close(fd: RawFd) {
    if fd >= 0 {
        // SAFETY: the caller owns `fd` and drops it here.
        unsafe { libc::close(fd) };
    }
}

/// A new socket, non-blocking and close-on-exec.
pub(super) fn socket(family: i32, socktype: i32) -> Result<RawFd, Errno> {
    // SAFETY: plain syscall.
    let fd = unsafe { libc::socket(family, socktype | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) };
    check(fd as isize).map(|_| fd)
}

/// Sets O_NONBLOCK (for fds handed to us by `bind`).
pub(super) fn set_nonblocking(fd: RawFd) {
    // SAFETY: fcntl on an fd; failures leave the flags unchanged, as upstream ignores them.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL, 0);
        if flags != -1 {
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
    }
}

/// Sets an integer socket option; failures are ignored, as upstream does.
pub(super) fn set_option(fd: RawFd, level: i32, name: i32, value: i32) {
    // SAFETY: the option value is an int of the advertised size.
    unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &value as *const i32 as *const libc::c_void,
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
}

/// Binds `fd` to `addr`.
pub(super) fn bind(fd: RawFd, addr: &SockAddr) -> Result<(), Errno> {
    // SAFETY: the address pointer and length describe our own storage.
    check(unsafe { libc::bind(fd, addr.as_ptr(), addr.len()) } as isize).map(drop)
}

/// Starts listening.
pub(super) fn listen(fd: RawFd, backlog: i32) -> Result<(), Errno> {
    // SAFETY: plain syscall.
    check(unsafe { libc::listen(fd, backlog) } as isize).map(drop)
}

/// Starts a connect (EINPROGRESS is an Err the caller expects on non-blocking sockets).
pub(super) fn connect(fd: RawFd, addr: &SockAddr) -> Result<(), Errno> {
    // SAFETY: the address pointer and length describe our own storage.
    check(unsafe { libc::connect(fd, addr.as_ptr(), addr.len()) } as isize).map(drop)
}

/// Accepts one connection, non-blocking and close-on-exec, with the peer's address.
pub(super) fn accept(fd: RawFd) -> Result<(RawFd, SockAddr), Errno> {
    let mut addr = SockAddr::empty();
    // SAFETY: the out-pointers are our own storage and its length.
    let client =
        unsafe { libc::accept4(fd, addr.as_mut_ptr(), addr.len_mut(), libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) };
    check(client as isize).map(|_| (client, addr))
}

/// The pending error of a socket (SO_ERROR), which also clears it.
pub(super) fn socket_error(fd: RawFd) -> Result<(), Errno> {
    let mut error: i32 = 0;
    let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: out-pointers to an int and its length.
    let r = unsafe {
        libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ERROR, &mut error as *mut i32 as *mut libc::c_void, &mut len)
    };
    match (r, error) {
        (r, _) if r < 0 => Err(errno()),
        (_, 0) => Ok(()),
        (_, e) => Err(e),
    }
}

/// Shuts down one direction (SHUT_RD / SHUT_WR); errors don't matter to the caller.
pub(super) fn shutdown(fd: RawFd, how: i32) {
    // SAFETY: plain syscall.
    unsafe { libc::shutdown(fd, how) };
}

/// Reads into up to `cap` bytes at `buf`.
///
/// # Safety
/// `buf` must be valid for writing `cap` bytes.
pub(super) unsafe fn read(fd: RawFd, buf: *mut u8, cap: usize) -> Result<usize, Errno> {
    // SAFETY: the caller guarantees the destination.
    check(unsafe { libc::read(fd, buf.cast(), cap) })
}

/// Writes to a stream. Sockets use send(MSG_NOSIGNAL) so a dead peer is EPIPE, never
/// SIGPIPE; other fds (from `bind`, e.g. a pipe) use write.
pub(super) fn write(fd: RawFd, bytes: &[u8], is_socket: bool) -> Result<usize, Errno> {
    // SAFETY: the slice is readable for its length.
    let r = unsafe {
        if is_socket {
            libc::send(fd, bytes.as_ptr().cast(), bytes.len(), libc::MSG_NOSIGNAL)
        } else {
            libc::write(fd, bytes.as_ptr().cast(), bytes.len())
        }
    };
    check(r)
}

/// Sends one datagram to `addr`.
pub(super) fn send_to(fd: RawFd, bytes: &[u8], addr: &SockAddr) -> Result<usize, Errno> {
    // SAFETY: the slice is readable; the address describes our own storage.
    check(unsafe {
        libc::sendto(fd, bytes.as_ptr().cast(), bytes.len(), libc::MSG_NOSIGNAL, addr.as_ptr(), addr.len())
    })
}

/// Receives one datagram into `buf` with its sender.
pub(super) fn recv_from(fd: RawFd, buf: &mut [u8]) -> Result<(usize, SockAddr), Errno> {
    let mut addr = SockAddr::empty();
    // SAFETY: the slice is writable for its length; the address out-pointers are ours.
    let r = unsafe { libc::recvfrom(fd, buf.as_mut_ptr().cast(), buf.len(), 0, addr.as_mut_ptr(), addr.len_mut()) };
    check(r).map(|n| (n, addr))
}

/// A spare descriptor (a dup of stdout) kept to survive EMFILE on accept; -1 if unavailable.
pub(super) fn spare_fd() -> RawFd {
    // SAFETY: plain syscall; close-on-exec so children don't inherit it.
    unsafe { libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 0) }
}
