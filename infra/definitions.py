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
    # "table", "tokens:describe", "tokens:crypt", "queue:<name>:send", "bus:put". Consumers also get their queue.
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
        maximum_concurrency=q.max_concurrency if q.max_concurrency > 1 else None,
    )


# EventBridge Scheduler replaces these keywords in a target's input when it invokes the target ("Adding context
# attributes", EventBridge Scheduler user guide). The scheduled time, e.g. 2022-03-22T18:59:43Z, is the same for
# every retry of one tick and differs from tick to tick.
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
        """The target's input (the SQS message body): the payload and the tick's scheduled time.

        A FIFO target deduplicates on the body (content-based deduplication, 5-minute interval), so each tick's body
        must differ from the last one's, while a retried delivery of one tick (same scheduled time) is dropped."""
        return json.dumps({**self.payload, "scheduled_at": SCHEDULED_TIME}, sort_keys=True)

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
        grants=("table", "tokens:describe", "queue:space-sync:send", "queue:task-create:send"),
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
        grants=("table", "tokens:crypt", "queue:space-sync:send", "bus:put"),
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
        grants=("table", "tokens:crypt"),
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
    RouteDef("GET", "/api/v1/me", "api", authorized=True),
    RouteDef("GET", "/api/v1/clickup/spaces", "api", authorized=True),
    RouteDef("POST", "/api/v1/clickup/sync", "api", authorized=True),
    RouteDef("PUT", "/api/v1/customers/{customer_id}/clickup-space", "api", authorized=True),
    RouteDef("GET", "/api/v1/customers/{customer_id}/clickup-space", "api", authorized=True),
    RouteDef("DELETE", "/api/v1/customers/{customer_id}/clickup-space", "api", authorized=True),
    RouteDef("POST", "/api/v1/tickets/{ticket_id}/clickup-task", "api", authorized=True),
    RouteDef("GET", "/api/v1/tickets/{ticket_id}/clickup-task", "api", authorized=True),
    RouteDef("PATCH", "/api/v1/tickets/{ticket_id}/clickup-task", "api", authorized=True),
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
        payload={"kind": "tick"},
        description="Fan out a space sync to every organisation whose cached hierarchy is stale",
    ),
    ScheduleDef(
        "reconcile-tick",
        rate_minutes=10,
        queue="maintenance",
        payload={"kind": "sweep_tick"},
        description="Read back every organisation's ClickUp task updates: repairs what dropped webhooks missed",
    ),
    ScheduleDef(
        "webhook-health-tick",
        rate_minutes=15,
        queue="maintenance",
        payload={"kind": "health_tick"},
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
