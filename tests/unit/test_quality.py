"""Lint and types are part of the test run, so CI holds every change to them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.paths import ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_lint_is_clean() -> None:
    result = run("ruff", "check", "syncer", "syncer_dev", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = run("ruff", "format", "--check", "syncer", "syncer_dev", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_is_clean() -> None:
    result = run("mypy")  # the packages pyproject.toml names: syncer and syncer_dev
    assert result.returncode == 0, result.stdout + result.stderr
