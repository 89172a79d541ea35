//! Parses every upstream test script and checks that each `eval` line became one eval case.
//! The directory is `$PROMQL_TESTDATA`, by default `shared/conformance/promql` beside the
//! project checkout; when it is absent the test prints a note and passes.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use crate::{Command, Expected, parse_script};

fn testdata_dir() -> PathBuf {
    match std::env::var_os("PROMQL_TESTDATA") {
        Some(dir) => PathBuf::from(dir),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/promql")
        }
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
