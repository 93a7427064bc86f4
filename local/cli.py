"""`clickup-bridge`: the operator and developer CLI (click).

Every command has `--help` with an example; the operator commands address a stage by name (`--stage`, resource
names from infra/definitions.py) with the caller's AWS credentials, or another endpoint (`--endpoint-url`, e.g. the
local stack's moto), print JSON with `--json`, and exit non-zero with a one-line reason on failure.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import click

from local.idp import LocalIdentityProvider


class Failure(click.ClickException):
    """A one-line reason, exit status `code` (click prints `Error: …` on stderr)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def _emit(data: Any, as_json: bool, human: Callable[[Any], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        human(data)


def _progress(as_json: bool) -> Callable[[str], None]:
    """Progress lines on stderr (never mixed into --json's stdout)."""
    return lambda line: click.echo(line, err=True)


def aws_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--endpoint-url",
        default=None,
        help="another AWS endpoint, e.g. the local stack's moto (default: AWS_ENDPOINT_URL or AWS)",
    )(func)
    func = click.option("--region", default=None, help="AWS region (default: your AWS configuration's)")(func)
    return click.option("--stage", required=True, help="the deployed stage (make deploy's STAGE)")(func)


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="print JSON (for scripts)")(func)


def _target(stage: str, endpoint_url: str | None, region: str | None) -> Any:
    from infra.ops import Target

    return Target(stage, endpoint_url=endpoint_url, region=region)


def _guard(func: Callable[[], Any]) -> Any:
    """Run `func`; an operator error or an AWS refusal becomes a one-line reason (exit 1)."""
    from infra.operate import OperateError

    try:
        return func()
    except OperateError as exc:
        raise Failure(str(exc)) from None
    except click.ClickException:
        raise
    except Exception as exc:  # noqa: BLE001 (botocore: its code and message, no stack trace)
        response = getattr(exc, "response", None)  # None on a botocore timeout
        error = response.get("Error", {}) if isinstance(response, dict) else {}
        if error:
            raise Failure(f"AWS refused: {error.get('Code')}: {error.get('Message', '')}".strip()) from None
        raise Failure(f"{type(exc).__name__}: {exc}") from None


@click.group(help=__doc__)
def cli() -> None:
    pass


# -- developer commands ---------------------------------------------------------------------------------------------


@cli.command("dev", epilog="Example: clickup-bridge dev")
def dev() -> None:
    """Start the whole local stack in the foreground (what `make dev` runs)."""
    from local.stack import LocalStack, StackConfig

    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(name)s %(message)s")
    stack = LocalStack(StackConfig.from_env()).start()
    print("ClickUp bridge local stack is up:")
    for name, url in stack.urls.items():
        print(f"  {name:<18} {url}")
    print(f"  {'health':<18} {stack.api_url}/health")
    demo = stack.emulator.emulator.demo if stack.emulator is not None else None
    if demo:
        names = ", ".join(w["name"] for w in demo["workspaces"])
        print(f"ClickUp demo user 'Dana Demo' (user id {demo['user_id']}) with workspaces: {names}")
        print(f"  the bridge is registered as its OAuth app: client_id {demo['client_id']}")
    print("Get a portal token with: .venv/bin/clickup-bridge dev-token --org demo-org")
    print("Ctrl-C stops everything.", flush=True)
    stopping = threading.Event()
    # Installed explicitly: a process started in the background inherits SIGINT as "ignored".
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        print("stopping...", flush=True)
        stack.stop()


@cli.command("dev-token", epilog="Example: clickup-bridge dev-token --org acme --role member")
@click.option("--org", required=True, help="organisation id (the org_id claim)")
@click.option("--user", default="dev-user", show_default=True, help="user id (the sub claim)")
@click.option("--role", default="admin", type=click.Choice(["admin", "member"]), help="portal role")
@click.option("--ttl", default=3600, type=int, show_default=True, help="lifetime in seconds")
def dev_token(org: str, user: str, role: str, ttl: int) -> None:
    """Print a portal JWT that the local authorizer accepts."""
    print(LocalIdentityProvider().mint(org, user=user, role=role, ttl_s=ttl))


def _api_url() -> str:
    return f"http://127.0.0.1:{os.environ.get('BRIDGE_API_PORT', '8000')}"


@cli.group("schedule")
def schedule() -> None:
    """EventBridge schedules of the local stack."""


@schedule.command("fire", epilog="Example: clickup-bridge schedule fire space-sync-tick")
@click.argument("name")
def schedule_fire(name: str) -> None:
    """Fire a schedule now (NAME: space-sync-tick, reconcile-tick, webhook-health-tick)."""
    import httpx

    try:
        response = httpx.post(f"{_api_url()}/_local/schedules/{name}/fire", timeout=10)
    except httpx.TransportError as exc:
        raise Failure(f"the local stack is not running at {_api_url()} ({exc}); start it with `make dev`") from None
    if response.status_code != 200:
        raise Failure(response.text.strip())
    print(json.dumps(response.json(), indent=2))


