//! `architect promqltest` as a user runs it: a line per file, `N passed, M failed` last on
//! stdout, failing cases counted (and explained with `-v` on stderr).

use architect_integration_tests::architect_bin;
use std::process::Command;

#[test]
fn prints_a_line_per_file_and_the_totals_last() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = "load 1m\n  metric{job=\"a\"} 1+1x10\n\neval instant at 5m metric\n  metric{job=\"a\"} 6\n\n# wrong on purpose\neval instant at 5m metric * 2\n  {job=\"a\"} 13\n";
    std::fs::write(dir.path().join("mini.test"), script).expect("write script");
    let out = Command::new(architect_bin())
        .arg("promqltest")
        .arg("-v")
        .arg(dir.path())
        .output()
        .expect("run architect promqltest");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        ["mini.test: 1 passed, 1 failed", "1 passed, 1 failed"],
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("mini.test:8:"), "{stderr}");
}
