"""The command line, run as a user runs it: a subprocess with environment settings."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from syncer.cli import ProgressBar
from syncer.config import Secret, Settings
from syncer.sync.progress import Progress
from syncer.web.auth import check_admin_token
from syncer_dev.gitrepo import GitRepo

GOOD = """@prefix ex: <https://example.org/c/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:A a owl:Class ; rdfs:label "A" ; rdfs:subClassOf ex:B .
"""


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


@pytest.fixture
def env(git_repo: GitRepo, tmp_path: Path) -> dict[str, str]:
    return {"SYNCER_GIT_DIR": str(git_repo.path), "SYNCER_DB": str(tmp_path / "cli.db")}


@pytest.mark.slow
def test_sync_reports_failures_and_exits_zero_when_it_reached_the_head(
    git_repo: GitRepo, env: dict[str, str], tmp_path: Path
) -> None:
    commit = git_repo.commit_files({"good.ttl": GOOD, "bad.ttl": "ex:A a <<<", "notes.md": "hi"})
    result = syncer("sync", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        f"done: commit {commit[:12]}, 3 processed (1 failed), 0 deleted,"
        " 0 unchanged, 3 source requests, "
    )
    assert lines[1].startswith("  failed: bad.ttl: turtle: ")
    assert result.stderr == ""  # no terminal: no progress bar

    status = syncer("status", "--json", env=env, cwd=tmp_path)
    data = json.loads(status.stdout)
    assert data["synced_commit"] == commit
    assert data["files_by_status"] == {"ok": 1, "failed": 1, "skipped": 1}
    assert data["counts"]["classes"] == 2 and data["counts"]["hierarchy"] == 1
    assert [f["path"] for f in data["failed_files"]] == ["bad.ttl"]

    text = syncer("status", env=env, cwd=tmp_path).stdout
    assert f"synced commit: {commit}" in text
    assert "files:         1 ok, 1 failed, 1 skipped" in text


def test_no_repository_configured_is_a_fatal_error_with_advice(tmp_path: Path) -> None:
    result = syncer("sync", env={"SYNCER_DB": str(tmp_path / "x.db")}, cwd=tmp_path)
    assert result.returncode == 2
    assert "no repository configured" in result.stderr and "syncer demo" in result.stderr


def test_an_unreachable_repository_interrupts_the_run(tmp_path: Path) -> None:
    env = {"SYNCER_GIT_DIR": str(tmp_path / "nowhere"), "SYNCER_DB": str(tmp_path / "x.db")}
    result = syncer("sync", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "interrupted" in result.stdout and "does not exist" in result.stdout


def test_a_corrupt_database_is_fatal_and_says_so(
    git_repo: GitRepo, env: dict[str, str], tmp_path: Path
) -> None:
    git_repo.commit_files({"good.ttl": GOOD})
    Path(env["SYNCER_DB"]).write_bytes(b"this is not a database" * 100)
    result = syncer("sync", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "syncer: " in result.stderr and "not a database" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_prints_what_it_did(env: dict[str, str], tmp_path: Path) -> None:
    first = syncer("migrate", env=env, cwd=tmp_path)
    assert first.returncode == 0
    assert first.stdout.splitlines()[0].startswith("applied: 0001_initial")
    second = syncer("migrate", env=env, cwd=tmp_path)
    assert second.stdout.splitlines() == [
        "applied: nothing, up to date",
        "integrity_check: ok; foreign_key_check: ok",
    ]


@pytest.mark.slow
def test_demo_syncs_the_bundled_example_without_configuration(tmp_path: Path) -> None:
    result = syncer("demo", "--dir", str(tmp_path / "demo"), env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "demo" / "syncer.db") as conn:
        declared = conn.execute("SELECT count(*) FROM owl_classes WHERE declared = 1").fetchone()
        missing = conn.execute("SELECT class_iri FROM owl_classes WHERE declared = 0").fetchall()
        smart = conn.execute(
            "SELECT parent_iri FROM owl_class_hierarchy"
            " WHERE class_iri = 'https://example.org/ontology/SmartContract'"
        ).fetchall()
    # The [[Blockchain Application]] parent resolves to the class that page mints.
    assert smart == [("urn:syncer:page:blockchain%20application",)]
    assert declared[0] == 15
    assert sorted(missing) == [
        ("https://example.org/ontology/PatternRecognition",),
        ("urn:syncer:page:technology%20stack",),
    ]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal_only() -> None:
    term = FakeTerminal()
    bar = ProgressBar(term)
    bar(Progress(planned=10, processed=5, phase="syncing"))
    bar.close()
    assert term.getvalue().startswith("\r[###############...............] 5/10 files  ")
    assert term.getvalue().endswith("syncing\n")
    pipe = io.StringIO()
    silent = ProgressBar(pipe)
    silent(Progress(planned=10, processed=5))
    silent.close()
    assert pipe.getvalue() == ""


def test_admin_token_prints_a_token_and_refuses_a_lifetime_below_one_second(
    tmp_path: Path,
) -> None:
    env = {"SYNCER_SECRET_KEY": "cli-signing-key-for-tests"}
    issued = syncer("admin-token", "--expires", "60", env=env, cwd=tmp_path)
    assert (issued.returncode, issued.stderr) == (0, "")
    token = issued.stdout.strip()
    check_admin_token(Settings(secret_key=Secret("cli-signing-key-for-tests")), token)
    zero = syncer("admin-token", "--expires", "0", env=env, cwd=tmp_path)
    assert (zero.returncode, zero.stdout) == (2, "")
    assert zero.stderr == "syncer: an admin token must live at least 1 second, not 0\n"
