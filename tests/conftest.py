"""Shared fixtures: one local stack per test session (moto, API adapter, pollers, schedules, emulator)."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from infra import definitions as d
from local.stack import LocalStack, StackConfig

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BRIDGE_SHARED_DIR") or ROOT.parent / "shared")


def shared_clickup(*parts: str) -> Path:
    """A file of ClickUp's documentation under `../shared/clickup/` (beside the clone, as CI has it; or under
    `$BRIDGE_SHARED_DIR/clickup/`). Fails the test saying what is missing and where it was looked for, instead of a
    FileNotFoundError deep in a fixture. The project never copies these files."""
    path = SHARED.joinpath("clickup", *parts)
    if not path.exists():
        pytest.fail(
            f"ClickUp's documentation is missing: {path} does not exist. Tests judge the wire against ClickUp's "
            "OpenAPI v2, FACTS.md and webhook-samples/ in ../shared/clickup/ beside the repository; clone the "
            "repository next to that folder, or set BRIDGE_SHARED_DIR to the folder holding clickup/.",
            pytrace=False,
        )
    return path


TIME_SCALE = 0.005  # 180 s visibility -> 1 s; a 15 min schedule -> 4.5 s

# A standard queue consumed by the test-only flaky worker (tests/fixtures/flaky_worker).
FLAKY_QUEUE = d.QueueDef("flaky", consumer="flaky", batch_size=10, max_receive_count=3, visibility_timeout_s=200)
FLAKY_FUNCTION = d.FunctionDef("flaky", "test-only worker", timeout_s=2)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    config = StackConfig(
        api_port=0,
        emulator_port=0,
        aws_port=0,
        time_scale=TIME_SCALE,
        run_schedules=False,  # fired on demand; the test of automatic firing starts the runner itself
        state_dir=tmp_path_factory.mktemp("state"),
        extra_functions={"flaky": (FLAKY_FUNCTION, ROOT / "tests/fixtures/flaky_worker/handler.py")},
        extra_queues=(FLAKY_QUEUE,),
    )
    with LocalStack(config) as running:
        yield running


@pytest.fixture(scope="session")
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        yield client


@pytest.fixture
def org_id() -> str:
    return f"org-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def auth(stack: LocalStack, org_id: str) -> Callable[..., dict[str, str]]:
    def headers(role: str = "admin", org: str | None = None, user: str = "user-1") -> dict[str, str]:
        return {"Authorization": f"Bearer {stack.token(org or org_id, user=user, role=role)}"}

    return headers


def wait_for(predicate: Callable[[], Any], timeout_s: float = 20, interval_s: float = 0.05) -> Any:
    """Poll until `predicate()` is truthy; the value is returned. Fails the test on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        time.sleep(interval_s)


def healthy(api: httpx.Client, timeout_s: float = 30) -> httpx.Response:
    """`GET /health` until it answers 200 (the answer is returned). `/health` reports the moment it is asked: a
    local AWS busy for a few seconds answers 503 `degraded` (correctly), so a test that needs a healthy stack waits
    for it, and fails with the last answer's body (which dependency or setting) if it never comes."""
    last: list[httpx.Response] = []

    def ok() -> bool:
        last[:] = [api.get("/health")]
        return last[0].status_code == 200

    try:
        wait_for(ok, timeout_s=timeout_s, interval_s=1.0)
    except AssertionError:
        raise AssertionError(
            f"/health never answered 200 in {timeout_s}s; last: {last[0].status_code} {last[0].text}"
        ) from None
    return last[0]


def drain(stack: LocalStack, *queues: str, timeout_s: float = 240) -> None:
    """Wait until each named queue holds no message, visible or in flight (SQS's approximate counts, read until
    they stay at 0 twice in a row). A test that fires a schedule's tick fans out a job for **every** organisation
    the session connected (hundreds by mid-suite): without waiting, that burst of sweeps and health checks ran into
    the next tests' requests (the local DynamoDB answered them after 5 s: 503 `aws_unavailable`)."""
    assert stack.provisioned is not None
    sqs = stack.aws.client("sqs")
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]

    def idle() -> bool:
        for queue in queues:
            url = stack.provisioned.queue_urls[queue]  # type: ignore[union-attr]
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
            if any(int(attributes.get(n, "0")) for n in names):
                return False
        return True

    deadline = time.monotonic() + timeout_s
    quiet = 0
    while quiet < 2:
        quiet = quiet + 1 if idle() else 0
        if time.monotonic() > deadline:
            raise AssertionError(f"{queues} still busy after {timeout_s}s")
        time.sleep(0.5)


def drop_and_drain(stack: LocalStack, queue: str) -> None:
    """Drop what a session-wide tick queued for every other organisation, then `drain` what is in flight. SQS
    allows one PurgeQueue a minute per queue (PurgeQueueInProgress): within it, draining alone does."""
    from botocore.exceptions import ClientError

    assert stack.provisioned is not None
    try:
        stack.aws.client("sqs").purge_queue(QueueUrl=stack.provisioned.queue_urls[queue])
    except ClientError as exc:
        if "PurgeQueueInProgress" not in str(exc.response.get("Error", {}).get("Code", "")):
            raise
    drain(stack, queue)


