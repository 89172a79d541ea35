//! The terraform module (`terraform/modules/monitoring-architect`) and its example
//! (`terraform/examples/complete`): formatted, valid, clean under checkov (every skipped check
//! carries its reason), and really applied to and destroyed from a moto server, with what was
//! created read back through the AWS APIs (`tests/terraform/verify_moto.py`, boto3).
//!
//! Needs `terraform`, a filesystem mirror holding `registry.terraform.io/hashicorp/aws`
//! (`ARCHITECT_TF_PLUGIN_DIR`, else found in the usual places such as `/opt/tf-plugins`),
//! `checkov`, `moto_server` and `python3` with boto3 (`tests/run.sh` installs the Python tools).
//! A missing one skips the test loudly, and fails it under `CI=true`.
//!
//! Nothing is written into the repository: every terraform run works on a copy of `terraform/`
//! in a temporary directory, with its own `TF_DATA_DIR`.

use architect_integration_tests::{in_ci, require_binary, workspace_root};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// Region of the moto deployment (the verification script reads it back there).
const REGION: &str = "us-east-1";
/// Concurrent terraform operations against moto (one process, threaded).
const PARALLELISM: &str = "-parallelism=8";
/// The functions of the example deployment.
const FUNCTIONS: [&str; 6] = [
    "ingest",
    "query",
    "authorizer",
    "compact",
    "rules",
    "alerts",
];

/// The tools every test here needs, or `None` after a loud skip (a panic under `CI=true`).
struct Tools {
    terraform: PathBuf,
    plugin_dir: PathBuf,
}

impl Tools {
    fn find() -> Option<Self> {
        let terraform = require_binary("terraform")?;
        let plugin_dir = require_plugin_dir()?;
        Some(Self {
            terraform,
            plugin_dir,
        })
    }

