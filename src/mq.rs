//! Message queues: one `ServiceQueue` per service and the `GlobalQueue` of services with
//! pending messages, which idle workers sleep on.

use std::collections::VecDeque;
use std::ffi::c_void;
use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};

use crossbeam_queue::SegQueue;
use parking_lot::{Condvar, Mutex};

/// A queued message; `sz` carries the type in its top byte (see `abi::MESSAGE_TYPE_SHIFT`).
#[repr(C)]
#[derive(Debug)]
pub struct Message {
    pub source: u32,
    pub session: i32,
    pub data: *mut c_void,
    pub sz: usize,
}

// SAFETY: `data` is a malloc'd payload owned by the message; it moves with it.
unsafe impl Send for Message {}

/// Queue length that first triggers the overload warning; it then doubles past the length seen.
const OVERLOAD_THRESHOLD: usize = 1024;
/// Initial capacity of a service queue, as upstream.
const DEFAULT_QUEUE_SIZE: usize = 64;

/// One message taken from a `ServiceQueue`.
pub struct Popped {
    pub msg: Message,
    /// Messages still queued behind it.
    pub left: usize,
    /// Non-zero when the queue length crossed the overload threshold (which then doubles).
    pub overload: usize,
}

/// The mailbox of one service.
pub struct ServiceQueue {
    inner: Mutex<Ring>,
}

struct Ring {
    messages: VecDeque<Message>,
    /// True while the owning service sits in the global queue or is being dispatched.
    in_global: bool,
    overload_threshold: usize,
}

impl ServiceQueue {
    /// A new queue counts as scheduled, so messages sent during init wait until init returns.
    pub fn new() -> ServiceQueue {
        ServiceQueue {
            inner: Mutex::new(Ring {
                messages: VecDeque::with_capacity(DEFAULT_QUEUE_SIZE),
                in_global: true,
                overload_threshold: OVERLOAD_THRESHOLD,
            }),
        }
    }

    /// Appends a message; returns true when the caller must put the service on the global queue.
    pub fn push(&self, msg: Message) -> bool {
        let mut ring = self.inner.lock();
        ring.messages.push_back(msg);
        if ring.in_global {
            false
        } else {
            ring.in_global = true;
            true
        }
    }

    /// Takes the next message; an empty queue leaves the global queue.
    pub fn pop(&self) -> Option<Popped> {
        let mut ring = self.inner.lock();
        match ring.messages.pop_front() {
            Some(msg) => {
                let left = ring.messages.len();
                let mut overload = 0;
                // Doubles until past the length, as upstream: one warning per crossing.
                while left > ring.overload_threshold {
                    overload = left;
                    ring.overload_threshold *= 2;
                }
                Some(Popped { msg, left, overload })
            }
            None => {
                ring.overload_threshold = OVERLOAD_THRESHOLD;
                ring.in_global = false;
                None
            }
        }
    }

    /// Number of queued messages.
    pub fn len(&self) -> usize {
        self.inner.lock().messages.len()
    }

    /// Takes every queued message, leaving the queue empty.
    pub fn drain(&self) -> VecDeque<Message> {
        std::mem::take(&mut self.inner.lock().messages)
    }
}

impl Default for ServiceQueue {
    fn default() -> Self {
        Self::new()
    }
}

/// The run queue of scheduled services, with the sleeping workers that wait for it.
///
/// Wake-up policy: a push wakes a sleeper only when there is more queued work than awake
/// workers to take it, so a ping-pong between two services runs on one worker without a
/// syscall per message, while a burst fans out to the sleepers. Pushes never wake more
/// workers than there are CPUs: extra awake workers would only trade the CPUs back and
/// forth through futex wake-ups. The timer's `wake_if_pending` still adds one per tick,
/// so work behind a worker stuck in a long callback is picked up.
pub struct GlobalQueue<T> {
    queue: SegQueue<T>,
    sleeping: AtomicUsize,
    workers: AtomicUsize,
    max_awake: AtomicUsize,
    lock: Mutex<()>,
    wakeup: Condvar,
    quit: AtomicBool,
}

impl<T> GlobalQueue<T> {
    /// An empty queue with no workers.
    pub const fn new() -> GlobalQueue<T> {
        GlobalQueue {
            queue: SegQueue::new(),
            sleeping: AtomicUsize::new(0),
            workers: AtomicUsize::new(0),
            max_awake: AtomicUsize::new(0),
            lock: Mutex::new(()),
            wakeup: Condvar::new(),
            quit: AtomicBool::new(false),
        }
    }

    /// Records how many workers serve this queue.
    pub fn set_workers(&self, n: usize) {
        let cpus = std::thread::available_parallelism().map_or(n, |c| c.get());
        self.workers.store(n, Ordering::Relaxed);
        self.max_awake.store(n.min(cpus).max(1), Ordering::Relaxed);
    }

