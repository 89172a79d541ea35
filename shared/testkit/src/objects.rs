//! An object store decorator for tests that watches the calls made on it: to count them (S3
//! bills per request) or to hold reads open and see how many a query keeps in flight.
//!
//! `get_ranges` is left to the trait's default, which coalesces ranges and issues one ranged
//! GET per coalesced range, as `AmazonS3` does; so the GETs observed are the S3 requests.

use async_trait::async_trait;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use std::sync::Arc;

/// What is told to an [`ObjectsObserver`] about each call: `put`, `put_multipart`, `get`,
/// `get_range`, `head`, `delete`, `list` or `copy`.
pub type CallKind = &'static str;

/// Runs its closure when an observed GET ends (when dropped).
#[derive(Default)]
pub struct CallGuard(Option<Box<dyn FnOnce() + Send>>);

impl CallGuard {
    /// A guard that runs `f` when the GET ends.
    pub fn on_end(f: impl FnOnce() + Send + 'static) -> Self {
        Self(Some(Box::new(f)))
    }
}

impl std::fmt::Debug for CallGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallGuard")
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// Watches the calls of an [`ObservedObjects`].
#[async_trait]
pub trait ObjectsObserver: std::fmt::Debug + Send + Sync {
    /// A call of `kind` is made.
    fn called(&self, kind: CallKind) {
        let _ = kind;
    }

    /// A GET of `kind` starts (after [`ObjectsObserver::called`]); it ends when the returned
    /// guard is dropped. The GET waits for this future, so an observer can delay it.
    async fn get_started(&self, kind: CallKind) -> CallGuard {
        let _ = kind;
        CallGuard::default()
    }
}

/// `inner`, with every call told to `observer`.
#[derive(Debug)]
pub struct ObservedObjects {
    inner: Arc<dyn ObjectStore>,
    observer: Arc<dyn ObjectsObserver>,
}

impl ObservedObjects {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn ObjectStore>, observer: Arc<dyn ObjectsObserver>) -> Self {
        Self { inner, observer }
    }
}

impl std::fmt::Display for ObservedObjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Observed({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for ObservedObjects {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.observer.called("put");
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.observer.called("put_multipart");
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let kind = if options.head {
            "head"
        } else if options.range.is_some() {
            "get_range"
        } else {
            "get"
        };
        self.observer.called(kind);
        let _guard = self.observer.get_started(kind).await;
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.observer.called("delete");
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.observer.called("list");
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.observer.called("list");
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.observer.called("copy");
        self.inner.copy_opts(from, to, options).await
    }
}
