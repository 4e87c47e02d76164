"""Serve any ASGI app with uvicorn on 127.0.0.1, in a background thread, for tests,
end-to-end checks and benchmarks that need real HTTP on loopback.

The listening socket is bound (to a free port the kernel picks) and set listening before
the thread starts, so a client may connect at once: the kernel queues the connection
until uvicorn accepts it. Nobody has to poll or sleep until the server is "up".
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn


class ServerThread:
    """A uvicorn server running in its own thread and event loop; stop it with :meth:`stop`."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", log_level: str = "warning") -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        self._socket.listen(128)
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            app,
            log_level=log_level,
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"uvicorn-{self.port}", daemon=True)
        self.error: BaseException | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as exc:  # reported by stop(): a thread cannot raise to us
            self.error = exc

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self._socket.close()
        if self._thread.is_alive():
            raise RuntimeError(f"the server on {self.base_url} did not stop in {timeout} s")
        if self.error is not None:
            raise RuntimeError(f"the server on {self.base_url} failed") from self.error


@contextlib.contextmanager
def serve_in_thread(app: Any, *, log_level: str = "warning") -> Iterator[str]:
    """Serve ``app`` on a free loopback port for the ``with`` block; yields the base URL."""
    with ServerThread(app, log_level=log_level) as server:
        yield server.base_url
