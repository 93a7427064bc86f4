"""The bridge's resources, declared once.

Both the CDK stack (``infra/``) and the embedded local stack (``local/``) read these definitions, so the
routes, queues, schedules and tables that run on a laptop are the ones that get deployed. Nothing here
imports CDK or boto3: the local stack and the tests load it cheaply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

PROJECT = "clickup-bridge"
METRICS_NAMESPACE = "ClickUpBridge"
DEFAULT_STAGE = "dev"
LOCAL_STAGE = "local"
# The Lambda runtime's Python, which is also the one the whole suite and CI run on and the one that compiles the
# layer's bytecode: a fresh machine (Python 3.11 and the package registries, no interpreter downloads) can build
# and test for it. python3.11 on Lambda: deprecation 2027-06-30, function create blocked 2027-07-31, update
# blocked 2027-08-31 (Lambda runtimes page). Moving up: see README, Deploying.
LAMBDA_PYTHON = "3.11"

# The portal's identity provider. Deployments override these through CDK context (see README).
LOCAL_JWT_ISSUER = "https://portal.local/idp"
JWT_AUDIENCE = "clickup-bridge"


def resource_name(stage: str, name: str) -> str:
    """Physical name of a resource: one naming rule for the cloud and the local stack."""
    return f"{PROJECT}-{stage}-{name}"


@dataclass(frozen=True)
class FunctionDef:
    name: str  # folder under functions/
    description: str
    timeout_s: int = 30
    memory_mb: int = 512
    # What the function may touch, in the stack's small vocabulary (see infra/constructs/functions.py):
    # "table", "tokens:describe", "tokens:crypt", "queue:<name>:send", "bus:put", "secret:<name>",
    # "secret-describe:<name>". Consumers also get their queue. "table" is narrowed to TABLE_ACTIONS[name] and
    # "tokens:crypt" to VAULT_PURPOSES[name] (below).
    grants: tuple[str, ...] = ()

    def physical_name(self, stage: str) -> str:
        return resource_name(stage, self.name.replace("_", "-"))

    @property
    def handler_path(self) -> str:
        return f"functions/{self.name}/handler.py"


@dataclass(frozen=True)
class RouteDef:
    method: str
    path: str  # API Gateway path syntax: /tickets/{ticket_id}
    function: str
    authorized: bool  # True: the JWT authorizer runs before the function

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class QueueDef:
    name: str  # logical name; FIFO queues get the .fifo suffix in their physical name
    consumer: str  # function that polls it
    fifo: bool = False
    batch_size: int = 10
    max_receive_count: int = 5
    visibility_timeout_s: int = 180  # 6x the consumer's timeout, as AWS recommends
    retention_days: int = 4
    dlq_retention_days: int = 14
    env_var: str = ""  # environment variable that carries the queue URL to every function
    max_concurrency: int = 1  # batches processed at once (> 1: the event source mapping's maximum concurrency)
    # FIFO only: SQS derives the deduplication id from the body. Required where a sender gives only a message
    # group id, as EventBridge Scheduler's templated SQS target does ("If you specify an Amazon SQS FIFO queue as
    # a target, the queue must have content-based deduplication enabled": Scheduler API reference, SqsParameters).
    content_based_deduplication: bool = False

    def physical_name(self, stage: str) -> str:
        return resource_name(stage, self.name) + (".fifo" if self.fifo else "")

    def dlq_physical_name(self, stage: str) -> str:
        return resource_name(stage, f"{self.name}-dlq") + (".fifo" if self.fifo else "")


@dataclass(frozen=True)
class EventSourceMappingDef:
    """The SQS -> Lambda event source mapping of a queue, as the template declares it (CDK `SqsEventSource`).

    `maximum_concurrency` None: not set (Lambda scales the batches processed at once on its own)."""

    queue: str
    function: str
    batch_size: int
    maximum_batching_window_s: int = 0
    report_batch_item_failures: bool = True
    maximum_concurrency: int | None = None


def event_source_mapping(q: QueueDef) -> EventSourceMappingDef:
    return EventSourceMappingDef(
        queue=q.name,
        function=q.consumer,
        batch_size=q.batch_size,
        report_batch_item_failures=True,  # every worker reports partial batch failures
        # every worker is bounded: a burst on one queue cannot take the account's concurrency (README, Limits)
        maximum_concurrency=worker_concurrency(q),
    )


# EventBridge Scheduler replaces these keywords in a target's input when it invokes the target ("Adding context
# attributes", EventBridge Scheduler user guide). The scheduled time, e.g. 2022-03-22T18:59:43Z, is the same for
# every retry of one tick and differs from tick to tick: the tick's identity, from which its fan-out derives one
# deduplicated job per organisation (bridge.queueing.fanout).
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


@dataclass(frozen=True)
class ScheduleDef:
    name: str
    rate_minutes: int
    queue: str  # target queue (logical name)
    payload: dict[str, str] = field(default_factory=dict)
    description: str = ""

    @property
    def input(self) -> str:
        """The target's input (the SQS message body): the payload, whose `tick` is the tick's scheduled time.

        A FIFO target deduplicates on the body (content-based deduplication, 5-minute interval), so each tick's body
        must differ from the last one's, while a retried delivery of one tick (same scheduled time) is dropped."""
        return json.dumps({**self.payload, "tick": SCHEDULED_TIME}, sort_keys=True)

    @property
    def expression(self) -> str:
        unit = "minute" if self.rate_minutes == 1 else "minutes"
        return f"rate({self.rate_minutes} {unit})"

    def physical_name(self, stage: str) -> str:
        return resource_name(stage, self.name)


