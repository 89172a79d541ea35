//! The embedded object store: object_store's `LocalFileSystem`, with small ranged reads done
//! on the calling task instead of tokio's blocking pool.
//!
//! `LocalFileSystem` runs every read on the blocking pool, and a query reads a few column
//! chunks from each block it touches: one hand-off to a pool thread and back per block. For
//! reads of a few kilobytes from the page cache the hand-off is the cost. A 30-day
//! downsampled query spent a sixth of its CPU in the kernel's context switches. Reads up to
//! [`INLINE_READ_MAX_BYTES`] are therefore `pread`s on the calling thread, which block
//! it for microseconds (or for one disk read when the file is not cached); larger reads, and
//! anything unusual (a missing file, a range past the end), go to `LocalFileSystem`, so its
//! behaviour and errors are unchanged.

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};
use std::ops::Range;
use std::os::unix::fs::FileExt;

/// Ranged reads of at most this many bytes in all are done on the calling task.
pub const INLINE_READ_MAX_BYTES: u64 = 256 * 1024;

/// Ranges this close (bytes) are read with one `pread` and cut apart in memory: the Parquet
/// reader asks for each wanted page of a column chunk separately, and a selection of a few
/// series per page asked for thousands of ranges per query, a system call each (copying a few
/// kilobytes of gap costs less than one).
const COALESCE_GAP_BYTES: u64 = 16 * 1024;

/// [`LocalFileSystem`] with small ranged reads on the calling task (see the module docs).
#[derive(Debug)]
pub struct LocalObjects {
    inner: LocalFileSystem,
}

impl LocalObjects {
    /// Wraps `inner`.
    pub fn new(inner: LocalFileSystem) -> Self {
        Self { inner }
    }

    /// The ranges read on this thread; `None` when `LocalFileSystem` should do the read.
    fn read_inline(&self, location: &Path, ranges: &[Range<u64>]) -> Option<Vec<Bytes>> {
        let total = ranges
            .iter()
            .try_fold(0u64, |acc, r| acc.checked_add(r.end.checked_sub(r.start)?))?;
        if total > INLINE_READ_MAX_BYTES {
            return None;
        }
        let path = self.inner.path_to_filesystem(location).ok()?;
        let file = std::fs::File::open(path).ok()?;
        let len = file.metadata().ok()?.len();
        if ranges.iter().any(|r| r.end > len) {
            return None;
        }
        // Spans of nearby ranges (in offset order), each read once; each range is then a
        // slice of its span's buffer.
        let mut order: Vec<usize> = (0..ranges.len()).collect();
        order.sort_unstable_by_key(|&i| ranges[i].start);
        let mut spans: Vec<(Range<u64>, Vec<usize>)> = Vec::new();
        for i in order {
            let r = &ranges[i];
            match spans.last_mut() {
                Some((span, members)) if r.start <= span.end.saturating_add(COALESCE_GAP_BYTES) => {
                    span.end = span.end.max(r.end);
                    members.push(i);
                }
                _ => spans.push((r.clone(), vec![i])),
            }
        }
        let mut out = vec![Bytes::new(); ranges.len()];
        for (span, members) in spans {
            let mut buf = vec![0u8; usize::try_from(span.end - span.start).ok()?];
            file.read_exact_at(&mut buf, span.start).ok()?;
            let buf = Bytes::from(buf);
            for i in members {
                let r = &ranges[i];
                let from = usize::try_from(r.start - span.start).ok()?;
                let to = usize::try_from(r.end - span.start).ok()?;
                out[i] = buf.slice(from..to);
            }
        }
        Some(out)
    }
}

impl std::fmt::Display for LocalObjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

#[async_trait]
impl ObjectStore for LocalObjects {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        match self.read_inline(location, ranges) {
            Some(bytes) => Ok(bytes),
            None => self.inner.get_ranges(location, ranges).await,
        }
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::ObjectStoreExt;

    fn store(dir: &tempfile::TempDir) -> LocalObjects {
        LocalObjects::new(LocalFileSystem::new_with_prefix(dir.path()).expect("local"))
    }

    #[tokio::test]
    async fn small_reads_inline_match_the_file_system_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let objects = store(&dir);
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
        let key = Path::from("a/b.parquet");
        objects
            .put(&key, PutPayload::from(data.clone()))
            .await
            .expect("put");
        let ranges = [0..10, 5..6, 99_990..100_000, 300..300, 40_000..41_000];
        assert!(objects.read_inline(&key, &ranges).is_some(), "read inline");
        let got = objects.get_ranges(&key, &ranges).await.expect("ranges");
        for (r, b) in ranges.iter().zip(&got) {
            assert_eq!(&b[..], &data[r.start as usize..r.end as usize]);
        }
        assert_eq!(
            got,
            objects
                .inner
                .get_ranges(&key, &ranges)
                .await
                .expect("inner")
        );
    }

    #[tokio::test]
    async fn large_missing_and_out_of_bounds_reads_go_to_the_file_system_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let objects = store(&dir);
        let big = vec![7u8; (INLINE_READ_MAX_BYTES + 1) as usize];
        let key = Path::from("big");
        objects.put(&key, PutPayload::from(big)).await.expect("put");
        let whole_range = 0..INLINE_READ_MAX_BYTES + 1;
        let whole = std::slice::from_ref(&whole_range);
        assert!(objects.read_inline(&key, whole).is_none());
        assert_eq!(
            objects.get_ranges(&key, whole).await.expect("read")[0].len() as u64,
            INLINE_READ_MAX_BYTES + 1
        );
        let past_end_range = 10..INLINE_READ_MAX_BYTES + 10;
        let past_end = std::slice::from_ref(&past_end_range);
        assert!(objects.read_inline(&key, past_end).is_none());
        assert!(objects.get_ranges(&key, past_end).await.is_err());
        let missing = Path::from("missing");
        let first_byte = 0..1;
        let first = std::slice::from_ref(&first_byte);
        assert!(objects.read_inline(&missing, first).is_none());
        assert!(matches!(
            objects.get_ranges(&missing, first).await,
            Err(object_store::Error::NotFound { .. })
        ));
    }
}
