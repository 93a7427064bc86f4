"""Cold start (issue 18): what Lambda would load for each function, as a ratio to a naive handler module.

Read from the synthesized template (`make synth`: cdk.out/ClickUpBridge-<stage>.template.json), not from the source
tree: each function's `Handler`, its code asset, its layers' assets and its own `Environment` (intrinsics such as a
queue's `Ref` become placeholders of the same kind), plus what the Lambda runtime sets (`LAMBDA_TASK_ROOT`,
`AWS_LAMBDA_FUNCTION_NAME`, the region, credentials) and its module search path (task root, then the layer's
`python/`). Each import runs in a fresh interpreter (`-S -E`: nothing from the venv leaks in), five times, interleaved
with the naive module (`bench/naive_handler.py`, loaded with the same layer) so that the machine's load hits both
alike; the figure is the best of five, and the ratio is the function's best over the naive module's best.

The layer's wheels are built for Lambda (arm64, the template's `Runtime`); this machine may run neither. The
benchmark installs the very distributions the layer asset holds (names and versions from its `*.dist-info`) for
this interpreter beside it, and takes everything else (the `bridge` package, the function code) from the assets.

Bytecode: Lambda's code directories are read-only, so a module without its `__pycache__` entry is compiled from
source at every cold start. Both are measured: `source` (no bytecode anywhere, none written: `-B`) and `bytecode`
(everything compiled beforehand by this interpreter, as a layer built with compiled bytecode ships it). The goals
are checked in the mode the template's layer ships (bytecode when its asset holds `.pyc` files).

Goals: `webhook` <= 0.35 of the naive module, every other function <= 0.6.
Environment: `COLD_START_TEMPLATE` (use this template instead of synthesizing), `COLD_START_REPEATS` (5),
`COLD_START_IMPORTTIME` (entries of `-X importtime` kept per function, default 8; 0: none).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.results import record
from infra import definitions as d

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "bench-cold-start"
REPEATS = int(os.environ.get("COLD_START_REPEATS", "5"))
IMPORTTIME_TOP = int(os.environ.get("COLD_START_IMPORTTIME", "8"))
GOALS = {"webhook": 0.35}
DEFAULT_GOAL = 0.6
NAIVE = "naive"
MODES = ("source", "bytecode")

_PROBE = """
import json, sys, time
sys.path[:0] = {paths!r}
t0 = time.perf_counter()
__import__({module!r})  # the import statement's path (-X importtime times it; importlib.import_module it does not)
getattr(sys.modules[{module!r}], {attr!r})
print(json.dumps({{"import_ms": (time.perf_counter() - t0) * 1000}}))
"""


# -- the template ---------------------------------------------------------------------------------------------


def _template() -> tuple[dict[str, Any], Path]:
    """The synthesized template and its cloud assembly directory (synthesized now unless COLD_START_TEMPLATE)."""
    given = os.environ.get("COLD_START_TEMPLATE")
    if given:
        path = Path(given).resolve()
    else:
        stage = os.environ.get("STAGE", d.DEFAULT_STAGE)
        synth = ["make", "-s", "synth"]  # the project's own target, `make` from PATH as `make bench` runs it
        subprocess.run(synth, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        path = ROOT / "cdk.out" / f"ClickUpBridge-{stage}.template.json"
    return json.loads(path.read_text()), path.parent


def _asset_dirs(outdir: Path) -> dict[str, Path]:
    """Asset hash -> its directory in the cloud assembly (from the stack's assets manifest)."""
    dirs: dict[str, Path] = {}
    for manifest in outdir.glob("*.assets.json"):
        for digest, entry in json.loads(manifest.read_text()).get("files", {}).items():
            dirs[digest] = outdir / entry["source"]["path"]
    return dirs


def _asset(code: dict[str, Any], dirs: dict[str, Path]) -> Path:
    key = code["S3Key"]
    return dirs[key.split(".")[0] if isinstance(key, str) else ""]


def _placeholder(value: Any, resources: dict[str, Any]) -> str:
    """A CloudFormation value as the function would see it, with references replaced by values of their kind."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        ref = value["Ref"]
        kind = resources.get(ref, {}).get("Type", "")
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.eu-west-1.amazonaws.com/123456789012/{ref}"
        return f"bench-{ref}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical, attribute = value["Fn::GetAtt"]
        return f"arn:aws:bench:eu-west-1:123456789012:{logical}/{attribute}"
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(_placeholder(p, resources) for p in parts)
    return "bench"


def functions_from_template(template: dict[str, Any], outdir: Path) -> dict[str, dict[str, Any]]:
    """Each function of the template: handler module and attribute, runtime, code and layer directories, and the
    environment Lambda gives it. Keyed by the function's name in infra/definitions.py."""
    resources = template["Resources"]
    dirs = _asset_dirs(outdir)
    by_physical = {fn.physical_name(stage): fn.name for fn in d.FUNCTIONS for stage in {_stage(template)}}
    found: dict[str, dict[str, Any]] = {}
    for logical, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        props = resource["Properties"]
        name = by_physical.get(str(props.get("FunctionName")))
        if name is None:
            continue
        module, _, attr = props["Handler"].rpartition(".")
        layers = [_asset(resources[ref["Ref"]]["Properties"]["Content"], dirs) for ref in props.get("Layers", [])]
        variables = (props.get("Environment") or {}).get("Variables", {})
        found[name] = {
            "logical_id": logical,
            "handler": props["Handler"],
            "module": module,
            "attr": attr,
            "runtime": props["Runtime"],
            "architectures": props.get("Architectures", ["x86_64"]),
            "memory_mb": props.get("MemorySize", 128),
            "code": _asset(props["Code"], dirs),
            "layers": layers,
            "environment": {k: _placeholder(v, resources) for k, v in variables.items()},
            "physical_name": props["FunctionName"],
        }
    return found


def _stage(template: dict[str, Any]) -> str:
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            variables = (resource["Properties"].get("Environment") or {}).get("Variables", {})
            if isinstance(variables.get("STAGE"), str):
                return str(variables["STAGE"])
    return d.DEFAULT_STAGE


# -- what this interpreter can load ----------------------------------------------------------------------------

_DIST = re.compile(r"^(?P<name>.+?)-(?P<version>[^-]+)\.dist-info$")


def _distributions(layer_python: Path) -> list[str]:
    """`name==version` of every distribution installed in the layer."""
    pins = []
    for info in sorted(layer_python.glob("*.dist-info")):
        match = _DIST.match(info.name)
        if match:
            pins.append(f"{match['name']}=={match['version']}")
    return pins


def _host_twin(pins: list[str]) -> Path:
    """The layer's distributions installed for this interpreter and platform (cached by the pin list)."""
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}-{platform.machine()}"
    digest = hashlib.sha256("\n".join(pins).encode()).hexdigest()[:12]
    target = WORK / "twins" / f"{tag}-{digest}"
    if not (target / ".installed").exists():
        shutil.rmtree(target, ignore_errors=True)
        uv = ROOT / ".tools" / "bin" / "uv"
        command = [str(uv), "pip", "install", "--quiet", "--no-deps", "--no-compile", "--target", str(target)]
        command += ["--python", sys.executable, *pins]
        subprocess.run(command, cwd=ROOT, check=True)
        (target / ".installed").touch()
    return target


