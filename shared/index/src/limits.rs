//! DynamoDB's limits and request rules, checked identically by every implementation so that
//! nothing accepted locally is rejected on AWS.
//!
//! Sizes are computed the way DynamoDB bills and limits them: attribute name bytes plus value
//! bytes, key attributes included.

use std::collections::HashSet;

use crate::{AttrValue, Condition, IndexError, Item, QueryRequest, SkRange, WriteOp};

/// Name of the partition key attribute; reserved, may not appear in [`Item::attrs`].
pub const PK_ATTR: &str = "pk";
/// Name of the sort key attribute; reserved, may not appear in [`Item::attrs`].
pub const SK_ATTR: &str = "sk";
/// Maximum partition key length in bytes.
pub const MAX_PK_BYTES: usize = 2048;
/// Maximum sort key length in bytes.
pub const MAX_SK_BYTES: usize = 1024;
/// Maximum item size ([`item_size`]).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// Maximum attribute name length in bytes.
pub const MAX_ATTR_NAME_BYTES: usize = 64 * 1024 - 1;
/// Maximum nesting depth of lists and maps.
pub const MAX_NESTING_DEPTH: usize = 32;
/// Maximum number of operations in one transaction.
pub const MAX_TRANSACT_OPS: usize = 100;
/// Maximum total size of one transaction ([`op_size`] summed).
pub const MAX_TRANSACT_BYTES: usize = 4 * 1024 * 1024;
/// A query page ends once the items it read reach this size.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// Size of an item as DynamoDB counts it: every attribute's name and value, `pk` and `sk` included.
pub fn item_size(item: &Item) -> usize {
    let key = PK_ATTR.len() + item.pk.len() + SK_ATTR.len() + item.sk.len();
    key + item
        .attrs
        .iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum::<usize>()
}

/// Size of one attribute value as DynamoDB counts it.
pub fn value_size(value: &AttrValue) -> usize {
    match value {
        AttrValue::S(s) => s.len(),
        AttrValue::N(n) => number_size(*n),
        AttrValue::B(b) => b.len(),
        AttrValue::Bool(_) => 1,
        AttrValue::L(list) => 3 + list.iter().map(|v| value_size(v) + 1).sum::<usize>(),
        AttrValue::M(map) => {
            3 + map
                .iter()
                .map(|(k, v)| k.len() + value_size(v) + 1)
                .sum::<usize>()
        }
    }
}

/// One byte per two significant digits (trailing zeros do not count), plus one.
fn number_size(n: i64) -> usize {
    let mut magnitude = n.unsigned_abs();
    while magnitude >= 10 && magnitude.is_multiple_of(10) {
        magnitude /= 10;
    }
    let digits = magnitude.checked_ilog10().unwrap_or(0) as usize + 1;
    digits.div_ceil(2) + 1
}

/// Size a transaction operation counts towards [`MAX_TRANSACT_BYTES`]: the item for a put, the
/// key for a delete or check.
pub fn op_size(op: &WriteOp) -> usize {
    match op {
        WriteOp::Put { item, .. } => item_size(item),
        WriteOp::Delete { pk, sk, .. } | WriteOp::Check { pk, sk, .. } => {
            PK_ATTR.len() + pk.len() + SK_ATTR.len() + sk.len()
        }
    }
}

fn invalid(message: impl Into<String>) -> IndexError {
    IndexError::Validation(message.into())
}

/// Checks one key value: non-empty, at most `max` bytes, no NUL (the embedded encoding
/// separates `pk` from `sk` with NUL, so both implementations refuse it).
fn validate_key_part(name: &str, value: &str, max: usize) -> Result<(), IndexError> {
    if value.is_empty() {
        return Err(invalid(format!("{name} must not be empty")));
    }
    if value.len() > max {
        return Err(invalid(format!(
            "{name} is {} bytes, more than {max}",
            value.len()
        )));
    }
    if value.contains('\0') {
        return Err(invalid(format!("{name} must not contain NUL")));
    }
    Ok(())
}

/// Checks a partition key.
pub fn validate_pk(pk: &str) -> Result<(), IndexError> {
    validate_key_part(PK_ATTR, pk, MAX_PK_BYTES)
}

/// Checks a sort key, or a sort-key bound of a query.
pub fn validate_sk(sk: &str) -> Result<(), IndexError> {
    validate_key_part(SK_ATTR, sk, MAX_SK_BYTES)
}

/// Checks an item key.
pub fn validate_key(pk: &str, sk: &str) -> Result<(), IndexError> {
    validate_pk(pk)?;
    validate_sk(sk)
}

/// Checks an item to be written: key, attribute names, nesting depth, size.
pub fn validate_item(item: &Item) -> Result<(), IndexError> {
    validate_key(&item.pk, &item.sk)?;
    for (name, value) in &item.attrs {
        validate_attr_name(name)?;
        if name == PK_ATTR || name == SK_ATTR {
            return Err(invalid(format!(
                "attribute name {name:?} is reserved for the key"
            )));
        }
        if depth(value) > MAX_NESTING_DEPTH {
            return Err(invalid(format!(
                "attribute {name:?} nests deeper than {MAX_NESTING_DEPTH} levels"
            )));
        }
    }
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(invalid(format!(
            "item is {size} bytes, more than {MAX_ITEM_BYTES}"
        )));
    }
    Ok(())
}

