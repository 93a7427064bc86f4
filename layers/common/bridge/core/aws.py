"""AWS clients, created once per container and only when first used (boto3 is the heaviest import)."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _session() -> Any:
    import boto3

    return boto3.session.Session()


_BOUNDS = {"connect_timeout_s": 2.0, "read_timeout_s": 5.0, "max_attempts": 3}


def set_call_bounds(*, connect_timeout_s: float, read_timeout_s: float, max_attempts: int) -> None:
    """Bound this function's AWS calls tighter than the default (2 s to connect, 5 s to read, 3 attempts): for a
    function whose caller waits less (the webhook: ClickUp gives a delivery 7 s). Call before the first client."""
    _BOUNDS.update(connect_timeout_s=connect_timeout_s, read_timeout_s=read_timeout_s, max_attempts=max_attempts)
    _config.cache_clear()
    client.cache_clear()
    table.cache_clear()


@cache
def _config() -> Any:
    """Every AWS call is bounded (`_BOUNDS`: by default 2 s to connect, 5 s to read, 3 attempts in botocore's
    "standard" retry mode), so one stuck call cannot eat a function's time (an API function has 29 s behind API
    Gateway): it fails as a transient error (`is_transient`) the caller answers 503."""
    from botocore.config import Config

    return Config(
        connect_timeout=_BOUNDS["connect_timeout_s"],
        read_timeout=_BOUNDS["read_timeout_s"],
        retries={"mode": "standard", "max_attempts": int(_BOUNDS["max_attempts"])},
    )


@cache
def client(service: str) -> Any:
    return _session().client(service, config=_config())


@cache
def table(name: str) -> Any:
    return _session().resource("dynamodb", config=_config()).Table(name)


# Error codes AWS documents as transient (throttling, a service's internal error, a transaction's conflict with
# another one): DynamoDB Developer Guide, "Error handling with DynamoDB" (ProvisionedThroughputExceededException,
# RequestLimitExceeded, ThrottlingException, InternalServerError, TransactionConflict, TransactionInProgress);
# SQS API Reference, "Common Errors" (ServiceUnavailable, ThrottlingException, RequestThrottled); KMS API
# Reference (KMSInternalException, ThrottlingException, DependencyTimeoutException).
TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "RequestThrottled",
        "RequestThrottledException",
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionConflictException",
        "TransactionInProgressException",
        "KMSInternalException",
        "DependencyTimeoutException",
        "KMS.KMSInternalException",
        "KMS.DependencyTimeoutException",
    }
)
_TRANSIENT_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})


def error_of(exc: BaseException) -> dict[str, Any]:
    """The `Error` of an AWS answer an exception carries (`{"Code": ..., "Message": ...}`), or `{}`: a botocore
    `ClientError` has one; a timeout, a connection error (whose `response` may be None) or any other exception
    has none."""
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    return error if isinstance(error, dict) else {}


def is_transient(exc: BaseException) -> bool:
    """True when `exc` is an AWS call that failed for a passing reason (after botocore's own retries): a
    connection or read timeout, a throttle, a service's internal error, or a transaction cancelled by another
    one's conflict. Such a request is safe to repeat later. Reads no botocore module unless `exc` is one of its
    errors (imports stay light)."""
    module = type(exc).__module__
    if not module.startswith("botocore"):
        return False
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(exc, (ConnectionError, HTTPClientError)):  # timeouts, refused/closed connections
        return True
    if not isinstance(exc, ClientError):
        return False
    error = exc.response.get("Error", {})
    if error.get("Code") in TRANSIENT_CODES:
        return True
    reasons = {str(r.get("Code")) for r in exc.response.get("CancellationReasons") or []}
    return error.get("Code") == "TransactionCanceledException" and bool(reasons & _TRANSIENT_REASONS)
