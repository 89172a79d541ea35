//! Alertmanager label matchers (`name="value"`, `name=~"re"`, ...) and their text syntax, as
//! parsed by Alertmanager 0.25's classic parser (`pkg/labels/parse.go`).
//!
//! A missing label matches as the empty string. Regular expressions are anchored
//! (`^(?:...)$`) like Alertmanager's.

use std::cmp::Ordering;
use std::fmt;
use std::sync::LazyLock;

use architect_model::Labels;
use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The comparison a [`Matcher`] makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchType {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regexp,
    /// `!~`
    NotRegexp,
}

impl MatchType {
    /// The operator as written in the matcher syntax.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::Regexp => "=~",
            MatchType::NotRegexp => "!~",
        }
    }

    /// True for `=~` and `!~`.
    pub fn is_regex(self) -> bool {
        matches!(self, MatchType::Regexp | MatchType::NotRegexp)
    }

    /// True for `=` and `=~`.
    pub fn is_equal(self) -> bool {
        matches!(self, MatchType::Equal | MatchType::Regexp)
    }

    /// The type from the API's `isRegex`/`isEqual` flags.
    pub fn from_flags(is_regex: bool, is_equal: bool) -> MatchType {
        match (is_regex, is_equal) {
            (false, true) => MatchType::Equal,
            (false, false) => MatchType::NotEqual,
            (true, true) => MatchType::Regexp,
            (true, false) => MatchType::NotRegexp,
        }
    }
}

impl fmt::Display for MatchType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors from building or parsing matchers. The messages are Alertmanager's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatcherError {
    /// The text is not `name op value`.
    #[error("bad matcher format: {0}")]
    BadFormat(String),
    /// The value has a double quote that is neither escaped nor the closing quote.
    #[error("matcher value contains unescaped double quote: {0}")]
    UnescapedQuote(String),
    /// The regular expression does not compile.
    #[error("error parsing regexp: {0}")]
    Regex(String),
}

/// One label matcher.
#[derive(Clone, Debug)]
pub struct Matcher {
    /// The comparison.
    pub kind: MatchType,
    /// The label name.
    pub name: String,
    /// The value (for regex matchers, the unanchored pattern).
    pub value: String,
    /// The anchored regex, for `=~` and `!~`.
    re: Option<Regex>,
}

impl Matcher {
    /// Builds a matcher, compiling `value` as an anchored regex for `=~`/`!~`.
    pub fn new(
        kind: MatchType,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Matcher, MatcherError> {
        let value = value.into();
        let re = if kind.is_regex() {
            Some(compile_anchored(&value)?)
        } else {
            None
        };
        Ok(Matcher {
            kind,
            name: name.into(),
            value,
            re,
        })
    }

    /// Whether `value` (the label's value, "" when absent) satisfies the matcher.
    pub fn matches(&self, value: &str) -> bool {
        match (self.kind, &self.re) {
            (MatchType::Equal, _) => value == self.value,
            (MatchType::NotEqual, _) => value != self.value,
            (MatchType::Regexp, Some(re)) => re.is_match(value),
            (MatchType::NotRegexp, Some(re)) => !re.is_match(value),
            // Not reachable through the constructors; fall back to comparing as text.
            (MatchType::Regexp, None) => value == self.value,
            (MatchType::NotRegexp, None) => value != self.value,
        }
    }

    /// Whether the label set satisfies the matcher (a missing label is the empty string).
    pub fn matches_labels(&self, labels: &Labels) -> bool {
        self.matches(labels.get(&self.name).unwrap_or(""))
    }
}

/// Compiles `^(?:pattern)$`.
pub(crate) fn compile_anchored(pattern: &str) -> Result<Regex, MatcherError> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| MatcherError::Regex(e.to_string()))
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.name == other.name && self.value == other.value
    }
}

impl Eq for Matcher {}

impl PartialOrd for Matcher {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Alertmanager's sort order: by name, then value, then type.
impl Ord for Matcher {
    fn cmp(&self, other: &Self) -> Ordering {
        self.name
            .cmp(&other.name)
            .then_with(|| self.value.cmp(&other.value))
            .then_with(|| self.kind.cmp(&other.kind))
    }
}

impl std::hash::Hash for Matcher {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
        self.name.hash(state);
        self.value.hash(state);
    }
}

