"""AWS failures read safely: a botocore timeout carries no AWS answer (its `response` is None), a throttle or a
transaction's conflict is transient, a failed condition is not."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from bridge.core import aws, health
from bridge.repositories.table import is_conditional_failure

TIMEOUTS = [
    ReadTimeoutError(endpoint_url="https://secretsmanager.eu-west-1.amazonaws.com/"),
    ConnectTimeoutError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/"),
    EndpointConnectionError(endpoint_url="https://sqs.eu-west-1.amazonaws.com/"),
    ConnectionClosedError(endpoint_url="https://kms.eu-west-1.amazonaws.com/"),
]


def _client_error(code: str, reasons: list[str] | None = None, message: str = "") -> ClientError:
    response: dict[str, Any] = {"Error": {"Code": code, "Message": message}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": r} for r in reasons]
    return ClientError(response, "TransactWriteItems")  # type: ignore[arg-type]


@pytest.mark.parametrize("exc", TIMEOUTS, ids=lambda e: type(e).__name__)
def test_a_timeout_has_no_aws_error_and_is_transient(exc: Exception) -> None:
    assert aws.error_of(exc) == {}
    assert aws.is_transient(exc)
    assert not is_conditional_failure(exc)


@pytest.mark.parametrize("exc", TIMEOUTS, ids=lambda e: type(e).__name__)
def test_the_health_check_reads_a_timed_out_secret_as_unverifiable(exc: Exception) -> None:
    def describe(**_: Any) -> dict[str, Any]:
        raise exc

    assert health.secret_problem("clickup-bridge/dev/clickup-client-secret", describe) == "unverifiable"


def test_the_health_check_reads_a_missing_secret_as_missing() -> None:
    def describe(**_: Any) -> dict[str, Any]:
        raise _client_error("ResourceNotFoundException")

    assert health.secret_problem("x", describe) == "missing"


@pytest.mark.parametrize(
    ("exc", "transient", "conditional"),
    [
        (_client_error("ProvisionedThroughputExceededException"), True, False),
        (_client_error("ThrottlingException"), True, False),
        (_client_error("InternalServerError"), True, False),
        (_client_error("ConditionalCheckFailedException"), False, True),
        (_client_error("TransactionCanceledException", ["None", "ConditionalCheckFailed"]), False, True),
        (_client_error("TransactionCanceledException", ["TransactionConflict", "None"]), True, False),
        (_client_error("TransactionCanceledException", ["ThrottlingError"]), True, False),
        # no reasons parsed: the message names them (DynamoDB: "... reasons [ConditionalCheckFailed, None]")
        (_client_error("TransactionCanceledException", None, "reasons [ConditionalCheckFailed, None]"), False, True),
        (_client_error("ValidationException"), False, False),
        (_client_error("AccessDeniedException"), False, False),
        (ValueError("not AWS"), False, False),
    ],
)
def test_transient_and_conditional_failures_are_told_apart(exc: Exception, transient: bool, conditional: bool) -> None:
    assert aws.is_transient(exc) is transient
    assert is_conditional_failure(exc) is conditional
