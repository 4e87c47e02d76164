"""Synthetic corpora shaped like the real ones, for benchmarks and load tests.

``visionflow_pages`` writes pages in the 2026-08 VisionFlow format (see the corpus
README: a Page json-ld block, one Class block with the v2 context, on ~45 % of pages a
link-resolution annotation, then a Logseq outline), with the real corpus's proportions:
median page ~6 KB with a long tail, 1-3 parents per class (83 % one), ~12 relation
targets per class, 13 % one-line Page blocks, a few classes under owl:Thing. Nothing is
copied from the corpus: text is generated from a small vocabulary.

``turtle_files`` writes plain Turtle ontologies of the same class count.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

V2_CONTEXT_URL = "https://narrativegoldmine.com/ns/v2.jsonld"
V2_CONTEXT_PATH = "static/ns/v2.jsonld"
DOMAINS = [
    "blockchain",
    "infrastructure",
    "spatial-computing",
    "artificial-intelligence",
    "robotics",
    "governance",
    "security",
    "machine-learning",
    "finance",
    "data",
]
MATURITY = ["established"] * 6 + ["emerging"] * 3 + ["mature"] * 2 + ["draft"]
RELATIONS = [
    "relatedTo",
    "enables",
    "requires",
    "uses",
    "bridgesTo",
    "supports",
    "hasPart",
    "contrastsWith",
    "partOf",
    "dependsOn",
    "implements",
    "standardizedBy",
]
WORDS = [
    "system",
    "network",
    "protocol",
    "model",
    "layer",
    "ledger",
    "agent",
    "robot",
    "sensor",
    "graph",
    "data",
    "consensus",
    "learning",
    "vision",
    "spatial",
    "secure",
    "token",
    "market",
    "governance",
    "policy",
    "interface",
    "runtime",
    "cache",
    "index",
    "stream",
    "signal",
    "control",
    "planning",
    "memory",
]

# A stand-in for the v2 context (ours, not the published one): enough terms for the
# Class blocks to expand to the triples the mapping reads.
V2_CONTEXT = {
    "@context": {
        "@version": 1.1,
        "owl": "http://www.w3.org/2002/07/owl#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "vc": "https://narrativegoldmine.com/ns/vc#",
        "Class": "owl:Class",
        "label": "rdfs:label",
        "definition": "skos:definition",
        "subClassOf": {"@id": "rdfs:subClassOf", "@type": "@id"},
        "sameAs": {"@id": "owl:sameAs", "@type": "@id"},
        "domain": "vc:domain",
        "maturity": "vc:maturity",
        "quality": "vc:quality",
        "qualityScore": "vc:qualityScore",
        "relations": "@nest",
        "provenance": "vc:provenance",
        **{name: {"@id": f"vc:{name}", "@type": "@id"} for name in RELATIONS},
    }
}


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _slug(i: int) -> str:
    return f"{WORDS[i % len(WORDS)]}-{WORDS[(i // len(WORDS)) % len(WORDS)]}-{i}"


def _title(i: int) -> str:
    return _slug(i).replace("-", " ").title()


def visionflow_page(rng: random.Random, i: int, n: int) -> str:
    slug, title = _slug(i), _title(i)
    if i < 5:
        parents = [("owl:Thing", "Thing")]
    else:
        count = rng.choices([1, 2, 3], weights=[83, 15, 2])[0]
        parents = [
            (f"urn:ngm:class:{_slug(p)}", _title(p))
            for p in sorted({rng.randrange(max(1, i)) for _ in range(count)})
        ]
    links = sorted({rng.randrange(n) for _ in range(rng.randint(2, 12))})
    page = {
        "@context": "https://narrativegoldmine.com/context/v1.jsonld",
        "@id": f"urn:visionflow:page:{slug}",
        "@type": "Page",
        "title": title,
        "vc:slug": slug,
        "vc:public": True,
        "vc:schemaVersion": 2,
        "vc:outboundWikilinks": [_title(t) for t in links],
    }
    relations: dict[str, list[dict[str, str]]] = {}
    for name in rng.sample(RELATIONS, rng.randint(2, 6)):
        relations[name] = [
            {"@id": f"urn:ngm:class:{_slug(t)}", "label": _title(t)}
            for t in sorted({rng.randrange(n) for _ in range(rng.randint(1, 4))})
        ]
    cls = {
        "@context": V2_CONTEXT_URL,
        "@id": f"urn:ngm:class:{slug}",
        "@type": "Class",
        "label": title,
        "definition": _sentence(rng, rng.randint(40, 90)),
        "domain": rng.choice(DOMAINS),
        "maturity": rng.choice(MATURITY),
        "subClassOf": [{"@id": p, "label": label} for p, label in parents],
        "relations": relations,
        "sameAs": [],
        "quality": round(rng.uniform(0.35, 0.95), 2),
        "provenance": {
            "attributedTo": "did:nostr:bench",
            "generatedAt": "2026-07-25T00:00:00Z",
            "inferenceRule": "GapMaterialisation",
        },
    }
    one_line = rng.random() < 0.13
    blocks = [
        json.dumps(page) if one_line else json.dumps(page, indent=2),
        json.dumps(cls, indent=2),
    ]
    if rng.random() < 0.45:
        blocks.append(
            json.dumps(
                {
                    "@context": "https://narrativegoldmine.com/context/v1.jsonld",
                    "@type": "vc:LinkResolutionsAnnotation",
                    "vc:appliesTo": f"urn:visionflow:page:{slug}",
                    "vc:resolutions": [
                        {
                            "raw": _title(t),
                            "resolved": f"urn:visionflow:linked:{_slug(t)}",
                            "kind": "page",
                        }
                        for t in links
                    ],
                },
                indent=2,
            )
        )
    out = ["public:: true", "", f"# {title}"]
    for block in blocks:
        out += ["```json-ld", block, "```", ""]
    out += [
        "- ### Definition",
        f"  - {cls['definition']}",
        "- ### Semantic Classification",
        f"  - owl-class:: ngm:{slug}",
        "- ### Relationships",
    ]
    out += [f"  - is-subclass-of:: [[{label}]]" for _, label in parents if label != "Thing"]
    out.append("- ### Content")
    # A long tail of page sizes: most pages short, a few very long.
    for _ in range(min(4000, int(rng.paretovariate(1.15) * 3))):
        target = _title(rng.randrange(n))
        out.append(f"  - {_sentence(rng, rng.randint(20, 60))} See [[{target}]].")
    return "\n".join(out) + "\n"


def visionflow_pages(n: int, seed: int = 2026) -> dict[str, str]:
    """``n`` pages plus the stand-in v2 context, as {path: text}."""
    rng = random.Random(seed)
    files = {f"pages/{_title(i)}.md": visionflow_page(rng, i, n) for i in range(n)}
    files[V2_CONTEXT_PATH] = json.dumps(V2_CONTEXT, indent=2)
    return files


def turtle_files(n: int, seed: int = 7) -> dict[str, str]:
    rng = random.Random(seed)
    head = (
        "@prefix ex: <https://example.org/bench/> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
    )
    files = {}
    for i in range(n):
        parent = f"ex:C{rng.randrange(i)}" if i else "owl:Thing"
        files[f"ontology/c{i // 100:03d}/C{i}.ttl"] = head + (
            f'ex:C{i} a owl:Class ; rdfs:label "{_title(i)}" ;\n'
            f'    rdfs:comment "{_sentence(rng, 50)}" ;\n    rdfs:subClassOf {parent} .\n'
        )
    return files


def write(files: dict[str, str], root: Path) -> None:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