@dataclass(frozen=True)
class TableDef:
    name: str
    partition_key: str = "pk"
    sort_key: str = "sk"
    ttl_attribute: str = "expires_at"

    def physical_name(self, stage: str) -> str:
        return resource_name(stage, self.name)


@dataclass(frozen=True)
class KeyDef:
    name: str
    description: str

    def alias(self, stage: str) -> str:
        return f"alias/{resource_name(stage, self.name)}"


FUNCTIONS: tuple[FunctionDef, ...] = (
    FunctionDef(
        "api",
        "Portal API: health, hierarchy, customers, tickets, events feed",
        timeout_s=29,
        # tokens:crypt (open clickup-token) and bus:put: linking a ticket to an existing task reads it from ClickUp
        # with the organisation's token, as does a list's custom fields; link and unlink publish portal events
        grants=(
            "table",
            "tokens:describe",
            "tokens:crypt",
            "queue:space-sync:send",
            "queue:task-create:send",
            "bus:put",
            "secret-describe:clickup-oauth-client-secret",
        ),
    ),
    FunctionDef(
        "oauth",
        "ClickUp connection: OAuth connect/callback/disconnect, connection, settings",
        timeout_s=29,
        grants=(
            "table",
            "tokens:crypt",
            "queue:space-sync:send",
            "queue:task-create:send",
            "bus:put",
            "secret:clickup-oauth-client-secret",
        ),
    ),
    FunctionDef(
        "space_sync",
        "Space sync worker: ClickUp hierarchy into the store",
        timeout_s=30,
        grants=("table", "tokens:crypt", "queue:space-sync:send", "bus:put"),
    ),
    FunctionDef(
        "webhook",
        "ClickUp webhook ingestion: verify the signature on the exact bytes, queue, answer 200 at once",
        timeout_s=10,
        memory_mb=1024,  # the ack is latency-bound: more memory is more CPU
        grants=("table", "tokens:crypt", "queue:webhook-events:send"),
    ),
    FunctionDef(
        "webhook_process",
        "ClickUp changes into ticket links and portal events (deduplicated, ordered, echoes suppressed)",
        timeout_s=30,
        # its own queue: a delivery waiting for ClickUp is re-sent (bridge/queueing/outage.py)
        grants=("table", "tokens:crypt", "queue:space-sync:send", "queue:webhook-events:send", "bus:put"),
    ),
    FunctionDef(
        "maintenance",
        "Reconciliation sweep (ClickUp task updates read back) and webhook health (re-enable, re-create)",
        timeout_s=120,
        grants=("table", "tokens:crypt", "queue:maintenance:send", "bus:put"),
    ),
    FunctionDef(
        "portal_delivery",
        "Portal events pushed to each organisation's webhook URL, signed, with retries and a DLQ",
        timeout_s=30,
        grants=("table", "tokens:crypt", "queue:portal-events:send"),  # re-sent while the portal is down
    ),
    FunctionDef(
        "task_create",
        "Task pipeline worker: tickets into ClickUp tasks exactly once, portal changes applied in order",
        timeout_s=30,
        grants=("table", "tokens:crypt", "queue:task-create:send", "bus:put"),
    ),
)

