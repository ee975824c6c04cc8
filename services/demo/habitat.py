"""Shops, services and housing figures the mutability criteria read — MODELLED DEMONSTRATION DATA.

``generate_shops_services``  -> ``commerces-services`` (Point)
    Shops and everyday services like the INSEE *base permanente des équipements* (BPE) sections
    B (commerces) and A/D (services, santé): ``categorie`` commerce / service, ``type`` from
    :data:`SHOP_TYPES` / :data:`SERVICE_TYPES`. ``population / 350`` shops and
    ``population / 450`` services per commune (a village below those thresholds gets one with
    probability population / threshold), Gaussian around the town centre (σ = 120 m + 3 m ×
    √population), inside the commune. Every position and type is drawn: NOT the BPE.
``generate_housing``  -> ``habitat-communes`` (MultiPolygon)
    One feature per real commune (real outline, name, INSEE code, EPCI and INSEE population)
    with two *modelled* figures: ``taux_logements_vacants`` (% of vacant dwellings, drawn
    around 8.5 % in the mining basin and 8 % elsewhere, σ 1.6, clipped to 3-16 %; the real
    figures are INSEE's / LOVAC's) and ``zone_abc`` (housing-market tension zone: ``B2`` for
    communes of at least 10 000 inhabitants, ``C`` elsewhere; the real zoning is the one of the
    ministerial order). The two modelled figures are flagged in ``donnees_modelisees``.

Every record carries ``source`` = :func:`services.demo.source_label`.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np

from . import BASSIN_MINIER_EPCI, make_rng, random_point_in, sorted_communes, source_label
from .reseaux import _frame, _population

SHOP_TYPES = ("boulangerie", "supérette", "supermarché", "boucherie", "librairie-presse",
              "fleuriste", "coiffure", "restaurant")
SERVICE_TYPES = ("bureau de poste", "agence bancaire", "pharmacie", "médecin généraliste",
                 "école élémentaire", "mairie annexe", "crèche")
PER_SHOP = 350
PER_SERVICE = 450



def _count(rng: np.random.Generator, pop: float, per: int) -> int:
    n = int(pop // per)
    if n == 0 and rng.random() < pop / per:
        n = 1
    return n


def generate_shops_services(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    com = sorted_communes(layers)
    records = []
    for row in com.itertuples():
        rng = make_rng(seed, f"commerces:{row.insee}")
        pop = _population(row.population_municipale)
        sigma = 120.0 + 3.0 * math.sqrt(max(pop, 1.0))
        k = 0
        for categorie, types, per in (("commerce", SHOP_TYPES, PER_SHOP),
                                      ("service", SERVICE_TYPES, PER_SERVICE)):
            for _ in range(_count(rng, pop, per)):
                point = random_point_in(rng, row.geometry, row.centre, sigma) or \
                    random_point_in(rng, row.geometry)
                if point is None:
                    continue
                k += 1
                kind = types[int(rng.integers(0, len(types)))]
                records.append({
                    "id": f"EQ-{row.insee}-{k:03d}", "categorie": categorie, "type": kind,
                    "nom": f"{kind[0].upper() + kind[1:]} (démo)", "insee": row.insee,
                    "commune": row.nom, "date_maj": "2025-01-01",
                    "source": source_label(seed), "geometry": point})
    return _frame(records)


ABC_B2_POPULATION = 10000


def generate_housing(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    com = sorted_communes(layers)
    records = []
    for row in com.itertuples():
        rng = make_rng(seed, f"habitat:{row.insee}")
        pop = _population(row.population_municipale)
        mean = 8.5 if row.epci_siren in BASSIN_MINIER_EPCI else 8.0
        rate = float(np.clip(rng.normal(mean, 1.6), 3.0, 16.0))
        records.append({
            "id": row.insee, "insee": row.insee, "nom": row.nom, "epci_siren": row.epci_siren,
            "population": int(pop), "taux_logements_vacants": round(rate, 1),
            "zone_abc": "B2" if pop >= ABC_B2_POPULATION else "C",
            "donnees_modelisees": "taux_logements_vacants, zone_abc",
            "date_maj": "2025-01-01", "source": source_label(seed),
            "geometry": row.geometry})
    return _frame(records)
