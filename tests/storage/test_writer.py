"""The single writer: busy databases are waited out, full disks stop the run cleanly."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from syncer.errors import FatalError
from syncer.sources.git import GitSource
from syncer.storage import db as db_module
from syncer.storage.writer import Writer
from syncer.sync.engine import SyncEngine
from syncer_dev.gitrepo import GitRepo
from syncer_dev.snapshot import diff, snapshot
from tests.support.runs import fresh_db, run_sync, settings_for

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def insert_run(conn: sqlite3.Connection) -> int:
    cursor = conn.execute(
        "INSERT INTO sync_runs (ontology_id, kind, status, started_at) VALUES ('x','t','done','t')"
    )
    return int(cursor.lastrowid or 0)


def test_a_busy_database_is_waited_out(db_path: Path) -> None:
    other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    other.execute("PRAGMA busy_timeout = 0")
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            other.execute("COMMIT")  # ... and lets go while we back off

    writer = Writer(db_path, sleep=sleep)
    monkey_timeout = db_module.BUSY_TIMEOUT_MS
    try:
        db_module.BUSY_TIMEOUT_MS = 0  # fail fast instead of SQLite's own wait
        run_id = writer.call(insert_run)
    finally:
        db_module.BUSY_TIMEOUT_MS = monkey_timeout
        writer.close()
    assert run_id == 1
    assert len(waits) == 2


@pytest.mark.slow
def test_a_full_disk_stops_the_run_and_leaves_a_consistent_database(
    git_repo: GitRepo, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = "".join(
        f"<https://example.org/f/C{i}> <{RDF_TYPE}> <http://www.w3.org/2002/07/owl#Class> .\n"
        f'<https://example.org/f/C{i}> <{RDFS_LABEL}> "{"label " * 40}{i}" .\n'
        for i in range(300)
    )
    git_repo.commit_files({f"f{n}.nt": big.replace("/C", f"/F{n}C") for n in range(6)})
    settings = settings_for(git_repo, db_path)

    pages_now = sqlite3.connect(db_path).execute("PRAGMA page_count").fetchone()[0]
    real_connect = db_module.connect

    def cramped(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
        conn = real_connect(path, readonly=readonly)
        conn.execute(f"PRAGMA max_page_count = {pages_now + 60}")  # room for ~1 file
        return conn

    monkeypatch.setattr("syncer.storage.writer.connect", cramped)

    async def go() -> None:
        writer = Writer(db_path)
        try:
            await SyncEngine(settings, GitSource(git_repo.path), writer).sync()
        finally:
            writer.close()

    with pytest.raises(FatalError, match="disk full"):
        asyncio.run(go())
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    written = conn.execute("SELECT count(*) FROM source_files").fetchone()[0]
    tasks = conn.execute("SELECT count(*) FROM sync_tasks").fetchone()[0]
    assert written + tasks == 6 and tasks > 0  # every file is either written or still queued
    conn.close()

    monkeypatch.setattr("syncer.storage.writer.connect", real_connect)  # the disk has room again
    result = run_sync(settings)
    assert (result.status, result.processed) == ("done", tasks)
    fresh = fresh_db(tmp_path, "fresh")
    run_sync(settings_for(git_repo, fresh))
    assert diff(snapshot(db_path), snapshot(fresh)) == []