/// `name="value"` with OpenMetrics escaping of `\`, newline and `"`, as Alertmanager prints.
impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}\"", self.name, self.kind)?;
        for c in self.value.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '"' => f.write_str("\\\"")?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

/// The API shape of a matcher: `{"name","value","isRegex","isEqual"}`.
#[derive(Serialize, Deserialize)]
struct ApiMatcher {
    name: String,
    value: String,
    #[serde(rename = "isRegex", default)]
    is_regex: bool,
    #[serde(rename = "isEqual", default = "default_true")]
    is_equal: bool,
}

fn default_true() -> bool {
    true
}

impl Serialize for Matcher {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ApiMatcher {
            name: self.name.clone(),
            value: self.value.clone(),
            is_regex: self.kind.is_regex(),
            is_equal: self.kind.is_equal(),
        }
        .serialize(serializer)
    }
}

/// Deserializes the API shape; `isEqual` defaults to true and `isRegex` to false.
impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let m = ApiMatcher::deserialize(deserializer)?;
        Matcher::new(
            MatchType::from_flags(m.is_regex, m.is_equal),
            m.name,
            m.value,
        )
        .map_err(serde::de::Error::custom)
    }
}

/// Prints matchers as Alertmanager's `Matchers.String()`: `{a="b",c=~"d"}`.
pub fn format_matchers(matchers: &[Matcher]) -> String {
    let mut out = String::from("{");
    for (i, m) in matchers.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&m.to_string());
    }
    out.push('}');
    out
}

/// Whether every matcher matches `labels` (a missing label is the empty string).
pub fn matches_all(matchers: &[Matcher], labels: &Labels) -> bool {
    matchers.iter().all(|m| m.matches_labels(labels))
}

/// `name op value`, with Go RE2's `\s` (`[\t\n\f\r ]`).
static MATCHER_RE: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(
        r"^[\t\n\x0C\r ]*([a-zA-Z_:][a-zA-Z0-9_:]*)[\t\n\x0C\r ]*(=~|=|!=|!~)[\t\n\x0C\r ]*((?s:.*?))[\t\n\x0C\r ]*$",
    )
    .expect("static matcher regex compiles")
});

