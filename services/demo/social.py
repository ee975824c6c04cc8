"""Social indicators per commune for the societal risk matrix — MODELLED DEMONSTRATION DATA.

``generate_social_indicators``  -> ``indicateurs-sociaux`` (MultiPolygon)
    One feature per real commune (real outline, name, INSEE code, EPCI and INSEE municipal
    population) carrying the figures the societal risks of the ``risk-matrix`` process read
    and that no open file shipped with the server holds: age structure (INSEE census),
    poverty rate (INSEE Filosofi), unemployment and insecure jobs (census), early school
    leaving, households without a car, GP accessibility (DREES APL), premises without very
    high-speed broadband (ARCEP), digital exclusion ("illectronisme", INSEE survey),
    potentially unfit private housing (PPPI), social-housing pressure (SNE), sports and
    cultural facilities (RES / BPE), drug offences (SSMSI), warning signs at large employers
    (an economic watch) and jobs at the place of work (census). Six of them also carry an
    earlier value (``<name>_<year>``): the dated series the trends of the risks read.

    EVERY FIGURE OF THIS LAYER IS DRAWN, not observed. The draws are made *plausible* for the
    real communes: one latent deprivation score per commune grows with the mining basin
    (the two agglomerations, :data:`services.demo.BASSIN_MINIER_EPCI`), with the town's size
    there and with the share of its population living in a (demonstration) priority district
    of the ``qpv`` layer; rural communes are older, less well connected and farther from
    doctors; each figure = a base + a weight x that score + seeded noise (smaller for large
    communes, whose rates are steadier), clipped to a plausible range. The orders of
    magnitude follow the national and regional figures quoted in
    ``processes/risk_matrix/data/SOURCES.md``. Small communes get figures too although the real
    sources withhold them (statistical secrecy of Filosofi and SSMSI below a few households or
    offences).

Every record carries ``source`` = :func:`services.demo.source_label` and lists its modelled
fields in ``donnees_modelisees``.
"""
from __future__ import annotations

import math

import geopandas as gpd

from . import BASSIN_MINIER_EPCI, make_rng, sorted_communes, source_label
from .reseaux import _frame, _population

#: year of the current figures and of the earlier value of each dated series
YEAR = 2021
SERIES = {  # field: year of its earlier value
    "part_75_ans_plus_pct": 2015,
    "taux_pauvrete_pct": 2015,
    "taux_chomage_pct": 2015,
    "taux_decrochage_scolaire_pct": 2015,
    "part_locaux_sans_thd_pct": 2017,
    "taux_infractions_stupefiants_pour_1000_hab": 2016,
}
#: every modelled field, in the order of the records
FIELDS = (
    "part_75_ans_plus_pct", "part_moins_25_ans_pct", "part_18_24_ans_pct", "part_actifs_pct",
    "taux_pauvrete_pct", "taux_chomage_pct", "part_emplois_precaires_pct",
    "taux_decrochage_scolaire_pct", "apl_medecins_generalistes",
    "part_menages_sans_voiture_pct", "part_locaux_sans_thd_pct", "taux_illectronisme_pct",
    "part_parc_prive_potentiellement_indigne_pct", "pression_demande_logement_social",
    "nb_equipements_sportifs", "nb_equipements_culturels",
    "taux_infractions_stupefiants_pour_1000_hab", "nb_signaux_fragilite_employeur",
    "emplois_au_lieu_de_travail",
)


def _zone_population(zones: gpd.GeoDataFrame | None) -> dict[str, float]:
    """Population of the (demonstration) priority districts per commune."""
    if zones is None or len(zones) == 0:
        return {}
    out: dict[str, float] = {}
    for insee, pop in zip(zones["insee"].astype(str), zones["population"]):
        out[insee] = out.get(insee, 0.0) + _population(pop)
    return out


def _zae_jobs(zae: gpd.GeoDataFrame | None) -> dict[str, tuple[float, int]]:
    """(jobs in the business parks, number of parks) per commune."""
    if zae is None or len(zae) == 0:
        return {}
    out: dict[str, tuple[float, int]] = {}
    for insee, jobs in zip(zae["insee"].astype(str), zae["nb_emplois"]):
        total, n = out.get(insee, (0.0, 0))
        out[insee] = (total + _population(jobs), n + 1)
    return out


def _clip(value: float, lo: float, hi: float, digits: int = 1) -> float:
    return round(float(min(max(value, lo), hi)), digits)