def _copy_tree(source: Path, target: Path, compiled: bool) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.dist-info"))
    if compiled:
        subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", str(target)], check=True)
    return target


def _layout(mode: str, functions: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Per function (and the naive module): the module search path Lambda would give it, built for `mode`."""
    compiled = mode == "bytecode"
    root = WORK / mode
    for stale in ("layers", "tasks"):  # this run's assets only (the twins are the same wheels every run)
        shutil.rmtree(root / stale, ignore_errors=True)
    layer_paths: dict[Path, list[str]] = {}
    paths: dict[str, list[str]] = {}
    for name, fn in functions.items():
        for layer in fn["layers"]:
            if layer not in layer_paths:
                python = layer / "python"
                twin = _host_twin(_distributions(python))
                twin_copy = root / "twins" / twin.name  # the same wheels every run: copied (compiled) once
                if not (twin_copy / ".installed").exists():
                    _copy_tree(twin, twin_copy, compiled)
                    (twin_copy / ".installed").touch()
                own = _copy_tree(python, root / "layers" / layer.name, compiled)
                # Lambda: /opt/python (the layer); here the host's build of the same wheels comes first, so that
                # third-party packages load from it and the layer's own packages (bridge) from its asset.
                layer_paths[layer] = [str(twin_copy), str(own)]
        task = _copy_tree(fn["code"], root / "tasks" / name, compiled)
        paths[name] = [str(task)] + [p for layer in fn["layers"] for p in layer_paths[layer]]
    naive_task = root / "tasks" / NAIVE
    shutil.rmtree(naive_task, ignore_errors=True)
    naive_task.mkdir(parents=True)
    shutil.copy(ROOT / "bench" / "naive_handler.py", naive_task / "naive_handler.py")
    if compiled:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(naive_task)], check=True)
    first = next(iter(functions.values()))
    paths[NAIVE] = [str(naive_task)] + [p for layer in first["layers"] for p in layer_paths[layer]]
    return paths


def _environment(fn: dict[str, Any]) -> dict[str, str]:
    """The function's own environment plus what the Lambda runtime sets (no X-Ray daemon: none is reachable)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn['runtime']}",
        "AWS_LAMBDA_FUNCTION_NAME": fn["physical_name"],
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn["memory_mb"]),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "_HANDLER": fn["handler"],
    }
    env.update(fn["environment"])
    return env


def _probe(paths: list[str], module: str, attr: str, env: dict[str, str], importtime: bool = False) -> Any:
    code = _PROBE.format(paths=paths, module=module, attr=attr)
    flags = ["-S", "-E", "-B"] + (["-X", "importtime"] if importtime else [])
    out = subprocess.run([sys.executable, *flags, "-c", code], env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{out.stderr[-3000:]}")
    if importtime:
        return out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])["import_ms"]


