"""The ``syncer`` command: sync, serve, migrate, status, query, export, admin-token, demo.

Exit codes (documented in ``syncer --help`` and docs/operations.md):

- 0: done (``sync``: the database reached the branch head; per-file failures are listed,
  not fatal);
- 1: interrupted by a passing fault (GitHub down, rate limited, a busy database): run
  again later, nothing is lost;
- 2: a configuration error, reported before anything is created or changed;
- 3: a fatal data error (the database is corrupt, read-only or its disk is full).
"""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence

from syncer import __version__
from syncer.cli import commands, data
from syncer.cli.commands import EXIT_CONFIG, EXIT_FATAL, EXIT_OK, EXIT_RETRY
from syncer.cli.preflight import preflight
from syncer.config import SETTINGS_HELP, Settings, load_settings
from syncer.errors import ConfigError, FatalError, RetryableError, SyncerError
from syncer.storage.db import classify

EPILOG = (
    "exit codes: 0 done, 1 interrupted (retry later), 2 configuration error (nothing was"
    " changed), 3 fatal data error (corrupt, read-only or full database)\n\n"
    "settings (environment variables, or a .env file in the working directory):\n"
    + "\n".join(f"  {s.name:<24}{s.meaning} [default: {s.default}]" for s in SETTINGS_HELP)
    + "\n\ndocs/configuration.md and docs/operations.md say more."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncer",
        description="Keep a SQLite database of ontology data in step with a Git repository.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"syncer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    p = command("sync", "bring the database to the branch head now")
    p.add_argument("--force", action="store_true", help="reprocess every file")
    p.set_defaults(func=commands.cmd_sync)
    p = command("serve", "run the webhook service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=commands.cmd_serve)
    p = command("migrate", "create the database or apply migrations (backup first)")
    p.set_defaults(func=commands.cmd_migrate)
    p = command("status", "is the database in step: what the status page shows")
    p.add_argument("--json", action="store_true", help="machine-readable")
    p.set_defaults(func=commands.cmd_status)
    data.add_commands(command)
    p = command("admin-token", "print a signed admin token")
    p.add_argument("--expires", type=int, default=3600, help="lifetime in seconds")
    p.set_defaults(func=commands.cmd_admin_token)
    p = command("demo", "sync the bundled example ontology (no network, no settings)")
    p.add_argument("--dir", default="syncer-demo", help="where to put the repository and database")
    p.set_defaults(func=commands.cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings: Settings | None = None
    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
        if settings.log_level != "DEBUG":  # httpx logs every request at INFO: a flood
            logging.getLogger("httpx").setLevel(logging.WARNING)
        preflight(settings, args.command)
        return int(args.func(settings, args))
    except ConfigError as exc:
        print(f"syncer: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except FatalError as exc:
        print(f"syncer: {exc}", file=sys.stderr)
        return EXIT_FATAL
    except sqlite3.Error as exc:
        error = classify(exc)
        where = f" (database {settings.db_path})" if settings is not None else ""
        print(f"syncer: {error}{where}", file=sys.stderr)
        return EXIT_FATAL if isinstance(error, FatalError) else EXIT_RETRY
    except (RetryableError, SyncerError) as exc:
        print(f"syncer: {exc}", file=sys.stderr)
        return EXIT_RETRY
    except BrokenPipeError:
        # The reader went away (`syncer status | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("syncer: interrupted; the next run resumes where this one stopped", file=sys.stderr)
        return EXIT_RETRY
