//! The patch's test: contexts taken from the per-thread pool behave as new ones, whatever the
//! compressor or decompressor that used them before (levels, dictionaries, failed jobs).

use zstd::bulk::{Compressor, Decompressor};

fn data() -> Vec<u8> {
    (0..50_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect()
}

/// `data` compressed by a context made for it, outside the pool.
fn fresh_compress(data: &[u8], level: i32) -> Vec<u8> {
    let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(data.len()));
    zstd::zstd_safe::CCtx::create()
        .compress(&mut out, data, level)
        .expect("reference compress");
    out
}

#[test]
fn pooled_contexts_round_trip_like_new_ones() {
    let data = data();
    for level in [1, 19, 3, -5, 0, 22, 3] {
        let packed = Compressor::new(level)
            .and_then(|mut c| c.compress(&data))
            .expect("compress");
        assert_eq!(packed, fresh_compress(&data, level), "level {level}: as a new context");
        let unpacked = Decompressor::new()
            .and_then(|mut d| d.decompress(&packed, data.len()))
            .expect("decompress");
        assert_eq!(unpacked, data);
    }
}

#[test]
fn a_dictionary_does_not_stay_with_a_pooled_context() {
    let data = data();
    let dictionary = &data[..4096];
    let with_dict = Compressor::with_dictionary(3, dictionary)
        .and_then(|mut c| c.compress(&data))
        .expect("compress");
    let back = Decompressor::with_dictionary(dictionary)
        .and_then(|mut d| d.decompress(&with_dict, data.len()))
        .expect("decompress");
    assert_eq!(back, data);
    // The next contexts of this thread are the pooled ones: no dictionary may remain.
    let plain = Compressor::new(3).and_then(|mut c| c.compress(&data)).expect("compress");
    assert_eq!(plain, fresh_compress(&data, 3));
    assert!(
        Decompressor::new()
            .and_then(|mut d| d.decompress(&with_dict, data.len()))
            .is_err(),
        "a frame made with a dictionary does not decode without it"
    );
}

#[test]
fn parameters_do_not_stay_with_a_pooled_context() {
    let data = data();
    let mut c = Compressor::new(3).expect("compressor");
    c.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))
        .expect("checksum");
    let with_checksum = c.compress(&data).expect("compress");
    drop(c);
    assert_ne!(with_checksum, fresh_compress(&data, 3));
    assert_eq!(
        Compressor::new(3).and_then(|mut c| c.compress(&data)).expect("compress"),
        fresh_compress(&data, 3)
    );
    // A decompressor limited to small windows, then a frame with a larger one.
    let mut d = Decompressor::new().expect("decompressor");
    d.set_parameter(zstd::zstd_safe::DParameter::WindowLogMax(10))
        .expect("window");
    drop(d);
    let mut c = Compressor::new(3).expect("compressor");
    c.set_parameter(zstd::zstd_safe::CParameter::WindowLog(20))
        .expect("window");
    let big: Vec<u8> = (0..(1u32 << 19)).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
    let packed = c.compress(&[&big[..], &big[..]].concat()).expect("compress");
    let back = Decompressor::new()
        .and_then(|mut d| d.decompress(&packed, 2 * big.len()))
        .expect("a pooled decompressor has the default window limit again");
    assert_eq!(back.len(), 2 * big.len());
}

#[test]
fn a_failed_job_leaves_a_usable_context() {
    let data = data();
    let mut tiny = [0u8; 8];
    assert!(Compressor::new(3).and_then(|mut c| c.compress_to_buffer(&data, &mut tiny[..])).is_err());
    assert!(Decompressor::new().and_then(|mut d| d.decompress(b"not zstd", 100)).is_err());
    let packed = Compressor::new(3).and_then(|mut c| c.compress(&data)).expect("compress");
    let back = Decompressor::new()
        .and_then(|mut d| d.decompress(&packed, data.len()))
        .expect("decompress");
    assert_eq!(back, data);
}
