//! Rewrites a parsed `gotmpl` tree so that it executes with Go's semantics where
//! gotmpl's defaults differ:
//!
//! * every printed action goes through a Go-compatible printer (`%v` floats,
//!   `<no value>`, maps, `time.Time`, ...);
//! * field accesses follow Go's typed rules (a missing key of a
//!   `map[string]string` is `""`, unknown struct fields are errors, zero-argument
//!   methods of `time.Time`/`time.Duration` are invoked);
//! * method calls with arguments (`(now | toTime).Format "2006"`) work;
//! * Prometheus functions are called through per-call-site wrappers that
//!   produce Go's `template: name:line:col: executing "name" at <node>: ...`
//!   error texts;
//! * references to undefined functions are rejected like Go's parser does.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use gotmpl::parse::{
    BranchNode, CommandNode, Expr, ListNode, Node, Number, PipeNode, Pos, SmolStr,
};
use gotmpl::{Value, ValueFunc};

use crate::funcs::{BUILTINS, Func};
use crate::gofmt::{
    civil, duration_string, format_float, format_time, month_name, quote, time_string, weekday_name,
};
use crate::values::{
    MapKind, duration_value, go_type_name, map_kind, print_action, print_html, time_value,
};

/// The slot the wrappers record their Go-formatted error in (gotmpl's own
/// error value cannot carry it through unchanged).
pub(crate) type ErrorSlot = Arc<Mutex<Option<String>>>;

const PRINT_ALIAS: &str = "\u{1}print";

/// Which Go program's data types the template runs against: the method sets differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// Prometheus's rule templates: maps have no methods.
    Prometheus,
    /// Alertmanager's notification templates: `template.KV`, `Pairs` and `Alerts` methods;
    /// `html` also escapes every printed value as html/template does in text context.
    Alertmanager { html: bool },
}

pub(crate) struct Rewriter<'a> {
    dialect: Dialect,
    src: &'a str,
    parse_name: &'a str,
    exec_name: String,
    funcs: &'a BTreeMap<&'static str, Func>,
    slot: ErrorSlot,
    aliases: Vec<(String, ValueFunc)>,
    /// Variables in scope (Go's parser rejects undefined ones).
    vars: Vec<SmolStr>,
}

/// Where an error happened, for Go's error text.
#[derive(Clone)]
struct Site {
    loc: String,
    exec: String,
    node: String,
    slot: ErrorSlot,
}

impl Site {
    fn error(&self, msg: &str) -> gotmpl::TemplateError {
        let full = format!(
            "template: {}: executing {} at <{}>: {}",
            self.loc,
            quote(&self.exec),
            self.node,
            msg
        );
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some(full.clone());
        }
        gotmpl::TemplateError::Exec(full)
    }
}

impl<'a> Rewriter<'a> {
    pub(crate) fn new(
        src: &'a str,
        parse_name: &'a str,
        funcs: &'a BTreeMap<&'static str, Func>,
        slot: ErrorSlot,
        dialect: Dialect,
    ) -> Self {
        let mut aliases: Vec<(String, ValueFunc)> = Vec::new();
        let html = matches!(dialect, Dialect::Alertmanager { html: true });
        let print: ValueFunc = Arc::new(move |args: &[Value]| {
            let v = args.last().unwrap_or(&Value::Nil);
            Ok(Value::String(Arc::from(if html {
                print_html(v)
            } else {
                print_action(v)
            })))
        });
        aliases.push((PRINT_ALIAS.to_owned(), print));
        Rewriter {
            dialect,
            src,
            parse_name,
            exec_name: parse_name.to_owned(),
            funcs,
            slot,
            aliases,
            vars: Vec::new(),
        }
    }

    /// Switches to another source text (for error positions) of the same template set.
    pub(crate) fn set_source(&mut self, src: &'a str, parse_name: &'a str) {
        self.src = src;
        self.parse_name = parse_name;
    }

    /// The functions the rewritten trees call, to register on the template.
    pub(crate) fn into_aliases(self) -> Vec<(String, ValueFunc)> {
        self.aliases
    }

