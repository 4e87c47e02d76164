"""The ``syncer`` command as a user runs it: a subprocess with only the given settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def syncer(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SYNCER_")}
    return subprocess.run(
        [sys.executable, "-m", "syncer", *args],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
