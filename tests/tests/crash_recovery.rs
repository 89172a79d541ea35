//! Durability: every acknowledged (2xx) write survives `kill -9` and restart, over several
//! kill/restart cycles on the same data directory (WAL replay, flushes in some cycles, WAL
//! segments deleted after flushes), with concurrent writers.

use architect_integration_tests::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const TASKS: usize = 4;
const SERIES: usize = 50;
const SAMPLES: i64 = 10;
const CYCLES: usize = 6;
const METRIC: &str = "durability_test";

/// Timestamp of sample `j` of batch `seq` (batches of one task never share timestamps).
fn ts(base: i64, seq: u64, j: i64) -> i64 {
    base + seq as i64 * SAMPLES + j
}

/// The value written for (task, series, batch, sample): distinct everywhere; odd samples are
/// not short decimals (so both the scaled-integer and the float column of blocks are used).
fn value(task: usize, s: usize, seq: u64, j: i64) -> f64 {
    let id = (task as f64) * 1e12 + (seq as f64) * 1e4 + (s as f64) * 10.0 + j as f64;
    if j % 2 == 0 { id } else { id / 7.0 }
}

fn batch(base: i64, task: usize, seq: u64) -> architect_protocols::prompb::WriteRequest {
    write_request(
        (0..SERIES)
            .map(|s| {
                let samples: Vec<(i64, f64)> = (0..SAMPLES)
                    .map(|j| (ts(base, seq, j), value(task, s, seq, j)))
                    .collect();
                series(
                    &[
                        ("__name__", METRIC),
                        ("series", &format!("s{s:02}")),
                        ("task", &task.to_string()),
                    ],
                    &samples,
                )
            })
            .collect(),
    )
}

#[derive(Default)]
struct Ledger {
    /// Batches answered 204, by task.
    acked: Vec<BTreeSet<u64>>,
    /// Next batch number per task (everything below was attempted).
    next_seq: Vec<u64>,
    /// Answers other than 204 received while the server was up.
    unexpected: Vec<String>,
}

