"""The local stack as benchmarks start it: ephemeral ports, a throwaway state directory."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any


def start_stack(**overrides: Any) -> Any:
    from local.stack import LocalStack, StackConfig

    config = StackConfig(api_port=0, emulator_port=0, aws_port=0, state_dir=Path(tempfile.mkdtemp()), **overrides)
    return LocalStack(config).start()
