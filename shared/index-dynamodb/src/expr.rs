//! DynamoDB expressions for [`Condition`]s, sort-key ranges and the TTL filter.
//!
//! Every attribute name goes through a `#n` placeholder (many names, `ttl` among them, are
//! reserved words) and every value through a `:v` placeholder.
//!
//! # TTL
//!
//! DynamoDB deletes expired items lazily, so the expressions treat an item whose `ttl` is a
//! number `<= :now` as absent, exactly like [`Condition::evaluate`] on the embedded index:
//!
//! - expired: `attribute_type(#ttl, :N) AND #ttl <= :now`
//! - live (an item the condition sees): `attribute_exists(#pk) AND NOT (expired)`
//! - gone (absent or expired): `attribute_not_exists(#pk) OR (expired)`
//!
//! The `attribute_type` guards are redundant on DynamoDB, where comparing values of different
//! types is simply false, but moto raises a server error on them (a `ttl` or a compared
//! attribute that is a string), so they are kept for both.

use std::collections::HashMap;

use architect_index::limits::{PK_ATTR, SK_ATTR};
use architect_index::{Condition, SkRange, TTL_ATTR};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::convert::to_dynamo;

/// The placeholders of one request, collected while its expressions are built.
#[derive(Debug)]
pub(crate) struct Placeholders {
    now_secs: i64,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    now: Option<String>,
    number_type: Option<String>,
}

impl Placeholders {
    /// Placeholders for a request judged at `now_secs` (for TTL expiry).
    pub(crate) fn new(now_secs: i64) -> Self {
        Self {
            now_secs,
            names: HashMap::new(),
            values: HashMap::new(),
            now: None,
            number_type: None,
        }
    }

