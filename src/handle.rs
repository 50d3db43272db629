//! Handle storage: maps 32-bit handles (harbor id in the top byte) to services, and local
//! `.name`s to handles.
//!
//! Lookups are on every send, so they take no lock: each slot is an `ArcSwapOption`, the slot
//! table is reached through an atomic pointer, and the name list is replaced wholesale by the
//! (rare) writers, which serialise on one mutex. A table outgrown by a resize is kept until the
//! storage is dropped, so a reader never sees it freed; resizes double, so the kept tables
//! add up to less than the live one.

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};
use parking_lot::Mutex;

use crate::abi::{HANDLE_MASK, HANDLE_REMOTE_SHIFT};

/// Something that knows its own handle.
pub trait Handled {
    /// The handle this entry was registered under.
    fn handle(&self) -> u32;
}

/// Initial slot count, as upstream.
const DEFAULT_SLOT_SIZE: usize = 4;
/// Upper bound on live services (the 24-bit local part).
const MAX_SLOT_SIZE: usize = 1 << 24;

/// The registry of live services and their local names.
pub struct HandleStorage<T> {
    harbor: u32,
    slots: AtomicPtr<SlotTable<T>>,
    names: ArcSwap<Vec<(Box<str>, u32)>>,
    writer: Mutex<Writer<T>>,
}

/// State only the writers touch.
struct Writer<T> {
    /// Where the next handle search starts.
    next: u32,
    /// Every table ever published, the live one last; freed with the storage.
    /// Boxed so a table keeps its address when the Vec grows: readers hold raw pointers.
    #[allow(clippy::vec_box)]
    tables: Vec<Box<SlotTable<T>>>,
}

struct SlotTable<T> {
    mask: usize,
    slots: Box<[ArcSwapOption<T>]>,
}

impl<T> SlotTable<T> {
    fn with_size(size: usize) -> SlotTable<T> {
        SlotTable { mask: size - 1, slots: (0..size).map(|_| ArcSwapOption::empty()).collect() }
    }
}

impl<T: Handled> HandleStorage<T> {
    /// An empty registry for node `harbor` (0..255).
    pub fn new(harbor: u32) -> HandleStorage<T> {
        let mut first = Box::new(SlotTable::with_size(DEFAULT_SLOT_SIZE));
        HandleStorage {
            harbor: (harbor & 0xff) << HANDLE_REMOTE_SHIFT,
            slots: AtomicPtr::new(&mut *first),
            names: ArcSwap::from_pointee(Vec::new()),
            writer: Mutex::new(Writer { next: 1, tables: vec![first] }),
        }
    }

    /// The live slot table.
    fn table(&self) -> &SlotTable<T> {
        // SAFETY: `slots` always points into a table owned by `writer.tables`, which only
        // grows and is dropped with `self`.
        unsafe { &*self.slots.load(Ordering::Acquire) }
    }

    /// Allocates the next free handle and registers what `make` builds for it.
    /// Returns None when all 2^24 local handles are in use.
    pub fn register(&self, make: impl FnOnce(u32) -> T) -> Option<Arc<T>> {
        let mut writer = self.writer.lock();
        loop {
            let table = self.table();
            let size = table.slots.len();
            for i in 0..size as u32 {
                let local = writer.next.wrapping_add(i) & HANDLE_MASK;
                if local == 0 {
                    continue;
                }
                let slot = &table.slots[local as usize & table.mask];
                if slot.load().is_none() {
                    let handle = local | self.harbor;
                    let entry = Arc::new(make(handle));
                    slot.store(Some(entry.clone()));
                    writer.next = (local + 1) & HANDLE_MASK;
                    return Some(entry);
                }
            }
            if size >= MAX_SLOT_SIZE {
                return None;
            }
            self.grow(&mut writer);
        }
    }

    /// Doubles the slot table; entries move to the new table, the old one stays allocated.
    fn grow(&self, writer: &mut Writer<T>) {
        let old = self.table();
        let mut bigger = Box::new(SlotTable::with_size(old.slots.len() * 2));
        for slot in old.slots.iter() {
            if let Some(entry) = slot.load_full() {
                bigger.slots[entry.handle() as usize & bigger.mask].store(Some(entry));
            }
        }
        self.slots.store(&mut *bigger, Ordering::Release);
        // Readers of the old table may still find entries there; retire clears both.
        writer.tables.push(bigger);
    }

    /// The live entry for `handle`.
    pub fn grab(&self, handle: u32) -> Option<Arc<T>> {
        let table = self.table();
        let entry = table.slots[handle as usize & table.mask].load_full()?;
        (entry.handle() == handle).then_some(entry)
    }

