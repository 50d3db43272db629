//! Exports of skynet_malloc.h and malloc_hook.h, and (with jemalloc) the process-wide
//! `malloc` family that charges each block to the running service.

use std::ffi::{c_char, c_int, c_void};

use super::core::cstr;
use super::lua::{lua_createtable, lua_pushinteger, lua_rawseti, LuaState};
use crate::malloc;

#[cfg(feature = "jemalloc")]
mod interpose {
    use super::*;

    /// `malloc`, charged to the current service.
    #[no_mangle]
    pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
        // SAFETY: the C allocation contract.
        unsafe { malloc::alloc(size) }
    }

    /// `calloc`.
    #[no_mangle]
    pub unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
        // SAFETY: the C allocation contract.
        unsafe { malloc::alloc_zeroed(n, size) }
    }

    /// `realloc`: the old block is gone, as for `free`.
    #[no_mangle]
    pub unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
        crate::context::payload_released(ptr);
        // SAFETY: `ptr` came from this allocator (the C contract).
        unsafe { malloc::resize(ptr, size) }
    }

    /// `free` (and `skynet_free`): also releases the message under dispatch, see
    /// `context::payload_released`.
    #[no_mangle]
    pub unsafe extern "C" fn free(ptr: *mut c_void) {
        crate::context::payload_released(ptr);
        // SAFETY: `ptr` came from this allocator (the C contract).
        unsafe { malloc::dealloc(ptr) }
    }

    fn valid_alignment(align: usize) -> bool {
        align.is_power_of_two()
    }

    /// `memalign`.
    #[no_mangle]
    pub unsafe extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
        if !valid_alignment(align) {
            return std::ptr::null_mut();
        }
        // SAFETY: power-of-two alignment checked.
        unsafe { malloc::alloc_aligned(align, size) }
    }

    /// `aligned_alloc`.
    #[no_mangle]
    pub unsafe extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
        // SAFETY: forwarded; memalign checks the alignment.
        unsafe { memalign(align, size) }
    }

    /// `posix_memalign`.
    #[no_mangle]
    pub unsafe extern "C" fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> c_int {
        if !valid_alignment(align) || !align.is_multiple_of(std::mem::size_of::<usize>()) {
            return libc::EINVAL;
        }
        // SAFETY: alignment checked; `out` is the caller's out-pointer.
        unsafe {
            let p = malloc::alloc_aligned(align, size);
            if p.is_null() {
                return libc::ENOMEM;
            }
            *out = p;
        }
        0
    }

    /// `valloc`.
    #[no_mangle]
    pub unsafe extern "C" fn valloc(size: usize) -> *mut c_void {
        // SAFETY: the page size is a power of two.
        unsafe { malloc::alloc_aligned(page_size(), size) }
    }

    /// `pvalloc`.
    #[no_mangle]
    pub unsafe extern "C" fn pvalloc(size: usize) -> *mut c_void {
        let page = page_size();
        // SAFETY: the page size is a power of two.
        unsafe { malloc::alloc_aligned(page, size.div_ceil(page).max(1) * page) }
    }

    /// `malloc_usable_size`.
    #[no_mangle]
    pub unsafe extern "C" fn malloc_usable_size(ptr: *const c_void) -> usize {
        // SAFETY: `ptr` came from this allocator.
        unsafe { malloc::usable_size(ptr) }
    }

    fn page_size() -> usize {
        // SAFETY: sysconf has no memory-safety preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if page > 0 {
            page as usize
        } else {
            4096
        }
    }
}

/// `skynet_lalloc`: a `lua_Alloc` without ud.
#[no_mangle]
pub unsafe extern "C" fn skynet_lalloc(ptr: *mut c_void, _osize: usize, nsize: usize) -> *mut c_void {
    // SAFETY: blocks from skynet_lalloc only return to it.
    unsafe { malloc::lalloc(ptr, nsize) }
}

