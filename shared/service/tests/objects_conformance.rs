//! The object store conformance suite (`architect_store::objects_conformance`) on both stores
//! `backends::open_objects` opens: the local directory (`local::*`) and S3 on the emulator
//! (`s3::*`, path-style, static test credentials, the block case catalogued in DynamoDB), with
//! the same cases unchanged. Without an emulator the S3 cases skip loudly (fail under `CI=true`).

use architect_service::StorageConfig;
use architect_service::backends::{open_index, open_objects};
use architect_store::objects_conformance::Fixture;

mod local {
    use super::*;

    architect_store::objects_conformance_tests!(|_case: &'static str| async move {
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = StorageConfig::default();
        let objects = open_objects(&config, dir.path())
            .await
            .expect("local objects");
        let index = open_index(&config, dir.path())
            .await
            .expect("embedded index");
        Some(Fixture::new(objects, index, dir))
    });
}

mod s3 {
    use super::*;
    use architect_testkit::Emulator;

    architect_store::objects_conformance_tests!(|case: &'static str| async move {
        let emulator = Emulator::start_or_skip(&format!("objects_conformance s3::{case}")).await?;
        let bucket = emulator.create_bucket("objects").await.expect("bucket");
        let table = emulator.create_table("objects").await.expect("table");
        let config = StorageConfig::emulated(bucket, table, emulator.region(), emulator.endpoint());
        let dir = tempfile::tempdir().expect("temporary directory");
        let objects = open_objects(&config, dir.path()).await.expect("S3 objects");
        let index = open_index(&config, dir.path())
            .await
            .expect("DynamoDB index");
        Some(Fixture::new(objects, index, (emulator, dir)))
    });
}
