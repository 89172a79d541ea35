//! `architect promqltest`: Prometheus's PromQL conformance scripts through the engine.

use anyhow::Context;
use std::path::{Path, PathBuf};

/// Where the corpus is when no path is given.
fn default_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("PROMQL_TESTDATA")
        && !dir.is_empty()
    {
        return PathBuf::from(dir);
    }
    let beside_cwd = PathBuf::from("../shared/conformance/promql");
    if beside_cwd.is_dir() {
        return beside_cwd;
    }
    // Beside the checkout this binary was built from.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/promql")
}

fn collect(paths: Vec<PathBuf>) -> anyhow::Result<Vec<PathBuf>> {
    let paths = if paths.is_empty() {
        vec![default_dir()]
    } else {
        paths
    };
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut inner: Vec<PathBuf> = std::fs::read_dir(&p)
                .with_context(|| format!("reading {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "test"))
                .collect();
            inner.sort();
            files.extend(inner);
        } else if p.is_file() {
            files.push(p);
        } else {
            anyhow::bail!("{}: no such file or directory", p.display());
        }
    }
    Ok(files)
}

pub(crate) fn run(paths: Vec<PathBuf>, verbose: bool) -> anyhow::Result<()> {
    let files = collect(paths)?;
    let (mut passed, mut failed) = (0usize, 0usize);
    for file in files {
        let name = file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        match architect_promqltest::runner::run_script(&text) {
            Ok(report) => {
                println!(
                    "{name}: {} passed, {} failed",
                    report.passed,
                    report.failures.len()
                );
                if verbose {
                    for (line, why) in &report.failures {
                        eprintln!("{name}:{line}: {why}");
                    }
                }
                passed += report.passed;
                failed += report.failures.len();
            }
            Err(e) => {
                let cases = text
                    .lines()
                    .filter(|l| l.trim_start().starts_with("eval"))
                    .count();
                println!("{name}: 0 passed, {cases} failed (script error: {e})");
                failed += cases;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(())
}
