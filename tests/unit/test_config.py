from __future__ import annotations

from pathlib import Path

import pytest

from syncer.config import DEFAULT_INCLUDE, load_settings
from syncer.errors import ConfigError
from syncer.values import ContextSource, Secret


def test_defaults() -> None:
    s = load_settings({}, env_file=None)
    assert s.db_path == Path("syncer.db")
    assert s.github_api_url == "https://api.github.com"
    assert s.reconcile_cron == "0 3 * * *"
    assert s.include == DEFAULT_INCLUDE
    assert s.webhook_secret is None and s.repo is None and s.git_dir is None
    assert s.workers >= 2


def test_environment_wins_over_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# comment\nSYNCER_DB=from-file.db\nexport SYNCER_REPO='acme/onto'\n"
        'SYNCER_WEBHOOK_SECRET="s3cret"\nOTHER=ignored\n'
    )
    s = load_settings({"SYNCER_DB": "from-env.db"}, env_file=env_file)
    assert s.db_path == Path("from-env.db")
    assert s.repo == "acme/onto"
    assert s.webhook_secret == Secret("s3cret")


def test_secrets_never_show_in_repr() -> None:
    s = load_settings(
        {
            "SYNCER_GITHUB_TOKEN": "ghp_topsecret",
            "SYNCER_WEBHOOK_SECRET": "hush",
            "SYNCER_SECRET_KEY": "k3y",
        },
        env_file=None,
    )
    text = repr(s) + str(s)
    assert "ghp_topsecret" not in text and "hush" not in text and "k3y" not in text
    assert s.github_token is not None and s.github_token.reveal() == "ghp_topsecret"


def test_lists_contexts_and_prefixes() -> None:
    s = load_settings(
        {
            "SYNCER_INCLUDE": "pages/*.md, *.ttl",
            "SYNCER_EXCLUDE": "drafts/**",
            "SYNCER_JSONLD_CONTEXTS": "https://x.org/ns/v2.jsonld=repo:static/ns/v2.jsonld,"
            "https://x.org/c=file:/etc/ctx.json",
            "SYNCER_PREFIXES": "bc=https://x.org/bc#",
            "SYNCER_WORKERS": "3",
        },
        env_file=None,
    )
    assert s.include == ("pages/*.md", "*.ttl")
    assert s.exclude == ("drafts/**",)
    assert s.jsonld_contexts == (
        ContextSource("https://x.org/ns/v2.jsonld", "repo", "static/ns/v2.jsonld"),
        ContextSource("https://x.org/c", "file", "/etc/ctx.json"),
    )
    assert s.prefixes == (("bc", "https://x.org/bc#"),)
    assert s.workers == 3


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SYNCER_REPO": "just-a-name"}, "owner/name"),
        ({"SYNCER_WORKERS": "many"}, "whole number"),
        ({"SYNCER_WORKERS": "0"}, "at least 1"),
        ({"SYNCER_JSONLD_CONTEXTS": "https://x.org/c=http:/elsewhere"}, "URL=repo:PATH"),
        ({"SYNCER_PREFIXES": "nope"}, "PREFIX=IRI"),
    ],
)
def test_bad_values_are_clear_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env, env_file=None)


def test_github_timeout_reaches_the_client() -> None:
    from syncer.sources import build_source
    from syncer.sources.github import GitHubSource

    s = load_settings({"SYNCER_REPO": "acme/onto", "SYNCER_GITHUB_TIMEOUT": "45"}, env_file=None)
    assert s.github_timeout == 45
    source = build_source(s)
    assert isinstance(source, GitHubSource)
    timeout = source._api._client.timeout
    assert (timeout.read, timeout.connect) == (45.0, 10.0)
    assert load_settings({}, env_file=None).github_timeout == 30


def test_settings_help_docs_table_and_loader_name_the_same_settings() -> None:
    """``syncer --help``, docs/configuration.md and load_settings must not drift apart."""
    import inspect
    import re

    from syncer.config import SETTINGS_HELP, _several, load_settings
    from tests.support.paths import ROOT

    code = inspect.getsource(load_settings) + inspect.getsource(_several)
    read = set(re.findall(r'"(SYNCER_[A-Z_]+)"', code))
    helped = [s.name for s in SETTINGS_HELP]
    table = re.findall(
        r"^\| `(SYNCER_[A-Z_]+)` \|", (ROOT / "docs" / "configuration.md").read_text(), re.M
    )
    assert len(helped) == len(set(helped))
    assert set(helped) == read
    assert table == helped  # the same order too: the docs read like the --help
