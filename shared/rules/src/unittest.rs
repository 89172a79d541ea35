//! `promtool test rules` files, run through this project's evaluator: the same YAML (rule
//! files, `evaluation_interval`, `group_eval_order`, tests with `input_series`,
//! `alert_rule_test` and `promql_expr_test`), the same procedure (every group evaluated at
//! every `evaluation_interval` step from 0 to the last `eval_time`, alerts compared at the step
//! at or before their `eval_time`), and promtool's failure messages.
//!
//! The tests under `tests/` run the same files through Debian's `promtool` and through this
//! runner and require the same verdicts.

use crate::eval::{EvalContext, EvalSettings, OutputSample, SampleAppender, evaluate_group};
use crate::file::{PromDuration, RuleGroup, parse_rule_file, validate_file};
use crate::state::{AlertStateKind, GroupState};
use architect_model::{Label, Labels};
use architect_promql::{
    Engine, MemorySource, Point, QueryValue, RawSeries, SeriesSource, SourceError,
};
use architect_promqltest::{Command, parse_script, runner};
use async_trait::async_trait;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::RwLock;

/// A unit-test file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    #[serde(default)]
    rule_files: Vec<String>,
    #[serde(default)]
    evaluation_interval: Option<PromDuration>,
    #[serde(default)]
    group_eval_order: Vec<String>,
    #[serde(default)]
    tests: Vec<TestGroup>,
    #[serde(default)]
    fuzzy_compare: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestGroup {
    #[serde(default)]
    interval: Option<PromDuration>,
    #[serde(default)]
    input_series: Vec<InputSeries>,
    #[serde(default)]
    alert_rule_test: Vec<AlertTest>,
    #[serde(default)]
    promql_expr_test: Vec<ExprTest>,
    #[serde(default)]
    external_labels: BTreeMap<String, String>,
    #[serde(default)]
    external_url: String,
    #[serde(default)]
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSeries {
    series: String,
    values: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertTest {
    eval_time: PromDuration,
    #[serde(default)]
    alertname: String,
    #[serde(default)]
    exp_alerts: Vec<ExpAlert>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpAlert {
    #[serde(default)]
    exp_labels: BTreeMap<String, String>,
    #[serde(default)]
    exp_annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExprTest {
    expr: String,
    eval_time: PromDuration,
    #[serde(default)]
    exp_samples: Vec<ExpSample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpSample {
    labels: String,
    #[serde(default)]
    value: f64,
}

/// The verdict on one test file.
#[derive(Debug, Default)]
pub struct FileOutcome {
    /// Failure messages, promtool's wording; empty when every test passed.
    pub failures: Vec<String>,
}

impl FileOutcome {
    /// Whether every test passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs one unit-test file (rule files resolve relative to it).
pub async fn run_test_file(path: &Path) -> FileOutcome {
    match run_file(path).await {
        Ok(failures) => FileOutcome { failures },
        Err(e) => FileOutcome { failures: vec![e] },
    }
}

async fn run_file(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: TestFile = serde_yaml_ng::from_str(&text).map_err(|e| e.to_string())?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let eval_interval = file.evaluation_interval.map_or(60_000, |d| d.0);
    let mut failures = Vec::new();
    for tg in &file.tests {
        let errs = run_group(&file, tg, &base, eval_interval).await;
        failures.extend(errs);
    }
    Ok(failures)
}

/// Loaded rule files as groups, ordered as `group_eval_order` asks (file order otherwise).
fn load_groups(
    file: &TestFile,
    base: &Path,
    default_interval_ms: i64,
) -> Result<Vec<RuleGroup>, Vec<String>> {
    let mut groups = Vec::new();
    let mut errors = Vec::new();
    for rf in &file.rule_files {
        let p: PathBuf = if Path::new(rf).is_absolute() {
            PathBuf::from(rf)
        } else {
            base.join(rf)
        };
        let text = match std::fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{}: {e}", p.display()));
                continue;
            }
        };
        let parsed = match parse_rule_file(&text) {
            Ok(f) => f,
            Err(e) => {
                errors.push(format!("{rf}: {e}"));
                continue;
            }
        };
        let problems = validate_file(&parsed);
        if !problems.is_empty() {
            errors.extend(problems.into_iter().map(|e| format!("{rf}: {e}")));
            continue;
        }
        for spec in parsed.groups {
            match RuleGroup::new(rf, spec, default_interval_ms, 0) {
                Ok(g) => groups.push(g),
                Err(e) => errors.push(format!("{rf}: {e}")),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if !file.group_eval_order.is_empty() {
        let order: BTreeMap<&str, usize> = file
            .group_eval_order
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        groups.sort_by_key(|g| order.get(g.name.as_str()).copied().unwrap_or(0));
    }
    Ok(groups)
}

/// In-memory series shared by the evaluator (reads) and the rules' output (writes): the
/// unit-test runner's storage, and a test backend for the ruler.
#[derive(Debug, Default)]
pub struct SharedMemory(pub RwLock<MemorySource>);

#[async_trait]
impl SeriesSource for SharedMemory {
    async fn select(
        &self,
        matchers: &[architect_model::Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<RawSeries>, SourceError> {
        self.0.read().await.select(matchers, start, end).await
    }
}

#[async_trait]
impl SampleAppender for SharedMemory {
    async fn append(&self, samples: Vec<OutputSample>) -> Result<(), String> {
        let mut guard = self.0.write().await;
        for s in samples {
            match s.h {
                Some(h) => guard.add_histogram(&s.labels, s.t, h),
                None => guard.add_float(&s.labels, s.t, s.v),
            }
        }
        Ok(())
    }
}

fn format_duration(ms: i64) -> String {
    architect_model::duration::format_duration(ms)
}

/// Go's `labels.Labels.String()`: `{a="b", c="d"}`.
fn labels_string(l: &Labels) -> String {
    let parts: Vec<String> = l
        .iter()
        .map(|x| format!("{}={:?}", x.name, x.value))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

fn map_labels(m: &BTreeMap<String, String>) -> Labels {
    Labels::new(m.iter().map(|(k, v)| Label::new(k, v)).collect())
}

async fn run_group(
    file: &TestFile,
    tg: &TestGroup,
    base: &Path,
    eval_interval: i64,
) -> Vec<String> {
    let series_interval = tg.interval.map_or(eval_interval, |d| d.0);
    // Input series, in promtool's expanding notation.
    let storage = Arc::new(SharedMemory::default());
    let mut script = format!("load {}\n", format_duration(series_interval));
    for s in &tg.input_series {
        script.push_str(&format!("  {} {}\n", s.series, s.values));
    }
    match parse_script(&script) {
        Ok(parsed) => {
            let mut guard = storage.0.write().await;
            for cmd in &parsed.commands {
                if let Command::Load(load) = cmd {
                    for s in &load.series {
                        runner::add_series(&mut guard, s);
                    }
                }
            }
        }
        Err(e) => return vec![e.message],
    }
    let groups = match load_groups(file, base, series_interval) {
        Ok(g) => g,
        Err(e) => return e,
    };
    let mut opts = runner::test_engine_options();
    opts.default_subquery_step_ms = eval_interval;
    opts.delayed_name_removal = false;
    let engine = Engine::new(opts);
    let settings = EvalSettings {
        external_labels: map_labels(&tg.external_labels),
        external_url: tg.external_url.clone(),
        ..EvalSettings::default()
    };
    let ctx = EvalContext {
        engine: &engine,
        source: Arc::clone(&storage) as Arc<dyn SeriesSource>,
        appender: &*storage,
        settings: &settings,
    };
    let mut states: Vec<GroupState> = groups.iter().map(|_| GroupState::default()).collect();
    let max_eval = tg
        .alert_rule_test
        .iter()
        .map(|a| a.eval_time.0)
        .chain(tg.promql_expr_test.iter().map(|e| e.eval_time.0))
        .max()
        .unwrap_or(0);
    let mut alert_times: Vec<i64> = tg.alert_rule_test.iter().map(|a| a.eval_time.0).collect();
    alert_times.sort_unstable();
    alert_times.dedup();
    let test_name = if tg.name.is_empty() {
        String::new()
    } else {
        format!("    name: {},\n", tg.name)
    };
    let mut errs = Vec::new();
    for a in &tg.alert_rule_test {
        if a.alertname.is_empty() {
            return vec![format!(
                "an item under alert_rule_test misses required attribute alertname at eval_time {}",
                format_duration(a.eval_time.0)
            )];
        }
    }
    let mut curr = 0;
    let mut ts = 0;
    while ts <= max_eval {
        let mut eval_errs = Vec::new();
        for (g, st) in groups.iter().zip(states.iter_mut()) {
            evaluate_group(&ctx, g, st, ts, ts).await;
            for (r, rs) in g.rules.iter().zip(&st.rules) {
                if !rs.last_error.is_empty() {
                    eval_errs.push(format!(
                        "    rule: {}, time: {}, err: {}",
                        r.name(),
                        format_duration(ts),
                        rs.last_error
                    ));
                }
            }
        }
        if !eval_errs.is_empty() {
            errs.extend(eval_errs);
            return errs;
        }
        while curr < alert_times.len()
            && ts <= alert_times[curr]
            && alert_times[curr] < ts + eval_interval
        {
            let t = alert_times[curr];
            for case in tg.alert_rule_test.iter().filter(|a| a.eval_time.0 == t) {
                let mut got: Vec<(Labels, Labels)> = Vec::new();
                for (g, st) in groups.iter().zip(&states) {
                    for (r, rs) in g.rules.iter().zip(&st.rules) {
                        if r.name() != case.alertname || !matches!(r, crate::Rule::Alerting(_)) {
                            continue;
                        }
                        got.extend(
                            rs.alerts
                                .iter()
                                .filter(|a| a.state == AlertStateKind::Firing)
                                .map(|a| (a.labels.clone(), a.annotations.clone())),
                        );
                    }
                }
                let mut exp: Vec<(Labels, Labels)> = case
                    .exp_alerts
                    .iter()
                    .map(|e| {
                        let mut l = e.exp_labels.clone();
                        l.insert("alertname".into(), case.alertname.clone());
                        (map_labels(&l), map_labels(&e.exp_annotations))
                    })
                    .collect();
                got.sort();
                exp.sort();
                if got != exp {
                    errs.push(format!(
                        "{test_name}    alertname: {}, time: {}, \n        exp:{}, \n        got:{}",
                        case.alertname,
                        format_duration(t),
                        indent_lines(&alerts_string(&exp), "            "),
                        indent_lines(&alerts_string(&got), "            ")
                    ));
                }
            }
            curr += 1;
        }
        ts += eval_interval;
    }
    for case in &tg.promql_expr_test {
        match engine
            .instant(&*storage, &case.expr, case.eval_time.0)
            .await
        {
            Err(e) => errs.push(format!(
                "    expr: {:?}, time: {}, err: {e}",
                case.expr,
                format_duration(case.eval_time.0)
            )),
            Ok(result) => {
                let mut got: Vec<(Labels, f64)> = match result.value {
                    QueryValue::Vector(v) => v
                        .into_iter()
                        .filter_map(|s| match s.point {
                            Point::Float(f) => Some((s.labels, f)),
                            _ => None,
                        })
                        .collect(),
                    QueryValue::Scalar(_, v) => vec![(Labels::default(), v)],
                    _ => Vec::new(),
                };
                let mut exp = Vec::new();
                for s in &case.exp_samples {
                    match parse_metric(&s.labels) {
                        Ok(l) => exp.push((l, s.value)),
                        Err(e) => {
                            errs.push(format!(
                                "    expr: {:?}, time: {}, err: labels {:?}: {e}",
                                case.expr,
                                format_duration(case.eval_time.0),
                                s.labels
                            ));
                        }
                    }
                }
                got.sort_by(|a, b| a.0.cmp(&b.0));
                exp.sort_by(|a, b| a.0.cmp(&b.0));
                let equal = got.len() == exp.len()
                    && got.iter().zip(&exp).all(|(g, e)| {
                        g.0 == e.0
                            && (g.1 == e.1
                                || (file.fuzzy_compare
                                    && (g.1 - e.1).abs() <= f64::EPSILON * e.1.abs()))
                    });
                if !equal {
                    errs.push(format!(
                        "    expr: {:?}, time: {},\n        exp: {}\n        got: {}",
                        case.expr,
                        format_duration(case.eval_time.0),
                        samples_string(&exp),
                        samples_string(&got)
                    ));
                }
            }
        }
    }
    errs
}

/// promtool's `indentLines`: `indent` before every line but the first.
fn indent_lines(lines: &str, indent: &str) -> String {
    lines
        .split('\n')
        .collect::<Vec<_>>()
        .join(&format!("\n{indent}"))
}

/// promtool's `labelsAndAnnotations.String()`.
fn alerts_string(alerts: &[(Labels, Labels)]) -> String {
    if alerts.is_empty() {
        return "[]".to_string();
    }
    let mut s = String::from("[");
    for (i, (l, a)) in alerts.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let one = format!(
            "\nLabels:{}\nAnnotations:{}",
            labels_string(l),
            labels_string(a)
        );
        s.push_str(&format!("\n{i}:{}", indent_lines(&one, "  ")));
    }
    s.push_str("\n]");
    s
}

/// promtool's `parsedSamplesString`.
fn samples_string(samples: &[(Labels, f64)]) -> String {
    if samples.is_empty() {
        return "nil".to_string();
    }
    samples
        .iter()
        .map(|(l, v)| {
            format!(
                "{} {}",
                labels_string(l),
                crate::format_float_e(*v).to_uppercase()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prometheus's `ParseMetric`: `name{a="b"}` or `{__name__="x", a="b"}` into labels.
fn parse_metric(text: &str) -> Result<Labels, String> {
    let expr = promql_parser::parser::parse(text).map_err(|e| e.to_string())?;
    let promql_parser::parser::Expr::VectorSelector(vs) = expr else {
        return Err(format!("not a metric: {text}"));
    };
    let mut labels = Vec::new();
    if let Some(name) = &vs.name {
        labels.push(Label::new("__name__", name.clone()));
    }
    for m in &vs.matchers.matchers {
        if m.op != promql_parser::label::MatchOp::Equal {
            return Err(format!("not a metric: {text}"));
        }
        labels.retain(|l: &Label| l.name != m.name);
        labels.push(Label::new(m.name.clone(), m.value.clone()));
    }
    Ok(Labels::new(labels))
}
