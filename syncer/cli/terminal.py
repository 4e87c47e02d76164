"""What the CLI draws on a terminal, with rich: the progress of a run (bar, rate, ETA) and
``syncer status`` as tables. Off a terminal (a pipe, a log, a test) the progress is silent
and the status is plain text whose lines scripts may rely on."""

from __future__ import annotations

from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.table import Table

from syncer.sync.progress import Progress

RUN_COLUMNS = ("run", "kind", "status", "started", "trigger", "processed", "failed", "error")


class ProgressBar:
    """The run's progress on a terminal (``stream.isatty()``); nothing otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.enabled = stream.isatty()
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None
        if self.enabled:
            self._bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("files  {task.fields[rate]:.1f}/s"),
                TimeRemainingColumn(),
                console=Console(file=stream, force_terminal=True),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("starting", total=None, rate=0.0)

    def __call__(self, progress: Progress) -> None:
        if self._bar is None or self._task is None:
            return
        self._bar.update(
            self._task,
            description=progress.phase,
            total=progress.planned or None,
            completed=progress.done,
            rate=progress.rate(),
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def render_text(data: dict[str, Any]) -> str:
    """``syncer status`` off a terminal: one fact per line, stable for scripts."""
    lines = [
        f"verdict:       {data['verdict']}",
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
                + (f"  [{run['trigger']}]" if run["trigger"] else "")
                + (f"  ({run['error']})" if run["error"] else "")
            )
    if data["failed_files"]:
        lines.append("failed files:")
        lines.extend(f"  {f['path']}: {f['error']}" for f in data["failed_files"])
    return "\n".join(lines)


def print_status(data: dict[str, Any], out: TextIO) -> None:
    """``syncer status`` on a terminal: the verdict, then tables."""
    console = Console(file=out)
    console.print(f"[bold]{data['verdict']}[/bold]")
    facts = Table(show_header=False, box=None)
    facts.add_row("source", f"{data['source']} ({data['branch'] or 'default branch'})")
    synced = data["synced_commit"] or "never synced"
    facts.add_row(
        "synced commit", synced + (f" at {data['synced_at']}" if data["synced_at"] else "")
    )
    facts.add_row("files", ", ".join(f"{v} {k}" for k, v in data["files_by_status"].items()))
    facts.add_row("rows", ", ".join(f"{v} {k}" for k, v in data["counts"].items() if k != "files"))
    facts.add_row("pending tasks", str(data["pending_tasks"]))
    console.print(facts)
    if data["runs"]:
        runs = Table(title="recent runs")
        for column in (
            "run",
            "kind",
            "status",
            "started",
            "processed",
            "failed",
            "deleted",
            "error",
        ):
            runs.add_column(column)
        for run in data["runs"][:10]:
            runs.add_row(
                f"#{run['id']}",
                run["kind"],
                run["status"],
                run["started_at"],
                run["trigger"] or "",
                str(run["processed"]),
                str(run["failed"]),
                run["error"] or "",
            )
        console.print(runs)
    if data["failed_files"]:
        failed = Table(title="failed files")
        failed.add_column("path")
        failed.add_column("error")
        for f in data["failed_files"]:
            failed.add_row(f["path"], f["error"] or "")
        console.print(failed)


def print_rows(rows: list[dict[str, Any]], out: TextIO) -> None:
    """Query results as a table (``syncer query``'s default format): drawn by rich on a
    terminal; tab-separated off one, where a drawn table would wrap long IRIs at 80
    columns and a script could not read it back."""
    if not out.isatty():
        print("\t".join(rows[0]), file=out)
        for row in rows:
            cells = ("" if v is None else str(v) for v in row.values())
            print("\t".join(c.replace("\t", " ").replace("\n", " ") for c in cells), file=out)
        return
    table = Table()
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    Console(file=out).print(table)
