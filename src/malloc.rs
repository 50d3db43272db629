//! Memory: the process-wide allocator and per-service accounting.
//!
//! With the `jemalloc` feature (the default, as upstream on Linux) the executable defines
//! `malloc`, `free` and friends on top of jemalloc, so every allocation in the process, the
//! plug-ins' included, carries a 16-byte prefix `{size, handle, offset}` that charges it to
//! the service running at the time. Without it, libc's allocator is used and the statistics
//! stay 0, as upstream's `NOUSE_JEMALLOC`.

use std::ffi::c_void;

#[cfg(feature = "jemalloc")]
use crate::context;

/// Writes a fixed message to stderr without allocating, then aborts.
pub fn out_of_memory(size: usize) -> ! {
    let mut buf = *b"xmalloc: Out of memory trying to allocate 00000000000000000000 bytes\n";
    let digits = &mut buf[42..62];
    let mut n = size;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    // SAFETY: writing a stack buffer to fd 2; abort never returns.
    unsafe {
        libc::write(2, buf.as_ptr().cast(), buf.len());
        libc::abort()
    }
}

/// The handle whose slot an allocation is charged to, or None for non-service threads.
#[cfg(feature = "jemalloc")]
fn accountable(handle: u32) -> Option<u32> {
    (handle != 0 && handle < context::THREAD_MONITOR).then_some(handle)
}

#[cfg(feature = "jemalloc")]
mod imp {
    use super::*;
    use std::sync::atomic::{AtomicIsize, AtomicU32, Ordering};
    use tikv_jemalloc_sys as je;

    const SLOT_SIZE: usize = 0x10000;
    /// The prefix: size (8 bytes), owning handle (4), distance from the block start (4).
    const PREFIX: usize = 16;
    const MIN_ALIGN: usize = 16;

    /// Usage of one service; slots are indexed by the low 16 bits of the handle.
    #[repr(align(64))]
    struct Slot {
        handle: AtomicU32,
        allocated: AtomicIsize,
        blocks: AtomicIsize,
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const EMPTY: Slot = Slot { handle: AtomicU32::new(0), allocated: AtomicIsize::new(0), blocks: AtomicIsize::new(0) };
    static SLOTS: [Slot; SLOT_SIZE] = [EMPTY; SLOT_SIZE];

    /// The slot of `handle`, claiming it if its previous owner holds no memory.
    fn slot(handle: u32, claim: bool) -> Option<&'static Slot> {
        let slot = &SLOTS[handle as usize & (SLOT_SIZE - 1)];
        let owner = slot.handle.load(Ordering::Relaxed);
        if owner == handle {
            return Some(slot);
        }
        if claim
            && (owner == 0 || slot.allocated.load(Ordering::Relaxed) <= 0)
            && slot.handle.compare_exchange(owner, handle, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            slot.allocated.store(0, Ordering::Relaxed);
            slot.blocks.store(0, Ordering::Relaxed);
            return Some(slot);
        }
        None
    }

