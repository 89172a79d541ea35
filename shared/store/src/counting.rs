//! Object-store requests counted as S3 would bill them, whatever store is below: what a
//! compaction or a query costs a user in requests (the service exports the counts on
//! `/metrics` as `architect_object_store_requests_total{operation}`, the benchmark reads them).
//!
//! Counted as S3 receives them from object_store's S3 client: a ranged read of several ranges
//! is one GET per group of ranges less than [`OBJECT_STORE_COALESCE_DEFAULT`] apart (the
//! client's default `get_ranges`); a multipart upload is its create, each part and its
//! completion (PUT-class requests); a listing counts once per call (S3 pages every 1,000
//! keys); each deleted key is one delete. The embedded store reads its ranges with fewer or
//! more system calls; the count models S3, not the disk.

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, OBJECT_STORE_COALESCE_DEFAULT,
    ObjectMeta, ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions,
    Result, UploadPart,
};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Request classes counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// GET (whole or ranged) and HEAD.
    Get,
    /// PUT, and each request of a multipart upload.
    Put,
    /// LIST.
    List,
    /// DELETE, per key.
    Delete,
    /// COPY (and the copy of a rename).
    Copy,
}

impl Operation {
    /// Every operation, in the order of [`ObjectRequests::snapshot`].
    pub const ALL: [Operation; 5] = [
        Operation::Get,
        Operation::Put,
        Operation::List,
        Operation::Delete,
        Operation::Copy,
    ];

    /// The label value.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Get => "get",
            Operation::Put => "put",
            Operation::List => "list",
            Operation::Delete => "delete",
            Operation::Copy => "copy",
        }
    }
}

/// Request counts by [`Operation`], shared by every clone.
#[derive(Clone, Debug, Default)]
pub struct ObjectRequests(Arc<[AtomicU64; 5]>);

impl ObjectRequests {
    fn add(&self, op: Operation, n: u64) {
        self.0[op as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// Requests of `op` so far.
    pub fn get(&self, op: Operation) -> u64 {
        self.0[op as usize].load(Ordering::Relaxed)
    }

    /// Every operation with its count, in [`Operation::ALL`] order.
    pub fn snapshot(&self) -> [(Operation, u64); 5] {
        Operation::ALL.map(|op| (op, self.get(op)))
    }
}

/// Number of GETs a read of `ranges` takes: groups of ranges less than
/// [`OBJECT_STORE_COALESCE_DEFAULT`] apart (object_store's `merge_ranges`).
fn merged_ranges(ranges: &[Range<u64>]) -> u64 {
    let mut sorted: Vec<&Range<u64>> = ranges.iter().collect();
    sorted.sort_unstable_by_key(|r| r.start);
    let mut groups = 0u64;
    let mut end: Option<u64> = None;
    for r in sorted {
        match end {
            Some(e) if r.start.saturating_sub(e) <= OBJECT_STORE_COALESCE_DEFAULT => {
                end = Some(e.max(r.end));
            }
            _ => {
                groups += 1;
                end = Some(r.end);
            }
        }
    }
    groups
}

/// An object store counting the requests made through it.
#[derive(Debug)]
pub struct CountingObjects {
    inner: Arc<dyn ObjectStore>,
    requests: ObjectRequests,
}

impl CountingObjects {
    /// Counts the requests to `inner` into `requests`.
    pub fn new(inner: Arc<dyn ObjectStore>, requests: ObjectRequests) -> Self {
        Self { inner, requests }
    }
}

impl std::fmt::Display for CountingObjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Counting({})", self.inner)
    }
}

/// A multipart upload counting its parts and its completion.
#[derive(Debug)]
struct CountingUpload {
    inner: Box<dyn MultipartUpload>,
    requests: ObjectRequests,
}

#[async_trait]
impl MultipartUpload for CountingUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        self.requests.add(Operation::Put, 1);
        self.inner.put_part(data)
    }

    async fn complete(&mut self) -> Result<PutResult> {
        self.requests.add(Operation::Put, 1);
        self.inner.complete().await
    }

    async fn abort(&mut self) -> Result<()> {
        self.requests.add(Operation::Delete, 1);
        self.inner.abort().await
    }
}

#[async_trait]
impl ObjectStore for CountingObjects {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.requests.add(Operation::Put, 1);
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.requests.add(Operation::Put, 1);
        let inner = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(CountingUpload {
            inner,
            requests: self.requests.clone(),
        }))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.requests.add(Operation::Get, 1);
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.requests.add(Operation::Get, merged_ranges(ranges));
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        let requests = self.requests.clone();
        let counted = locations
            .inspect(move |p| {
                if p.is_ok() {
                    requests.add(Operation::Delete, 1);
                }
            })
            .boxed();
        self.inner.delete_stream(counted)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.requests.add(Operation::List, 1);
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.requests.add(Operation::List, 1);
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.requests.add(Operation::List, 1);
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.requests.add(Operation::Copy, 1);
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        // S3 has no rename: a copy and a delete.
        self.requests.add(Operation::Copy, 1);
        self.requests.add(Operation::Delete, 1);
        self.inner.rename_opts(from, to, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::ObjectStoreExt;
    use object_store::memory::InMemory;

    #[test]
    fn ranges_closer_than_the_coalesce_gap_are_one_get() {
        let mb = 1024 * 1024;
        assert_eq!(merged_ranges(&[]), 0);
        assert_eq!(merged_ranges(&[0..10, 20..30, 5..8]), 1);
        assert_eq!(merged_ranges(&[0..10, 10 + mb..20 + mb]), 1);
        assert_eq!(merged_ranges(&[0..10, 11 + mb..20 + mb]), 2);
        assert_eq!(
            merged_ranges(&[3 * mb..3 * mb + 1, 0..1, mb + 2..mb + 3]),
            3
        );
    }

    #[tokio::test]
    async fn requests_are_counted_by_operation() -> Result<()> {
        let requests = ObjectRequests::default();
        let store = CountingObjects::new(Arc::new(InMemory::new()), requests.clone());
        let key = Path::from("t/a.parquet");
        store.put(&key, PutPayload::from(vec![1u8; 100])).await?;
        let mut upload = store.put_multipart(&Path::from("t/b.parquet")).await?;
        upload.put_part(PutPayload::from(vec![2u8; 10])).await?;
        upload.put_part(PutPayload::from(vec![3u8; 10])).await?;
        upload.complete().await?;
        store.get(&key).await?.bytes().await?;
        store.get_ranges(&key, &[0..10, 50..60]).await?;
        store.head(&key).await?;
        let listed: Vec<_> = store.list(Some(&Path::from("t"))).collect().await;
        assert_eq!(listed.len(), 2);
        store.copy(&key, &Path::from("t/c.parquet")).await?;
        store.delete(&key).await?;
        let counts = requests.snapshot();
        assert_eq!(
            counts.map(|(op, n)| (op.name(), n)),
            [
                ("get", 3),
                ("put", 5),
                ("list", 1),
                ("delete", 1),
                ("copy", 1)
            ]
        );
        Ok(())
    }
}
