"""Aménagements cyclables — MODELLED DEMONSTRATION DATA.

The Artois EPCI do not publish their cycle network under the national schema,
so this module *models* one: about 2,000 fictitious cycle-facility sections,
drawn by a seeded random generator (``numpy.random.default_rng``).  They are not
surveyed; their geometry does not follow real streets.

Schema: etalab « Aménagements cyclables » v0.3.4
(https://github.com/etalab/amenagements-cyclables, ``schema_amenagements_cyclables.json``).
Fields and code lists are the schema's (``ame_d/g``, ``regime_d/g``,
``sens_d/g``, ``local_d/g``, ``statut_d/g``, ``revet_d/g``, ``access_ame``, ...),
with these adaptations for an OGC API collection:

* ``id`` ("AC-000001") is the feature id; ``id_local`` repeats it (required
  by the schema);
* ``nom_loc`` is a single string (an array in the schema);
* ``d_service`` is a full ISO date (YYYY-MM-DD; a year in the schema) so the
  OGC ``datetime`` filter can separate three epochs: about 35 % before
  2018-01-01 (before the 2018 urban mobility plan), 40 % from 2018 to 2022 and
  25 % from 2023-01-01 (2023 cycling plan) to 2026-06-30; sections whose
  service date is after the data's reference date (2025-09-30) are
  ``statut = "EN TRAVAUX"``; ``date_maj`` ≥ ``d_service``;
* ``statut_d/g`` and ``access_ame`` use the schema's own lists
  (EN SERVICE / EN TRAVAUX / PROVISOIRE; ROLLER / VELO DE ROUTE / VTC / VTT);
  planned sections are "EN TRAVAUX" (the schema has no "PROJET" value);
* a side without facility has ``ame_x = "AUCUN"`` and empty side attributes;
  ``trafic_vit`` is empty for greenways (no adjacent motor traffic).

What is modelled: ~80 % of the sections are urban polylines (a few jittered
segments, 150 m–2.5 km) around the centres of the communes, drawn with a weight
proportional to the population; ~20 % are links between the centres of
neighbouring communes (greenways, two-way tracks, paved shoulders...).
Geometry: MultiLineString (one part), EPSG:2154, wholly inside the territory.
"""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString

from . import (
    CRS,
    REFERENCE_DATE,
    commune_lookup,
    make_rng,
    random_date,
    round_coords,
    sorted_communes,
    source_label,
    territory,
)

N_FEATURES = 2000
SHARE_LINKS = 0.2
MIN_LEN, MAX_LEN = 150.0, 2500.0

AME = [
    "PISTE CYCLABLE", "BANDE CYCLABLE", "DOUBLE SENS CYCLABLE PISTE", "DOUBLE SENS CYCLABLE BANDE",
    "DOUBLE SENS CYCLABLE NON MATERIALISE", "VOIE VERTE", "VELO RUE", "COULOIR BUS+VELO", "RAMPE",
    "GOULOTTE", "AMENAGEMENT MIXTE PIETON VELO HORS VOIE VERTE", "CHAUSSEE A VOIE CENTRALE BANALISEE",
    "ACCOTEMENT REVETU HORS CVCB", "AUCUN", "AUTRE",
]
REGIME = ["ZONE 30", "AIRE PIETONNE", "ZONE DE RENCONTRE", "EN AGGLOMERATION", "HORS AGGLOMERATION", "AUTRE"]
SENS = ["UNIDIRECTIONNEL", "BIDIRECTIONNEL"]
LOCAL = ["TROTTOIR", "INTERMEDIAIRE", "CHAUSSEE"]
STATUT = ["EN TRAVAUX", "EN SERVICE", "PROVISOIRE"]
REVET = ["LISSE", "RUGUEUX", "MEUBLE"]
ACCESS = ["ROLLER", "VELO DE ROUTE", "VTC", "VTT"]
RESEAU_LOC = ["REV", "Structurant", "Autre"]

#: epoch bounds of ``d_service`` and their shares
EPOCHS = [
    (dt.date(1995, 1, 1), dt.date(2017, 12, 31), 0.35),
    (dt.date(2018, 1, 1), dt.date(2022, 12, 31), 0.40),
    (dt.date(2023, 1, 1), dt.date(2026, 6, 30), 0.25),
]