fn validate_attr_name(name: &str) -> Result<(), IndexError> {
    if name.is_empty() {
        return Err(invalid("attribute names must not be empty"));
    }
    if name.len() > MAX_ATTR_NAME_BYTES {
        return Err(invalid(format!(
            "attribute name longer than {MAX_ATTR_NAME_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Nesting depth: 0 for scalars, 1 for a list or map of scalars, ...
fn depth(value: &AttrValue) -> usize {
    match value {
        AttrValue::L(list) => 1 + list.iter().map(depth).max().unwrap_or(0),
        AttrValue::M(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Checks the attribute names a condition refers to.
pub fn validate_condition(condition: &Condition) -> Result<(), IndexError> {
    match condition {
        Condition::None | Condition::NotExists | Condition::Exists => Ok(()),
        Condition::AttrEquals(name, _)
        | Condition::AttrNotExists(name)
        | Condition::AttrLessThan(name, _) => validate_attr_name(name),
        Condition::And(all) => all.iter().try_for_each(validate_condition),
    }
}

/// Checks a transaction: 1 to [`MAX_TRANSACT_OPS`] operations on distinct items, each valid,
/// checks with a real condition, at most [`MAX_TRANSACT_BYTES`] in total.
pub fn validate_transaction(ops: &[WriteOp]) -> Result<(), IndexError> {
    if ops.is_empty() {
        return Err(invalid("a transaction needs at least one operation"));
    }
    if ops.len() > MAX_TRANSACT_OPS {
        return Err(invalid(format!(
            "a transaction has at most {MAX_TRANSACT_OPS} operations, not {}",
            ops.len()
        )));
    }
    let mut keys = HashSet::with_capacity(ops.len());
    let mut total = 0;
    for op in ops {
        match op {
            WriteOp::Put { item, .. } => validate_item(item)?,
            WriteOp::Delete { pk, sk, .. } => validate_key(pk, sk)?,
            WriteOp::Check { pk, sk, condition } => {
                validate_key(pk, sk)?;
                if condition.is_trivial() {
                    return Err(invalid(format!("check of ({pk}, {sk}) has no condition")));
                }
            }
        }
        validate_condition(op.condition())?;
        let (pk, sk) = op.key();
        if !keys.insert((pk, sk)) {
            return Err(invalid(format!(
                "item ({pk}, {sk}) appears twice in one transaction"
            )));
        }
        total += op_size(op);
    }
    if total > MAX_TRANSACT_BYTES {
        return Err(invalid(format!(
            "transaction is {total} bytes, more than {MAX_TRANSACT_BYTES}"
        )));
    }
    Ok(())
}

/// Checks a query: valid key and bounds, non-empty prefix, ordered `Between`, a positive limit,
/// and a `start_after` inside the range.
pub fn validate_query(request: &QueryRequest) -> Result<(), IndexError> {
    validate_pk(&request.pk)?;
    match &request.range {
        SkRange::All => {}
        SkRange::Prefix(bound) | SkRange::AtLeast(bound) | SkRange::AtMost(bound) => {
            validate_sk(bound)?;
        }
        SkRange::Between(low, high) => {
            validate_sk(low)?;
            validate_sk(high)?;
            if low.as_bytes() > high.as_bytes() {
                return Err(invalid(format!(
                    "range bounds out of order: {low:?} > {high:?}"
                )));
            }
        }
    }
    if request.limit == Some(0) {
        return Err(invalid("limit must be at least 1"));
    }
    if let Some(start) = &request.start_after {
        validate_sk(start)?;
        if !request.range.contains(start) {
            return Err(invalid(format!(
                "start_after {start:?} lies outside the queried range"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_sizes() {
        assert_eq!(number_size(0), 2);
        assert_eq!(number_size(7), 2);
        assert_eq!(number_size(12), 2);
        assert_eq!(number_size(123), 3);
        assert_eq!(number_size(1_000_000), 2);
        assert_eq!(number_size(-123_456), 4);
        assert_eq!(number_size(i64::MIN), 11);
    }

    #[test]
    fn item_sizes() {
        let item = Item::new("p", "s")
            .with_s("a", "xyz")
            .with_bool("b", true)
            .with(
                "l",
                AttrValue::L(vec![AttrValue::N(5), AttrValue::S("ab".into())]),
            );
        // key 2+1+2+1, "a" 1+3, "b" 1+1, "l" 1 + 3 + (2+1) + (2+1)
        assert_eq!(item_size(&item), 6 + 4 + 2 + 10);
    }

    #[test]
    fn depth_limit() {
        let mut value = AttrValue::N(1);
        for _ in 0..MAX_NESTING_DEPTH {
            value = AttrValue::L(vec![value]);
        }
        assert!(validate_item(&Item::new("p", "s").with("v", value.clone())).is_ok());
        let deeper = AttrValue::L(vec![value]);
        assert!(validate_item(&Item::new("p", "s").with("v", deeper)).is_err());
    }
}
