"""The code stays ruff-clean and mypy-strict: CI runs the linters as tests."""

from __future__ import annotations

import subprocess
import sys

from conftest import PROJECT


def _tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", name, *args]
    return subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, check=False)


def test_ruff_finds_nothing() -> None:
    """`ruff check` passes on the whole project."""
    result = _tool("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_changes_nothing() -> None:
    """`ruff format --check` passes on the whole project."""
    result = _tool("ruff", "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_passes_on_src() -> None:
    """`mypy --strict` passes on src/."""
    result = _tool("mypy", "--strict", "--no-incremental", "src")
    assert result.returncode == 0, result.stdout + result.stderr
