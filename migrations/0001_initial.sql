-- The spec's tables (names fixed by SPEC.md), the per-file contributions they are
-- derived from, and the sync bookkeeping. Composite foreign keys with ON DELETE
-- CASCADE; every connection turns foreign keys on (db.connect).

CREATE TABLE source_files (
    ontology_id    TEXT NOT NULL,
    path           TEXT NOT NULL,
    blob_sha       TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'skipped')),
    error          TEXT,
    warnings       TEXT,              -- JSON array of strings, or NULL
    format         TEXT,
    parser_version INTEGER NOT NULL,
    size           INTEGER,
    context_deps   TEXT,              -- JSON array of [path, blob_sha], or NULL
    last_synced    TEXT NOT NULL,
    PRIMARY KEY (ontology_id, path)
) WITHOUT ROWID;
CREATE INDEX source_files_status ON source_files (ontology_id, status);

CREATE TABLE owl_classes (
    ontology_id TEXT NOT NULL,
    class_iri   TEXT NOT NULL,
    label       TEXT,
    comment     TEXT,
    file_sha1   TEXT,                 -- blob SHA of source_path
    last_synced TEXT,
    declared    INTEGER NOT NULL DEFAULT 1 CHECK (declared IN (0, 1)),
    source_path TEXT,                 -- first path (in byte order) that declares it
    created_at  TEXT,
    updated_at  TEXT,
    PRIMARY KEY (ontology_id, class_iri)
) WITHOUT ROWID;

