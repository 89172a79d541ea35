//! [`AttrValue`] <-> DynamoDB [`AttributeValue`], and whole items.

use std::collections::HashMap;

use architect_index::limits::{PK_ATTR, SK_ATTR};
use architect_index::{AttrValue, Attrs, IndexError, Item};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

/// A DynamoDB item: attribute name to value, key attributes included.
pub(crate) type DynamoItem = HashMap<String, AttributeValue>;

/// The DynamoDB form of a value; numbers as decimal strings.
pub(crate) fn to_dynamo(value: &AttrValue) -> AttributeValue {
    match value {
        AttrValue::S(s) => AttributeValue::S(s.clone()),
        AttrValue::N(n) => AttributeValue::N(n.to_string()),
        AttrValue::B(b) => AttributeValue::B(Blob::new(b.clone())),
        AttrValue::Bool(b) => AttributeValue::Bool(*b),
        AttrValue::L(list) => AttributeValue::L(list.iter().map(to_dynamo).collect()),
        AttrValue::M(map) => AttributeValue::M(
            map.iter()
                .map(|(name, value)| (name.clone(), to_dynamo(value)))
                .collect(),
        ),
    }
}

/// The value read back; types the system never writes (sets, NULL) and numbers outside
/// `i64` are [`IndexError::Internal`].
pub(crate) fn from_dynamo(value: AttributeValue) -> Result<AttrValue, IndexError> {
    Ok(match value {
        AttributeValue::S(s) => AttrValue::S(s),
        AttributeValue::N(n) => {
            AttrValue::N(n.parse().map_err(|_| {
                IndexError::Internal(format!("number {n:?} read back is not an i64"))
            })?)
        }
        AttributeValue::B(b) => AttrValue::B(b.into_inner()),
        AttributeValue::Bool(b) => AttrValue::Bool(b),
        AttributeValue::L(list) => AttrValue::L(
            list.into_iter()
                .map(from_dynamo)
                .collect::<Result<_, _>>()?,
        ),
        AttributeValue::M(map) => AttrValue::M(
            map.into_iter()
                .map(|(name, value)| Ok((name, from_dynamo(value)?)))
                .collect::<Result<_, IndexError>>()?,
        ),
        other => {
            return Err(IndexError::Internal(format!(
                "unsupported attribute type read back: {other:?}"
            )));
        }
    })
}

/// The key attributes of (`pk`, `sk`).
pub(crate) fn key(pk: &str, sk: &str) -> DynamoItem {
    HashMap::from([
        (PK_ATTR.to_owned(), AttributeValue::S(pk.to_owned())),
        (SK_ATTR.to_owned(), AttributeValue::S(sk.to_owned())),
    ])
}

/// The DynamoDB form of an item (validated: its attributes never use the key names).
pub(crate) fn item_to_dynamo(item: &Item) -> DynamoItem {
    let mut out = key(&item.pk, &item.sk);
    out.extend(
        item.attrs
            .iter()
            .map(|(name, value)| (name.clone(), to_dynamo(value))),
    );
    out
}

/// An item read back; it must have string `pk` and `sk`.
pub(crate) fn item_from_dynamo(mut item: DynamoItem) -> Result<Item, IndexError> {
    let pk = take_key(&mut item, PK_ATTR)?;
    let sk = take_key(&mut item, SK_ATTR)?;
    let attrs = item
        .into_iter()
        .map(|(name, value)| Ok((name, from_dynamo(value)?)))
        .collect::<Result<Attrs, IndexError>>()?;
    Ok(Item { pk, sk, attrs })
}

/// Removes key attribute `name` from `item`; it must be a string.
pub(crate) fn take_key(item: &mut DynamoItem, name: &str) -> Result<String, IndexError> {
    match item.remove(name) {
        Some(AttributeValue::S(value)) => Ok(value),
        other => Err(IndexError::Internal(format!(
            "key attribute {name} read back as {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let nested = Attrs::from([("k".to_owned(), AttrValue::L(vec![AttrValue::N(-3)]))]);
        for value in [
            AttrValue::S("héllo".into()),
            AttrValue::N(i64::MIN),
            AttrValue::N(i64::MAX),
            AttrValue::B(vec![0, 255]),
            AttrValue::Bool(true),
            AttrValue::L(vec![AttrValue::S(String::new()), AttrValue::B(Vec::new())]),
            AttrValue::M(nested),
        ] {
            let back = from_dynamo(to_dynamo(&value));
            assert_eq!(back.ok(), Some(value));
        }
    }

    #[test]
    fn numbers_outside_i64_are_internal_errors() {
        for n in ["1.5", "9223372036854775808", "1e3", ""] {
            let result = from_dynamo(AttributeValue::N(n.to_owned()));
            assert!(matches!(result, Err(IndexError::Internal(_))), "{n}");
        }
        let set = from_dynamo(AttributeValue::Ss(vec!["a".into()]));
        assert!(matches!(set, Err(IndexError::Internal(_))));
    }

    #[test]
    fn items_round_trip_with_keys() {
        let item = Item::new("p", "s").with_n("ttl", 5).with_s("pkx", "v");
        let dynamo = item_to_dynamo(&item);
        assert_eq!(dynamo.get(PK_ATTR), Some(&AttributeValue::S("p".into())));
        assert_eq!(item_from_dynamo(dynamo).ok(), Some(item));
        let keyless = HashMap::from([("a".to_owned(), AttributeValue::Bool(true))]);
        assert!(matches!(
            item_from_dynamo(keyless),
            Err(IndexError::Internal(_))
        ));
    }
}
