"""Where files come from: GitHub's REST API or a local git repository."""

from __future__ import annotations

from syncer.config import Settings
from syncer.errors import ConfigError
from syncer.sources.base import FetchedFile, Source, SourceStats

__all__ = ["FetchedFile", "Source", "SourceStats", "build_source"]


def build_source(settings: Settings) -> Source:
    """The source the settings name: a local repository wins over GitHub."""
    if settings.git_dir is not None:
        from syncer.sources.git import GitSource

        return GitSource(settings.git_dir)
    if settings.repo is not None:
        from syncer.sources.github import GitHubSource
        from syncer.sources.github_api import ClientOptions

        return GitHubSource(
            settings.repo,
            settings.github_api_url,
            settings.github_token,
            ClientOptions(timeout=float(settings.github_timeout)),
        )
    raise ConfigError(
        "no repository configured: set SYNCER_GIT_DIR (a local git repository) or "
        "SYNCER_REPO (owner/name on GitHub); `syncer demo` runs on a bundled example"
    )