def _top_entries(report: str, module: str, top: int) -> list[dict[str, Any]]:
    """Where a module's import time goes: its direct imports by cumulative time (`-X importtime`, milliseconds)."""
    rows = []
    for line in report.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, cumulative_us, raw = line.split("|", 2)
        name = raw[1:]  # "| " then two spaces a level
        depth = (len(name) - len(name.lstrip())) // 2
        rows.append((depth, name.strip(), int(cumulative_us) / 1000))
    # children of the measured module: depth 1 rows that precede it (importtime lists a module after its imports)
    end = max(i for i, row in enumerate(rows) if row[0] == 0 and row[1] == module)
    start = max((i for i, row in enumerate(rows[:end]) if row[0] == 0), default=-1) + 1
    children = [row for row in rows[start:end] if row[0] == 1]
    children.sort(key=lambda row: -row[2])
    return [{"module": name, "cumulative_ms": round(ms, 1)} for _, name, ms in children[:top]]


# -- the run ---------------------------------------------------------------------------------------------------


def _shipped_mode(functions: dict[str, dict[str, Any]]) -> str:
    """`bytecode` when the layer holds bytecode the template's runtime can use (`*.cpython-314.pyc` for
    `python3.14`); bytecode of another version (e.g. caches of the source tree's own runs) is never read."""
    layers = {layer for fn in functions.values() for layer in fn["layers"]}
    tags = {"cpython-" + fn["runtime"].removeprefix("python").replace(".", "") for fn in functions.values()}
    found = any(next(layer.rglob(f"*.{tag}.pyc"), None) for layer in layers for tag in tags)
    return "bytecode" if found else "source"


def run() -> dict[str, object]:
    template, outdir = _template()
    functions = functions_from_template(template, outdir)
    missing = {fn.name for fn in d.FUNCTIONS} - set(functions)
    if missing:
        raise RuntimeError(f"functions not found in the template: {sorted(missing)}")
    runtime = sorted({fn["runtime"] for fn in functions.values()})
    architectures = sorted({a for fn in functions.values() for a in fn["architectures"]})
    shipped = _shipped_mode(functions)
    naive_env = _environment({**next(iter(functions.values())), "environment": {}, "physical_name": "naive"})
    figures: dict[str, Any] = {
        "template": str(outdir),
        "runtime": runtime,
        "architectures": architectures,
        "measured_with": f"CPython {platform.python_version()} {platform.machine()}",
        "repeats": REPEATS,
        "statistic": "best",
        "shipped_mode": shipped,
        "goals": {"webhook": GOALS["webhook"], "others": DEFAULT_GOAL},
        "modes": {},
    }
    print(
        f"template {outdir.name}: runtime {', '.join(runtime)} ({', '.join(architectures)}), measured with "
        f"{figures['measured_with']}; the layer ships {shipped}; best of {REPEATS}",
        flush=True,
    )
    for mode in MODES:
        paths = _layout(mode, functions)
        samples: dict[str, list[float]] = {name: [] for name in [NAIVE, *functions]}
        for _ in range(REPEATS):
            samples[NAIVE].append(_probe(paths[NAIVE], "naive_handler", "handler", naive_env))
            for name, fn in functions.items():
                samples[name].append(_probe(paths[name], fn["module"], fn["attr"], _environment(fn)))
        naive = min(samples[NAIVE])
        per_function: dict[str, Any] = {}
        for name, fn in functions.items():
            best = min(samples[name])
            goal = GOALS.get(name, DEFAULT_GOAL)
            entry: dict[str, Any] = {
                "import_ms": round(best, 1),
                "ratio_to_naive": round(best / naive, 3),
                "goal": goal,
                "within_goal": best / naive <= goal,
            }
            if IMPORTTIME_TOP and mode == shipped:
                report = _probe(paths[name], fn["module"], fn["attr"], _environment(fn), importtime=True)
                entry["importtime_top"] = _top_entries(report, fn["module"], IMPORTTIME_TOP)
            per_function[name] = entry
        figures["modes"][mode] = {"naive_import_ms": round(naive, 1), "functions": per_function}
        print(f"-- {mode}{' (as shipped)' if mode == shipped else ''}: naive module {naive:.0f} ms", flush=True)
        for name, entry in per_function.items():
            verdict = "ok" if entry["within_goal"] else "OVER"
            print(
                f"   {name:16} {entry['import_ms']:7.1f} ms  {entry['ratio_to_naive']:.3f}x  "
                f"(goal <= {entry['goal']})  {verdict}",
                flush=True,
            )
    source, compiled = figures["modes"]["source"], figures["modes"]["bytecode"]
    figures["bytecode_speedup"] = {
        name: round(source["functions"][name]["import_ms"] / compiled["functions"][name]["import_ms"], 2)
        for name in functions
    }
    figures["bytecode_speedup"][NAIVE] = round(source["naive_import_ms"] / compiled["naive_import_ms"], 2)
    print(
        "   bytecode: source/compiled import time "
        + ", ".join(f"{k} {v}x" for k, v in figures["bytecode_speedup"].items()),
        flush=True,
    )
    figures["all_within_goal"] = all(e["within_goal"] for e in figures["modes"][shipped]["functions"].values())
    record("cold_start", figures, quiet=True)
    return figures
