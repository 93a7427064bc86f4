"""Three of moto's DynamoDB costs grow with the whole table, where DynamoDB's grow with what a request touches:

- a base-table Query lists and sorts every item of the table to find one partition, then every item of the
  partition to find the key condition's range;
- a Scan page walks the table from its first row to find where the previous page ended, and deep-copies every
  row it reads before its filter drops most of them;
- TransactWriteItems deep-copies every table it touches, whole, to be able to roll back.

On a table holding a few thousand rows each costs hundreds of milliseconds per request, a Scan page seconds
(measured: a two-item transaction 455 ms, a partition query 250 ms, in a fault run of 150 tickets; a filtered Scan
of 3,300 rows 4-5 s mid-suite, while every other DynamoDB request waited), so the local stack measured moto, not the
bridge, and slowed down as it ran. `install()` narrows each to the rows a key condition selects, the rows after a
page's start and the items a request names; semantics are unchanged (same results, same all-or-nothing rollback; see
tests/local/test_local_aws.py).
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator
from typing import Any

_installed = False
ORIGINAL: dict[str, Any] = {}  # moto's own methods replaced by `install()`, by name (tests compare both)
_lock = threading.RLock()  # the patched paths swap table state: one request at a time (as AtomicDynamoDB does)


class _KeepTables:
    """Stands in for the `copy` module inside moto's transaction code: tables are not copied (the touched items
    are saved instead); everything else is copied as before."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    Table.query = _partition_query(Table.query)  # type: ignore[method-assign]
    ORIGINAL["scan"] = Table.scan
    Table.scan = _resumed_scan(Table.scan)  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = _item_saving_transaction(  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items
    )
    _check_keys_everywhere(DynamoDBBackend)
    _check_attribute_names(DynamoDBBackend)
    _idempotent_transactions()
    _installed = True


