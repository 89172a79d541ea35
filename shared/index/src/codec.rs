//! Compact binary encoding of [`Attrs`] for the embedded index.
//!
//! Layout: a format version byte, then the map. A map or list is a `u32` count followed by its
//! entries (map entries are a length-prefixed name, then a value); a value is a tag byte then
//! its payload: strings and bytes as `u32` length + bytes, numbers as 8-byte `i64`, booleans as
//! one byte. All integers are little-endian.

use crate::{AttrValue, Attrs, IndexError};

const FORMAT_VERSION: u8 = 1;

const TAG_S: u8 = 0;
const TAG_N: u8 = 1;
const TAG_B: u8 = 2;
const TAG_BOOL: u8 = 3;
const TAG_L: u8 = 4;
const TAG_M: u8 = 5;

/// Refuse to recurse deeper than this when decoding (validation allows far less).
const MAX_DECODE_DEPTH: usize = 64;

pub(crate) fn encode(attrs: &Attrs) -> Vec<u8> {
    let mut out = vec![FORMAT_VERSION];
    encode_map(attrs, &mut out);
    out
}

fn encode_len(len: usize, out: &mut Vec<u8>) {
    // Items are validated to 400 KB, far below u32::MAX.
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
}

fn encode_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    encode_len(bytes.len(), out);
    out.extend_from_slice(bytes);
}

fn encode_map(map: &Attrs, out: &mut Vec<u8>) {
    encode_len(map.len(), out);
    for (name, value) in map {
        encode_bytes(name.as_bytes(), out);
        encode_value(value, out);
    }
}

fn encode_value(value: &AttrValue, out: &mut Vec<u8>) {
    match value {
        AttrValue::S(s) => {
            out.push(TAG_S);
            encode_bytes(s.as_bytes(), out);
        }
        AttrValue::N(n) => {
            out.push(TAG_N);
            out.extend_from_slice(&n.to_le_bytes());
        }
        AttrValue::B(b) => {
            out.push(TAG_B);
            encode_bytes(b, out);
        }
        AttrValue::Bool(b) => {
            out.push(TAG_BOOL);
            out.push(u8::from(*b));
        }
        AttrValue::L(list) => {
            out.push(TAG_L);
            encode_len(list.len(), out);
            for v in list {
                encode_value(v, out);
            }
        }
        AttrValue::M(map) => {
            out.push(TAG_M);
            encode_map(map, out);
        }
    }
}

pub(crate) fn decode(bytes: &[u8]) -> Result<Attrs, IndexError> {
    let mut reader = Reader { bytes, pos: 0 };
    let version = reader.take(1)?[0];
    if version != FORMAT_VERSION {
        return Err(corrupt(&format!("unknown format version {version}")));
    }
    let attrs = reader.map(0)?;
    if reader.pos != bytes.len() {
        return Err(corrupt("trailing bytes"));
    }
    Ok(attrs)
}

fn corrupt(what: &str) -> IndexError {
    IndexError::Internal(format!("corrupt item encoding: {what}"))
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], IndexError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        let end = end.ok_or_else(|| corrupt("truncated"))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], IndexError> {
        self.take(N)?.try_into().map_err(|_| corrupt("truncated"))
    }

    fn len(&mut self) -> Result<usize, IndexError> {
        Ok(u32::from_le_bytes(self.array()?) as usize)
    }

    fn string(&mut self) -> Result<String, IndexError> {
        let len = self.len()?;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| corrupt("invalid UTF-8"))
    }

    fn map(&mut self, depth: usize) -> Result<Attrs, IndexError> {
        let count = self.len()?;
        let mut map = Attrs::new();
        for _ in 0..count {
            let name = self.string()?;
            let value = self.value(depth)?;
            map.insert(name, value);
        }
        Ok(map)
    }

    fn value(&mut self, depth: usize) -> Result<AttrValue, IndexError> {
        if depth > MAX_DECODE_DEPTH {
            return Err(corrupt("nested too deeply"));
        }
        let tag = self.take(1)?[0];
        Ok(match tag {
            TAG_S => AttrValue::S(self.string()?),
            TAG_N => AttrValue::N(i64::from_le_bytes(self.array()?)),
            TAG_B => {
                let len = self.len()?;
                AttrValue::B(self.take(len)?.to_vec())
            }
            TAG_BOOL => match self.take(1)?[0] {
                0 => AttrValue::Bool(false),
                1 => AttrValue::Bool(true),
                other => return Err(corrupt(&format!("boolean byte {other}"))),
            },
            TAG_L => {
                let count = self.len()?;
                // Each element takes at least two bytes: do not trust `count` for allocation.
                let mut list = Vec::with_capacity(count.min(self.bytes.len() - self.pos));
                for _ in 0..count {
                    list.push(self.value(depth + 1)?);
                }
                AttrValue::L(list)
            }
            TAG_M => AttrValue::M(self.map(depth + 1)?),
            other => return Err(corrupt(&format!("unknown tag {other}"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut nested = Attrs::new();
        nested.insert(
            "k".into(),
            AttrValue::L(vec![AttrValue::Bool(false), AttrValue::B(vec![])]),
        );
        let mut attrs = Attrs::new();
        attrs.insert("s".into(), AttrValue::S("héllo\0".into()));
        attrs.insert("n".into(), AttrValue::N(i64::MIN));
        attrs.insert("b".into(), AttrValue::B(vec![0, 255, 7]));
        attrs.insert("t".into(), AttrValue::Bool(true));
        attrs.insert("m".into(), AttrValue::M(nested));
        attrs.insert("e".into(), AttrValue::S(String::new()));
        let bytes = encode(&attrs);
        assert_eq!(decode(&bytes).expect("decodes"), attrs);
        assert_eq!(
            decode(&encode(&Attrs::new())).expect("decodes"),
            Attrs::new()
        );
    }

    #[test]
    fn rejects_garbage() {
        let bytes = encode(&Attrs::from([(
            "s".to_string(),
            AttrValue::S("abc".into()),
        )]));
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "prefix of {cut} bytes");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(decode(&extra).is_err());
        assert!(decode(&[2, 0, 0, 0, 0]).is_err());
    }
}
