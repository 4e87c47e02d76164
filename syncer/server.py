"""``syncer serve``: the app under uvicorn, which turns SIGTERM/SIGINT into a drain.

uvicorn stops accepting connections, lets in-flight requests finish, then runs the
lifespan's shutdown: the coordinator is cancelled (the file transaction on the writer
thread completes or rolls back) and its request stays queued in the database.
"""

from __future__ import annotations

import logging

import uvicorn

from syncer.app import create_app
from syncer.config import Settings
from syncer.errors import ConfigError


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> int:
    if settings.webhook_secret is None:
        raise ConfigError("SYNCER_WEBHOOK_SECRET is not set: the server refuses to start")
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
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
