//! Parses every upstream test script and checks that each `eval` line became one eval case.
//! The directory is `$PROMQL_TESTDATA`, by default `shared/conformance/promql` beside the
//! project checkout; when it is absent the test prints a note and passes.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use crate::{Command, Expected, parse_script};

fn testdata_dir() -> PathBuf {
    match std::env::var_os("PROMQL_TESTDATA") {
        Some(dir) => PathBuf::from(dir),
        // The runtime value first: a test binary reused from a shared target directory may
        // have been built in another checkout.
        None => std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
            .join("../../../shared/conformance/promql"),
    }
}

#[test]
fn every_corpus_file_parses_with_one_case_per_eval_line() {
    let dir = testdata_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!(
            "note: PromQL test corpus not found at {}; skipping",
            dir.display()
        );
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .test files in {}", dir.display());
    let (mut total_cases, mut total_loads) = (0, 0);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let script = parse_script(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let eval_lines = text
            .lines()
            .filter(|l| l.trim_start().starts_with("eval"))
            .count();
        let cases = script.eval_cases().count();
        assert_eq!(
            cases,
            eval_lines,
            "{}: eval cases vs eval lines",
            file.display()
        );
        // Every case's line number points at its eval line.
        let lines: Vec<&str> = text.split('\n').collect();
        for c in script.eval_cases() {
            assert!(
                lines[c.line - 1].trim_start().starts_with("eval"),
                "{}:{}",
                file.display(),
                c.line
            );
            assert!(lines[c.line - 1].trim_end().ends_with(c.expr.as_str()));
        }
        total_cases += cases;
        total_loads += script
            .commands
            .iter()
            .filter(|c| matches!(c, Command::Load(_)))
            .count();
        println!(
            "{}: {cases} eval cases",
            file.file_name().unwrap().to_string_lossy()
        );
    }
    println!(
        "{} files, {total_cases} eval cases, {total_loads} load blocks",
        files.len()
    );
}

#[test]
fn corpus_nhcb_loads_convert() {
    let dir = testdata_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!(
            "note: PromQL test corpus not found at {}; skipping",
            dir.display()
        );
        return;
    };
    let mut converted = 0;
    for e in entries {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|e| e != "test") {
            continue;
        }
        let script = parse_script(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for c in &script.commands {
            if let Command::Load(l) = c
                && l.with_nhcb
            {
                let out = l
                    .nhcb_series()
                    .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), l.line));
                converted += out.len();
            }
        }
    }
    println!("{converted} NHCB series converted");
}

#[test]
fn corpus_uses_every_expected_shape() {
    let dir = testdata_dir();
    let Ok(text) = std::fs::read_to_string(dir.join("literals.test")) else {
        println!(
            "note: PromQL test corpus not found at {}; skipping",
            dir.display()
        );
        return;
    };
    let script = parse_script(&text).unwrap();
    assert!(
        script
            .eval_cases()
            .any(|c| matches!(c.expected, Expected::Scalar(_)))
    );
    assert!(
        script
            .eval_cases()
            .any(|c| matches!(&c.expected, Expected::String(s) if s == " Foo "))
    );
}

/// A minimal evaluator for bare metric-name selectors (`eval ... some_metric`): the newest sample
/// in the left-open 5m lookback window, none if that is a staleness marker. Running the corpus's
/// selector-only cases through it and [`crate::check`] ties the load parser, the expected-result
/// parser and the comparison together against values upstream wrote down.
mod selector_engine {
    use std::collections::BTreeMap;

    use crate::{ActualValue, Labels, PointValue, is_stale_nan};

    const LOOKBACK_MS: i64 = 5 * 60_000;

    #[derive(Default)]
    pub(super) struct Db {
        series: BTreeMap<Labels, BTreeMap<i64, PointValue>>,
    }