/// Checks that every acknowledged sample is stored with its exact value and that nothing else
/// (apart from attempted but unacknowledged batches) is. Returns the number of samples read.
async fn verify(url: &str, base: i64, ledger: &Ledger, when: &str) -> usize {
    let mut total = 0;
    for task in 0..TASKS {
        let q = query(
            base - 1,
            base + 1_000_000_000,
            vec![eq("__name__", METRIC), eq("task", &task.to_string())],
        );
        let got = series_map(&remote_read(url, None, q).await);
        let mut by_series: BTreeMap<usize, BTreeMap<i64, u64>> = BTreeMap::new();
        for (labels, samples) in &got {
            let s: usize = labels
                .iter()
                .find(|(n, _)| n == "series")
                .and_then(|(_, v)| v.trim_start_matches('s').parse().ok())
                .unwrap_or_else(|| panic!("{when}: unexpected series {labels:?}"));
            let mut map = BTreeMap::new();
            let mut last = i64::MIN;
            for &(t, bits) in samples {
                assert!(
                    t > last,
                    "{when}: samples of {labels:?} not strictly increasing at {t}"
                );
                last = t;
                let off = t - base;
                let (seq, j) = ((off / SAMPLES) as u64, off % SAMPLES);
                assert!(
                    off >= 0 && seq < ledger.next_seq[task],
                    "{when}: {labels:?} holds a never-written timestamp {t}"
                );
                let want = value(task, s, seq, j);
                assert_eq!(
                    bits,
                    want.to_bits(),
                    "{when}: {labels:?} at {t}: got {} want {want}",
                    f64::from_bits(bits)
                );
                map.insert(t, bits);
            }
            total += samples.len();
            by_series.insert(s, map);
        }
        let mut missing = Vec::new();
        for &seq in &ledger.acked[task] {
            for s in 0..SERIES {
                for j in 0..SAMPLES {
                    if by_series
                        .get(&s)
                        .and_then(|m| m.get(&ts(base, seq, j)))
                        .is_none()
                    {
                        missing.push(format!(
                            "task {task} series s{s:02} batch {seq} sample {j} (t={})",
                            ts(base, seq, j)
                        ));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "{when}: {} acknowledged samples lost, first: {:?}",
            missing.len(),
            &missing[..missing.len().min(20)]
        );
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_kill_9_over_several_cycles() {
    let mut rng = Rng::from_clock("kill9");
    let mut server = Server::start().await;
    let base = now_ms() - 2 * 3_600_000;
    let ledger = Arc::new(parking_lot_free::Mutex::new(Ledger {
        acked: vec![BTreeSet::new(); TASKS],
        next_seq: vec![0; TASKS],
        unexpected: Vec::new(),
    }));
    let started = Instant::now();
    for cycle in 0..CYCLES {
        let url = server.url();
        let stop = Arc::new(AtomicBool::new(false));
        let acked_before: usize = ledger.lock().acked.iter().map(BTreeSet::len).sum();
        let mut writers = Vec::new();
        for task in 0..TASKS {
            let (url, stop, ledger) = (url.clone(), Arc::clone(&stop), Arc::clone(&ledger));
            writers.push(tokio::spawn(async move {
                let client = reqwest::Client::new();
                while !stop.load(Ordering::SeqCst) {
                    let seq = {
                        let mut l = ledger.lock();
                        let s = l.next_seq[task];
                        l.next_seq[task] += 1;
                        s
                    };
                    match push_v1_with(&client, &url, None, &batch(base, task, seq)).await {
                        Ok((status, _, _)) if status.as_u16() == 204 => {
                            ledger.lock().acked[task].insert(seq);
                        }
                        Ok((status, body, _)) => {
                            if !stop.load(Ordering::SeqCst) {
                                ledger
                                    .lock()
                                    .unexpected
                                    .push(format!("task {task} batch {seq}: {status} {body}"));
                            }
                        }
                        // The server was killed under us: this batch is not acknowledged.
                        Err(_) => break,
                    }
                }
            }));
        }
        let run_ms = rng.range(500, 2000);
        tokio::time::sleep(Duration::from_millis(run_ms)).await;
        let flushed = cycle % 2 == 1;
        if flushed {
            // Flush while the writers keep writing, then keep writing a little into the new head.
            let stats = server.flush().await;
            eprintln!("cycle {cycle}: flush {stats}");
            tokio::time::sleep(Duration::from_millis(rng.range(100, 500))).await;
        }
        server.kill9();
        stop.store(true, Ordering::SeqCst);
        for w in writers {
            w.await.expect("writer task");
        }
        let (acked_now, attempted) = {
            let l = ledger.lock();
            assert!(
                l.unexpected.is_empty(),
                "unexpected answers: {:?}",
                l.unexpected
            );
            (
                l.acked.iter().map(BTreeSet::len).sum::<usize>(),
                l.next_seq.iter().sum::<u64>(),
            )
        };
        assert!(
            acked_now > acked_before,
            "cycle {cycle}: no write was acknowledged in {run_ms} ms; the test proves nothing"
        );
        server.restart().await;
        let snapshot = {
            let l = ledger.lock();
            Ledger {
                acked: l.acked.clone(),
                next_seq: l.next_seq.clone(),
                unexpected: Vec::new(),
            }
        };
        let read = verify(
            &server.url(),
            base,
            &snapshot,
            &format!("after kill -9 #{cycle}"),
        )
        .await;
        eprintln!(
            "cycle {cycle}: ran {run_ms} ms{}, {} batches acked this cycle ({acked_now} total of {attempted} attempted), {read} samples read back",
            if flushed { " with a flush" } else { "" },
            acked_now - acked_before
        );
    }
    let snapshot = {
        let l = ledger.lock();
        Ledger {
            acked: l.acked.clone(),
            next_seq: l.next_seq.clone(),
            unexpected: Vec::new(),
        }
    };
    // Everything in blocks now: same answer.
    server.flush().await;
    verify(&server.url(), base, &snapshot, "after the final flush").await;
    // And a graceful stop + start keeps it too.
    assert!(
        server.stop_gracefully(Duration::from_secs(60)),
        "graceful stop failed; log:\n{}",
        server.log()
    );
    server.start_again().await;
    let read = verify(&server.url(), base, &snapshot, "after graceful restart").await;
    let acked_samples: usize =
        snapshot.acked.iter().map(BTreeSet::len).sum::<usize>() * SERIES * SAMPLES as usize;
    assert!(read >= acked_samples, "read {read} < acked {acked_samples}");
    eprintln!(
        "kill9: {CYCLES} cycles, {acked_samples} acknowledged samples verified, {:?}",
        started.elapsed()
    );
}

/// A tiny mutex wrapper over `std::sync::Mutex` that ignores poisoning (a panicking writer must
/// not hide the real failure behind a poison error).
mod parking_lot_free {
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(std::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(v: T) -> Self {
            Self(std::sync::Mutex::new(v))
        }

        pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, T> {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }
    }
}
