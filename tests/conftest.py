from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncer.storage.migrate import migrate
from syncer_dev.gitrepo import GitRepo
from tests.support.secret_watch import SecretWatch


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    return GitRepo.init(tmp_path / "repo")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "syncer.db"
    migrate(path, make_backup=False)
    return path


@pytest.fixture(scope="session", autouse=True)
def secret_watch() -> Iterator[SecretWatch]:
    """No log record of the whole session holds a secret a test created (tests/secret_watch.py)."""
    with SecretWatch().installed() as watch:
        yield watch
    assert watch.hits == [], "secrets in log records:\n" + "\n".join(watch.hits[:20])
