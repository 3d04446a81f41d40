"""The code stays formatted, lint-clean and type-clean: checked with every test run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# bench/ is optional in a checkout (benchmarks live on their own branch until merged)
PATHS = [p for p in ("bot", "engine", "storage", "tests", "bench") if (ROOT / p).is_dir()]


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "format", "--check", *PATHS],
        ["ruff", "check", *PATHS],
        ["mypy"],
    ],
    ids=["format", "lint", "types"],
)
def test_the_code_is_clean(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
