//! [`DynamoIndex`]: the [`Index`] on one DynamoDB table, for AWS deployments.
//!
//! Each trait method is exactly one DynamoDB call, so the cost and atomicity of every index
//! operation are those documented by AWS:
//!
//! | method     | call                                                                    |
//! |------------|-------------------------------------------------------------------------|
//! | `get`      | `GetItem` (`ConsistentRead`)                                            |
//! | `put`      | `PutItem` + `ConditionExpression`                                       |
//! | `delete`   | `DeleteItem` + `ConditionExpression`                                    |
//! | `transact` | `TransactWriteItems` (`Put`, `Delete`, `ConditionCheck`)                |
//! | `query`    | `Query` (`ConsistentRead`): `KeyConditionExpression`, `Limit`, `ExclusiveStartKey`, `ScanIndexForward`, TTL `FilterExpression` |
//!
//! The table has string keys `pk` (hash) and `sk` (range) and TTL enabled on `ttl`.
//!
//! # Semantics
//!
//! [`architect_index::embedded::EmbeddedIndex`] is the reference; both pass
//! [`architect_index::conformance`]. Every request first runs the shared
//! [`architect_index::limits`] checks, so a request is rejected the same way locally and on AWS.
//!
//! DynamoDB deletes expired items lazily (up to days late), so expiry is enforced here against
//! the injected [`Clock`]: `get` drops an expired item, `query` filters expired items out
//! (they still count towards `Limit` and the 1 MB page, as the trait documents), and conditions
//! treat an expired item as absent (see the `expr` module).
//!
//! # Retries
//!
//! The client runs the SDK's *standard* retry mode with [`MAX_ATTEMPTS`] attempts and
//! exponential backoff from [`INITIAL_BACKOFF`] up to [`MAX_BACKOFF`] (with jitter); it retries
//! throttling, 5xx and transient network errors, never condition failures or cancellations.
//! A retried conditional write whose first attempt did apply reports a condition failure, as
//! with any DynamoDB client. What is still failing after the retries is
//! [`IndexError::Unavailable`].

mod convert;
mod error;
mod expr;

use std::sync::Arc;
use std::time::Duration;

use architect_index::limits::SK_ATTR;
use architect_index::{Condition, Index, IndexError, Item, Page, QueryRequest, WriteOp, limits};
use architect_model::clock::{Clock, SystemClock};
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem};

use crate::error::CONDITIONAL_CHECK_FAILED_EXCEPTION;
use crate::expr::Placeholders;

/// Attempts per request, the first included.
pub const MAX_ATTEMPTS: u32 = 4;
/// Backoff before the first retry (before jitter).
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(50);
/// Longest backoff between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// The retry configuration every [`DynamoIndex`] client runs with.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(INITIAL_BACKOFF)
        .with_max_backoff(MAX_BACKOFF)
}

/// The index on a DynamoDB table. Cheap to clone.
#[derive(Clone, Debug)]
pub struct DynamoIndex {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

impl DynamoIndex {
    /// The index on `table`; `clock` decides TTL expiry. The client's retry configuration is
    /// replaced by [`retry_config`].
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        let config = client
            .config()
            .to_builder()
            .retry_config(retry_config())
            .build();
        Self {
            client: Client::from_conf(config),
            table: table.into(),
            clock,
        }
    }

    /// The index on `table` with a client from `config` and the system clock.
    pub fn from_sdk_config(config: &SdkConfig, table: impl Into<String>) -> Self {
        Self::new(Client::new(config), table, Arc::new(SystemClock))
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The `TransactWriteItem` of one validated operation.
    fn transact_item(&self, op: &WriteOp, now: i64) -> Result<TransactWriteItem, IndexError> {
        let mut p = Placeholders::new(now);
        let condition = p.condition(op.condition());
        let item = match op {
            WriteOp::Put { item, .. } => {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(convert::item_to_dynamo(item)))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(p.names())
                    .set_expression_attribute_values(p.values())
                    .build()
                    .map_err(build_error)?;
                TransactWriteItem::builder().put(put)
            }
            WriteOp::Delete { pk, sk, .. } => {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(convert::key(pk, sk)))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(p.names())
                    .set_expression_attribute_values(p.values())
                    .build()
                    .map_err(build_error)?;
                TransactWriteItem::builder().delete(delete)
            }
            WriteOp::Check { pk, sk, .. } => {
                // Validation guarantees a non-trivial condition for checks.
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(convert::key(pk, sk)))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(p.names())
                    .set_expression_attribute_values(p.values())
                    .build()
                    .map_err(build_error)?;
                TransactWriteItem::builder().condition_check(check)
            }
        };
        Ok(item.build())
    }
}

