//! `skynet_command`: the text commands a service sends to the core.

use std::ffi::{c_char, CStr, CString};
use std::sync::atomic::Ordering;
use std::sync::atomic::AtomicU32;

use crate::abi::PTYPE_CLIENT;
use crate::context::{self, Context};
use crate::log::LogFile;
use crate::{env, skynet_error, timer};

/// The service told about every EXIT/KILL (MONITOR), 0 if none.
static EXIT_MONITOR: AtomicU32 = AtomicU32::new(0);

/// Runs `cmd` for `ctx`; returns a C string valid until this service's next command, or NULL.
pub fn run(ctx: &Context, cmd: &str, parm: Option<&[u8]>) -> *const c_char {
    let parm = parm.unwrap_or(b"");
    let text = |s: String| {
        // SAFETY: skynet_command runs on the service's own thread (its init or callback).
        unsafe { ctx.set_result(s.as_bytes()) }
    };
    let none = std::ptr::null();
    match cmd {
        "TIMEOUT" => {
            let ti = parse_int(parm, 10) as i32;
            let session = ctx.new_session();
            timer::timeout(ctx.handle(), ti, session);
            text(session.to_string())
        }
        "REG" => {
            if parm.is_empty() {
                text(format!(":{:x}", ctx.handle()))
            } else if parm[0] == b'.' {
                register_name(ctx, &parm[1..], ctx.handle())
            } else {
                skynet_error!(ctx.handle(), "error: Can't register global name {} in C", lossy(parm));
                none
            }
        }
        "QUERY" => match parm.first() {
            Some(b'.') => match context::handles().find_name(&lossy(&parm[1..])) {
                Some(h) => text(format!(":{h:x}")),
                None => none,
            },
            _ => none,
        },
        "NAME" => cmd_name(ctx, parm),
        "EXIT" => {
            handle_exit(ctx, 0);
            none
        }
        "KILL" => {
            let handle = to_handle(ctx, parm);
            if handle != 0 {
                handle_exit(ctx, handle);
            }
            none
        }
        "LAUNCH" => cmd_launch(ctx, parm),
        "GETENV" => env::get(&lossy(parm)).map_or(none, |v| v.as_ptr()),
        "SETENV" => {
            if let Some(space) = parm.iter().position(|&b| b == b' ') {
                let key = lossy(&parm[..space]);
                if let Err(e) = env::set(&key, &parm[space + 1..]) {
                    skynet_error!(ctx.handle(), "error: {e}");
                }
            }
            none
        }
        "STARTTIME" => text(timer::starttime().to_string()),
        "ABORT" => {
            context::retire_all();
            none
        }
        "MONITOR" => {
            if parm.is_empty() {
                match EXIT_MONITOR.load(Ordering::Relaxed) {
                    0 => none,
                    h => text(format!(":{h:x}")),
                }
            } else {
                EXIT_MONITOR.store(to_handle(ctx, parm), Ordering::Relaxed);
                none
            }
        }
        "STAT" => text(stat(ctx, parm)),
        "LOGON" => {
            logon(ctx, parm);
            none
        }
        "LOGOFF" => {
            logoff(ctx, parm);
            none
        }
        "SIGNAL" => {
            signal(ctx, parm);
            none
        }
        _ => none,
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// strtol-like: optional sign, digits in `radix` (0 = auto 0x/0 prefix), stops at junk.
fn parse_int(s: &[u8], radix: u32) -> i64 {
    let text = lossy(s);
    let t = text.trim_start();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, t) = match radix {
        0 if t.starts_with("0x") || t.starts_with("0X") => (16, &t[2..]),
        0 if t.starts_with('0') && t.len() > 1 => (8, &t[1..]),
        0 => (10, t),
        r => (r, t),
    };
    let digits: String = t.chars().take_while(|c| c.is_digit(radix)).collect();
    let v = i64::from_str_radix(&digits, radix).unwrap_or(0);
    if neg {
        -v
    } else {
        v
    }
}

/// `:hex` or `.name` to a handle; logs and returns 0 otherwise.
fn to_handle(ctx: &Context, parm: &[u8]) -> u32 {
    match parm.first() {
        Some(b':') => context::parse_hex(&parm[1..]),
        Some(b'.') => context::handles().find_name(&lossy(&parm[1..])).unwrap_or(0),
        _ => {
            skynet_error!(ctx.handle(), "error: Can't convert {} to handle", lossy(parm));
            0
        }
    }
}

fn register_name(ctx: &Context, name: &[u8], handle: u32) -> *const c_char {
    let name = lossy(name);
    if context::handles().bind_name(&name, handle) {
        // SAFETY: the service's own thread (see `run`).
        unsafe { ctx.set_result(name.as_bytes()) }
    } else {
        std::ptr::null()
    }
}

/// `NAME <.name> <:hex>`.
fn cmd_name(ctx: &Context, parm: &[u8]) -> *const c_char {
    let text = lossy(parm);
    let mut words = text.split_whitespace();
    let (Some(name), Some(addr)) = (words.next(), words.next()) else {
        return std::ptr::null();
    };
    if !addr.starts_with(':') {
        return std::ptr::null();
    }
    let handle = context::parse_hex(&addr.as_bytes()[1..]);
    if handle == 0 {
        return std::ptr::null();
    }
    if let Some(local) = name.strip_prefix('.') {
        register_name(ctx, local.as_bytes(), handle)
    } else {
        skynet_error!(ctx.handle(), "error: Can't set global name {name} in C");
        std::ptr::null()
    }
}

/// Retires `handle` (0 = self), telling the exit monitor first.
fn handle_exit(ctx: &Context, handle: u32) {
    let handle = if handle == 0 {
        skynet_error!(ctx.handle(), "KILL self");
        ctx.handle()
    } else {
        skynet_error!(ctx.handle(), "KILL :{handle:0x}");
        handle
    };
    let monitor = EXIT_MONITOR.load(Ordering::Relaxed);
    if monitor != 0 {
        context::send(Some(ctx), handle, monitor, PTYPE_CLIENT, 0, std::ptr::null_mut(), 0);
    }
    context::retire(handle);
}

/// `LAUNCH <module> <args>`: returns `:%08X` of the new service.
fn cmd_launch(ctx: &Context, parm: &[u8]) -> *const c_char {
    let start = parm.iter().position(|b| !b" \t\r\n".contains(b)).unwrap_or(parm.len());
    let rest = &parm[start..];
    let end = rest.iter().position(|b| b" \t\r\n".contains(b)).unwrap_or(rest.len());
    let module = lossy(&rest[..end]);
    let args = rest.get(end + 1..).map(|a| {
        let stop = a.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(a.len());
        &a[..stop]
    });
    let args = match args.map(CString::new) {
        Some(Ok(c)) => Some(c),
        Some(Err(_)) => {
            skynet_error!(ctx.handle(), "error: LAUNCH {module}: arguments contain a NUL byte");
            return std::ptr::null();
        }
        None => None,
    };
    match context::launch(&module, args.as_deref()) {
        // SAFETY: the service's own thread (see `run`).
        Some(child) => unsafe { ctx.set_result(format!(":{:08X}", child.handle()).as_bytes()) },
        None => std::ptr::null(),
    }
}

fn stat(ctx: &Context, what: &[u8]) -> String {
    match what {
        b"mqlen" => ctx.queue.len().to_string(),
        b"endless" => {
            if ctx.endless.swap(false, Ordering::Relaxed) {
                "1".into()
            } else {
                "0".into()
            }
        }
        b"cpu" => format!("{:.6}", ctx.cpu_cost.load(Ordering::Relaxed) as f64 / 1e6),
        b"time" => {
            let start = ctx.cpu_start.load(Ordering::Relaxed);
            if start == 0 {
                "0".into()
            } else {
                format!("{:.6}", context::thread_cpu_us().saturating_sub(start) as f64 / 1e6)
            }
        }
        b"message" => ctx.message_count.load(Ordering::Relaxed).to_string(),
        _ => String::new(),
    }
}

fn logon(ctx: &Context, parm: &[u8]) {
    let handle = to_handle(ctx, parm);
    let Some(target) = context::handles().grab(handle) else { return };
    let Some(logpath) = env::get_str("logpath") else { return };
    let mut slot = target.logfile.lock();
    if slot.is_some() {
        return;
    }
    match LogFile::open(logpath, handle) {
        Ok((file, path)) => {
            skynet_error!(ctx.handle(), "Open log file {path}");
            *slot = Some(file);
            target.set_logging(true);
        }
        Err(e) => skynet_error!(ctx.handle(), "Open log file {logpath}/{handle:08x}.log fail: {e}"),
    }
}

fn logoff(ctx: &Context, parm: &[u8]) {
    let handle = to_handle(ctx, parm);
    let Some(target) = context::handles().grab(handle) else { return };
    target.set_logging(false);
    let file = target.logfile.lock().take();
    if let Some(file) = file {
        skynet_error!(ctx.handle(), "Close log file :{handle:08x}");
        file.close();
    }
}

/// `SIGNAL <handle> [sig]`: calls the target module's `_signal` on this thread.
fn signal(ctx: &Context, parm: &[u8]) {
    let (addr, sig) = match parm.iter().position(|&b| b == b' ') {
        Some(space) => (&parm[..space], parse_int(&parm[space + 1..], 0) as i32),
        None => (parm, 0),
    };
    let handle = to_handle(ctx, addr);
    if let Some(target) = context::handles().grab(handle) {
        target.module().signal(target.instance(), sig);
    }
}

/// `skynet_command` with C strings (NULL cmd returns NULL).
pub fn run_c(ctx: &Context, cmd: &CStr, parm: Option<&CStr>) -> *const c_char {
    match cmd.to_str() {
        Ok(cmd) => run(ctx, cmd, parm.map(CStr::to_bytes)),
        Err(_) => std::ptr::null(),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_int;

    #[test]
    fn strtol_like_parsing() {
        assert_eq!(parse_int(b"100", 10), 100);
        assert_eq!(parse_int(b" -5x", 10), -5);
        assert_eq!(parse_int(b"0x1f", 0), 31);
        assert_eq!(parse_int(b"010", 0), 8);
        assert_eq!(parse_int(b"junk", 10), 0);
    }
}
