//! The script grammar: commands, `load` blocks, `eval` blocks and their `expect` lines, following
//! upstream's `promql/promqltest/test.go`. Lines are trimmed; a line starting with `#` counts as
//! blank, so a comment ends the block it is in. A block ends at the first blank line. A scalar
//! result line, `expected_fail_message` and `expected_fail_regexp` end an `eval` block right away
//! (anything after them is read as a new command), as upstream.

use crate::number::parse_go_number;
use crate::quote::unquote_go;
use crate::series::parse_series_desc;
use crate::{
    AnnotationExpect, Command, EvalCase, EvalKind, Expected, ExpectedSeries, Labels, Load,
    LoadSeries, MessageMatch, Script, ScriptError,
};
use architect_model::duration::parse_duration;

/// Parses a whole script.
pub fn parse_script(text: &str) -> Result<Script, ScriptError> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| {
            let t = l.trim();
            if t.starts_with('#') { "" } else { t }
        })
        .collect();
    let mut commands = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.is_empty() {
            i += 1;
            continue;
        }
        let first = line
            .split([' ', '\t'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if first == "clear" {
            commands.push(Command::Clear);
            i += 1;
        } else if first.starts_with("load") {
            let (load, next) = parse_load(&lines, i)?;
            commands.push(Command::Load(load));
            i = next;
        } else if first.starts_with("eval") {
            let (case, next) = parse_eval(&lines, i)?;
            commands.push(Command::Eval(case));
            i = next;
        } else {
            return Err(err(i, format!("invalid command {line:?}")));
        }
    }
    Ok(Script { commands })
}

/// Error at 0-based line index `i`.
fn err(i: usize, message: impl Into<String>) -> ScriptError {
    ScriptError {
        line: i + 1,
        message: message.into(),
    }
}