    impl Db {
        pub(super) fn add(&mut self, labels: &Labels, points: &[(i64, PointValue)]) {
            let s = self.series.entry(labels.clone()).or_default();
            for (t, v) in points {
                s.entry(*t).or_insert_with(|| v.clone());
            }
        }

        /// Series whose labels equal every `matchers` pair (an empty value matches an absent label).
        fn at(&self, matchers: &Labels, t: i64) -> Vec<(Labels, PointValue)> {
            let mut out = Vec::new();
            for (labels, points) in &self.series {
                let matches = matchers.iter().all(|(mn, mv)| {
                    let v = labels
                        .iter()
                        .find(|(n, _)| n == mn)
                        .map_or("", |(_, v)| v.as_str());
                    v == mv
                });
                if !matches {
                    continue;
                }
                if let Some((_, v)) = points.range(t - LOOKBACK_MS + 1..=t).next_back() {
                    if matches!(v, PointValue::Float(f) if is_stale_nan(*f)) {
                        continue;
                    }
                    out.push((labels.clone(), v.clone()));
                }
            }
            out
        }

        pub(super) fn instant(&self, matchers: &Labels, t: i64) -> ActualValue {
            ActualValue::Vector(self.at(matchers, t))
        }

        /// Applies `histogram_count`/`histogram_sum` to a result: histogram samples become their
        /// count or sum without the metric name, float samples are dropped.
        pub(super) fn apply(value: ActualValue, func: Option<&str>) -> ActualValue {
            let Some(func) = func else { return value };
            let f = |labels: Labels, v: PointValue| -> Option<(Labels, PointValue)> {
                let PointValue::Histogram(h) = v else {
                    return None;
                };
                let labels = labels
                    .into_iter()
                    .filter(|(n, _)| n != crate::METRIC_NAME)
                    .collect();
                let x = if func == "histogram_count" {
                    h.count
                } else {
                    h.sum
                };
                Some((labels, PointValue::Float(x)))
            };
            match value {
                ActualValue::Vector(v) => {
                    ActualValue::Vector(v.into_iter().filter_map(|(l, p)| f(l, p)).collect())
                }
                ActualValue::Matrix(m) => {
                    let mut out: BTreeMap<Labels, Vec<(i64, PointValue)>> = BTreeMap::new();
                    for (l, points) in m {
                        for (t, p) in points {
                            if let Some((l, p)) = f(l.clone(), p) {
                                out.entry(l).or_default().push((t, p));
                            }
                        }
                    }
                    ActualValue::Matrix(out.into_iter().collect())
                }
                other => other,
            }
        }

        pub(super) fn range(
            &self,
            matchers: &Labels,
            start: i64,
            end: i64,
            step: i64,
        ) -> ActualValue {
            let mut m: BTreeMap<Labels, Vec<(i64, PointValue)>> = BTreeMap::new();
            let mut t = start;
            while t <= end {
                for (l, v) in self.at(matchers, t) {
                    m.entry(l).or_default().push((t, v));
                }
                if step <= 0 {
                    break;
                }
                t += step;
            }
            ActualValue::Matrix(m.into_iter().collect())
        }
    }
}

