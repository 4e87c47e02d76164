"""The Starlette app: routes, and a lifespan that owns the writer, source, coordinator and
scheduler. Route handlers do I/O only; decisions come from ``webhook.py`` and ``auth.py``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from syncer import webhook
from syncer.config import Settings, each_repository
from syncer.errors import (
    BadRequest,
    ConfigError,
    FatalError,
    HTTPError,
    PayloadTooLarge,
    Unauthorized,
)
from syncer.sources import Source
from syncer.storage import deliveries
from syncer.storage.group_commit import GroupCommit
from syncer.storage.migrate import ensure_schema
from syncer.storage.writer import Writer
from syncer.sync import reconcile
from syncer.sync.coordinator import Service
from syncer.values import Secret
from syncer.web import auth, metrics
from syncer.web import status_page as pages
from syncer.web.followed import Followed, start_followed, stop_followed

log = logging.getLogger("syncer.app")
SESSION_COOKIE = "syncer_session"
# Bodies above this are verified and parsed on a thread (see post_webhook).
OFFLOAD_BYTES = 256 * 1024
# Deliveries recorded by group commit: (oid, delivery, decision) -> (recorded, run id).
RecordDeliveries = GroupCommit[[str, webhook.Delivery, webhook.Decision], tuple[bool, int | None]]


class RedactQuery(logging.Filter):
    """uvicorn's access log prints each path with its query string, and the status page's
    login is ``/?token=<admin token>``: credentials in a query string are logged as stars."""

    PATTERN = re.compile(r"([?&](?:token|access_token|csrf|secret|key)=)[^&\s\"]*", re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.PATTERN.sub(r"\1**********", a) if isinstance(a, str) else a
                for a in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = self.PATTERN.sub(r"\1**********", record.msg)
        return True


REDACT_QUERY = RedactQuery()


async def read_body(request: Request, limit: int = webhook.MAX_BODY_BYTES) -> bytes:
    """The raw body, refusing (413) beyond ``limit`` without buffering more than that."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body of {declared} bytes is over {limit}")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"body is over {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect as exc:
        # The sender hung up mid-body (GitHub "terminates the connection" after 10 s,
        # https://docs.github.com/en/webhooks/using-webhooks/best-practices-for-using-webhooks):
        # nothing to answer and nothing wrong here, so no traceback. GitHub marks the
        # delivery failed; the nightly reconciliation covers it. The 400 is never sent.
        log.info("webhook body cut off: the client closed the connection after %d bytes", size)
        raise BadRequest("the client closed the connection before the whole body") from exc
    return b"".join(chunks)


def _followed(request: Request) -> Followed:
    followed: Followed = request.app.state.followed
    return followed


def _service(request: Request) -> Service:
    """The repository a request is about (``?repository=`` when several are followed)."""
    service = _followed(request).for_request(request)
    assert service is not None
    return service


def _answered(request: Request, outcome: str) -> None:
    began: float | None = getattr(request.state, "began", None)
    if began is not None:
        instruments: metrics.Instruments = request.app.state.instruments
        instruments.delivery_answered(outcome, time.perf_counter() - began)


def _verified(followed: Followed, request: Request, body: bytes) -> tuple[Secret, webhook.Delivery]:
    signed_with = followed.verify(body, request.headers.get(webhook.SIGNATURE_HEADER))
    return signed_with, webhook.parse_delivery(request.headers, body)