def generate_social_indicators(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    com = sorted_communes(layers)
    qpv_pop = _zone_population(layers.get("qpv"))
    zae_jobs = _zae_jobs(layers.get("zae"))
    records = []
    for row in com.itertuples():
        rng = make_rng(seed, f"social:{row.insee}")
        pop = _population(row.population_municipale)
        mining = row.epci_siren in BASSIN_MINIER_EPCI
        size = max(math.log10(max(pop, 10.0)) - 3.0, 0.0)  # 0 below 1 000 inhabitants
        qpv_share = min(qpv_pop.get(row.insee, 0.0) / pop, 1.0) if pop else 0.0
        rural = 1.0 if pop < 1000 else 0.0
        # latent deprivation: mining basin, town size there, priority districts, noise
        d = (0.8 * mining + 0.45 * size * mining + 3.0 * qpv_share - 0.15 * rural
             + rng.normal(0.0, 0.3))
        noise = 1.0 / math.sqrt(max(min(pop / 2000.0, 4.0), 0.25))  # steadier in towns
        n = lambda sigma: rng.normal(0.0, sigma * noise)  # noqa: E731

        p75 = _clip(10.2 - 1.2 * mining + 1.0 * rural + n(1.5), 4.0, 20.0)
        values = {
            "part_75_ans_plus_pct": p75,
            "part_moins_25_ans_pct": _clip(30.0 + 1.5 * mining - 0.7 * (p75 - 10.0) + n(2.0),
                                           18.0, 40.0),
            "part_18_24_ans_pct": _clip(7.0 + 0.8 * size + n(1.0), 3.0, 14.0),
            "part_actifs_pct": _clip(45.0 - 0.4 * (p75 - 10.0) - 1.0 * mining + n(1.5),
                                     35.0, 55.0),
            "taux_pauvrete_pct": _clip(11.0 + 7.0 * d + n(2.0), 5.0, 45.0),
            "taux_chomage_pct": _clip(9.0 + 5.5 * d + n(1.8), 4.0, 35.0),
            "part_emplois_precaires_pct": _clip(14.0 + 2.0 * d + n(2.0), 6.0, 30.0),
            "taux_decrochage_scolaire_pct": _clip(8.5 + 4.0 * d + n(2.0), 2.0, 35.0),
            "apl_medecins_generalistes": _clip(3.5 - 0.9 * rural - 0.4 * mining + n(0.6),
                                               0.8, 6.0, 2),
            "part_menages_sans_voiture_pct": _clip(7.0 + 5.0 * d + 4.0 * size + n(2.0),
                                                   3.0, 40.0),
            "part_locaux_sans_thd_pct": _clip(
                (rng.uniform(5.0, 45.0) if rural else rng.uniform(0.0, 10.0))
                - 3.0 * mining, 0.0, 80.0),
            "taux_illectronisme_pct": _clip(13.0 + 0.6 * (p75 - 10.0) + 2.0 * d + n(1.5),
                                            6.0, 35.0),
            "part_parc_prive_potentiellement_indigne_pct": _clip(
                4.0 + 2.5 * d + 1.5 * rural + n(1.5), 0.5, 25.0),
            "pression_demande_logement_social": _clip(2.5 + 1.0 * d + n(0.8), 1.0, 12.0),
            "nb_equipements_sportifs": int(rng.poisson(1.2 + pop * (0.0032 if mining
                                                                   else 0.0042))),
            "nb_equipements_culturels": int(rng.poisson(0.3 + pop * 0.0004)),
            "taux_infractions_stupefiants_pour_1000_hab": _clip(0.6 + 1.6 * max(d, 0.0)
                                                                + n(0.5), 0.0, 12.0, 2),
        }
        jobs, parks = zae_jobs.get(row.insee, (0.0, 0))
        values["nb_signaux_fragilite_employeur"] = int(min(rng.poisson(0.7), 4)) if parks else 0
        values["emplois_au_lieu_de_travail"] = int(round(pop * rng.uniform(0.15, 0.45)
                                                        + 1.3 * jobs))
        # earlier values of the dated series: ageing and poverty rose, unemployment and early
        # school leaving fell, broadband spread, drug offences rose (national directions)
        past = {
            "part_75_ans_plus_pct": _clip(p75 - rng.normal(0.7, 0.6), 3.0, 20.0),
            "taux_pauvrete_pct": _clip(values["taux_pauvrete_pct"] - rng.normal(0.6, 1.0),
                                       4.0, 45.0),
            "taux_chomage_pct": _clip(values["taux_chomage_pct"] + rng.normal(1.8, 1.2),
                                      4.0, 38.0),
            "taux_decrochage_scolaire_pct": _clip(
                values["taux_decrochage_scolaire_pct"] + rng.normal(0.8, 1.5), 2.0, 38.0),
            "part_locaux_sans_thd_pct": _clip(
                values["part_locaux_sans_thd_pct"] + rng.uniform(10.0, 60.0), 0.0, 100.0),
            "taux_infractions_stupefiants_pour_1000_hab": _clip(
                values["taux_infractions_stupefiants_pour_1000_hab"] - rng.normal(0.4, 0.5),
                0.0, 12.0, 2),
        }
        record = {"id": row.insee, "insee": row.insee, "nom": row.nom,
                  "epci_siren": row.epci_siren, "population": int(pop), "annee": YEAR}
        record.update(values)
        for field, year in SERIES.items():
            record[f"{field}_{year}"] = past[field]
        record.update({"donnees_modelisees": "toutes sauf insee, nom, epci_siren, population",
                       "date_maj": "2025-01-01", "source": source_label(seed),
                       "geometry": row.geometry})
        records.append(record)
    return _frame(records)