# Facility profiles: (ame_d, ame_g, sens of a present side, local options, width range (m) or None,
# regime options).  "d" is the right-hand side in the digitising direction.
_P = {
    "bande_2": ("BANDE CYCLABLE", "BANDE CYCLABLE", "UNIDIRECTIONNEL", ["CHAUSSEE"], (1.2, 1.8),
                ["EN AGGLOMERATION", "EN AGGLOMERATION", "ZONE 30"]),
    "piste_2": ("PISTE CYCLABLE", "PISTE CYCLABLE", "UNIDIRECTIONNEL", ["TROTTOIR", "INTERMEDIAIRE"], (1.5, 2.2),
                ["EN AGGLOMERATION"]),
    "piste_bidir": ("PISTE CYCLABLE", "AUCUN", "BIDIRECTIONNEL", ["TROTTOIR", "INTERMEDIAIRE"], (2.5, 3.2),
                    ["EN AGGLOMERATION"]),
    "dsc_nm": ("AUCUN", "DOUBLE SENS CYCLABLE NON MATERIALISE", "UNIDIRECTIONNEL", ["CHAUSSEE"], None,
               ["ZONE 30", "ZONE 30", "ZONE DE RENCONTRE"]),
    "dsc_bande": ("AUCUN", "DOUBLE SENS CYCLABLE BANDE", "UNIDIRECTIONNEL", ["CHAUSSEE"], (1.2, 1.5),
                  ["ZONE 30", "EN AGGLOMERATION"]),
    "dsc_piste": ("AUCUN", "DOUBLE SENS CYCLABLE PISTE", "UNIDIRECTIONNEL", ["TROTTOIR", "INTERMEDIAIRE"],
                  (1.5, 2.0), ["ZONE 30", "EN AGGLOMERATION"]),
    "mixte": ("AMENAGEMENT MIXTE PIETON VELO HORS VOIE VERTE", "AUCUN", "BIDIRECTIONNEL", ["TROTTOIR"],
              (2.5, 3.5), ["EN AGGLOMERATION"]),
    "cvcb": ("CHAUSSEE A VOIE CENTRALE BANALISEE", "CHAUSSEE A VOIE CENTRALE BANALISEE", "UNIDIRECTIONNEL",
             ["CHAUSSEE"], (1.5, 2.0), ["EN AGGLOMERATION"]),
    "bus": ("COULOIR BUS+VELO", "COULOIR BUS+VELO", "UNIDIRECTIONNEL", ["CHAUSSEE"], (3.5, 4.5),
            ["EN AGGLOMERATION"]),
    "velorue": ("VELO RUE", "VELO RUE", "UNIDIRECTIONNEL", ["CHAUSSEE"], None, ["ZONE 30"]),
    "vv_urb": ("VOIE VERTE", "AUCUN", "BIDIRECTIONNEL", [None], (3.0, 4.0), ["EN AGGLOMERATION"]),
    "apaise": ("AUCUN", "AUCUN", None, [None], None, ["ZONE DE RENCONTRE", "AIRE PIETONNE"]),
    "accot": ("ACCOTEMENT REVETU HORS CVCB", "ACCOTEMENT REVETU HORS CVCB", "UNIDIRECTIONNEL", ["CHAUSSEE"],
              (1.0, 1.5), ["EN AGGLOMERATION", "HORS AGGLOMERATION"]),
    "autre": ("AUTRE", "AUCUN", "BIDIRECTIONNEL", ["TROTTOIR"], (2.0, 2.5), ["EN AGGLOMERATION"]),
    # links between communes
    "vv": ("VOIE VERTE", "AUCUN", "BIDIRECTIONNEL", [None], (2.5, 4.0), ["HORS AGGLOMERATION"]),
    "piste_bidir_ha": ("PISTE CYCLABLE", "AUCUN", "BIDIRECTIONNEL", ["INTERMEDIAIRE", "TROTTOIR"], (2.5, 3.0),
                       ["HORS AGGLOMERATION"]),
    "accot_ha": ("ACCOTEMENT REVETU HORS CVCB", "ACCOTEMENT REVETU HORS CVCB", "UNIDIRECTIONNEL", ["CHAUSSEE"],
                 (1.0, 1.75), ["HORS AGGLOMERATION"]),
    "cvcb_ha": ("CHAUSSEE A VOIE CENTRALE BANALISEE", "CHAUSSEE A VOIE CENTRALE BANALISEE", "UNIDIRECTIONNEL",
                ["CHAUSSEE"], (1.5, 2.0), ["HORS AGGLOMERATION"]),
    "bande_ha": ("BANDE CYCLABLE", "BANDE CYCLABLE", "UNIDIRECTIONNEL", ["CHAUSSEE"], (1.2, 1.75),
                 ["HORS AGGLOMERATION"]),
}
# profile weights for urban sections, per epoch (older networks: painted lanes; newer: tracks, cycle streets)
_URBAN_W = {
    0: {"bande_2": 30, "piste_2": 5, "piste_bidir": 9, "dsc_nm": 11, "dsc_bande": 4, "dsc_piste": 1, "mixte": 13,
        "cvcb": 1, "bus": 4, "velorue": 0.2, "vv_urb": 7, "apaise": 4, "accot": 3, "autre": 1},
    1: {"bande_2": 22, "piste_2": 8, "piste_bidir": 13, "dsc_nm": 9, "dsc_bande": 5, "dsc_piste": 2, "mixte": 9,
        "cvcb": 5, "bus": 3, "velorue": 2, "vv_urb": 8, "apaise": 4, "accot": 2, "autre": 1},
    2: {"bande_2": 14, "piste_2": 12, "piste_bidir": 18, "dsc_nm": 6, "dsc_bande": 5, "dsc_piste": 3, "mixte": 6,
        "cvcb": 6, "bus": 3, "velorue": 6, "vv_urb": 9, "apaise": 4, "accot": 1, "autre": 1},
}
_LINK_W = {"vv": 45, "piste_bidir_ha": 25, "accot_ha": 12, "cvcb_ha": 10, "bande_ha": 8}