ROUTES: tuple[RouteDef, ...] = (
    RouteDef("GET", "/health", "api", authorized=False),
    RouteDef("GET", "/docs", "api", authorized=False),
    RouteDef("GET", "/api/v1/me", "api", authorized=True),
    RouteDef("GET", "/api/v1/clickup/spaces", "api", authorized=True),
    RouteDef("GET", "/api/v1/clickup/members", "api", authorized=True),
    RouteDef("GET", "/api/v1/clickup/lists/{list_id}/fields", "api", authorized=True),
    RouteDef("POST", "/api/v1/clickup/sync", "api", authorized=True),
    RouteDef("PUT", "/api/v1/customers/{customer_id}/clickup-space", "api", authorized=True),
    RouteDef("GET", "/api/v1/customers/{customer_id}/clickup-space", "api", authorized=True),
    RouteDef("DELETE", "/api/v1/customers/{customer_id}/clickup-space", "api", authorized=True),
    RouteDef("POST", "/api/v1/tickets/{ticket_id}/clickup-task", "api", authorized=True),
    RouteDef("GET", "/api/v1/tickets/{ticket_id}/clickup-task", "api", authorized=True),
    RouteDef("PATCH", "/api/v1/tickets/{ticket_id}/clickup-task", "api", authorized=True),
    RouteDef("DELETE", "/api/v1/tickets/{ticket_id}/clickup-task", "api", authorized=True),
    RouteDef("PUT", "/api/v1/tickets/{ticket_id}/clickup-task/link", "api", authorized=True),
    RouteDef("POST", "/api/v1/tickets/{ticket_id}/clickup-task/comments", "api", authorized=True),
    RouteDef("POST", "/api/v1/tickets/{ticket_id}/clickup-task/retry", "api", authorized=True),
    RouteDef("GET", "/api/v1/tickets/{ticket_id}/clickup-task/history", "api", authorized=True),
    RouteDef("GET", "/api/v1/clickup/events", "api", authorized=True),
    RouteDef("POST", "/webhooks/clickup", "webhook", authorized=False),  # ClickUp signs it: no JWT
    RouteDef("GET", "/clickup/oauth/connect", "oauth", authorized=True),
    RouteDef("GET", "/clickup/oauth/callback", "oauth", authorized=False),
    RouteDef("DELETE", "/clickup/oauth/disconnect", "oauth", authorized=True),
    RouteDef("GET", "/api/v1/clickup/connection", "oauth", authorized=True),
    RouteDef("PUT", "/api/v1/clickup/connection/default-workspace", "oauth", authorized=True),
    RouteDef("PUT", "/api/v1/clickup/connection/personal-token", "oauth", authorized=True),
    RouteDef("POST", "/api/v1/clickup/connection/test", "oauth", authorized=True),
    RouteDef("GET", "/api/v1/clickup/settings", "oauth", authorized=True),
    RouteDef("PUT", "/api/v1/clickup/settings", "oauth", authorized=True),
    RouteDef("POST", "/api/v1/clickup/portal-webhook/secret", "oauth", authorized=True),
)

