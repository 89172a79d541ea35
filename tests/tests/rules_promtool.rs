//! Rule files and rule unit tests through Debian's `promtool` and through `architect rules`:
//! the same verdicts, and for failing unit tests the same failing cases (alert name and time,
//! expression and time), so this project's evaluator agrees with Prometheus's on `for`,
//! `keep_firing_for`, templates, and recording rules feeding alerts.

use architect_integration_tests::{architect_bin, require_binary, workspace_root};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rules_dir() -> PathBuf {
    workspace_root().join("tests/rules")
}

fn run(bin: &Path, args: &[&str], file: &Path) -> Output {
    Command::new(bin)
        .args(args)
        .arg(file.file_name().expect("file name"))
        .current_dir(file.parent().expect("dir"))
        .output()
        .expect("run")
}

/// The failing cases a unit-test run reports: `alertname: X, time: T` and
/// `expr: "...", time: T` lines, without formatting details.
fn failing_cases(out: &Output) -> BTreeSet<String> {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("alertname:") || l.starts_with("expr:") || l.starts_with("rule:"))
        .map(|l| l.trim_end_matches(',').trim().to_string())
        .collect()
}

#[test]
fn unit_tests_get_the_same_verdicts_as_promtool() {
    let Some(promtool) = require_binary("promtool") else {
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(rules_dir())
        .expect("tests/rules")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with("_test.yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "{files:?}");
    let mut failing_files = 0;
    for file in &files {
        let reference = run(&promtool, &["test", "rules"], file);
        let ours = run(&architect_bin(), &["rules", "test"], file);
        assert_eq!(
            reference.status.success(),
            ours.status.success(),
            "{}: promtool {:?} vs architect {:?}\npromtool:\n{}{}\narchitect:\n{}{}",
            file.display(),
            reference.status,
            ours.status,
            String::from_utf8_lossy(&reference.stdout),
            String::from_utf8_lossy(&reference.stderr),
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&ours.stderr),
        );
        if !reference.status.success() {
            failing_files += 1;
            let want = failing_cases(&reference);
            assert!(!want.is_empty());
            assert_eq!(want, failing_cases(&ours), "{}", file.display());
        }
    }
    assert!(
        failing_files >= 1,
        "a deliberately failing file keeps the comparison honest"
    );
}

#[test]
fn rule_checks_get_the_same_verdicts_as_promtool() {
    let Some(promtool) = require_binary("promtool") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "good.yml",
            "groups:\n- name: a\n  rules:\n  - record: x:y\n    expr: sum(up)\n  - alert: A\n    expr: up == 0\n    for: 1m\n    annotations: {s: '{{ $labels.job }}'}\n",
        ),
        (
            "bad_expr.yml",
            "groups:\n- name: a\n  rules:\n  - record: x\n    expr: sum(\n",
        ),
        (
            "both.yml",
            "groups:\n- name: a\n  rules:\n  - record: x\n    alert: y\n    expr: up\n",
        ),
        (
            "dup_group.yml",
            "groups:\n- name: a\n  rules: []\n- name: a\n  rules: []\n",
        ),
        (
            "bad_template.yml",
            "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n    annotations: {s: '{{ .Foo '}\n",
        ),
        (
            "record_for.yml",
            "groups:\n- name: a\n  rules:\n  - record: x\n    expr: up\n    for: 1m\n",
        ),
        ("unknown_field.yml", "groups:\n- name: a\n  rulez: []\n"),
    ];
    for (name, text) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        let reference = run(&promtool, &["check", "rules"], &path);
        let ours = run(&architect_bin(), &["rules", "check"], &path);
        assert_eq!(
            reference.status.success(),
            ours.status.success(),
            "{name}: promtool says {}{}, architect says {}{}",
            String::from_utf8_lossy(&reference.stdout),
            String::from_utf8_lossy(&reference.stderr),
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&ours.stderr),
        );
    }
    let seed = run(
        &architect_bin(),
        &["rules", "check"],
        &rules_dir().join("rules.yml"),
    );
    assert!(seed.status.success());
    assert!(String::from_utf8_lossy(&seed.stdout).contains("SUCCESS: 5 rules found"));
}
