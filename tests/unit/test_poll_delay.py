"""When the next head poll goes out (issue 15: a failing poll backs off, and is shown)."""

from __future__ import annotations

from syncer.retry import poll_delay


def test_polls_keep_the_interval_while_they_succeed() -> None:
    assert poll_delay(120, 0, jitter=0.9) == 120


def test_failures_double_the_wait_up_to_half_an_hour_with_jitter() -> None:
    assert [poll_delay(120, n, jitter=0.0) for n in range(1, 6)] == [240, 480, 960, 1800, 1800]
    assert poll_delay(120, 1, jitter=1.0) == 360  # up to half again
    # An interval longer than the cap is never shortened by a failure.
    assert poll_delay(3600, 3, jitter=0.0) == 3600


def test_a_rate_limit_reset_further_away_wins() -> None:
    assert poll_delay(120, 0, jitter=0.0, rate_limit_wait=900) == 900
    assert poll_delay(120, 0, jitter=0.0, rate_limit_wait=30) == 120
    assert poll_delay(120, 0, jitter=0.0, rate_limit_wait=10 * 86400) == 3600