async def post_webhook(request: Request) -> Response:
    request.state.began = time.perf_counter()
    body = await read_body(request)
    followed = _followed(request)
    if len(body) > OFFLOAD_BYTES:
        # A 15 MB form-encoded push takes ~1.5 s to unquote and parse: off the event loop, so
        # the status page and other deliveries are answered meanwhile.
        signed_with, delivery = await asyncio.to_thread(_verified, followed, request, body)
    else:
        signed_with, delivery = _verified(followed, request, body)
    service, decision = followed.route(delivery, signed_with)
    if decision.outcome == webhook.REFUSED:
        # Refused (403) like a bad signature: nothing recorded, and before the dedupe, so a
        # refused delivery id neither shadows nor is shadowed by one from the followed repo.
        service.note_refused(decision.status_code)
        _answered(request, "refused")
        log.warning("delivery refused: %s", decision.reason, extra={"delivery": delivery.id})
        return JSONResponse(
            {"delivery": delivery.id, "outcome": decision.outcome, "reason": decision.reason},
            status_code=decision.status_code,
        )
    deliveries: RecordDeliveries = request.app.state.deliveries
    recorded, run_id = await deliveries.submit(service.oid, delivery, decision)
    if not recorded:
        _answered(request, "duplicate")
        log.info("delivery seen before: not processed again", extra={"delivery": delivery.id})
        return JSONResponse({"delivery": delivery.id, "outcome": "duplicate"}, status_code=200)
    if decision.enqueue:
        service.pushed()
    _answered(request, decision.outcome)
    log.info(
        "delivery: %s",
        decision.reason,
        extra={
            "delivery": delivery.id,
            "event": delivery.event,
            "outcome": decision.outcome,
            "run": run_id,
        },
    )
    return JSONResponse(
        {
            "delivery": delivery.id,
            "outcome": decision.outcome,
            "reason": decision.reason,
            "run_id": run_id,
        },
        status_code=decision.status_code,
    )


async def _form_or_json(request: Request) -> dict[str, str]:
    ctype = request.headers.get("content-type", "")
    body = await read_body(request, 64 * 1024)
    if not body:
        return {}
    if ctype.startswith("application/json"):
        import json

        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise HTTPError("malformed JSON body") from exc
        if not isinstance(data, dict):
            raise HTTPError("the JSON body is not an object")
        return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in data.items()}
    from urllib.parse import parse_qsl

    return dict(parse_qsl(body.decode("utf-8", "replace")))


def _is_admin(request: Request, fields: dict[str, str] | None = None) -> bool:
    """A bearer token, or the session cookie (plus its CSRF token for a form post)."""
    settings: Settings = request.app.state.settings
    token = auth.bearer(request.headers.get("authorization"))
    if token is not None:
        auth.check_admin_token(settings, token)
        return True
    session = auth.load_session(settings, request.cookies.get(SESSION_COOKIE))
    if session is None:
        return False
    if fields is not None:  # a form post from the page: its CSRF token must come along
        auth.check_csrf(session, fields.get("csrf") or request.headers.get("x-csrf-token"))
    return True


def _admin_hint(settings: Settings) -> str:
    if settings.secret_key is None:
        return (
            "admin is disabled: the service was started without SYNCER_SECRET_KEY, so no"
            " admin token can be checked"
        )
    return (
        "admin token required: send 'Authorization: Bearer <token>' with a token printed by"
        " `syncer admin-token` (same SYNCER_SECRET_KEY as the service)"
    )


async def post_resync(request: Request) -> Response:
    fields = await _form_or_json(request)
    if not _is_admin(request, fields):
        raise Unauthorized(_admin_hint(request.app.state.settings))
    force = (request.query_params.get("force") or fields.get("force") or "").lower() in (
        "1",
        "true",
        "yes",
        "on",
    )
    service = _service(request)
    current = service.snapshot().request
    if current is not None and current.kind == "resync" and (current.force or not force):
        return JSONResponse({"run_id": current.run_id, "status": "running"}, status_code=202)
    # No lease here: an operator asked for it, and the request coalesces with any other.
    trigger = "admin resync" + (" (forced)" if force else "")
    run_id = (await service.request("resync", force, trigger)).run_id
    log.info("resync requested (force=%s)", force, extra={"run": run_id})
    if "text/html" in request.headers.get("accept", "") and "csrf" in fields:
        back = f"/?repository={quote(service.oid, safe='')}" if _followed(request).several else "/"
        return RedirectResponse(back, status_code=303)
    return JSONResponse({"run_id": run_id, "status": "queued"}, status_code=202)


