"""The Ontology Access Kit reads a synced database as it is (issue 12): its sqlite
adapter over our statements, entailed_edge and views, on the OBO-style fixture; and the
`runoak` command a user types. oaklib is in the test extra (README: install time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from syncer_dev.gitrepo import GitRepo
from tests.support.obo_fixture import FILES, PREFIXES
from tests.support.runs import run_sync, settings_for


def adapter(db: Path) -> Any:
    """OAK's sqlite adapter on ``db``. Imported here, not at the top: oaklib takes ~5 s to
    import, which every test collection (the quick loop too) would otherwise pay."""
    from oaklib import get_adapter

    return get_adapter(f"sqlite:{db}")


# Slow together (seconds to minutes): left out of the quick loop, pytest -m "not slow".
pytestmark = pytest.mark.slow

PART_OF = "BFO:0000050"


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("oak")
    repo = GitRepo.init(root / "repo")
    repo.commit_files(FILES)
    db = root / "syncer.db"
    from syncer.storage.migrate import migrate

    migrate(db, make_backup=False)
    assert run_sync(settings_for(repo, db, prefixes=PREFIXES)).status == "done"
    return db


def test_labels_definitions_and_search(synced: Path) -> None:
    oak = adapter(synced)
    assert oak.label("TST:0000003") == "heart"
    assert oak.definition("TST:0000003") == "A muscular organ that pumps blood."
    assert list(oak.basic_search("heart")) == ["TST:0000003"]
    assert {"TST:0000001", "TST:0000006"} <= set(oak.entities(filter_obsoletes=False))
    assert list(oak.obsoletes()) == ["TST:0000006"]
    assert sorted(oak.entity_alias_map("TST:0000002")["oio:hasExactSynonym"]) == ["viscus"]


def test_ancestors_and_descendants_come_from_entailed_edge(synced: Path) -> None:
    oak = adapter(synced)
    # Sets: OAK yields the start node itself and entailed_edge holds the reflexive edge
    # too (semantic-sql's relation-graph writes them), so it can come twice.
    assert sorted(set(oak.ancestors("TST:0000003", predicates=["rdfs:subClassOf"]))) == [
        "TST:0000001",
        "TST:0000002",
        "TST:0000003",
    ]
    assert sorted(set(oak.ancestors("TST:0000003", predicates=["rdfs:subClassOf", PART_OF]))) == [
        "TST:0000001",
        "TST:0000002",
        "TST:0000003",
        "TST:0000004",
    ]
    assert sorted(set(oak.descendants("TST:0000001", predicates=["rdfs:subClassOf"]))) == [
        "TST:0000001",
        "TST:0000002",
        "TST:0000003",
        "TST:0000004",
    ]
    assert sorted(oak.relationships(["TST:0000003"])) == [
        ("TST:0000003", PART_OF, "TST:0000004"),
        ("TST:0000003", "rdfs:subClassOf", "TST:0000002"),
    ]


def test_statistics(synced: Path) -> None:
    oak = adapter(synced)
    stats = oak.branch_summary_statistics()
    assert (
        stats.class_count,
        stats.deprecated_class_count,
        stats.class_count_with_text_definitions,
        stats.object_property_count,
        stats.named_individual_count,
        stats.rdf_triple_count,
        stats.subclass_of_axiom_count,
    ) == (5, 1, 3, 2, 1, 39, 4)


def test_runoak_on_the_command_line(synced: Path) -> None:
    runoak = Path(sys.executable).with_name("runoak")
    done = subprocess.run(
        [str(runoak), "-i", f"sqlite:{synced}", "ancestors", "-p", f"i,{PART_OF}", "TST:0000003"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "id\tlabel",
        "TST:0000001\tanatomical entity",
        "TST:0000002\torgan",
        "TST:0000003\theart",
        "TST:0000004\tcardiovascular system",
    ]
