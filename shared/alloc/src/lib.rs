//! The allocator of the project's binaries: mimalloc, plus a thread that makes it give idle
//! memory back to the kernel.
//!
//! Why mimalloc: queries and flushes allocate and free large sample buffers. glibc's malloc
//! returned them to the kernel and faulted them back in, zeroed, on every query; with
//! mimalloc the benchmark's `sum by (job) (rate(...))` over a day went from 385 to 241 ms and
//! ingest from 1.46 to 2.2 M samples/s (README, Performance).
//!
//! Why the release thread: mimalloc purges freed memory only while the process keeps
//! allocating, so a server that goes quiet after a compaction kept its peak footprint
//! (1.47 GB resident after compacting the benchmark day, 0.17 GB with purging).
//!
//! Why arenas are committed on demand: mimalloc v3 commits its 1 GiB arena eagerly on Linux,
//! and memory it then purged stayed resident: peak RSS during the benchmark's ingest was
//! 183-229 MB with eager commit and 169-187 MB without, at the same CPU (155-177 MB together
//! with the ingester's release after each flush). The price: the day-long `sum by (rate)`
//! query took about 10 % longer (with 10 % less CPU). The option must be set before the first
//! allocation reserves the arena, which happens before `main` runs, so the allocator sets it
//! itself on its first call.

use mimalloc::MiMalloc;
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The global allocator: `#[global_allocator] static A: Allocator = Allocator;`. mimalloc,
/// configured (see the module docs) on its first allocation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Allocator;

/// `mi_option_arena_eager_commit` in mimalloc v3's `mi_option_t` (the Rust bindings name only
/// the options that v2 and v3 number alike).
const OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

static CONFIGURED: AtomicBool = AtomicBool::new(false);

#[cold]
fn configure() {
    // SAFETY: setting an option takes no pointers and allocates nothing. The first allocation
    // happens before `main`, on the only thread; a racing second call would set the same value.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(OPTION_ARENA_EAGER_COMMIT, 0)
    };
    CONFIGURED.store(true, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to mimalloc's allocator with the same arguments; the
// first allocations only set an option before forwarding.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !CONFIGURED.load(Ordering::Relaxed) {
            configure();
        }
        // SAFETY: forwarded unchanged (the caller upholds `GlobalAlloc::alloc`'s contract).
        unsafe { MiMalloc.alloc(layout) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !CONFIGURED.load(Ordering::Relaxed) {
            configure();
        }
        // SAFETY: as `alloc`.
        unsafe { MiMalloc.alloc_zeroed(layout) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as `alloc`; `ptr` came from this allocator, i.e. from mimalloc.
        unsafe { MiMalloc.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as `dealloc`.
        unsafe { MiMalloc.realloc(ptr, layout, new_size) }
    }
}

/// How often the release thread runs.
pub const RELEASE_INTERVAL: Duration = Duration::from_secs(5);

/// Asks mimalloc to return memory that has been free for its purge delay (1 s in mimalloc v3).
/// Cheap when there is nothing to return.
pub fn release_free_memory() {
    // SAFETY: `mi_collect` takes no pointers, touches only the allocator's own state and may
    // be called from any thread at any time.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(false)
    };
}

/// Asks mimalloc to return all free memory now, whatever its purge delay: for a caller that
/// has just dropped a large structure that will not be needed again soon (a flushed head).
pub fn release_free_memory_now() {
    // SAFETY: as `release_free_memory`.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(true)
    };
}

/// Starts a thread that calls [`release_free_memory`] every [`RELEASE_INTERVAL`].
pub fn spawn_release_thread() -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("release-memory".into())
        .spawn(|| {
            loop {
                std::thread::sleep(RELEASE_INTERVAL);
                release_free_memory();
            }
        })
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    #[global_allocator]
    static GLOBAL: super::Allocator = super::Allocator;

    /// The allocator's first call has set the option (mimalloc's default is 2: eager on Linux).
    #[test]
    fn arenas_are_not_committed_eagerly() {
        let _v: Vec<u8> = vec![1; 4096];
        // SAFETY: reading an option takes no pointers.
        #[allow(unsafe_code)]
        let eager = unsafe { libmimalloc_sys::mi_option_get(super::OPTION_ARENA_EAGER_COMMIT) };
        assert_eq!(eager, 0);
    }

    #[test]
    fn release_runs_with_memory_in_use_and_freed() {
        let kept: Vec<u8> = vec![1; 1 << 20];
        drop(vec![0u8; 64 << 20]);
        super::release_free_memory();
        assert_eq!(kept.iter().map(|b| usize::from(*b)).sum::<usize>(), 1 << 20);
    }
}
