//! Error logging (`skynet_error`) routed to the logger service, and the per-service
//! message logs that `LOGON`/`LOGOFF` open and close.

use std::ffi::c_void;
use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::abi::{SocketMessage, PTYPE_SOCKET, PTYPE_TEXT, MESSAGE_TYPE_SHIFT};
use crate::context;
use crate::mq::Message;

/// Logs a formatted line as `skynet_error` does, from the service with the given handle.
#[macro_export]
macro_rules! skynet_error {
    ($source:expr, $($arg:tt)*) => {
        $crate::log::error($source, format!($($arg)*).as_bytes())
    };
}

static LOGGER: AtomicU32 = AtomicU32::new(0);

/// Remembers the logger service's handle.
pub fn set_logger(handle: u32) {
    LOGGER.store(handle, Ordering::Release);
}

/// True if `handle` is the logger service.
pub fn is_logger(handle: u32) -> bool {
    handle != 0 && LOGGER.load(Ordering::Relaxed) == handle
}

/// The logger's handle (0 before it starts).
pub fn logger_handle() -> u32 {
    LOGGER.load(Ordering::Acquire)
}

/// The logger's handle, looked up by its name `logger` until found.
fn logger() -> u32 {
    let cached = LOGGER.load(Ordering::Acquire);
    if cached != 0 {
        return cached;
    }
    let found = context::handles().find_name("logger").unwrap_or(0);
    if found != 0 {
        LOGGER.store(found, Ordering::Release);
    }
    found
}

/// Sends `msg` as a PTYPE_TEXT message from `source` to the logger. Before the logger
/// exists (or after it died) the line goes to stderr, so start-up errors are not lost.
pub fn error(source: u32, msg: &[u8]) {
    let logger = logger();
    if logger == 0 {
        eprintln!("[:{source:08x}] {}", String::from_utf8_lossy(msg));
        return;
    }
    // SAFETY: malloc'd buffer of len+1 bytes, filled from `msg` and NUL-terminated.
    let data = unsafe {
        let data = libc::malloc(msg.len() + 1) as *mut u8;
        if data.is_null() {
            crate::malloc::out_of_memory(msg.len() + 1);
        }
        std::ptr::copy_nonoverlapping(msg.as_ptr(), data, msg.len());
        *data.add(msg.len()) = 0;
        data
    };
    let message = Message {
        source,
        session: 0,
        data: data.cast(),
        sz: msg.len() | ((PTYPE_TEXT as usize) << MESSAGE_TYPE_SHIFT),
    };
    if !context::deliver(logger, message) {
        LOGGER.store(0, Ordering::Release);
        eprintln!("[:{source:08x}] {}", String::from_utf8_lossy(msg));
    }
}

/// A service's message log, `<logpath>/<handle>.log`.
pub struct LogFile {
    file: File,
}

impl LogFile {
    /// Opens (appends to) the log of `handle` under `logpath`.
    pub fn open(logpath: &str, handle: u32) -> std::io::Result<(LogFile, String)> {
        let path = format!("{logpath}/{handle:08x}.log");
        let mut file = std::fs::OpenOptions::new().append(true).create(true).open(&path)?;
        let now = crate::timer::now() as u32;
        let wall = crate::timer::starttime() as i64 + now as i64 / 100;
        writeln!(file, "open time: {now} {}", ctime(wall))?;
        file.flush()?;
        Ok((LogFile { file }, path))
    }

    /// Appends one message: `:source type session now` then the payload in hex.
    pub fn output(&mut self, source: u32, ty: i32, session: i32, data: *mut c_void, sz: usize) {
        let mut line = Vec::with_capacity(64 + sz * 2);
        if ty == PTYPE_SOCKET && sz >= std::mem::size_of::<SocketMessage>() && !data.is_null() {
            // SAFETY: socket messages carry a SocketMessage, maybe followed by padding text.
            let sm = unsafe { &*(data as *const SocketMessage) };
            let _ = write!(line, "[socket] {} {} {} ", sm.ty, sm.id, sm.ud);
            if sm.buffer.is_null() {
                let pad = sz - std::mem::size_of::<SocketMessage>();
                // SAFETY: the padding string follows the struct inside the same allocation.
                let text = unsafe { std::slice::from_raw_parts((data as *const u8).add(24), pad) };
                line.push(b'[');
                line.extend_from_slice(text);
                line.push(b']');
            } else {
                let n = sm.ud.max(0) as usize;
                // SAFETY: a DATA buffer holds `ud` bytes.
                hex(&mut line, unsafe { std::slice::from_raw_parts(sm.buffer, n) });
            }
        } else {
            let now = crate::timer::now() as u32;
            let _ = write!(line, ":{source:08x} {ty} {session} {now} ");
            if !data.is_null() {
                // SAFETY: the payload holds `sz` bytes.
                hex(&mut line, unsafe { std::slice::from_raw_parts(data as *const u8, sz) });
            }
        }
        line.push(b'\n');
        let _ = self.file.write_all(&line);
        let _ = self.file.flush();
    }

    /// Writes the closing line.
    pub fn close(mut self) {
        let _ = writeln!(self.file, "close time: {}", crate::timer::now() as u32);
    }
}

fn hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize]);
        out.push(DIGITS[(b & 15) as usize]);
    }
}

/// `ctime(3)` text without its trailing newline.
fn ctime(t: i64) -> String {
    let mut buf = [0 as libc::c_char; 64];
    let t = t as libc::time_t;
    // SAFETY: ctime_r writes at most 26 bytes into the 64-byte buffer.
    let p = unsafe { libc::ctime_r(&t, buf.as_mut_ptr()) };
    if p.is_null() {
        return String::new();
    }
    // SAFETY: ctime_r NUL-terminated the buffer.
    let s = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    s.to_string_lossy().trim_end().to_string()
}
