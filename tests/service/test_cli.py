"""The command line, run as a user runs it: a subprocess with environment settings."""

from __future__ import annotations

import io
import json
import re
import sqlite3
from pathlib import Path

import pytest

from syncer.cli.terminal import ProgressBar
from syncer.config import Settings
from syncer.sync.progress import Progress
from syncer.values import Secret
from syncer.web.auth import check_admin_token
from syncer_dev.gitrepo import GitRepo
from tests.support.cli import syncer

GOOD = """@prefix ex: <https://example.org/c/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:A a owl:Class ; rdfs:label "A" ; rdfs:subClassOf ex:B .
"""


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

    assert data["verdict_level"] == "in step"
    assert data["verdict"].startswith(f"in step with the branch head {commit[:12]} (checked ")
    assert data["verdict"].endswith(" ago); 1 file failed")

    text = syncer("status", env=env, cwd=tmp_path).stdout.splitlines()
    assert re.fullmatch(  # "checked N s ago" moves on between the two calls
        f"verdict:       in step with the branch head {commit[:12]}"
        r" \(checked \d+ s ago\); 1 file failed",
        text[0],
    ), text[0]
    assert text[2].startswith(f"synced commit: {commit} at ")
    assert text[3] == "files:         1 ok, 1 failed, 1 skipped"
    assert text[7].endswith("  3 processed, 1 failed, 0 deleted  [syncer sync]"), text
    assert text[-2:] == ["failed files:", f"  bad.ttl: {data['failed_files'][0]['error']}"]