def _partition_query(original_query: Any) -> Any:
    """moto's base-table Query, shown only the partition the key names and, within it, the rows the key condition
    selects (an index query, or one without a partition key, runs as before)."""
    from moto.dynamodb.models.table import Table

    def query(self: Table, hash_key: Any, range_comparison: Any, range_objs: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[4] if len(args) > 4 else kwargs.get("index_name")
        if index_name or hash_key is None:
            return original_query(self, hash_key, range_comparison, range_objs, *args, **kwargs)
        with _lock:
            partition = self.items.get(hash_key)
            if partition and range_comparison and self.range_key_attr:
                # only the rows the key condition selects are sorted and read, as DynamoDB does
                partition = {r: i for r, i in partition.items() if i.range_key.compare(range_comparison, range_objs)}
            with _showing(self, {hash_key: partition} if partition else {}):
                return original_query(self, hash_key, range_comparison, range_objs, *args, **kwargs)

    return query


def _resumed_scan(original_scan: Any) -> Any:
    """moto's base-table Scan, made to cost what the page reads rather than the whole table, with moto's answer:

    - it starts after `ExclusiveStartKey` (moto walks the sorted table from its first row to find where the previous
      page ended, comparing every row with the key: each page of a paginated Scan cost the whole table);
    - each row's size is computed once (moto computes it twice) and only the rows the `FilterExpression` keeps are
      copied into the answer (moto deep-copies every row read, then filters: ~1.5 ms a row, so one 1 MB page of a
      few thousand rows held the lock every DynamoDB request waits on for 4-5 s, and the functions' calls timed out).

    The page is what DynamoDB documents ("Scan", API Reference): rows in the table's order, at most `Limit` rows
    *read* and at most 1 MB read before the filter is applied, `LastEvaluatedKey` the last row read when the page
    stopped early, `ScannedCount` the rows read. Legacy `ScanFilter`, index scans and parallel (segment) scans run
    as before. tests/local/test_local_aws.py compares both on the same table."""
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table

    def scan(
        self: Table,
        filters: Any,
        limit: Any,
        exclusive_start_key: Any,
        filter_expression: Any = None,
        index_name: Any = None,
        consistent_read: bool = False,
        projection_expression: Any = None,
        segments: Any = (None, None),
    ) -> Any:
        if filters or index_name or tuple(segments) != (None, None):
            return original_scan(
                self,
                filters,
                limit,
                exclusive_start_key,
                filter_expression,
                index_name,
                consistent_read,
                projection_expression,
                segments=segments,
            )
        with _lock:
            rows = _rows_after(self, exclusive_start_key, DynamoType)
            results: list[Any] = []
            read, size = 0, 0
            last: Any = None
            last_evaluated_key = None
            for item in rows:
                item_size = item.size()
                if read == limit or size + item_size > RESULT_SIZE_LIMIT:
                    last_evaluated_key = self._get_last_evaluated_key(last, None)
                    break
                read, size, last = read + 1, size + item_size, item
                if filter_expression is None or filter_expression.expr(item):
                    results.append(copy.deepcopy(item))
            if projection_expression:
                results = [r.project(projection_expression) for r in results]
            return results, read, last_evaluated_key

    return scan


def _rows_after(table: Any, exclusive_start_key: dict[str, Any] | None, dynamo_type: Any) -> list[Any]:
    """The table's rows in moto's order (partition key, then sort key), those after `exclusive_start_key` only."""
    if not exclusive_start_key or table.hash_key_attr not in exclusive_start_key:
        return list(table.all_items())
    start_hash = dynamo_type(exclusive_start_key[table.hash_key_attr])
    range_attr = table.range_key_attr
    start_range = dynamo_type(exclusive_start_key[range_attr]) if range_attr in exclusive_start_key else None
    after: dict[Any, Any] = {}
    for hash_value, partition in table.items.items():
        if hash_value > start_hash:
            after[hash_value] = partition
        elif hash_value == start_hash and range_attr and start_range is not None:
            rest = {r: i for r, i in partition.items() if r > start_range}
            if rest:
                after[hash_value] = rest
    with _showing(table, after):
        return list(table.all_items())


@contextlib.contextmanager
def _showing(table: Any, rows: dict[Any, Any]) -> Iterator[None]:
    """Within the block, moto's `table` holds only `rows` (its partitions by hash key); the whole table is put back
    after. Callers hold `_lock`."""
    everything = table.items
    table.items = rows
    try:
        yield
    finally:
        table.items = everything


def _item_saving_transaction(original_transact: Any) -> Any:
    """moto's TransactWriteItems without its deep copy of every touched table: the items the request names are
    saved instead, and put back when it fails (the same all-or-nothing rollback)."""
    from moto.dynamodb import models as backend_module
    from moto.dynamodb.models import DynamoDBBackend

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        with _lock:
            saved = _touched(self, transact_items)
            real_copy = backend_module.copy
            backend_module.copy = _KeepTables  # type: ignore[assignment]
            try:
                original_transact(self, transact_items)
            except BaseException:
                _restore(saved)
                raise
            finally:
                backend_module.copy = real_copy

    return transact_write_items


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    """(table, hash key, range key or None, a copy of the item as it is or None) for each item the request names."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName", ""))
        if table is None:
            continue
        attrs = op.get("Item") if op_type == "Put" else op.get("Key")
        if not attrs or table.hash_key_attr not in attrs:
            continue
        hash_value = DynamoType(attrs[table.hash_key_attr])
        range_attr = table.range_key_attr
        range_value = DynamoType(attrs[range_attr]) if range_attr and range_attr in attrs else None
        current = table.get_item(hash_value, range_value) if (range_value or not range_attr) else None
        saved.append((table, hash_value, range_value, copy.deepcopy(current)))
    return saved


def _restore(saved: list[tuple[Any, Any, Any, Any]]) -> None:
    """Put the saved items back, last first (an item that did not exist is removed again)."""
    for table, hash_value, range_value, item in reversed(saved):
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
            continue
        partition = table.items[hash_value]
        if item is None:
            partition.pop(range_value, None)
        else:
            partition[range_value] = item


IDEMPOTENCY_WINDOW_S = 600.0  # "A client request token is valid for 10 minutes after the first request ... completed"


def _idempotent_transactions() -> None:
    """TransactWriteItems' `ClientRequestToken`, as DynamoDB documents it (API Reference, "TransactWriteItems",
    ClientRequestToken): a call repeating a token whose first call succeeded within the last 10 minutes "returns
    successfully without making any changes"; the same token with other parameters is refused with
    `IdempotentParameterMismatchException`; while the first call with a token is still running, another is refused
    with `TransactionInProgressException`. The SDKs fill the token in (botocore: an `idempotencyToken` member) and
    keep it across their retries, so a retry after a lost answer succeeds on AWS instead of failing its own
    condition; moto ignores the token, which made the local stack refuse what AWS accepts."""
    import hashlib
    import json
    import time

    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
    from moto.dynamodb.responses import DynamoHandler

    class IdempotentParameterMismatch(DynamodbException):
        def __init__(self) -> None:
            super().__init__(
                ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException",
                message="Request parameters do not match the ones of the first request with this ClientRequestToken",
            )

    class TransactionInProgress(DynamodbException):
        def __init__(self) -> None:
            super().__init__(
                ERROR_TYPE_PREFIX + "TransactionInProgressException",
                message="The transaction with the given request token is already in progress.",
            )

    original = DynamoHandler.transact_write_items
    done: dict[tuple[str, str, str], tuple[float, str]] = {}  # (account, region, token) -> (completed at, digest)
    running: set[tuple[str, str, str]] = set()
    guard = threading.Lock()

    def transact_write_items(self: Any) -> Any:
        token = self.body.get("ClientRequestToken")
        if not token:
            return original(self)
        key = (str(self.current_account), str(self.region), str(token))
        parameters = {k: v for k, v in self.body.items() if k != "ClientRequestToken"}
        digest = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()
        now = time.monotonic()
        with guard:
            for stale in [k for k, (at, _) in done.items() if now - at > IDEMPOTENCY_WINDOW_S]:
                del done[stale]
            if key in running:
                raise TransactionInProgress()
            if key in done:
                if done[key][1] != digest:
                    raise IdempotentParameterMismatch()
                return _success()  # nothing is written again
            running.add(key)
        try:
            result = original(self)
        finally:
            with guard:
                running.discard(key)
        with guard:
            done[key] = (time.monotonic(), digest)
        return result

    def _success() -> Any:
        from moto.core.responses import ActionResult

        return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})

    DynamoHandler.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _check_keys_everywhere(backend_class: Any) -> None:
    """DynamoDB refuses an empty key attribute and keys over 2,048 bytes (partition) / 1,024 bytes (sort) in every
    request that names a key, reads included ("Partition keys and sort keys",
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html; the same
    ValidationException on GetItem, Query, DeleteItem and UpdateItem, e.g. facebook/ThreatExchange#1324 on a
    Query). moto checks them on PutItem and TransactWriteItems' Put only, and the empty key on GetItem and Query:
    a DeleteItem or UpdateItem with an empty key, or a read with an oversized one, passed locally and would fail
    on AWS. The local stack refuses them as DynamoDB does."""
    from moto.dynamodb.exceptions import KeyIsEmptyStringException

    def check(table: Any, key: dict[str, Any] | None) -> None:
        if not key:
            return
        for name, value in key.items():
            if isinstance(value, dict) and any(v == "" or v == b"" for v in value.values()):
                raise KeyIsEmptyStringException(name)
        table._validate_key_sizes({k: v for k, v in key.items() if isinstance(v, dict)})

    original_get = backend_class.get_item
    original_delete = backend_class.delete_item
    original_update = backend_class.update_item
    original_query = backend_class.query

    def get_item(self: Any, table_name: str, keys: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        check(self.get_table(table_name), keys)
        return original_get(self, table_name, keys, *args, **kwargs)

    def delete_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        check(self.get_table(table_name), key)
        return original_delete(self, table_name, key, *args, **kwargs)

    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        check(self.get_table(table_name), key)
        return original_update(self, table_name, key, *args, **kwargs)

    def query(self: Any, table_name: str, hash_key_dict: dict[str, Any] | None, *args: Any, **kwargs: Any) -> Any:
        table = self.get_table(table_name)
        index_name = kwargs.get("index_name")
        if hash_key_dict and not index_name:
            check(table, {table.hash_key_attr: hash_key_dict})
        return original_query(self, table_name, hash_key_dict, *args, **kwargs)

    backend_class.get_item = get_item
    backend_class.delete_item = delete_item
    backend_class.update_item = update_item
    backend_class.query = query


def _empty_name(value: Any) -> bool:
    """True when a DynamoDB JSON value holds a map with an empty key at any depth."""
    if isinstance(value, dict):
        if "M" in value and isinstance(value["M"], dict):
            return any(k == "" or _empty_name(v) for k, v in value["M"].items())
        if "L" in value and isinstance(value["L"], list):
            return any(_empty_name(v) for v in value["L"])
    return False


def _check_attribute_names(backend_class: Any) -> None:
    """DynamoDB refuses an attribute name that is the empty string wherever a request carries one, a map key at any
    depth inside a value included ("Empty attribute name"; attribute names are 1 to 64 KB long, "Attributes" in
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html). moto stored such a map, and
    its own GetItem answer for that item then failed to parse in botocore, so one write broke every later read of
    the item. The local stack refuses them on PutItem, UpdateItem and TransactWriteItems (BatchWriteItem puts
    through PutItem) with DynamoDB's ValidationException."""
    from moto.dynamodb.exceptions import MockValidationException

    def check(item: dict[str, Any] | None) -> None:
        for name, value in (item or {}).items():
            if name == "" or _empty_name(value):
                raise MockValidationException("One or more parameter values are not valid. Empty attribute name")

    original_put = backend_class.put_item
    original_update = backend_class.update_item
    original_transact = backend_class.transact_write_items

    def put_item(self: Any, table_name: str, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        check(item_attrs)
        return original_put(self, table_name, item_attrs, *args, **kwargs)

    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        values = kwargs.get("expression_attribute_values")
        if values is None and len(args) >= 3:
            values = args[2]
        check(values)
        return original_update(self, table_name, key, *args, **kwargs)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        for entry in transact_items:
            for op in entry.values():
                check(op.get("Item"))
                check(op.get("ExpressionAttributeValues"))
        return original_transact(self, transact_items)

    backend_class.put_item = put_item
    backend_class.update_item = update_item
    backend_class.transact_write_items = transact_write_items
