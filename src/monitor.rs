//! The monitor: every 5 seconds, flags services that have stayed inside one message since
//! the last check (a probable endless loop). It reports; it never interrupts.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::context;

/// Seconds between two checks, as upstream.
pub const CHECK_INTERVAL_SECS: u64 = 5;

/// What one worker is dispatching, bumped before and after each message.
pub struct WorkerMonitor {
    version: AtomicU32,
    checked: AtomicU32,
    source: AtomicU32,
    destination: AtomicU32,
}

impl WorkerMonitor {
    /// A monitor for an idle worker.
    pub const fn new() -> WorkerMonitor {
        WorkerMonitor {
            version: AtomicU32::new(0),
            checked: AtomicU32::new(0),
            source: AtomicU32::new(0),
            destination: AtomicU32::new(0),
        }
    }

    /// Records the message being dispatched (`0, 0` when it returns).
    pub fn trigger(&self, source: u32, destination: u32) {
        self.source.store(source, Ordering::Relaxed);
        self.destination.store(destination, Ordering::Relaxed);
        // Single writer (this worker): a plain increment, no read-modify-write needed.
        self.version.store(self.version.load(Ordering::Relaxed).wrapping_add(1), Ordering::Release);
    }

    /// Called by the monitor thread: flags the service if the same dispatch is still running.
    pub fn check(&self) {
        let version = self.version.load(Ordering::Acquire);
        if version == self.checked.load(Ordering::Relaxed) {
            let destination = self.destination.load(Ordering::Relaxed);
            if destination != 0 {
                if let Some(ctx) = context::handles().grab(destination) {
                    ctx.endless.store(true, Ordering::Relaxed);
                }
                let source = self.source.load(Ordering::Relaxed);
                crate::skynet_error!(
                    0,
                    "error: A message from [ :{source:08x} ] to [ :{destination:08x} ] maybe in an endless loop (version = {version})"
                );
            }
        } else {
            self.checked.store(version, Ordering::Relaxed);
        }
    }
}

impl Default for WorkerMonitor {
    fn default() -> Self {
        Self::new()
    }
}
