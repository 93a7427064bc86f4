"""`ORG#{org}` / `TICK#{job}`: the last schedule tick whose job ran for the organisation (one row per kind of job).

A tick's page may be delivered again (a failed or timed-out invocation, a Scheduler retry), and SQS FIFO
deduplication only covers 5 minutes (AWS: "Using the message deduplication ID in Amazon SQS"), less than the
maintenance queue's 12-minute visibility timeout; so the job itself claims its tick with a conditional write, and a
second message for the same organisation and tick finds the claim taken."""

from __future__ import annotations

import time

from bridge.repositories.table import is_conditional_failure, main_table, org_pk


def claim(org_id: str, job: str, tick: str, owner: str) -> bool:
    """Claim `tick` (an ISO-8601 UTC time, ordered as text: `2026-12-01T00:10:00Z`) for the organisation's `job`.

    True: this message runs the job. The same message received again (`owner`, its SQS message id, unchanged)
    keeps its claim, so a job handed back or retried still runs; another message for the same tick, or one for an
    older tick than the last claimed, gets False (a duplicate: nothing to do)."""
    try:
        main_table().update_item(
            Key={"pk": org_pk(org_id), "sk": f"TICK#{job}"},
            UpdateExpression="SET #t = :t, #o = :o, claimed_at = :now",
            ConditionExpression="attribute_not_exists(#t) OR #t < :t OR (#t = :t AND #o = :o)",
            ExpressionAttributeNames={"#t": "tick", "#o": "owner"},
            ExpressionAttributeValues={":t": tick, ":o": owner, ":now": int(time.time())},
        )
    except Exception as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True
