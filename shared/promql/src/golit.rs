//! Go string-literal semantics the parser does not keep: in PromQL (Go) `"\xff"` is the single
//! byte 0xff, so a literal can be invalid UTF-8, and using it as a label name is an error.
//! promql-parser decodes `\xff` to the character U+00FF instead. This module finds the
//! literals of a query that are invalid UTF-8 under Go's rules, keyed by the parser's decoding.

use std::collections::HashMap;

/// Parser-decoded value → Go-quoted form (`"a\xc5z"`) of every string literal in `query` whose
/// Go value is not valid UTF-8.
pub(crate) fn invalid_utf8_literals(query: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let b = query.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let q = b[i];
        if q != b'"' && q != b'\'' {
            i += 1;
            continue;
        }
        i += 1;
        let mut go: Vec<u8> = Vec::new();
        let mut parsed = String::new();
        while i < b.len() && b[i] != q {
            if b[i] == b'\\' && i + 1 < b.len() {
                let c = b[i + 1];
                i += 2;
                match c {
                    b'x' if i + 2 <= b.len() => {
                        if let Ok(v) = u8::from_str_radix(&query[i..i + 2], 16) {
                            go.push(v);
                            parsed.push(char::from(v));
                        }
                        i += 2;
                    }
                    b'0'..=b'7' if i + 2 <= b.len() => {
                        if let Ok(v) = u8::from_str_radix(&query[i - 1..i + 2], 8) {
                            go.push(v);
                            parsed.push(char::from(v));
                        }
                        i += 2;
                    }
                    _ => {
                        // Other escapes are the same in both; keep them out of the comparison.
                        let ch = match c {
                            b'n' => '\n',
                            b't' => '\t',
                            b'r' => '\r',
                            other => char::from(other),
                        };
                        let mut buf = [0u8; 4];
                        go.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        parsed.push(ch);
                    }
                }
                continue;
            }
            let ch = query[i..].chars().next().unwrap_or('\u{fffd}');
            let mut buf = [0u8; 4];
            go.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            parsed.push(ch);
            i += ch.len_utf8().max(1);
        }
        i += 1;
        if std::str::from_utf8(&go).is_err() {
            out.insert(parsed, go_quote(&go));
        }
    }
    out
}

/// Go's `%q` of a byte string: printable ASCII as is, other bytes as `\xNN`.
fn go_quote(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &c in bytes {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(char::from(c)),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_invalid_literals_only() {
        let m = invalid_utf8_literals(
            r#"count_values("a\xc5z", x) + on() label_replace(y, "ok", "\u00e9", "a", "b")"#,
        );
        assert_eq!(m.len(), 1);
        assert_eq!(m.get("a\u{c5}z").map(String::as_str), Some(r#""a\xc5z""#));
    }
}