QUEUES: tuple[QueueDef, ...] = (
    # FIFO, grouped by organisation: one organisation's syncs never overlap.
    # Hand-backs for the budget count as receives (see task-create): a large sync may wait several windows.
    # The space-sync-tick schedule sends here with only a message group id: content-based deduplication.
    QueueDef(
        "space-sync",
        consumer="space_sync",
        fifo=True,
        env_var="SYNC_QUEUE_URL",
        max_receive_count=20,
        content_based_deduplication=True,
    ),
    # FIFO, grouped by ticket: a ticket's creation and its changes are applied in order, tickets in parallel.
    # A record handed back for the budget or a lease counts as a receive: 20 receives allow ~20 windows of waiting
    # before a record is presumed poison.
    QueueDef("task-create", consumer="task_create", fifo=True, env_var="TASK_QUEUE_URL", max_receive_count=20),
    # Standard queue: deliveries carry ClickUp's history dates, so order is restored per field when applied, and
    # one organisation's burst never holds another's back. Duplicates are expected (ClickUp's and SQS's own).
    QueueDef(
        "webhook-events",
        consumer="webhook_process",
        env_var="WEBHOOK_QUEUE_URL",
        max_receive_count=10,
        max_concurrency=10,  # a burst of ClickUp changes is worked off in parallel (each link is versioned)
    ),
    # Portal events from the bus (an EventBridge rule), pushed to the portals; a portal that is down gets its
    # events again with a growing delay, then the DLQ (the pull feed keeps every event meanwhile).
    QueueDef(
        "portal-events",
        consumer="portal_delivery",
        env_var="PORTAL_EVENTS_QUEUE_URL",
        max_receive_count=8,
        max_concurrency=2,
    ),
    # FIFO, grouped by organisation: one organisation's sweeps and health checks never overlap.
    QueueDef(
        "maintenance",
        consumer="maintenance",
        fifo=True,
        env_var="MAINTENANCE_QUEUE_URL",
        max_receive_count=20,
        visibility_timeout_s=720,  # 6x the consumer's timeout
        content_based_deduplication=True,  # the reconcile and webhook-health ticks come from Scheduler
    ),
)

SCHEDULES: tuple[ScheduleDef, ...] = (
    ScheduleDef(
        "space-sync-tick",
        rate_minutes=15,
        queue="space-sync",
        payload={"kind": "tick", "tick": SCHEDULED_TIME},
        description="Fan out a space sync to every organisation whose cached hierarchy is stale",
    ),
    ScheduleDef(
        "reconcile-tick",
        rate_minutes=10,
        queue="maintenance",
        payload={"kind": "sweep_tick", "tick": SCHEDULED_TIME},
        description="Read back every organisation's ClickUp task updates: repairs what dropped webhooks missed",
    ),
    ScheduleDef(
        "webhook-health-tick",
        rate_minutes=15,
        queue="maintenance",
        payload={"kind": "health_tick", "tick": SCHEDULED_TIME},
        description="Re-enable failing or suspended webhooks, re-create missing ones",
    ),
)

MAIN_TABLE = TableDef("main")
TABLES: tuple[TableDef, ...] = (MAIN_TABLE,)

DATA_KEY = KeyDef("data", "Encrypts the bridge's DynamoDB table and logs at rest")
TOKENS_KEY = KeyDef("tokens", "Envelope encryption of ClickUp tokens and webhook secrets")
KEYS: tuple[KeyDef, ...] = (DATA_KEY, TOKENS_KEY)

EVENT_BUS = "events"


@dataclass(frozen=True)
class EventRuleDef:
    name: str
    source: str  # the `source` of the events the rule matches on the bus
    queue: str  # target queue (logical name)
    description: str = ""

    def physical_name(self, stage: str) -> str:
        return resource_name(stage, self.name)


EVENT_RULES: tuple[EventRuleDef, ...] = (
    EventRuleDef(
        "portal-events",
        source="clickup-bridge",
        queue="portal-events",
        description="Every portal event on the bus goes to the push delivery worker",
    ),
)


@dataclass(frozen=True)
class SecretDef:
    name: str
    description: str
    env_var: str

    def physical_name(self, stage: str) -> str:
        return resource_name(stage, self.name)


SECRETS: tuple[SecretDef, ...] = (
    SecretDef(
        "clickup-oauth-client-secret",
        "The ClickUp OAuth app's client secret (set by the operator)",
        env_var="CLICKUP_CLIENT_SECRET_NAME",
    ),
)

# Values only a deployment knows (CDK context / the local stack), passed to every function.
DEPLOYMENT_SETTINGS = (
    "CLICKUP_CLIENT_ID",
    "PUBLIC_BASE_URL",
    "PORTAL_ORIGIN",
    "CLICKUP_API_BASE_URL",
    "CLICKUP_APP_BASE_URL",
    "PORTAL_WEBHOOK_ALLOW_LOOPBACK",  # "true" in the local stack only (never given by the CDK app)
    "API_DOCS_ENABLED",  # "false" switches GET /docs off (e.g. in production)
)


