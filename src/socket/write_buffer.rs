//! Byte buffers that cross the C boundary (libc malloc) and the pending-output entries built
//! from them.

use std::collections::VecDeque;

use super::addr::UdpAddress;

/// A block from libc `malloc` that we own; `Drop` gives it back with `free`.
///
/// C hands us such blocks (SOCKET_BUFFER_MEMORY) and we hand them to C (DATA and UDP
/// payloads), so they must never come from Rust's allocator. Like a `Vec`, only the first
/// `len` of its `cap` bytes are initialised.
pub(super) struct MallocBuf {
    ptr: *mut u8,
    len: usize,
    cap: usize,
}

// SAFETY: the block is exclusively owned by this value; moving it to another thread moves
// that ownership with it.
unsafe impl Send for MallocBuf {}

impl MallocBuf {
    /// An empty buffer with room for `cap` bytes; aborts like skynet_malloc when out of memory.
    pub(super) fn with_capacity(cap: usize) -> MallocBuf {
        // SAFETY: plain malloc; at least one byte is requested so NULL always means failure.
        let ptr = unsafe { libc::malloc(cap.max(1)) } as *mut u8;
        if ptr.is_null() {
            crate::malloc::out_of_memory(cap);
        }
        MallocBuf { ptr, len: 0, cap }
    }

    /// A malloc'd block holding `head` then `tail`.
    pub(super) fn concat(head: &[u8], tail: &[u8]) -> MallocBuf {
        let mut buf = MallocBuf::with_capacity(head.len() + tail.len());
        // SAFETY: the block has room for both slices, which cannot overlap a fresh block;
        // after the copies exactly `cap` bytes are initialised.
        unsafe {
            std::ptr::copy_nonoverlapping(head.as_ptr(), buf.ptr, head.len());
            std::ptr::copy_nonoverlapping(tail.as_ptr(), buf.ptr.add(head.len()), tail.len());
            buf.set_len(buf.cap);
        }
        buf
    }

    /// A malloc'd copy of `bytes`.
    pub(super) fn copy_of(bytes: &[u8]) -> MallocBuf {
        MallocBuf::concat(bytes, &[])
    }

    /// Takes ownership of a block C allocated and filled.
    ///
    /// # Safety
    /// `ptr` must be NULL with `len == 0`, or a live `malloc` block of at least `len`
    /// initialised bytes that nobody else frees or uses afterwards.
    pub(super) unsafe fn from_raw(ptr: *mut u8, len: usize) -> MallocBuf {
        MallocBuf { ptr, len, cap: len }
    }

    /// Hands the block to C (which frees it); the caller passes the length along.
    pub(super) fn into_raw(self) -> *mut u8 {
        let ptr = self.ptr;
        std::mem::forget(self);
        ptr
    }

    /// Where a reader may write up to `capacity()` bytes.
    pub(super) fn as_mut_ptr(&mut self) -> *mut u8 {
        self.ptr
    }

    /// Room in the block.
    pub(super) fn capacity(&self) -> usize {
        self.cap
    }

    /// Marks the first `len` bytes initialised.
    ///
    /// # Safety
    /// `len <= capacity()` and those bytes have been written.
    pub(super) unsafe fn set_len(&mut self, len: usize) {
        self.len = len;
    }

    /// The initialised bytes.
    pub(super) fn as_slice(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `len` initialised bytes of a live block we own.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for MallocBuf {
    fn drop(&mut self) {
        // SAFETY: the block came from malloc (or is NULL) and is owned by us alone.
        unsafe { libc::free(self.ptr.cast()) };
    }
}

/// Bytes a caller hands to `send`: taken over (MEMORY) or only lent for the call (RAWPOINTER).
pub(super) enum Outgoing<'a> {
    Owned(MallocBuf),
    Borrowed(&'a [u8]),
}

impl Outgoing<'_> {
    /// The bytes to send.
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            Outgoing::Owned(buf) => buf.as_slice(),
            Outgoing::Borrowed(bytes) => bytes,
        }
    }

    /// Keeps what is left after `written` bytes went out; a lent buffer is copied because
    /// the caller reuses it as soon as we return.
    pub(super) fn into_pending(self, written: usize, udp: Option<UdpAddress>) -> WriteBuffer {
        match self {
            Outgoing::Owned(data) => WriteBuffer { data, offset: written, udp },
            Outgoing::Borrowed(bytes) => WriteBuffer { data: MallocBuf::copy_of(&bytes[written..]), offset: 0, udp },
        }
    }
}

/// One queued packet: its bytes, how far it has been written, and for UDP its destination.
pub(super) struct WriteBuffer {
    data: MallocBuf,
    offset: usize,
    pub(super) udp: Option<UdpAddress>,
}

impl WriteBuffer {
    /// The bytes not yet written.
    pub(super) fn remaining(&self) -> &[u8] {
        &self.data.as_slice()[self.offset..]
    }

    /// Records that `n` more bytes went out.
    pub(super) fn advance(&mut self, n: usize) {
        self.offset += n;
    }

    /// True once part of the packet went out; such a packet must be finished before any other.
    pub(super) fn is_started(&self) -> bool {
        self.offset > 0
    }
}

/// A FIFO of queued packets (one per priority).
pub(super) type WriteList = VecDeque<WriteBuffer>;

/// Lists that grew beyond this many entries give their memory back when emptied by a close.
const KEEP_CAPACITY: usize = 64;

/// Frees every queued packet; a huge list also returns its spine to the allocator.
pub(super) fn discard(list: &mut WriteList) {
    list.clear();
    if list.capacity() > KEEP_CAPACITY {
        list.shrink_to(KEEP_CAPACITY);
    }
}
