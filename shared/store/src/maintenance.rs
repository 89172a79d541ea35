//! What the compactor needs from the store beyond reads and writes of whole blocks: the days
//! and partitions of a tenant, the series of one block, the data of a subset of its series,
//! object listings of a day (orphan sweep) and deletion of blocks and objects.

use crate::block::SeriesData;
use crate::catalog::BlockMeta;
use crate::layout::{self, Part};
use crate::partition::DayPartition;
use crate::read::{self, SeriesTable};
use crate::store::MetricsStore;
use crate::{Result, StoreError};
use architect_index::{SkRange, query_all};
use architect_model::time::Day;
use architect_model::{Labels, MetricMetadata, SeriesId, TenantId};
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStoreExt};
use std::sync::Arc;

impl SeriesTable {
    /// The block's series: position = file-local series ref.
    pub fn entries(&self) -> &[(SeriesId, Labels)] {
        &self.series
    }
}

impl MetricsStore {
    /// Every tenant that has written metrics.
    pub async fn tenants(&self) -> Result<Vec<TenantId>> {
        let items = query_all(self.index().as_ref(), layout::TENANTS_PK, SkRange::All).await?;
        Ok(items
            .iter()
            .filter_map(|i| TenantId::new(&i.sk).ok())
            .collect())
    }

    /// The days `tenant` has metric data for, ascending.
    pub async fn days(&self, tenant: &TenantId) -> Result<Vec<Day>> {
        let items = query_all(
            self.index().as_ref(),
            &layout::days_pk(tenant.as_str()),
            SkRange::Prefix("day#".to_string()),
        )
        .await?;
        Ok(items
            .iter()
            .filter_map(|i| i.sk.strip_prefix("day#").and_then(Day::parse_iso))
            .collect())
    }

    /// Forgets a day of `tenant` (after its partition is empty).
    pub async fn forget_day(&self, tenant: &TenantId, day: Day) -> Result<()> {
        self.index()
            .delete(
                &layout::days_pk(tenant.as_str()),
                &layout::day_sk(day),
                architect_index::Condition::None,
            )
            .await?;
        Ok(())
    }

    /// The catalog partition of `tenant` and `day`.
    pub async fn day_partition(&self, tenant: &TenantId, day: Day) -> Result<DayPartition> {
        DayPartition::read(self.index().as_ref(), tenant.as_str(), day).await
    }

    /// The series of a block (cached).
    pub async fn block_series(&self, block: &BlockMeta) -> Result<Arc<SeriesTable>> {
        self.series_table(block).await
    }

    /// The data of the series `refs` (ascending file-local refs) of `block`: samples,
    /// histograms and exemplars, one entry per ref in the order of `refs`.
    pub async fn read_block_series(
        &self,
        block: &BlockMeta,
        refs: &[u32],
    ) -> Result<Vec<SeriesData>> {
        let table = self.series_table(block).await?;
        let (start, end) = (i64::MIN, i64::MAX);
        let mut samples = if block.samples > 0 {
            read::read_block_samples(
                self.objects(),
                block,
                refs,
                (start, end),
                read::Values::All,
                self.meta_cache(),
            )
            .await?
            .into_per_series()
        } else {
            vec![Vec::new(); refs.len()]
        };
        let mut histograms = if block.histograms > 0 {
            read::read_histograms(self.objects(), block, refs, start, end).await?
        } else {
            vec![Vec::new(); refs.len()]
        };
        let mut exemplars = vec![Vec::new(); refs.len()];
        if block.exemplars > 0 {
            for (r, e) in read::read_exemplars(self.objects(), block, start, end).await? {
                if let Ok(i) = refs.binary_search(&r) {
                    exemplars[i].push(e);
                }
            }
        }
        let mut out = Vec::with_capacity(refs.len());
        for (i, r) in refs.iter().enumerate() {
            let (id, labels) =
                table
                    .series
                    .get(*r as usize)
                    .ok_or_else(|| StoreError::Corrupt {
                        key: block.key(Part::Series),
                        reason: format!("no series ref {r}"),
                    })?;
            out.push(SeriesData {
                id: *id,
                labels: labels.clone(),
                samples: std::mem::take(&mut samples[i]),
                histograms: std::mem::take(&mut histograms[i]),
                exemplars: std::mem::take(&mut exemplars[i]),
            });
        }
        Ok(out)
    }

    /// A block's metric metadata.
    pub async fn read_block_metadata(&self, block: &BlockMeta) -> Result<Vec<MetricMetadata>> {
        if block.part_size(Part::Metadata).is_none() {
            return Ok(Vec::new());
        }
        read::read_metadata(self.objects(), block).await
    }

    /// Deletes a block's objects (missing ones are fine) and then its catalog item. Only for
    /// blocks no reader can still need.
    pub async fn delete_block(&self, block: &BlockMeta) -> Result<()> {
        for (part, _) in &block.parts {
            self.delete_object(&Path::from(block.key(*part))).await?;
        }
        self.index()
            .delete(&block.pk(), &block.sk(), architect_index::Condition::None)
            .await?;
        Ok(())
    }

    /// Deletes one object; a missing object is not an error.
    pub async fn delete_object(&self, key: &Path) -> Result<()> {
        match self.objects().delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every object under the day's prefix of `tenant` (all levels and resolutions).
    pub async fn day_objects(&self, tenant: &TenantId, day: Day) -> Result<Vec<ObjectMeta>> {
        let prefix = Path::from(layout::day_prefix(tenant.as_str(), day));
        Ok(self.objects().list(Some(&prefix)).try_collect().await?)
    }
}
