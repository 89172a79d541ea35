//! Runs Prometheus's PromQL test corpus through the engine and fails if any file passes fewer
//! cases than the committed baseline (`conformance-baseline.txt`, `file passed` per line).
//! Raise the baseline when the engine improves; it never goes down silently.
//!
//! The corpus is read from `PROMQL_TESTDATA`, by default `../shared/conformance/promql` beside
//! the checkout. Missing corpus: a skip with a note locally, a failure under CI (`CI=true`).

use architect_promqltest::runner::{FileReport, run_script, run_script_with, test_engine_options};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// This crate's directory: the runtime `CARGO_MANIFEST_DIR` (set by cargo and nextest) first,
/// since a test binary reused from a shared target directory may have been built in another
/// checkout, whose path the compile-time value holds.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

fn corpus_dir() -> PathBuf {
    match std::env::var("PROMQL_TESTDATA") {
        Ok(d) if !d.is_empty() => PathBuf::from(d),
        _ => manifest_dir().join("../../../shared/conformance/promql"),
    }
}

fn baseline() -> BTreeMap<String, usize> {
    let path = manifest_dir().join("conformance-baseline.txt");
    let text = std::fs::read_to_string(&path).expect("read conformance-baseline.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut parts = l.split_whitespace();
            let file = parts.next().expect("file name").to_string();
            let passed = parts
                .next()
                .and_then(|n| n.parse().ok())
                .expect("passed count");
            (file, passed)
        })
        .collect()
}

#[test]
fn corpus_passes_at_least_the_baseline() {
    check_corpus(run_script);
}

/// Range queries cut into slices of one step each (the engine's slicing at its finest) pass
/// every case that whole queries pass: slicing changes no answer, annotation or error.
#[test]
fn corpus_passes_at_least_the_baseline_with_range_queries_sliced_per_step() {
    check_corpus(|text| {
        let mut opts = test_engine_options();
        opts.split_ms = 1;
        opts.split_min_steps = 0;
        run_script_with(text, opts)
    });
}

fn check_corpus(run: impl Fn(&str) -> Result<FileReport, architect_promqltest::ScriptError>) {
    let dir = corpus_dir();
    if !dir.is_dir() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "PromQL corpus not found at {} (set PROMQL_TESTDATA)",
            dir.display()
        );
        eprintln!("SKIPPED: PromQL corpus not found at {}", dir.display());
        return;
    }
    let baseline = baseline();
    let mut below = Vec::new();
    let (mut total_passed, mut total_failed) = (0, 0);
    for (file, expected) in &baseline {
        let text =
            std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("read {file}: {e}"));
        let report = run(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        eprintln!(
            "{file}: {} passed, {} failed (baseline {expected})",
            report.passed,
            report.failures.len()
        );
        total_passed += report.passed;
        total_failed += report.failures.len();
        if report.passed < *expected {
            below.push(format!(
                "{file}: {} passed, baseline {expected}; failures:\n{}",
                report.passed,
                report
                    .failures
                    .iter()
                    .map(|(line, why)| format!("  line {line}: {why}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
    }
    eprintln!("{total_passed} passed, {total_failed} failed");
    assert!(
        below.is_empty(),
        "below the baseline:\n{}",
        below.join("\n")
    );
}
