//! The native-histogram trim operators `</` and `>/` (Prometheus 3.x, experimental), which
//! promql-parser does not lex. They share the comparison operators' precedence, so the query is
//! parsed with `</` written as `< ` (and `>/` as `> `, same length, so positions hold) and the
//! rewritten operators are remembered by their order among the `<`/`>` operators of the tree.

use promql_parser::parser::Expr;
use std::collections::HashMap;

/// A parsed query with the trim operators it contains.
#[derive(Clone, Debug)]
pub struct ParsedQuery {
    /// The expression (trim operators appear as `<`/`>` nodes).
    pub expr: Expr,
    /// For each `<`/`>` binary node in source order: `Some(true)` for `</`, `Some(false)` for
    /// `>/`, `None` for a real comparison.
    trims: Vec<Option<bool>>,
}

impl ParsedQuery {
    /// Parses `text`, accepting the trim operators.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (rewritten, trims) = rewrite(text);
        let expr = promql_parser::parser::parse(&rewritten)?;
        Ok(Self { expr, trims })
    }

    /// Trim operators by node address: `true` for `</`, `false` for `>/`.
    pub(crate) fn trim_nodes(&self) -> HashMap<usize, bool> {
        let mut nodes = Vec::new();
        comparison_nodes(&self.expr, &mut nodes);
        nodes
            .into_iter()
            .zip(&self.trims)
            .filter_map(|(ptr, t)| t.map(|upper| (ptr, upper)))
            .collect()
    }
}

/// The query with trim operators replaced, and the kind of every `<`/`>` operator in order.
fn rewrite(text: &str) -> (String, Vec<Option<bool>>) {
    let mut out = String::with_capacity(text.len());
    let mut ops = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut quote: Option<char> = None;
    while let Some((_, c)) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' && q != '`' {
                if let Some((_, n)) = chars.next() {
                    out.push(n);
                }
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => {
                quote = Some(c);
                out.push(c);
            }
            '#' => {
                // A comment runs to the end of the line.
                out.push(c);
                for (_, n) in chars.by_ref() {
                    out.push(n);
                    if n == '\n' {
                        break;
                    }
                }
            }
            '<' | '>' => {
                out.push(c);
                match chars.peek().map(|(_, n)| *n) {
                    Some('=') => {
                        out.push('=');
                        chars.next();
                    }
                    Some('/') => {
                        out.push(' ');
                        chars.next();
                        ops.push(Some(c == '<'));
                    }
                    _ => ops.push(None),
                }
            }
            _ => out.push(c),
        }
    }
    (out, ops)
}

/// Addresses of the `<`/`>` binary nodes in source order.
fn comparison_nodes(e: &Expr, out: &mut Vec<usize>) {
    match e {
        Expr::Binary(b) => {
            comparison_nodes(&b.lhs, out);
            let op = b.op.to_string();
            if op == "<" || op == ">" {
                out.push(b as *const _ as usize);
            }
            comparison_nodes(&b.rhs, out);
        }
        Expr::Aggregate(a) => {
            if let Some(p) = &a.param {
                comparison_nodes(p, out);
            }
            comparison_nodes(&a.expr, out);
        }
        Expr::Call(c) => c.args.args.iter().for_each(|a| comparison_nodes(a, out)),
        Expr::Paren(p) => comparison_nodes(&p.expr, out),
        Expr::Unary(u) => comparison_nodes(&u.expr, out),
        Expr::Subquery(s) => comparison_nodes(&s.expr, out),
        Expr::MatrixSelector(_)
        | Expr::VectorSelector(_)
        | Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::Extension(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_are_found_and_comparisons_kept() -> Result<(), String> {
        let q = ParsedQuery::parse(r#"(a </ 5) > 1 or b >/ on(x) c <= 2 or d{l="</"} < 3"#)?;
        assert_eq!(q.trims, vec![Some(true), None, Some(false), None]);
        assert_eq!(q.trim_nodes().len(), 2);
        Ok(())
    }
}
