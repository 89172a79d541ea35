//! Opens the object store and the index a [`StorageConfig`] names: a local directory and the
//! embedded index file (embedded mode), or S3 and DynamoDB (AWS, or an emulator of them).
//!
//! Both AWS clients take their region and credentials from the AWS SDK's standard chain
//! (environment, shared profile files, SSO, web identity, the ECS task role, the Lambda role, EC2
//! instance metadata) via `aws-config`; S3 is read and written through the `object_store` crate,
//! which the Parquet reader already speaks, with the SDK's credentials bridged into it. An
//! endpoint override (`endpoint`, else the SDK's `AWS_ENDPOINT_URL`) points both at an emulator
//! such as moto server, LocalStack or MinIO.

use crate::ServiceError;
use architect_index::Index;
use architect_index::embedded::EmbeddedIndex;
use architect_model::clock::{Clock, SystemClock};
use architect_store::StoreConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AwsCredential, S3ConditionalPut, S3CopyIfNotExists};
use object_store::local::LocalFileSystem;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Where data and the index live.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// The object store for Parquet files.
    pub objects: ObjectsConfig,
    /// The index.
    pub index: IndexConfig,
    /// How the AWS clients (S3, DynamoDB) connect.
    pub aws: AwsConfig,
}

impl StorageConfig {
    /// S3 `bucket` and DynamoDB `table`, connected through the SDK's standard chain.
    pub fn aws(bucket: impl Into<String>, table: impl Into<String>, path_style: bool) -> Self {
        Self {
            objects: ObjectsConfig::S3(S3Config {
                bucket: bucket.into(),
                path_style,
            }),
            index: IndexConfig::Dynamodb(DynamoConfig {
                table: table.into(),
            }),
            aws: AwsConfig::default(),
        }
    }

    /// S3 `bucket` and DynamoDB `table` on an emulator (moto, LocalStack, MinIO) at `endpoint`:
    /// path-style requests and the static test credentials emulators accept.
    pub fn emulated(
        bucket: impl Into<String>,
        table: impl Into<String>,
        region: &str,
        endpoint: &str,
    ) -> Self {
        let mut config = Self::aws(bucket, table, true);
        config.aws = AwsConfig {
            region: Some(region.to_string()),
            endpoint: Some(endpoint.to_string()),
            access_key_id: Some("testing".into()),
            secret_access_key: Some("testing".into()),
        };
        config
    }
}

/// Connection settings shared by the S3 and DynamoDB clients. Unset fields come from the AWS
/// SDK's standard chain.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AwsConfig {
    /// Region; default: `AWS_REGION`, the profile, instance metadata.
    pub region: Option<String>,
    /// Endpoint URL of an emulator or S3/DynamoDB-compatible service; default:
    /// `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL_DYNAMODB`, then `AWS_ENDPOINT_URL`, then AWS.
    pub endpoint: Option<String>,
    /// Static access key (with `secret_access_key`), for emulators; default: the SDK's chain.
    pub access_key_id: Option<String>,
    /// Static secret key.
    pub secret_access_key: Option<String>,
}

/// The object store.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum ObjectsConfig {
    /// `DATA_DIR/objects` on the local disk (fsynced writes).
    #[default]
    Local,
    /// An S3 bucket.
    S3(S3Config),
}

/// An S3 bucket.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// Bucket name.
    pub bucket: String,
    /// Path-style requests (`endpoint/bucket/key`), which emulators and MinIO need.
    pub path_style: bool,
}

/// The index.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum IndexConfig {
    /// `DATA_DIR/index.redb`.
    #[default]
    Embedded,
    /// A DynamoDB table (partition key `pk`, sort key `sk`, both strings; TTL on `ttl`).
    Dynamodb(DynamoConfig),
}

/// A DynamoDB table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DynamoConfig {
    /// Table name.
    pub table: String,
}

/// Opens the object store.
pub async fn open_objects(
    config: &StorageConfig,
    data_dir: &Path,
) -> Result<Arc<dyn ObjectStore>, ServiceError> {
    match &config.objects {
        ObjectsConfig::Local => {
            let root = data_dir.join("objects");
            std::fs::create_dir_all(&root)?;
            Ok(Arc::new(architect_store::LocalObjects::new(
                LocalFileSystem::new_with_prefix(root)?.with_fsync(true),
            )))
        }
        ObjectsConfig::S3(s3) => open_s3(s3, &config.aws).await,
    }
}

/// `config` with its read concurrency resolved for `storage`: a remote object store gets
/// [`architect_store::REMOTE_READ_CONCURRENCY`] reads in flight unless one is configured.
pub fn store_config_for(storage: &StorageConfig, config: &StoreConfig) -> StoreConfig {
    let mut config = config.clone();
    if config.read_concurrency == 0 && matches!(storage.objects, ObjectsConfig::S3(_)) {
        config.read_concurrency = architect_store::REMOTE_READ_CONCURRENCY;
    }
    config
}

