//! Monitoring Architect's patch to this crate: a small per-thread pool of zstd contexts for
//! [`super::Compressor::new`] and [`super::Decompressor::new`].
//!
//! zstd runs the `cpuid` instruction three times whenever it creates a context, and `cpuid`
//! traps to the hypervisor on a virtual machine (about 9 µs a context on the machines this
//! project is measured on, and on Lambda's Firecracker too). parquet-rs creates a compressor
//! and a decompressor for every column chunk it reads, so creating contexts was about 30 % of
//! the CPU of a query that reads a few series from many small files. Contexts are reset to the
//! state of a new one before they are kept, so a pooled context behaves as a new one.
//! A compression context that grew past [`KEEP_CCTX_BYTES`] (it compressed at a high level) is
//! freed rather than kept, so the pool holds little memory.

use std::cell::RefCell;

/// Contexts of each kind kept per thread.
const KEEP: usize = 8;

/// Compression contexts larger than this are freed, not kept.
const KEEP_CCTX_BYTES: usize = 1 << 20;

thread_local! {
    static DCTX: RefCell<Vec<zstd_safe::DCtx<'static>>> = const { RefCell::new(Vec::new()) };
    static CCTX: RefCell<Vec<zstd_safe::CCtx<'static>>> = const { RefCell::new(Vec::new()) };
}

/// A decompression context: a kept one, else a new one.
pub(crate) fn take_dctx() -> zstd_safe::DCtx<'static> {
    DCTX.try_with(|pool| pool.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Keeps a decompression context for the next [`take_dctx`] of this thread.
pub(crate) fn put_dctx(mut context: zstd_safe::DCtx<'static>) {
    if context
        .reset(zstd_safe::ResetDirective::SessionAndParameters)
        .is_err()
    {
        return;
    }
    let _ = DCTX.try_with(move |pool| {
        if let Ok(mut pool) = pool.try_borrow_mut() {
            if pool.len() < KEEP {
                pool.push(context);
            }
        }
    });
}

/// A compression context: a kept one, else a new one.
pub(crate) fn take_cctx() -> zstd_safe::CCtx<'static> {
    CCTX.try_with(|pool| pool.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Keeps a compression context for the next [`take_cctx`] of this thread, unless it is large.
pub(crate) fn put_cctx(mut context: zstd_safe::CCtx<'static>) {
    if context.sizeof() > KEEP_CCTX_BYTES
        || context
            .reset(zstd_safe::ResetDirective::SessionAndParameters)
            .is_err()
    {
        return;
    }
    let _ = CCTX.try_with(move |pool| {
        if let Ok(mut pool) = pool.try_borrow_mut() {
            if pool.len() < KEEP {
                pool.push(context);
            }
        }
    });
}