    /// The placeholder of attribute `name`; one per distinct name.
    pub(crate) fn name(&mut self, name: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, n)| *n == name) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    /// A placeholder for `value`.
    pub(crate) fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn now(&mut self) -> String {
        if let Some(now) = &self.now {
            return now.clone();
        }
        let now = self.value(AttributeValue::N(self.now_secs.to_string()));
        self.now = Some(now.clone());
        now
    }

    fn number_type(&mut self) -> String {
        if let Some(n) = &self.number_type {
            return n.clone();
        }
        let n = self.value(AttributeValue::S("N".to_owned()));
        self.number_type = Some(n.clone());
        n
    }

    /// `ExpressionAttributeNames`, `None` if empty (DynamoDB rejects an empty map).
    pub(crate) fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    /// `ExpressionAttributeValues`, `None` if empty.
    pub(crate) fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }

    /// `#a` is a number `< :bound`; false if absent or of another type.
    fn less_than(&mut self, name: &str, bound: i64) -> String {
        let attr = self.name(name);
        let number = self.number_type();
        let bound = self.value(AttributeValue::N(bound.to_string()));
        format!("(attribute_type({attr}, {number}) AND {attr} < {bound})")
    }

    /// The item has expired: its `ttl` is a number `<= :now`.
    fn expired(&mut self) -> String {
        let ttl = self.name(TTL_ATTR);
        let number = self.number_type();
        let now = self.now();
        format!("(attribute_type({ttl}, {number}) AND {ttl} <= {now})")
    }

    /// The item exists and has not expired.
    fn live(&mut self) -> String {
        let pk = self.name(PK_ATTR);
        let expired = self.expired();
        format!("(attribute_exists({pk}) AND (NOT {expired}))")
    }

    /// The item is absent or has expired.
    fn gone(&mut self) -> String {
        let pk = self.name(PK_ATTR);
        let expired = self.expired();
        format!("(attribute_not_exists({pk}) OR {expired})")
    }

    /// `ConditionExpression` for `condition`; `None` if it always holds.
    pub(crate) fn condition(&mut self, condition: &Condition) -> Option<String> {
        Some(match condition {
            Condition::None => return None,
            Condition::NotExists => self.gone(),
            Condition::Exists => self.live(),
            Condition::AttrEquals(name, value) => {
                let live = self.live();
                let attr = self.name(name);
                let value = self.value(to_dynamo(value));
                format!("({live} AND {attr} = {value})")
            }
            Condition::AttrNotExists(name) => {
                let gone = self.gone();
                let attr = self.name(name);
                format!("({gone} OR attribute_not_exists({attr}))")
            }
            Condition::AttrLessThan(name, bound) => {
                let live = self.live();
                let less = self.less_than(name, *bound);
                format!("({live} AND {less})")
            }
            Condition::And(all) => {
                let parts: Vec<String> = all.iter().filter_map(|c| self.condition(c)).collect();
                if parts.is_empty() {
                    return None;
                }
                format!("({})", parts.join(" AND "))
            }
        })
    }

    /// `KeyConditionExpression` for partition `pk` and sort keys in `range`.
    pub(crate) fn key_condition(&mut self, pk: &str, range: &SkRange) -> String {
        let pk_name = self.name(PK_ATTR);
        let pk_value = self.value(AttributeValue::S(pk.to_owned()));
        let on_pk = format!("{pk_name} = {pk_value}");
        if *range == SkRange::All {
            // DynamoDB rejects placeholders an expression does not use.
            return on_pk;
        }
        let sk = self.name(SK_ATTR);
        let mut bound = |s: &str| self.value(AttributeValue::S(s.to_owned()));
        let on_sk = match range {
            SkRange::All => return on_pk,
            SkRange::Prefix(prefix) => format!("begins_with({sk}, {})", bound(prefix)),
            SkRange::Between(low, high) => {
                let (low, high) = (bound(low), bound(high));
                format!("{sk} BETWEEN {low} AND {high}")
            }
            SkRange::AtLeast(low) => format!("{sk} >= {}", bound(low)),
            SkRange::AtMost(high) => format!("{sk} <= {}", bound(high)),
        };
        format!("{on_pk} AND {on_sk}")
    }

    /// `FilterExpression` hiding expired items from a query.
    pub(crate) fn unexpired(&mut self) -> String {
        let expired = self.expired();
        format!("NOT {expired}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use architect_index::AttrValue;

    /// Resolves placeholders, for readable assertions.
    fn resolve(p: &Placeholders, expression: &str) -> String {
        let mut out = expression.to_owned();
        // Longest placeholders first so that #n1 does not clobber #n10.
        let mut names: Vec<_> = p.names.iter().collect();
        names.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        for (placeholder, name) in names {
            out = out.replace(placeholder.as_str(), name);
        }
        let mut values: Vec<_> = p.values.iter().collect();
        values.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        for (placeholder, value) in values {
            let shown = match value {
                AttributeValue::S(s) => format!("'{s}'"),
                AttributeValue::N(n) => n.clone(),
                other => format!("{other:?}"),
            };
            out = out.replace(placeholder.as_str(), &shown);
        }
        out
    }

    #[test]
    fn not_exists_accepts_expired_items() {
        let mut p = Placeholders::new(100);
        let expression = p.condition(&Condition::NotExists).unwrap_or_default();
        assert_eq!(
            resolve(&p, &expression),
            "(attribute_not_exists(pk) OR (attribute_type(ttl, 'N') AND ttl <= 100))"
        );
    }

    #[test]
    fn attribute_conditions_require_a_live_item() {
        let mut p = Placeholders::new(7);
        let condition = Condition::And(vec![
            Condition::None,
            Condition::AttrEquals("pk".into(), AttrValue::S("x".into())),
            Condition::AttrLessThan("until".into(), 5),
        ]);
        let expression = p.condition(&condition).unwrap_or_default();
        let live = "(attribute_exists(pk) AND (NOT (attribute_type(ttl, 'N') AND ttl <= 7)))";
        assert_eq!(
            resolve(&p, &expression),
            format!(
                "(({live} AND pk = 'x') AND ({live} AND \
                 (attribute_type(until, 'N') AND until < 5)))"
            )
        );
        // One placeholder per name, and the shared ones only once.
        assert_eq!(p.names.len(), 3);
        assert_eq!(p.values.len(), 4);
    }

    #[test]
    fn trivial_conditions_have_no_expression() {
        let mut p = Placeholders::new(0);
        let nested = Condition::And(vec![Condition::None, Condition::And(Vec::new())]);
        assert_eq!(p.condition(&nested), None);
        assert_eq!((p.names(), p.values()), (None, None));
    }

    #[test]
    fn key_conditions() {
        let cases = [
            (SkRange::All, "pk = 'p'"),
            (
                SkRange::Prefix("a".into()),
                "pk = 'p' AND begins_with(sk, 'a')",
            ),
            (
                SkRange::Between("a".into(), "b".into()),
                "pk = 'p' AND sk BETWEEN 'a' AND 'b'",
            ),
            (SkRange::AtLeast("a".into()), "pk = 'p' AND sk >= 'a'"),
            (SkRange::AtMost("b".into()), "pk = 'p' AND sk <= 'b'"),
        ];
        for (range, expected) in cases {
            let mut p = Placeholders::new(0);
            let expression = p.key_condition("p", &range);
            assert_eq!(resolve(&p, &expression), expected);
        }
    }
}