/// Splits a line at ASCII whitespace into tokens with their byte offsets.
fn tokens(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        if c == ' ' || c == '\t' {
            if let Some(s) = start.take() {
                out.push((s, &line[s..i]));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, &line[s..]));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// load

/// Parses the `load` block starting at line index `i`; returns it and the index after it.
fn parse_load(lines: &[&str], i: usize) -> Result<(Load, usize), ScriptError> {
    let line = lines[i];
    let usage = || {
        err(
            i,
            "invalid load command. (load[_with_nhcb] <step:duration>)",
        )
    };
    let (with_nhcb, rest) = if let Some(r) = line.strip_prefix("load_with_nhcb") {
        (true, r)
    } else if let Some(r) = line.strip_prefix("load") {
        (false, r)
    } else {
        return Err(usage());
    };
    if !rest.starts_with([' ', '\t']) || rest.trim().is_empty() {
        return Err(usage());
    }
    let step = rest.trim();
    let interval_ms = parse_duration(step)
        .map_err(|e| err(i, format!("invalid step definition {step:?}: {e}")))?;

    let mut load = Load {
        line: i + 1,
        interval_ms,
        with_nhcb,
        series: Vec::new(),
    };
    // A pending `@st` line: its labels, offsets and line index.
    let mut pending_st: Option<(Labels, Vec<Option<i64>>, usize)> = None;
    let mut j = i + 1;
    while j < lines.len() && !lines[j].is_empty() {
        let def = lines[j];
        if is_st_line(def) {
            if let Some((_, _, at)) = pending_st {
                return Err(err(at, "@st line has no following sample line"));
            }
            let (labels, offsets) = parse_st_line(def).map_err(|e| err(j, e))?;
            pending_st = Some((labels, offsets, j));
            j += 1;
            continue;
        }
        let (labels, values) = parse_series_desc(def).map_err(|e| err(j, e))?;
        let mut start_timestamps_ms = Vec::new();
        let st = pending_st.take();
        if let Some((st_labels, offsets, at)) = &st {
            if *st_labels != labels {
                return Err(err(
                    *at,
                    "@st metric does not match the following sample line metric",
                ));
            }
            if offsets.len() != values.len() {
                return Err(err(
                    *at,
                    format!(
                        "@st line has {} values but sample line has {}",
                        offsets.len(),
                        values.len()
                    ),
                ));
            }
        }
        let mut points = Vec::new();
        let mut ts: i64 = 0;
        for (n, v) in values.into_iter().enumerate() {
            if let Some(v) = v {
                if let Some((_, offsets, _)) = &st {
                    start_timestamps_ms.push(offsets[n].map(|o| ts.saturating_add(o)));
                }
                points.push((ts, v));
            }
            ts = ts.saturating_add(interval_ms);
        }
        let series = LoadSeries {
            labels,
            points,
            start_timestamps_ms,
        };
        // A later definition of the same series replaces the earlier one.
        match load.series.iter_mut().find(|s| s.labels == series.labels) {
            Some(existing) => *existing = series,
            None => load.series.push(series),
        }
        j += 1;
    }
    if let Some((_, _, at)) = pending_st {
        return Err(err(at, "@st line has no following sample line"));
    }
    Ok((load, j))
}

/// A start-timestamp line: its first token (metric and labels) ends in `@st`.
fn is_st_line(line: &str) -> bool {
    line.split([' ', '\t'])
        .next()
        .is_some_and(|first| first.ends_with("@st") && line.len() > first.len())
}

/// `metric{labels}@st <offsets>`: offsets are durations relative to each sample's timestamp,
/// `_` for none; items are `_`, `_xN` (N ≥ 1), `d`, `dxN` (N+1 times), `d+dxN` and `d-dxN`.
fn parse_st_line(line: &str) -> Result<(Labels, Vec<Option<i64>>), String> {
    let space = line
        .find([' ', '\t'])
        .ok_or("invalid @st line: missing value sequence")?;
    let metric = line[..space].trim_end_matches("@st");
    let (labels, _) = parse_series_desc(&format!("{metric} _"))
        .map_err(|e| format!("invalid @st line metric {metric:?}: {e}"))?;
    let mut out = Vec::new();
    for item in line[space..].split_whitespace() {
        parse_st_item(item, &mut out)
            .map_err(|e| format!("invalid @st sequence: invalid ST item {item:?}: {e}"))?;
        if out.len() as u64 > crate::series::MAX_VALUES_PER_LINE {
            return Err("too many @st values".to_string());
        }
    }
    Ok((labels, out))
}

fn parse_st_item(item: &str, out: &mut Vec<Option<i64>>) -> Result<(), String> {
    if item == "_" {
        out.push(None);
        return Ok(());
    }
    if let Some(n) = item.strip_prefix("_x") {
        let n: u64 = n.parse().map_err(|_| "invalid repeat count")?;
        if n == 0 || n > crate::series::MAX_VALUES_PER_LINE {
            return Err("invalid repeat count".to_string());
        }
        out.extend((0..n).map(|_| None));
        return Ok(());
    }
    let (base, rest) = duration_prefix(item)?;
    if rest.is_empty() {
        out.push(Some(base));
        return Ok(());
    }
    let count = |s: &str| -> Result<u64, String> {
        let n: u64 = s.parse().map_err(|_| "invalid repeat count")?;
        if n >= crate::series::MAX_VALUES_PER_LINE {
            return Err("invalid repeat count".to_string());
        }
        Ok(n)
    };
    if let Some(n) = rest.strip_prefix('x') {
        let n = count(n)?;
        out.extend((0..=n).map(|_| Some(base)));
        return Ok(());
    }
    let negative = match rest.as_bytes()[0] {
        b'+' => false,
        b'-' => true,
        c => {
            return Err(format!(
                "unexpected character {:?} after duration",
                c as char
            ));
        }
    };
    let (delta, rest) =
        duration_prefix(&rest[1..]).map_err(|e| format!("invalid step duration: {e}"))?;
    let delta = if negative { -delta } else { delta };
    let n = rest
        .strip_prefix('x')
        .ok_or("expected 'x<count>' after step duration")?;
    let n = count(n)?;
    let mut v = base;
    for _ in 0..=n {
        out.push(Some(v));
        v = v.saturating_add(delta);
    }
    Ok(())
}

/// A signed duration at the start of `s` (digits then unit letters, stopping at `x`), in ms.
fn duration_prefix(s: &str) -> Result<(i64, &str), String> {
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        Some(_) => (false, s),
        None => return Err("empty duration".to_string()),
    };
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(format!("expected digits in duration {s:?}"));
    }
    let unit = body[digits..]
        .bytes()
        .take_while(|b| b.is_ascii_alphabetic() && *b != b'x')
        .count();
    let d = &body[..digits + unit];
    let ms = parse_duration(d).map_err(|e| format!("invalid duration {d:?}: {e}"))?;
    Ok((if negative { -ms } else { ms }, &body[digits + unit..]))
}

