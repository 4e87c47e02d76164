from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from syncer.config import Settings
from syncer.model import TreeEntry
from syncer.sources.git import GitSource
from syncer.storage.migrate import migrate
from syncer.storage.writer import Writer
from syncer.sync.engine import SyncEngine
from syncer.sync.progress import RunResult
from syncer_dev.gitrepo import GitRepo
from tests.secret_watch import SecretWatch


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    return GitRepo.init(tmp_path / "repo")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "syncer.db"
    migrate(path, make_backup=False)
    return path


def settings_for(repo: GitRepo, db: Path, **changes: object) -> Settings:
    return Settings(db_path=db, git_dir=repo.path, workers=2).with_(**changes)


def run_sync(
    settings: Settings,
    *,
    force: bool = False,
    order: Callable[[Sequence[TreeEntry]], Sequence[TreeEntry]] | None = None,
) -> RunResult:
    """One `syncer sync`, as the CLI runs it, against a local repository."""

    async def go() -> RunResult:
        assert settings.git_dir is not None
        source = GitSource(settings.git_dir)
        writer = Writer(settings.db_path)
        try:
            engine = SyncEngine(settings, source, writer)
            engine.order = order
            return await engine.sync(force=force)
        finally:
            writer.close()

    return asyncio.run(go())


def fresh_db(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.db"
    if path.exists():
        path.unlink()
    migrate(path, make_backup=False)
    return path


def shuffler(seed: int) -> Callable[[Sequence[TreeEntry]], Sequence[TreeEntry]]:
    rng = random.Random(seed)

    def order(entries: Sequence[TreeEntry]) -> Sequence[TreeEntry]:
        shuffled = list(entries)
        rng.shuffle(shuffled)
        return shuffled

    return order


@pytest.fixture(scope="session", autouse=True)
def secret_watch() -> Iterator[SecretWatch]:
    """No log record of the whole session holds a secret a test created (tests/secret_watch.py)."""
    with SecretWatch().installed() as watch:
        yield watch
    assert watch.hits == [], "secrets in log records:\n" + "\n".join(watch.hits[:20])
