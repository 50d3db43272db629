//! skynet: a Rust core for the skynet actor framework, ABI-compatible with its C plug-ins.

mod abi;
mod command;
mod config;
mod context;
mod daemon;
mod env;
mod ffi;
mod handle;
mod harbor;
mod log;
mod malloc;
mod module;
mod monitor;
mod mq;
mod socket;
mod start;
mod timer;

use start::Settings;

/// Reads the core's keys, writing defaults back into env so `skynet.getenv` sees them.
fn settings() -> Result<Settings, String> {
    let thread = env::opt_int("thread", 8)?;
    if !(1..=1024).contains(&thread) {
        return Err(format!("config key 'thread' must be between 1 and 1024, got {thread}"));
    }
    let harbor = env::opt_int("harbor", 1)?;
    if !(0..=255).contains(&harbor) {
        return Err(format!("config key 'harbor' must be between 0 and 255, got {harbor}"));
    }
    Ok(Settings {
        thread: thread as usize,
        harbor: harbor as u32,
        cpath: env::opt_string("cpath", "./cservice/?.so")?.to_string(),
        bootstrap: env::opt_string("bootstrap", "snlua bootstrap")?.to_string(),
        daemon: env::get_str("daemon").map(str::to_string),
        logger: env::get_str("logger").map(str::to_string),
        logservice: env::opt_string("logservice", "logger")?.to_string(),
        profile: env::opt_bool("profile", true)?,
    })
}

fn main() {
    context::set_current_handle(context::THREAD_MAIN);
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("Need a config file. Usage: skynet configfilename");
        std::process::exit(1);
    };
    let pairs = match config::load(&path) {
        Ok(pairs) => pairs,
        Err(e) => {
            eprintln!("skynet: bad config {path}: {e}");
            std::process::exit(1);
        }
    };
    for (key, value) in &pairs {
        if let Err(e) = env::set(key, value.as_bytes()) {
            eprintln!("skynet: bad config {path}: {e}");
            std::process::exit(1);
        }
    }
    let settings = match settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("skynet: bad config {path}: {e}");
            std::process::exit(1);
        }
    };
    std::process::exit(start::run(settings));
}
