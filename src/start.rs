//! Start-up and the thread model: N workers, the timer, socket and monitor threads, and the
//! orderly shutdown once no service is left.

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::abi::{MESSAGE_TYPE_SHIFT, PTYPE_SYSTEM};
use crate::context::{self, GLOBAL};
use crate::monitor::{WorkerMonitor, CHECK_INTERVAL_SECS};
use crate::mq::Message;
use crate::{daemon, harbor, module, socket, timer};

/// The core's settings, read from the config.
pub struct Settings {
    pub thread: usize,
    pub harbor: u32,
    pub cpath: String,
    pub bootstrap: String,
    pub daemon: Option<String>,
    pub logger: Option<String>,
    pub logservice: String,
    pub profile: bool,
}

/// Worker weights by index, as upstream: -1 dispatches one message per turn, w >= 0
/// dispatches queue_length >> w.
const WEIGHTS: [i32; 32] = [
    -1, -1, -1, -1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
];

static SIGHUP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sighup(_sig: libc::c_int) {
    SIGHUP.store(true, Ordering::Relaxed);
}

fn install_signals() {
    // SAFETY: the SIGHUP handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sighup as extern "C" fn(libc::c_int) as libc::sighandler_t;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigfillset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGHUP, &sa, std::ptr::null_mut());
    }
}

/// Splits `"<module> <args>"`.
fn split_command(line: &str) -> (&str, Option<&str>) {
    match line.trim_start().split_once(char::is_whitespace) {
        Some((m, args)) => (m, Some(args)),
        None => (line.trim(), None),
    }
}

/// Boots the node and runs it until the last service exits; returns the exit status.
pub fn run(settings: Settings) -> i32 {
    install_signals();
    if let Some(pidfile) = &settings.daemon {
        if let Err(e) = daemon::init(pidfile) {
            eprintln!("{e}");
            return 1;
        }
    }
    harbor::init(settings.harbor);
    context::init(settings.harbor, settings.profile);
    if let Err(e) = module::init(&settings.cpath) {
        eprintln!("{e}");
        return 1;
    }
    timer::init();
    if let Err(e) = socket::init(context::deliver) {
        eprintln!("Can't start the socket server: {e}");
        return 1;
    }

    let logger_param = settings.logger.as_deref().and_then(|l| CString::new(l).ok());
    let Some(logger) = context::launch_logger(&settings.logservice, logger_param.as_deref()) else {
        eprintln!("Can't launch {} service", settings.logservice);
        return 1;
    };
    let (boot_module, boot_args) = split_command(&settings.bootstrap);
    let boot_args = boot_args.and_then(|a| CString::new(a).ok());
    if context::launch(boot_module, boot_args.as_deref()).is_none() {
        crate::skynet_error!(0, "Bootstrap error : {}", settings.bootstrap);
        context::dispatch_all(&logger);
        return 1;
    }
    drop(logger);

    start_threads(settings.thread);

    harbor::exit();
    socket::free();
    if let Some(pidfile) = &settings.daemon {
        daemon::exit(pidfile);
    }
    0
}

fn start_threads(workers: usize) {
    GLOBAL.set_workers(workers);
    let monitors: Arc<Vec<WorkerMonitor>> = Arc::new((0..workers).map(|_| WorkerMonitor::new()).collect());
    let mut threads = Vec::with_capacity(workers + 3);
    let spawn = |name: String, body: Box<dyn FnOnce() + Send>| {
        thread::Builder::new().name(name).spawn(body).unwrap_or_else(|e| {
            eprintln!("Can't create thread: {e}");
            std::process::exit(1)
        })
    };
    {
        let monitors = monitors.clone();
        threads.push(spawn("monitor".into(), Box::new(move || monitor_thread(&monitors))));
    }
    threads.push(spawn("timer".into(), Box::new(timer_thread)));
    threads.push(spawn("socket".into(), Box::new(socket_thread)));
    for i in 0..workers {
        let monitors = monitors.clone();
        let weight = WEIGHTS.get(i).copied().unwrap_or(0);
        threads.push(spawn(format!("worker{i}"), Box::new(move || worker_thread(&monitors[i], weight))));
    }
    for t in threads {
        let _ = t.join();
    }
    // Services still scheduled at shutdown are released here; the logger goes last and
    // writes out what it still holds when it is dropped.
    while GLOBAL.pop().is_some() {}
    context::retire(crate::log::logger_handle());
}

fn worker_thread(monitor: &WorkerMonitor, weight: i32) {
    context::set_current_handle(0);
    let mut next = None;
    while !GLOBAL.is_closed() {
        next = match next.take().or_else(|| GLOBAL.pop()) {
            Some(ctx) => context::dispatch_batch(ctx, weight, monitor),
            None => {
                GLOBAL.wait();
                None
            }
        };
    }
}

fn timer_thread() {
    context::set_current_handle(context::THREAD_TIMER);
    while context::live_services() > 0 {
        timer::update();
        GLOBAL.wake_if_pending();
        if SIGHUP.swap(false, Ordering::Relaxed) {
            reopen_log();
        }
        thread::sleep(Duration::from_micros(2500));
    }
    socket::exit();
    GLOBAL.close();
}

/// Tells the service named `logger` to reopen its file (SIGHUP).
fn reopen_log() {
    if let Some(logger) = context::handles().find_name("logger") {
        let msg = Message { source: 0, session: 0, data: std::ptr::null_mut(), sz: (PTYPE_SYSTEM as usize) << MESSAGE_TYPE_SHIFT };
        context::deliver(logger, msg);
    }
}

fn socket_thread() {
    context::set_current_handle(context::THREAD_SOCKET);
    socket::run();
}

fn monitor_thread(monitors: &[WorkerMonitor]) {
    context::set_current_handle(context::THREAD_MONITOR);
    let step = Duration::from_millis(100);
    let steps = CHECK_INTERVAL_SECS * 10;
    loop {
        for m in monitors {
            m.check();
        }
        for _ in 0..steps {
            if GLOBAL.is_closed() {
                return;
            }
            thread::sleep(step);
        }
    }
}
