-- Deriving an owl_properties row reads, per property, the first contributing row in path
-- order and the first non-null label, domain and range. A property used by every page
-- (a relation name) has a row per page; with only (ontology_id, property_iri, path) to
-- go on, each write scanned all of them (quadratic over a full sync: 10,000 pages took
-- minutes). These partial indexes hold only the rows with a value, so each look-up is
-- one index seek (see derive._recompute_properties).
CREATE INDEX contrib_properties_label ON contrib_properties (ontology_id, property_iri, path, label)
    WHERE label IS NOT NULL;
CREATE INDEX contrib_properties_domain ON contrib_properties (ontology_id, property_iri, path, domain)
    WHERE domain IS NOT NULL;
CREATE INDEX contrib_properties_range ON contrib_properties (ontology_id, property_iri, path, range)
    WHERE range IS NOT NULL;