CREATE TABLE owl_class_hierarchy (
    ontology_id TEXT NOT NULL,
    class_iri   TEXT NOT NULL,
    parent_iri  TEXT NOT NULL,
    PRIMARY KEY (ontology_id, class_iri, parent_iri),
    FOREIGN KEY (ontology_id, class_iri)
        REFERENCES owl_classes (ontology_id, class_iri) ON DELETE CASCADE,
    FOREIGN KEY (ontology_id, parent_iri)
        REFERENCES owl_classes (ontology_id, class_iri) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX owl_class_hierarchy_parent ON owl_class_hierarchy (ontology_id, parent_iri);

CREATE TABLE owl_properties (
    ontology_id   TEXT NOT NULL,
    property_iri  TEXT NOT NULL,
    label         TEXT,
    property_type TEXT NOT NULL
        CHECK (property_type IN ('ObjectProperty', 'DataProperty', 'AnnotationProperty')),
    domain        TEXT,
    range         TEXT,
    source_path   TEXT,
    last_synced   TEXT,
    PRIMARY KEY (ontology_id, property_iri)
) WITHOUT ROWID;

CREATE TABLE owl_axioms (
    id          TEXT PRIMARY KEY,     -- sha256 of (ontology_id, axiom_type, subject, object)
    ontology_id TEXT NOT NULL,
    axiom_type  TEXT NOT NULL CHECK (axiom_type IN ('SubClassOf', 'EquivalentClass',
                    'DisjointWith', 'ObjectPropertyAssertion', 'DataPropertyAssertion')),
    subject     TEXT NOT NULL,
    object      TEXT NOT NULL,
    annotations TEXT,
    source_path TEXT,
    last_synced TEXT,
    UNIQUE (ontology_id, axiom_type, subject, object)
);
CREATE INDEX owl_axioms_subject ON owl_axioms (ontology_id, subject);

CREATE TABLE kg_nodes (
    ontology_id TEXT NOT NULL,
    id          TEXT NOT NULL,        -- the normalized page name: stable, readable, no hash
    title       TEXT NOT NULL,
    path        TEXT,                 -- NULL when no synced page has this name
    aliases     TEXT,                 -- JSON array, or NULL
    public      INTEGER,
    present     INTEGER NOT NULL CHECK (present IN (0, 1)),
    class_iri   TEXT,
    last_synced TEXT,
    PRIMARY KEY (ontology_id, id)
) WITHOUT ROWID;

CREATE TABLE kg_edges (
    ontology_id TEXT NOT NULL,
    source_id   TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,        -- 'link' for prose, else the property holding the link
    PRIMARY KEY (ontology_id, source_id, target_id, kind),
    FOREIGN KEY (ontology_id, source_id) REFERENCES kg_nodes (ontology_id, id) ON DELETE CASCADE,
    FOREIGN KEY (ontology_id, target_id) REFERENCES kg_nodes (ontology_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX kg_edges_target ON kg_edges (ontology_id, target_id);

-- Contributions: what each file says. The tables above are derived from these.
CREATE TABLE contrib_classes (
    ontology_id TEXT NOT NULL,
    path        TEXT NOT NULL,
    class_iri   TEXT NOT NULL,
    label       TEXT,
    comment     TEXT,
    PRIMARY KEY (ontology_id, path, class_iri)
) WITHOUT ROWID;
CREATE INDEX contrib_classes_iri ON contrib_classes (ontology_id, class_iri, path);

CREATE TABLE contrib_edges (
    ontology_id TEXT NOT NULL,
    path        TEXT NOT NULL,
    child_iri   TEXT NOT NULL,
    parent_iri  TEXT NOT NULL,        -- the parent, or the fallback when parent_page resolves to none
    parent_page TEXT NOT NULL DEFAULT '',  -- page key to resolve; '' when the parent is an IRI
    PRIMARY KEY (ontology_id, path, child_iri, parent_iri, parent_page)
) WITHOUT ROWID;
CREATE INDEX contrib_edges_child ON contrib_edges (ontology_id, child_iri);
CREATE INDEX contrib_edges_page ON contrib_edges (ontology_id, parent_page);

CREATE TABLE contrib_properties (
    ontology_id   TEXT NOT NULL,
    path          TEXT NOT NULL,
    property_iri  TEXT NOT NULL,
    property_type TEXT NOT NULL,
    label         TEXT,
    domain        TEXT,
    range         TEXT,
    PRIMARY KEY (ontology_id, path, property_iri)
) WITHOUT ROWID;
CREATE INDEX contrib_properties_iri ON contrib_properties (ontology_id, property_iri, path);

CREATE TABLE contrib_axioms (
    ontology_id TEXT NOT NULL,
    path        TEXT NOT NULL,
    axiom_type  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    object      TEXT NOT NULL,
    annotations TEXT,
    PRIMARY KEY (ontology_id, path, axiom_type, subject, object)
) WITHOUT ROWID;
CREATE INDEX contrib_axioms_key ON contrib_axioms (ontology_id, axiom_type, subject, object, path);

CREATE TABLE contrib_pages (
    ontology_id   TEXT NOT NULL,
    path          TEXT NOT NULL,
    page_key      TEXT NOT NULL,
    title         TEXT NOT NULL,
    aliases       TEXT,
    public        INTEGER,
    primary_class TEXT,
    classes       TEXT,               -- JSON array of every class the page declares
    PRIMARY KEY (ontology_id, path)
) WITHOUT ROWID;
CREATE INDEX contrib_pages_key ON contrib_pages (ontology_id, page_key, path);

CREATE TABLE contrib_links (
    ontology_id  TEXT NOT NULL,
    path         TEXT NOT NULL,
    target_key   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    target_title TEXT NOT NULL,
    PRIMARY KEY (ontology_id, path, target_key, kind)
) WITHOUT ROWID;
CREATE INDEX contrib_links_target ON contrib_links (ontology_id, target_key);

-- Sync bookkeeping.
CREATE TABLE sync_state (
    ontology_id   TEXT PRIMARY KEY,
    source        TEXT,
    branch        TEXT,
    synced_commit TEXT,               -- the head the last complete run reached
    synced_at     TEXT
);

CREATE TABLE sync_runs (
    id            INTEGER PRIMARY KEY,
    ontology_id   TEXT NOT NULL,
    kind          TEXT NOT NULL,      -- sync, push, reconcile, resync
    force         INTEGER NOT NULL DEFAULT 0,
    status        TEXT NOT NULL,      -- running, done, failed, interrupted
    target_commit TEXT,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    planned       INTEGER NOT NULL DEFAULT 0,
    processed     INTEGER NOT NULL DEFAULT 0,
    failed        INTEGER NOT NULL DEFAULT 0,
    deleted       INTEGER NOT NULL DEFAULT 0,
    requests      INTEGER NOT NULL DEFAULT 0,
    error         TEXT
);

-- The plan of the current run: a task is deleted in the transaction that writes its
-- file, so what is left after a crash is exactly the unfinished work.
CREATE TABLE sync_tasks (
    ontology_id TEXT NOT NULL,
    path        TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('upsert', 'delete')),
    blob_sha    TEXT,
    size        INTEGER,
    commit_sha  TEXT,
    run_id      INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    PRIMARY KEY (ontology_id, path)
) WITHOUT ROWID;

-- JSON-LD context documents read from the repository, by blob SHA, so an unchanged
-- context is not fetched again.
CREATE TABLE context_cache (
    blob_sha TEXT PRIMARY KEY,
    content  BLOB NOT NULL
) WITHOUT ROWID;
