//! Alerts, silences and each tenant's configuration in the index, so any stateless function
//! sees the same Alertmanager.
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | an alert | `{tenant}#am#alerts` | fingerprint | `alert` (JSON), `ttl` (a day after it ends) |
//! | a silence | `{tenant}#am#silences` | id | `silence` (JSON), `ttl` (5 days after it ends) |
//! | the configuration | `{tenant}#am` | `config` | `yaml`, `templates` (JSON map name → text) |

use crate::AmError;
use crate::alert::{Alert, fingerprint};
use crate::silence::Silence;
use architect_index::{Condition, Index, Item, SkRange, WriteOp, limits, query_all};
use architect_model::TenantId;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// How long a resolved alert stays (for resolved notifications and the API).
const ALERT_RETENTION_MS: i64 = 24 * 3_600_000;
/// How long an expired silence stays (Alertmanager's `--data.retention`, 120h).
const SILENCE_RETENTION_MS: i64 = 120 * 3_600_000;

/// Tenants with Alertmanager state (`am#tenants` / tenant), which the dispatcher visits.
pub(crate) const TENANTS_PK: &str = "am#tenants";

fn alerts_pk(t: &TenantId) -> String {
    format!("{}#am#alerts", t.as_str())
}

fn silences_pk(t: &TenantId) -> String {
    format!("{}#am#silences", t.as_str())
}

fn config_pk(t: &TenantId) -> String {
    format!("{}#am", t.as_str())
}

/// A tenant's uploaded configuration, as Mimir's config API holds it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoredConfig {
    /// The Alertmanager configuration YAML.
    pub alertmanager_config: String,
    /// Template files by name.
    pub template_files: BTreeMap<String, String>,
}

/// Alertmanager state of every tenant.
#[derive(Clone, Debug)]
pub struct AmState {
    index: Arc<dyn Index>,
}

fn json_err(e: serde_json::Error) -> AmError {
    AmError::State(e.to_string())
}

impl AmState {
    /// State over `index`.
    pub fn new(index: Arc<dyn Index>) -> Self {
        Self { index }
    }

    /// Lists `tenant` among those the dispatcher visits.
    async fn register(&self, tenant: &TenantId) -> Result<(), AmError> {
        self.index
            .put(Item::new(TENANTS_PK, tenant.as_str()), Condition::None)
            .await?;
        Ok(())
    }

    /// Every alert of `tenant` that has not expired from the index (resolved ones included).
    pub async fn alerts(&self, tenant: &TenantId) -> Result<Vec<Alert>, AmError> {
        let items = query_all(&*self.index, &alerts_pk(tenant), SkRange::All).await?;
        items
            .iter()
            .filter_map(|i| i.get_s("alert"))
            .map(|s| serde_json::from_str(s).map_err(json_err))
            .collect()
    }