    /// Calls `f` with the live entry for `handle`, without touching its reference count.
    pub fn with<R>(&self, handle: u32, f: impl FnOnce(&Arc<T>) -> R) -> Option<R> {
        let table = self.table();
        let guard = table.slots[handle as usize & table.mask].load();
        match &*guard {
            Some(entry) if entry.handle() == handle => Some(f(entry)),
            _ => None,
        }
    }

    /// Removes `handle` and its names; returns the entry so the caller drops it outside the lock.
    pub fn retire(&self, handle: u32) -> Option<Arc<T>> {
        let writer = self.writer.lock();
        let mut entry = None;
        // Clear the entry from every table a reader may still hold, the live one included.
        for table in &writer.tables {
            let slot = &table.slots[handle as usize & table.mask];
            let found = matches!(&*slot.load(), Some(e) if e.handle() == handle);
            if found {
                entry = slot.swap(None).or(entry);
            }
        }
        entry.as_ref()?;
        let names = self.names.load();
        if names.iter().any(|(_, h)| *h == handle) {
            let kept = names.iter().filter(|(_, h)| *h != handle).cloned().collect();
            self.names.store(Arc::new(kept));
        }
        entry
    }

    /// Every live handle (a snapshot).
    pub fn handles(&self) -> Vec<u32> {
        let table = self.table();
        table.slots.iter().filter_map(|s| s.load().as_ref().map(|e| e.handle())).collect()
    }

    /// Looks up a local name (without the leading dot).
    pub fn find_name(&self, name: &str) -> Option<u32> {
        let names = self.names.load();
        names.binary_search_by(|(n, _)| (**n).cmp(name)).ok().map(|i| names[i].1)
    }

    /// Binds a local name to a live handle; fails if the name is taken or the handle is gone.
    pub fn bind_name(&self, name: &str, handle: u32) -> bool {
        let _writer = self.writer.lock();
        if self.grab(handle).is_none() {
            return false;
        }
        let names = self.names.load();
        match names.binary_search_by(|(n, _)| (**n).cmp(name)) {
            Ok(_) => false,
            Err(at) => {
                let mut updated = Vec::with_capacity(names.len() + 1);
                updated.extend_from_slice(&names[..at]);
                updated.push((Box::from(name), handle));
                updated.extend_from_slice(&names[at..]);
                self.names.store(Arc::new(updated));
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Entry(u32);
    impl Handled for Entry {
        fn handle(&self) -> u32 {
            self.0
        }
    }

    #[test]
    fn handles_carry_the_harbor_and_start_at_one() {
        let hs = HandleStorage::<Entry>::new(1);
        let a = hs.register(Entry).unwrap();
        let b = hs.register(Entry).unwrap();
        assert_eq!(a.0, 0x0100_0001);
        assert_eq!(b.0, 0x0100_0002);
        assert_eq!(hs.grab(0x0100_0001).unwrap().0, a.0);
        assert!(hs.grab(0x0200_0001).is_none(), "another harbor's handle is not ours");
    }

    #[test]
    fn handles_are_monotonic_and_survive_growth() {
        let hs = HandleStorage::<Entry>::new(0);
        let all: Vec<u32> = (0..100).map(|_| hs.register(Entry).unwrap().0).collect();
        assert_eq!(all, (1..=100).collect::<Vec<_>>());
        for h in &all {
            assert_eq!(hs.grab(*h).map(|e| e.0), Some(*h));
        }
        hs.retire(5).unwrap();
        assert!(hs.grab(5).is_none());
        assert_eq!(hs.register(Entry).unwrap().0, 101, "a retired handle is not reused at once");
        assert_eq!(hs.handles().len(), 100);
    }

    #[test]
    fn allocation_skips_live_slots_after_wrapping() {
        let hs = HandleStorage::<Entry>::new(0);
        hs.register(Entry).unwrap();
        hs.writer.lock().next = HANDLE_MASK;
        assert_eq!(hs.register(Entry).unwrap().0, HANDLE_MASK);
        assert_eq!(hs.register(Entry).unwrap().0, 2, "wraps past 0 and skips the live handle 1");
    }

    #[test]
    fn names_are_unique_sorted_and_die_with_the_handle() {
        let hs = HandleStorage::<Entry>::new(0);
        let a = hs.register(Entry).unwrap().0;
        let b = hs.register(Entry).unwrap().0;
        assert!(hs.bind_name("zeta", a));
        assert!(hs.bind_name("alpha", b));
        assert!(hs.bind_name("mid", a));
        assert!(!hs.bind_name("alpha", a), "a name is bound once");
        assert!(!hs.bind_name("ghost", 99), "only live handles get names");
        assert_eq!(hs.find_name("alpha"), Some(b));
        assert_eq!(hs.find_name("zeta"), Some(a));
        hs.retire(a);
        assert_eq!(hs.find_name("zeta"), None);
        assert_eq!(hs.find_name("mid"), None);
        assert_eq!(hs.find_name("alpha"), Some(b));
    }
}
