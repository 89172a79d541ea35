//! `architect rules check|test`: `promtool check rules` and `promtool test rules` on the same
//! files, run through this project's validation and evaluator, with promtool's output shape
//! and exit status (1 when anything failed).

use anyhow::Context;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Validate rule files as `promtool check rules` does.
    Check {
        /// Rule files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run rule unit-test files as `promtool test rules` does.
    Test {
        /// Unit-test files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

pub(crate) fn run(command: RulesCommand) -> anyhow::Result<()> {
    let ok = match command {
        RulesCommand::Check { files } => check(&files)?,
        RulesCommand::Test { files } => test(&files)?,
    };
    if !ok {
        std::process::exit(1);
    }
    Ok(())
}

fn check(files: &[PathBuf]) -> anyhow::Result<bool> {
    let mut ok = true;
    for f in files {
        println!("Checking {}", f.display());
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let errors = match architect_rules::file::parse_rule_file(&text) {
            Ok(file) => {
                let errors = architect_rules::file::validate_file(&file);
                if errors.is_empty() {
                    let n: usize = file.groups.iter().map(|g| g.rules.len()).sum();
                    println!("  SUCCESS: {n} rules found");
                    println!();
                    continue;
                }
                errors
            }
            Err(e) => vec![e.to_string()],
        };
        ok = false;
        eprintln!("  FAILED:");
        for e in errors {
            eprintln!("{e}");
        }
        eprintln!();
    }
    Ok(ok)
}

fn test(files: &[PathBuf]) -> anyhow::Result<bool> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let mut ok = true;
    for f in files {
        println!("Unit Testing:  {}", f.display());
        let outcome = runtime.block_on(architect_rules::unittest::run_test_file(f));
        if outcome.passed() {
            println!("  SUCCESS");
        } else {
            ok = false;
            eprintln!("  FAILED:");
            for e in &outcome.failures {
                eprintln!("{e}");
            }
        }
        println!();
    }
    Ok(ok)
}
