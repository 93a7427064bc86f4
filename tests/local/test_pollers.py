"""Lambda's rules for partial batch responses, as the local pollers apply them."""

import pytest

from infra import definitions as d
from local.pollers import EventSourceMappingRefused, check_event_source_mapping, failed_ids

BATCH = {"a", "b", "c"}


def test_no_failures_means_all_done() -> None:
    assert failed_ids({"batchItemFailures": []}, BATCH) == set()
    assert failed_ids(None, BATCH) == set()


def test_listed_failures_stay() -> None:
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, BATCH) == {"b"}


def test_malformed_response_fails_the_whole_batch() -> None:
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, BATCH) == BATCH
    assert failed_ids({"batchItemFailures": [{}]}, BATCH) == BATCH
    assert failed_ids("nonsense", BATCH) == BATCH


def test_without_report_batch_item_failures_the_response_is_ignored() -> None:
    """A mapping without ReportBatchItemFailures treats a returning invocation as a complete success."""
    assert (
        failed_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, BATCH, report_batch_item_failures=False) == set()
    )
    assert failed_ids("nonsense", BATCH, report_batch_item_failures=False) == set()


FN = d.FunctionDef("worker", "test", timeout_s=30)


def _mapping(**kwargs: object) -> d.EventSourceMappingDef:
    return d.EventSourceMappingDef(**{"queue": "q", "function": "worker", "batch_size": 10, **kwargs})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mapping", "attributes", "refusal"),
    [
        (_mapping(), {"VisibilityTimeout": "29"}, "Queue visibility timeout: 29 seconds is less than Function timeout"),
        (_mapping(batch_size=11), {"VisibilityTimeout": "30", "FifoQueue": "true"}, "batch size"),
        (_mapping(batch_size=100), {"VisibilityTimeout": "30"}, "batching window"),
        (_mapping(batch_size=0), {"VisibilityTimeout": "30"}, "batch size"),
        (_mapping(maximum_batching_window_s=1), {"VisibilityTimeout": "30", "FifoQueue": "true"}, "batching window"),
        (_mapping(maximum_batching_window_s=301), {"VisibilityTimeout": "30"}, "batching window"),
        (_mapping(maximum_concurrency=1), {"VisibilityTimeout": "30"}, "maximum concurrency"),
        (_mapping(maximum_concurrency=1001), {"VisibilityTimeout": "30"}, "maximum concurrency"),
    ],
)
def test_mappings_lambda_refuses_are_refused(
    mapping: d.EventSourceMappingDef, attributes: dict[str, str], refusal: str
) -> None:
    with pytest.raises(EventSourceMappingRefused, match=refusal):
        check_event_source_mapping(mapping, attributes, FN)


def test_mappings_lambda_accepts_are_accepted() -> None:
    check_event_source_mapping(_mapping(), {"VisibilityTimeout": "30"}, FN)
    check_event_source_mapping(_mapping(batch_size=100, maximum_batching_window_s=1), {"VisibilityTimeout": "30"}, FN)
    check_event_source_mapping(_mapping(maximum_concurrency=2), {"VisibilityTimeout": "180", "FifoQueue": "true"}, FN)


@pytest.mark.parametrize("queue", d.QUEUES, ids=lambda q: q.name)
def test_every_declared_mapping_is_one_lambda_accepts(queue: d.QueueDef) -> None:
    attributes = {"VisibilityTimeout": str(queue.visibility_timeout_s), "FifoQueue": str(queue.fifo).lower()}
    check_event_source_mapping(d.event_source_mapping(queue), attributes, d.function(queue.consumer))
