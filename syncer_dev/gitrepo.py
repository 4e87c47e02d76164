"""A scratch git repository driven through the git CLI, for tests, demos and benchmarks."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

_ENV = {
    "GIT_AUTHOR_NAME": "syncer tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "syncer tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}


class GitRepo:
    """A working repository at ``path`` with helpers to write, delete, rename and commit."""

    def __init__(self, path: Path, branch: str = "main") -> None:
        self.path = Path(path)
        self.branch = branch
        self._counter = 0

    @classmethod
    def init(cls, path: Path, branch: str = "main") -> GitRepo:
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path, branch)
        repo.git("init", "-q", "-b", branch)
        repo.git("config", "core.autocrlf", "false")
        repo.git("config", "commit.gpgsign", "false")
        return repo

    def git(self, *args: str, input: bytes | None = None) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(_ENV)
        env["HOME"] = str(self.path)  # no user config leaks in
        result = subprocess.run(
            ["git", "-C", str(self.path), *args],
            input=input,
            capture_output=True,
            env=env,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr.decode()}")
        return result.stdout.decode("utf-8", "surrogateescape")

    def write(self, files: Mapping[str, str | bytes]) -> None:
        for rel, content in files.items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode("utf-8") if isinstance(content, str) else content
            target.write_bytes(data)

    def delete(self, *paths: str) -> None:
        for rel in paths:
            self.git("rm", "-q", "--", rel)

    def rename(self, old: str, new: str) -> None:
        (self.path / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", "--", old, new)

    def commit(self, message: str | None = None) -> str:
        self._counter += 1
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message or f"commit {self._counter}")
        return self.head()

    def commit_files(self, files: Mapping[str, str | bytes], message: str | None = None) -> str:
        self.write(files)
        return self.commit(message)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def checkout_branch(self, branch: str, *, create: bool = False) -> None:
        if create:
            self.git("checkout", "-q", "-b", branch)
        else:
            self.git("checkout", "-q", branch)

    def reset_hard(self, commit: str) -> None:
        """Move the branch to ``commit`` (a forced push, seen from the receiving side)."""
        self.git("reset", "-q", "--hard", commit)
