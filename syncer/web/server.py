"""``syncer serve``: the app under uvicorn, which turns SIGTERM/SIGINT into a drain.

uvicorn stops accepting connections, lets in-flight requests finish, then runs the
lifespan's shutdown: the coordinator is cancelled (the file transaction on the writer
thread completes or rolls back) and its request stays queued in the database.
"""

from __future__ import annotations

import logging

import uvicorn

from syncer.config import Settings
from syncer.web.app import create_app

# Context fields that log calls pass as ``extra`` and that the formatter appends.
CONTEXT_FIELDS = ("delivery", "event", "outcome", "run", "request")


class ContextFormatter(logging.Formatter):
    """``time level logger message key=value ...``: greppable by delivery and run id.

    Only ids and outcomes are ever passed as context; secrets are ``Secret`` values that
    print as stars, and no signature or token is logged.
    """

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        pairs = [
            f"{name}={getattr(record, name)}" for name in CONTEXT_FIELDS if hasattr(record, name)
        ]
        return f"{line} {' '.join(pairs)}" if pairs else line


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(ContextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if level != "DEBUG":  # httpx logs every request to GitHub at INFO: a flood
        logging.getLogger("httpx").setLevel(logging.WARNING)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> int:
    configure_logging(settings.log_level)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        timeout_graceful_shutdown=30,
        server_header=False,
    )
    return 0
