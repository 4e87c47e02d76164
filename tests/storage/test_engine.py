"""The spec's invariant: after any sequence of syncs the database equals a fresh sync."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from syncer import PARSER_VERSION
from syncer.model import TreeEntry, git_blob_sha
from syncer.sources.git import GitSource
from syncer.storage.writer import Writer
from syncer.sync.engine import SyncEngine, default_parse_executor, wants_processes
from syncer_dev.gitrepo import GitRepo
from syncer_dev.snapshot import INVARIANT_TABLES, diff, snapshot
from tests.support.histories import History
from tests.support.runs import fresh_db, run_sync, settings_for, shuffler


def apply_changes(repo: GitRepo, changes: dict[str, str | None]) -> str:
    for path, content in changes.items():
        if content is None:
            repo.delete(path)
        else:
            repo.write({path: content})
    return repo.commit()


def assert_equals_fresh(repo: GitRepo, db: Path, tmp_path: Path, seed: int) -> None:
    fresh = fresh_db(tmp_path, "fresh")
    result = run_sync(settings_for(repo, fresh), order=shuffler(seed))
    assert result.status == "done"
    problems = diff(snapshot(db), snapshot(fresh))
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.slow
def test_incremental_syncs_equal_fresh_sync_after_every_commit(
    git_repo: GitRepo, db_path: Path, tmp_path: Path, seed: int
) -> None:
    history = History(seed)
    settings = settings_for(git_repo, db_path, workers=3)
    for step in range(25):
        changes = history.step()
        if not changes:
            continue
        apply_changes(git_repo, changes)
        result = run_sync(settings, order=shuffler(seed * 100 + step))
        assert result.status == "done", result.error
        assert_equals_fresh(git_repo, db_path, tmp_path, seed + step)


def test_syncing_only_every_few_commits_still_converges(
    git_repo: GitRepo, db_path: Path, tmp_path: Path
) -> None:
    history = History(7)
    settings = settings_for(git_repo, db_path, workers=4)
    for step in range(30):
        changes = history.step()
        if changes:
            apply_changes(git_repo, changes)
        if step % 4 == 3:
            assert run_sync(settings, order=shuffler(step)).status == "done"
    assert run_sync(settings).status == "done"
    assert_equals_fresh(git_repo, db_path, tmp_path, 99)


def test_second_sync_with_nothing_changed_fetches_nothing_and_changes_no_row(
    git_repo: GitRepo, db_path: Path
) -> None:
    history = History(11)
    for _ in range(6):
        apply_changes(git_repo, history.step())
    settings = settings_for(git_repo, db_path)
    first = run_sync(settings)
    assert first.status == "done" and first.processed > 0
    before = snapshot(db_path, INVARIANT_TABLES)
    with sqlite3.connect(db_path) as conn:
        stamps_before = conn.execute(
            "SELECT path, last_synced FROM source_files ORDER BY path"
        ).fetchall()
    second = run_sync(settings)
    assert (second.status, second.processed, second.deleted, second.planned) == ("done", 0, 0, 0)
    # rev-parse and ls-tree only: no cat-file, so no content was read.
    assert second.requests == 2
    assert snapshot(db_path, INVARIANT_TABLES) == before
    with sqlite3.connect(db_path) as conn:
        stamps_after = conn.execute(
            "SELECT path, last_synced FROM source_files ORDER BY path"
        ).fetchall()
    assert stamps_after == stamps_before


def test_deleting_every_file_leaves_no_ontology_rows(git_repo: GitRepo, db_path: Path) -> None:
    history = History(5)
    for _ in range(8):
        apply_changes(git_repo, history.step())
    settings = settings_for(git_repo, db_path)
    run_sync(settings)
    for path in list(history.files):
        git_repo.delete(path)
    git_repo.commit()
    result = run_sync(settings)
    assert result.status == "done"
    assert result.deleted == len(history.files)
    tables = snapshot(db_path)
    assert tables.pop("prefix") != []  # the prefix map does not depend on the files
    assert all(rows == [] for rows in tables.values())
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM statements").fetchone() == (0,)


def test_force_reprocesses_every_file_and_changes_nothing(git_repo: GitRepo, db_path: Path) -> None:
    history = History(13)
    for _ in range(8):
        apply_changes(git_repo, history.step())
    settings = settings_for(git_repo, db_path)
    run_sync(settings)
    before = snapshot(db_path)
    forced = run_sync(settings, force=True)
    assert forced.processed == len(before["source_files"])
    assert snapshot(db_path) == before


def entries(count: int, size: int) -> list[TreeEntry]:
    return [TreeEntry(f"f{i}.ttl", f"{i:040x}", size) for i in range(count)]


def test_parse_processes_only_for_many_megabytes_of_large_files() -> None:
    assert not wants_processes(entries(974, 6 * 1024))  # ontology pages: threads
    assert not wants_processes(entries(10_000, 9 * 1024))  # 90 MB, but small files
    assert not wants_processes(entries(10, 1024 * 1024))  # large files, 10 MB in all
    assert wants_processes(entries(300, 100 * 1024))  # 30 MB of 100 KB Turtle files
    assert isinstance(default_parse_executor(4, entries(974, 6 * 1024)), ThreadPoolExecutor)


def test_a_sync_parsing_in_processes_equals_one_parsing_in_threads(
    git_repo: GitRepo, db_path: Path, tmp_path: Path
) -> None:
    history = History(5)
    for _ in range(3):
        apply_changes(git_repo, history.step())
    settings = settings_for(git_repo, db_path)

    async def sync_in_processes() -> str:
        writer = Writer(db_path)
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
            try:
                engine = SyncEngine(settings, GitSource(git_repo.path), writer, parse_executor=pool)
                return (await engine.sync()).status
            finally:
                writer.close()

    assert asyncio.run(sync_in_processes()) == "done"
    assert_equals_fresh(git_repo, db_path, tmp_path, seed=1)


def test_a_blob_missing_from_the_clone_fails_alone_and_is_read_once_it_is_back(
    git_repo: GitRepo, db_path: Path, tmp_path: Path
) -> None:
    # A partial or damaged clone (FIBO's mirror lacks one .rdf blob): the run ends,
    # the other files are stored, and the absent one is asked for again next run.
    owl = "<http://www.w3.org/2002/07/owl#Class>"
    kept = f"<http://example.org/A> a {owl} .\n"
    lost = f"<http://example.org/B> a {owl} .\n"
    git_repo.commit_files({"a.ttl": kept, "b.ttl": lost})
    sha = git_blob_sha(lost.encode())
    loose = git_repo.path / ".git" / "objects" / sha[:2] / sha[2:]
    saved = loose.read_bytes()
    loose.unlink()
    settings = settings_for(git_repo, db_path)

    first = run_sync(settings)
    reason = (
        f"blob {sha} is missing from the local repository (a partial or damaged"
        " clone?); it is asked for again next run"
    )
    assert (first.status, first.processed, first.failed) == ("done", 2, 1)
    assert first.failures == (("b.ttl", reason),)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute(
            "SELECT path, status, parser_version, error FROM source_files ORDER BY path"
        ).fetchall() == [
            ("a.ttl", "ok", PARSER_VERSION, None),
            ("b.ttl", "failed", 0, reason),
        ]
        assert conn.execute("SELECT subject FROM statements ORDER BY subject").fetchall() == [
            ("<http://example.org/A>",)
        ]

    loose.write_bytes(saved)
    second = run_sync(settings)
    assert (second.status, second.processed, second.failed, second.planned) == ("done", 1, 0, 1)
    fresh = fresh_db(tmp_path, "fresh")
    assert run_sync(settings_for(git_repo, fresh)).status == "done"
    assert diff(snapshot(db_path), snapshot(fresh)) == []
