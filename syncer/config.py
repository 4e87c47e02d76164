"""Settings, read once from the environment (and an optional ``.env`` file).

No other module reads ``os.environ``: the frozen :class:`Settings` is passed explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from syncer.errors import ConfigError

# The values Settings holds and the parsers of their settings live in values.py, below
# both this module and repositories.py (which must not import this one).
from syncer.values import ContextSource, Secret, parse_contexts, parse_prefixes, split_list

if TYPE_CHECKING:
    from syncer.repositories import Repository

DEFAULT_INCLUDE: tuple[str, ...] = (
    "*.ttl",
    "*.turtle",
    "*.owl",
    "*.rdf",
    "*.nt",
    "*.n3",
    "*.trig",
    "*.nq",
    "*.jsonld",
    "*.json-ld",
    "*.md",
)
# A repository's own documents are Markdown but not pages of the ontology (issue 12): an
# OBO repository's README.md or CONTRIBUTING.md would otherwise become graph nodes.
# Patterns without a slash match at any depth (docs/configuration.md).
DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".github/**",
    "**/node_modules/**",
    "README.md",
    "CHANGELOG.md",
    "CONTRIBUTING.md",
    "CODE_OF_CONDUCT.md",
    "LICENSE.md",
    "SECURITY.md",
)


@dataclass(frozen=True)
class SettingHelp:
    name: str
    default: str
    meaning: str


# Every setting, for `syncer --help` (docs/configuration.md says more; a test keeps the
# three lists, this one, the docs' table and the names load_settings reads, the same).
SETTINGS_HELP = (
    SettingHelp("SYNCER_DB", "./syncer.db", "the SQLite file (its directory must exist)"),
    SettingHelp("SYNCER_REPO", "none", "owner/name on GitHub; serve accepts its deliveries only"),
    SettingHelp("SYNCER_GIT_DIR", "none", "a local git repository instead of GitHub"),
    SettingHelp("SYNCER_REPOS", "none", "several: owner/a,owner/b@branch (instead of SYNCER_REPO)"),
    SettingHelp("SYNCER_CONFIG", "none", "several, each with its settings: a TOML file"),
    SettingHelp("SYNCER_BRANCH", "the default branch", "the branch to follow"),
    SettingHelp("SYNCER_GITHUB_API_URL", "https://api.github.com", "GitHub's API base URL"),
    SettingHelp("SYNCER_GITHUB_TOKEN", "none", "token for the API (Contents: read)"),
    SettingHelp("SYNCER_GITHUB_TIMEOUT", "30", "seconds to wait for one answer from GitHub"),
    SettingHelp("SYNCER_GITHUB_APP_ID", "none", "a GitHub App's id: the App reads, no token"),
    SettingHelp("SYNCER_GITHUB_APP_KEY", "none", "path of the App's private key (PEM)"),
    SettingHelp(
        "SYNCER_GITHUB_APP_INSTALLATION", "found from the repository", "the App's installation id"
    ),
    SettingHelp("SYNCER_GITHUB_HOOK_ID", "none", "the webhook's id: audit GitHub's delivery log"),
    SettingHelp("SYNCER_WEBHOOK_SECRET", "none", "the webhook's HMAC secret (serve needs it)"),
    SettingHelp("SYNCER_SECRET_KEY", "none", "signs admin tokens and sessions (admin needs it)"),
    SettingHelp("SYNCER_INCLUDE", "RDF and Markdown files", "comma-separated globs to sync"),
    SettingHelp("SYNCER_EXCLUDE", "READMEs, .github/**", "comma-separated globs to leave out"),
    SettingHelp("SYNCER_WORKERS", "2 x cores, 2-8", "parse workers"),
    SettingHelp("SYNCER_RECONCILE_CRON", "0 3 * * *", "the nightly reconciliation (crontab)"),
    SettingHelp("SYNCER_TIMEZONE", "UTC", "time zone of the cron expression"),
    SettingHelp("SYNCER_POLL_INTERVAL", "120", "seconds between branch-head polls (0: off)"),
    SettingHelp("SYNCER_JSONLD_CONTEXTS", "none", "URL=repo:PATH or URL=file:PATH, ..."),
    SettingHelp("SYNCER_PREFIXES", "built-in", "prefix=IRI, ...: CURIEs and the prefix table"),
    SettingHelp("SYNCER_ONTOLOGY_ID", "default", "the ontology_id rows are written under"),
    SettingHelp("SYNCER_MAX_FILE_BYTES", "20 MiB", "larger files are skipped"),
    SettingHelp("SYNCER_PUBLIC_STATUS", "false", "true: the status page needs no token"),
    SettingHelp("SYNCER_LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR"),
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Settings:
    db_path: Path = Path("syncer.db")
    repo: str | None = None
    git_dir: Path | None = None
    branch: str | None = None
    github_api_url: str = "https://api.github.com"
    github_token: Secret | None = None
    github_timeout: int = 30  # seconds per request to GitHub (connect: at most 10)
    github_app_id: str | None = None
    github_app_key: Path | None = None  # the PEM file; read when the source is built
    github_app_installation: int | None = None
    github_hook_id: int | None = None  # audit this webhook's delivery log (needs hook admin)
    webhook_secret: Secret | None = None
    secret_key: Secret | None = None
    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    workers: int = 2
    reconcile_cron: str = "0 3 * * *"
    timezone: str = "UTC"
    jsonld_contexts: tuple[ContextSource, ...] = ()
    ontology_id: str = "default"
    max_file_bytes: int = 20 * 1024 * 1024
    prefixes: tuple[tuple[str, str], ...] = ()
    public_status: bool = False
    log_level: str = "INFO"
    poll_interval: int = 120  # seconds between branch-head polls; 0 disables them
    extra: Mapping[str, str] = field(default_factory=dict)
    # Several repositories (SYNCER_REPOS / SYNCER_CONFIG); empty: the one above.
    # repositories.each_repository turns them into one Settings each.
    repositories: tuple[Repository, ...] = ()

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def source_label(self) -> str:
        if self.git_dir is not None:
            return f"git:{self.git_dir}"
        if self.repo is not None:
            return f"github:{self.repo}"
        return "no repository configured"

    def file_url(self, commit: str, path: str) -> str | None:
        """Where a person reads the file at ``commit`` on GitHub (GitHub Enterprise too: its
        web host is the API's host without ``/api/v3``); None without SYNCER_REPO."""
        if self.repo is None:
            return None
        api = self.github_api_url
        if api == "https://api.github.com":
            web = "https://github.com"
        else:
            web = api.removesuffix("/api/v3")
        return f"{web}/{self.repo}/blob/{commit}/{quote(path)}"


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file: ``NAME=value`` lines, ``#`` comments, optional quotes."""
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        if line.startswith("export "):
            line = line[len("export ") :]
        name, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}")
    return value


