"""Build settings and run one sync as the CLI does, against a local repository."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from pathlib import Path

from syncer.config import Settings
from syncer.model import TreeEntry
from syncer.sources.git import GitSource
from syncer.storage.migrate import migrate
from syncer.storage.writer import Writer
from syncer.sync.engine import SyncEngine
from syncer.sync.progress import RunResult
from syncer_dev.gitrepo import GitRepo


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
            engine = SyncEngine(settings, source, writer, order=order)
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
