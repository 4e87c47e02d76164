"""Where files come from: GitHub's REST API or a local git repository."""

from __future__ import annotations

from typing import TYPE_CHECKING

from syncer.config import Settings
from syncer.errors import ConfigError
from syncer.sources.base import FetchedFile, Source, SourceStats

if TYPE_CHECKING:
    from syncer.sources.github_app import AppCredentials

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
            app=app_credentials(settings),
        )
    raise ConfigError(
        "no repository configured: set SYNCER_GIT_DIR (a local git repository) or "
        "SYNCER_REPO (owner/name on GitHub); `syncer demo` runs on a bundled example"
    )


def app_credentials(settings: Settings) -> AppCredentials | None:
    """The GitHub App's credentials, its key read and checked now (a wrong key is a clear
    error at start, not at the first request); None when no App is configured."""
    if settings.github_app_id is None or settings.github_app_key is None:
        return None
    from syncer.sources.github_app import AppCredentials, load_app_key

    return AppCredentials(
        app_id=settings.github_app_id,
        private_key=load_app_key(settings.github_app_key),
        installation_id=settings.github_app_installation,
    )
