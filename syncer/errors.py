"""The exception hierarchy: one base, and a class for each way a run can react.

Retryable errors are tried again with backoff, permanent ones are recorded on the
file and not retried until its blob changes, fatal ones stop the run with a report.
HTTP-facing errors carry the status they answer with.
"""

from __future__ import annotations


class SyncerError(Exception):
    """Base of every error syncer raises on purpose."""


class ConfigError(SyncerError):
    """The settings are incomplete or contradictory."""


class RetryableError(SyncerError):
    """A passing fault (network, 5xx, rate limit, database busy): try again later."""

    def __init__(self, message: str, *, wait_seconds: float | None = None) -> None:
        super().__init__(message)
        self.wait_seconds = wait_seconds


class RateLimitedError(RetryableError):
    """GitHub asked us to wait (403/429 with retry-after or an exhausted primary limit)."""


class PermanentError(SyncerError):
    """The input itself is bad; retrying cannot help until it changes."""


class ParseError(PermanentError):
    """A file (or a block in it) could not be parsed."""


class SourceError(SyncerError):
    """The repository refused a request in a way that retrying will not fix (404, 401)."""


class FatalError(SyncerError):
    """The run cannot go on (disk full, corrupt database, read-only database)."""


class HTTPError(SyncerError):
    """An error that maps onto an HTTP answer."""

    status_code = 400

    def __init__(self, detail: str, *, status_code: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if status_code is not None:
            self.status_code = status_code


class Unauthorized(HTTPError):
    status_code = 401


class PayloadTooLarge(HTTPError):
    status_code = 413


class BadRequest(HTTPError):
    status_code = 400


class NotFound(HTTPError):
    status_code = 404