_COMMENTS = [
    "forte pente sur une courte section", "revêtement dégradé par des racines", "traversée de carrefour à sécuriser",
    "stationnement gênant fréquent", "discontinuité au droit du giratoire", "passage sous voie ferrée étroit",
    "éclairage à renforcer", "jalonnement à compléter", "barrières anti-motos à l'entrée",
    "chemin de halage partagé avec les piétons", "ancien cavalier minier reconverti", "section inondable en hiver",
]


def _urban_polyline(rng, cx, cy, sigma):
    """A street-like polyline near (cx, cy): 1–6 segments with gentle or right-angle turns."""
    length = float(np.clip(math.exp(rng.normal(math.log(550.0), 0.6)), MIN_LEN * 1.05, MAX_LEN * 0.95))
    k = int(np.clip(round(length / 250.0), 1, 6))
    seg = rng.uniform(0.7, 1.3, k)
    seg = seg / seg.sum() * length
    x0, y0 = rng.normal(cx, sigma), rng.normal(cy, sigma)
    heading = rng.uniform(0, 2 * math.pi)
    pts = [(x0, y0)]
    for s in seg:
        pts.append((pts[-1][0] + s * math.cos(heading), pts[-1][1] + s * math.sin(heading)))
        if rng.random() < 0.2:
            heading += math.copysign(math.pi / 2, rng.random() - 0.5) + rng.normal(0, 0.05)
        else:
            heading += rng.normal(0, 0.3)
    return LineString(round_coords(pts))


def _link_polyline(rng, a, b):
    """A gently meandering line from near centre ``a`` towards centre ``b`` (≤ 2.5 km)."""
    ax, ay = rng.normal(a.x, 200.0), rng.normal(a.y, 200.0)
    dx, dy = b.x - ax, b.y - ay
    dist = math.hypot(dx, dy)
    length = min(dist, rng.uniform(800.0, MAX_LEN * 0.92))
    ux, uy = dx / dist, dy / dist
    n = int(rng.integers(3, 7))
    ts = np.linspace(0.0, 1.0, n + 1)
    amp = 0.06 * length
    offs = rng.normal(0.0, amp, n + 1)
    offs[0] = 0.0
    offs = np.convolve(offs, [0.25, 0.5, 0.25], mode="same")
    pts = [(ax + t * length * ux - o * uy, ay + t * length * uy + o * ux) for t, o in zip(ts, offs)]
    return LineString(round_coords(pts))


def _neighbour_pairs(com: gpd.GeoDataFrame) -> list[tuple[int, int]]:
    tree = shapely.STRtree(np.asarray(com.geometry.values))
    a, b = tree.query(np.asarray(com.geometry.values), predicate="intersects")
    pairs = sorted({(int(i), int(j)) for i, j in zip(a, b) if i < j})
    out = []
    for i, j in pairs:
        d = com["centre"].iloc[i].distance(com["centre"].iloc[j])
        if 1200.0 <= d <= 9000.0:
            out.append((i, j))
    return out


