//! `daemon = "pidfile"`: detach from the terminal, refuse a second instance, keep the pid file.

use std::ffi::CString;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;

/// The pid recorded in `pidfile` if that process is alive.
fn running_pid(pidfile: &str) -> Option<i32> {
    let mut text = String::new();
    std::fs::File::open(pidfile).ok()?.read_to_string(&mut text).ok()?;
    let pid: i32 = text.trim().parse().ok()?;
    // SAFETY: kill with signal 0 only checks that the process exists.
    (pid > 0 && unsafe { libc::kill(pid, 0) } == 0).then_some(pid)
}

/// Daemonizes and writes the pid file; fails if another instance holds it.
pub fn init(pidfile: &str) -> Result<(), String> {
    if let Some(pid) = running_pid(pidfile) {
        return Err(format!("Skynet is already running, pid = {pid} (pidfile {pidfile})"));
    }
    // SAFETY: called before any other thread exists; keeps cwd and (for now) the std fds.
    if unsafe { libc::daemon(1, 1) } != 0 {
        return Err(format!("Can't daemonize: {}", std::io::Error::last_os_error()));
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(pidfile)
        .map_err(|e| format!("Can't create pidfile [{pidfile}]: {e}"))?;
    // SAFETY: flock on an fd we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(format!("Can't lock pidfile [{pidfile}]: another instance holds it"));
    }
    file.set_len(0).map_err(|e| format!("Can't write pidfile [{pidfile}]: {e}"))?;
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    writeln!(file, "{pid}").map_err(|e| format!("Can't write pidfile [{pidfile}]: {e}"))?;
    // The lock lives as long as the process: leak the file.
    std::mem::forget(file);
    redirect_stdio()
}

fn redirect_stdio() -> Result<(), String> {
    let null = CString::new("/dev/null").map_err(|e| e.to_string())?;
    // SAFETY: open/dup2/close on fds this process owns.
    unsafe {
        let fd = libc::open(null.as_ptr(), libc::O_RDWR);
        if fd < 0 {
            return Err(format!("Can't open /dev/null: {}", std::io::Error::last_os_error()));
        }
        for target in 0..3 {
            libc::dup2(fd, target);
        }
        if fd > 2 {
            libc::close(fd);
        }
    }
    Ok(())
}

/// Removes the pid file at exit.
pub fn exit(pidfile: &str) {
    let _ = std::fs::remove_file(pidfile);
}
