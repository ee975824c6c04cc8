"""Description of the ``risk-matrix`` process (pygeoapi's PROCESS_METADATA): inputs, outputs,
texts in French and English. The schema of the ``indicators`` input is generated from the
rules file (:func:`.societal.input_schema`)."""
from __future__ import annotations

import logging

from processes.inputs import INSEE_RE

from . import core, societal

LOGGER = logging.getLogger(__name__)

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG2154 = "http://www.opengis.net/def/crs/EPSG/0/2154"
YEARS = [2022, 2023, 2024]
MATRICES = ("environmental", "societal")


def _rules_for_metadata() -> dict:
    try:
        return core.load_rules()
    except Exception:  # noqa: BLE001 - metadata must load even if the rules file is broken
        LOGGER.exception("risk-matrix: rules file unreadable")
        return {}


_RULES = _rules_for_metadata()
_INDICATORS = list((_RULES.get("societal") or {}).get("indicators") or {})

PROCESS_METADATA = {
    "version": "1.0.0",
    "access": {"execute": "public"},  # reads only (services/jobs/access.py)
    "id": "risk-matrix",
    "title": {
        "fr": "Matrice des risques territoriaux",
        "en": "Territorial risk matrix",
    },
    "description": {
        "fr": "Matrice exploratoire des risques d'une commune (code INSEE) ou d'une zone "
              "(polygone GeoJSON) de l'Artois : huit risques environnementaux (surchauffe "
              "urbaine, inondation, retrait-gonflement des argiles, risques industriels et "
              "miniers, bruit, culture du risque inondation, pollution des sols, qualité de "
              "l'air) calculés à partir des couches publiées, et (matrix=societal) les douze risques "
              "sociétaux nommés par la méthode de l'agence avec ses identifiants (R1 émeutes, R2 "
              "inadaptation au vieillissement de la population, R3 hausse de la pauvreté, R5 "
              "accès difficile aux soins, R6 décrochage scolaire, R7 accès difficile à la "
              "mobilité, R8 accès et usage difficiles du numérique, R9 manque de logements "
              "dignes et abordables, R11 accès difficile à l'emploi stable, R12 manque d'accès "
              "aux équipements culturels et sportifs, R14 enracinement d'activités illicites ou "
              "criminelles, R17 fermeture d'un grand employeur ; R4, R10, R13, R15 et R16 ne sont "
              "pas nommés par la source : réservés, jamais inventés), leurs indicateurs calculés "
              "par le serveur (population, quartiers prioritaires, équipements, arrêts et "
              "aménagements cyclables, zones d'activités, friches, indicateurs sociaux de "
              "démonstration) et remplaçables par les valeurs de l'appelant (indicators). Chaque "
              "risque reçoit "
              "une probabilité (Improbable à Très probable) et une gravité (Mineur à Catastrophique) "
              "selon des seuils du fichier de règles (rules.yaml), puis une criticité (modéré, "
              "critique, très critique) dans la grille, des actions préventives et curatives "
              "(actions.yaml) et une tendance (hausse, stable, baisse) quand un indicateur daté "
              "le permet. Sorties : risks (classes, indicateurs avec valeur, source et calculé "
              "ou non, actions, tendance) et svg (la grille). Les anciens identifiants S1..S7 "
              "restent acceptés une version (note de dépréciation dans details). "
              "Les aléas inondation, argiles, bruit, air et la surchauffe sont des données de "
              "démonstration modélisées : résultats illustratifs, seuils non réglementaires.",
        "en": "Exploratory risk matrix of an Artois municipality (INSEE code) or area (GeoJSON "
              "polygon): eight environmental risks (urban overheating, flooding, clay "
              "shrink-swell, industrial and mining risks, noise, flood-risk culture, soil "
              "contamination, air quality) computed from the published layers, and "
              "(matrix=societal) the twelve societal risks the agency's method names, with its "
              "ids (R1 riots, R2 unsuitability for an ageing population, R3 rising poverty, R5 "
              "difficult access to care, R6 early school leaving, R7 difficult access to "
              "mobility, R8 difficult access to and use of digital services, R9 lack of decent "
              "affordable housing, R11 difficult access to stable employment, R12 lack of "
              "access to cultural and sports facilities, R14 rooting of illegal or criminal "
              "activities, R17 closure of a large employer; R4, R10, R13, R15 and R16 are not "
              "named by the source: reserved, never invented), their indicators computed by the "
              "server (population, priority districts, facilities, stops and cycle routes, "
              "business parks, brownfields, demonstration social indicators) and replaceable by "
              "the caller's values (indicators). Each risk gets a probability (Very unlikely to "
              "Very likely) and a gravity (Minor to Catastrophic) from the thresholds of the rules "
              "file (rules.yaml), then a criticity (moderate, critical, very critical) from the "
              "grid, preventive and curative actions (actions.yaml) and a trend (rising, stable, "
              "falling) where a dated indicator allows it. Outputs: risks (classes, indicators "
              "with value, source and computed or not, actions, trend) and svg (the grid). The "
              "former ids S1..S7 are still accepted for one release (deprecation note in "
              "details). The flood, clay, noise, air and overheating "
              "hazards are modelled demonstration data: illustrative results, non-regulatory "
              "thresholds.",
    },
    "jobControlOptions": ["sync-execute", "async-execute"],
    "outputTransmission": ["value"],
    "keywords": ["risques", "matrice des risques", "criticité", "vulnérabilité", "résilience",
                 "risks", "risk matrix", "Artois"],
    "inputs": {
        "commune": {
            "title": {"fr": "Code INSEE de la commune", "en": "Municipality INSEE code"},
            "description": {
                "fr": "Code INSEE d'une des 305 communes (exclusif de geometry).",
                "en": "INSEE code of one of the 305 municipalities (exclusive with geometry).",
            },
            "schema": {"type": "string", "pattern": INSEE_RE.pattern},
            "minOccurs": 0,
            "maxOccurs": 1,
            "keywords": ["commune", "INSEE"],
        },
        "geometry": {
            "title": {"fr": "Zone (polygone GeoJSON)", "en": "Area (GeoJSON polygon)"},
            "description": {
                "fr": "Géométrie GeoJSON Polygon ou MultiPolygon (ou Feature qui en porte une), "
                      "en CRS84 (longitude, latitude) sauf si l'entrée crs dit EPSG:2154 ; la "
                      "partie hors du territoire est ignorée (exclusif de commune).",
                "en": "GeoJSON Polygon or MultiPolygon geometry (or a Feature carrying one), in "
                      "CRS84 (longitude, latitude) unless the crs input says EPSG:2154; the part "
                      "outside the territory is ignored (exclusive with commune).",
            },
            "schema": {"type": "object", "contentMediaType": "application/geo+json",
                       "required": ["type"]},
            "minOccurs": 0,
            "maxOccurs": 1,
            "keywords": ["geometry", "polygon", "GeoJSON"],
        },
        "polygon": {
            "title": {"fr": "Alias de geometry", "en": "Alias of geometry"},
            "description": {
                "fr": "Ancien nom de l'entrée geometry (même contenu) ; préférer geometry.",
                "en": "Former name of the geometry input (same content); use geometry.",
            },
            "schema": {"type": "object", "contentMediaType": "application/geo+json",
                       "required": ["type"]},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "crs": {
            "title": {"fr": "Système de coordonnées de geometry", "en": "CRS of geometry"},
            "description": {
                "fr": "CRS84 (défaut) ou EPSG:2154 (Lambert-93).",
                "en": "CRS84 (default) or EPSG:2154 (Lambert-93).",
            },
            "schema": {"type": "string", "enum": [CRS84, EPSG2154, "EPSG:2154", "OGC:CRS84"],
                       "default": CRS84},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "matrix": {
            "title": {"fr": "Matrice", "en": "Matrix"},
            "description": {
                "fr": "environmental (défaut) : huit risques environnementaux R1..R8 calculés "
                      "à partir des couches publiées ; societal : les douze risques sociétaux "
                      "nommés (R1, R2, R3, R5, R6, R7, R8, R9, R11, R12, R14, R17 ; R4, R10, "
                      "R13, R15, R16 réservés) calculés par le serveur, l'entrée indicators "
                      "remplaçant les valeurs de son choix.",
                "en": "environmental (default): eight environmental risks R1..R8 computed from "
                      "the published layers; societal: the twelve named societal risks (R1, "
                      "R2, R3, R5, R6, R7, R8, R9, R11, R12, R14, R17; R4, R10, R13, R15, R16 "
                      "reserved) computed by the server, the indicators input replacing the "
                      "values of the caller's choice.",
            },
            "schema": {"type": "string", "enum": list(MATRICES), "default": "environmental"},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "year": {
            "title": {"fr": "Été de la surchauffe", "en": "Overheating summer"},
            "description": {
                "fr": "Été du raster de surchauffe utilisé pour R1 (défaut : le plus récent).",
                "en": "Summer of the overheating raster used for R1 (default: the latest).",
            },
            "schema": {"type": "integer", "enum": YEARS},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "indicators": {
            "title": {"fr": "Indicateurs sociétaux", "en": "Societal indicators"},
            "description": {
                "fr": "Avec matrix=societal seulement (facultatif) : les valeurs de l'appelant "
                      "qui remplacent celles calculées par le serveur ({nom: nombre} ou {nom: "
                      "{value, source}} ; computed: false dans la sortie ; les indicateurs "
                      "dérivés suivent). Obsolètes mais acceptés une version : les groupes des "
                      "anciens risques S1..S7 ({\"S3\": {...}} = R3) et temps_acces_urgences_min, "
                      "temps_acces_gare_min (ignorés). Clés : " + ", ".join(_INDICATORS),
                "en": "With matrix=societal only (optional): the caller's values replacing "
                      "those the server computes ({name: number} or {name: {value, source}}; "
                      "computed: false in the output; derived indicators follow). Deprecated "
                      "but accepted for one release: the groups of the former risks S1..S7 "
                      "({\"S3\": {...}} = R3) and temps_acces_urgences_min, temps_acces_gare_min "
                      "(ignored). Keys: " + ", ".join(_INDICATORS),
            },
            "schema": societal.input_schema(_RULES) if _RULES.get("scales") else
            {"type": "object"},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
    },
    "outputs": {
        "risks": {
            "title": {"fr": "Risques", "en": "Risks"},
            "description": {
                "fr": "Liste des risques de la matrice demandée : id (R1..), label, "
                      "probability (Improbable, Peu probable, Probable, Très probable), gravity "
                      "(Mineur, Majeur, Critique, Catastrophique), criticity (modéré, critique, "
                      "très critique ; null si non évalué), inputs (valeurs des indicateurs), "
                      "indicators (chacun : value, source, computed), sources (réelles ou de "
                      "démonstration), actions (preventive, curative, anticipate, references) "
                      "et trend (rising, stable, falling) quand un indicateur daté le permet.",
                "en": "The risks of the requested matrix: id (R1..), label, probability "
                      "(Improbable, Peu probable, Probable, Très probable), gravity (Mineur, "
                      "Majeur, Critique, Catastrophique), criticity (modéré, critique, très "
                      "critique; null when not assessed), inputs (indicator values), indicators "
                      "(each: value, source, computed), sources (real or demonstration), "
                      "actions (preventive, curative, anticipate, references) and trend "
                      "(rising, stable, falling) where a dated indicator allows it.",
            },
            "schema": {"type": "array", "items": {"type": "object"},
                       "contentMediaType": "application/json"},
        },
        "svg": {
            "title": {"fr": "Grille de criticité (SVG)", "en": "Criticity grid (SVG)"},
            "description": {
                "fr": "Le document SVG de la grille gravité × probabilité avec les codes des "
                      "risques (une chaîne dans la réponse JSON ; seule demandée, la réponse est "
                      "le document image/svg+xml).",
                "en": "The SVG document of the gravity × probability grid with the risk codes "
                      "(a string in the JSON response; requested alone, the response is the "
                      "image/svg+xml document).",
            },
            "schema": {"type": "string", "contentMediaType": "image/svg+xml"},
        },
        "details": {
            "title": {"fr": "Détails", "en": "Details"},
            "description": {
                "fr": "Matrice calculée, commune ou zone, cases de la grille, version des "
                      "règles, paramètres, notes, identifiants réservés et entrées obsolètes "
                      "utilisées (deprecated_inputs).",
                "en": "Matrix computed, municipality or area, grid cells, rules version, "
                      "parameters, notes, reserved ids and deprecated inputs used "
                      "(deprecated_inputs).",
            },
            "schema": {"type": "object", "contentMediaType": "application/json"},
        },
    },
    "example": {
        "inputs": {
            "commune": "62119",
            "matrix": "environmental",
        },
        "outputs": {"risks": {}, "svg": {}},
        "response": "document",
    },
}
