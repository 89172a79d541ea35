//! SDK errors -> [`IndexError`].

use architect_index::IndexError;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::CancellationReason;

/// Error code of a failed `ConditionExpression` on PutItem / DeleteItem.
pub(crate) const CONDITIONAL_CHECK_FAILED_EXCEPTION: &str = "ConditionalCheckFailedException";

/// Error codes of transient failures: retrying the same request may succeed.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "TransactionInProgressException",
];

/// Cancellation reasons of transient failures inside a transaction.
const TRANSIENT_REASONS: &[&str] = &[
    "TransactionConflict",
    "ProvisionedThroughputExceeded",
    "ThrottlingError",
    "RequestLimitExceeded",
];

/// The error code of a service error; `None` for other failures.
pub(crate) fn code<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> Option<&str> {
    match error {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

/// Maps an SDK error of `call` to an [`IndexError`] (condition failures are the caller's).
pub(crate) fn from_sdk<E>(call: &str, error: SdkError<E, HttpResponse>) -> IndexError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let message = format!("DynamoDB {call}: {}", DisplayErrorContext(&error));
    match &error {
        SdkError::DispatchFailure(failure) if failure.is_user() => IndexError::Internal(message),
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            IndexError::Unavailable(message)
        }
        SdkError::ServiceError(service) => match service.err().code() {
            Some("ValidationException") => IndexError::Validation(message),
            Some(code) if TRANSIENT_CODES.contains(&code) => IndexError::Unavailable(message),
            _ if service.raw().status().is_server_error() => IndexError::Unavailable(message),
            _ => IndexError::Internal(message),
        },
        _ => IndexError::Internal(message),
    }
}

/// Maps the reasons of a `TransactionCanceledException`: one entry per operation, `None` for
/// the "None" code. A cancellation caused only by conflicts or throttling is
/// [`IndexError::Unavailable`] (retryable), one without any reason [`IndexError::Internal`].
pub(crate) fn canceled(reasons: &[CancellationReason], message: String) -> IndexError {
    let reasons: Vec<Option<String>> = reasons
        .iter()
        .map(|reason| match reason.code() {
            None | Some("None") => None,
            Some(code) => Some(code.to_owned()),
        })
        .collect();
    let mut codes = reasons.iter().flatten().peekable();
    if codes.peek().is_none() {
        return IndexError::Internal(format!("{message} (no cancellation reason)"));
    }
    if codes.all(|code| TRANSIENT_REASONS.contains(&code.as_str())) {
        return IndexError::Unavailable(format!("{message} ({reasons:?})"));
    }
    IndexError::TransactionCanceled { reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(codes: &[Option<&str>]) -> Vec<CancellationReason> {
        codes
            .iter()
            .map(|code| {
                let reason = CancellationReason::builder();
                match code {
                    Some(code) => reason.code(*code).build(),
                    None => reason.build(),
                }
            })
            .collect()
    }

    #[test]
    fn condition_failures_keep_their_positions() {
        let error = canceled(
            &reasons(&[Some("None"), Some("ConditionalCheckFailed"), None]),
            String::new(),
        );
        match error {
            IndexError::TransactionCanceled { reasons } => assert_eq!(
                reasons,
                vec![None, Some("ConditionalCheckFailed".to_owned()), None]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn conflicts_alone_are_retryable() {
        let conflict = canceled(
            &reasons(&[Some("TransactionConflict"), Some("None")]),
            String::new(),
        );
        assert!(conflict.is_retryable(), "{conflict:?}");
        let mixed = canceled(
            &reasons(&[Some("TransactionConflict"), Some("ConditionalCheckFailed")]),
            String::new(),
        );
        assert!(mixed.is_condition_failure(), "{mixed:?}");
        let none = canceled(&reasons(&[Some("None")]), String::new());
        assert!(matches!(none, IndexError::Internal(_)), "{none:?}");
    }
}
