"""`clickup-bridge`: the operator and developer CLI."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading

from local.idp import LocalIdentityProvider


def _dev(_: argparse.Namespace) -> int:
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
    return 0


def _dev_token(args: argparse.Namespace) -> int:
    print(LocalIdentityProvider().mint(args.org, user=args.user, role=args.role, ttl_s=args.ttl))
    return 0


def _api_url() -> str:
    return f"http://127.0.0.1:{os.environ.get('BRIDGE_API_PORT', '8000')}"


def _schedule_fire(args: argparse.Namespace) -> int:
    import httpx

    try:
        response = httpx.post(f"{_api_url()}/_local/schedules/{args.name}/fire", timeout=10)
    except httpx.TransportError as exc:
        print(f"the local stack is not running at {_api_url()} ({exc}); start it with `make dev`", file=sys.stderr)
        return 1
    if response.status_code != 200:
        print(response.text, file=sys.stderr)
        return 1
    print(json.dumps(response.json(), indent=2))
    return 0


def _secret_set(args: argparse.Namespace) -> int:
    import getpass

    from infra.operate import OperateError, client_secret_name, store_client_secret

    name = client_secret_name(args.stage)
    if sys.stdin.isatty():
        value = getpass.getpass(f"ClickUp OAuth client secret for {name} (not echoed): ")
    else:
        value = sys.stdin.readline()
    try:
        stored = store_client_secret(args.stage, value, endpoint_url=args.endpoint_url, region=args.region)
    except OperateError as exc:
        print(f"secret not stored: {exc}", file=sys.stderr)
        return 1
    print(f"stored {stored['name']} (version {stored['version_id']}); the functions use it within 5 minutes")
    return 0


def _smoke(args: argparse.Namespace) -> int:
    from infra.operate import OperateError, smoke

    skip = [s for s in (args.skip or "").split(",") if s]
    try:
        report = smoke(args.stage, api_url=args.api_url, endpoint_url=args.endpoint_url, region=args.region, skip=skip)
    except OperateError as exc:
        print(f"smoke check not run: {exc}", file=sys.stderr)
        return 2
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


def _aws_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage", required=True, help="the deployed stage (make deploy's STAGE)")
    parser.add_argument("--region", help="AWS region (default: your AWS configuration's)")
    parser.add_argument(
        "--endpoint-url", help="another AWS endpoint, e.g. the local stack's moto (default: AWS_ENDPOINT_URL or AWS)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clickup-bridge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("dev", help="start the whole local stack in the foreground (what `make dev` runs)").set_defaults(
        func=_dev
    )
    token = sub.add_parser("dev-token", help="print a portal JWT that the local authorizer accepts")
    token.add_argument("--org", required=True, help="organisation id (the org_id claim)")
    token.add_argument("--user", default="dev-user", help="user id (the sub claim)")
    token.add_argument("--role", default="admin", choices=["admin", "member"], help="portal role")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    token.set_defaults(func=_dev_token)
    schedule = sub.add_parser("schedule", help="EventBridge schedules of the local stack")
    schedule_sub = schedule.add_subparsers(dest="schedule_command", required=True)
    fire = schedule_sub.add_parser("fire", help="fire a schedule now")
    fire.add_argument("name", help="schedule name, e.g. space-sync-tick")
    fire.set_defaults(func=_schedule_fire)
    secret = sub.add_parser("secret", help="the deployed stage's ClickUp OAuth client secret")
    secret_sub = secret.add_subparsers(dest="secret_command", required=True)
    secret_set = secret_sub.add_parser(
        "set", help="store the client secret (prompted, or one line on stdin); the value is never printed"
    )
    _aws_options(secret_set)
    secret_set.set_defaults(func=_secret_set)
    check = sub.add_parser(
        "smoke", help="after make deploy: check that routes, schedules and queues are wired (creates nothing)"
    )
    _aws_options(check)
    check.add_argument("--api-url", help="the API's URL (default: the stack's PublicBaseUrl output)")
    check.add_argument("--skip", help="comma-separated: lambda, alarms (for a local stack)")
    check.set_defaults(func=_smoke)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