@cli.group("secret")
def secret() -> None:
    """The deployed stage's ClickUp OAuth client secret."""


@secret.command("set", epilog="Example: printf '%s\\n' \"$SECRET\" | clickup-bridge secret set --stage prod")
@aws_options
def secret_set(stage: str, region: str | None, endpoint_url: str | None) -> None:
    """Store the client secret (prompted, or one line on stdin); the value is never printed."""
    import getpass

    from infra.operate import OperateError, client_secret_name, store_client_secret

    name = client_secret_name(stage)
    if sys.stdin.isatty():
        value = getpass.getpass(f"ClickUp OAuth client secret for {name} (not echoed): ")
    else:
        value = sys.stdin.readline()
    try:
        stored = store_client_secret(stage, value, endpoint_url=endpoint_url, region=region)
    except OperateError as exc:
        raise Failure(f"secret not stored: {exc}") from None
    print(f"stored {stored['name']} (version {stored['version_id']}); the functions use it within 5 minutes")


@cli.command("smoke", epilog="Example: clickup-bridge smoke --stage prod")
@aws_options
@click.option("--api-url", default=None, help="the API's URL (default: the stack's PublicBaseUrl output)")
@click.option("--skip", default=None, help="comma-separated: lambda, alarms (for a local stack)")
def smoke_command(stage: str, region: str | None, endpoint_url: str | None, api_url: str | None, skip: str) -> None:
    """After make deploy: check that routes, schedules and queues are wired (creates nothing)."""
    from infra.operate import OperateError, smoke

    try:
        report = smoke(
            stage,
            api_url=api_url,
            endpoint_url=endpoint_url,
            region=region,
            skip=[s for s in (skip or "").split(",") if s],
        )
    except OperateError as exc:
        raise Failure(f"smoke check not run: {exc}", code=2) from None
    print("\n".join(report.lines()))
    if not report.ok:
        raise click.exceptions.Exit(1)


# -- organisations ----------------------------------------------------------------------------------------------------


@cli.group("orgs")
def orgs() -> None:
    """The organisations the bridge serves."""


@orgs.command("list", epilog="Example: clickup-bridge orgs list --stage prod --json")
@aws_options
@json_option
def orgs_list(stage: str, region: str | None, endpoint_url: str | None, as_json: bool) -> None:
    """Every connected organisation (the schedules' index) with its connection state."""
    from infra.ops import list_orgs

    rows = _guard(lambda: list_orgs(_target(stage, endpoint_url, region)))

    def human(rows: list[dict[str, Any]]) -> None:
        click.echo(f"{'org':<28} {'status':<14} {'mode':<15} {'ws':>3}  last sync")
        for r in rows:
            click.echo(
                f"{r['org_id']:<28} {r['status']:<14} {r['mode'] or '-':<15} {r['workspaces']:>3}  "
                f"{r['last_sync_at'] or '-'}"
            )

    _emit(rows, as_json, human)


@cli.group("org")
def org() -> None:
    """One organisation: show, sync, sweep, webhooks repair, export, erase."""


def _show_human(data: dict[str, Any]) -> None:
    c = data["connection"]
    click.echo(f"organisation {data['org_id']}: {c['status']} ({c['mode'] or 'no mode'})")
    for ws in data["workspaces"]:
        click.echo(f"  workspace {ws.get('id')} {ws.get('name', '')} authorized={ws.get('authorized')}")
    for hook in data["webhooks"]:
        click.echo(
            f"  webhook {hook.get('webhook_id')} (workspace {hook.get('workspace_id')}): "
            f"{hook.get('health', '?')} fail_count={hook.get('fail_count', 0)} checked {hook.get('checked_at', '-')}"
        )
    click.echo(f"  last sync {data['last_sync_at'] or '-'} {data['sync'] or ''}; sweeps {data['sweeps'] or '-'}")
    click.echo(f"  rate budget {data['rate_budget']}")
    click.echo(f"  links {data['links'] or '-'}")
    click.echo(f"  dead letters {data.get('dead_letters')}; queues (all orgs) {data['queues']}")


@org.command("show", epilog="Example: clickup-bridge org show acme --stage prod")
@click.argument("org_id", metavar="ORG")
@aws_options
@json_option
def org_show(org_id: str, stage: str, region: str | None, endpoint_url: str | None, as_json: bool) -> None:
    """Connection state and mode, workspaces, webhooks and their health, last sync and sweep, the rate budget now,
    links by state, and the organisation's messages in each DLQ (never a secret)."""
    from infra.ops import show_org

    _emit(_guard(lambda: show_org(_target(stage, endpoint_url, region), org_id)), as_json, _show_human)