def generate(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    """Model ~2,000 cycle-facility sections (see module docstring)."""
    com = sorted_communes(layers)
    terr_inner = territory(com).buffer(-5)
    shapely.prepare(terr_inner)
    rng = make_rng(seed, "cyclables")
    src = source_label(seed)

    n_links = int(round(N_FEATURES * SHARE_LINKS))
    n_urban = N_FEATURES - n_links
    pop = com["population_municipale"].to_numpy(dtype=float)
    p_urban = pop**0.95 / (pop**0.95).sum()
    sigma = 200.0 + 6.0 * np.sqrt(pop)

    geoms, kinds, origin = [], [], []
    while len(geoms) < n_urban:
        i = int(rng.choice(len(com), p=p_urban))
        c = com["centre"].iloc[i]
        line = _urban_polyline(rng, c.x, c.y, sigma[i])
        if MIN_LEN <= line.length <= MAX_LEN and line.is_simple and terr_inner.contains(line):
            geoms.append(line)
            kinds.append("urban")
            origin.append((i, i))

    pairs = _neighbour_pairs(com)
    w_pairs = np.array([(pop[i] + pop[j]) ** 0.7 for i, j in pairs])
    w_pairs /= w_pairs.sum()
    while len(geoms) < N_FEATURES:
        i, j = pairs[int(rng.choice(len(pairs), p=w_pairs))]
        if rng.random() < 0.5:
            i, j = j, i
        line = _link_polyline(rng, com["centre"].iloc[i], com["centre"].iloc[j])
        if MIN_LEN <= line.length <= MAX_LEN and line.is_simple and terr_inner.contains(line):
            geoms.append(line)
            kinds.append("link")
            origin.append((i, j))

    # commune of each section: the one containing its midpoint
    mids = [g.interpolate(0.5, normalized=True) for g in geoms]
    idx_mid = commune_lookup(com, mids)

    # epochs: exact shares, shuffled
    n = len(geoms)
    counts = [int(round(share * n)) for *_, share in EPOCHS]
    counts[1] = n - counts[0] - counts[2]
    epoch = rng.permutation(np.repeat(np.arange(3), counts))

    records = []
    for k, (line, kind, (i, j), e) in enumerate(zip(geoms, kinds, origin, epoch)):
        records.append(_attributes(rng, k, line, kind, com, i, j, int(idx_mid[k]), int(e), src))

    gdf = gpd.GeoDataFrame(records, geometry=[MultiLineString([g]) for g in geoms], crs=CRS)
    gdf["trafic_vit"] = gdf["trafic_vit"].astype("Int64")
    return gdf


def _service_date(rng, epoch: int) -> tuple[dt.date, str]:
    start, end, _ = EPOCHS[epoch]
    if epoch == 0:
        # older facilities: more of them in the 2010s
        span = (end - start).days
        d = start + dt.timedelta(days=int(span * rng.beta(2.2, 1.0)))
        return d, "EN SERVICE"
    if epoch == 1:
        if rng.random() < 0.03:  # 2020 "coronapistes", still provisional
            return random_date(rng, dt.date(2020, 5, 11), dt.date(2020, 9, 30)), "PROVISOIRE"
        return random_date(rng, start, end), "EN SERVICE"
    d = random_date(rng, start, end)
    return d, ("EN TRAVAUX" if d > REFERENCE_DATE else "EN SERVICE")


def _attributes(rng, k, line, kind, com, i, j, i_mid, epoch, src) -> dict:
    if kind == "urban":
        w = _URBAN_W[epoch]
    else:
        w = _LINK_W
    names = list(w)
    prof = names[int(rng.choice(len(names), p=np.array(list(w.values())) / sum(w.values())))]
    ame_d, ame_g, sens, locals_, width, regimes = _P[prof]
    regime = regimes[int(rng.integers(len(regimes)))]

    d_service, statut = _service_date(rng, epoch)
    if d_service > REFERENCE_DATE:
        date_maj = d_service
    else:
        date_maj = random_date(rng, max(d_service, dt.date(2019, 1, 1)), REFERENCE_DATE)
        date_maj = max(date_maj, d_service)

    greenway = ame_d == "VOIE VERTE"
    if greenway:
        revet = str(rng.choice(REVET, p=[0.6, 0.3, 0.1]) if kind == "link" else rng.choice(REVET, p=[0.85, 0.15, 0.0]))
    else:
        revet = "LISSE" if rng.random() < 0.93 else "RUGUEUX"
    loc = locals_[int(rng.integers(len(locals_)))]
    largeur = round(float(rng.uniform(*width)), 2) if width else None

    def side(ame):
        present = ame != "AUCUN"
        return {
            "sens": sens if present else None,
            "largeur": largeur if present else None,
            "local": loc if present else None,
            "statut": statut if present else None,
            "revet": revet if present else None,
        }

    # for calm streets (no facility on either side) the status/surface still describe the section
    d, g = side(ame_d), side(ame_g)
    if ame_d == "AUCUN" and ame_g == "AUCUN":
        d.update(statut=statut, revet=revet, sens="BIDIRECTIONNEL")
        g.update(statut=statut, revet=revet, sens="BIDIRECTIONNEL")

    if greenway:
        trafic = None
    else:
        trafic = {
            "ZONE 30": 30, "ZONE DE RENCONTRE": 20, "AIRE PIETONNE": 5,
            "EN AGGLOMERATION": 50 if rng.random() < 0.9 else 30,
            "HORS AGGLOMERATION": int(rng.choice([80, 70, 50], p=[0.7, 0.2, 0.1])),
        }.get(regime, 50)

    if revet == "MEUBLE":
        access = "VTT"
    elif revet == "RUGUEUX":
        access = "VTC"
    elif (greenway or (largeur or 0) >= 2.5) and rng.random() < 0.35:
        access = "ROLLER"
    else:
        access = "VELO DE ROUTE"

    in_agglo = regime != "HORS AGGLOMERATION"
    lumiere = bool(rng.random() < (0.85 if in_agglo else 0.08))

    ni, nj, nm = str(com["nom"].iloc[i]), str(com["nom"].iloc[j]), str(com["nom"].iloc[i_mid])
    if kind == "link":
        nom = f"{'Voie verte' if greenway else 'Liaison cyclable'} {ni} – {nj}"
        reseau = str(rng.choice(RESEAU_LOC, p=[0.1, 0.55, 0.35]))
    else:
        r = rng.random()
        if r < 0.3:
            nom = f"Aménagement cyclable, {nm}"
        elif r < 0.55:
            nom = f"Itinéraire {nm} centre – gare"
        elif r < 0.8:
            nom = f"Boucle cyclable de {nm}"
        else:
            nom = f"Axe cyclable {nm} n°{int(rng.integers(1, 9))}"
        reseau = str(rng.choice(RESEAU_LOC, p=[0.02, 0.2, 0.78]))
    comm = _COMMENTS[int(rng.integers(len(_COMMENTS)))] if rng.random() < 0.12 else None
    if statut == "PROVISOIRE":
        comm = "aménagement temporaire mis en place au printemps 2020, pérennisation à l'étude"
    elif statut == "EN TRAVAUX":
        comm = f"mise en service prévue le {d_service.isoformat()}"

    code = str(com["insee"].iloc[i_mid])
    ident = f"AC-{k + 1:06d}"
    return {
        "id": ident,
        "id_local": ident,
        "reseau_loc": reseau,
        "nom_loc": nom,
        "code_com_d": code,
        "ame_d": ame_d,
        "regime_d": regime,
        "sens_d": d["sens"],
        "largeur_d": d["largeur"],
        "local_d": d["local"],
        "statut_d": d["statut"],
        "revet_d": d["revet"],
        "code_com_g": code,
        "ame_g": ame_g,
        "regime_g": regime,
        "sens_g": g["sens"],
        "largeur_g": g["largeur"],
        "local_g": g["local"],
        "statut_g": g["statut"],
        "revet_g": g["revet"],
        "access_ame": access,
        "date_maj": date_maj.isoformat(),
        "trafic_vit": trafic,
        "lumiere": lumiere,
        "d_service": d_service.isoformat(),
        "comm": comm,
        "source": src,
        "project_c": "RGF93 v1 / Lambert-93 (EPSG:2154)",
        "ref_geo": "Géométrie modélisée (données de démonstration)",
        "longueur_m": round(line.length, 1),
    }
