//! The few Lua C API functions the core calls itself (the config loader, `dump_mem_lua`).
//! The whole API is linked in and exported for plug-ins; these are just our imports.

use std::ffi::{c_char, c_int, c_void};

/// An opaque Lua state.
#[repr(C)]
pub struct LuaState {
    _private: [u8; 0],
}

pub const LUA_OK: c_int = 0;
pub const LUA_TSTRING: c_int = 4;

extern "C" {
    pub fn luaL_newstate() -> *mut LuaState;
    #[cfg(not(feature = "lua55"))]
    pub fn luaL_openlibs(l: *mut LuaState);
    #[cfg(feature = "lua55")]
    pub fn luaL_openselectedlibs(l: *mut LuaState, load: c_int, preload: c_int);
    pub fn lua_close(l: *mut LuaState);
    pub fn luaL_loadbufferx(l: *mut LuaState, buf: *const c_char, sz: usize, name: *const c_char, mode: *const c_char) -> c_int;
    pub fn lua_pcallk(l: *mut LuaState, nargs: c_int, nresults: c_int, errfunc: c_int, ctx: isize, k: *const c_void) -> c_int;
    pub fn lua_pushlstring(l: *mut LuaState, s: *const c_char, len: usize) -> *const c_char;
    pub fn lua_tolstring(l: *mut LuaState, idx: c_int, len: *mut usize) -> *const c_char;
    pub fn lua_next(l: *mut LuaState, idx: c_int) -> c_int;
    pub fn lua_pushnil(l: *mut LuaState);
    pub fn lua_settop(l: *mut LuaState, idx: c_int);
    pub fn lua_type(l: *mut LuaState, idx: c_int) -> c_int;
    pub fn lua_createtable(l: *mut LuaState, narr: c_int, nrec: c_int);
    pub fn lua_pushinteger(l: *mut LuaState, n: i64);
    pub fn lua_rawseti(l: *mut LuaState, idx: c_int, n: i64);
}

/// `luaL_openlibs` for either Lua version.
///
/// # Safety
/// `l` must be a live Lua state.
pub unsafe fn open_libs(l: *mut LuaState) {
    // SAFETY: forwarded from the caller.
    unsafe {
        #[cfg(not(feature = "lua55"))]
        luaL_openlibs(l);
        #[cfg(feature = "lua55")]
        luaL_openselectedlibs(l, !0, 0);
    }
}

/// Reads the string at `idx` (which must be a string or number).
///
/// # Safety
/// `l` must be a live Lua state with a value at `idx`.
pub unsafe fn to_bytes<'a>(l: *mut LuaState, idx: c_int) -> &'a [u8] {
    let mut len = 0;
    // SAFETY: lua_tolstring returns NULL or a pointer to `len` bytes valid while on the stack.
    unsafe {
        let p = lua_tolstring(l, idx, &mut len);
        if p.is_null() {
            &[]
        } else {
            std::slice::from_raw_parts(p.cast(), len)
        }
    }
}
