//! Test support for the AWS backends: an S3 + DynamoDB endpoint, and a fresh bucket and table for
//! each test.
//!
//! [`Emulator::start`] uses the endpoint in `AWS_ENDPOINT_URL` when it is set (a running
//! LocalStack, MinIO next to a DynamoDB emulator, or moto server) and otherwise starts
//! `moto_server` (PyPI `moto[server]`) on a free loopback port, which it stops by its PID when
//! dropped. [`Emulator::start_or_skip`] turns an emulator that cannot be had into a loud skip, or
//! into a failure when `CI=true`, so CI never passes by skipping.
//!
//! Tables are created with the schema the project's terraform module gives the real table
//! ([`TABLE_PK`], [`TABLE_SK`], TTL on [`TABLE_TTL`], on-demand billing).

pub mod objects;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Partition key attribute of the index table.
pub const TABLE_PK: &str = "pk";
/// Sort key attribute of the index table.
pub const TABLE_SK: &str = "sk";
/// TTL attribute of the index table.
pub const TABLE_TTL: &str = "ttl";

/// Why no emulator could be had.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// `moto_server` is not installed and no `AWS_ENDPOINT_URL` is set.
    #[error("no S3/DynamoDB emulator: set AWS_ENDPOINT_URL or install moto ({0})")]
    Unavailable(String),
    /// The emulator did not come up.
    #[error("emulator failed: {0}")]
    Failed(String),
    /// An emulator call failed.
    #[error("emulator call {call} failed: {message}")]
    Call {
        /// What was being done.
        call: &'static str,
        /// The SDK's error.
        message: String,
    },
}

/// A running S3 + DynamoDB endpoint.
#[derive(Debug)]
pub struct Emulator {
    endpoint: String,
    region: String,
    access_key: String,
    secret_key: String,
    child: Option<Child>,
    sdk: SdkConfig,
}

impl Emulator {
    /// The endpoint in `AWS_ENDPOINT_URL`, or a new moto server on a free loopback port.
    pub async fn start() -> Result<Self, EmulatorError> {
        let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
        if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") {
            let key = std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_else(|_| "testing".into());
            let secret =
                std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|_| "testing".into());
            return Ok(Self::new(endpoint, region, key, secret, None).await);
        }
        let port = free_port()?;
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| EmulatorError::Unavailable(format!("moto_server: {e}")))?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let emulator = Self::new(
            endpoint,
            region,
            "testing".into(),
            "testing".into(),
            Some(child),
        )
        .await;
        emulator.wait_listening(port).await?;
        Ok(emulator)
    }

    /// [`Emulator::start`], or `None` after printing why when no emulator can be had and `CI` is
    /// not `true`. Panics under `CI=true`.
    pub async fn start_or_skip(test: &str) -> Option<Self> {
        match Self::start().await {
            Ok(emulator) => Some(emulator),
            Err(EmulatorError::Unavailable(why))
                if std::env::var("CI").map_or(true, |v| v != "true") =>
            {
                eprintln!("SKIPPED {test}: {why} (tests/run.sh installs moto)");
                None
            }
            Err(e) => panic!("{test}: {e}"),
        }
    }

    async fn new(
        endpoint: String,
        region: String,
        access_key: String,
        secret_key: String,
        child: Option<Child>,
    ) -> Self {
        let credentials = Credentials::new(&access_key, &secret_key, None, None, "testkit");
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&endpoint)
            .region(Region::new(region.clone()))
            .credentials_provider(credentials)
            .load()
            .await;
        Self {
            endpoint,
            region,
            access_key,
            secret_key,
            child,
            sdk,
        }
    }

    async fn wait_listening(&self, port: u16) -> Result<(), EmulatorError> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(EmulatorError::Failed(format!(
                    "moto_server did not listen on port {port} within 30 s"
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The endpoint URL (for `AWS_ENDPOINT_URL` and configuration files).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Environment variables that point an AWS SDK (or `architect`) at this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", self.region.clone()),
            ("AWS_ACCESS_KEY_ID", self.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_key.clone()),
        ]
    }

    /// SDK configuration for this emulator.
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk
    }

    /// An S3 client (path-style addressing, which emulators need).
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// A DynamoDB client.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }

    /// Creates a bucket with a fresh name starting with `prefix` and returns its name.
    pub async fn create_bucket(&self, prefix: &str) -> Result<String, EmulatorError> {
        let name = unique_name(prefix);
        self.s3()
            .create_bucket()
            .bucket(&name)
            .send()
            .await
            .map_err(|e| call_error("CreateBucket", e))?;
        Ok(name)
    }

    /// Creates an index table with a fresh name starting with `prefix` and returns its name.
    pub async fn create_table(&self, prefix: &str) -> Result<String, EmulatorError> {
        let name = unique_name(prefix);
        let client = self.dynamodb();
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
        };
        client
            .create_table()
            .table_name(&name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(built(attribute(TABLE_PK))?)
            .attribute_definitions(built(attribute(TABLE_SK))?)
            .key_schema(built(key(TABLE_PK, KeyType::Hash))?)
            .key_schema(built(key(TABLE_SK, KeyType::Range))?)
            .send()
            .await
            .map_err(|e| call_error("CreateTable", e))?;
        let ttl = built(
            TimeToLiveSpecification::builder()
                .attribute_name(TABLE_TTL)
                .enabled(true)
                .build(),
        )?;
        client
            .update_time_to_live()
            .table_name(&name)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|e| call_error("UpdateTimeToLive", e))?;
        Ok(name)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A name no other test uses: `prefix` and a lower-case ULID (valid for buckets and tables).
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", ulid::Ulid::new().to_string().to_lowercase())
}

fn built<T>(request: Result<T, aws_sdk_dynamodb::error::BuildError>) -> Result<T, EmulatorError> {
    request.map_err(|e| call_error("CreateTable (request)", e))
}

fn free_port() -> Result<u16, EmulatorError> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| EmulatorError::Failed(e.to_string()))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| EmulatorError::Failed(e.to_string()))
}

fn call_error(call: &'static str, error: impl std::error::Error) -> EmulatorError {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    EmulatorError::Call { call, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bucket_and_table_are_created_and_usable() {
        let Some(emulator) = Emulator::start_or_skip("testkit").await else {
            return;
        };
        let bucket = emulator.create_bucket("testkit").await.expect("bucket");
        let s3 = emulator.s3();
        s3.put_object()
            .bucket(&bucket)
            .key("a/b")
            .body(b"hello".to_vec().into())
            .send()
            .await
            .expect("put");
        let got = s3
            .get_object()
            .bucket(&bucket)
            .key("a/b")
            .send()
            .await
            .expect("get");
        let body = got.body.collect().await.expect("body").into_bytes();
        assert_eq!(&body[..], b"hello");

        let table = emulator.create_table("testkit").await.expect("table");
        let described = emulator
            .dynamodb()
            .describe_time_to_live()
            .table_name(&table)
            .send()
            .await
            .expect("describe ttl");
        let ttl = described
            .time_to_live_description()
            .expect("ttl description");
        assert_eq!(ttl.attribute_name(), Some(TABLE_TTL));
    }
}