    /// Rewrites the tree of the template named `exec_name`.
    pub(crate) fn rewrite_tree(
        &mut self,
        exec_name: &str,
        tree: &ListNode,
    ) -> Result<ListNode, String> {
        self.exec_name = exec_name.to_owned();
        self.vars = vec![SmolStr::from("$")];
        self.list(tree)
    }

    fn location(&self, pos: Pos) -> String {
        let end = pos.offset.min(self.src.len());
        let before = self.src.get(..end).unwrap_or("");
        let line = 1 + before.matches('\n').count();
        let col = match before.rfind('\n') {
            Some(nl) => end - (nl + 1),
            None => end,
        };
        format!("{}:{line}:{col}", self.parse_name)
    }

    fn site(&self, pos: Pos, node: String) -> Site {
        Site {
            loc: self.location(pos),
            exec: self.exec_name.clone(),
            node,
            slot: Arc::clone(&self.slot),
        }
    }

    fn register(&mut self, f: ValueFunc) -> SmolStr {
        let name = format!("\u{1}{}", self.aliases.len());
        self.aliases.push((name.clone(), f));
        SmolStr::from(name)
    }

    fn list(&mut self, list: &ListNode) -> Result<ListNode, String> {
        let nodes = list
            .nodes
            .iter()
            .map(|n| self.node(n))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ListNode {
            pos: list.pos,
            nodes,
        })
    }

    fn node(&mut self, node: &Node) -> Result<Node, String> {
        Ok(match node {
            Node::List(l) => Node::List(self.list(l)?),
            Node::Action(a) => {
                let mut action = a.clone();
                self.declare(&a.pipe)?;
                action.pipe = self.pipe(&a.pipe)?;
                if action.pipe.decl.is_empty() {
                    action.pipe.commands.push(CommandNode {
                        pos: a.pos,
                        args: vec![Expr::Identifier(a.pos, SmolStr::from(PRINT_ALIAS))],
                    });
                }
                Node::Action(action)
            }
            Node::If(b) => Node::If(self.branch(b)?),
            Node::Range(b) => Node::Range(self.branch(b)?),
            Node::With(b) => Node::With(self.branch(b)?),
            Node::Template(t) => {
                let mut t = t.clone();
                if let Some(p) = &t.pipe {
                    t.pipe = Some(self.pipe(p)?);
                }
                Node::Template(t)
            }
            Node::Define(d) => {
                let mut d = d.clone();
                d.body = self.list(&d.body)?;
                Node::Define(d)
            }
            other => other.clone(),
        })
    }

    fn branch(&mut self, b: &BranchNode) -> Result<BranchNode, String> {
        let scope = self.vars.len();
        self.declare(&b.pipe)?;
        let branch = BranchNode {
            pos: b.pos,
            pipe: self.pipe(&b.pipe)?,
            body: self.list(&b.body)?,
            else_body: b.else_body.as_ref().map(|e| self.list(e)).transpose()?,
        };
        self.vars.truncate(scope);
        Ok(branch)
    }

    /// Declares a pipeline's variables (`:=`) or checks them (`=`).
    fn declare(&mut self, pipe: &PipeNode) -> Result<(), String> {
        for name in &pipe.decl {
            if pipe.is_assign {
                self.use_var(pipe.pos, name)?;
            } else {
                self.vars.push(name.clone());
            }
        }
        Ok(())
    }

    fn use_var(&self, pos: Pos, name: &str) -> Result<(), String> {
        if self.vars.iter().any(|v| v == name) {
            return Ok(());
        }
        Err(format!(
            "template: {}:{}: undefined variable {}",
            self.parse_name,
            self.line(pos),
            quote(name)
        ))
    }

    fn line(&self, pos: Pos) -> usize {
        1 + self
            .src
            .get(..pos.offset)
            .unwrap_or("")
            .matches('\n')
            .count()
    }

    fn pipe(&mut self, pipe: &PipeNode) -> Result<PipeNode, String> {
        let commands = pipe
            .commands
            .iter()
            .enumerate()
            .map(|(i, c)| self.command(c, i == 0))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PipeNode {
            pos: pipe.pos,
            decl: pipe.decl.clone(),
            commands,
            is_assign: pipe.is_assign,
        })
    }

    fn command(&mut self, cmd: &CommandNode, first: bool) -> Result<CommandNode, String> {
        let Some(head) = cmd.args.first() else {
            return Ok(cmd.clone());
        };
        let mut tail = Vec::with_capacity(cmd.args.len());
        for a in &cmd.args[1..] {
            tail.push(self.arg(a)?);
        }
        let has_args = cmd.args.len() > 1 || !first;
        let head = match head {
            Expr::Identifier(pos, name) => {
                let node = command_string(cmd);
                self.function(*pos, name, node)?
            }
            Expr::Chain(pos, inner, fields) if matches!(**inner, Expr::Identifier(..)) => {
                if has_args {
                    // `fn.Field args`: leave gotmpl's native handling.
                    let Expr::Identifier(ipos, name) = &**inner else {
                        return Ok(cmd.clone());
                    };
                    let f = self.function(*ipos, name, name.to_string())?;
                    Expr::Chain(*pos, Box::new(f), fields.clone())
                } else {
                    self.arg(head)?
                }
            }
            Expr::Field(..) | Expr::Variable(..) | Expr::Chain(..) if has_args => {
                let Some((receiver, fields)) = self.receiver(head)? else {
                    return Ok(CommandNode {
                        pos: cmd.pos,
                        args: std::iter::once(head.clone()).chain(tail).collect(),
                    });
                };
                let node = expr_string(head);
                let site = self.site(head.pos(), node);
                let (method, prefix) = fields
                    .split_last()
                    .map_or(("", &[][..]), |(m, p)| (m.as_str(), p));
                let prefix: Vec<String> = prefix.iter().map(ToString::to_string).collect();
                let method = method.to_owned();
                let dialect = self.dialect;
                let alias = self.register(Arc::new(move |args: &[Value]| {
                    let Some((recv, margs)) = args.split_first() else {
                        return Err(site.error("missing receiver"));
                    };
                    let mut v = recv.clone();
                    for f in &prefix {
                        v = field_step(&v, f, dialect).map_err(|e| site.error(&e))?;
                    }
                    call_method(&v, &method, margs, dialect).map_err(|e| site.error(&e))
                }));
                let mut args = vec![Expr::Identifier(head.pos(), alias), receiver];
                args.extend(tail);
                return Ok(CommandNode { pos: cmd.pos, args });
            }
            other => self.arg(other)?,
        };
        let mut args = vec![head];
        args.extend(tail);
        Ok(CommandNode { pos: cmd.pos, args })
    }

    /// Splits a field-access expression into (receiver expression, field names).
    fn receiver(&mut self, e: &Expr) -> Result<Option<(Expr, Vec<SmolStr>)>, String> {
        if let Expr::Variable(pos, name, _) = e {
            self.use_var(*pos, name)?;
        }
        Ok(match e {
            Expr::Field(pos, fields) => Some((Expr::Dot(*pos), fields.clone())),
            Expr::Variable(pos, name, fields) if !fields.is_empty() => Some((
                Expr::Variable(*pos, name.clone(), Vec::new()),
                fields.clone(),
            )),
            Expr::Chain(_, inner, fields) => Some((self.arg(inner)?, fields.clone())),
            _ => None,
        })
    }

    /// A function identifier: Prometheus functions get a per-site wrapper,
    /// builtins stay, anything else is Go's parse error.
    fn function(&mut self, pos: Pos, name: &SmolStr, node: String) -> Result<Expr, String> {
        if let Some(f) = self.funcs.get(name.as_str()) {
            let site = self.site(pos, node);
            let f = f.clone();
            let fname = name.to_string();
            let alias = self.register(Arc::new(move |args: &[Value]| {
                if let Some(want) = f.arity
                    && args.len() != want
                {
                    return Err(site.error(&format!(
                        "wrong number of args for {fname}: want {want} got {}",
                        args.len()
                    )));
                }
                (f.body)(args).map_err(|e| {
                    if e.starts_with("wrong type for value") {
                        site.error(&e)
                    } else {
                        site.error(&format!("error calling {fname}: {e}"))
                    }
                })
            }));
            return Ok(Expr::Identifier(pos, alias));
        }
        if BUILTINS.contains(&name.as_str()) {
            return Ok(Expr::Identifier(pos, name.clone()));
        }
        let line = 1 + self
            .src
            .get(..pos.offset)
            .unwrap_or("")
            .matches('\n')
            .count();
        Err(format!(
            "template: {}:{line}: function {} not defined",
            self.parse_name,
            quote(name)
        ))
    }

    fn arg(&mut self, e: &Expr) -> Result<Expr, String> {
        if let Expr::Variable(pos, name, _) = e {
            self.use_var(*pos, name)?;
        }
        Ok(match e {
            Expr::Identifier(pos, name) => self.function(*pos, name, name.to_string())?,
            Expr::Pipe(pos, p) => Expr::Pipe(*pos, self.pipe(p)?),
            Expr::Field(..) | Expr::Variable(..) | Expr::Chain(..) => {
                let Some((receiver, fields)) = self.receiver(e)? else {
                    return Ok(e.clone());
                };
                let pos = e.pos();
                let site = self.site(pos, expr_string(e));
                let fields: Vec<String> = fields.iter().map(ToString::to_string).collect();
                let dialect = self.dialect;
                let alias = self.register(Arc::new(move |args: &[Value]| {
                    let mut v = args.first().cloned().unwrap_or(Value::Nil);
                    for f in &fields {
                        v = field_step(&v, f, dialect).map_err(|e| site.error(&e))?;
                    }
                    Ok(v)
                }));
                Expr::Pipe(
                    pos,
                    PipeNode {
                        pos,
                        decl: Vec::new(),
                        commands: vec![CommandNode {
                            pos,
                            args: vec![Expr::Identifier(pos, alias), receiver],
                        }],
                        is_assign: false,
                    },
                )
            }
            other => other.clone(),
        })
    }
}

