//! The timer: centisecond ticks on a hierarchical wheel (256 near slots, 4 levels of 64),
//! driven by the timer thread from a monotonic clock.
//!
//! `timeout` never locks: requests go through a lock-free queue that the timer thread
//! moves into the wheel before each tick, so services setting timers never contend.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;

use crossbeam_queue::SegQueue;
use parking_lot::Mutex;

use crate::abi::{MESSAGE_TYPE_SHIFT, PTYPE_RESPONSE};
use crate::context;
use crate::mq::Message;

const NEAR_SHIFT: u32 = 8;
const NEAR: usize = 1 << NEAR_SHIFT;
const LEVEL_SHIFT: u32 = 6;
const LEVEL: usize = 1 << LEVEL_SHIFT;
const NEAR_MASK: u32 = NEAR as u32 - 1;
const LEVEL_MASK: u32 = LEVEL as u32 - 1;

/// One pending timeout.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimerEvent {
    pub handle: u32,
    pub session: i32,
}

struct Node {
    expire: u32,
    event: TimerEvent,
}

/// The hierarchical timing wheel (its time counts ticks and wraps at 2^32).
pub struct Wheel {
    near: Vec<Vec<Node>>,
    levels: [Vec<Vec<Node>>; 4],
    time: u32,
}

impl Wheel {
    /// An empty wheel at tick 0.
    pub fn new() -> Wheel {
        let lists = |n| (0..n).map(|_| Vec::new()).collect::<Vec<_>>();
        Wheel { near: lists(NEAR), levels: [lists(LEVEL), lists(LEVEL), lists(LEVEL), lists(LEVEL)], time: 0 }
    }

    /// Current tick.
    pub fn time(&self) -> u32 {
        self.time
    }

    /// Files an event that expires at tick `expire`; one already due is filed in the current slot.
    pub fn add(&mut self, expire: u32, event: TimerEvent) {
        let node = Node { expire, event };
        let time = expire;
        let current = self.time;
        if (time | NEAR_MASK) == (current | NEAR_MASK) {
            self.near[(time & NEAR_MASK) as usize].push(node);
            return;
        }
        let mut mask = (NEAR as u32) << LEVEL_SHIFT;
        let mut level = 0;
        while level < 3 {
            if (time | (mask - 1)) == (current | (mask - 1)) {
                break;
            }
            mask <<= LEVEL_SHIFT;
            level += 1;
        }
        let slot = (time >> (NEAR_SHIFT + level as u32 * LEVEL_SHIFT)) & LEVEL_MASK;
        self.levels[level][slot as usize].push(node);
    }

    /// Advances one tick, calling `fire` for every event due, in the order they were added.
    pub fn tick(&mut self, fire: &mut impl FnMut(TimerEvent)) {
        self.execute(fire);
        self.shift();
        self.execute(fire);
    }

    fn execute(&mut self, fire: &mut impl FnMut(TimerEvent)) {
        let idx = (self.time & NEAR_MASK) as usize;
        if self.near[idx].is_empty() {
            return;
        }
        let due = std::mem::take(&mut self.near[idx]);
        for node in &due {
            fire(node.event);
        }
        // Keep the slot's allocation for the next round.
        let mut due = due;
        due.clear();
        if self.near[idx].is_empty() {
            self.near[idx] = due;
        }
    }

    fn shift(&mut self) {
        let mut mask = NEAR as u32;
        self.time = self.time.wrapping_add(1);
        let ct = self.time;
        if ct == 0 {
            self.cascade(3, 0);
            return;
        }
        let mut time = ct >> NEAR_SHIFT;
        let mut level = 0;
        while ct & (mask - 1) == 0 {
            let idx = (time & LEVEL_MASK) as usize;
            if idx != 0 {
                self.cascade(level, idx);
                break;
            }
            mask <<= LEVEL_SHIFT;
            time >>= LEVEL_SHIFT;
            level += 1;
        }
    }

    /// Re-files the events of one higher-level slot against the new time.
    fn cascade(&mut self, level: usize, idx: usize) {
        let nodes = std::mem::take(&mut self.levels[level][idx]);
        for node in nodes {
            self.add(node.expire, node.event);
        }
    }
}

impl Default for Wheel {
    fn default() -> Self {
        Self::new()
    }
}

struct Request {
    delay: u32,
    /// The wheel time seen when the timeout was set.
    base: u32,
    event: TimerEvent,
}

struct Clock {
    /// UNIX seconds at start.
    starttime: u32,
    /// Monotonic centiseconds at the last update.
    last: AtomicU64,
}

static CLOCK: OnceLock<Clock> = OnceLock::new();
/// Centiseconds since start, offset by the start's centisecond fraction (skynet_now).
static CURRENT: AtomicU64 = AtomicU64::new(0);
/// Ticks the wheel has advanced; read by `timeout` to compute expiry without a lock.
static WHEEL_TIME: AtomicU32 = AtomicU32::new(0);
static REQUESTS: SegQueue<Request> = SegQueue::new();
static WHEEL: Mutex<Option<Wheel>> = Mutex::new(None);