    /// Schedules a service and wakes a sleeper if the awake workers cannot cover the backlog.
    pub fn push(&self, item: T) {
        self.queue.push(item);
        // Pairs with the fence in `wait`: either we see the sleeper, or it sees our item.
        fence(Ordering::SeqCst);
        let sleeping = self.sleeping.load(Ordering::Relaxed);
        if sleeping > 0 {
            let awake = self.workers.load(Ordering::Relaxed).saturating_sub(sleeping);
            if awake < self.max_awake.load(Ordering::Relaxed) && self.queue.len() > awake {
                self.wake_one();
            }
        }
    }

    /// Puts a service back at the tail without waking anyone (the caller keeps working).
    pub fn requeue(&self, item: T) {
        self.queue.push(item);
    }

    /// Takes the next scheduled service.
    pub fn pop(&self) -> Option<T> {
        self.queue.pop()
    }

    /// Wakes one sleeping worker if work is pending (the timer's safety net).
    pub fn wake_if_pending(&self) {
        if !self.queue.is_empty() && self.sleeping.load(Ordering::SeqCst) > 0 {
            self.wake_one();
        }
    }

    fn wake_one(&self) {
        let _guard = self.lock.lock();
        self.wakeup.notify_one();
    }

    /// Blocks the calling worker until work may be available or the queue is closed.
    pub fn wait(&self) {
        let mut guard = self.lock.lock();
        self.sleeping.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if self.queue.is_empty() && !self.quit.load(Ordering::SeqCst) {
            self.wakeup.wait(&mut guard);
        }
        self.sleeping.fetch_sub(1, Ordering::SeqCst);
    }

    /// Tells every worker to stop.
    pub fn close(&self) {
        let _guard = self.lock.lock();
        self.quit.store(true, Ordering::SeqCst);
        self.wakeup.notify_all();
    }

    /// True once `close` was called.
    pub fn is_closed(&self) -> bool {
        self.quit.load(Ordering::Relaxed)
    }
}

impl<T> Default for GlobalQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn msg(source: u32, session: i32) -> Message {
        Message { source, session, data: std::ptr::null_mut(), sz: 0 }
    }

    #[test]
    fn new_queue_is_scheduled_until_first_empty_pop() {
        let q = ServiceQueue::new();
        assert!(!q.push(msg(1, 1)), "a queue created during init must not be scheduled");
        assert_eq!(q.pop().map(|p| (p.msg.session, p.left)), Some((1, 0)));
        assert!(q.pop().is_none());
        assert!(q.push(msg(1, 2)), "an idle queue must be scheduled by the next push");
        assert!(!q.push(msg(1, 3)), "a scheduled queue is scheduled only once");
    }

    #[test]
    fn overload_threshold_doubles_and_resets() {
        let q = ServiceQueue::new();
        for i in 0..3000 {
            q.push(msg(0, i));
        }
        assert_eq!(q.pop().unwrap().overload, 2999);
        assert_eq!(q.pop().unwrap().overload, 0, "the threshold doubled past 2999, to 4096");
        for i in 0..2000 {
            q.push(msg(0, i));
        }
        assert_eq!(q.pop().unwrap().overload, 4997, "4997 passes 4096");
        assert_eq!(q.pop().unwrap().overload, 0, "the threshold is now 8192");
        while q.pop().is_some() {}
        for i in 0..1100 {
            q.push(msg(0, i));
        }
        assert_eq!(q.pop().unwrap().overload, 1099, "the threshold resets once the queue empties");
    }

    #[test]
    fn concurrent_producers_lose_and_duplicate_nothing() {
        let q = Arc::new(ServiceQueue::new());
        let producers: Vec<_> = (0..4u32)
            .map(|p| {
                let q = q.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        q.push(msg(p, i));
                    }
                })
            })
            .collect();
        let mut next = [0i32; 4];
        let mut seen = 0;
        while seen < 80_000 {
            match q.pop() {
                Some(Popped { msg: m, .. }) => {
                    let p = m.source as usize;
                    assert_eq!(m.session, next[p], "messages from one producer arrive in order");
                    next[p] += 1;
                    seen += 1;
                }
                None => std::thread::yield_now(),
            }
        }
        for p in producers {
            p.join().unwrap();
        }
        assert!(q.pop().is_none());
        assert_eq!(next, [20_000; 4]);
    }

    #[test]
    fn global_queue_wakes_a_sleeper_for_work() {
        let g = Arc::new(GlobalQueue::<u32>::new());
        g.set_workers(2);
        let sleeper = {
            let g = g.clone();
            std::thread::spawn(move || loop {
                if let Some(v) = g.pop() {
                    return v;
                }
                g.wait();
            })
        };
        // One worker (this thread) stays awake, so two items are needed to wake the sleeper.
        while g.sleeping.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        g.push(7);
        g.push(8);
        let got = sleeper.join().unwrap();
        assert!(got == 7 || got == 8);
    }
}
