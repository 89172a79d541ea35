//! Quoted strings. Label values and quoted names in series descriptions use PromQL's string
//! rules (double, single or back quotes; Go escapes, where the escaped quote must be the opening
//! one); `expect string "..."` uses Go's `strconv.Unquote` (double quotes, back quotes, or a
//! single-quoted one-character rune literal). The escape set is the same in both.

use std::str::Chars;

/// Scans a PromQL string literal that starts at byte `start` of `s` (which must be a quote
/// character) and returns its value and the byte offset just past the closing quote.
pub(crate) fn scan_promql_string(s: &str, start: usize) -> Result<(String, usize), String> {
    let rest = &s[start..];
    let mut chars = rest.chars();
    let quote = chars.next().ok_or("expected a string")?;
    if quote == '`' {
        let body = &rest[1..];
        let end = body.find('`').ok_or("unterminated raw string")?;
        return Ok((body[..end].to_string(), start + 1 + end + 1));
    }
    if quote != '"' && quote != '\'' {
        return Err(format!("expected a string, found {quote:?}"));
    }
    let mut out = Vec::new();
    loop {
        match chars.next() {
            None | Some('\n') => return Err("unterminated quoted string".to_string()),
            Some('\\') => decode_escape(&mut chars, quote, &mut out)?,
            Some(c) if c == quote => break,
            Some(c) => push_char(&mut out, c),
        }
    }
    let consumed = rest.len() - chars.as_str().len();
    let value = String::from_utf8(out).map_err(|_| "string is not valid UTF-8".to_string())?;
    Ok((value, start + consumed))
}

/// Go's `strconv.Unquote`, as used for `expect string`.
pub(crate) fn unquote_go(s: &str) -> Result<String, String> {
    let bad = || "check that the string is correctly quoted".to_string();
    let quote = s.chars().next().ok_or_else(bad)?;
    if s.len() < 2 || !s.ends_with(quote) {
        return Err(bad());
    }
    let body = &s[quote.len_utf8()..s.len() - quote.len_utf8()];
    match quote {
        '`' => {
            if body.contains('`') {
                return Err(bad());
            }
            Ok(body.replace('\r', ""))
        }
        '"' | '\'' => {
            let mut out = Vec::new();
            let mut chars = body.chars();
            let mut runes = 0;
            while let Some(c) = chars.next() {
                runes += 1;
                match c {
                    '\n' => return Err(bad()),
                    '\\' => decode_escape(&mut chars, quote, &mut out)?,
                    c if c == quote => return Err(bad()),
                    c => push_char(&mut out, c),
                }
            }
            // A single-quoted literal is one rune.
            if quote == '\'' && runes != 1 {
                return Err(bad());
            }
            String::from_utf8(out).map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// Decodes one escape sequence; the backslash has been consumed.
fn decode_escape(chars: &mut Chars<'_>, quote: char, out: &mut Vec<u8>) -> Result<(), String> {
    let c = chars.next().ok_or("escape sequence not terminated")?;
    let simple = match c {
        'a' => Some(0x07),
        'b' => Some(0x08),
        'f' => Some(0x0c),
        'n' => Some(b'\n'),
        'r' => Some(b'\r'),
        't' => Some(b'\t'),
        'v' => Some(0x0b),
        '\\' => Some(b'\\'),
        c if c == quote => Some(c as u8),
        _ => None,
    };
    if let Some(b) = simple {
        out.push(b);
        return Ok(());
    }
    let (digits, base, max, is_byte) = match c {
        '0'..='7' => (3, 8, 255, true),
        'x' => (2, 16, 255, true),
        'u' => (4, 16, 0x10_ffff, false),
        'U' => (8, 16, 0x10_ffff, false),
        other => return Err(format!("unknown escape sequence \\{other}")),
    };
    let mut value: u32 = 0;
    let mut first = if c.is_ascii_digit() { Some(c) } else { None };
    for _ in 0..digits {
        let d = match first.take() {
            Some(d) => d,
            None => chars.next().ok_or("escape sequence not terminated")?,
        };
        let v = d
            .to_digit(base)
            .ok_or_else(|| format!("illegal character {d:?} in escape sequence"))?;
        value = value * base + v;
    }
    if value > max || (0xd800..0xe000).contains(&value) {
        return Err("escape sequence is an invalid Unicode code point".to_string());
    }
    if is_byte {
        // Octal and \x escapes are raw bytes; the result must still be valid UTF-8 overall.
        out.push(value as u8);
    } else {
        let ch = char::from_u32(value).ok_or("escape sequence is an invalid Unicode code point")?;
        push_char(out, ch);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn promql_strings() {
        assert_eq!(
            scan_promql_string(r#""a\"b" x"#, 0).unwrap(),
            ("a\"b".into(), 6)
        );
        assert_eq!(scan_promql_string(r"'it\'s'", 0).unwrap().0, "it's");
        assert_eq!(scan_promql_string(r"`a\nb`", 0).unwrap().0, "a\\nb");
        assert_eq!(
            scan_promql_string(r#""\u00e9\x41\101\n""#, 0).unwrap().0,
            "éAA\n"
        );
        assert_eq!(scan_promql_string(r#""\xc3\xa9""#, 0).unwrap().0, "é");
        assert!(
            scan_promql_string(r#""\'""#, 0).is_err(),
            "\\' is only valid in '...'"
        );
        assert!(scan_promql_string(r#""abc"#, 0).is_err());
        assert!(scan_promql_string(r#""\xc5""#, 0).is_err(), "invalid UTF-8");
        assert!(scan_promql_string(r#""\q""#, 0).is_err());
    }

    #[test]
    fn go_unquote() {
        assert_eq!(unquote_go(r#""Foo""#).unwrap(), "Foo");
        assert_eq!(unquote_go("`Foo`").unwrap(), "Foo");
        assert_eq!(unquote_go(r#"" Foo ""#).unwrap(), " Foo ");
        assert_eq!(unquote_go(r#""""#).unwrap(), "");
        assert_eq!(unquote_go("'a'").unwrap(), "a");
        assert!(unquote_go("'ab'").is_err());
        assert!(unquote_go("Foo").is_err());
        assert!(unquote_go(r#""a"b""#).is_err());
        assert!(unquote_go("\"").is_err());
    }
}
