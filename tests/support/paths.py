"""Where the test data lives, whichever group a test is in."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
SAMPLES = TESTS / "samples"
FIXTURES = TESTS / "fixtures"
ARTIFACTS = ROOT / "test-artifacts"