/// `skynet_strdup` (declared by skynet v1.8.0).
#[no_mangle]
pub unsafe extern "C" fn skynet_strdup(s: *const c_char) -> *mut c_char {
    if s.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: a NUL-terminated string from C; the copy has room for the terminator.
    unsafe {
        let len = libc::strlen(s);
        let copy = libc::malloc(len + 1) as *mut c_char;
        if !copy.is_null() {
            std::ptr::copy_nonoverlapping(s, copy, len + 1);
        }
        copy
    }
}

/// Bytes held by all services.
#[no_mangle]
pub extern "C" fn malloc_used_memory() -> usize {
    malloc::used_memory()
}

/// Blocks held by all services.
#[no_mangle]
pub extern "C" fn malloc_memory_block() -> usize {
    malloc::memory_block()
}

/// Bytes held by the current service.
#[no_mangle]
pub extern "C" fn malloc_current_memory() -> usize {
    malloc::service_memory(crate::context::current_handle())
}

/// Prints jemalloc's statistics.
#[no_mangle]
pub unsafe extern "C" fn memory_info_dump(opts: *const c_char) {
    // SAFETY: a C string or NULL.
    malloc::stats_print(unsafe { cstr(opts) });
}

/// Reads (and writes, if `newval`) a size_t jemalloc control; returns the old value.
#[no_mangle]
pub unsafe extern "C" fn mallctl_int64(name: *const c_char, newval: *mut usize) -> usize {
    // SAFETY: a C string and an optional pointer to a size_t.
    let (Some(name), new) = (unsafe { cstr(name) }, unsafe { newval.as_ref().copied() }) else { return 0 };
    let old = malloc::mallctl::<usize>(name, new);
    if old.is_none() {
        crate::skynet_error!(0, "Fail to mallctl {}", name.to_string_lossy());
    }
    old.unwrap_or(0)
}

/// Reads (and writes, if `newval`) an int jemalloc control; returns the old value.
#[no_mangle]
pub unsafe extern "C" fn mallctl_opt(name: *const c_char, newval: *mut c_int) -> c_int {
    // SAFETY: a C string and an optional pointer to an int.
    let (Some(name), new) = (unsafe { cstr(name) }, unsafe { newval.as_ref().copied() }) else { return 0 };
    match malloc::mallctl::<c_int>(name, new) {
        Some(old) => old,
        None => {
            crate::skynet_error!(0, "Fail to mallctl {}", name.to_string_lossy());
            0
        }
    }
}

/// Reads (and writes, if `newval`) a bool jemalloc control; returns the old value.
#[no_mangle]
pub unsafe extern "C" fn mallctl_bool(name: *const c_char, newval: *mut bool) -> bool {
    // SAFETY: a C string and an optional pointer to a bool.
    let (Some(name), new) = (unsafe { cstr(name) }, unsafe { newval.as_ref().copied() }) else { return false };
    malloc::mallctl::<bool>(name, new).unwrap_or(false)
}

/// Runs a jemalloc control command with no data.
#[no_mangle]
pub unsafe extern "C" fn mallctl_cmd(name: *const c_char) -> c_int {
    // SAFETY: a C string or NULL.
    match unsafe { cstr(name) } {
        Some(name) => malloc::mallctl_cmd(name),
        None => -1,
    }
}

/// Logs each service's memory and the total.
#[no_mangle]
pub extern "C" fn dump_c_mem() {
    malloc::dump_services();
}

/// A lua_CFunction returning `{ [handle] = bytes }` for every service.
#[no_mangle]
pub unsafe extern "C" fn dump_mem_lua(l: *mut LuaState) -> c_int {
    let all = malloc::per_service();
    // SAFETY: called by Lua with a live state; one table pushed, filled with integers.
    unsafe {
        lua_createtable(l, 0, all.len() as c_int);
        for (handle, bytes) in all {
            lua_pushinteger(l, bytes as i64);
            lua_rawseti(l, -2, handle as i64);
        }
    }
    1
}
