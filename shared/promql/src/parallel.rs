//! Spreading the per-series work of one query over the machine's cores.
//!
//! The evaluator is otherwise single-threaded (as Prometheus's is); the per-series loops of
//! range functions and selectors are independent, so large ones are cut into one contiguous
//! chunk per core and run on scoped threads. Chunk results come back in input order, so the
//! output (and the order of annotations) is the same as a serial run's.

use std::sync::OnceLock;

/// Below this many (series × steps) units of work a query stays on its own thread: starting
/// threads costs tens of microseconds.
const MIN_PARALLEL_WORK: usize = 200_000;

fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
    })
}

/// `f` over contiguous chunks of `items`, in order; one chunk (this thread) unless `work`
/// is large and the machine has more than one core.
pub(crate) fn map_chunks<T, R, F>(items: &[T], work: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&[T]) -> R + Sync,
{
    let threads = cores().min(items.len());
    if threads <= 1 || work < MIN_PARALLEL_WORK {
        return vec![f(items)];
    }
    let size = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let f = &f;
        let mut chunks = items.chunks(size);
        let first = chunks.next().unwrap_or_default();
        let handles: Vec<_> = chunks.map(|c| scope.spawn(move || f(c))).collect();
        let mut out = Vec::with_capacity(handles.len() + 1);
        out.push(f(first));
        for h in handles {
            match h.join() {
                Ok(r) => out.push(r),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

/// Drops `items` one contiguous chunk per core when `work` is large: dropping a day of step
/// values for thousands of series (each point checked for a histogram to release) was a
/// serial pass of several milliseconds at the end of an aggregation.
pub(crate) fn drop_chunks<T: Send>(mut items: Vec<T>, work: usize) {
    let threads = cores().min(items.len());
    if threads <= 1 || work < MIN_PARALLEL_WORK {
        return;
    }
    let size = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        while items.len() > size {
            let tail = items.split_off(items.len() - size);
            scope.spawn(move || drop(tail));
        }
        drop(items);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_come_back_in_order_and_cover_everything() {
        let items: Vec<u64> = (0..10_000).collect();
        for work in [0, MIN_PARALLEL_WORK] {
            let parts = map_chunks(&items, work, |c| c.to_vec());
            assert_eq!(parts.concat(), items);
        }
        assert_eq!(
            map_chunks::<u64, usize, _>(&[], 1 << 30, |c| c.len()),
            vec![0]
        );
    }

    /// Every item is dropped exactly once, in chunks or not.
    #[test]
    fn dropped_chunks_drop_every_item_once() {
        use std::sync::Arc;
        for (n, work) in [
            (0, 1 << 30),
            (1, 1 << 30),
            (7, 0),
            (1_001, MIN_PARALLEL_WORK),
        ] {
            let token = Arc::new(());
            let items: Vec<Arc<()>> = (0..n).map(|_| Arc::clone(&token)).collect();
            drop_chunks(items, work);
            assert_eq!(Arc::strong_count(&token), 1, "{n} items, work {work}");
        }
    }
}