/// One step of Go's field evaluation (`evalField`) on our value model.
fn field_step(v: &Value, name: &str, dialect: Dialect) -> Result<Value, String> {
    if matches!(dialect, Dialect::Alertmanager { .. })
        && let Some(result) = crate::notify::method(v, name, &[])
    {
        return result;
    }
    match v {
        Value::Nil => Ok(Value::Nil),
        Value::Map(m) => match map_kind(m) {
            MapKind::Time(_) | MapKind::Duration(_) => call_method(v, name, &[], dialect),
            MapKind::Struct(type_name, _) => m
                .get(name)
                .cloned()
                .ok_or_else(|| format!("can't evaluate field {name} in type {type_name}")),
            MapKind::Labels => Ok(m
                .get(name)
                .cloned()
                .unwrap_or_else(|| Value::String(Arc::from("")))),
            MapKind::Any => Ok(m.get(name).cloned().unwrap_or(Value::Nil)),
            MapKind::Html => Err(format!("can't evaluate field {name} in type template.HTML")),
            MapKind::AlertData | MapKind::Sample => m
                .get(name)
                .cloned()
                .ok_or_else(|| format!("can't evaluate field {name} in type {}", go_type_name(v))),
        },
        other => Err(format!(
            "can't evaluate field {name} in type {}",
            go_type_name(other)
        )),
    }
}