// ---------------------------------------------------------------------------------------------
// eval

/// Parses the `eval` block starting at line index `i`; returns it and the index after it.
fn parse_eval(lines: &[&str], i: usize) -> Result<(EvalCase, usize), ScriptError> {
    let line = lines[i];
    let usage = || {
        err(
            i,
            "invalid evaluation command. Must be either 'eval[_fail|_warn|_info|_ordered] instant \
             at <offset:duration> <query>' or 'eval[_fail|_warn|_info] range from <from> to <to> \
             step <step> <query>'",
        )
    };
    let toks = tokens(line);
    let legacy = match toks.first().map(|t| t.1) {
        Some("eval") => "",
        Some("eval_fail") => "fail",
        Some("eval_warn") => "warn",
        Some("eval_info") => "info",
        Some("eval_ordered") => "ordered",
        _ => return Err(usage()),
    };
    let dur = |s: &str, what: &str| {
        parse_duration(s).map_err(|e| err(i, format!("invalid {what} definition {s:?}: {e}")))
    };
    let (mut kind, expr_tok) = match toks.get(1).map(|t| t.1) {
        Some("instant") => {
            if toks.get(2).map(|t| t.1) != Some("at") || toks.len() < 5 {
                return Err(usage());
            }
            let at_ms = dur(toks[3].1, "timestamp")?;
            (EvalKind::Instant { at_ms }, 4)
        }
        Some("range") if legacy != "ordered" => {
            let shape = [(2, "from"), (4, "to"), (6, "step")];
            if toks.len() < 9 || shape.iter().any(|(k, w)| toks[*k].1 != *w) {
                return Err(usage());
            }
            let start_ms = dur(toks[3].1, "start timestamp")?;
            let end_ms = dur(toks[5].1, "end timestamp")?;
            if end_ms < start_ms {
                return Err(err(
                    i,
                    format!(
                        "invalid test definition, end timestamp ({}) is before start timestamp ({})",
                        toks[5].1, toks[3].1
                    ),
                ));
            }
            let step_ms = dur(toks[7].1, "step")?;
            (
                EvalKind::Range {
                    start_ms,
                    end_ms,
                    step_ms,
                },
                8,
            )
        }
        _ => return Err(usage()),
    };
    let expr = line[toks[expr_tok].0..].to_string();
    let is_instant = matches!(kind, EvalKind::Instant { .. });
    let in_eval = |j: usize, msg: String| err(j, format!("error in eval {expr}: {msg}"));

    let mut b = EvalBuilder::default();
    let mut j = i + 1;
    while j < lines.len() && !lines[j].is_empty() {
        let def = lines[j];
        if legacy == "fail" && def.starts_with("expected_fail_message") {
            let msg = def["expected_fail_message".len()..].trim();
            b.legacy_fail_match = (!msg.is_empty()).then(|| MessageMatch::Exact(msg.to_string()));
            j += 1;
            break;
        }
        if legacy == "fail" && def.starts_with("expected_fail_regexp") {
            let pat = def["expected_fail_regexp".len()..].trim();
            let re = regex::Regex::new(pat).map_err(|e| {
                in_eval(
                    j,
                    format!("invalid regexp '{pat}' for expected_fail_regexp: {e}"),
                )
            })?;
            b.legacy_fail_match = Some(MessageMatch::Regex(re));
            j += 1;
            break;
        }
        if def.starts_with("expect range vector") {
            if !is_instant {
                return Err(in_eval(
                    j,
                    "expect range vector is only valid for instant queries".into(),
                ));
            }
            b.range_vector = Some(parse_expect_range(def).map_err(|e| in_eval(j, e))?);
            j += 1;
            continue;
        }
        if def.starts_with("expect string") {
            b.string = Some(parse_expect_string(def).map_err(|e| in_eval(j, e))?);
            j += 1;
            continue;
        }
        if def.split(' ').next() == Some("expect") {
            b.expect_line(def).map_err(|e| in_eval(j, e))?;
            j += 1;
            continue;
        }
        if let Some(v) = parse_go_number(def) {
            b.scalar = Some(v);
            j += 1;
            break;
        }
        let (labels, points) = parse_series_desc(def).map_err(|e| err(j, e))?;
        if points.len() > 1 && is_instant && b.range_vector.is_none() {
            return Err(in_eval(
                j,
                "expecting multiple values in instant evaluation not allowed. consider using \
                 'expect range vector' directive to enable a range vector result for an instant \
                 query"
                    .into(),
            ));
        }
        if b.series.iter().any(|s| s.labels == labels) {
            return Err(in_eval(j, "the same series is expected twice".into()));
        }
        b.series.push(ExpectedSeries { labels, points });
        j += 1;
    }

    if let (EvalKind::Instant { at_ms }, Some((_, end, _))) = (&mut kind, b.range_vector) {
        *at_ms = end; // upstream evaluates at the end of the expected range
    }
    let case = b.finish(i + 1, expr, kind, legacy).map_err(|e| err(i, e))?;
    Ok((case, j))
}

