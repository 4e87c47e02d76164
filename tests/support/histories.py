"""Random commit histories of small Turtle ontologies, for invariant tests.

Each step applies one kind of change a real repository sees: add, modify, delete and
rename files, declare a class in one file and use it as a parent in another, declare
the same class twice with different labels, move a declaration, break a file and mend it;
and what the closure reads (entailed_edge): existential restrictions (blank nodes),
individuals, sub-properties, each possibly across files.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

NAMES = [f"C{i}" for i in range(18)]
PREFIX = (
    "@prefix ex: <https://example.org/h/> .\n"
    "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
    "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
)


@dataclass
class FileModel:
    classes: dict[str, tuple[str | None, list[str]]] = field(default_factory=dict)
    properties: list[str] = field(default_factory=list)
    equivalents: list[tuple[str, str]] = field(default_factory=list)
    restrictions: list[tuple[str, str, str]] = field(default_factory=list)  # C, p, filler
    individuals: list[tuple[str, str]] = field(default_factory=list)  # individual, class
    subproperties: list[tuple[str, str]] = field(default_factory=list)
    broken: bool = False

    def render(self) -> str:
        lines = [PREFIX]
        for name, (label, parents) in sorted(self.classes.items()):
            parts = [f"ex:{name} a owl:Class"]
            if label:
                parts.append(f'rdfs:label "{label}"')
            for parent in parents:
                parts.append(f"rdfs:subClassOf ex:{parent}")
            lines.append(" ;\n    ".join(parts) + " .")
        for prop in self.properties:
            lines.append(f'ex:{prop} a owl:ObjectProperty ; rdfs:label "{prop}" .')
        for a, b in self.equivalents:
            lines.append(f"ex:{a} owl:equivalentClass ex:{b} .")
        for c, p, f in self.restrictions:
            lines.append(
                f"ex:{c} rdfs:subClassOf [ a owl:Restriction ; owl:onProperty ex:{p} ;"
                f" owl:someValuesFrom ex:{f} ] ."
            )
        for i, c in self.individuals:
            lines.append(f"ex:{i} a owl:NamedIndividual , ex:{c} .")
        for a, b in self.subproperties:
            lines.append(f"ex:{a} rdfs:subPropertyOf ex:{b} .")
        if self.broken:
            lines.append("ex:oops ex:is <<< not turtle")
        return "\n".join(lines) + "\n"


class History:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.files: dict[str, FileModel] = {}
        self._next_file = 0

    def _new_path(self) -> str:
        self._next_file += 1
        folder = self.rng.choice(["", "core/", "ext/deep/"])
        return f"{folder}f{self._next_file}.ttl"

    def _random_class(self) -> tuple[str, tuple[str | None, list[str]]]:
        name = self.rng.choice(NAMES)
        label = self.rng.choice([None, f"{name} label", f"{name} other"])
        parents = self.rng.sample([n for n in NAMES if n != name], self.rng.randint(0, 2))
        return name, (label, parents)

    def step(self) -> dict[str, str | None]:
        """Mutate the model; return {path: new content or None for deleted} to commit."""
        rng = self.rng
        ops = [
            "add",
            "add",
            "modify",
            "modify",
            "modify",
            "delete",
            "rename",
            "move",
            "break",
            "property",
            "closure",
        ]
        if not self.files:
            ops = ["add"]
        op = rng.choice(ops)
        changes: dict[str, str | None] = {}
        if op == "add":
            model = FileModel(dict(self._random_class() for _ in range(rng.randint(1, 3))))
            path = self._new_path()
            self.files[path] = model
            changes[path] = model.render()
        elif op == "modify":
            path = rng.choice(sorted(self.files))
            model = self.files[path]
            name, value = self._random_class()
            if model.classes and rng.random() < 0.4:
                del model.classes[rng.choice(sorted(model.classes))]
            model.classes[name] = value
            model.broken = False
            changes[path] = model.render()
        elif op == "delete":
            path = rng.choice(sorted(self.files))
            del self.files[path]
            changes[path] = None
        elif op == "rename":
            path = rng.choice(sorted(self.files))
            model = self.files.pop(path)
            new = self._new_path()
            self.files[new] = model
            changes[path] = None
            changes[new] = model.render()
        elif op == "move" and len(self.files) >= 2:
            a, b = rng.sample(sorted(self.files), 2)
            if self.files[a].classes:
                name = rng.choice(sorted(self.files[a].classes))
                self.files[b].classes[name] = self.files[a].classes.pop(name)
                changes[a] = self.files[a].render()
                changes[b] = self.files[b].render()
        elif op == "break":
            path = rng.choice(sorted(self.files))
            self.files[path].broken = not self.files[path].broken
            changes[path] = self.files[path].render()
        elif op == "property":
            path = rng.choice(sorted(self.files))
            model = self.files[path]
            model.properties = sorted(set(model.properties) | {rng.choice(["uses", "partOf"])})
            model.equivalents.append(tuple(rng.sample(NAMES, 2)))  # type: ignore[arg-type]
            changes[path] = model.render()
        elif op == "closure":
            path = rng.choice(sorted(self.files))
            model = self.files[path]
            kind = rng.choice(["restriction", "individual", "subproperty", "clear"])
            if kind == "restriction":
                c, f = rng.sample(NAMES, 2)
                model.restrictions.append((c, rng.choice(["partOf", "uses"]), f))
            elif kind == "individual":
                model.individuals.append((f"i{rng.randint(0, 5)}", rng.choice(NAMES)))
            elif kind == "subproperty":
                model.subproperties.append(tuple(rng.sample(["partOf", "uses", "overlaps"], 2)))  # type: ignore[arg-type]
            else:
                model.restrictions, model.individuals, model.subproperties = [], [], []
            changes[path] = model.render()
        return changes