/// Opens the index.
pub async fn open_index(
    config: &StorageConfig,
    data_dir: &Path,
) -> Result<Arc<dyn Index>, ServiceError> {
    match &config.index {
        IndexConfig::Embedded => {
            std::fs::create_dir_all(data_dir)?;
            let path = data_dir.join("index.redb");
            let index = tokio::task::spawn_blocking(move || EmbeddedIndex::open(&path))
                .await
                .map_err(|e| ServiceError::Config(e.to_string()))??;
            Ok(Arc::new(index))
        }
        IndexConfig::Dynamodb(dynamo) => {
            if dynamo.table.is_empty() {
                return Err(ServiceError::Config("storage.index.table is empty".into()));
            }
            let sdk = sdk_config(&config.aws).await;
            let client = aws_sdk_dynamodb::Client::new(&sdk);
            let clock: Arc<dyn Clock> = Arc::new(SystemClock);
            Ok(Arc::new(architect_index_dynamodb::DynamoIndex::new(
                client,
                dynamo.table.clone(),
                clock,
            )))
        }
    }
}

/// The SDK's configuration from its standard chain, overridden by what `aws` sets.
pub async fn sdk_config(aws: &AwsConfig) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &aws.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &aws.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if let (Some(key), Some(secret)) = (&aws.access_key_id, &aws.secret_access_key) {
        let static_credentials = aws_credential_types::Credentials::new(
            key,
            secret,
            None,
            None,
            "architect configuration",
        );
        loader = loader.credentials_provider(static_credentials);
    }
    loader.load().await
}

async fn open_s3(config: &S3Config, aws: &AwsConfig) -> Result<Arc<dyn ObjectStore>, ServiceError> {
    if config.bucket.is_empty() {
        return Err(ServiceError::Config(
            "storage.objects.bucket is empty".into(),
        ));
    }
    let sdk = sdk_config(aws).await;
    let region = sdk
        .region()
        .map_or_else(|| "us-east-1".to_string(), |r| r.to_string());
    let credentials = sdk.credentials_provider().ok_or_else(|| {
        ServiceError::Config("no AWS credentials provider could be configured".into())
    })?;
    let endpoint = aws
        .endpoint
        .clone()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok())
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
    let retry = object_store::RetryConfig {
        backoff: object_store::BackoffConfig::default(),
        max_retries: 5,
        retry_timeout: Duration::from_secs(60),
    };
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&config.bucket)
        .with_region(region)
        .with_credentials(Arc::new(SdkCredentials::new(credentials)))
        .with_virtual_hosted_style_request(!config.path_style)
        // Block objects are written once: `PutMode::Create` sends `If-None-Match: *`, and a
        // large object is staged and copied with `CopyMode::Create`, which S3 supports as an
        // UploadPartCopy completed with `If-None-Match: *` (see `MetricsStore::write_block`).
        .with_conditional_put(S3ConditionalPut::ETagMatch)
        .with_copy_if_not_exists(S3CopyIfNotExists::Multipart)
        .with_retry(retry);
    if let Some(endpoint) = endpoint {
        builder = builder
            .with_allow_http(endpoint.starts_with("http://"))
            .with_endpoint(endpoint);
    }
    Ok(Arc::new(builder.build()?))
}

/// The SDK's credential chain as an `object_store` credential provider, caching each
/// credential until five minutes before it expires.
#[derive(Debug)]
struct SdkCredentials {
    provider: aws_credential_types::provider::SharedCredentialsProvider,
    cached: tokio::sync::Mutex<Option<(Arc<AwsCredential>, Option<SystemTime>)>>,
}

impl SdkCredentials {
    fn new(provider: aws_credential_types::provider::SharedCredentialsProvider) -> Self {
        Self {
            provider,
            cached: tokio::sync::Mutex::new(None),
        }
    }
}

#[async_trait::async_trait]
impl object_store::CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        const REFRESH_BEFORE: Duration = Duration::from_secs(300);
        let mut cached = self.cached.lock().await;
        if let Some((credential, expiry)) = cached.as_ref() {
            let fresh = expiry.is_none_or(|at| SystemTime::now() + REFRESH_BEFORE < at);
            if fresh {
                return Ok(Arc::clone(credential));
            }
        }
        let fetched = self.provider.provide_credentials().await.map_err(|e| {
            object_store::Error::Generic {
                store: "S3",
                source: Box::new(e),
            }
        })?;
        let credential = Arc::new(AwsCredential {
            key_id: fetched.access_key_id().to_string(),
            secret_key: fetched.secret_access_key().to_string(),
            token: fetched.session_token().map(str::to_string),
        });
        *cached = Some((Arc::clone(&credential), fetched.expiry()));
        Ok(credential)
    }
}
