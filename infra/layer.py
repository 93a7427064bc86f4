"""The Lambda layer's own part: the `bridge` package, and bytecode for everything the layer holds.

Lambda's code directories (/opt for layers) are read only, so a runtime cannot write the `__pycache__` it would
otherwise create: a layer shipped without bytecode is compiled from source at every cold start. The layer
therefore ships `.pyc` files compiled by the interpreter of the Lambda runtime's own minor version
(`infra.definitions.LAMBDA_PYTHON`; bytecode is specific to it), with `--invalidation-mode unchecked-hash`
(PEP 552): the runtime uses them without comparing source timestamps, which a zip deployment does not keep.

`python -m infra.layer bridge LAYER_DIR` copies the package in and compiles the layer;
`python -m infra.layer compile DIR` compiles a tree (the installed dependencies); both refuse to run on an
interpreter that is not the runtime's version.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import py_compile
import shutil
import sys
from pathlib import Path

from infra.definitions import LAMBDA_PYTHON

ROOT = Path(__file__).resolve().parent.parent
BRIDGE = ROOT / "layers" / "common" / "bridge"


class WrongInterpreter(SystemExit):
    pass


def require_runtime_interpreter() -> None:
    """Bytecode from another minor version is ignored by the runtime (its magic number differs)."""
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if running != LAMBDA_PYTHON:
        raise WrongInterpreter(
            f"the layer's bytecode must be compiled by Python {LAMBDA_PYTHON} (the Lambda runtime), not {running}"
        )


def compile_tree(path: Path) -> None:
    """Compile every .py under `path` (in place, `__pycache__/*.cpython-XY.pyc`, unchecked hash)."""
    require_runtime_interpreter()
    ok = compileall.compile_dir(
        str(path),
        quiet=1,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    if not ok:
        raise SystemExit(f"compiling {path} failed")


def add_bridge(layer_dir: Path) -> Path:
    """Copy the `bridge` package into the layer (`python/bridge`, no stale caches) and compile it."""
    target = layer_dir / "python" / "bridge"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(BRIDGE, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    compile_tree(target)
    return target


def missing_bytecode(path: Path) -> list[str]:
    """The .py files under `path` without an unchecked-hash .pyc of this interpreter beside them (empty: none)."""
    missing = []
    for source in sorted(path.rglob("*.py")):
        cached = Path(importlib.util.cache_from_source(str(source)))
        if not cached.is_file():
            missing.append(str(source.relative_to(path)))
            continue
        header = cached.read_bytes()[:8]
        flags = int.from_bytes(header[4:8], "little")
        if header[:4] != importlib.util.MAGIC_NUMBER or flags != 0b01:  # hash-based (bit 0), unchecked (bit 1 unset)
            missing.append(str(source.relative_to(path)))
    return missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["bridge", "compile"])
    parser.add_argument("path", type=Path)
    args = parser.parse_args()
    if args.command == "bridge":
        add_bridge(args.path)
    else:
        compile_tree(args.path)


if __name__ == "__main__":
    main()