def _bool(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Read the settings once: the environment wins over the ``.env`` file."""
    env: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        env.update(read_env_file(env_file))
    env.update(os.environ if environ is None else environ)
    everything = dict(env)  # SYNCER_CONFIG may name other variables for its secrets
    env = {k: v for k, v in env.items() if k.startswith("SYNCER_")}

    def secret(name: str) -> Secret | None:
        value = env.get(name)
        return Secret(value) if value else None

    repo = env.get("SYNCER_REPO") or None
    if repo is not None and repo.count("/") != 1:
        raise ConfigError(f"SYNCER_REPO must be owner/name, not {repo!r}")
    git_dir = Path(env["SYNCER_GIT_DIR"]) if env.get("SYNCER_GIT_DIR") else None
    several = _several(env, everything, one=repo is not None or git_dir is not None)
    app_id, app_key = env.get("SYNCER_GITHUB_APP_ID") or None, env.get("SYNCER_GITHUB_APP_KEY")
    if (app_id is None) != (not app_key):
        raise ConfigError(
            "SYNCER_GITHUB_APP_ID and SYNCER_GITHUB_APP_KEY go together: a GitHub App needs"
            " its id and the path of its private key"
        )
    if app_id is not None and not app_id.isdigit():
        raise ConfigError(f"SYNCER_GITHUB_APP_ID must be the App's numeric id, not {app_id!r}")
    cpu = os.cpu_count() or 1
    return Settings(
        db_path=Path(env.get("SYNCER_DB") or "syncer.db"),
        repo=repo,
        git_dir=git_dir,
        branch=env.get("SYNCER_BRANCH") or None,
        github_api_url=(env.get("SYNCER_GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
        github_token=secret("SYNCER_GITHUB_TOKEN"),
        github_timeout=_int(env, "SYNCER_GITHUB_TIMEOUT", 30),
        github_app_id=app_id,
        github_app_key=Path(env["SYNCER_GITHUB_APP_KEY"]) if app_key else None,
        github_app_installation=(
            _int(env, "SYNCER_GITHUB_APP_INSTALLATION", 0, minimum=1)
            if env.get("SYNCER_GITHUB_APP_INSTALLATION")
            else None
        ),
        github_hook_id=(
            _int(env, "SYNCER_GITHUB_HOOK_ID", 0, minimum=1)
            if env.get("SYNCER_GITHUB_HOOK_ID")
            else None
        ),
        webhook_secret=secret("SYNCER_WEBHOOK_SECRET"),
        secret_key=secret("SYNCER_SECRET_KEY"),
        include=split_list(env["SYNCER_INCLUDE"]) if env.get("SYNCER_INCLUDE") else DEFAULT_INCLUDE,
        exclude=split_list(env["SYNCER_EXCLUDE"]) if env.get("SYNCER_EXCLUDE") else DEFAULT_EXCLUDE,
        workers=_int(env, "SYNCER_WORKERS", max(2, min(8, cpu * 2))),
        reconcile_cron=env.get("SYNCER_RECONCILE_CRON") or "0 3 * * *",
        timezone=env.get("SYNCER_TIMEZONE") or "UTC",
        jsonld_contexts=parse_contexts(env.get("SYNCER_JSONLD_CONTEXTS", "")),
        ontology_id=env.get("SYNCER_ONTOLOGY_ID") or "default",
        max_file_bytes=_int(env, "SYNCER_MAX_FILE_BYTES", 20 * 1024 * 1024),
        prefixes=parse_prefixes(env.get("SYNCER_PREFIXES", "")),
        public_status=_bool(env, "SYNCER_PUBLIC_STATUS"),
        log_level=_choice(env, "SYNCER_LOG_LEVEL", "INFO", LOG_LEVELS),
        poll_interval=_int(env, "SYNCER_POLL_INTERVAL", 120, minimum=0),
        repositories=several,
    )


def _several(
    env: Mapping[str, str], everything: Mapping[str, str], *, one: bool
) -> tuple[Repository, ...]:
    from syncer.repositories import parse_config, parse_repos

    listed, config = env.get("SYNCER_REPOS"), env.get("SYNCER_CONFIG")
    if listed and config:
        raise ConfigError("SYNCER_REPOS and SYNCER_CONFIG both name repositories: set one")
    if (listed or config) and one:
        raise ConfigError(
            "SYNCER_REPO / SYNCER_GIT_DIR name one repository and SYNCER_REPOS /"
            " SYNCER_CONFIG several: set one kind (a repository's git_dir goes in the file)"
        )
    if listed:
        return parse_repos(listed)
    if config:
        path = Path(config)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"SYNCER_CONFIG: cannot read {path}: {exc}") from exc
        return parse_config(text, path, everything)
    return ()


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = (env.get(name) or default).upper()
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {env.get(name)!r}")
    return value


def each_repository(settings: Settings) -> tuple[Settings, ...]:
    """One Settings per followed repository: the shared ones with its own overrides. A
    single-repository configuration (SYNCER_REPO or SYNCER_GIT_DIR) is itself, unchanged."""
    if not settings.repositories:
        return (settings,)
    out = []
    for repo in settings.repositories:
        out.append(
            settings.with_(
                repo=repo.name,
                branch=repo.branch,
                ontology_id=repo.ontology_id or repo.key,
                git_dir=repo.git_dir,
                include=repo.include or settings.include,
                exclude=repo.exclude or settings.exclude,
                jsonld_contexts=repo.jsonld_contexts or settings.jsonld_contexts,
                prefixes=repo.prefixes or settings.prefixes,
                webhook_secret=repo.webhook_secret or settings.webhook_secret,
                repositories=(),
            )
        )
    return tuple(out)