#[test]
fn corpus_selector_cases_pass_with_a_reference_selector() {
    use crate::{ActualResult, EvalKind, check, check_range_mode};
    let dir = testdata_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!(
            "note: PromQL test corpus not found at {}; skipping",
            dir.display()
        );
        return;
    };
    // A metric name with optional equality matchers, e.g. `m{a="b"}`, optionally wrapped in
    // histogram_count() or histogram_sum().
    let selector = regex::Regex::new(
        r#"^(?:(histogram_count|histogram_sum)\()?([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}~!]*\})?)(\))?$"#,
    )
    .unwrap();
    let (mut checked, mut failures) = (0, Vec::new());
    for e in entries {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|e| e != "test") {
            continue;
        }
        let script = parse_script(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut db = selector_engine::Db::default();
        for c in &script.commands {
            let case = match c {
                Command::Clear => {
                    db = selector_engine::Db::default();
                    continue;
                }
                Command::Load(l) => {
                    for s in l.series.iter().chain(&l.nhcb_series().unwrap()) {
                        db.add(&s.labels, &s.points);
                    }
                    continue;
                }
                Command::Eval(c) => c,
            };
            let Some(caps) = selector.captures(&case.expr) else {
                continue;
            };
            let func = caps.get(1).map(|m| m.as_str());
            let sel = &caps[2];
            let name = sel
                .split('{')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if func.is_some() != caps.get(3).is_some()
                || name == "inf"
                || name == "nan"
                || case.expect_fail.is_some()
                || !case.expect_warn.is_empty()
                || !case.expect_info.is_empty()
            {
                continue;
            }
            // The selector reads like a series description without values.
            let (matchers, _) = crate::series::parse_series_desc(sel).unwrap();
            let eval = |kind: EvalKind| {
                let v = match kind {
                    EvalKind::Instant { at_ms } => db.instant(&matchers, at_ms),
                    EvalKind::Range {
                        start_ms,
                        end_ms,
                        step_ms,
                    } => db.range(&matchers, start_ms, end_ms, step_ms),
                };
                selector_engine::Db::apply(v, func)
            };
            let value = eval(case.kind);
            let result = ActualResult {
                value: value.clone(),
                warnings: vec![],
                infos: vec![],
            };
            let mut outcome = check(case, Ok(&result));
            if outcome.is_ok()
                && case.range_mode_check_applies()
                && let EvalKind::Instant { at_ms } = case.kind
            {
                let range = eval(EvalKind::Range {
                    start_ms: at_ms - 60_000,
                    end_ms: at_ms + 60_000,
                    step_ms: 60_000,
                });
                outcome = check_range_mode(case, &value, &range);
            }
            checked += 1;
            if let Err(e) = outcome {
                failures.push(format!(
                    "{}: {e}",
                    path.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    println!("{checked} selector cases checked");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 0);
}

/// The same cases must fail when the data is off: the checker is not a rubber stamp.
#[test]
fn corpus_selector_cases_fail_with_wrong_data() {
    use crate::{ActualResult, ActualValue, EvalKind, PointValue, check};
    let dir = testdata_dir();
    let Ok(text) = std::fs::read_to_string(dir.join("native_histograms.test")) else {
        println!(
            "note: PromQL test corpus not found at {}; skipping",
            dir.display()
        );
        return;
    };
    let script = parse_script(&text).unwrap();
    let mut tried = 0;
    for case in script.eval_cases() {
        let (Expected::Series(series), EvalKind::Instant { .. }) = (&case.expected, case.kind)
        else {
            continue;
        };
        if series.is_empty() || case.expect_fail.is_some() {
            continue;
        }
        let nudge = |f: f64| {
            if f.is_finite() {
                f + 0.01 * f.abs() + 0.5
            } else {
                0.5
            }
        };
        // Every expected sample, each value moved up by at least 0.5%.
        let nudged: Vec<_> = series
            .iter()
            .filter_map(|s| {
                let v = match s.points.first()?.as_ref()? {
                    PointValue::Float(f) => PointValue::Float(nudge(*f)),
                    PointValue::Histogram(h) => {
                        let mut h = h.clone();
                        h.count = nudge(h.count);
                        PointValue::Histogram(h)
                    }
                };
                Some((s.labels.clone(), v))
            })
            .collect();
        let result = ActualResult {
            value: ActualValue::Vector(nudged),
            warnings: vec![],
            infos: vec![],
        };
        // Annotation expectations may fail first; either way the case must not pass.
        assert!(
            check(case, Ok(&result)).is_err(),
            "line {} passed with wrong values",
            case.line
        );
        tried += 1;
    }
    assert!(tried > 100, "only {tried} cases tried");
}
