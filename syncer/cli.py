"""The ``syncer`` command: sync, serve, migrate, status, admin-token, demo.

Exit codes: 0 success (``sync``: the database reached the branch head; per-file
failures are listed, not fatal), 1 the run was interrupted by a passing fault (GitHub
down, rate limited: run again later), 2 a fatal or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from syncer import __version__
from syncer.config import Settings, load_settings
from syncer.errors import ConfigError, FatalError, SyncerError
from syncer.storage.db import classify

EXIT_OK, EXIT_INTERRUPTED, EXIT_FATAL = 0, 1, 2


class ProgressBar:
    """A one-line progress bar on a terminal; silent otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self._last = ""

    def __call__(self, progress: object) -> None:
        from syncer.sync.progress import Progress

        if not self.enabled or not isinstance(progress, Progress):
            return
        total = max(progress.planned, 1)
        width = 30
        filled = int(width * min(progress.done, total) / total)
        eta = progress.eta_seconds()
        line = (
            f"\r[{'#' * filled}{'.' * (width - filled)}] {progress.done}/{progress.planned} files"
            f"  {progress.rate():.1f}/s"
            + (f"  ETA {eta:.0f}s" if eta is not None and progress.done else "")
            + f"  {progress.phase}"
        )
        if line != self._last:
            self.stream.write(line.ljust(len(self._last)))
            self.stream.flush()
            self._last = line

    def close(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\n")
            self.stream.flush()


def _summary(result: object, out: TextIO) -> None:
    from syncer.sync.progress import RunResult

    assert isinstance(result, RunResult)
    commit = (result.commit or "?")[:12]
    print(
        f"{result.status}: commit {commit}, {result.processed} processed "
        f"({result.failed} failed), {result.deleted} deleted, {result.unchanged} unchanged, "
        f"{result.requests} source requests, {result.seconds:.2f}s",
        file=out,
    )
    for path, error in result.failures[:20]:
        print(f"  failed: {path}: {error}", file=out)
    if len(result.failures) > 20:
        print(f"  ... and {len(result.failures) - 20} more (syncer status)", file=out)
    if result.error:
        print(f"  run stopped: {result.error}", file=out)


async def run_sync(settings: Settings, *, force: bool, out: TextIO, err: TextIO) -> int:
    from syncer.sources import build_source
    from syncer.storage.migrate import ensure_schema
    from syncer.storage.writer import Writer
    from syncer.sync.engine import SyncEngine

    ensure_schema(settings.db_path)
    source = build_source(settings)
    writer = Writer(settings.db_path)
    bar = ProgressBar(err)
    try:
        engine = SyncEngine(settings, source, writer, on_progress=bar)
        result = await engine.sync(force=force, kind="sync")
    finally:
        bar.close()
        await source.aclose()
        writer.close()
    _summary(result, out)
    return EXIT_OK if result.status == "done" else EXIT_INTERRUPTED


def cmd_sync(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(run_sync(settings, force=args.force, out=sys.stdout, err=sys.stderr))


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from syncer.storage.migrate import migrate

    report = migrate(settings.db_path)
    if report.backup_path:
        print(f"backup: {report.backup_path}")
    if report.legacy_upgraded:
        rows = ", ".join(f"{k}={v}" for k, v in sorted(report.legacy_rows.items()))
        print(f"legacy VisionFlow schema upgraded (ontology_id 'default'): {rows}")
    print("applied: " + (", ".join(report.applied) if report.applied else "nothing, up to date"))
    print(f"integrity_check: {report.integrity}; foreign_key_check: ok")
    return EXIT_OK


def render_text(data: dict[str, Any]) -> str:
    lines = [
        f"source:        {data['source']} ({data['branch'] or 'default branch'})",
        f"synced commit: {data['synced_commit'] or 'never synced'}"
        + (f" at {data['synced_at']}" if data["synced_at"] else ""),
        "files:         " + ", ".join(f"{v} {k}" for k, v in data["files_by_status"].items()),
        "rows:          "
        + ", ".join(f"{v} {k}" for k, v in data["counts"].items() if k != "files"),
        f"pending tasks: {data['pending_tasks']}",
    ]
    if data["runs"]:
        lines.append("recent runs:")
        for run in data["runs"][:5]:
            lines.append(
                f"  #{run['id']} {run['kind']:<9} {run['status']:<11} {run['started_at']}"
                f"  {run['processed']} processed, {run['failed']} failed, {run['deleted']} deleted"
                + (f"  ({run['error']})" if run["error"] else "")
            )
    if data["failed_files"]:
        lines.append("failed files:")
        lines.extend(f"  {f['path']}: {f['error']}" for f in data["failed_files"])
    return "\n".join(lines)


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from syncer.storage import views
    from syncer.storage.db import connect
    from syncer.storage.migrate import ensure_schema

    ensure_schema(settings.db_path)
    conn = connect(settings.db_path)
    try:
        data = {"source": settings.source_label, "branch": settings.branch}
        data.update(views.collect(conn, settings.ontology_id))
    finally:
        conn.close()
    print(to_json(data) if args.json else render_text(data))
    return EXIT_OK


def _commit_all(repo_dir: Path, message: str) -> None:
    """``git init`` and one commit of everything in ``repo_dir``, by the git CLI (the demo
    needs git on PATH, as the local source does). The identity is set for this commit only,
    so a machine without a configured git user can still run the demo."""

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo_dir), *args], check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git(
        "-c",
        "user.name=syncer demo",
        "-c",
        "user.email=demo@localhost",
        "-c",
        "commit.gpgsign=false",
        "commit",
        "-q",
        "-m",
        message,
    )


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Sync the bundled example ontology from a local git repository: no network."""
    base = Path(args.dir)
    repo_dir = base / "repo"
    examples = Path(__file__).parent / "_examples"
    if not examples.is_dir():
        examples = Path(__file__).resolve().parent.parent / "examples"
    if not (repo_dir / ".git").exists():
        shutil.copytree(examples, repo_dir, dirs_exist_ok=True)
        _commit_all(repo_dir, "example ontology")
        print(f"created a git repository with the example ontology in {repo_dir}")
    # The example pages write CURIEs like ex:SmartContract: map ex: onto the Turtle
    # files' namespace, as a team would with SYNCER_PREFIXES.
    prefixes = settings.prefixes or (("ex", "https://example.org/ontology/"),)
    demo = settings.with_(
        git_dir=repo_dir, repo=None, db_path=base / "syncer.db", prefixes=prefixes
    )
    print(f"syncing {repo_dir} into {demo.db_path}")
    code = asyncio.run(run_sync(demo, force=False, out=sys.stdout, err=sys.stderr))
    if code == EXIT_OK:
        print()
        cmd_status(demo, argparse.Namespace(json=False))
        print(f"\nexplore it: sqlite3 {demo.db_path} 'SELECT class_iri, label FROM owl_classes'")
    return code


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from syncer.web.server import serve

    return serve(settings, host=args.host, port=args.port)


def cmd_admin_token(settings: Settings, args: argparse.Namespace) -> int:
    from syncer.web.auth import issue_admin_token

    print(issue_admin_token(settings, expires=args.expires))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncer",
        description="Keep a SQLite database of ontology data in step with a Git repository.",
    )
    parser.add_argument("--version", action="version", version=f"syncer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("sync", help="bring the database to the branch head now")
    p.add_argument("--force", action="store_true", help="reprocess every file")
    p.set_defaults(func=cmd_sync)
    p = sub.add_parser("serve", help="run the webhook service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("migrate", help="apply migrations (backup first)")
    p.set_defaults(func=cmd_migrate)
    p = sub.add_parser("status", help="what the status page shows")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("admin-token", help="print a signed admin token")
    p.add_argument("--expires", type=int, default=3600, help="lifetime in seconds")
    p.set_defaults(func=cmd_admin_token)
    p = sub.add_parser("demo", help="sync the bundled example ontology (no network)")
    p.add_argument("--dir", default="syncer-demo", help="where to put the repository and database")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings: Settings | None = None
    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
        return int(args.func(settings, args))
    except (ConfigError, FatalError) as exc:
        print(f"syncer: {exc}", file=sys.stderr)
        return EXIT_FATAL
    except sqlite3.Error as exc:
        error = classify(exc)
        where = f" (database {settings.db_path})" if settings is not None else ""
        print(f"syncer: {error}{where}", file=sys.stderr)
        return EXIT_FATAL if isinstance(error, FatalError) else EXIT_INTERRUPTED
    except SyncerError as exc:
        print(f"syncer: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`syncer status | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("syncer: interrupted; the next run resumes where this one stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