def _job_command(job: str, name: str, what: str) -> None:
    @org.command(name, help=what, epilog=f"Example: clickup-bridge org {name} acme --stage prod --wait")
    @click.argument("org_id", metavar="ORG")
    @aws_options
    @json_option
    @click.option("--wait", is_flag=True, help="wait until the work is seen done")
    @click.option("--timeout", default=300, type=int, show_default=True, help="seconds --wait waits")
    def command(
        org_id: str, stage: str, region: str | None, endpoint_url: str | None, as_json: bool, wait: bool, timeout: int
    ) -> None:
        import time

        from infra.ops import queue_job, wait_for_job

        target = _target(stage, endpoint_url, region)
        started = time.time()
        queued = _guard(lambda: queue_job(target, org_id, job))
        out: dict[str, Any] = {"org_id": org_id, "job": job, **queued}
        if wait:
            _guard(lambda: wait_for_job(target, org_id, job, started, timeout, _progress(as_json)))
            out["done"] = True
        _emit(
            out,
            as_json,
            lambda o: click.echo(f"{job} of {org_id} queued ({o['message_id']})" + (", done" if o.get("done") else "")),
        )


_job_command("sync", "sync", "Queue a full space sync of ORG (what the space-sync tick queues for each org).")
_job_command("sweep", "sweep", "Queue a reconciliation sweep of ORG (what the reconcile tick queues for each org).")


@org.group("webhooks")
def org_webhooks() -> None:
    """The organisation's ClickUp webhooks."""


@org_webhooks.command("repair", epilog="Example: clickup-bridge org webhooks repair acme --stage prod --wait")
@click.argument("org_id", metavar="ORG")
@aws_options
@json_option
@click.option("--wait", is_flag=True, help="wait until every webhook was checked")
@click.option("--timeout", default=300, type=int, show_default=True, help="seconds --wait waits")
def webhooks_repair(
    org_id: str, stage: str, region: str | None, endpoint_url: str | None, as_json: bool, wait: bool, timeout: int
) -> None:
    """Queue ORG's webhook health check: re-enable failing or suspended webhooks, re-create missing ones."""
    import time

    from infra.ops import queue_job, wait_for_job

    target = _target(stage, endpoint_url, region)
    started = time.time()
    queued = _guard(lambda: queue_job(target, org_id, "health"))
    out: dict[str, Any] = {"org_id": org_id, "job": "health", **queued}
    if wait:
        _guard(lambda: wait_for_job(target, org_id, "health", started, timeout, _progress(as_json)))
        out["done"] = True
    _emit(out, as_json, lambda o: click.echo(f"webhook repair of {org_id} queued ({o['message_id']})"))


@org.command("export", epilog="Example: clickup-bridge org export acme --stage prod > acme.json")
@click.argument("org_id", metavar="ORG")
@aws_options
@json_option
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="write to this file")
def org_export(
    org_id: str, stage: str, region: str | None, endpoint_url: str | None, as_json: bool, output: str | None
) -> None:
    """Everything the bridge holds about ORG as JSON (every secret as "[redacted]"); always JSON (--json accepted)."""
    from infra.ops import export_org

    data = _guard(lambda: export_org(_target(stage, endpoint_url, region), org_id))
    text = json.dumps(data, indent=2, default=str)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        click.echo(f"{len(data['rows'])} rows of {org_id} written to {output}", err=True)
    else:
        click.echo(text)


@org.command("erase", epilog="Example: clickup-bridge org erase acme --confirm acme --stage prod")
@click.argument("org_id", metavar="ORG")
@aws_options
@json_option
@click.option("--confirm", required=True, help="the organisation id again (nothing is erased otherwise)")
def org_erase(
    org_id: str, stage: str, region: str | None, endpoint_url: str | None, as_json: bool, confirm: str
) -> None:
    """Erase ORG: crypto-shred its secrets, delete its webhooks at ClickUp, delete every row, and record who and when
    under ERASURES (which outlives it)."""
    from infra.ops import erase_org

    if confirm != org_id:
        raise Failure(f"--confirm {confirm!r} is not {org_id!r}: nothing erased")
    record = _guard(lambda: erase_org(_target(stage, endpoint_url, region), org_id, _progress(as_json)))
    _emit(
        record,
        as_json,
        lambda r: click.echo(
            f"erased {org_id}: {r['rows_deleted']} rows, {r['secrets_shredded']} secrets shredded, "
            f"webhooks {[w['outcome'] for w in r['webhooks']]}; recorded (by {r['erased_by']} at {r['erased_at']})"
        ),
    )


# -- dead-letter queues --------------------------------------------------------------------------------------------


