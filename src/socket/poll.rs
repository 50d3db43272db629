//! The epoll set and the eventfd that wakes the socket thread when a request is queued.
//!
//! Each socket is registered with its id as the event token, so an event that outlives its
//! socket (the slot was closed and reused within one batch) is recognised as stale.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};

use super::sys;

/// The token of the wake-up eventfd (socket ids are positive i32, so they never collide).
pub(super) const WAKE_TOKEN: u64 = u64::MAX;
/// Events fetched per epoll_wait, as upstream.
pub(super) const MAX_EVENT: usize = 64;

/// One readiness report.
#[derive(Clone, Copy, Debug)]
pub(super) struct Event {
    pub(super) token: u64,
    pub(super) read: bool,
    pub(super) write: bool,
    pub(super) error: bool,
    pub(super) eof: bool,
}

/// The epoll fd and the wake-up eventfd; both -1 while the server is stopped.
pub(super) struct Poller {
    epoll: AtomicI32,
    wake: AtomicI32,
}

/// Converts a -1/errno return into io::Result.
fn check(r: i32) -> io::Result<i32> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

impl Poller {
    /// A stopped poller.
    pub(super) const fn new() -> Poller {
        Poller { epoll: AtomicI32::new(-1), wake: AtomicI32::new(-1) }
    }

    /// Creates the epoll set and the eventfd, and watches the latter.
    pub(super) fn open(&self) -> io::Result<()> {
        // SAFETY: plain syscalls.
        let epoll = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: plain syscall.
        let wake = match check(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) }) {
            Ok(fd) => fd,
            Err(e) => {
                sys::close(epoll);
                return Err(e);
            }
        };
        self.epoll.store(epoll, Ordering::Release);
        self.wake.store(wake, Ordering::Release);
        if let Err(e) = self.control(libc::EPOLL_CTL_ADD, wake, WAKE_TOKEN, libc::EPOLLIN as u32) {
            self.close();
            return Err(e);
        }
        Ok(())
    }

    /// Closes both fds (after the socket thread has stopped).
    pub(super) fn close(&self) {
        sys::close(self.wake.swap(-1, Ordering::AcqRel));
        sys::close(self.epoll.swap(-1, Ordering::AcqRel));
    }

    fn control(&self, op: i32, fd: RawFd, token: u64, events: u32) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: epoll_ctl with a valid event struct; epoll is thread-safe, so workers may
        // change a socket's interest while the socket thread waits.
        check(unsafe { libc::epoll_ctl(self.epoll.load(Ordering::Acquire), op, fd, &mut ev) }).map(drop)
    }

    /// Watches `fd` for the socket `id`.
    pub(super) fn add(&self, fd: RawFd, id: i32, read: bool, write: bool) -> io::Result<()> {
        self.control(libc::EPOLL_CTL_ADD, fd, id as u64, interest(read, write))
    }

    /// Changes what `fd` is watched for.
    pub(super) fn modify(&self, fd: RawFd, id: i32, read: bool, write: bool) -> io::Result<()> {
        self.control(libc::EPOLL_CTL_MOD, fd, id as u64, interest(read, write))
    }

    /// Stops watching `fd`.
    pub(super) fn remove(&self, fd: RawFd) {
        // An fd that is already gone from the set needs nothing more.
        let _ = self.control(libc::EPOLL_CTL_DEL, fd, 0, 0);
    }

    /// Wakes the socket thread.
    pub(super) fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a local to the eventfd. It can only fail when the
        // counter is saturated, which still leaves the thread woken.
        unsafe { libc::write(self.wake.load(Ordering::Acquire), (&one as *const u64).cast(), 8) };
    }

    /// Resets the eventfd after a wake-up.
    pub(super) fn clear_wake(&self) {
        let mut count: u64 = 0;
        // SAFETY: reads 8 bytes into a local; EAGAIN (already clear) is fine.
        unsafe { libc::read(self.wake.load(Ordering::Acquire), (&mut count as *mut u64).cast(), 8) };
    }

    /// Waits for events; returns how many of `events` are filled (0 after EINTR), or None
    /// once the poller has been closed under the thread's feet.
    pub(super) fn wait(&self, events: &mut [libc::epoll_event; MAX_EVENT]) -> Option<usize> {
        // SAFETY: the buffer holds MAX_EVENT entries.
        let n =
            unsafe { libc::epoll_wait(self.epoll.load(Ordering::Acquire), events.as_mut_ptr(), MAX_EVENT as i32, -1) };
        if n >= 0 {
            return Some(n as usize);
        }
        match sys::errno() {
            libc::EINTR => Some(0),
            libc::EBADF => None,
            err => {
                crate::skynet_error!(0, "socket-server: {}", sys::strerror(err));
                Some(0)
            }
        }
    }
}

/// The epoll interest mask (level-triggered, as upstream).
fn interest(read: bool, write: bool) -> u32 {
    let mut events = 0;
    if read {
        events |= libc::EPOLLIN;
    }
    if write {
        events |= libc::EPOLLOUT;
    }
    events as u32
}

impl From<libc::epoll_event> for Event {
    fn from(ev: libc::epoll_event) -> Event {
        // Copy the fields out: epoll_event is packed on x86-64.
        let flags = ev.events as i32;
        let token = ev.u64;
        Event {
            token,
            read: flags & libc::EPOLLIN != 0,
            write: flags & libc::EPOLLOUT != 0,
            error: flags & libc::EPOLLERR != 0,
            eof: flags & libc::EPOLLHUP != 0,
        }
    }
}
