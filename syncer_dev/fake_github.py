"""A fake GitHub REST API that serves a real local git repository through the git CLI.

It answers the routes syncer and the benchmark baselines use, in GitHub's shapes (see
https://docs.github.com/en/rest/git/trees, .../git/blobs, .../repos/contents and
.../repos/contents#download-a-repository-archive-tar), and lets a test script the faults
GitHub shows in practice: 5xx, rate limits, dropped connections and slow answers.
Use it in-process (``httpx.ASGITransport(app=create_app(state))``) or over real HTTP on
loopback (``syncer_dev.server.serve_in_thread``).
"""

from __future__ import annotations

import asyncio
import base64
import fnmatch
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from syncer_dev.fake_app import FakeApp
from syncer_dev.faults import DroppedConnection, Fault, client_left, fault_response

REPO = "/repos/{owner}/{repo}"
_HEX = re.compile(r"^[0-9a-f]{40}$")


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # the Authorization value is replaced by "<redacted>"
    status: int | None = None  # what the fake answered (None: dropped, or not yet)


@dataclass
class FakeGitHubState:
    """The knobs of the fake, changeable while it serves."""

    repo_path: Path
    full_name: str = "owner/repo"
    default_branch: str | None = None  # None: the repository's HEAD branch
    token: str | None = None  # when set, API routes answer 401 to any other credentials
    latency: float = 0.0  # seconds added to every answer
    truncate_trees: bool = False  # recursive listings longer than truncate_limit are cut
    truncate_limit: int = 2
    codeload_url: str | None = None  # another origin for archives; None: this server
    faults: list[Fault] = field(default_factory=list)
    requests: list[LoggedRequest] = field(default_factory=list)
    app: FakeApp | None = None  # when set, API routes need one of its installation tokens
    hook_id: int = 17  # the repository's webhook, whose delivery log is below
    hook_deliveries: list[dict[str, Any]] = field(default_factory=list)  # newest first

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


class FakeGitHub:
    """The ASGI app: logging, latency, auth and faults around the Starlette routes."""

    def __init__(self, state: FakeGitHubState) -> None:
        self.state = state
        self.routes = Starlette(routes=_routes(state))

    async def __call__(self, scope: Scope, receive: Receive, raw_send: Send) -> None:
        if scope["type"] != "http":
            await self.routes(scope, receive, raw_send)
            return
        state = self.state
        request = Request(scope)
        path = request.url.path
        headers = {
            k: ("<redacted>" if k == "authorization" else v) for k, v in request.headers.items()
        }
        logged = LoggedRequest(request.method, path, request.url.query, headers)
        state.requests.append(logged)

        async def send(message: Any) -> None:  # what is answered, recorded on its way out
            if message["type"] == "http.response.start":
                logged.status = message["status"]
            await raw_send(message)

        if state.latency:
            await asyncio.sleep(state.latency)
        fault = next((f for f in state.faults if fnmatch.fnmatchcase(path, f.path)), None)
        if fault is not None:
            fault.times -= 1
            if fault.times <= 0:
                state.faults.remove(fault)
            if fault.action == "drop":
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [(b"content-length", b"1000")],
                    }
                )
                raise DroppedConnection("the fake dropped the connection")
            if fault.action == "delay":
                if await client_left(receive, fault.delay):
                    return  # it timed out and hung up: nobody to answer
            else:
                target = path + (f"?{request.url.query}" if request.url.query else "")
                await fault_response(fault, target)(scope, receive, send)
                return
        if not path.startswith("/_codeload/"):
            given = request.headers.get("authorization", "")
            if state.app is not None:
                ok = state.app.allows(path, given)
            else:
                ok = state.token is None or given in (
                    f"Bearer {state.token}",
                    f"token {state.token}",
                )
            if not ok:
                message = {"message": "Bad credentials", "status": "401"}
                await JSONResponse(message, status_code=401)(scope, receive, send)
                return
        await self.routes(scope, receive, send)


def create_app(state: FakeGitHubState) -> FakeGitHub:
    return FakeGitHub(state)


def _not_found(message: str = "Not Found") -> JSONResponse:
    return JSONResponse({"message": message, "status": "404"}, status_code=404)


def _run_git(path: Path, *args: str) -> bytes | None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    result = subprocess.run(
        ["git", "-C", str(path), *args], capture_output=True, env=env, check=False
    )
    return result.stdout if result.returncode == 0 else None


