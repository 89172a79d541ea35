//! The service's configuration from environment variables, as the ingester container gets it
//! (the terraform module sets them on the ECS task):
//!
//! | variable                   | meaning                                                   |
//! |----------------------------|-----------------------------------------------------------|
//! | `ARCHITECT_CONFIG`         | a YAML [`Config`] file to start from (default: the defaults, listening on `0.0.0.0:9009`) |
//! | `ARCHITECT_LISTEN`         | address to listen on                                      |
//! | `ARCHITECT_DATA_DIR`       | local state: the WAL, and objects/index when not on AWS   |
//! | `ARCHITECT_BUCKET`         | S3 bucket of the Parquet files; with `ARCHITECT_TABLE`    |
//! | `ARCHITECT_TABLE`          | DynamoDB table of the index; with `ARCHITECT_BUCKET`      |
//! | `ARCHITECT_S3_PATH_STYLE`  | `true` for path-style S3 requests (emulators, MinIO)      |
//! | `ARCHITECT_DEFAULT_TENANT` | tenant of requests without `X-Scope-OrgID`                |
//!
//! `ARCHITECT_BUCKET` and `ARCHITECT_TABLE` go together: both set, blocks go to S3 and the index
//! to DynamoDB (the WAL stays in the data directory); one without the other is an error. Region,
//! credentials and endpoint overrides come from the AWS SDK's standard environment. Logging
//! (`ARCHITECT_LOG`, `ARCHITECT_LOG_FORMAT`) is the binary's business.
//!
//! Without `ARCHITECT_CONFIG` the container only takes hot writes: compaction, rule evaluation
//! and alert dispatch are off, because in AWS the scheduled `compact`, `rules` and `alerts`
//! functions do them (and the container's network may reach nothing but AWS endpoints, where
//! a receiver would be unreachable). A config file turns them back on explicitly.

use crate::{Config, ServiceError, StorageConfig};
use std::path::{Path, PathBuf};

/// Config file variable.
pub const CONFIG: &str = "ARCHITECT_CONFIG";
/// Listen address variable.
pub const LISTEN: &str = "ARCHITECT_LISTEN";
/// Data directory variable.
pub const DATA_DIR: &str = "ARCHITECT_DATA_DIR";
/// Bucket variable.
pub const BUCKET: &str = "ARCHITECT_BUCKET";
/// Table variable.
pub const TABLE: &str = "ARCHITECT_TABLE";
/// Path-style variable.
pub const S3_PATH_STYLE: &str = "ARCHITECT_S3_PATH_STYLE";
/// Default tenant variable.
pub const DEFAULT_TENANT: &str = "ARCHITECT_DEFAULT_TENANT";

/// Whether a boolean variable's value means true.
pub fn is_true(value: &str) -> bool {
    value == "true" || value == "1"
}

impl Config {
    /// The configuration from the process environment (see the [module](self) docs).
    pub fn from_env() -> Result<Self, ServiceError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The configuration from `lookup` (variable name to value): the file `ARCHITECT_CONFIG`
    /// names, else the defaults listening on `0.0.0.0:9009`, then the other variables over it.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ServiceError> {
        let lookup = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let mut config = match lookup(CONFIG) {
            Some(path) => Config::from_file(Path::new(&path))?,
            None => {
                let mut c = Config {
                    listen: "0.0.0.0:9009".into(),
                    ..Config::default()
                };
                c.compactor.enabled = false;
                c.ruler.enabled = false;
                c.alertmanager.enabled = false;
                c
            }
        };
        if let Some(listen) = lookup(LISTEN) {
            config.listen = listen;
        }
        if let Some(dir) = lookup(DATA_DIR) {
            config.data_dir = PathBuf::from(dir);
        }
        if let Some(tenant) = lookup(DEFAULT_TENANT) {
            config.default_tenant = tenant;
        }
        match (lookup(BUCKET), lookup(TABLE)) {
            (Some(bucket), Some(table)) => {
                let path_style = lookup(S3_PATH_STYLE).is_some_and(|v| is_true(&v));
                // The connection settings (`storage.aws`) of a config file still apply.
                let aws = config.storage.aws.clone();
                config.storage = StorageConfig {
                    aws,
                    ..StorageConfig::aws(bucket, table, path_style)
                };
            }
            (None, None) => {}
            (Some(_), None) | (None, Some(_)) => {
                return Err(ServiceError::Config(format!(
                    "{BUCKET} and {TABLE} must be set together"
                )));
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DynamoConfig, IndexConfig, ObjectsConfig, S3Config};
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ServiceError> {
        let vars: HashMap<&str, &str> = vars.iter().copied().collect();
        Config::from_lookup(|n| vars.get(n).map(|v| v.to_string()))
    }

    #[test]
    fn defaults_listen_on_all_interfaces_with_local_storage() {
        let c = config(&[]).expect("valid");
        assert_eq!(c.listen, "0.0.0.0:9009");
        assert_eq!(c.storage, StorageConfig::default());
        // The scheduled functions do the periodic work in AWS.
        assert!(!c.compactor.enabled && !c.ruler.enabled && !c.alertmanager.enabled);
    }

    #[test]
    fn bucket_and_table_select_s3_and_dynamodb_and_keep_the_wal_local() {
        let c = config(&[
            (LISTEN, "0.0.0.0:9100"),
            (DATA_DIR, "/data"),
            (BUCKET, "b"),
            (TABLE, "t"),
            (S3_PATH_STYLE, "true"),
            (DEFAULT_TENANT, "team-a"),
        ])
        .expect("valid");
        assert_eq!(c.listen, "0.0.0.0:9100");
        assert_eq!(c.data_dir, PathBuf::from("/data"));
        assert_eq!(c.default_tenant, "team-a");
        assert_eq!(
            c.storage.objects,
            ObjectsConfig::S3(S3Config {
                bucket: "b".into(),
                path_style: true,
            })
        );
        assert_eq!(
            c.storage.index,
            IndexConfig::Dynamodb(DynamoConfig { table: "t".into() })
        );
        // The WAL directory is left to default under the data directory.
        assert!(c.ingester.wal_dir.as_os_str().is_empty());
    }

    #[test]
    fn bucket_without_table_is_an_error() {
        let message = config(&[(BUCKET, "b")])
            .expect_err("half an AWS configuration")
            .to_string();
        assert!(message.contains(TABLE), "{message}");
        assert!(config(&[(TABLE, "t"), (BUCKET, "")]).is_err());
    }

    #[test]
    fn config_file_then_variables() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.yaml");
        std::fs::write(
            &path,
            "listen: 127.0.0.1:1234\nstorage:\n  aws:\n    region: eu-west-1\n",
        )
        .expect("write");
        let path = path.to_string_lossy().to_string();
        let c = config(&[(CONFIG, &path), (BUCKET, "b"), (TABLE, "t")]).expect("valid");
        assert_eq!(c.listen, "127.0.0.1:1234");
        assert_eq!(c.storage.aws.region.as_deref(), Some("eu-west-1"));
        assert!(matches!(c.storage.objects, ObjectsConfig::S3(_)));
    }
}