    /// Stores posted alerts, merged with the stored ones they overlap (as the alert provider's
    /// `Put`).
    pub async fn put_alerts(
        &self,
        tenant: &TenantId,
        alerts: Vec<Alert>,
        now: i64,
    ) -> Result<(), AmError> {
        let existing: HashMap<String, Alert> = self
            .alerts(tenant)
            .await?
            .into_iter()
            .map(|a| (fingerprint(&a.labels), a))
            .collect();
        if !alerts.is_empty() {
            self.register(tenant).await?;
        }
        // Merged as Alertmanager's provider puts them one by one (a later copy of an alert in
        // the same post merges with the earlier one), then written together: a dispatch pass
        // must not see half of a post, or it would notify a partial group first.
        let mut merged: Vec<(String, Alert)> = Vec::new();
        let mut position: HashMap<String, usize> = HashMap::new();
        for mut alert in alerts {
            let fp = fingerprint(&alert.labels);
            let previous = match position.get(&fp) {
                Some(&i) => merged.get(i).map(|(_, a)| a),
                None => existing.get(&fp),
            };
            if let Some(old) = previous
                && old.overlaps(&alert)
            {
                alert = old.merge(&alert, now);
            }
            match position.get(&fp) {
                Some(&i) => merged[i].1 = alert,
                None => {
                    position.insert(fp.clone(), merged.len());
                    merged.push((fp, alert));
                }
            }
        }
        let mut batch: Vec<WriteOp> = Vec::new();
        let mut batch_bytes = 0;
        for (fp, alert) in merged {
            let ttl = (alert.ends_at.max(now) + ALERT_RETENTION_MS) / 1000;
            let item = Item::new(alerts_pk(tenant), fp)
                .with_s("alert", serde_json::to_string(&alert).map_err(json_err)?)
                .with_ttl(ttl);
            let op = WriteOp::Put {
                item,
                condition: Condition::None,
            };
            let size = limits::op_size(&op);
            if !batch.is_empty()
                && (batch.len() == limits::MAX_TRANSACT_OPS
                    || batch_bytes + size > limits::MAX_TRANSACT_BYTES)
            {
                self.index.transact(std::mem::take(&mut batch)).await?;
                batch_bytes = 0;
            }
            batch_bytes += size;
            batch.push(op);
        }
        if !batch.is_empty() {
            self.index.transact(batch).await?;
        }
        Ok(())
    }

    /// Every silence of `tenant` still kept (expired ones for 5 days).
    pub async fn silences(&self, tenant: &TenantId) -> Result<Vec<Silence>, AmError> {
        let items = query_all(&*self.index, &silences_pk(tenant), SkRange::All).await?;
        items
            .iter()
            .filter_map(|i| i.get_s("silence"))
            .map(|s| serde_json::from_str(s).map_err(json_err))
            .collect()
    }

    /// One silence.
    pub async fn silence(&self, tenant: &TenantId, id: &str) -> Result<Option<Silence>, AmError> {
        let item = self.index.get(&silences_pk(tenant), id).await?;
        item.as_ref()
            .and_then(|i| i.get_s("silence"))
            .map(|s| serde_json::from_str(s).map_err(json_err))
            .transpose()
    }

    /// Writes a silence as is.
    pub async fn put_silence(&self, tenant: &TenantId, silence: &Silence) -> Result<(), AmError> {
        self.register(tenant).await?;
        let item = Item::new(silences_pk(tenant), silence.id.clone())
            .with_s("silence", serde_json::to_string(silence).map_err(json_err)?)
            .with_ttl((silence.ends_at + SILENCE_RETENTION_MS) / 1000);
        self.index.put(item, Condition::None).await?;
        Ok(())
    }

    /// The tenant's uploaded configuration, if any.
    pub async fn config(&self, tenant: &TenantId) -> Result<Option<StoredConfig>, AmError> {
        let Some(item) = self.index.get(&config_pk(tenant), "config").await? else {
            return Ok(None);
        };
        let templates = match item.get_s("templates") {
            Some(t) => serde_json::from_str(t).map_err(json_err)?,
            None => BTreeMap::new(),
        };
        Ok(Some(StoredConfig {
            alertmanager_config: item.get_s("yaml").unwrap_or_default().to_string(),
            template_files: templates,
        }))
    }

    /// Stores the tenant's configuration (validated by the caller).
    pub async fn set_config(
        &self,
        tenant: &TenantId,
        config: &StoredConfig,
    ) -> Result<(), AmError> {
        self.register(tenant).await?;
        let item = Item::new(config_pk(tenant), "config")
            .with_s("yaml", config.alertmanager_config.clone())
            .with_s(
                "templates",
                serde_json::to_string(&config.template_files).map_err(json_err)?,
            );
        self.index.put(item, Condition::None).await?;
        Ok(())
    }

    /// Removes the tenant's configuration (the fallback applies again).
    pub async fn delete_config(&self, tenant: &TenantId) -> Result<(), AmError> {
        self.index
            .delete(&config_pk(tenant), "config", Condition::None)
            .await?;
        Ok(())
    }
}
