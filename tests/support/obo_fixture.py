"""A small OBO-style ontology written for the tests, in the shapes OBO ontologies ship:
OBO PURLs, IAO:0000115 text definitions, oboInOwl synonyms, existential restrictions
(part of some), a sub-property, a named individual, an ontology header with owl:imports,
a reified axiom annotation; split over Turtle and RDF/XML files (DTD entities included).
Ours, modelled on what public OBO ontologies look like; no third-party file copied."""

from __future__ import annotations

OBO = "http://purl.obolibrary.org/obo/"
TST = OBO + "TST_"
PREFIXES = (("TST", TST),)

CORE_TTL = f"""@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix oio: <http://www.geneontology.org/formats/oboInOwl#> .
@prefix obo: <{OBO}> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<{OBO}tst.owl> a owl:Ontology ;
    owl:imports <{OBO}ro.owl> ;
    owl:versionInfo "2026-11-30" .

obo:TST_0000001 a owl:Class ;
    rdfs:label "anatomical entity"@en ;
    obo:IAO_0000115 "A part of an organism." .

obo:TST_0000002 a owl:Class ;
    rdfs:label "organ"@en ;
    rdfs:subClassOf obo:TST_0000001 ;
    obo:IAO_0000115 "A structure made of tissues that does one job." ;
    oio:hasExactSynonym "viscus" .

[] a owl:Axiom ;
    owl:annotatedSource obo:TST_0000002 ;
    owl:annotatedProperty obo:IAO_0000115 ;
    owl:annotatedTarget "A structure made of tissues that does one job." ;
    oio:hasDbXref "PMID:123" .

obo:TST_0000004 a owl:Class ;
    rdfs:label "cardiovascular system"@en ;
    rdfs:subClassOf obo:TST_0000001 .

obo:TST_0000006 a owl:Class ;
    rdfs:label "obsolete organ"@en ;
    owl:deprecated "true"^^xsd:boolean .
"""

HEART_OWL = f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
    <!ENTITY obo "{OBO}" >
    <!ENTITY tst "&obo;TST_" >
    <!ENTITY owl "http://www.w3.org/2002/07/owl#" >
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#"
         xmlns:owl="&owl;" xmlns:obo="&obo;">
  <owl:Class rdf:about="&tst;0000003">
    <rdfs:label xml:lang="en">heart</rdfs:label>
    <obo:IAO_0000115>A muscular organ that pumps blood.</obo:IAO_0000115>
    <rdfs:subClassOf rdf:resource="&tst;0000002"/>
    <rdfs:subClassOf>
      <owl:Restriction>
        <owl:onProperty rdf:resource="&obo;BFO_0000050"/>
        <owl:someValuesFrom rdf:resource="&tst;0000004"/>
      </owl:Restriction>
    </rdfs:subClassOf>
  </owl:Class>
</rdf:RDF>
"""

PROPERTIES_TTL = f"""@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix obo: <{OBO}> .

obo:BFO_0000050 a owl:ObjectProperty , owl:TransitiveProperty ;
    rdfs:label "part of"@en ;
    rdfs:subPropertyOf obo:RO_0002131 .
obo:RO_0002131 a owl:ObjectProperty ; rdfs:label "overlaps"@en .
"""

INDIVIDUALS_TTL = f"""@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix obo: <{OBO}> .

obo:TST_0000005 a owl:NamedIndividual , obo:TST_0000003 ;
    rdfs:label "the heart of specimen 5" .
"""

FILES = {
    "src/ontology/core.ttl": CORE_TTL,
    "src/ontology/heart.owl": HEART_OWL,
    "src/ontology/properties.ttl": PROPERTIES_TTL,
    "data/individuals.ttl": INDIVIDUALS_TTL,
}
