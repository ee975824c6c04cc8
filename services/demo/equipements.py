"""Facilities of the half-hour territory — MODELLED DEMONSTRATION DATA.

``generate``  -> ``equipements`` (Point)
    Facilities in the manner of INSEE's Base Permanente des Équipements (BPE): a type code
    ``typequ`` of the BPE nomenclature (2021 codes: D201 médecin généraliste, C101 école
    maternelle, B101 hypermarché...) or, for what the BPE does not hold, an ``X…`` code of the
    agency's own data (employment areas, France Travail agencies, mobility points), a name,
    the commune (``insee``, ``commune``) and the dates it opened and closed
    (``date_ouverture``, ``date_fermeture``: a date selects a state of the facilities, T0 2022
    or later).

    EVERY RECORD IS DRAWN, not observed. Per real commune and per type of :data:`TYPES`: a
    Poisson number of facilities of mean ``rate`` per 10 000 inhabitants, the first one
    certain above ``min_pop`` inhabitants (and drawn with probability population /
    ``min_pop`` below it, never below ``floor``); placed Gaussian around the commune's centre
    (σ = 120 m + 3 m × √population), inside the commune. ``X101`` (employment areas) sit at
    the centroids of the business parks of the ``zae`` layer. About 6 % of the facilities
    open after T0 (2023-2030) and 3 % close (2023-2029), so that two dates differ.

Every record carries ``source`` = :func:`services.demo.source_label`.
"""
from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np

from . import make_rng, random_date, random_point_in, sorted_communes, source_label
from .reseaux import _frame, _population

#: typequ: (label, rate per 10 000 inhabitants, min_pop for a certain first one, floor)
TYPES: dict[str, tuple[str, float, int, int]] = {
    "A206": ("Bureau de poste", 1.2, 4000, 600),
    "A208": ("Agence postale communale", 0.0, 1500, 400),
    "A203": ("Banque, caisse d'épargne", 2.0, 3000, 1000),
    "B101": ("Hypermarché", 0.4, 12000, 6000),
    "B102": ("Supermarché", 1.8, 2500, 1200),
    "B201": ("Supérette", 1.5, 1500, 700),
    "B203": ("Boulangerie", 4.0, 800, 250),
    "C101": ("École maternelle", 3.0, 500, 200),
    "C104": ("École élémentaire", 3.2, 400, 180),
    "C201": ("Collège", 0.9, 4000, 2500),
    "C301": ("Lycée d'enseignement général et/ou technologique", 0.35, 15000, 8000),
    "C302": ("Lycée d'enseignement professionnel", 0.3, 12000, 7000),
    "C501": ("Établissement d'enseignement supérieur", 0.1, 24000, 20000),
    "D101": ("Établissement de santé de court séjour", 0.15, 24000, 15000),
    "D106": ("Urgences", 0.1, 24000, 20000),
    "D201": ("Médecin généraliste", 7.5, 1200, 400),
    "D221": ("Chirurgien-dentiste", 4.5, 3000, 1000),
    "D307": ("Pharmacie", 3.2, 1800, 800),
    "D502": ("Établissement d'accueil du jeune enfant", 1.5, 3000, 1200),
    "E107": ("Gare de voyageurs d'intérêt national", 0.0, 24000, 24000),
    "E108": ("Gare de voyageurs d'intérêt régional", 0.1, 12000, 6000),
    "E109": ("Gare de voyageurs d'intérêt local", 0.1, 5000, 2000),
    "F101": ("Bassin de natation", 0.35, 10000, 5000),
    "F111": ("Plateaux et terrains de jeux extérieurs", 2.0, 600, 150),
    "F113": ("Terrain de grands jeux", 2.0, 500, 200),
    "F121": ("Salle multisports (gymnase)", 1.2, 2500, 900),
    "F303": ("Cinéma", 0.25, 15000, 9000),
    "F305": ("Conservatoire", 0.25, 15000, 9000),
    "F307": ("Bibliothèque", 1.0, 2500, 700),
    "X102": ("Agence France Travail, mission locale (données de l'agence)", 0.3, 10000, 5000),
    "X103": ("Tiers-lieu, espace de travail partagé (données de l'agence)", 0.3, 8000, 3000),
    "X201": ("Point mobilité : pôle d'échanges, vélos en location (données de l'agence)",
             1.0, 3000, 1500),
}
#: employment areas: one per business park of the zae layer, at its centroid
ZAE_TYPE = ("X101", "Zone d'activités, pôle d'emploi (données de l'agence)")
T0 = dt.date(2022, 1, 1)
OPENED_AFTER_T0 = 0.06
CLOSED_AFTER_T0 = 0.03


def _count(rng: np.random.Generator, pop: float, rate: float, min_pop: int, floor: int) -> int:
    if pop < floor:
        return 0
    first = 1 if pop >= min_pop else int(rng.random() < pop / min_pop)
    extra = int(rng.poisson(max(rate * pop / 10000.0 - 1.0, 0.0))) if first else 0
    return min(first + extra, 200)


def _dates(rng: np.random.Generator) -> tuple[str, str | None]:
    u = rng.random()
    if u < OPENED_AFTER_T0:
        return random_date(rng, dt.date(2023, 1, 1), dt.date(2030, 12, 31)).isoformat(), None
    opened = random_date(rng, dt.date(1960, 1, 1), dt.date(2021, 12, 31)).isoformat()
    if u < OPENED_AFTER_T0 + CLOSED_AFTER_T0:
        return opened, random_date(rng, dt.date(2023, 1, 1), dt.date(2029, 12, 31)).isoformat()
    return opened, None


def generate(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    com = sorted_communes(layers)
    records = []
    for row in com.itertuples():
        pop = _population(row.population_municipale)
        sigma = 120.0 + 3.0 * math.sqrt(max(pop, 0.0))
        for code, (label, rate, min_pop, floor) in TYPES.items():
            rng = make_rng(seed, f"equipements:{row.insee}:{code}")
            for k in range(_count(rng, pop, rate, min_pop, floor)):
                point = random_point_in(rng, row.geometry, row.centre, sigma) or row.centre
                opened, closed = _dates(rng)
                records.append({
                    "id": f"{row.insee}-{code}-{k + 1:03d}", "typequ": code,
                    "libelle_type": label, "nom": f"{label} {k + 1} — {row.nom}",
                    "insee": row.insee, "commune": row.nom, "epci_siren": row.epci_siren,
                    "date_ouverture": opened, "date_fermeture": closed,
                    "source": source_label(seed), "geometry": point})
    zae = layers.get("zae")
    if zae is not None and len(zae):
        zae = zae.to_crs(com.crs).sort_values("id", kind="mergesort")
        names = dict(zip(com["insee"], com["nom"]))
        epci = dict(zip(com["insee"], com["epci_siren"]))
        for zrow in zae.itertuples():
            rng = make_rng(seed, f"equipements:zae:{zrow.id}")
            insee = str(zrow.insee)
            opened, closed = _dates(rng)
            point = zrow.geometry.representative_point()
            records.append({
                "id": f"{insee}-{ZAE_TYPE[0]}-{zrow.id}", "typequ": ZAE_TYPE[0],
                "libelle_type": ZAE_TYPE[1], "nom": f"{zrow.nom}",
                "insee": insee, "commune": names.get(insee, str(zrow.commune)),
                "epci_siren": epci.get(insee, str(zrow.epci_siren)),
                "date_ouverture": opened, "date_fermeture": closed,
                "source": source_label(seed), "geometry": point})
    gdf = _frame(records)
    gdf["geometry"] = gdf.geometry.set_precision(0.01)
    return gdf
