"""Issue 15, defect 4: one tick over 20,000 organisations (`python -m bench tick_fanout`; `TICK_FANOUT_ORGS`,
default 20,000; the page size is the functions' `TICK_PAGE_SIZE`, default 1,000).

The organisation index (`ORGS`) is seeded directly in DynamoDB (no OAuth). Each schedule (space-sync-tick on
space-sync.fifo, reconcile-tick on maintenance.fifo) is fired through the local Scheduler (its input with
`<aws.scheduler.scheduled-time>` replaced); this harness then plays the event source mapping: it receives batches of
10 as Lambda's poller does, runs every tick page through the real function (its module, a LambdaContext counting
down from the function's timeout, the timeout enforced) and **counts the job messages instead of running them**
(each organisation's job is a sync check or a sweep; what is measured here is the fan-out).

Reported per tick: organisations, jobs queued (distinct organisations, duplicates, missing), invocations (pages),
the longest invocation against the function's timeout, messages sent, SendMessageBatch calls, and the cost per
organisation (ms of invocation time per organisation, and wall time including this harness's receives)."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import Any

from bench.results import record
from bench.stack import start_stack

TICKS = (("space-sync-tick", "space-sync", "space_sync"), ("reconcile-tick", "maintenance", "maintenance"))


def _seed(stack: Any, count: int) -> list[str]:
    from bridge.repositories.table import main_table

    orgs = [f"org-{i:05d}" for i in range(count)]
    with main_table().batch_writer() as batch:
        for org in orgs:
            batch.put_item(Item={"pk": "ORGS", "sk": f"ORG#{org}", "org_id": org})
    return orgs


def _one_tick(stack: Any, schedule: str, queue: str, function: str, orgs: list[str]) -> dict[str, Any]:
    from local.aws import REGION
    from local.pollers import failed_ids, sqs_record

    sqs = stack.aws.client("sqs")
    url = stack.provisioned.queue_urls[queue]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    fn = stack.functions[function]
    jobs: Counter[str] = Counter()
    durations: list[float] = []
    tick_kind = ""
    page_messages = 0
    started = time.perf_counter()
    stack.schedules.fire(schedule)
    idle_since = None
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=600
        ).get("Messages", [])
        if not messages:
            idle_since = idle_since or time.perf_counter()
            if time.perf_counter() - idle_since > 2:
                break
            continue
        idle_since = None
        pages = [m for m in messages if json.loads(m["Body"])["kind"].endswith("tick")]
        done = [m for m in messages if m not in pages]
        for message in done:
            body = json.loads(message["Body"])
            jobs[body["org_id"]] += 1
            tick_kind = tick_kind or body["tick"]
        page_messages += len(pages)
        if pages:
            event = {"Records": [sqs_record(m, arn, REGION) for m in pages]}
            t0 = time.perf_counter()
            result = fn.invoke(event)  # raises FunctionTimeout if it ran past the function's timeout
            durations.append(time.perf_counter() - t0)
            failed = failed_ids(result, {m["MessageId"] for m in pages})
            if failed:
                raise RuntimeError(f"a tick page failed: {result}")
            done += pages
        for start in range(0, len(done), 10):
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])
                ],
            )
    wall = (idle_since or time.perf_counter()) - started
    invocation_s = sum(durations)
    timeout_s = fn.definition.timeout_s
    return {
        "tick": tick_kind,
        "organisations": len(orgs),
        "jobs_queued": sum(jobs.values()),
        "organisations_with_one_job": sum(1 for o in orgs if jobs[o] == 1),
        "organisations_with_more_than_one": sum(1 for o in orgs if jobs[o] > 1),
        "organisations_without_a_job": sum(1 for o in orgs if jobs[o] == 0),
        "invocations": len(durations),
        "function_timeout_s": timeout_s,
        "longest_invocation_s": round(max(durations), 2),
        "invocations_past_timeout": sum(1 for d in durations if d > timeout_s),
        "continuation_messages": page_messages - 1,  # the first page is the schedule's own message
        "messages_sent_per_org": round((sum(jobs.values()) + page_messages - 1) / len(orgs), 4),
        "send_message_batch_calls": -(-len(orgs) // 10),
        "invocation_ms_per_org": round(invocation_s * 1000 / len(orgs), 3),
        "invocation_s_total": round(invocation_s, 1),
        "wall_s_with_harness": round(wall, 1),
    }


def run() -> None:
    count = int(os.environ.get("TICK_FANOUT_ORGS", "20000"))
    stack = start_stack(run_pollers=False, run_schedules=False)
    try:
        from bridge.core.config import settings

        t0 = time.perf_counter()
        orgs = _seed(stack, count)
        seeded_s = time.perf_counter() - t0
        figures: dict[str, Any] = {
            "organisations": count,
            "page_size": settings().tick_page_size,
            "seed_s": round(seeded_s, 1),
            "jobs": "counted, not run (the harness receives them)",
        }
        for schedule, queue, function in TICKS:
            figures[schedule] = _one_tick(stack, schedule, queue, function, orgs)
            print(schedule, json.dumps(figures[schedule]), flush=True)
        record("tick_fanout", figures)
    finally:
        stack.stop()