    /// `terraform <args>` in `dir` with its data under `data_dir`, non-interactive, with the
    /// credentials of an emulator (never a real account's: the profile and tokens are removed).
    fn run(&self, dir: &Path, data_dir: &Path, args: &[&str]) -> Output {
        let started = Instant::now();
        let out = Command::new(&self.terraform)
            .args(args)
            .current_dir(dir)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("TF_DATA_DIR", data_dir)
            .env("CHECKPOINT_DISABLE", "1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("TF_PLUGIN_CACHE_DIR")
            .output()
            .expect("run terraform");
        eprintln!(
            "terraform {} ({}): {:?}, {:.1?}",
            args.join(" "),
            dir.display(),
            out.status,
            started.elapsed()
        );
        out
    }

    /// Like [`Tools::run`], failing the test with terraform's output when it fails.
    fn ok(&self, dir: &Path, data_dir: &Path, args: &[&str]) -> String {
        let out = self.run(dir, data_dir, args);
        assert!(
            out.status.success(),
            "terraform {} failed in {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `terraform init` from the filesystem mirror only.
    fn init(&self, dir: &Path, data_dir: &Path) {
        let plugin_dir = format!("-plugin-dir={}", self.plugin_dir.display());
        self.ok(
            dir,
            data_dir,
            &["init", "-input=false", "-no-color", &plugin_dir],
        );
    }
}

/// The provider mirror: `ARCHITECT_TF_PLUGIN_DIR`, else the first usual place (or folder under
/// `/opt`) that holds `registry.terraform.io/hashicorp/aws`. Missing: a loud skip, or a panic
/// under `CI=true`.
fn require_plugin_dir() -> Option<PathBuf> {
    let holds_aws = |d: &Path| d.join("registry.terraform.io/hashicorp/aws").is_dir();
    if let Some(dir) = std::env::var_os("ARCHITECT_TF_PLUGIN_DIR") {
        let dir = PathBuf::from(dir);
        assert!(
            holds_aws(&dir),
            "ARCHITECT_TF_PLUGIN_DIR={} holds no registry.terraform.io/hashicorp/aws",
            dir.display()
        );
        return Some(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut candidates: Vec<PathBuf> = vec![PathBuf::from("/opt/tf-plugins")];
    if let Some(home) = &home {
        candidates.push(home.join(".terraform.d/plugins"));
        candidates.push(home.join(".local/share/terraform/plugins"));
    }
    candidates.push(PathBuf::from("/usr/local/share/terraform/plugins"));
    candidates.push(PathBuf::from("/usr/share/terraform/plugins"));
    if let Ok(entries) = std::fs::read_dir("/opt") {
        candidates.extend(entries.flatten().map(|e| e.path()));
    }
    if let Some(found) = candidates.into_iter().find(|d| holds_aws(d)) {
        return Some(found);
    }
    let what = "a terraform provider mirror with registry.terraform.io/hashicorp/aws \
                (set ARCHITECT_TF_PLUGIN_DIR)";
    assert!(
        !in_ci(),
        "{what} was not found, and CI=true: a missing dependency must fail CI"
    );
    let line = "*".repeat(78);
    eprintln!("\n{line}\n*** SKIPPED: {what} was not found\n{line}\n");
    None
}

fn terraform_dir() -> PathBuf {
    workspace_root().join("terraform")
}

/// Copies `terraform/` into `dest` (without any `.terraform` folder or state a developer may
/// have left), so that init and apply write nothing into the repository.
fn copy_terraform_tree(dest: &Path) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("create dir");
        for entry in std::fs::read_dir(from).expect("read dir").flatten() {
            let name = entry.file_name();
            let name_str = name.to_string_lossy();
            if name_str == ".terraform" || name_str.contains(".tfstate") {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                copy(&path, &to.join(&name));
            } else {
                std::fs::copy(&path, to.join(&name)).expect("copy file");
            }
        }
    }
    let root = dest.join("terraform");
    copy(&terraform_dir(), &root);
    root
}

#[test]
fn terraform_files_are_formatted() {
    let Some(tools) = Tools::find() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    // fmt -check reads only; it runs on the repository itself.
    let out = tools.run(
        &terraform_dir(),
        tmp.path(),
        &["fmt", "-check", "-recursive", "-diff", "-no-color"],
    );
    assert!(
        out.status.success(),
        "terraform fmt -check found unformatted files (run `terraform fmt -recursive terraform`):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn example_and_module_validate() {
    let Some(tools) = Tools::find() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = copy_terraform_tree(tmp.path());
    for (i, dir) in ["examples/complete", "modules/monitoring-architect"]
        .iter()
        .enumerate()
    {
        let dir = root.join(dir);
        let data = tmp.path().join(format!("tf-data-{i}"));
        tools.init(&dir, &data);
        let out = tools.ok(&dir, &data, &["validate", "-json", "-no-color"]);
        let v: Value = serde_json::from_str(&out).expect("validate -json output");
        assert_eq!(v["valid"], true, "{}: {v:#}", dir.display());
        assert_eq!(v["warning_count"], 0, "{}: {v:#}", dir.display());
    }
}

#[test]
fn checkov_passes_with_every_skip_explained() {
    let Some(checkov) = require_binary("checkov") else {
        return;
    };
    // Every inline skip names its reason: `#checkov:skip=CKV_...:why`.
    let mut skips = 0;
    for file in tf_files(&terraform_dir()) {
        let text = std::fs::read_to_string(&file).expect("read .tf");
        for line in text.lines().filter(|l| l.contains("checkov:skip=")) {
            let rule = line.split("checkov:skip=").nth(1).unwrap_or_default();
            let reason = rule.split_once(':').map_or("", |(_, why)| why.trim());
            assert!(
                reason.len() >= 10,
                "{}: a checkov skip without its reason: {line}",
                file.display()
            );
            skips += 1;
        }
    }
    let out = Command::new(checkov)
        .arg("--directory")
        .arg(terraform_dir())
        .args([
            "--framework",
            "terraform",
            "--quiet",
            "--compact",
            "--skip-download",
            "--output",
            "json",
        ])
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .expect("run checkov");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON report ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let summary = &report["summary"];
    eprintln!("checkov: {summary}; inline skips with reasons: {skips}");
    let failed: Vec<String> = report["results"]["failed_checks"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    format!(
                        "{} {} ({}:{})",
                        c["check_id"], c["resource"], c["file_path"], c["file_line_range"]
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(
        failed.is_empty() && out.status.success(),
        "checkov findings (fix them or skip inline with the reason):\n{}",
        failed.join("\n")
    );
    assert!(
        summary["passed"].as_u64().unwrap_or(0) > 100,
        "checkov scanned too little: {summary}"
    );
}

fn tf_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() && entry.file_name() != ".terraform" {
            files.extend(tf_files(&path));
        } else if path.extension().is_some_and(|e| e == "tf") {
            files.push(path);
        }
    }
    files
}

/// One `bootstrap.zip` per function (a shell script: moto stores the code, never runs it).
fn dummy_zips(python: &Path, dir: &Path) -> Value {
    let script = r##"
import sys, zipfile
for path in sys.argv[1:]:
    with zipfile.ZipFile(path, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, "#!/bin/sh\nexit 0\n")
"##;
    let paths: Vec<PathBuf> = FUNCTIONS
        .iter()
        .map(|f| dir.join(format!("{f}.zip")))
        .collect();
    let status = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(&paths)
        .status()
        .expect("run python3");
    assert!(status.success(), "python3 could not write the zips");
    json!(
        FUNCTIONS
            .iter()
            .zip(&paths)
            .map(|(f, p)| (f.to_string(), json!(p)))
            .collect::<serde_json::Map<_, _>>()
    )
}

/// Resource addresses a plan would create (`terraform show -json <plan>`).
fn planned_creates(tools: &Tools, dir: &Path, data: &Path, plan: &str) -> Vec<String> {
    let out = tools.ok(dir, data, &["show", "-json", "-no-color", plan]);
    let v: Value = serde_json::from_str(&out).expect("show -json output");
    v["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .filter(|c| c["change"]["actions"] == json!(["create"]))
        .map(|c| c["address"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Runs the verification script (boto3 against moto); fails the test with its output.
fn verify(python: &Path, moto: &architect_testkit::Emulator, args: &[&str]) {
    let script = workspace_root().join("tests/tests/terraform/verify_moto.py");
    let out = Command::new(python)
        .arg(script)
        .arg(moto.endpoint())
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", REGION)
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    assert!(
        out.status.success(),
        "verify_moto.py {}:\n{stdout}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_applies_to_moto_and_destroys() {
    let Some(tools) = Tools::find() else { return };
    let Some(moto_bin) = require_binary("moto_server") else {
        return;
    };
    // The Python that runs moto has boto3 (tests/run.sh puts moto into a virtualenv of its own).
    let python = moto_bin
        .canonicalize()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("python3")))
        .filter(|p| p.is_file())
        .or_else(|| moto_bin.parent().map(|d| d.join("python3")))
        .filter(|p| p.is_file());
    let Some(python) = python.or_else(|| require_binary("python3")) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some(moto) = architect_testkit::Emulator::start_or_skip("terraform apply").await else {
        return;
    };
    let root = copy_terraform_tree(tmp.path());
    let dir = root.join("examples/complete");
    let data = tmp.path().join("tf-data");
    tools.init(&dir, &data);

    let zips = dummy_zips(&python, tmp.path());
    let vars = |zips: &Value, enable_ingester: bool| {
        json!({
            "aws_region": REGION,
            "aws_endpoint_url": moto.endpoint(),
            "lambda_zips": zips,
            "enable_ingester": enable_ingester,
            "ingester_image": format!("123456789012.dkr.ecr.{REGION}.amazonaws.com/architect-ingester:test"),
            "force_destroy": true,
            // moto has no DeleteFileSystemPolicy: destroy would retry it until it times out.
            "enable_efs_file_system_policy": false,
        })
    };
    let write_vars = |name: &str, v: &Value| -> String {
        let path = tmp.path().join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(v).expect("json")).expect("write vars");
        format!("-var-file={}", path.display())
    };

    // Without the ingester and without the scheduled functions: no VPC, no ECS, no schedule,
    // three functions.
    let mut without_compact = zips.clone();
    for scheduled in ["compact", "rules", "alerts"] {
        without_compact
            .as_object_mut()
            .expect("zips map")
            .remove(scheduled);
    }
    let small = write_vars("small.tfvars.json", &vars(&without_compact, false));
    let plan = tmp.path().join("small.tfplan");
    let plan_arg = format!("-out={}", plan.display());
    tools.ok(
        &dir,
        &data,
        &[
            "plan",
            "-input=false",
            "-no-color",
            PARALLELISM,
            &small,
            &plan_arg,
        ],
    );
    let creates = planned_creates(&tools, &dir, &data, &plan.to_string_lossy());
    let count = |prefix: &str| creates.iter().filter(|a| a.starts_with(prefix)).count();
    assert_eq!(
        count("module.architect.aws_lambda_function.fn["),
        3,
        "{creates:#?}"
    );
    for absent in [
        "aws_vpc.",
        "module.architect.aws_ecs_",
        "module.architect.aws_efs_",
        "module.architect.aws_vpc_endpoint.",
        "module.architect.aws_security_group.",
        "module.architect.aws_cloudwatch_event_rule.",
    ] {
        assert_eq!(
            count(absent),
            0,
            "{absent} planned without ingester/compact: {creates:#?}"
        );
    }

    // The complete deployment.
    let full = write_vars("full.tfvars.json", &vars(&zips, true));
    let apply = tools.ok(
        &dir,
        &data,
        &[
            "apply",
            "-input=false",
            "-auto-approve",
            "-no-color",
            PARALLELISM,
            &full,
        ],
    );
    let summary = apply
        .lines()
        .find(|l| l.starts_with("Apply complete!"))
        .unwrap_or_default();
    eprintln!("{summary}");
    assert!(summary.contains(" 0 changed, 0 destroyed"), "{apply}");

    let outputs = tools.ok(&dir, &data, &["output", "-json", "-no-color"]);
    let outputs_path = tmp.path().join("outputs.json");
    std::fs::write(&outputs_path, &outputs).expect("write outputs");
    let o: Value = serde_json::from_str(&outputs).expect("output -json");
    let api = o["api_url"]["value"].as_str().expect("api_url");
    assert_eq!(
        o["remote_write_url"]["value"],
        format!("{api}/api/v1/push"),
        "{o:#}"
    );
    assert_eq!(
        o["prometheus_url"]["value"],
        format!("{api}/prometheus"),
        "{o:#}"
    );
    verify(&python, &moto, &[&outputs_path.to_string_lossy()]);

    let destroy = tools.ok(
        &dir,
        &data,
        &[
            "destroy",
            "-input=false",
            "-auto-approve",
            "-no-color",
            PARALLELISM,
            &full,
        ],
    );
    eprintln!(
        "{}",
        destroy
            .lines()
            .find(|l| l.starts_with("Destroy complete!"))
            .unwrap_or_default()
    );
    verify(&python, &moto, &["--destroyed"]);
}
