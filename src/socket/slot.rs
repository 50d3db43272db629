//! The state of one socket slot. Each slot sits behind its own mutex: the socket thread
//! holds it while serving the socket's events, a worker while writing to it directly.

use std::io;
use std::os::fd::RawFd;

use super::addr::{UdpAddress, UdpProtocol};
use super::poll::Poller;
use super::sys;
use super::write_buffer::{self, WriteList};

/// First size of a TCP socket's read buffer; it doubles while reads fill it.
pub(super) const MIN_READ_BUFFER: usize = 64;

/// Where a slot is in its life.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum State {
    /// Free.
    Invalid,
    /// Id handed out; the request that installs the fd is on its way to the socket thread.
    Reserve,
    /// Listening but paused until `start`.
    PListen,
    Listen,
    Connecting,
    Connected,
    /// The peer closed (or we closed with output pending): no more reading.
    HalfcloseRead,
    /// Writing failed: no more writing.
    HalfcloseWrite,
    /// Accepted but paused until `start`.
    PAccept,
    /// An fd adopted with `bind`; never closed by us.
    Bind,
}

/// TCP, or UDP of one IP version.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Protocol {
    Tcp,
    Udp(UdpProtocol),
}

/// Byte counters and times (skynet_now centiseconds) for socket_info.
#[derive(Clone, Copy, Default)]
pub(super) struct Stat {
    pub(super) read: u64,
    pub(super) write: u64,
    pub(super) rtime: u64,
    pub(super) wtime: u64,
}

/// One socket.
pub(super) struct Socket {
    pub(super) id: i32,
    pub(super) state: State,
    pub(super) fd: RawFd,
    pub(super) protocol: Protocol,
    /// The owning service.
    pub(super) owner: u32,
    pub(super) reading: bool,
    pub(super) writing: bool,
    /// `close` was asked while output was pending: finish writing, then close.
    pub(super) closing: bool,
    pub(super) high: WriteList,
    pub(super) low: WriteList,
    /// Bytes queued in `high` and `low`.
    pub(super) pending: i64,
    /// Backlog that triggers the next WARNING (0: none sent yet).
    pub(super) warn_size: i64,
    pub(super) stat: Stat,
    /// Size of the next TCP read.
    pub(super) read_size: usize,
    /// Default destination of a UDP socket.
    pub(super) udp_peer: Option<UdpAddress>,
}

impl Socket {
    /// A free slot.
    pub(super) fn new() -> Socket {
        Socket {
            id: 0,
            state: State::Invalid,
            fd: -1,
            protocol: Protocol::Tcp,
            owner: 0,
            reading: false,
            writing: false,
            closing: false,
            high: WriteList::new(),
            low: WriteList::new(),
            pending: 0,
            warn_size: 0,
            stat: Stat::default(),
            read_size: MIN_READ_BUFFER,
            udp_peer: None,
        }
    }

    /// True if this slot currently holds the socket `id` (reserved or live).
    pub(super) fn is(&self, id: i32) -> bool {
        self.id == id && self.state != State::Invalid
    }

    /// Claims a free slot for socket `id` of `owner`; the write lists are already empty (and
    /// keep their capacity).
    pub(super) fn reserve(&mut self, id: i32, owner: u32) {
        *self = Socket {
            id,
            owner,
            state: State::Reserve,
            high: std::mem::take(&mut self.high),
            low: std::mem::take(&mut self.low),
            ..Socket::new()
        };
    }

    /// Attaches `fd` and registers it with the poller. Output queued while the slot was
    /// reserved turns writing on. On failure the fd is not attached; the caller disposes of it.
    pub(super) fn install(&mut self, poller: &Poller, fd: RawFd, protocol: Protocol, reading: bool) -> io::Result<()> {
        let writing = self.has_output();
        poller.add(fd, self.id, reading, writing)?;
        self.fd = fd;
        self.protocol = protocol;
        self.reading = reading;
        self.writing = writing;
        Ok(())
    }

    /// True if packets are queued.
    pub(super) fn has_output(&self) -> bool {
        !self.high.is_empty() || !self.low.is_empty()
    }

    /// True if nothing more will be written (so a close can be immediate).
    pub(super) fn nothing_to_send(&self) -> bool {
        !self.has_output() || self.state == State::HalfcloseWrite
    }

    /// Turns read interest on or off.
    pub(super) fn set_reading(&mut self, poller: &Poller, on: bool) -> io::Result<()> {
        if self.reading == on {
            return Ok(());
        }
        self.reading = on;
        poller.modify(self.fd, self.id, self.reading, self.writing)
    }

    /// Turns write interest on or off.
    pub(super) fn set_writing(&mut self, poller: &Poller, on: bool) -> io::Result<()> {
        if self.writing == on {
            return Ok(());
        }
        self.writing = on;
        poller.modify(self.fd, self.id, self.reading, self.writing)
    }

    /// Frees every queued packet.
    pub(super) fn discard_output(&mut self) {
        write_buffer::discard(&mut self.high);
        write_buffer::discard(&mut self.low);
        self.pending = 0;
    }

    /// Stops reading for good (peer closed, or local close with output pending).
    pub(super) fn close_read(&mut self, poller: &Poller) {
        self.state = State::HalfcloseRead;
        // Failing to drop interest only costs a spurious wake-up; reads are ignored now.
        let _ = self.set_reading(poller, false);
        sys::shutdown(self.fd, libc::SHUT_RD);
    }

    /// Stops writing for good after a write error; pending output can never go out.
    pub(super) fn close_write(&mut self, poller: &Poller) {
        self.state = State::HalfcloseWrite;
        self.discard_output();
        sys::shutdown(self.fd, libc::SHUT_WR);
        let _ = self.set_writing(poller, false);
    }

    /// Closes the socket now, dropping pending output, and frees the slot. Messages are the
    /// caller's business; `id` and `owner` stay readable for them.
    pub(super) fn force_close(&mut self, poller: &Poller) {
        if self.state == State::Invalid {
            return;
        }
        self.discard_output();
        if self.fd >= 0 {
            poller.remove(self.fd);
            // A bound fd belongs to whoever gave it to us (stdin, say).
            if self.state != State::Bind {
                sys::close(self.fd);
            }
        }
        self.fd = -1;
        self.state = State::Invalid;
        self.closing = false;
        self.reading = false;
        self.writing = false;
        self.udp_peer = None;
    }

    /// Counts `n` bytes read (or one connection accepted, for a listener).
    pub(super) fn stat_read(&mut self, n: usize) {
        self.stat.read += n as u64;
        self.stat.rtime = crate::timer::now();
    }

    /// Counts `n` bytes written.
    pub(super) fn stat_write(&mut self, n: usize) {
        self.stat.write += n as u64;
        self.stat.wtime = crate::timer::now();
    }

    /// True for a UDP socket.
    pub(super) fn is_udp(&self) -> bool {
        matches!(self.protocol, Protocol::Udp(_))
    }
}