/// `expect range vector from <t0> to <t1> step <s>`.
fn parse_expect_range(line: &str) -> Result<(i64, i64, i64), String> {
    let bad = || format!("invalid range vector definition {line:?}");
    let toks: Vec<&str> = line.split_whitespace().collect();
    if toks.len() != 9 || toks[3] != "from" || toks[5] != "to" || toks[7] != "step" {
        return Err(bad());
    }
    let d = |s: &str, what: &str| {
        parse_duration(s).map_err(|e| format!("invalid {what} definition {s:?}: {e}"))
    };
    let (start, end, step) = (
        d(toks[4], "start timestamp")?,
        d(toks[6], "end timestamp")?,
        d(toks[8], "step")?,
    );
    if end < start {
        return Err(format!(
            "invalid test definition, end timestamp ({}) is before start timestamp ({})",
            toks[6], toks[4]
        ));
    }
    Ok((start, end, step))
}

/// `expect string "<go string literal>"`.
fn parse_expect_string(line: &str) -> Result<String, String> {
    let rest = line.strip_prefix("expect string").unwrap_or_default();
    let lit = rest.strip_prefix(' ').unwrap_or_default();
    if lit.is_empty() {
        return Err(
            "expected string literal not valid - a quoted string literal is required".into(),
        );
    }
    unquote_go(lit).map_err(|_| {
        "expected string literal not valid - check that the string is correctly quoted".to_string()
    })
}

/// Collects an `eval` block's lines before turning them into an [`EvalCase`].
#[derive(Default)]
struct EvalBuilder {
    fail: Vec<MessageMatch>,
    legacy_fail_match: Option<MessageMatch>,
    warn: Vec<AnnotationExpect>,
    info: Vec<AnnotationExpect>,
    no_warn: bool,
    no_info: bool,
    ordered: bool,
    series: Vec<ExpectedSeries>,
    scalar: Option<f64>,
    string: Option<String>,
    range_vector: Option<(i64, i64, i64)>,
}