fn want_args(name: &str, args: &[Value], want: usize) -> Result<(), String> {
    if args.len() == want {
        Ok(())
    } else {
        Err(format!(
            "wrong number of args for {name}: want {want} got {}",
            args.len()
        ))
    }
}

fn duration_arg(v: &Value) -> Result<i64, String> {
    match v {
        Value::Map(m) => match map_kind(m) {
            MapKind::Duration(ns) => Ok(ns),
            _ => Err(format!(
                "wrong type for value; expected time.Duration; got {}",
                go_type_name(v)
            )),
        },
        Value::Int(i) => Ok(*i),
        other => Err(format!(
            "wrong type for value; expected time.Duration; got {}",
            go_type_name(other)
        )),
    }
}

fn time_arg(v: &Value) -> Result<i64, String> {
    match v {
        Value::Map(m) => match map_kind(m) {
            MapKind::Time(ns) => Ok(ns),
            _ => Err(format!(
                "wrong type for value; expected time.Time; got {}",
                go_type_name(v)
            )),
        },
        other => Err(format!(
            "wrong type for value; expected time.Time; got {}",
            go_type_name(other)
        )),
    }
}

/// Methods of `time.Time` / `time.Duration` (and Alertmanager's types in that dialect); a
/// "method" on anything else is a field access (with arguments: Go's error).
fn call_method(
    recv: &Value,
    name: &str,
    args: &[Value],
    dialect: Dialect,
) -> Result<Value, String> {
    if matches!(dialect, Dialect::Alertmanager { .. })
        && let Some(result) = crate::notify::method(recv, name, args)
    {
        return result;
    }
    let kind = match recv {
        Value::Map(m) => map_kind(m),
        _ => MapKind::Any,
    };
    let int = |v: i64| Ok(Value::Int(v));
    match kind {
        MapKind::Time(ns) => {
            let nargs = match name {
                "Format" | "Add" | "Sub" | "Before" | "After" | "Equal" | "Round" | "Truncate" => 1,
                _ => 0,
            };
            if !is_time_method(name) {
                return Err(format!("can't evaluate field {name} in type *time.Time"));
            }
            want_args(name, args, nargs)?;
            let t = civil(ns);
            match name {
                "Format" => match &args[0] {
                    Value::String(layout) => Ok(Value::String(Arc::from(format_time(ns, layout)))),
                    other => Err(format!(
                        "wrong type for value; expected string; got {}",
                        go_type_name(other)
                    )),
                },
                "String" => Ok(Value::String(Arc::from(time_string(ns)))),
                "Add" => Ok(time_value(ns.saturating_add(duration_arg(&args[0])?))),
                "Sub" => Ok(duration_value(ns.saturating_sub(time_arg(&args[0])?))),
                "Before" => Ok(Value::Bool(ns < time_arg(&args[0])?)),
                "After" => Ok(Value::Bool(ns > time_arg(&args[0])?)),
                "Equal" => Ok(Value::Bool(ns == time_arg(&args[0])?)),
                "Round" | "Truncate" => {
                    let d = duration_arg(&args[0])?;
                    if d <= 0 {
                        return Ok(recv.clone());
                    }
                    let r = ns.rem_euclid(d);
                    let down = ns - r;
                    Ok(time_value(if name == "Round" && r.saturating_add(r) >= d {
                        down.saturating_add(d)
                    } else {
                        down
                    }))
                }
                "Unix" => int(ns.div_euclid(1_000_000_000)),
                "UnixMilli" => int(ns.div_euclid(1_000_000)),
                "UnixMicro" => int(ns.div_euclid(1_000)),
                "UnixNano" => int(ns),
                "Year" => int(i64::from(t.year)),
                "Month" => Ok(Value::String(Arc::from(month_name(t.month)))),
                "Day" => int(i64::from(t.day)),
                "Hour" => int(i64::from(t.hour)),
                "Minute" => int(i64::from(t.minute)),
                "Second" => int(i64::from(t.second)),
                "Nanosecond" => int(i64::from(t.nanos)),
                "YearDay" => int(i64::from(t.yday)),
                "Weekday" => Ok(Value::String(Arc::from(weekday_name(t.weekday)))),
                "UTC" | "Local" => Ok(recv.clone()),
                "IsZero" => Ok(Value::Bool(ns == crate::gofmt::GO_ZERO_TIME)),
                _ => Err(format!("can't evaluate field {name} in type *time.Time")),
            }
        }
        MapKind::Duration(ns) => {
            let nargs = usize::from(matches!(name, "Round" | "Truncate"));
            let known = matches!(
                name,
                "String"
                    | "Seconds"
                    | "Minutes"
                    | "Hours"
                    | "Milliseconds"
                    | "Microseconds"
                    | "Nanoseconds"
                    | "Abs"
                    | "Round"
                    | "Truncate"
            );
            if !known {
                return Err(format!(
                    "can't evaluate field {name} in type *time.Duration"
                ));
            }
            want_args(name, args, nargs)?;
            match name {
                "String" => Ok(Value::String(Arc::from(duration_string(ns)))),
                "Seconds" => Ok(Value::Float(ns as f64 / 1e9)),
                "Minutes" => Ok(Value::Float(ns as f64 / 6e10)),
                "Hours" => Ok(Value::Float(ns as f64 / 3.6e12)),
                "Milliseconds" => int(ns / 1_000_000),
                "Microseconds" => int(ns / 1_000),
                "Nanoseconds" => int(ns),
                "Abs" => Ok(duration_value(ns.checked_abs().unwrap_or(i64::MAX))),
                _ => {
                    let m = duration_arg(&args[0])?;
                    if m <= 0 {
                        return Ok(recv.clone());
                    }
                    let r = ns % m;
                    let down = ns - r;
                    if name == "Truncate" {
                        return Ok(duration_value(down));
                    }
                    // Round half away from zero.
                    let v = if ns < 0 {
                        if -r + -r < m {
                            down
                        } else {
                            down.saturating_sub(m)
                        }
                    } else if r + r < m {
                        down
                    } else {
                        down.saturating_add(m)
                    };
                    Ok(duration_value(v))
                }
            }
        }
        MapKind::Labels | MapKind::Any if !args.is_empty() => {
            Err(format!("{name} is not a method but has arguments"))
        }
        MapKind::AlertData | MapKind::Sample | MapKind::Struct(..) if !args.is_empty() => Err(
            format!("{name} has arguments but cannot be invoked as function"),
        ),
        _ if !args.is_empty() => Err(format!(
            "can't evaluate field {name} in type {}",
            go_type_name(recv)
        )),
        _ => field_step(recv, name, dialect),
    }
}