def send(stack: LocalStack, queue: str, body: dict[str, Any], **kwargs: Any) -> str:
    assert stack.provisioned is not None
    return str(
        stack.aws.client("sqs").send_message(
            QueueUrl=stack.provisioned.queue_urls[queue], MessageBody=json.dumps(body), **kwargs
        )["MessageId"]
    )


@pytest.fixture(scope="session")
def clickup_recorder(stack: LocalStack) -> Iterator[Any]:
    """Every exchange with the emulator in the session, validated against ClickUp's OpenAPI document."""
    from tests.contract import Recorder

    recorder = Recorder(stack.emulator.url)
    stack.emulator.emulator.api.observers.append(recorder)
    yield recorder
    stack.emulator.emulator.api.observers.remove(recorder)
    bad = [e for e in recorder.exchanges if e.request_errors]
    assert not bad, f"the client sent requests outside ClickUp's OpenAPI document: {bad[:3]}"


@pytest.fixture(autouse=True)
def _record_clickup(request: pytest.FixtureRequest) -> None:
    # Tests that touch the stack record their ClickUp traffic; pure unit tests stay stack-free.
    if "stack" in request.fixturenames:
        request.getfixturevalue("clickup_recorder")


@pytest.fixture
def emulator(stack: LocalStack) -> Any:
    return stack.emulator.emulator


ARCHIVED_READINGS = ("archived_only", "all")


@pytest.fixture(params=ARCHIVED_READINGS)
def archived_reading(request: pytest.FixtureRequest, stack: LocalStack) -> Iterator[str]:
    """Runs a test under each reading of ClickUp's `archived=true` (archived items only / archived items too; the
    emulator's `archived_reading` setting), back to the emulator's default afterwards."""
    with httpx.Client(base_url=stack.emulator.url, timeout=30) as client:
        set_to = client.put("/_emulator/settings", json={"archived_reading": request.param})
        assert set_to.status_code == 200 and set_to.json()["archived_reading"] == request.param
        yield str(request.param)
        client.put("/_emulator/settings", json={"archived_reading": "archived_only"})


@pytest.fixture(params=("oauth_023", "not_found"))
def unknown_id_answer(request: pytest.FixtureRequest, stack: LocalStack) -> Iterator[str]:
    """Runs a test under each answer ClickUp is seen to give an unknown space/folder/list/task id (401 OAUTH_023 or
    404 with a code; the emulator's `unknown_id_answer` setting), back to the emulator's default afterwards."""
    with httpx.Client(base_url=stack.emulator.url, timeout=30) as client:
        set_to = client.put("/_emulator/settings", json={"unknown_id_answer": request.param})
        assert set_to.status_code == 200 and set_to.json()["unknown_id_answer"] == request.param
        yield str(request.param)
        client.put("/_emulator/settings", json={"unknown_id_answer": "oauth_023"})


@pytest.fixture
def clickup(stack: LocalStack) -> Iterator[httpx.Client]:
    """HTTP client on the emulator (its ClickUp API and its /_emulator control API)."""
    with httpx.Client(base_url=stack.emulator.url, timeout=30) as client:
        yield client


@pytest.fixture
def workspace(clickup: httpx.Client) -> dict[str, Any]:
    """A fresh user with a personal token and a seeded workspace of their own (isolated from other tests)."""
    tag = uuid.uuid4().hex[:6]
    user = clickup.post("/_emulator/users", json={"username": f"User {tag}", "email": f"{tag}@example.com"}).json()
    seeded = clickup.post(
        "/_emulator/seed",
        json={
            "user_id": user["id"],
            "workspace": {
                "name": f"WS {tag}",
                "plan": "business",
                "spaces": [
                    {
                        "name": "Support",
                        "folders": [
                            {
                                "name": "F1",
                                "lists": [
                                    {
                                        "name": "L1",
                                        "fields": [{"name": "Severity", "type": "drop_down", "options": ["S1", "S2"]}],
                                    },
                                    {"name": "L2"},
                                ],
                            }
                        ],
                        "lists": [
                            {
                                "name": "Inbox",
                                "statuses": [
                                    {"status": "new", "type": "open"},
                                    {"status": "doing", "type": "custom"},
                                    {"status": "done", "type": "closed"},
                                ],
                            }
                        ],
                    },
                    {"name": "Archive", "archived": True, "lists": [{"name": "Old"}]},
                ],
            },
        },
    ).json()
    token = clickup.post(f"/_emulator/users/{user['id']}/tokens").json()
    return {"user": user, "token": token["token"], "token_id": token["token_id"], **seeded}


@pytest.fixture
def patch_function(stack: LocalStack) -> Iterator[Callable[..., None]]:
    """Replace `module.attribute` inside functions' execution environments (each has its own `bridge`):
    `patch_function("task_create", "bridge.tasks.worker", "_adopted", lambda original: replacement)`; `functions`
    may be a name, a tuple of names or "*" (every function). Undone at the end of the test."""
    undo: list[Callable[[], None]] = []

    def patch(functions: str | tuple[str, ...], module: str, attribute: str, make: Callable[[Any], Any]) -> None:
        names = (functions,) if isinstance(functions, str) else functions
        if functions == "*":
            names = tuple(stack.functions)
        for name in names:
            undo.append(stack.functions[name].patch(module, attribute, make))

    yield patch
    for step in reversed(undo):
        step()