def function(name: str) -> FunctionDef:
    return next(f for f in FUNCTIONS if f.name == name)


def queue(name: str) -> QueueDef:
    return next(q for q in QUEUES if q.name == name)


def schedule_delivery_problems(
    schedules: tuple[ScheduleDef, ...] = SCHEDULES, queues: tuple[QueueDef, ...] = QUEUES
) -> list[str]:
    """What would make EventBridge Scheduler's deliveries fail on AWS, one line per schedule (empty: none).

    Scheduler's templated SQS target sends the input as the body with only a message group id (SqsParameters):
    a FIFO target must have content-based deduplication enabled (Scheduler API reference, SqsParameters), or SQS
    refuses every send ("The queue should either have ContentBasedDeduplication enabled or
    MessageDeduplicationId provided explicitly", SQS SendMessage)."""
    by_name = {q.name: q for q in queues}
    problems = []
    for s in schedules:
        target = by_name.get(s.queue)
        if target is None:
            problems.append(f"{s.name}: no queue {s.queue!r}")
        elif target.fifo and not target.content_based_deduplication:
            problems.append(f"{s.name}: FIFO queue {s.queue!r} needs content-based deduplication for Scheduler")
    return problems


def function_environment(
    stage: str, queue_urls: dict[str, str], key_ids: dict[str, str], deployment: dict[str, str]
) -> dict[str, str]:
    """Environment shared by every function; values that only the deployment knows are passed in."""
    env = {
        "STAGE": stage,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        "TABLE_NAME": MAIN_TABLE.physical_name(stage),
        "EVENT_BUS_NAME": resource_name(stage, EVENT_BUS),
        "TOKENS_KEY_ID": key_ids[TOKENS_KEY.name],
    }
    for q in QUEUES:
        env[q.env_var] = queue_urls[q.name]
    for secret in SECRETS:
        env[secret.env_var] = secret.physical_name(stage)
    env.update({k: deployment[k] for k in DEPLOYMENT_SETTINGS if deployment.get(k)})
    return env


# -- Operations (issue 15): limits, schedule delivery, alarms, least privilege ---------------------------------


@dataclass(frozen=True)
class ScheduleDeliveryDef:
    """How EventBridge Scheduler delivers every schedule's tick: retries, then a dead-letter queue.

    Scheduler's DLQ must be a standard queue, never FIFO (Scheduler User Guide, "Configuring a dead-letter queue").
    A tick older than the shortest schedule interval is not worth delivering: the next one does its work.
    """

    dlq_name: str = "schedules-dlq"
    max_retry_attempts: int = 5
    max_event_age_s: int = 540  # < the shortest rate (10 min); Scheduler accepts 60..86400
    dlq_retention_days: int = 14

    def dlq_physical_name(self, stage: str) -> str:
        return resource_name(stage, self.dlq_name)


SCHEDULE_DELIVERY = ScheduleDeliveryDef()

# Alarm when the oldest message of a queue has waited this long (seconds). Each bound is above what normal
# operation produces: hand-backs to ClickUp's reset (<= 1 min each), portal retries (up to 1 h between tries).
# What the webhook function emits per refused delivery (functions/webhook: WebhookRejected_{code}) that counts
# toward the `webhook-signature-failures` alarm.
SIGNATURE_FAILURE_METRICS = ("WebhookRejected_invalid_signature", "WebhookRejected_missing_signature")

DEFAULT_QUEUE_AGE_ALARM_S = 3600
QUEUE_AGE_ALARM_S: dict[str, int] = {
    "space-sync": 3600,
    "task-create": 1800,
    "webhook-events": 900,
    "portal-events": 3 * 3600,
    "maintenance": 3600,
}

# The event source mapping's MaximumConcurrency (2..1000, Lambda Developer Guide "Configuring maximum concurrency
# for Amazon SQS event sources") of queues whose `max_concurrency` is 1: without a bound, a FIFO queue scales to
# one concurrent batch per message group, so a tick fanning out to thousands of organisations could take the
# account's whole concurrency (1,000 by default) and throttle the API and the webhook ack.
WORKER_CONCURRENCY_BOUND: dict[str, int] = {
    "space-sync": 5,
    "task-create": 10,
    "maintenance": 5,
}


