"""Lambda's rules for partial batch responses, as the local pollers apply them."""

from local.pollers import failed_ids

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
