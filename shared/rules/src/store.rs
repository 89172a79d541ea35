//! Rule groups and their evaluation state in the index.
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | a group | `{tenant}#rules` | `{namespace}/{group}` (escaped) | `namespace`, `group`, `yaml` |
//! | a tenant with rules | `rules#tenants` | `{tenant}` | |
//! | a group's state | `{tenant}#rulestate` | as the group | `state` (zstd JSON), `version` |
//!
//! State is saved with a version check, so two evaluators racing on one group cannot both
//! commit: the loser's writes were identical retries, and its state is dropped.

use crate::RulesError;
use crate::file::{RuleGroupSpec, parse_rule_group};
use crate::state::GroupState;
use architect_index::{AttrValue, Condition, Index, Item, SkRange, query_all};
use architect_model::TenantId;
use std::collections::BTreeMap;
use std::sync::Arc;

const TENANTS_PK: &str = "rules#tenants";

fn rules_pk(tenant: &TenantId) -> String {
    format!("{}#rules", tenant.as_str())
}

fn state_pk(tenant: &TenantId) -> String {
    format!("{}#rulestate", tenant.as_str())
}

/// `/` and `%` percent-encoded, so `{namespace}/{group}` splits unambiguously.
fn escape(s: &str) -> String {
    s.replace('%', "%25").replace('/', "%2F")
}

fn group_sk(namespace: &str, group: &str) -> String {
    format!("{}/{}", escape(namespace), escape(group))
}

fn namespace_prefix(namespace: &str) -> String {
    format!("{}/", escape(namespace))
}

/// Rule groups and state of every tenant.
#[derive(Clone, Debug)]
pub struct RuleStore {
    index: Arc<dyn Index>,
}

/// A stored group with its namespace.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredGroup {
    /// Namespace.
    pub namespace: String,
    /// The group as uploaded.
    pub spec: RuleGroupSpec,
}

impl RuleStore {
    /// A store over `index`.
    pub fn new(index: Arc<dyn Index>) -> Self {
        Self { index }
    }

    /// Tenants that have uploaded rules.
    pub async fn tenants(&self) -> Result<Vec<TenantId>, RulesError> {
        let items = query_all(&*self.index, TENANTS_PK, SkRange::All).await?;
        Ok(items
            .into_iter()
            .filter_map(|i| TenantId::new(&i.sk).ok())
            .collect())
    }

    /// Every group of `tenant`, by namespace, in name order.
    pub async fn groups(&self, tenant: &TenantId) -> Result<Vec<StoredGroup>, RulesError> {
        self.query(tenant, SkRange::All).await
    }

    /// The groups of one namespace.
    pub async fn namespace(
        &self,
        tenant: &TenantId,
        namespace: &str,
    ) -> Result<Vec<StoredGroup>, RulesError> {
        self.query(tenant, SkRange::Prefix(namespace_prefix(namespace)))
            .await
    }

    async fn query(
        &self,
        tenant: &TenantId,
        range: SkRange,
    ) -> Result<Vec<StoredGroup>, RulesError> {
        let items = query_all(&*self.index, &rules_pk(tenant), range).await?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let (Some(namespace), Some(yaml)) = (item.get_s("namespace"), item.get_s("yaml"))
            else {
                continue;
            };
            out.push(StoredGroup {
                namespace: namespace.to_string(),
                spec: parse_rule_group(yaml)?,
            });
        }
        Ok(out)
    }

    /// One group.
    pub async fn group(
        &self,
        tenant: &TenantId,
        namespace: &str,
        group: &str,
    ) -> Result<Option<RuleGroupSpec>, RulesError> {
        let item = self
            .index
            .get(&rules_pk(tenant), &group_sk(namespace, group))
            .await?;
        match item.as_ref().and_then(|i| i.get_s("yaml")) {
            Some(yaml) => Ok(Some(parse_rule_group(yaml)?)),
            None => Ok(None),
        }
    }

    /// Creates or replaces a group (validated by the caller).
    pub async fn put_group(
        &self,
        tenant: &TenantId,
        namespace: &str,
        spec: &RuleGroupSpec,
    ) -> Result<(), RulesError> {
        let yaml = serde_yaml_ng::to_string(spec).map_err(|e| RulesError::State(e.to_string()))?;
        self.index
            .put(Item::new(TENANTS_PK, tenant.as_str()), Condition::None)
            .await?;
        let item = Item::new(rules_pk(tenant), group_sk(namespace, &spec.name))
            .with_s("namespace", namespace)
            .with_s("group", spec.name.clone())
            .with_s("yaml", yaml);
        self.index.put(item, Condition::None).await?;
        Ok(())
    }

    /// Deletes a group and its state; false if there was none.
    pub async fn delete_group(
        &self,
        tenant: &TenantId,
        namespace: &str,
        group: &str,
    ) -> Result<bool, RulesError> {
        let sk = group_sk(namespace, group);
        let existed = self.index.get(&rules_pk(tenant), &sk).await?.is_some();
        self.index
            .delete(&rules_pk(tenant), &sk, Condition::None)
            .await?;
        self.index
            .delete(&state_pk(tenant), &sk, Condition::None)
            .await?;
        Ok(existed)
    }

    /// Deletes every group of a namespace; false if there was none.
    pub async fn delete_namespace(
        &self,
        tenant: &TenantId,
        namespace: &str,
    ) -> Result<bool, RulesError> {
        let groups = self.namespace(tenant, namespace).await?;
        for g in &groups {
            self.delete_group(tenant, namespace, &g.spec.name).await?;
        }
        Ok(!groups.is_empty())
    }

    /// A group's state and its version (0 when there is none).
    pub async fn load_state(
        &self,
        tenant: &TenantId,
        namespace: &str,
        group: &str,
    ) -> Result<(Option<GroupState>, i64), RulesError> {
        let item = self
            .index
            .get(&state_pk(tenant), &group_sk(namespace, group))
            .await?;
        let Some(item) = item else {
            return Ok((None, 0));
        };
        let version = item.get_n("version").unwrap_or(0);
        let state = match item.get_b("state") {
            Some(bytes) => Some(GroupState::decode(bytes)?),
            None => None,
        };
        Ok((state, version))
    }

    /// Saves a group's state if it is still at `version`; returns false if another evaluator
    /// saved first.
    pub async fn save_state(
        &self,
        tenant: &TenantId,
        namespace: &str,
        group: &str,
        state: &GroupState,
        version: i64,
    ) -> Result<bool, RulesError> {
        let condition = if version == 0 {
            Condition::NotExists
        } else {
            Condition::AttrEquals("version".into(), AttrValue::N(version))
        };
        let item = Item::new(state_pk(tenant), group_sk(namespace, group))
            .with_b("state", state.encode()?)
            .with_n("version", version + 1);
        match self.index.put(item, condition).await {
            Ok(()) => Ok(true),
            Err(e) if e.is_condition_failure() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Every group's state of a tenant, keyed by (namespace, group).
    pub async fn states(
        &self,
        tenant: &TenantId,
    ) -> Result<BTreeMap<(String, String), GroupState>, RulesError> {
        let items = query_all(&*self.index, &state_pk(tenant), SkRange::All).await?;
        let mut out = BTreeMap::new();
        for item in items {
            let Some((ns, group)) = item.sk.split_once('/') else {
                continue;
            };
            let unescape = |s: &str| s.replace("%2F", "/").replace("%25", "%");
            if let Some(bytes) = item.get_b("state") {
                out.insert((unescape(ns), unescape(group)), GroupState::decode(bytes)?);
            }
        }
        Ok(out)
    }
}
