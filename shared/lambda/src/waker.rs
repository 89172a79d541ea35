//! Alert dispatch wake-ups through SQS: a message with `DelaySeconds` per wake-up
//! (`architect_alertmanager::wake`), whose body names the tenant; the queue triggers the
//! `alerts` function, which runs a pass over the tenants of its batch. Standard queues keep a
//! per-message delay (FIFO queues do not), and the index claim makes each wake-up unique.

use crate::FunctionError;
use crate::env::FunctionEnv;
use architect_alertmanager::wake::Waker;
use architect_model::TenantId;
use async_trait::async_trait;
use std::sync::Arc;

/// Sends wake-ups to an SQS queue.
#[derive(Debug, Clone)]
pub struct SqsWaker {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

#[async_trait]
impl Waker for SqsWaker {
    async fn wake(&self, tenant: &TenantId, delay_secs: u32) -> Result<(), String> {
        let body = serde_json::json!({ "tenant": tenant.as_str() }).to_string();
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(i32::try_from(delay_secs).unwrap_or(900))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "SQS SendMessage: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                )
            })
    }
}

/// The waker of `ARCHITECT_ALERT_QUEUE`, if set.
pub async fn from_env(env: &FunctionEnv) -> Result<Option<Arc<dyn Waker>>, FunctionError> {
    let Some(queue_url) = &env.alert_queue else {
        return Ok(None);
    };
    let sdk = architect_service::backends::sdk_config(&env.storage().aws).await;
    Ok(Some(Arc::new(SqsWaker {
        client: aws_sdk_sqs::Client::new(&sdk),
        queue_url: queue_url.clone(),
    })))
}

/// The tenants an SQS event's records name (`{"tenant": ...}` bodies); `None` when `event` is
/// not an SQS event (a scheduled one).
pub fn tenants_of_sqs_event(event: &serde_json::Value) -> Option<Vec<TenantId>> {
    let records = event.get("Records")?.as_array()?;
    let mut tenants: Vec<TenantId> = records
        .iter()
        .filter(|r| r.get("eventSource").and_then(|s| s.as_str()) == Some("aws:sqs"))
        .filter_map(|r| {
            let body: serde_json::Value = serde_json::from_str(r.get("body")?.as_str()?).ok()?;
            TenantId::new(body.get("tenant")?.as_str()?).ok()
        })
        .collect();
    tenants.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    tenants.dedup();
    Some(tenants)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqs_events_name_their_tenants_and_scheduled_events_none() {
        let event = serde_json::json!({"Records": [
            {"eventSource": "aws:sqs", "body": "{\"tenant\":\"team-b\"}"},
            {"eventSource": "aws:sqs", "body": "{\"tenant\":\"team-a\"}"},
            {"eventSource": "aws:sqs", "body": "{\"tenant\":\"team-b\"}"},
            {"eventSource": "aws:sqs", "body": "not json"}
        ]});
        let tenants = tenants_of_sqs_event(&event).expect("sqs event");
        assert_eq!(
            tenants.iter().map(TenantId::as_str).collect::<Vec<_>>(),
            ["team-a", "team-b"]
        );
        let scheduled =
            serde_json::json!({"source": "aws.events", "detail-type": "Scheduled Event"});
        assert!(tenants_of_sqs_event(&scheduled).is_none());
    }
}
