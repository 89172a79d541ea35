//! Precise timers where dispatch passes are far apart. In AWS the `alerts` function runs on a
//! one-minute schedule; a group due sooner (`group_wait: 30s`, `group_interval: 10s`) or
//! between two ticks gets a wake-up instead: a message that triggers a pass over its tenant
//! when the group is due (SQS with `DelaySeconds`, `architect_lambda`).
//!
//! Every pass computes its tenant's next due time from the stored group timers, and every
//! alert post the `group_wait` of the routes it enters. Several passes compute the same time,
//! so a wake-up is first claimed in the index (`{tenant}#am#wake` / its second): each time is
//! sent once. A lost message costs precision only; the schedule's next tick still flushes.

use crate::AmError;
use architect_index::{Condition, Index, Item};
use architect_model::TenantId;
use async_trait::async_trait;

/// The longest delay a wake-up can have (SQS's `DelaySeconds` limit); later times are left
/// to a pass closer to them.
pub const MAX_WAKE_DELAY_SECS: i64 = 900;

/// Sends wake-ups.
#[async_trait]
pub trait Waker: Send + Sync + std::fmt::Debug {
    /// Asks for a dispatch pass over `tenant` in `delay_secs` seconds.
    async fn wake(&self, tenant: &TenantId, delay_secs: u32) -> Result<(), String>;
}

/// Schedules a pass over `tenant` at `at_ms` (rounded up to the second) unless one was already
/// scheduled for that second; `Ok(false)` when it was, or when `at_ms` is too far ahead.
pub async fn schedule(
    index: &dyn Index,
    waker: &dyn Waker,
    tenant: &TenantId,
    at_ms: i64,
    now_ms: i64,
) -> Result<bool, AmError> {
    let ceil_secs = |ms: i64| ms.div_euclid(1000) + i64::from(ms.rem_euclid(1000) != 0);
    let at_secs = ceil_secs(at_ms);
    let delay = ceil_secs((at_secs * 1000 - now_ms).max(0));
    if delay > MAX_WAKE_DELAY_SECS {
        return Ok(false);
    }
    let item = Item::new(
        format!("{}#am#wake", tenant.as_str()),
        format!("{at_secs:012}"),
    )
    .with_ttl(at_secs + 86_400);
    match index.put(item, Condition::NotExists).await {
        Ok(()) => {}
        Err(e) if e.is_condition_failure() => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let delay = u32::try_from(delay).unwrap_or(0);
    if let Err(e) = waker.wake(tenant, delay).await {
        tracing::warn!(tenant = tenant.as_str(), error = %e, "scheduling a dispatch wake-up failed; the next scheduled pass flushes instead");
        return Ok(false);
    }
    Ok(true)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Debug, Default)]
    struct Recorded(Mutex<Vec<(String, u32)>>);

    #[async_trait]
    impl Waker for Recorded {
        async fn wake(&self, tenant: &TenantId, delay_secs: u32) -> Result<(), String> {
            self.0
                .lock()
                .unwrap()
                .push((tenant.as_str().to_owned(), delay_secs));
            Ok(())
        }
    }

    #[tokio::test]
    async fn each_second_is_woken_once_and_far_times_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let index =
            architect_index::embedded::EmbeddedIndex::open(&dir.path().join("i.redb")).unwrap();
        let waker = Recorded::default();
        let t = TenantId::new("team-a").unwrap();
        // Items expire by the real clock: a real time, 250 ms past a second.
        let now = chrono::Utc::now().timestamp() * 1000 + 250;
        assert!(
            schedule(&index, &waker, &t, now + 29_900, now)
                .await
                .unwrap()
        );
        // Another pass computing the same time: already scheduled.
        assert!(
            !schedule(&index, &waker, &t, now + 29_900, now + 400)
                .await
                .unwrap()
        );
        assert!(
            !schedule(&index, &waker, &t, now + 901_000, now)
                .await
                .unwrap()
        );
        assert!(
            schedule(&index, &waker, &t, now - 5_000, now)
                .await
                .unwrap()
        );
        // Rounded up to the second: 30.15 s after the second → 31 s, 30.75 s away → 31 s.
        assert_eq!(
            *waker.0.lock().unwrap(),
            vec![("team-a".to_owned(), 31), ("team-a".to_owned(), 0)]
        );
    }
}