def _parse_ls_tree(out: bytes) -> list[tuple[str, str, str, str, str]]:
    """(mode, type, sha, size, path) of each ``git ls-tree -z --long`` record."""
    records = []
    for record in out.split(b"\x00"):
        if record:
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, sha, size = meta.decode().split()
            records.append((mode, kind, sha, size, raw_path.decode("utf-8", "surrogateescape")))
    return records


def _routes(state: FakeGitHubState) -> list[Route]:
    async def git(*args: str) -> bytes | None:
        """Output of a git command, or None when it fails (an unknown ref or object)."""
        return await asyncio.to_thread(_run_git, state.repo_path, *args)

    async def rev(ref: str, kind: str = "commit") -> str | None:
        if not ref or ref.startswith("-"):
            return None
        out = await git("rev-parse", "--verify", "--quiet", f"{ref}^{{{kind}}}")
        return out.decode().strip() if out else None

    def ours(request: Request) -> bool:
        p = request.path_params
        return f"{p['owner']}/{p['repo']}".lower() == state.full_name.lower()

    def api(request: Request, tail: str) -> str:
        return f"{str(request.base_url).rstrip('/')}/repos/{state.full_name}{tail}"

    def etagged(request: Request, etag: str, response: Response) -> Response:
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        response.headers["ETag"] = etag
        return response

    async def branch_name() -> str:
        if state.default_branch is not None:
            return state.default_branch
        out = await git("symbolic-ref", "--short", "HEAD")
        return out.decode().strip() if out else "main"

    async def repository(request: Request) -> Response:
        if not ours(request):
            return _not_found()
        owner, name = state.full_name.split("/")
        return JSONResponse(
            {
                "id": 1,
                "name": name,
                "full_name": state.full_name,
                "private": False,
                "owner": {"login": owner},
                "default_branch": await branch_name(),
                "url": api(request, ""),
            }
        )

    async def commit(request: Request) -> Response:
        ref = request.path_params["ref"]
        sha = await rev(ref) if ours(request) else None
        if sha is None:
            message = f"No commit found for SHA: {ref}"
            return JSONResponse({"message": message, "status": "422"}, status_code=422)
        if "application/vnd.github.sha" in request.headers.get("accept", ""):
            answer: Response = Response(sha, media_type="application/vnd.github.sha")
        else:
            answer = JSONResponse({"sha": sha, "url": api(request, f"/commits/{sha}")})
        return etagged(request, f'"{sha}"', answer)

    async def branch(request: Request) -> Response:
        name = request.path_params["branch"]
        ok = ours(request) and await git("show-ref", "--verify", f"refs/heads/{name}")
        sha = await rev(f"refs/heads/{name}") if ok else None
        if sha is None:
            return _not_found("Branch not found")
        link = {"sha": sha, "url": api(request, f"/commits/{sha}")}
        return JSONResponse({"name": name, "commit": link, "protected": False})

    async def tree(request: Request) -> Response:
        ref = request.path_params["sha"]
        sha = await rev(ref, "tree") if ours(request) else None
        if sha is None:
            return _not_found()
        recursive = request.query_params.get("recursive") not in (None, "", "0", "false")
        out = await git("ls-tree", "-z", "--long", *(["-r", "-t"] if recursive else []), sha)
        items = []
        for mode, kind, obj, size, item_path in _parse_ls_tree(out or b""):
            item: dict[str, Any] = {"path": item_path, "mode": mode, "type": kind, "sha": obj}
            if kind == "blob":
                item["size"] = int(size)
            if kind in ("blob", "tree"):
                item["url"] = api(request, f"/git/{kind}s/{obj}")
            items.append(item)
        # GitHub caps recursive listings (100,000 entries or 7 MB) and says so.
        truncated = recursive and state.truncate_trees and len(items) > state.truncate_limit
        if truncated:
            items = items[: state.truncate_limit]
        url = api(request, f"/git/trees/{sha}")
        body = {"sha": sha, "url": url, "tree": items, "truncated": truncated}
        return etagged(request, f'"{sha}{"-r" if recursive else ""}"', JSONResponse(body))

    async def blob(request: Request) -> Response:
        sha = request.path_params["sha"]
        ok = ours(request) and _HEX.match(sha) is not None
        data = await git("cat-file", "blob", sha) if ok else None
        if data is None:
            return _not_found()
        if "raw" in request.headers.get("accept", ""):
            return Response(data, media_type="application/vnd.github.raw")
        return JSONResponse(
            {
                "sha": sha,
                "node_id": "",
                "size": len(data),
                "url": api(request, f"/git/blobs/{sha}"),
                "content": base64.encodebytes(data).decode(),
                "encoding": "base64",
            }
        )

    async def tarball(request: Request) -> Response:
        # No ref: the default branch, as GitHub does.
        ref = request.path_params.get("ref") or await branch_name()
        sha = await rev(ref) if ours(request) else None
        if sha is None:
            return _not_found()
        base = state.codeload_url or str(request.base_url).rstrip("/")
        return RedirectResponse(f"{base}/_codeload/{state.full_name}/legacy.tar.gz/{sha}", 302)

    async def codeload(request: Request) -> Response:
        sha = request.path_params["sha"]
        ok = ours(request) and _HEX.match(sha) is not None
        owner, name = state.full_name.split("/")
        prefix = f"--prefix={owner}-{name}-{sha[:7]}/"
        data = await git("archive", "--format=tar.gz", prefix, sha) if ok else None
        if data is None:
            return _not_found()
        headers = {"Content-Disposition": f"attachment; filename={owner}-{name}-{sha[:7]}.tar.gz"}
        return Response(data, media_type="application/x-gzip", headers=headers)

    async def contents(request: Request) -> Response:
        path = request.path_params.get("path", "").strip("/")
        ref = request.query_params.get("ref") or await branch_name()
        sha = await rev(ref) if ours(request) else None
        if sha is None:
            return _not_found(f"No commit found for the ref {ref}")
        spec = ["--", path] if path else []
        records = _parse_ls_tree(await git("ls-tree", "-z", "--long", sha, *spec) or b"")
        if path and records and records[0][4] == path and records[0][1] == "blob":
            data = await git("cat-file", "blob", records[0][2]) or b""
            if "raw" in request.headers.get("accept", ""):
                return Response(data, media_type="application/vnd.github.raw")
            item = _content_item(request, state, ref, records[0])
            item |= {"encoding": "base64", "content": base64.encodebytes(data).decode()}
            return JSONResponse(item)
        if path and records and records[0][4] == path:  # a directory: list what is in it
            listing = await git("ls-tree", "-z", "--long", sha, "--", f"{path}/")
            records = _parse_ls_tree(listing or b"")
        if not records:
            return _not_found()
        return JSONResponse([_content_item(request, state, ref, r) for r in records])

    async def installation(request: Request) -> Response:
        app = state.app
        answer = app.installation() if app is not None and ours(request) else None
        return JSONResponse(answer) if answer is not None else _not_found()

    async def access_tokens(request: Request) -> Response:
        app = state.app
        answer = app.access_token(request.path_params["installation"]) if app else None
        return JSONResponse(answer, status_code=201) if answer is not None else _not_found()

    async def hook_deliveries(request: Request) -> Response:
        if not ours(request) or request.path_params["hook"] != str(state.hook_id):
            return _not_found()
        return JSONResponse(state.hook_deliveries)

    return [
        Route(REPO + "/hooks/{hook}/deliveries", hook_deliveries),
        Route(REPO + "/installation", installation),
        Route("/app/installations/{installation}/access_tokens", access_tokens, methods=["POST"]),
        Route(REPO, repository),
        Route(REPO + "/commits/{ref:path}", commit),
        Route(REPO + "/branches/{branch:path}", branch),
        Route(REPO + "/git/trees/{sha:path}", tree),
        Route(REPO + "/git/blobs/{sha}", blob),
        Route(REPO + "/tarball", tarball),
        Route(REPO + "/tarball/{ref:path}", tarball),
        Route(REPO + "/contents", contents),
        Route(REPO + "/contents/{path:path}", contents),
        Route("/_codeload/{owner}/{repo}/legacy.tar.gz/{sha}", codeload),
    ]


def _content_item(
    request: Request, state: FakeGitHubState, ref: str, record: tuple[str, str, str, str, str]
) -> dict[str, Any]:
    """One entry in the contents API's shape (``type`` file, dir, symlink or submodule)."""
    mode, kind, sha, size, path = record
    base = str(request.base_url).rstrip("/")
    type_ = (
        "symlink" if mode == "120000" else {"tree": "dir", "commit": "submodule"}.get(kind, "file")
    )
    url = f"{base}/repos/{state.full_name}/contents/{path}?ref={ref}"
    git_url = f"{base}/repos/{state.full_name}/git/{kind}s/{sha}"
    return {
        "type": type_,
        "size": int(size) if size.isdigit() else 0,
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "url": url,
        "git_url": git_url,
        "html_url": None,
        "download_url": None if type_ == "dir" else f"{base}/raw/{state.full_name}/{ref}/{path}",
        "_links": {"self": url, "git": git_url, "html": None},
    }