fn monotonic_cs() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: valid out-pointer; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 100 + ts.tv_nsec as u64 / 10_000_000
}

/// Starts the clock: STARTTIME from the wall clock, ticks from the monotonic clock.
pub fn init() {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    let clock = Clock { starttime: ts.tv_sec as u32, last: AtomicU64::new(monotonic_cs()) };
    CURRENT.store(ts.tv_nsec as u64 / 10_000_000, Ordering::Relaxed);
    let _ = CLOCK.set(clock);
    *WHEEL.lock() = Some(Wheel::new());
}

/// `skynet_now`: centiseconds since start.
pub fn now() -> u64 {
    CURRENT.load(Ordering::Relaxed)
}

/// `STARTTIME`: UNIX seconds at start.
pub fn starttime() -> u32 {
    CLOCK.get().map_or(0, |c| c.starttime)
}

fn fire(event: TimerEvent) {
    let msg = Message {
        source: 0,
        session: event.session,
        data: std::ptr::null_mut(),
        sz: (PTYPE_RESPONSE as usize) << MESSAGE_TYPE_SHIFT,
    };
    // A timeout for a service that died is dropped silently.
    context::deliver(event.handle, msg);
}

/// `skynet_timeout`: sends PTYPE_RESPONSE with `session` to `handle` after `delay`
/// centiseconds (at once if `delay <= 0`).
pub fn timeout(handle: u32, delay: i32, session: i32) {
    let event = TimerEvent { handle, session };
    if delay <= 0 {
        fire(event);
        return;
    }
    let base = WHEEL_TIME.load(Ordering::Acquire);
    REQUESTS.push(Request { delay: delay as u32, base, event });
}

/// Called by the timer thread: catches the wheel up with the monotonic clock.
pub fn update() {
    let Some(clock) = CLOCK.get() else { return };
    let cp = monotonic_cs();
    let last = clock.last.load(Ordering::Relaxed);
    if cp < last {
        crate::skynet_error!(0, "time diff error: change from {last} to {cp}");
        clock.last.store(cp, Ordering::Relaxed);
        return;
    }
    let diff = cp - last;
    let mut guard = WHEEL.lock();
    let Some(wheel) = guard.as_mut() else { return };
    file_requests(wheel);
    if diff == 0 {
        return;
    }
    clock.last.store(cp, Ordering::Relaxed);
    CURRENT.fetch_add(diff, Ordering::Relaxed);
    for _ in 0..diff {
        wheel.tick(&mut fire);
        WHEEL_TIME.store(wheel.time(), Ordering::Release);
        file_requests(wheel);
    }
}

/// Moves queued timeout requests into the wheel, firing any already due.
fn file_requests(wheel: &mut Wheel) {
    while let Some(req) = REQUESTS.pop() {
        let expire = req.base.wrapping_add(req.delay);
        // Ticks that passed since the request was made already count against its delay.
        if expire.wrapping_sub(wheel.time()) as i32 <= 0 {
            fire(req.event);
        } else {
            wheel.add(expire, req.event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(wheel: &mut Wheel, ticks: u32) -> Vec<(u32, i32)> {
        let mut fired = Vec::new();
        for _ in 0..ticks {
            let now = wheel.time();
            wheel.tick(&mut |e| fired.push((now + 1, e.session)));
        }
        fired
    }

    #[test]
    fn events_fire_at_their_tick_in_order_set() {
        let mut w = Wheel::new();
        for (i, delay) in [5u32, 3, 5, 300, 70_000, 3].iter().enumerate() {
            w.add(w.time() + delay, TimerEvent { handle: 1, session: i as i32 });
        }
        let fired = run(&mut w, 70_001);
        assert_eq!(fired, vec![(3, 1), (3, 5), (5, 0), (5, 2), (300, 3), (70_000, 4)]);
    }

    #[test]
    fn long_delays_cascade_through_every_level() {
        let mut w = Wheel::new();
        w.time = u32::MAX - 1000;
        let start = w.time;
        w.add(start.wrapping_add(2000), TimerEvent { handle: 1, session: 9 });
        let mut ticks = 0;
        let mut fired = false;
        while !fired && ticks < 3000 {
            w.tick(&mut |e| {
                assert_eq!(e.session, 9);
                fired = true;
            });
            ticks += 1;
        }
        assert!(fired, "an event across the 2^32 wrap still fires");
        assert_eq!(ticks, 2000, "and exactly on its tick");
    }

    #[test]
    fn many_events_on_random_delays_all_fire_exactly_on_time() {
        let mut w = Wheel::new();
        let mut seed = 12345u64;
        let mut expected = Vec::new();
        for i in 0..5000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let delay = 1 + (seed >> 33) as u32 % 100_000;
            w.add(delay, TimerEvent { handle: 1, session: i });
            expected.push((delay, i));
        }
        expected.sort_by_key(|&(d, i)| (d, i));
        let fired = run(&mut w, 100_001);
        assert_eq!(fired, expected);
    }
}