def worker_concurrency(q: QueueDef) -> int:
    """The bound on concurrent batches of `q`'s consumer on AWS (the event source mapping's MaximumConcurrency)."""
    return q.max_concurrency if q.max_concurrency > 1 else WORKER_CONCURRENCY_BOUND.get(q.name, 2)


@dataclass(frozen=True)
class ThrottleDef:
    """An API Gateway route throttle: steady requests per second and the burst (token bucket)."""

    rate_per_s: int
    burst: int


# Route throttles (HTTP API stage route settings): ClickUp's webhooks, the OAuth callback and the health probe
# (all public) and the portal's JWT routes each get their own bucket, so a flood on one cannot use up another's.
WEBHOOK_THROTTLE = ThrottleDef(rate_per_s=100, burst=200)  # ClickUp bursts on bulk edits; it retries a 429
PUBLIC_THROTTLE = ThrottleDef(rate_per_s=10, burst=20)  # GET /health, the OAuth callback: people and monitors
PORTAL_THROTTLE = ThrottleDef(rate_per_s=50, burst=100)  # each portal route (JWT)
STAGE_THROTTLE = ThrottleDef(rate_per_s=200, burst=400)  # the stage's default, above any single route


def route_throttle(route: RouteDef) -> ThrottleDef:
    """The throttle of one route (its own bucket on the stage)."""
    if route.function == "webhook":
        return WEBHOOK_THROTTLE
    return PORTAL_THROTTLE if route.authorized else PUBLIC_THROTTLE


# DynamoDB actions each function may call on the table (the "table" grant). What the code calls, per function
# (tests/unit/test_least_privilege.py reads it from the code): GetItem, PutItem, UpdateItem, DeleteItem, Query;
# TransactWriteItems needs the actions of its parts plus ConditionCheckItem (DynamoDB Developer Guide, "Using IAM
# with DynamoDB transactions"); the hierarchy's batch_writer is BatchWriteItem; /health is DescribeTable.
# Nothing scans the table or reads its stream.
_ITEM_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query")
TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "api": (*_ITEM_ACTIONS, "dynamodb:ConditionCheckItem", "dynamodb:BatchWriteItem", "dynamodb:DescribeTable"),
    "oauth": (*_ITEM_ACTIONS, "dynamodb:ConditionCheckItem", "dynamodb:BatchWriteItem"),
    "space_sync": (*_ITEM_ACTIONS, "dynamodb:ConditionCheckItem", "dynamodb:BatchWriteItem"),
    "webhook": ("dynamodb:GetItem",),
    "webhook_process": (*_ITEM_ACTIONS, "dynamodb:ConditionCheckItem", "dynamodb:BatchWriteItem"),
    "maintenance": (*_ITEM_ACTIONS, "dynamodb:ConditionCheckItem", "dynamodb:BatchWriteItem"),
    "portal_delivery": ("dynamodb:GetItem",),
    "task_create": (*_ITEM_ACTIONS, "dynamodb:ConditionCheckItem", "dynamodb:BatchWriteItem"),
}

# The vault's purposes (bridge/vault/envelope.py: the encryption context's "purpose") each function may seal
# (kms:GenerateDataKey) and open (kms:Decrypt) with the tokens key (the "tokens:crypt" grant). The webhook ack
# opens only webhook secrets, the portal delivery only the portal's signing secrets: neither can open a token.
VAULT_PURPOSES: dict[str, dict[str, tuple[str, ...]]] = {
    "api": {"seal": (), "open": ("clickup-token",)},
    "oauth": {
        "seal": ("clickup-token", "clickup-webhook-secret", "portal-webhook-secret"),
        "open": ("clickup-token",),
    },
    "space_sync": {"seal": (), "open": ("clickup-token",)},
    "webhook": {"seal": (), "open": ("clickup-webhook-secret",)},
    "webhook_process": {"seal": (), "open": ("clickup-token",)},
    "maintenance": {"seal": ("clickup-webhook-secret",), "open": ("clickup-token",)},
    "portal_delivery": {"seal": (), "open": ("portal-webhook-secret",)},
    "task_create": {"seal": (), "open": ("clickup-token",)},
}
