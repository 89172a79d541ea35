//! Selectors: converting promql-parser's matchers into the model's, and their time modifiers.

use architect_model::{METRIC_NAME, MatchOp, Matcher};
use promql_parser::label::MatchOp as ParserOp;
use promql_parser::parser::{AtModifier, Offset, VectorSelector};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The matcher sets of a selector: one set, or several for `{a="1" or b="2"}`. The metric
/// name written before the braces becomes a `__name__` matcher.
pub fn selector_matchers(vs: &VectorSelector) -> Result<Vec<Vec<Matcher>>, String> {
    let convert = |ms: &[promql_parser::label::Matcher]| -> Result<Vec<Matcher>, String> {
        let mut out = Vec::with_capacity(ms.len() + 1);
        for m in ms {
            let op = match m.op {
                ParserOp::Equal => MatchOp::Equal,
                ParserOp::NotEqual => MatchOp::NotEqual,
                ParserOp::Re(_) => MatchOp::RegexMatch,
                ParserOp::NotRe(_) => MatchOp::RegexNoMatch,
            };
            out.push(Matcher::new(op, m.name.clone(), m.value.clone()).map_err(|e| e.to_string())?);
        }
        if let Some(name) = &vs.name
            && !out
                .iter()
                .any(|m| m.name == METRIC_NAME && m.op == MatchOp::Equal && m.value == *name)
        {
            out.push(Matcher::equal(METRIC_NAME, name.clone()));
        }
        Ok(out)
    };
    let mut sets = Vec::new();
    if !vs.matchers.matchers.is_empty() || vs.matchers.or_matchers.is_empty() {
        sets.push(convert(&vs.matchers.matchers)?);
    }
    for group in &vs.matchers.or_matchers {
        sets.push(convert(group)?);
    }
    Ok(sets)
}

/// A duration in milliseconds.
pub(crate) fn duration_ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

/// The offset in ms (negative for `offset -5m`).
pub(crate) fn offset_ms(o: &Option<Offset>) -> i64 {
    match o {
        None => 0,
        Some(Offset::Pos(d)) => duration_ms(*d),
        Some(Offset::Neg(d)) => -duration_ms(*d),
    }
}

/// Milliseconds since the epoch of a `SystemTime` (negative before 1970).
pub(crate) fn system_time_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => duration_ms(d),
        Err(e) => -duration_ms(e.duration()),
    }
}

/// The `@` time in ms, resolving `start()`/`end()` against the query.
pub(crate) fn at_ms(at: &Option<AtModifier>, query_start: i64, query_end: i64) -> Option<i64> {
    match at {
        None => None,
        Some(AtModifier::Start) => Some(query_start),
        Some(AtModifier::End) => Some(query_end),
        Some(AtModifier::At(t)) => Some(system_time_ms(*t)),
    }
}

/// Every vector selector of an expression (also those inside range selectors and subqueries),
/// as Prometheus's `ExtractSelectors` lists them for `/api/v1/query_exemplars`.
pub fn expr_selectors(expr: &promql_parser::parser::Expr) -> Vec<&VectorSelector> {
    use promql_parser::parser::Expr;
    let mut out = Vec::new();
    fn walk<'a>(e: &'a Expr, out: &mut Vec<&'a VectorSelector>) {
        match e {
            Expr::VectorSelector(vs) => out.push(vs),
            Expr::MatrixSelector(ms) => out.push(&ms.vs),
            Expr::Subquery(s) => walk(&s.expr, out),
            Expr::Aggregate(a) => {
                walk(&a.expr, out);
                if let Some(p) = &a.param {
                    walk(p, out);
                }
            }
            Expr::Unary(u) => walk(&u.expr, out),
            Expr::Binary(b) => {
                walk(&b.lhs, out);
                walk(&b.rhs, out);
            }
            Expr::Paren(p) => walk(&p.expr, out),
            Expr::Call(c) => c.args.args.iter().for_each(|a| walk(a, out)),
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
        }
    }
    walk(expr, &mut out);
    out
}
