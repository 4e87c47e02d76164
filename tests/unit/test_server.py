"""serve(): refuses to start without a webhook secret; log lines carry ids, not secrets."""

from __future__ import annotations

import logging

import pytest

from syncer.config import Settings
from syncer.errors import ConfigError
from syncer.web.server import ContextFormatter, serve


def test_serve_refuses_without_webhook_secret() -> None:
    with pytest.raises(ConfigError, match="SYNCER_WEBHOOK_SECRET"):
        serve(Settings(), port=0)


def test_log_lines_carry_delivery_and_run_ids() -> None:
    record = logging.LogRecord(
        "syncer.app", logging.INFO, __file__, 1, "delivery: %s", ("ok",), None
    )
    record.delivery = "72d3162e"
    record.outcome = "queued"
    record.run = 7
    line = ContextFormatter("%(levelname)s %(name)s %(message)s").format(record)
    assert line == "INFO syncer.app delivery: ok delivery=72d3162e outcome=queued run=7"