@cli.group("dlq")
def dlq() -> None:
    """Dead-letter queues: list, show, redrive."""


@dlq.command("list", epilog="Example: clickup-bridge dlq list --stage prod")
@aws_options
@json_option
def dlq_list(stage: str, region: str | None, endpoint_url: str | None, as_json: bool) -> None:
    """Every queue's DLQ and how many messages it holds."""
    from infra.ops import list_dlqs

    rows = _guard(lambda: list_dlqs(_target(stage, endpoint_url, region)))

    def human(rows: list[dict[str, Any]]) -> None:
        for r in rows:
            click.echo(f"{r['queue']:<16} {r['visible']:>5}  {r['dlq']}")

    _emit(rows, as_json, human)


@dlq.command("show", epilog="Example: clickup-bridge dlq show task-create --org acme --stage prod")
@click.argument("queue")
@aws_options
@json_option
@click.option("--org", "org_id", default=None, help="only this organisation's messages")
def dlq_show(queue: str, stage: str, region: str | None, endpoint_url: str | None, as_json: bool, org_id: str) -> None:
    """QUEUE's dead letters, decoded (secrets redacted), with receive counts, why the worker refuses them (its
    message model) and the last error its function logged for each (CloudWatch Logs, when readable)."""
    from infra.ops import dlq_messages, last_errors

    target = _target(stage, endpoint_url, region)

    def run() -> list[dict[str, Any]]:
        rows = dlq_messages(target, queue, org_id=org_id)
        since = min((int(r.get("sent_ms") or 0) for r in rows), default=0)
        errors = last_errors(target, queue, [r["message_id"] for r in rows], since)
        for r in rows:
            r["last_error"] = errors.get(r["message_id"])
        return rows

    rows = _guard(run)

    def human(rows: list[dict[str, Any]]) -> None:
        click.echo(f"{len(rows)} message(s)")
        for r in rows:
            click.echo(f"- {r['message_id']} org={r['org_id']} receives={r['receive_count']} sent {r['sent_at']}")
            click.echo(f"  reason: {r['reason'] or '-'}; last error: {r['last_error'] or '-'}")
            click.echo(f"  body: {json.dumps(r['body'])[:400]}")

    _emit(rows, as_json, human)


@dlq.command("redrive", epilog="Example: clickup-bridge dlq redrive task-create --org acme --stage prod")
@click.argument("queue")
@aws_options
@json_option
@click.option("--org", "org_id", default=None, help="only this organisation's messages (others stay in the DLQ)")
@click.option("--ids", default=None, help="comma-separated message ids (from dlq show)")
def dlq_redrive(
    queue: str, stage: str, region: str | None, endpoint_url: str | None, as_json: bool, org_id: str, ids: str
) -> None:
    """Move QUEUE's dead letters back to QUEUE, each exactly once (sent, then deleted from the DLQ)."""
    from infra.ops import redrive

    wanted = [i.strip() for i in (ids or "").split(",") if i.strip()]
    result = _guard(
        lambda: redrive(
            _target(stage, endpoint_url, region), queue, org_id=org_id, ids=wanted, progress=_progress(as_json)
        )
    )
    out = {"queue": queue, "redriven": result.redriven, "left_in_dlq": result.left}
    _emit(out, as_json, lambda o: click.echo(f"redriven {len(o['redriven'])} message(s); {o['left_in_dlq']} left"))


# -- events ----------------------------------------------------------------------------------------------------------


@cli.group("events")
def events() -> None:
    """The organisations' portal events."""


@events.command("replay", epilog="Example: clickup-bridge events replay acme --since 2026-12-01T00:00:00Z --stage prod")
@click.argument("org_id", metavar="ORG")
@aws_options
@json_option
@click.option("--since", required=True, help="ISO 8601 UTC time, or back from now: 90m, 2h, 3d")
def events_replay(
    org_id: str, stage: str, region: str | None, endpoint_url: str | None, as_json: bool, since: str
) -> None:
    """Re-push ORG's feed events since TIME to its portal webhook, with the same event ids (the portal dedupes)."""
    from infra.ops import parse_time, replay_events

    target = _target(stage, endpoint_url, region)
    replayed = _guard(lambda: replay_events(target, org_id, parse_time(since), _progress(as_json)))
    _emit(
        {"org_id": org_id, "replayed": replayed},
        as_json,
        lambda o: click.echo(f"{len(o['replayed'])} event(s) of {org_id} put on the bus again"),
    )


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok; 1 a failure, its reason on stderr; 2 bad usage)."""
    try:
        returned = cli.main(args=argv, prog_name="clickup-bridge", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except Failure as exc:
        exc.show()
        return exc.code
    except click.ClickException as exc:
        exc.show()
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    return returned if isinstance(returned, int) else 0


if __name__ == "__main__":
    sys.exit(main())
