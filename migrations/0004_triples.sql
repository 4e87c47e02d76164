-- The triple layer (docs/triples.md): every triple of every synced file, in the layout of
-- INCATools' semantic-sql, so that the Ontology Access Kit and semantic-sql queries read
-- this database as it is; plus individuals, definitions and the property types issue 12
-- asked for. Files are parsed again after this migration (PARSER_VERSION 3), which fills
-- these tables.

CREATE TABLE prefix (
    prefix TEXT PRIMARY KEY,
    base   TEXT NOT NULL
);
-- What `prefix` was built from (configured prefixes, prefixmaps' version...): a run
-- whose inputs are the same need not build the map to know it is unchanged.
CREATE TABLE prefix_source (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL
);

-- One row per distinct triple of the union of all synced files. semantic-sql's columns;
-- `id` (last, so the semantic-sql columns keep their places) is what statement_sources
-- points at. IRIs are CURIEs by `prefix` (or <IRI>), literals are in `value`, blank
-- nodes are _:LABEL, unique to the file that states them.
CREATE TABLE statements (
    stanza    TEXT,
    subject   TEXT,
    predicate TEXT,
    object    TEXT,
    value     TEXT,
    datatype  TEXT,
    language  TEXT,
    graph     TEXT,
    id        INTEGER PRIMARY KEY
);
-- semantic-sql's indexes (indexes/all-indexes.sql), and objects for the way back up.
CREATE INDEX statements_spo ON statements (subject, predicate, object);
CREATE INDEX statements_spv ON statements (subject, predicate, value);
CREATE INDEX statements_p ON statements (predicate);
CREATE INDEX statements_o ON statements (object) WHERE object IS NOT NULL;

-- Which file asserted which triple. A triple leaves `statements` with its last source.
CREATE TABLE statement_sources (
    ontology_id  TEXT NOT NULL,
    path         TEXT NOT NULL,
    statement_id INTEGER NOT NULL REFERENCES statements (id),
    PRIMARY KEY (ontology_id, path, statement_id)
) WITHOUT ROWID;
CREATE INDEX statement_sources_statement ON statement_sources (statement_id);

CREATE VIEW statement_files AS
SELECT s.stanza, s.subject, s.predicate, s.object, s.value, s.datatype, s.language, s.graph,
       f.ontology_id, f.path
  FROM statement_sources f JOIN statements s ON s.id = f.statement_id;

-- The closure (syncer/closure.py): reflexive-transitive rdfs:subClassOf and
-- rdfs:subPropertyOf, rdf:type lifted, existential restrictions lifted on both sides.
CREATE TABLE entailed_edge (
    subject   TEXT NOT NULL,
    predicate TEXT NOT NULL,
    object    TEXT NOT NULL,
    PRIMARY KEY (subject, predicate, object)
) WITHOUT ROWID;
CREATE INDEX entailed_edge_object ON entailed_edge (object, predicate);
-- By predicate only for the relations of lifted restrictions: the three below make up
-- most rows and are never looked up by predicate (closure.dependents), and a full
-- index cost as much space as the table (FIBO: 30 MB).
CREATE INDEX entailed_edge_relation ON entailed_edge (predicate, subject)
    WHERE predicate NOT IN ('rdfs:subClassOf', 'rdf:type', 'rdfs:subPropertyOf');

-- Nodes whose closure is out of date: batches note them in the transaction that changes
-- their triples; the end of the run brings their entailed_edge rows up to date once and
-- empties this table (closure.catch_up). A crash leaves them here for the next run.
CREATE TABLE closure_pending (
    node    TEXT PRIMARY KEY,
    expand  INTEGER NOT NULL  -- 1: the node and what depends on it; 0: the node alone
) WITHOUT ROWID;

-- The VisionFlow tables, projected right (issue 12).
ALTER TABLE owl_classes ADD COLUMN definition TEXT;
ALTER TABLE contrib_classes ADD COLUMN definition TEXT;

CREATE TABLE owl_properties_v2 (
    ontology_id   TEXT NOT NULL,
    property_iri  TEXT NOT NULL,
    label         TEXT,
    property_type TEXT NOT NULL
        CHECK (property_type IN ('ObjectProperty', 'DataProperty', 'AnnotationProperty',
                                 'OntologyProperty', 'Property')),
    domain        TEXT,
    range         TEXT,
    source_path   TEXT,
    last_synced   TEXT,
    PRIMARY KEY (ontology_id, property_iri)
) WITHOUT ROWID;
INSERT INTO owl_properties_v2 SELECT ontology_id, property_iri, label, property_type, domain,
       range, source_path, last_synced FROM owl_properties;
DROP TABLE owl_properties;
ALTER TABLE owl_properties_v2 RENAME TO owl_properties;

CREATE TABLE owl_individuals (
    ontology_id    TEXT NOT NULL,
    individual_iri TEXT NOT NULL,
    class_iri      TEXT NOT NULL,     -- owl:Thing when the individual names no class
    label          TEXT,
    source_path    TEXT,
    last_synced    TEXT,
    PRIMARY KEY (ontology_id, individual_iri, class_iri)
) WITHOUT ROWID;

CREATE TABLE contrib_individuals (
    ontology_id    TEXT NOT NULL,
    path           TEXT NOT NULL,
    individual_iri TEXT NOT NULL,
    class_iri      TEXT NOT NULL,
    label          TEXT,
    PRIMARY KEY (ontology_id, path, individual_iri, class_iri)
) WITHOUT ROWID;
CREATE INDEX contrib_individuals_key
    ON contrib_individuals (ontology_id, individual_iri, class_iri, path);

-- semantic-sql's views, the ones the Ontology Access Kit's sqlite adapter and its
-- statistics read (written for this schema from semantic-sql's LinkML definitions).
CREATE VIEW rdf_type_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'rdf:type';
CREATE VIEW rdfs_subclass_of_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'rdfs:subClassOf';
CREATE VIEW rdfs_subclass_of_named_statement AS
SELECT * FROM rdfs_subclass_of_statement WHERE object NOT GLOB '_:*';
CREATE VIEW rdfs_subproperty_of_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'rdfs:subPropertyOf';
CREATE VIEW rdfs_label_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'rdfs:label';
CREATE VIEW rdfs_domain_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'rdfs:domain';
CREATE VIEW rdfs_range_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'rdfs:range';
CREATE VIEW rdf_first_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'rdf:first';
CREATE VIEW rdf_rest_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'rdf:rest';
CREATE VIEW rdf_rest_transitive_statement AS
WITH RECURSIVE chain (subject, object) AS (
    SELECT subject, object FROM rdf_rest_statement
    UNION
    SELECT r.subject, c.object FROM rdf_rest_statement r JOIN chain c ON r.object = c.subject
)
SELECT NULL AS stanza, subject, 'rdf:rest' AS predicate, object, NULL AS value,
       NULL AS datatype, NULL AS language, NULL AS graph FROM chain;
CREATE VIEW rdf_list_member_statement AS
SELECT NULL AS stanza, t.subject, 'rdf:first' AS predicate, f.object, f.value, f.datatype,
       f.language, NULL AS graph
  FROM rdf_rest_transitive_statement t JOIN rdf_first_statement f ON t.object = f.subject
UNION
SELECT NULL, subject, 'rdf:first', object, value, datatype, language, NULL
  FROM rdf_first_statement;

CREATE VIEW node AS
SELECT DISTINCT subject AS id FROM statements
UNION SELECT DISTINCT object AS id FROM statements WHERE object IS NOT NULL;
CREATE VIEW node_identifier AS
SELECT id, substr(id, 1, instr(id, ':') - 1) AS prefix,
       substr(id, instr(id, ':') + 1) AS local_identifier
  FROM node;
CREATE VIEW blank_node AS SELECT id FROM node WHERE id GLOB '_:*';
CREATE VIEW iri_node AS SELECT id FROM node WHERE id NOT GLOB '_:*';
CREATE VIEW class_node AS
SELECT DISTINCT subject AS id FROM rdf_type_statement WHERE object = 'owl:Class';
CREATE VIEW property_node AS
SELECT DISTINCT subject AS id FROM rdf_type_statement
 WHERE object IN ('owl:ObjectProperty', 'owl:DatatypeProperty', 'owl:AnnotationProperty',
                  'rdf:Property');
CREATE VIEW named_individual_node AS
SELECT DISTINCT subject AS id FROM rdf_type_statement WHERE object = 'owl:NamedIndividual';
CREATE VIEW ontology_node AS
SELECT DISTINCT subject AS id FROM rdf_type_statement WHERE object = 'owl:Ontology';
CREATE VIEW object_property_node AS
SELECT DISTINCT subject AS id FROM rdf_type_statement WHERE object = 'owl:ObjectProperty';
CREATE VIEW transitive_property_node AS
SELECT DISTINCT subject AS id FROM rdf_type_statement WHERE object = 'owl:TransitiveProperty';
CREATE VIEW symmetric_property_node AS
SELECT DISTINCT subject AS id FROM rdf_type_statement WHERE object = 'owl:SymmetricProperty';
CREATE VIEW annotation_property_node AS
SELECT DISTINCT subject AS id FROM rdf_type_statement WHERE object = 'owl:AnnotationProperty';
CREATE VIEW deprecated_node AS
SELECT DISTINCT subject AS id FROM statements
 WHERE predicate = 'owl:deprecated' AND value = 'true';

CREATE VIEW owl_imports_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'owl:imports';
CREATE VIEW owl_inverse_of_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'owl:inverseOf';
CREATE VIEW owl_complement_of_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'owl:complementOf';
CREATE VIEW owl_equivalent_class_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'owl:equivalentClass';
CREATE VIEW owl_same_as_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'owl:sameAs';
CREATE VIEW owl_disjoint_class_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'owl:disjointWith';

-- OWL's reified axioms (owl:Axiom with annotatedSource/Property/Target) and their
-- annotations: how OBO ontologies attach xrefs and sources to a definition or synonym.
CREATE VIEW owl_reified_axiom AS
SELECT src.subject AS id, src.stanza AS stanza, src.object AS subject, prop.object AS predicate,
       tgt.object AS object, tgt.value AS value, tgt.datatype AS datatype,
       tgt.language AS language
  FROM statements src
  JOIN statements prop ON prop.subject = src.subject AND prop.predicate = 'owl:annotatedProperty'
  JOIN statements tgt ON tgt.subject = src.subject AND tgt.predicate = 'owl:annotatedTarget'
 WHERE src.predicate = 'owl:annotatedSource';
CREATE VIEW owl_axiom AS
SELECT id, stanza, subject, predicate, object, value, datatype, language FROM owl_reified_axiom
UNION
SELECT NULL, stanza, subject, predicate, object, value, datatype, language FROM statements;
CREATE VIEW owl_axiom_annotation AS
SELECT ann.stanza AS stanza, ax.subject AS subject, ax.predicate AS predicate,
       ax.object AS object, ax.value AS value, ax.datatype AS datatype,
       ax.language AS language, ax.id AS id, ann.subject AS annotation_subject,
       ann.predicate AS annotation_predicate, ann.object AS annotation_object,
       ann.value AS annotation_value, ann.language AS annotation_language,
       ann.datatype AS annotation_datatype
  FROM owl_reified_axiom ax
  JOIN statements ann ON ann.subject = ax.id
 WHERE ann.predicate NOT IN ('owl:annotatedSource', 'owl:annotatedProperty',
                             'owl:annotatedTarget', 'rdf:type');

CREATE VIEW owl_some_values_from AS
SELECT p.subject AS id, p.object AS on_property, f.object AS filler
  FROM statements p JOIN statements f ON f.subject = p.subject
 WHERE p.predicate = 'owl:onProperty' AND f.predicate = 'owl:someValuesFrom';
CREATE VIEW owl_all_values_from AS
SELECT p.subject AS id, p.object AS on_property, f.object AS filler
  FROM statements p JOIN statements f ON f.subject = p.subject
 WHERE p.predicate = 'owl:onProperty' AND f.predicate = 'owl:allValuesFrom';
CREATE VIEW owl_has_value AS
SELECT p.subject AS id, p.object AS on_property, f.object AS filler
  FROM statements p JOIN statements f ON f.subject = p.subject
 WHERE p.predicate = 'owl:onProperty' AND f.predicate = 'owl:hasValue';
CREATE VIEW owl_has_self AS
SELECT p.subject AS id, p.object AS on_property, f.object AS filler
  FROM statements p JOIN statements f ON f.subject = p.subject
 WHERE p.predicate = 'owl:onProperty' AND f.predicate = 'owl:hasSelf' AND f.value = 'true';
CREATE VIEW owl_subclass_of_some_values_from AS
SELECT sc.stanza AS stanza, sc.subject AS subject, svf.on_property AS predicate,
       svf.filler AS object
  FROM statements sc JOIN owl_some_values_from svf ON svf.id = sc.object
 WHERE sc.predicate = 'rdfs:subClassOf';

CREATE VIEW has_text_definition_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'IAO:0000115';
CREATE VIEW has_exact_synonym_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'oio:hasExactSynonym';
CREATE VIEW has_broad_synonym_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'oio:hasBroadSynonym';
CREATE VIEW has_narrow_synonym_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'oio:hasNarrowSynonym';
CREATE VIEW has_related_synonym_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'oio:hasRelatedSynonym';
CREATE VIEW has_synonym_statement AS
SELECT * FROM has_exact_synonym_statement UNION SELECT * FROM has_broad_synonym_statement
UNION SELECT * FROM has_narrow_synonym_statement
UNION SELECT * FROM has_related_synonym_statement;
CREATE VIEW has_dbxref_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'oio:hasDbXref';
CREATE VIEW has_exact_match_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'skos:exactMatch';
CREATE VIEW has_broad_match_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'skos:broadMatch';
CREATE VIEW has_narrow_match_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'skos:narrowMatch';
CREATE VIEW has_related_match_statement AS
SELECT stanza, subject, predicate, object, value, datatype, language, graph
  FROM statements WHERE predicate = 'skos:relatedMatch';
CREATE VIEW has_match_statement AS
SELECT * FROM has_exact_match_statement UNION SELECT * FROM has_broad_match_statement
UNION SELECT * FROM has_narrow_match_statement UNION SELECT * FROM has_related_match_statement;
CREATE VIEW has_mapping_statement AS
SELECT * FROM has_match_statement UNION SELECT * FROM has_dbxref_statement;

-- The direct edges the closure is built from (semantic-sql's relation_graph `edge`).
CREATE VIEW edge AS
SELECT subject, predicate, object FROM owl_subclass_of_some_values_from
 WHERE object NOT GLOB '_:*' AND predicate NOT GLOB '_:*'
UNION
SELECT subject, predicate, object FROM rdfs_subclass_of_named_statement
 WHERE subject NOT GLOB '_:*'
UNION
SELECT subject, predicate, object FROM rdfs_subproperty_of_statement
 WHERE subject NOT GLOB '_:*' AND object NOT GLOB '_:*'
UNION
SELECT subject, predicate, object FROM rdf_type_statement
 WHERE subject NOT GLOB '_:*' AND object IN (SELECT id FROM class_node);
CREATE VIEW entailed_subclass_of_edge AS
SELECT subject, predicate, object FROM entailed_edge WHERE predicate = 'rdfs:subClassOf';
CREATE VIEW entailed_type_edge AS
SELECT subject, predicate, object FROM entailed_edge WHERE predicate = 'rdf:type';

-- Associations (OAK's term_association); syncer writes none, OAK may.
CREATE TABLE term_association (
    id                      TEXT,
    subject                 TEXT,
    predicate               TEXT,
    object                  TEXT,
    evidence_type           TEXT,
    publication             TEXT,
    source                  TEXT
);

-- Summary statistics (semantic-sql's rdf.yaml).
CREATE VIEW count_of_predicates AS
SELECT predicate AS element, count(*) AS count_value FROM statements GROUP BY predicate;
CREATE VIEW count_of_instantiated_classes AS
SELECT object AS element, count(*) AS count_value FROM rdf_type_statement GROUP BY object;
CREATE VIEW count_of_subclasses AS
SELECT object AS element, count(DISTINCT subject) AS count_value
  FROM rdfs_subclass_of_statement GROUP BY object;
