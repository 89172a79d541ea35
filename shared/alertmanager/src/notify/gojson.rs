//! JSON as Go's `json.NewEncoder(w).Encode(v)` writes it: fields in declaration order (serde's
//! derive keeps it), `<`, `>`, `&`, U+2028 and U+2029 escaped, a trailing newline.

use serde::Serialize;

/// `v` encoded as Go's `encoding/json` encoder does.
pub(crate) fn encode<T: Serialize + ?Sized>(v: &T) -> String {
    let plain = serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned());
    let mut out = String::with_capacity(plain.len() + 16);
    // These characters only occur inside strings in JSON text, so escaping them in place
    // is escaping them in the strings.
    for c in plain.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_like_go() {
        #[derive(serde::Serialize)]
        struct T {
            b: &'static str,
            a: u8,
        }
        assert_eq!(
            super::encode(&T {
                b: "<a href=\"x\">&\u{2028}\u{1}",
                a: 1
            }),
            "{\"b\":\"\\u003ca href=\\\"x\\\"\\u003e\\u0026\\u2028\\u0001\",\"a\":1}\n"
        );
    }
}