impl EvalBuilder {
    /// `expect <type> [msg|regex: <text>]`.
    fn expect_line(&mut self, line: &str) -> Result<(), String> {
        let format_err = || {
            "invalid expect statement, must match `expect <type> <match_type>: <string>` format"
                .to_string()
        };
        let rest = line.trim().strip_prefix("expect").ok_or_else(format_err)?;
        let rest = rest.trim_start();
        let kind_len = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
        let (kind, tail) = rest.split_at(kind_len);
        if !matches!(
            kind,
            "ordered" | "fail" | "warn" | "no_warn" | "info" | "no_info"
        ) {
            return Err(format_err());
        }
        let matcher = if tail.is_empty() {
            MessageMatch::Any
        } else {
            let tail = tail.trim_start();
            let (mode, text) = tail.split_once(':').ok_or_else(format_err)?;
            let text = text.trim();
            if text.is_empty() {
                return Err(format_err());
            }
            match mode {
                "msg" => MessageMatch::Exact(text.to_string()),
                "regex" => MessageMatch::Regex(
                    regex::Regex::new(text)
                        .map_err(|_| format!("invalid regex {text} for {kind}"))?,
                ),
                _ => return Err(format_err()),
            }
        };
        // `msg:`/`regex:` mean nothing for ordered/no_warn/no_info; upstream accepts and ignores them.
        match kind {
            "ordered" => self.ordered = true,
            "fail" => self.fail.push(matcher),
            "warn" => self.warn.push(AnnotationExpect { matcher }),
            "info" => self.info.push(AnnotationExpect { matcher }),
            "no_warn" => self.no_warn = true,
            _ => self.no_info = true,
        }
        if !self.info.is_empty() && self.no_info {
            return Err("invalid expect lines, info and no_info cannot be used together".into());
        }
        if !self.warn.is_empty() && self.no_warn {
            return Err("invalid expect lines, warn and no_warn cannot be used together".into());
        }
        if self.fail.len() > 1 {
            return Err("invalid expect lines, multiple expect fail lines are not allowed".into());
        }
        Ok(())
    }