fn is_time_method(name: &str) -> bool {
    matches!(
        name,
        "Format"
            | "String"
            | "Add"
            | "Sub"
            | "Before"
            | "After"
            | "Equal"
            | "Round"
            | "Truncate"
            | "Unix"
            | "UnixMilli"
            | "UnixMicro"
            | "UnixNano"
            | "Year"
            | "Month"
            | "Day"
            | "Hour"
            | "Minute"
            | "Second"
            | "Nanosecond"
            | "YearDay"
            | "Weekday"
            | "UTC"
            | "Local"
            | "IsZero"
    )
}

/// Go's `parse.Node.String()` for error contexts.
fn expr_string(e: &Expr) -> String {
    match e {
        Expr::Dot(_) => ".".into(),
        Expr::Field(_, fields) => fields.iter().map(|f| format!(".{f}")).collect(),
        Expr::Variable(_, name, fields) => {
            let mut s = name.to_string();
            for f in fields {
                s.push('.');
                s.push_str(f);
            }
            s
        }
        Expr::Identifier(_, name) => name.to_string(),
        Expr::String(_, s) => quote(s),
        Expr::Number(_, n) => match n {
            Number::Int(i) => i.to_string(),
            Number::Uint(u) => u.to_string(),
            Number::Float(f) => format_float(*f),
        },
        Expr::Bool(_, b) => b.to_string(),
        Expr::Nil(_) => "nil".into(),
        Expr::Pipe(_, p) => format!("({})", pipe_string(p)),
        Expr::Chain(_, inner, fields) => {
            let mut s = match &**inner {
                Expr::Pipe(..) => expr_string(inner),
                other => expr_string(other),
            };
            for f in fields {
                s.push('.');
                s.push_str(f);
            }
            s
        }
    }
}

fn command_string(c: &CommandNode) -> String {
    c.args.iter().map(expr_string).collect::<Vec<_>>().join(" ")
}

fn pipe_string(p: &PipeNode) -> String {
    let mut s = String::new();
    if !p.decl.is_empty() {
        s.push_str(&p.decl.join(", "));
        s.push_str(if p.is_assign { " = " } else { " := " });
    }
    s.push_str(
        &p.commands
            .iter()
            .map(command_string)
            .collect::<Vec<_>>()
            .join(" | "),
    );
    s
}
