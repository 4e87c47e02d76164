"""The service over real HTTP on loopback: uvicorn serving the app (lifespan on), the
repository a local git one (SYNCER_GIT_DIR), deliveries signed and sent as GitHub sends them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from syncer.config import Settings
from syncer.errors import ConfigError
from syncer.values import Secret
from syncer.web.app import create_app
from syncer.web.auth import issue_admin_token
from syncer.webhook import sign
from syncer_dev.gitrepo import GitRepo
from tests.support.live import (
    SECRET,
    LiveServer,
    assert_equals_fresh,
    deliver,
    push_payload,
    raw_post,
    service_settings,
    signed_headers,
    ttl,
    wait_idle,
)
from tests.support.paths import SAMPLES
from tests.support.runs import settings_for


@pytest.fixture
def served(git_repo: GitRepo, db_path: Path) -> Iterator[tuple[httpx.Client, Settings]]:
    git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A"), "b.ttl": ttl("B", "A", "B")})
    settings = service_settings(git_repo, db_path)
    with LiveServer(create_app(settings)) as server, httpx.Client(base_url=server.url) as client:
        yield client, settings


def test_refuses_to_start_without_webhook_secret(git_repo: GitRepo, db_path: Path) -> None:
    with pytest.raises(ConfigError, match="SYNCER_WEBHOOK_SECRET"):
        create_app(settings_for(git_repo, db_path))


def test_webhook_answers(served: tuple[httpx.Client, Settings]) -> None:
    client, _ = served
    payload = push_payload("0" * 40)
    assert deliver(client, "push", payload, secret="wrong").status_code == 401
    body = json.dumps(payload).encode()
    sha1_only = client.post(
        "/webhook",
        content=body,
        headers={"X-GitHub-Event": "push", "X-GitHub-Delivery": "x", "X-Hub-Signature": "sha1=0"},
    )
    assert sha1_only.status_code == 401
    malformed = b"{not json"
    bad = client.post(
        "/webhook",
        content=malformed,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": "m-1",
            "X-Hub-Signature-256": sign(SECRET.encode(), malformed),
        },
    )
    assert bad.status_code == 400
    ping = json.loads((SAMPLES / "ping.json").read_text())
    assert deliver(client, "ping", ping, delivery="p-1").status_code == 200
    again = deliver(client, "ping", ping, delivery="p-1")
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    tag = deliver(client, "push", push_payload("0" * 40, "refs/tags/v1"))
    assert (tag.status_code, tag.json()["reason"]) == (202, "ref 'refs/tags/v1' is not a branch")
    other = dict(payload, repository=dict(payload["repository"], full_name="evil/fork"))
    assert deliver(client, "push", other).status_code == 403
    issues = deliver(client, "issues", {"action": "opened"})
    assert (issues.status_code, issues.json()["outcome"]) == (202, "ignored")


def test_oversized_body_is_413_without_reading_it(served: tuple[httpx.Client, Settings]) -> None:
    client, _ = served
    base = str(client.base_url).rstrip("/")
    declared = raw_post(base, f"Content-Length: {25 * 1024 * 1024 + 1}\r\n", b"x")
    assert declared.startswith(b"HTTP/1.1 413 ")
    # Chunked: no Content-Length, so the body is counted while it streams in.
    chunk = b"x" * (1024 * 1024)
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(26)) + b"0\r\n\r\n"
    streamed = raw_post(base, "Transfer-Encoding: chunked\r\n", body)
    assert streamed.startswith(b"HTTP/1.1 413 ")


def test_admin_resync_without_a_token_is_401_with_a_hint(
    served: tuple[httpx.Client, Settings],
) -> None:
    client, _ = served
    answer = client.post("/admin/resync")
    assert (answer.status_code, answer.headers["www-authenticate"]) == (401, "Bearer")
    assert answer.json() == {
        "error": "admin token required: send 'Authorization: Bearer <token>' with a token"
        " printed by `syncer admin-token` (same SYNCER_SECRET_KEY as the service)"
    }


def test_serve_without_a_secret_key_warns_at_start_and_says_why_admin_is_refused(
    git_repo: GitRepo, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A")})
    settings = service_settings(git_repo, db_path, secret_key=None)
    with (
        caplog.at_level(logging.WARNING, logger="syncer.app"),
        LiveServer(create_app(settings)) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        answer = client.post("/admin/resync")
    assert answer.status_code == 401
    assert answer.json() == {
        "error": "admin is disabled: the service was started without SYNCER_SECRET_KEY, so no"
        " admin token can be checked"
    }
    assert [r.getMessage() for r in caplog.records if r.name == "syncer.app"] == [
        "SYNCER_SECRET_KEY is not set: POST /admin/resync and the status page's admin session"
        " are disabled (set it, then `syncer admin-token` prints a token)"
    ]


def test_pushes_are_matched_against_the_local_checkouts_branch_not_the_payloads_default(
    git_repo: GitRepo, db_path: Path
) -> None:
    # SYNCER_GIT_DIR checked out on "ontology", no SYNCER_BRANCH; GitHub's default branch
    # (named in the payload) is "main": a push to main must not start a sync of ontology.
    git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A")})
    git_repo.checkout_branch("ontology", create=True)
    settings = service_settings(git_repo, db_path, branch=None)
    with LiveServer(create_app(settings)) as server, httpx.Client(base_url=server.url) as client:
        to_main = deliver(client, "push", push_payload("1" * 40), delivery="to-main")
        to_ours = deliver(
            client, "push", push_payload("2" * 40, "refs/heads/ontology"), delivery="to-ours"
        )
    assert (to_main.status_code, to_main.json()["reason"]) == (
        202,
        "push to refs/heads/main, following refs/heads/ontology",
    )
    assert (to_ours.status_code, to_ours.json()["reason"]) == (202, "sync of ontology queued")


@pytest.mark.slow
def test_admin_resync_needs_a_valid_token(served: tuple[httpx.Client, Settings]) -> None:
    client, settings = served
    assert client.post("/admin/resync").status_code == 401
    forged = issue_admin_token(settings.with_(secret_key=Secret("another key")), 60)
    assert (
        client.post("/admin/resync", headers={"Authorization": f"Bearer {forged}"}).status_code
        == 401
    )
    expired = issue_admin_token(settings, 1)
    deadline = time.monotonic() + 5
    while (
        client.post("/admin/resync", headers={"Authorization": f"Bearer {expired}"}).status_code
        != 401
    ):
        assert time.monotonic() < deadline, "token never expired"
        time.sleep(0.2)
    assert client.get("/status.json").status_code == 401
    assert client.get("/healthz").text == "ok"


@pytest.mark.slow
def test_pushes_duplicates_reorders_drops_and_resync_converge(
    git_repo: GitRepo, tmp_path: Path, served: tuple[httpx.Client, Settings]
) -> None:
    client, settings = served
    token = issue_admin_token(settings, 600)
    auth = {"Authorization": f"Bearer {token}"}
    db = settings.db_path

    first = git_repo.head()
    started = time.monotonic()
    answer = deliver(client, "push", push_payload(first), delivery="d-1")
    assert answer.status_code == 202 and time.monotonic() - started < 1.0
    assert answer.json()["outcome"] == "queued"
    wait_idle(client, first, auth)
    assert_equals_fresh(git_repo, db, tmp_path)

    # Duplicate of d-1: answered 200, not processed again.
    assert deliver(client, "push", push_payload(first), delivery="d-1").status_code == 200

    # Two commits; their deliveries arrive reordered (old one last) and form-encoded.
    second = git_repo.commit_files({"c.ttl": ttl("C", "B", "C")})
    git_repo.delete("a.ttl")
    third = git_repo.commit_files({"b.ttl": ttl("B", "Thing", "B v2")})
    assert (
        deliver(client, "push", push_payload(third), delivery="d-3", form=True).status_code == 202
    )
    assert deliver(client, "push", push_payload(second), delivery="d-2").status_code == 202
    wait_idle(client, third, auth)
    assert_equals_fresh(git_repo, db, tmp_path)

    # A dropped delivery: the commit lands, nothing arrives; the resync catches it.
    fourth = git_repo.commit_files({"d.ttl": ttl("D", "C", "D"), "broken.ttl": "ex:broken ."})
    answer = client.post("/admin/resync?force=true", headers=auth)
    assert answer.status_code == 202
    run_id = answer.json()["run_id"]
    data = wait_idle(client, fourth, auth)
    assert_equals_fresh(git_repo, db, tmp_path)
    assert next(r for r in data["runs"] if r["id"] == run_id)["kind"] == "resync"
    assert [f["path"] for f in data["failed_files"]] == ["broken.ttl"]
    outcomes = {d["id"]: d["outcome"] for d in data["deliveries"]}
    assert outcomes == {"d-1": "queued", "d-2": "queued", "d-3": "queued"}
    metrics = client.get("/metrics").text
    assert 'syncer_deliveries_total{outcome="queued"} 3' in metrics
    assert 'syncer_files{status="failed"} 1' in metrics
    assert SECRET not in metrics and SECRET not in client.get("/", headers=auth).text


def test_status_page_session_and_csrf_protected_resync(
    git_repo: GitRepo, served: tuple[httpx.Client, Settings]
) -> None:
    client, settings = served
    assert client.get("/").status_code == 401
    assert client.get("/?token=forged").status_code == 401
    login = client.get(f"/?token={issue_admin_token(settings, 600)}", follow_redirects=False)
    assert (login.status_code, login.headers["location"]) == (303, "/")
    cookie = login.cookies["syncer_session"]
    client.cookies.set("syncer_session", cookie)
    page = client.get("/")
    assert page.status_code == 200 and "Resync now" in page.text
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert client.get("/status.json").status_code == 200
    # The cookie alone does not start a resync: a cross-site form cannot know the token.
    assert client.post("/admin/resync", data={"force": "true"}).status_code == 401
    assert client.post("/admin/resync", data={"csrf": "guess"}).status_code == 401
    button = client.post(
        "/admin/resync",
        data={"csrf": csrf, "force": "true"},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    assert (button.status_code, button.headers["location"]) == (303, "/")
    data = wait_idle(client, git_repo.head(), {})
    assert data["runs"][0]["kind"] == "resync" and data["runs"][0]["status"] == "done"
    assert data["reconciliations"][0]["id"] == data["runs"][0]["id"]


def test_public_status_and_unhealthy_after_a_fatal_run(git_repo: GitRepo, db_path: Path) -> None:
    git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A")})
    app = create_app(service_settings(git_repo, db_path, public_status=True))
    with LiveServer(app) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/status.json").status_code == 200
        page = client.get("/")
        assert page.status_code == 200 and "Resync now" not in page.text
        assert (client.get("/healthz").status_code, client.get("/healthz").text) == (200, "ok")
        app.state.service.counters.fatal = "disk full: database or disk is full"
        health = client.get("/healthz")
        assert (health.status_code, health.text) == (503, "last run failed fatally")


def test_healthz_reports_a_fatal_last_run_from_the_database(
    git_repo: GitRepo, db_path: Path
) -> None:
    git_repo.commit_files({"a.ttl": ttl("A", "Thing", "A")})
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(
            "INSERT INTO sync_runs (ontology_id, kind, force, status, started_at, error)"
            " VALUES ('default', 'push', 0, 'failed', '2026-11-23T00:00:00', 'disk full')"
        )
    conn.close()
    with LiveServer(create_app(service_settings(git_repo, db_path))) as server:
        health = httpx.get(f"{server.url}/healthz")
        assert (health.status_code, health.text) == (503, "last run failed fatally")


def test_a_burst_with_repeated_ids_records_each_delivery_once(
    served: tuple[httpx.Client, Settings],
) -> None:
    """Deliveries that arrive together are recorded in shared transactions (group commit):
    an id sent twice in the same burst is still recorded once and answered as a duplicate."""
    client, settings = served
    body = (SAMPLES / "ping.json").read_bytes()
    ids = [f"burst-{i}" for i in range(10)] * 2

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=str(client.base_url)) as sender:
            return await asyncio.gather(
                *(
                    sender.post("/webhook", content=body, headers=signed_headers("ping", d, body))
                    for d in ids
                )
            )

    answers = [(r.status_code, r.json()["outcome"]) for r in asyncio.run(burst())]
    assert sorted(answers) == [(200, "duplicate")] * 10 + [(200, "ping")] * 10
    with contextlib.closing(sqlite3.connect(settings.db_path)) as conn:
        recorded = conn.execute("SELECT id, event FROM deliveries ORDER BY id").fetchall()
    assert recorded == sorted((f"burst-{i}", "ping") for i in range(10))


def test_metrics_are_prometheus_exposition_with_histograms_duplicates_and_behind_seconds(
    git_repo: GitRepo, served: tuple[httpx.Client, Settings]
) -> None:
    client, settings = served
    auth = {"Authorization": f"Bearer {issue_admin_token(settings, 600)}"}
    head = git_repo.commit_files({"c.ttl": ttl("C", "A", "C")})
    first = deliver(client, "push", push_payload(head), delivery="m-1")
    again = deliver(client, "push", push_payload(head), delivery="m-1")
    assert (first.json()["outcome"], again.json()["outcome"]) == ("queued", "duplicate")
    assert deliver(client, "push", push_payload(head), secret="wrong").status_code == 401
    wait_idle(client, head, auth)
    answer = client.get("/metrics")
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }
    runs = {k: v for k, v in samples.items() if k[0] == "syncer_run_duration_seconds_count"}
    kinds = {dict(labels)["kind"]: v for (_, labels), v in runs.items()}
    assert kinds == {"push": 1.0}  # a fresh database: the push's run reads all three files
    expected = {
        ("syncer_deliveries_total", (("outcome", "queued"),)): 1.0,
        ("syncer_webhook_duplicates_total", ()): 1.0,
        ("syncer_webhook_ack_seconds_count", (("outcome", "queued"),)): 1.0,
        ("syncer_webhook_ack_seconds_count", (("outcome", "duplicate"),)): 1.0,
        ("syncer_webhook_ack_seconds_count", (("outcome", "refused"),)): 1.0,
        ("syncer_webhook_refused_total", (("status", "401"),)): 1.0,
        ("syncer_file_parse_seconds_count", ()): 3.0,
        ("syncer_files", (("status", "ok"),)): 3.0,
        ("syncer_files", (("status", "failed"),)): 0.0,
        ("syncer_queue_depth", ()): 0.0,
        ("syncer_running", ()): 0.0,
        ("syncer_behind_seconds", ()): 0.0,
    }
    assert {k: samples.get(k) for k in expected} == expected
    le = ("le", "+Inf")
    assert samples[("syncer_file_parse_seconds_bucket", (le,))] == 3.0
    assert samples[("syncer_file_parse_seconds_sum", ())] > 0