    fn charge(handle: u32, size: usize) {
        if let Some(s) = accountable(handle).and_then(|h| slot(h, true)) {
            s.allocated.fetch_add(size as isize, Ordering::Relaxed);
            s.blocks.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn refund(handle: u32, size: usize) {
        if let Some(s) = accountable(handle).and_then(|h| slot(h, false)) {
            s.allocated.fetch_sub(size as isize, Ordering::Relaxed);
            s.blocks.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Writes the prefix in front of `user` and charges the current service.
    ///
    /// # Safety
    /// `user - PREFIX .. user` must be writable memory of the same block.
    unsafe fn fill(user: *mut u8, size: usize, offset: usize) -> *mut c_void {
        let handle = context::current_handle();
        // SAFETY: guaranteed by the caller; the prefix is 8-byte aligned (user is 16-aligned).
        unsafe {
            (user.sub(PREFIX) as *mut usize).write(size);
            (user.sub(8) as *mut u32).write(handle);
            (user.sub(4) as *mut u32).write(offset as u32);
        }
        charge(handle, size);
        user.cast()
    }

    /// Reads the prefix of a block from `alloc` and refunds its owner; returns the block start.
    ///
    /// # Safety
    /// `user` must come from this allocator and not be freed yet.
    unsafe fn clean(user: *mut c_void) -> (*mut c_void, usize, usize) {
        let user = user as *mut u8;
        // SAFETY: every block we hand out has its prefix right before it.
        let (size, handle, offset) = unsafe {
            ((user.sub(PREFIX) as *const usize).read(), (user.sub(8) as *const u32).read(), (user.sub(4) as *const u32).read() as usize)
        };
        refund(handle, size);
        // SAFETY: `offset` is the distance from the block start written by `fill`.
        (unsafe { user.sub(offset) }.cast(), size, offset)
    }

    /// `malloc`.
    pub unsafe fn alloc(size: usize) -> *mut c_void {
        let Some(total) = size.checked_add(PREFIX) else { return std::ptr::null_mut() };
        // SAFETY: plain jemalloc allocation; the prefix fits in the extra bytes.
        unsafe {
            let raw = je::malloc(total) as *mut u8;
            if raw.is_null() {
                return std::ptr::null_mut();
            }
            fill(raw.add(PREFIX), size, PREFIX)
        }
    }

    /// `calloc`.
    pub unsafe fn alloc_zeroed(n: usize, size: usize) -> *mut c_void {
        let Some(bytes) = n.checked_mul(size) else { return std::ptr::null_mut() };
        let Some(total) = bytes.checked_add(PREFIX) else { return std::ptr::null_mut() };
        // SAFETY: as `alloc`, zeroed.
        unsafe {
            let raw = je::calloc(1, total) as *mut u8;
            if raw.is_null() {
                return std::ptr::null_mut();
            }
            fill(raw.add(PREFIX), bytes, PREFIX)
        }
    }

    /// `aligned_alloc` / `memalign` / `posix_memalign` (alignment a power of two).
    pub unsafe fn alloc_aligned(align: usize, size: usize) -> *mut c_void {
        if align <= MIN_ALIGN {
            // SAFETY: jemalloc blocks are 16-aligned and so is block + PREFIX.
            return unsafe { alloc(size) };
        }
        let Some(total) = size.checked_add(align) else { return std::ptr::null_mut() };
        // SAFETY: an aligned block with `align` spare bytes in front of the user pointer.
        unsafe {
            let raw = je::aligned_alloc(align, total) as *mut u8;
            if raw.is_null() {
                return std::ptr::null_mut();
            }
            fill(raw.add(align), size, align)
        }
    }

    /// `free`.
    pub unsafe fn dealloc(user: *mut c_void) {
        if user.is_null() {
            return;
        }
        // SAFETY: `user` came from this allocator (the C contract of free).
        unsafe {
            let (raw, _, _) = clean(user);
            je::free(raw);
        }
    }

    /// `realloc`.
    pub unsafe fn resize(user: *mut c_void, size: usize) -> *mut c_void {
        // SAFETY: the C contract of realloc; see `alloc`/`dealloc`.
        unsafe {
            if user.is_null() {
                return alloc(size);
            }
            if size == 0 {
                dealloc(user);
                return std::ptr::null_mut();
            }
            let Some(total) = size.checked_add(PREFIX) else { return std::ptr::null_mut() };
            let offset = (user as *const u8).sub(4).cast::<u32>().read() as usize;
            if offset != PREFIX {
                // Over-aligned block: move it to a plain one.
                let old = (user as *const u8).sub(PREFIX).cast::<usize>().read();
                let fresh = alloc(size);
                if !fresh.is_null() {
                    std::ptr::copy_nonoverlapping(user as *const u8, fresh as *mut u8, old.min(size));
                    dealloc(user);
                }
                return fresh;
            }
            let (raw, old_size, _) = clean(user);
            let grown = je::realloc(raw, total) as *mut u8;
            if grown.is_null() {
                // The old block is intact: charge it back.
                fill((raw as *mut u8).add(PREFIX), old_size, PREFIX);
                return std::ptr::null_mut();
            }
            fill(grown.add(PREFIX), size, PREFIX)
        }
    }

    /// `malloc_usable_size`.
    pub unsafe fn usable_size(user: *const c_void) -> usize {
        if user.is_null() {
            return 0;
        }
        // SAFETY: `user` came from this allocator.
        unsafe {
            let offset = (user as *const u8).sub(4).cast::<u32>().read() as usize;
            je::malloc_usable_size((user as *const u8).sub(offset).cast()) - offset
        }
    }

    /// `skynet_lalloc`: Lua's allocator, straight to jemalloc with no prefix or accounting.
    pub unsafe fn lalloc(ptr: *mut c_void, nsize: usize) -> *mut c_void {
        // SAFETY: blocks from lalloc only ever return to lalloc.
        unsafe {
            if nsize == 0 {
                je::free(ptr);
                std::ptr::null_mut()
            } else {
                je::realloc(ptr, nsize)
            }
        }
    }

    /// Bytes held by all services.
    pub fn used_memory() -> usize {
        SLOTS.iter().map(|s| s.allocated.load(Ordering::Relaxed).max(0) as usize).sum()
    }

    /// Blocks held by all services.
    pub fn memory_block() -> usize {
        SLOTS.iter().map(|s| s.blocks.load(Ordering::Relaxed).max(0) as usize).sum()
    }

    /// Bytes held by `handle`.
    pub fn service_memory(handle: u32) -> usize {
        accountable(handle)
            .and_then(|h| slot(h, false))
            .map_or(0, |s| s.allocated.load(Ordering::Relaxed).max(0) as usize)
    }

    /// (handle, bytes) for every service holding memory.
    pub fn per_service() -> Vec<(u32, usize)> {
        SLOTS
            .iter()
            .filter_map(|s| {
                let h = s.handle.load(Ordering::Relaxed);
                let a = s.allocated.load(Ordering::Relaxed);
                (h != 0 && a > 0).then_some((h, a as usize))
            })
            .collect()
    }

    /// Reads (and with `new`, writes) a jemalloc control value of type T; returns the old value.
    pub fn mallctl<T: Copy + Default>(name: &std::ffi::CStr, new: Option<T>) -> Option<T> {
        let mut old = T::default();
        let mut len = std::mem::size_of::<T>();
        let mut newval = new.unwrap_or_default();
        let (newp, newlen) = match new {
            Some(_) => (&mut newval as *mut T as *mut c_void, std::mem::size_of::<T>()),
            None => (std::ptr::null_mut(), 0),
        };
        // SAFETY: old/new point to values of the size passed alongside.
        let rc = unsafe { je::mallctl(name.as_ptr(), &mut old as *mut T as *mut c_void, &mut len, newp, newlen) };
        (rc == 0).then_some(old)
    }

    /// Runs a jemalloc control command that takes no data; 0 on success.
    pub fn mallctl_cmd(name: &std::ffi::CStr) -> i32 {
        // SAFETY: no data pointers.
        unsafe { je::mallctl(name.as_ptr(), std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut(), 0) }
    }

    /// Prints jemalloc's statistics to stderr.
    pub fn stats_print(opts: Option<&std::ffi::CStr>) {
        // SAFETY: a NULL callback means jemalloc writes to stderr.
        unsafe { je::malloc_stats_print(None, std::ptr::null_mut(), opts.map_or(std::ptr::null(), |o| o.as_ptr())) }
    }
}

#[cfg(not(feature = "jemalloc"))]
mod imp {
    use super::*;

    /// `skynet_lalloc` on libc.
    pub unsafe fn lalloc(ptr: *mut c_void, nsize: usize) -> *mut c_void {
        // SAFETY: blocks from lalloc only ever return to lalloc.
        unsafe {
            if nsize == 0 {
                libc::free(ptr);
                std::ptr::null_mut()
            } else {
                libc::realloc(ptr, nsize)
            }
        }
    }
    /// No accounting without jemalloc.
    pub fn used_memory() -> usize {
        0
    }
    /// No accounting without jemalloc.
    pub fn memory_block() -> usize {
        0
    }
    /// No accounting without jemalloc.
    pub fn service_memory(_handle: u32) -> usize {
        0
    }
    /// No accounting without jemalloc.
    pub fn per_service() -> Vec<(u32, usize)> {
        Vec::new()
    }
    /// No jemalloc: nothing to control.
    pub fn mallctl<T: Copy + Default>(_name: &std::ffi::CStr, _new: Option<T>) -> Option<T> {
        None
    }
    /// No jemalloc: nothing to control.
    pub fn mallctl_cmd(_name: &std::ffi::CStr) -> i32 {
        -1
    }
    /// No jemalloc statistics.
    pub fn stats_print(_opts: Option<&std::ffi::CStr>) {
        crate::skynet_error!(0, "No jemalloc");
    }
}

pub use imp::*;

/// Logs every service's memory and the total (`dump_c_mem`).
pub fn dump_services() {
    crate::skynet_error!(0, "dump all service mem:");
    let mut total = 0;
    for (handle, bytes) in per_service() {
        total += bytes;
        crate::skynet_error!(0, ":{handle:08x} -> {}kb {}b", bytes >> 10, bytes % 1024);
    }
    crate::skynet_error!(0, "+total: {}kb", total >> 10);
}

#[cfg(all(test, feature = "jemalloc"))]
mod tests {
    use super::*;

    #[test]
    fn prefix_accounts_per_service_and_survives_realloc() {
        let me = 0x00ab_0001;
        context::set_current_handle(me);
        // SAFETY: matched alloc/free pairs on this allocator.
        unsafe {
            let p = alloc(100);
            assert_eq!(service_memory(me), 100);
            let q = resize(p, 1000);
            assert_eq!(service_memory(me), 1000);
            assert!(usable_size(q) >= 1000);
            let a = alloc_aligned(4096, 10);
            assert_eq!(a as usize % 4096, 0);
            assert_eq!(service_memory(me), 1010);
            let b = resize(a, 20);
            assert_eq!(service_memory(me), 1020);
            dealloc(b);
            dealloc(q);
            let z = alloc_zeroed(10, 10) as *const u8;
            assert!(std::slice::from_raw_parts(z, 100).iter().all(|&b| b == 0));
            dealloc(z as *mut c_void);
        }
        assert_eq!(service_memory(me), 0);
        context::set_current_handle(context::THREAD_MAIN);
    }
}
