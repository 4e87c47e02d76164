"""The misbehaviours the fake GitHub can be scripted to show (5xx, rate limits, dropped
connections, slow answers, redirects): what they are and how they are answered."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.responses import JSONResponse, Response
from starlette.types import Receive


@dataclass
class Fault:
    """One scripted misbehaviour for requests whose path matches ``path`` (fnmatch).

    ``action`` is "respond" (answer ``status``/``headers``/``body``), "drop" (start an
    answer, then close the connection) or "delay" (wait ``delay`` seconds, or until the
    client hangs up, then answer normally: for client timeouts). The first matching fault
    fires, ``times`` times, then is forgotten. ``location`` makes a "respond" fault a
    redirect: it maps the request's path and query (``/repos/o/r/x?y=1``) to the
    ``Location`` answered (a moved repository, a temporary redirect).
    """

    path: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # dict -> JSON, str/bytes as is, None -> {"message": ...}
    action: str = "respond"
    delay: float = 0.0
    times: int = 1
    location: Callable[[str], str] | None = None


class DroppedConnection(httpx.RemoteProtocolError):
    """Raised by the app for a "drop" fault. Under uvicorn the started answer is cut off
    (the client sees a connection closed mid-answer); in-process, ASGITransport re-raises
    it, so the client sees the same httpx transport error either way."""


async def client_left(receive: Receive, seconds: float) -> bool:
    """Wait ``seconds``, or less if the client disconnects (True then), so a slow answer
    never outlives the client that gave up on it and shutdown does not wait for it."""

    async def disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(disconnect(), seconds)
    except TimeoutError:
        return False
    return True


def fault_response(fault: Fault, target: str) -> Response:
    body = fault.body
    if body is None:
        body = {"message": f"fake fault {fault.status}"}
    headers = dict(fault.headers)
    if fault.location is not None:
        headers["Location"] = fault.location(target)
    if isinstance(body, dict):
        return JSONResponse(body, status_code=fault.status, headers=headers)
    return Response(body, status_code=fault.status, headers=headers)