def _status_allowed(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return settings.public_status or _is_admin(request)


async def get_status_json(request: Request) -> Response:
    if not _status_allowed(request):
        raise Unauthorized("admin token or session required")
    followed = _followed(request)
    service = followed.for_request(request, required=False)
    if service is None:  # several repositories, none named: each one's summary, and in total
        return JSONResponse(await pages.collect_all(followed.services))
    return JSONResponse(await pages.collect(service))


async def get_index(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    token = request.query_params.get("token")
    if token is not None:
        auth.check_admin_token(settings, token)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            auth.issue_session(settings),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            max_age=auth.SESSION_SECONDS,
        )
        return response
    if not _status_allowed(request):
        return pages.login_page()
    session = auth.load_session(settings, request.cookies.get(SESSION_COOKIE))
    followed = _followed(request)
    service = followed.for_request(request, required=False)
    if service is None:
        return pages.summary_page(await pages.collect_all(followed.services))
    data = await pages.collect(service)
    return pages.status_page(
        data,
        csrf=session.csrf if session else None,
        repository=service.oid if followed.several else None,
    )


async def get_healthz(request: Request) -> Response:
    healthy, reason = await pages.health(_followed(request).services)
    return PlainTextResponse(reason, status_code=200 if healthy else 503)


async def get_metrics(request: Request) -> Response:
    instruments: metrics.Instruments = request.app.state.instruments
    body = await instruments.render(_followed(request).services)
    return Response(body, media_type=metrics.CONTENT_TYPE)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPError)
    service: Service | None = getattr(request.app.state, "service", None)
    if service is not None and request.url.path == "/webhook":
        service.note_refused(exc.status_code)
        _answered(request, "refused")
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=headers)


# How long GitHub (or an operator's script) should wait before sending a refused request again.
STORAGE_RETRY_AFTER = "60"


async def on_storage_error(request: Request, exc: Exception) -> Response:
    """A read-only, full or corrupt database: 503 with the reason, and nothing recorded.

    The reason is SQLite's message (no path, no secret); the log gets one line, no traceback.
    A refused delivery is not redelivered by GitHub on its own: the service queues a
    reconciliation for when the database takes writes again (see docs/operations.md).
    """
    assert isinstance(exc, FatalError)
    log.error("%s %s refused: %s", request.method, request.url.path, exc)
    service: Service | None = getattr(request.app.state, "service", None)
    if service is not None and request.url.path == "/webhook":
        service.refused()
    return JSONResponse(
        {"error": f"storage unavailable: {exc}", "retry_after_seconds": int(STORAGE_RETRY_AFTER)},
        status_code=503,
        headers={"Retry-After": STORAGE_RETRY_AFTER},
    )


def create_app(
    settings: Settings,
    *,
    source: Source | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    clock: Callable[[], float] | None = None,
    rng: random.Random | None = None,
) -> Starlette:
    """The app; ``source`` replaces the one the settings name (tests slow it down or make it
    fail), ``sleep``/``clock``/``rng`` the coordinator's waits before retrying (tests)."""
    if any(each.webhook_secret is None for each in each_repository(settings)):
        raise ConfigError("SYNCER_WEBHOOK_SECRET is not set: refusing to serve unsigned webhooks")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # After uvicorn configured its loggers; adding the same filter twice is a no-op.
        logging.getLogger("uvicorn.access").addFilter(REDACT_QUERY)
        if settings.secret_key is None:
            log.warning(
                "SYNCER_SECRET_KEY is not set: POST /admin/resync and the status page's"
                " admin session are disabled (set it, then `syncer admin-token` prints a token)"
            )
        ensure_schema(settings.db_path)
        writer = Writer(settings.db_path)
        followed = await start_followed(
            settings,
            writer,
            source=source,
            sleep=sleep,
            clock=clock,
            rng=rng,
            observer=app.state.instruments,
        )
        app.state.followed = followed
        app.state.service = followed.services[0]  # the one, when there is one (tests)
        # A burst of deliveries is recorded in a few transactions, not one each.
        app.state.deliveries = GroupCommit(writer, deliveries.take_delivery)
        scheduler = reconcile.start_scheduler(*followed.services)
        for service in followed.services:
            try:
                await reconcile.catch_up(service)
            except FatalError as exc:  # a read-only or full database: serve, /healthz says why
                log.error("no catch-up reconciliation: %s", exc)
        try:
            yield
        finally:
            scheduler.shutdown(wait=False)
            await stop_followed(followed)
            writer.close()

    app = Starlette(
        routes=[
            Route("/webhook", post_webhook, methods=["POST"]),
            Route("/admin/resync", post_resync, methods=["POST"]),
            Route("/", get_index, methods=["GET"]),
            Route("/status.json", get_status_json, methods=["GET"]),
            Route("/healthz", get_healthz, methods=["GET"]),
            Route("/metrics", get_metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPError: on_http_error, FatalError: on_storage_error},
    )
    app.state.settings = settings
    app.state.instruments = metrics.Instruments()
    app.state.nonce = secrets.token_hex(8)
    return app