fn build_error(error: aws_sdk_dynamodb::error::BuildError) -> IndexError {
    IndexError::Internal(format!("building a DynamoDB request: {error}"))
}

/// A single write's error: a failed condition is [`IndexError::ConditionFailed`].
fn write_error<E>(
    call: &str,
    pk: &str,
    sk: &str,
    error: aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> IndexError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if error::code(&error) == Some(CONDITIONAL_CHECK_FAILED_EXCEPTION) {
        return IndexError::ConditionFailed {
            pk: pk.to_owned(),
            sk: sk.to_owned(),
        };
    }
    error::from_sdk(call, error)
}

#[async_trait]
impl Index for DynamoIndex {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, IndexError> {
        limits::validate_key(pk, sk)?;
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(convert::key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| error::from_sdk("GetItem", e))?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let item = convert::item_from_dynamo(item)?;
        // DynamoDB may not have deleted it yet.
        Ok((!item.is_expired(self.clock.now_secs())).then_some(item))
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), IndexError> {
        limits::validate_item(&item)?;
        limits::validate_condition(&condition)?;
        let mut p = Placeholders::new(self.clock.now_secs());
        let expression = p.condition(&condition);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(convert::item_to_dynamo(&item)))
            .set_condition_expression(expression)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .send()
            .await
            .map_err(|e| write_error("PutItem", &item.pk, &item.sk, e))?;
        Ok(())
    }

    async fn delete(&self, pk: &str, sk: &str, condition: Condition) -> Result<(), IndexError> {
        limits::validate_key(pk, sk)?;
        limits::validate_condition(&condition)?;
        let mut p = Placeholders::new(self.clock.now_secs());
        let expression = p.condition(&condition);
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(convert::key(pk, sk)))
            .set_condition_expression(expression)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .send()
            .await
            .map_err(|e| write_error("DeleteItem", pk, sk, e))?;
        Ok(())
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), IndexError> {
        limits::validate_transaction(&ops)?;
        let now = self.clock.now_secs();
        let items = ops
            .iter()
            .map(|op| self.transact_item(op, now))
            .collect::<Result<Vec<_>, _>>()?;
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(canceled)) => {
                    let message = format!("DynamoDB TransactWriteItems: {canceled}");
                    Err(error::canceled(canceled.cancellation_reasons(), message))
                }
                _ => Err(error::from_sdk("TransactWriteItems", e)),
            },
        }
    }

    async fn query(&self, request: QueryRequest) -> Result<Page, IndexError> {
        limits::validate_query(&request)?;
        let now = self.clock.now_secs();
        let mut p = Placeholders::new(now);
        let key_condition = p.key_condition(&request.pk, &request.range);
        let filter = p.unexpired();
        let start = request
            .start_after
            .as_deref()
            .map(|sk| convert::key(&request.pk, sk));
        let limit = request
            .limit
            .map(|limit| i32::try_from(limit).unwrap_or(i32::MAX));
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression(key_condition)
            .filter_expression(filter)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .set_exclusive_start_key(start)
            .set_limit(limit)
            .scan_index_forward(!request.reverse)
            .send()
            .await
            .map_err(|e| error::from_sdk("Query", e))?;
        let mut items = Vec::new();
        for item in output.items.unwrap_or_default() {
            let item = convert::item_from_dynamo(item)?;
            // The filter already hid expired items; this keeps `get` and `query` in step.
            if !item.is_expired(now) {
                items.push(item);
            }
        }
        let next = match output.last_evaluated_key {
            Some(mut key) if !key.is_empty() => Some(convert::take_key(&mut key, SK_ATTR)?),
            _ => None,
        };
        Ok(Page { items, next })
    }
}