/// Parses a comma-separated list of matchers, optionally enclosed in `{...}`, e.g.
/// `{foo="bar", baz=~"qu.*"}` or `foo=bar,baz!=qux`. Commas inside double quotes do not
/// separate; a trailing comma is allowed.
pub fn parse_matchers(s: &str) -> Result<Vec<Matcher>, MatcherError> {
    let s = s.strip_prefix('{').unwrap_or(s);
    let s = s.strip_suffix('}').unwrap_or(s);

    let mut tokens: Vec<String> = Vec::new();
    let mut token = String::new();
    let mut inside_quotes = false;
    let mut escaped = false;
    for c in s.chars() {
        match c {
            ',' if !inside_quotes => {
                tokens.push(std::mem::take(&mut token));
                continue;
            }
            ',' => {}
            '"' => {
                if escaped {
                    escaped = false;
                } else {
                    inside_quotes = !inside_quotes;
                }
            }
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
        token.push(c);
    }
    let last = token.trim();
    if !last.is_empty() {
        tokens.push(last.to_string());
    }
    tokens.iter().map(|t| parse_matcher(t)).collect()
}

/// Parses one matcher: a label name, one of `=`, `!=`, `=~`, `!~`, and a value that may be
/// double-quoted. Inside the value `\"`, `\n` and `\\` are escapes; any other backslash is
/// literal.
pub fn parse_matcher(s: &str) -> Result<Matcher, MatcherError> {
    let caps = MATCHER_RE
        .captures(s)
        .ok_or_else(|| MatcherError::BadFormat(s.to_string()))?;
    let (name, op, raw) = match (caps.get(1), caps.get(2), caps.get(3)) {
        (Some(n), Some(o), Some(v)) => (n.as_str(), o.as_str(), v.as_str()),
        _ => return Err(MatcherError::BadFormat(s.to_string())),
    };
    let kind = match op {
        "=" => MatchType::Equal,
        "!=" => MatchType::NotEqual,
        "=~" => MatchType::Regexp,
        _ => MatchType::NotRegexp,
    };

    let (body, mut expect_trailing_quote) = match raw.strip_prefix('"') {
        Some(rest) => (rest, true),
        None => (raw, false),
    };
    let mut value = String::with_capacity(body.len());
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        let is_last = i + c.len_utf8() == body.len();
        if escaped {
            escaped = false;
            match c {
                'n' => value.push('\n'),
                '"' | '\\' => value.push(c),
                _ => {
                    value.push('\\');
                    value.push(c);
                }
            }
            continue;
        }
        match c {
            '\\' => {
                if is_last {
                    value.push('\\');
                } else {
                    escaped = true;
                }
            }
            '"' => {
                if !expect_trailing_quote || !is_last {
                    return Err(MatcherError::UnescapedQuote(raw.to_string()));
                }
                expect_trailing_quote = false;
            }
            c => value.push(c),
        }
    }
    if expect_trailing_quote {
        return Err(MatcherError::UnescapedQuote(raw.to_string()));
    }
    Matcher::new(kind, name, value)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn m(kind: MatchType, n: &str, v: &str) -> Matcher {
        Matcher::new(kind, n, v).unwrap()
    }

    use MatchType::*;

    #[test]
    fn parse_cases_from_alertmanager() {
        let ok: Vec<(&str, Vec<Matcher>)> = vec![
            (r#"{foo="bar"}"#, vec![m(Equal, "foo", "bar")]),
            (r#"{foo=~"bar.*"}"#, vec![m(Regexp, "foo", "bar.*")]),
            (r#"{foo!="bar"}"#, vec![m(NotEqual, "foo", "bar")]),
            (r#"{foo!~"bar.*"}"#, vec![m(NotRegexp, "foo", "bar.*")]),
            (
                r#"{foo="bar", baz!="quux"}"#,
                vec![m(Equal, "foo", "bar"), m(NotEqual, "baz", "quux")],
            ),
            (
                r#"{foo="bar", baz!~"quux.*"}"#,
                vec![m(Equal, "foo", "bar"), m(NotRegexp, "baz", "quux.*")],
            ),
            (
                r#"{foo="bar",baz!~".*quux", derp="wat"}"#,
                vec![
                    m(Equal, "foo", "bar"),
                    m(NotRegexp, "baz", ".*quux"),
                    m(Equal, "derp", "wat"),
                ],
            ),
            (
                r#"{foo="bar", instance=~"some-api.*"}"#,
                vec![m(Equal, "foo", "bar"), m(Regexp, "instance", "some-api.*")],
            ),
            (r#"{foo=""}"#, vec![m(Equal, "foo", "")]),
            (
                r#"{foo="bar,quux", job="job1"}"#,
                vec![m(Equal, "foo", "bar,quux"), m(Equal, "job", "job1")],
            ),
            (
                r#"{foo = "bar", dings != "bums", }"#,
                vec![m(Equal, "foo", "bar"), m(NotEqual, "dings", "bums")],
            ),
            (
                "foo=bar,dings!=bums",
                vec![m(Equal, "foo", "bar"), m(NotEqual, "dings", "bums")],
            ),
            (
                r#"{quote="She said: \"Hi, ladies! That's gender-neutral…\""}"#,
                vec![m(
                    Equal,
                    "quote",
                    r#"She said: "Hi, ladies! That's gender-neutral…""#,
                )],
            ),
            (r#"statuscode=~"5..""#, vec![m(Regexp, "statuscode", "5..")]),
            ("tricky=~~~", vec![m(Regexp, "tricky", "~~")]),
            (
                r#"trickier==\\=\=\""#,
                vec![m(Equal, "trickier", r#"=\=\=""#)],
            ),
            (
                r#"contains_quote != "\"" , contains_comma !~ "foo,bar" , "#,
                vec![
                    m(NotEqual, "contains_quote", "\""),
                    m(NotRegexp, "contains_comma", "foo,bar"),
                ],
            ),
            ("job=", vec![m(Equal, "job", "")]),
        ];
        for (input, want) in ok {
            let got = parse_matchers(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got, want, "{input}");
        }

        let bad = [
            (
                r#"job="value"#,
                r#"matcher value contains unescaped double quote: "value"#,
            ),
            (
                r#"job=value""#,
                r#"matcher value contains unescaped double quote: value""#,
            ),
            (
                r#"trickier==\\=\=\"""#,
                r#"matcher value contains unescaped double quote: =\\=\=\"""#,
            ),
            (
                r#"contains_unescaped_quote = foo"bar"#,
                r#"matcher value contains unescaped double quote: foo"bar"#,
            ),
            (
                r#"{invalid-name = "valid label"}"#,
                r#"bad matcher format: invalid-name = "valid label""#,
            ),
            (r#""{foo=\"bar"}"#, r#"bad matcher format: "{foo=\"bar""#),
            (r#""foo=\"bar""#, r#"bad matcher format: "foo=\"bar""#),
            (r#""foo=\"bar\"""#, r#"bad matcher format: "foo=\"bar\"""#),
            (r#""foo=\"bar\""#, r#"bad matcher format: "foo=\"bar\""#),
            (
                r#""{foo=\"bar\"}""#,
                r#"bad matcher format: "{foo=\"bar\"}""#,
            ),
            (r#""foo="bar"""#, r#"bad matcher format: "foo="bar"""#),
        ];
        for (input, want) in bad {
            let err = parse_matchers(input).unwrap_err();
            assert_eq!(err.to_string(), want, "{input}");
        }
        let err = parse_matchers(r#"{foo=~"invalid[regexp"}"#).unwrap_err();
        assert!(matches!(err, MatcherError::Regex(_)), "{err}");
    }

    #[test]
    fn empty_token_between_commas_is_an_error() {
        assert_eq!(
            parse_matchers("a=b,,c=d").unwrap_err().to_string(),
            "bad matcher format: "
        );
        assert!(parse_matchers("").unwrap().is_empty());
        assert!(parse_matchers("{}").unwrap().is_empty());
    }

    #[test]
    fn display_escapes() {
        let x = m(Equal, "a", "x\"y\\z\nw");
        assert_eq!(x.to_string(), r#"a="x\"y\\z\nw""#);
        assert_eq!(parse_matcher(&x.to_string()).unwrap(), x);
        assert_eq!(m(NotRegexp, "b", "c.*").to_string(), r#"b!~"c.*""#);
        assert_eq!(
            format_matchers(&[m(Equal, "a", "1"), m(Regexp, "b", "2")]),
            r#"{a="1",b=~"2"}"#
        );
        assert_eq!(format_matchers(&[]), "{}");
    }

    #[test]
    fn matching_is_anchored_and_missing_is_empty() {
        let labels = Labels::from_pairs([("env", "prod"), ("job", "api")]);
        assert!(matches_all(&[m(Regexp, "env", "pro.")], &labels));
        assert!(!matches_all(&[m(Regexp, "env", "pro")], &labels));
        assert!(!matches_all(&[m(Regexp, "env", "rod")], &labels));
        assert!(matches_all(&[m(Equal, "missing", "")], &labels));
        assert!(matches_all(&[m(Regexp, "missing", ".*")], &labels));
        assert!(!matches_all(&[m(NotEqual, "missing", "")], &labels));
        assert!(matches_all(&[m(NotRegexp, "job", "a|b")], &labels));
        assert!(matches_all(&[m(Regexp, "job", "a|api")], &labels));
        assert!(matches_all(&[], &labels));
    }

    #[test]
    fn api_json_shape() {
        let x = m(NotRegexp, "a", "b.*");
        let j = serde_json::to_string(&x).unwrap();
        assert_eq!(
            j,
            r#"{"name":"a","value":"b.*","isRegex":true,"isEqual":false}"#
        );
        let back: Matcher = serde_json::from_str(&j).unwrap();
        assert_eq!(back, x);
        let d: Matcher = serde_json::from_str(r#"{"name":"a","value":"b"}"#).unwrap();
        assert_eq!(d, m(Equal, "a", "b"));
        assert!(
            serde_json::from_str::<Matcher>(r#"{"name":"a","value":"(","isRegex":true}"#).is_err()
        );
    }

    #[test]
    fn sort_order() {
        let mut v = vec![m(Regexp, "b", "1"), m(Equal, "b", "1"), m(Equal, "a", "z")];
        v.sort();
        assert_eq!(
            v,
            vec![m(Equal, "a", "z"), m(Equal, "b", "1"), m(Regexp, "b", "1")]
        );
    }
}
