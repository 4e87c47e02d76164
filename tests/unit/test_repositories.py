"""Several repositories in one service: how they are named, checked and routed (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncer.config import Settings, each_repository, load_settings
from syncer.errors import ConfigError
from syncer.repositories import Repository, parse_config, parse_repos
from syncer.values import Secret
from syncer.webhook import IGNORED, QUEUED, REFUSED, Delivery, route

TOML = """
[[repository]]
name = "acme/ontology"
branch = "main"
ontology_id = "acme"
include = ["src/*.ttl"]
webhook_secret_env = "ACME_SECRET"

[[repository]]
name = "acme/kg"
git_dir = "/srv/kg"
"""


def test_syncer_repos_names_repositories_and_branches() -> None:
    assert parse_repos("acme/a, acme/b@release ,") == (
        Repository("acme/a"),
        Repository("acme/b", "release"),
    )
    for value, message in [
        ("acme", "SYNCER_REPOS: the repository must be owner/name, not 'acme'"),
        ("acme/a@", "SYNCER_REPOS: 'acme/a@' names no branch after @"),
        ("acme/a,ACME/A", "SYNCER_REPOS: acme/a is named twice"),
        (",", "SYNCER_REPOS: no repository named"),
    ]:
        with pytest.raises(ConfigError) as refused:
            parse_repos(value)
        assert str(refused.value) == message


def test_a_config_file_gives_each_repository_its_settings() -> None:
    found = parse_config(TOML, Path("r.toml"), {"ACME_SECRET": "s3"})
    assert found == (
        Repository(
            "acme/ontology",
            "main",
            "acme",
            include=("src/*.ttl",),
            webhook_secret=Secret("s3"),
        ),
        Repository("acme/kg", git_dir=Path("/srv/kg")),
    )
    base = Settings(workers=3, webhook_secret=Secret("shared"), repositories=found)
    one, two = each_repository(base)
    assert (one.repo, one.branch, one.ontology_id, one.include) == (
        "acme/ontology",
        "main",
        "acme",
        ("src/*.ttl",),
    )
    assert (one.webhook_secret, two.webhook_secret) == (Secret("s3"), Secret("shared"))
    assert (two.ontology_id, two.git_dir, two.include) == ("acme/kg", Path("/srv/kg"), base.include)
    assert one.workers == two.workers == 3 and one.repositories == two.repositories == ()
    single = Settings(repo="acme/x")
    assert each_repository(single) == (single,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[repository]]\nname = 'a/b'\ncolour = 'red'\n", "repository 1: unknown key 'colour'"),
        ("[[repository]]\nbranch = 'x'\n", "repository 1: no name (owner/name)"),
        (
            "[[repository]]\nname = 'a/b'\nwebhook_secret_env = 'NOPE'\n",
            "names NOPE, which is not set",
        ),
        ("[[repository]]\nname = 'a/b'\ninclude = 'x'\n", "include must be a list of strings"),
        (
            "[[repository]]\nname = 'a/b'\nontology_id = 'o'\n[[repository]]\nname = 'a/c'\n"
            "ontology_id = 'o'\n",
            "two repositories write under ontology_id 'o'",
        ),
        ("[other]\n", "unknown table 'other'"),
        ("name = [", "is not valid TOML"),
    ],
)
def test_a_wrong_config_file_is_named_at_start(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(text, Path("r.toml"), {})
    assert str(refused.value).startswith("SYNCER_CONFIG: r.toml")
    assert message in str(refused.value)


def test_one_kind_of_repository_setting_at_a_time(tmp_path: Path) -> None:
    config = tmp_path / "r.toml"
    config.write_text(TOML)
    env = {"SYNCER_CONFIG": str(config), "ACME_SECRET": "s"}
    assert [r.name for r in load_settings(env, env_file=None).repositories] == [
        "acme/ontology",
        "acme/kg",
    ]
    for extra, message in [
        ({"SYNCER_REPO": "a/b"}, "SYNCER_REPO / SYNCER_GIT_DIR name one repository"),
        ({"SYNCER_REPOS": "a/b"}, "SYNCER_REPOS and SYNCER_CONFIG both name repositories"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load_settings({**env, **extra}, env_file=None)
    with pytest.raises(ConfigError, match="SYNCER_CONFIG: cannot read"):
        load_settings({"SYNCER_CONFIG": str(tmp_path / "none.toml")}, env_file=None)


def push(repo: str | None, branch: str) -> Delivery:
    return Delivery(
        id="d",
        event="push",
        repository=repo,
        ref=f"refs/heads/{branch}",
        after="1" * 40,
        default_branch="main",
        deleted=False,
    )


def test_deliveries_go_to_the_repository_and_branch_they_name() -> None:
    followed = [("acme/a", None), ("acme/b", "main"), ("acme/b", "release")]
    assert route(push("acme/a", "main"), followed)[0] == 0
    assert route(push("ACME/B", "release"), followed)[0] == 2
    index, decision = route(push("acme/b", "dev"), followed)
    assert (index, decision.outcome) == (1, IGNORED)
    assert decision.reason == "push to refs/heads/dev, following refs/heads/main"
    index, decision = route(push("acme/zzz", "main"), followed)
    assert (index, decision.outcome, decision.status_code) == (None, IGNORED, 202)
    assert decision.reason == "repository acme/zzz is not followed here"
    # One repository: as before, another repository is refused (403), and a push queued.
    assert route(push("acme/zzz", "main"), [("acme/a", None)])[1].outcome == REFUSED
    assert route(push("acme/a", "main"), [("acme/a", None)])[1].outcome == QUEUED