def test_no_repository_configured_is_a_configuration_error_and_creates_nothing(
    tmp_path: Path,
) -> None:
    result = syncer("sync", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "syncer: no repository configured: set SYNCER_GIT_DIR (a local git repository) or "
        "SYNCER_REPO (owner/name on GitHub); `syncer demo` runs on a bundled example\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no ./syncer.db


def test_a_missing_git_dir_is_a_configuration_error_and_creates_nothing(tmp_path: Path) -> None:
    env = {"SYNCER_GIT_DIR": str(tmp_path / "nowhere"), "SYNCER_DB": str(tmp_path / "x.db")}
    result = syncer("sync", env=env, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"syncer: SYNCER_GIT_DIR: {tmp_path / 'nowhere'} does not exist or is not a directory\n"
    )
    (tmp_path / "plain").mkdir()
    env["SYNCER_GIT_DIR"] = str(tmp_path / "plain")
    result = syncer("sync", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr == f"syncer: SYNCER_GIT_DIR: {tmp_path / 'plain'} is not a git repository\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain"]


def test_a_database_in_a_missing_directory_is_refused_not_created(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    db = tmp_path / "no" / "such" / "dir" / "x.db"
    for command in ("sync", "status", "migrate"):
        result = syncer(
            command, env={"SYNCER_GIT_DIR": str(git_repo.path), "SYNCER_DB": str(db)}, cwd=tmp_path
        )
        assert (command, result.returncode) == (command, 2)
        assert result.stderr == (
            f"syncer: SYNCER_DB: the directory {db.parent} does not exist; create it or point"
            " SYNCER_DB at a file in an existing one\n"
        )
    assert not (tmp_path / "no").exists()


def test_read_only_commands_never_create_a_database(tmp_path: Path) -> None:
    env = {"SYNCER_DB": str(tmp_path / "fresh.db")}
    for args in (
        ("status",),
        ("status", "--json"),
        ("query", "SELECT 1"),
        ("export", "statements"),
    ):
        result = syncer(*args, env=env, cwd=tmp_path)
        assert (args, result.returncode, result.stdout) == (args, 2, "")
        assert result.stderr == (
            f"syncer: SYNCER_DB: no database at {tmp_path / 'fresh.db'}; `syncer sync` creates"
            " and fills it (`syncer migrate` creates it empty)\n"
        )
    assert list(tmp_path.iterdir()) == []


def test_an_empty_repository_says_so(tmp_path: Path) -> None:
    empty = GitRepo.init(tmp_path / "empty")
    env = {"SYNCER_GIT_DIR": str(empty.path), "SYNCER_DB": str(tmp_path / "x.db")}
    result = syncer("sync", env=env, cwd=tmp_path)
    assert result.returncode == 1  # retryable: the repository may get its first commit
    assert result.stdout.splitlines()[-1] == (
        f"  run stopped: the checked-out branch has no commit in {empty.path}:"
        " the repository is empty or has no such branch"
    )


def test_a_wrong_setting_is_named_with_what_was_expected(tmp_path: Path) -> None:
    cases = {
        "SYNCER_LOG_LEVEL": (
            "LOUD",
            "SYNCER_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'LOUD'",
        ),
        "SYNCER_WORKERS": ("two", "SYNCER_WORKERS must be a whole number, not 'two'"),
        "SYNCER_POLL_INTERVAL": ("-5", "SYNCER_POLL_INTERVAL must be at least 0"),
        "SYNCER_REPO": ("just-a-name", "SYNCER_REPO must be owner/name, not 'just-a-name'"),
    }
    for name, (value, message) in cases.items():
        result = syncer("status", env={name: value}, cwd=tmp_path)
        assert (name, result.returncode, result.stderr) == (name, 2, f"syncer: {message}\n")
    assert list(tmp_path.iterdir()) == []


def test_serve_refuses_to_start_without_what_it_needs(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.commit_files({"good.ttl": GOOD})
    base = {"SYNCER_GIT_DIR": str(git_repo.path), "SYNCER_DB": str(tmp_path / "x.db")}
    cases = [
        ({}, "SYNCER_WEBHOOK_SECRET is not set: serve refuses to accept unsigned webhooks"),
        (
            {"SYNCER_WEBHOOK_SECRET": "s"},
            "SYNCER_REPO is not set: serve accepts the deliveries of one repository, named"
            " owner/name (also with SYNCER_GIT_DIR, which says where its files are read)",
        ),
        (
            {"SYNCER_WEBHOOK_SECRET": "s", "SYNCER_REPO": "a/b", "SYNCER_RECONCILE_CRON": "at 3"},
            "SYNCER_RECONCILE_CRON / SYNCER_TIMEZONE: 'at 3' in 'UTC' is not a crontab"
            " expression in a known time zone: ",
        ),
    ]
    for extra, message in cases:
        result = syncer("serve", "--port", "1", env={**base, **extra}, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.startswith(f"syncer: {message}"), result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]  # no database was created


def test_help_lists_every_setting_with_its_default_and_the_exit_codes(tmp_path: Path) -> None:
    from syncer.config import SETTINGS_HELP

    for args in (("--help",), ("sync", "--help")):
        result = syncer(*args, env={}, cwd=tmp_path)
        assert result.returncode == 0
        for setting in SETTINGS_HELP:
            line = f"  {setting.name:<24}{setting.meaning} [default: {setting.default}]"
            assert line in result.stdout.splitlines(), line
        assert (
            "exit codes: 0 done, 1 interrupted (retry later), 2 configuration error (nothing was"
            in result.stdout
        )


def test_a_corrupt_database_is_fatal_and_says_so(
    git_repo: GitRepo, env: dict[str, str], tmp_path: Path
) -> None:
    git_repo.commit_files({"good.ttl": GOOD})
    Path(env["SYNCER_DB"]).write_bytes(b"this is not a database" * 100)
    result = syncer("sync", env=env, cwd=tmp_path)
    assert result.returncode == 3
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
    # rich redraws the line in place (carriage return, erase line); its last drawing is
    # what the terminal keeps.
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", term.getvalue())
    last = drawn.rstrip("\n").split("\r")[-1]
    assert re.fullmatch(r"syncing ━{20}╺━{19}  5/10 files  [0-9.]+/s -:--:--", last), last
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


def test_rdflib_warnings_are_the_files_warnings_once_not_tracebacks_on_stderr(
    git_repo: GitRepo, env: dict[str, str], tmp_path: Path
) -> None:
    # pyoxigraph refuses the bad percent escape, so rdflib reads the file, and rdflib logs
    # each invalid xsd:date with a traceback (issue 14).
    odd = (
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        '<https://example.org/a> <https://example.org/p> "2024-13-45"^^xsd:date,'
        ' "2024-13-46"^^xsd:date .\n'
        "<https://example.org/a> <https://example.org/q> <https://example.org/%zz> .\n"
    )
    git_repo.commit_files({"odd.ttl": odd})
    result = syncer("sync", env=env, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    with sqlite3.connect(env["SYNCER_DB"]) as conn:
        status, warnings = conn.execute(
            "SELECT status, warnings FROM source_files WHERE path = 'odd.ttl'"
        ).fetchone()
    assert status == "ok"
    assert json.loads(warnings) == [
        "read by rdflib: pyoxigraph refused it (Parser error at line 3 between columns 49"
        " and 74: Invalid IRI percent encoding '%zz' (line 3))",
        "rdflib: Failed to convert Literal lexical form to value."
        " Datatype=http://www.w3.org/2001/XMLSchema#date"
        " (ValueError: month must be in 1..12) [2 times]",
    ]


@pytest.mark.slow
def test_query_and_export_read_the_database_in_every_format_and_never_write(
    git_repo: GitRepo, env: dict[str, str], tmp_path: Path
) -> None:
    git_repo.commit_files({"good.ttl": GOOD})
    assert syncer("sync", env=env, cwd=tmp_path).returncode == 0
    sql = "SELECT subject, object FROM statements WHERE predicate = 'rdfs:subClassOf'"
    as_json = syncer("query", sql, "--format", "json", env=env, cwd=tmp_path)
    assert (as_json.returncode, as_json.stderr) == (0, "")
    assert json.loads(as_json.stdout) == [
        {"subject": "<https://example.org/c/A>", "object": "<https://example.org/c/B>"}
    ]
    table = syncer("query", sql, env=env, cwd=tmp_path)
    assert table.stdout.splitlines() == [  # off a terminal: tab-separated
        "subject\tobject",
        "<https://example.org/c/A>\t<https://example.org/c/B>",
    ]
    exported = syncer(
        "export", "statements", "--where", "predicate = 'rdfs:label'", env=env, cwd=tmp_path
    )
    assert exported.returncode == 0
    assert exported.stdout.splitlines() == [
        "stanza,subject,predicate,object,value,datatype,language,graph,id",
        "<https://example.org/c/A>,<https://example.org/c/A>,rdfs:label,,A,,,,2",
    ]
    ndjson = syncer(
        "export", "owl_classes", "--format", "ndjson", "--limit", "1", env=env, cwd=tmp_path
    )
    assert [json.loads(line)["class_iri"] for line in ndjson.stdout.splitlines()] == [
        "https://example.org/c/A"
    ]
    before = Path(env["SYNCER_DB"]).read_bytes()
    write = syncer("query", "DELETE FROM statements", env=env, cwd=tmp_path)
    assert (write.returncode, write.stdout) == (2, "")
    assert write.stderr == "syncer: query failed: attempt to write a readonly database\n"
    unknown = syncer("export", "nope", env=env, cwd=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("syncer: no table or view 'nope'; there are: ")
    assert Path(env["SYNCER_DB"]).read_bytes() == before