    fn finish(
        mut self,
        line: usize,
        expr: String,
        kind: EvalKind,
        legacy: &str,
    ) -> Result<EvalCase, String> {
        // Fold the deprecated eval_* forms into the same fields.
        match legacy {
            "fail" => self
                .fail
                .push(self.legacy_fail_match.take().unwrap_or(MessageMatch::Any)),
            "warn" if self.warn.is_empty() => self.warn.push(AnnotationExpect {
                matcher: MessageMatch::Any,
            }),
            "info" if self.info.is_empty() => self.info.push(AnnotationExpect {
                matcher: MessageMatch::Any,
            }),
            "ordered" => self.ordered = true,
            _ => {}
        }
        // Both a legacy and a new fail expectation: keep the specific one; two specific ones
        // cannot be expressed by a single matcher.
        let mut specific = self.fail.iter().filter(|m| !matches!(m, MessageMatch::Any));
        let expect_fail = match (specific.next(), specific.next()) {
            (Some(_), Some(_)) => {
                return Err("both expected_fail_* and expect fail give a message".into());
            }
            (Some(m), None) => Some(m.clone()),
            (None, _) => self.fail.first().cloned(),
        };

        let expected = match (self.scalar, self.string, self.range_vector) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err("a scalar result line cannot be combined with expect string or expect range vector".into());
            }
            // A scalar line wins over series lines before it, as upstream.
            (Some(v), None, None) => Expected::Scalar(v),
            (None, Some(s), rv) => {
                if rv.is_some() || !self.series.is_empty() {
                    return Err(
                        "expect string cannot be combined with other expected results".into(),
                    );
                }
                Expected::String(s)
            }
            (None, None, Some((start_ms, end_ms, step_ms))) => Expected::RangeVector {
                start_ms,
                end_ms,
                step_ms,
                series: self.series,
            },
            (None, None, None) => Expected::Series(self.series),
        };
        Ok(EvalCase {
            line,
            expr,
            kind,
            expect_fail,
            expect_warn: self.warn,
            expect_info: self.info,
            expect_no_warn: self.no_warn,
            expect_no_info: self.no_info,
            ordered: self.ordered,
            expected,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{PointValue, TestHistogram};

    fn one_eval(script: &str) -> EvalCase {
        let s = parse_script(script).unwrap();
        let mut cases: Vec<EvalCase> = s.eval_cases().cloned().collect();
        assert_eq!(cases.len(), 1, "{script}");
        cases.remove(0)
    }

    fn floats(s: &ExpectedSeries) -> Vec<Option<f64>> {
        s.points
            .iter()
            .map(|p| match p {
                None => None,
                Some(PointValue::Float(f)) => Some(*f),
                Some(PointValue::Histogram(_)) => panic!("histogram"),
            })
            .collect()
    }

    #[test]
    fn load_blocks() {
        let s = parse_script(
            "# comment\nload 1m\n  m{a=\"1\"} 5 2+3x2 _ stale {{schema:1 sum:-3 count:22 buckets:[5 10 7]}}\n  n _x3 1\n\nclear\nload_with_nhcb 30s\n  m_bucket{le=\"+Inf\"} 1\n",
        )
        .unwrap();
        assert_eq!(s.commands.len(), 3);
        let Command::Load(l) = &s.commands[0] else {
            panic!()
        };
        assert_eq!((l.line, l.interval_ms, l.with_nhcb), (2, 60_000, false));
        let m = &l.series[0];
        assert_eq!(
            m.labels,
            vec![("__name__".into(), "m".into()), ("a".into(), "1".into())]
        );
        let ts: Vec<i64> = m.points.iter().map(|p| p.0).collect();
        assert_eq!(ts, vec![0, 60_000, 120_000, 180_000, 300_000, 360_000]);
        assert_eq!(m.points[3].1, PointValue::Float(8.0));
        let PointValue::Float(st) = m.points[4].1 else {
            panic!()
        };
        assert!(crate::is_stale_nan(st));
        assert!(matches!(
            m.points[5].1,
            PointValue::Histogram(TestHistogram { schema: 1, .. })
        ));
        assert_eq!(l.series[1].points, vec![(180_000, PointValue::Float(1.0))]);
        assert!(matches!(s.commands[1], Command::Clear));
        let Command::Load(l) = &s.commands[2] else {
            panic!()
        };
        assert!(l.with_nhcb);
        assert_eq!(l.interval_ms, 30_000);
    }

    #[test]
    fn later_load_line_replaces_earlier() {
        let s = parse_script("load 1m\n  m 1\n  n 2\n  m 3 4\n").unwrap();
        let Command::Load(l) = &s.commands[0] else {
            panic!()
        };
        assert_eq!(l.series.len(), 2);
        assert_eq!(l.series[0].points.len(), 2);
    }

    #[test]
    fn start_timestamp_lines() {
        let s = parse_script("load 1m\n  m@st -30s _ 0x1\n  m 1 2 3 4\n").unwrap();
        let Command::Load(l) = &s.commands[0] else {
            panic!()
        };
        assert_eq!(
            l.series[0].start_timestamps_ms,
            vec![Some(-30_000), None, Some(120_000), Some(180_000)]
        );
        let s = parse_script("load 1m\n  m@st 1m-10sx2\n  m 1 _ 3\n").unwrap();
        let Command::Load(l) = &s.commands[0] else {
            panic!()
        };
        assert_eq!(
            l.series[0].start_timestamps_ms,
            vec![Some(60_000), Some(160_000)]
        );
        for bad in [
            "load 1m\n  m@st 0\n  n 1\n",
            "load 1m\n  m@st 0 0\n  m 1\n",
            "load 1m\n  m@st 0\n",
            "load 1m\n  m@st _x0\n  m\n",
            "load 1m\n  m@st 1m30s\n  m 1\n",
        ] {
            assert!(parse_script(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn instant_and_range_evals() {
        let c = one_eval("eval instant at 50m sum by (a) (m)\n  {a=\"1\"} 3\n  {} 4\n");
        assert_eq!(c.line, 1);
        assert_eq!(c.expr, "sum by (a) (m)");
        assert_eq!(c.kind, EvalKind::Instant { at_ms: 3_000_000 });
        let Expected::Series(s) = &c.expected else {
            panic!()
        };
        assert_eq!(s.len(), 2);
        assert!(s[1].labels.is_empty());
        assert!(c.expect_fail.is_none() && c.expect_warn.is_empty() && !c.ordered);

        let c = one_eval("eval range from 0 to 2m step 1m  rate(m[5m])\n  m 1 _ 3\n");
        assert_eq!(c.expr, "rate(m[5m])");
        assert_eq!(
            c.kind,
            EvalKind::Range {
                start_ms: 0,
                end_ms: 120_000,
                step_ms: 60_000
            }
        );
        let Expected::Series(s) = &c.expected else {
            panic!()
        };
        assert_eq!(floats(&s[0]), vec![Some(1.0), None, Some(3.0)]);

        let c = one_eval("eval instant at 1m 1 + 1\n  2\n");
        assert!(matches!(c.expected, Expected::Scalar(v) if v == 2.0));
        // Scalar lines are Go numbers: hexadecimal and octal work there.
        let c = one_eval("eval instant at 0 16\n  0x10\n");
        assert!(matches!(c.expected, Expected::Scalar(v) if v == 16.0));
        let c = one_eval("eval instant at 0 -Inf\n  -Inf\n");
        assert!(matches!(c.expected, Expected::Scalar(v) if v == f64::NEG_INFINITY));
        let c = one_eval("eval instant at 0 vector(1)\n");
        assert!(matches!(&c.expected, Expected::Series(s) if s.is_empty()));

        for bad in [
            "eval instant at 1m\n",
            "eval instant 1m foo\n",
            "eval instant at 1x foo\n",
            "eval range from 2m to 1m step 1m foo\n",
            "eval range from 0 to 1m foo\n",
            "eval_ordered range from 0 to 1m step 1m foo\n",
            "eval_bogus instant at 0 foo\n",
            "evaluate instant at 0 foo\n",
            "eval instant at 0 foo\n  m 1 2\n",
            "eval instant at 0 foo\n  m 1\n  m 2\n",
            "eval instant at 0 foo\n  m 1\n\n  m 2\n",
            "bogus\n",
        ] {
            assert!(parse_script(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn errors_carry_the_offending_line() {
        let e = parse_script("clear\n\nload 1m\n  a 1\n  b 1 x\n").unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.to_string().starts_with("line 5: "), "{e}");
        let e =
            parse_script("load 1m\n  a 1\n\neval instant at 0 a\n  expect bogus\n").unwrap_err();
        assert_eq!(e.line, 5);
        let e = parse_script("load 1q\n").unwrap_err();
        assert_eq!(e.line, 1);
        // A comment line ends a block: the next series line is not a command.
        let e = parse_script("load 1m\n  a 1\n  # note\n  b 2\n").unwrap_err();
        assert_eq!(e.line, 4);
    }

    #[test]
    fn scalar_line_ends_the_block() {
        // Upstream stops reading the block at a scalar line; what follows is a new command.
        let e = parse_script("eval instant at 0 1\n  1\n  expect no_warn\n").unwrap_err();
        assert_eq!(e.line, 3);
    }

    #[test]
    fn expect_directives() {
        let c = one_eval(
            "eval instant at 1m foo\n  expect warn msg: PromQL warning: boom (1:1)\n  expect warn regex: bang \\(1:[0-9]+\\)\n  expect no_info\n  expect ordered\n  {a=\"1\"} 1\n  {a=\"2\"} 2\n",
        );
        assert_eq!(c.expect_warn.len(), 2);
        assert!(
            matches!(&c.expect_warn[0].matcher, MessageMatch::Exact(m) if m == "PromQL warning: boom (1:1)")
        );
        assert!(c.expect_warn[1].matcher.matches("a bang (1:23)"));
        assert!(!c.expect_warn[1].matcher.matches("a bang (1:x)"));
        assert!(c.expect_no_info && !c.expect_no_warn && c.ordered);

        let c = one_eval(
            "eval instant at 1m foo\n  expect fail msg:  vector cannot contain metrics  \n",
        );
        assert!(
            matches!(&c.expect_fail, Some(MessageMatch::Exact(m)) if m == "vector cannot contain metrics")
        );
        let c = one_eval("eval instant at 1m foo\n  expect fail regex: a|b\n");
        assert!(matches!(&c.expect_fail, Some(MessageMatch::Regex(_))));
        let c =
            one_eval("eval instant at 1m foo\n  expect fail\n  expect info\n  expect no_warn\n");
        assert!(matches!(c.expect_fail, Some(MessageMatch::Any)));
        assert!(matches!(c.expect_info[0].matcher, MessageMatch::Any));
        assert!(c.expect_no_warn);

        let c = one_eval("eval instant at 50m (\"Foo\")\n  expect string \"Foo\"\n");
        assert!(matches!(&c.expected, Expected::String(s) if s == "Foo"));
        let c = one_eval("eval instant at 50m \"\"\n  expect string `a\"b`\n");
        assert!(matches!(&c.expected, Expected::String(s) if s == "a\"b"));

        let c = one_eval(
            "eval instant at 1m m[1m]\n  expect range vector from 10s to 1m step 10s\n  m{env=\"a\"} 2 3 4 5 6\n",
        );
        assert_eq!(c.kind, EvalKind::Instant { at_ms: 60_000 });
        let Expected::RangeVector {
            start_ms,
            end_ms,
            step_ms,
            series,
        } = &c.expected
        else {
            panic!()
        };
        assert_eq!((*start_ms, *end_ms, *step_ms), (10_000, 60_000, 10_000));
        assert_eq!(floats(&series[0]).len(), 5);
        // The query runs at the end of the expected range, as upstream.
        let c = one_eval("eval instant at 5m m[1m]\n  expect range vector from 0 to 1m step 30s\n");
        assert_eq!(c.kind, EvalKind::Instant { at_ms: 60_000 });

        for bad in [
            "eval instant at 0 foo\n  expect warn\n  expect no_warn\n",
            "eval instant at 0 foo\n  expect info\n  expect no_info\n",
            "eval instant at 0 foo\n  expect fail\n  expect fail\n",
            "eval instant at 0 foo\n  expect warnings\n",
            "eval instant at 0 foo\n  expect warn msg:\n",
            "eval instant at 0 foo\n  expect warn text: x\n",
            "eval instant at 0 foo\n  expect fail regex: (\n",
            "eval instant at 0 foo\n  expect string Foo\n",
            "eval instant at 0 foo\n  expect string\n",
            "eval range from 0 to 1m step 1m foo\n  expect range vector from 0 to 1m step 1m\n",
            "eval instant at 0 foo\n  expect range vector from 1m to 0 step 1m\n",
        ] {
            assert!(parse_script(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn legacy_forms() {
        let c = one_eval("eval_fail instant at 0 foo\n");
        assert!(matches!(c.expect_fail, Some(MessageMatch::Any)));
        let c = one_eval("eval_fail instant at 0 foo\n  expected_fail_message boom\n");
        assert!(matches!(&c.expect_fail, Some(MessageMatch::Exact(m)) if m == "boom"));
        let c = one_eval("eval_fail range from 0 to 1m step 1m foo\n  expected_fail_regexp bo+m\n");
        assert!(c.expect_fail.as_ref().unwrap().matches("a boooom"));
        let c = one_eval("eval_warn instant at 0 foo\n");
        assert!(matches!(c.expect_warn[0].matcher, MessageMatch::Any));
        let c = one_eval("eval_warn instant at 0 foo\n  expect warn msg: x\n");
        assert_eq!(
            c.expect_warn.len(),
            1,
            "an explicit line already demands a warning"
        );
        let c = one_eval("eval_info instant at 0 foo\n");
        assert_eq!(c.expect_info.len(), 1);
        let c = one_eval("eval_ordered instant at 0 foo\n");
        assert!(c.ordered);
        // Without eval_fail the legacy message line is just a (bad) series line.
        assert!(parse_script("eval instant at 0 foo\n  expected_fail_message boom\n").is_err());
    }
}
