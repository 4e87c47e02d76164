"""Benchmark repositories: generated corpora committed to git, cached between runs, and the
syncer settings (as environment variables) that sync them from the fake GitHub."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench import corpus, fibo_corpus
from syncer_dev.gitrepo import GitRepo

FULL_NAME = "bench/ontology"
BRANCH = "main"
WEBHOOK_SECRET = "bench-webhook-secret"
# Never during a benchmark (the nightly default, 03:00, could fire mid-run).
QUIET_CRON = "0 0 1 1 *"


@dataclass(frozen=True)
class Corpus:
    kind: str  # "visionflow" (2026-08 pages), "turtle" or "fibo" (bench/fibo_corpus.py)
    files: int

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.files}"

    def generate(self) -> dict[str, str]:
        if self.kind == "visionflow":
            return corpus.visionflow_pages(self.files)
        if self.kind == "turtle":
            return corpus.turtle_files(self.files)
        if self.kind == "fibo":
            return fibo_corpus.fibo_files(self.files)
        raise ValueError(f"unknown corpus kind {self.kind!r}")

    @property
    def context_file(self) -> str | None:
        """The repository path of the JSON-LD context the pages name, if any."""
        return corpus.V2_CONTEXT_PATH if self.kind == "visionflow" else None


def build(spec: Corpus, work: Path) -> GitRepo:
    """The corpus as a one-commit git repository under ``work``, generated once and reused
    (its files depend only on the kind, the count and the fixed seeds)."""
    path = work / "corpora" / spec.name
    if (path / ".git").is_dir():
        repo = GitRepo(path, BRANCH)
        if repo.git("status", "--porcelain").strip() == "":
            return repo
    shutil.rmtree(path, ignore_errors=True)
    repo = GitRepo.init(path, BRANCH)
    corpus.write(spec.generate(), path)
    repo.commit(f"{spec.name}: generated corpus")
    return repo


def clone(repo: GitRepo, target: Path) -> GitRepo:
    """A private copy to push commits to (the cached corpus stays at its one commit)."""
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(
        ["git", "clone", "-q", "--local", "-b", BRANCH, str(repo.path), str(target)],
        check=True,
        capture_output=True,
    )
    copy = GitRepo(target, BRANCH)
    copy.git("config", "commit.gpgsign", "false")
    return copy


def syncer_env(spec: Corpus, api_url: str, db: Path) -> dict[str, str]:
    """The environment a deployment would set to sync this corpus from (fake) GitHub."""
    env = {
        "SYNCER_DB": str(db),
        "SYNCER_REPO": FULL_NAME,
        "SYNCER_GITHUB_API_URL": api_url,
        "SYNCER_BRANCH": BRANCH,
        "SYNCER_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SYNCER_SECRET_KEY": "bench-signing-key",
        "SYNCER_RECONCILE_CRON": QUIET_CRON,
    }
    if spec.context_file is not None:
        env["SYNCER_JSONLD_CONTEXTS"] = f"{corpus.V2_CONTEXT_URL}=repo:{spec.context_file}"
    return env
