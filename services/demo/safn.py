"""Solutions d'adaptation fondées sur la nature (SAFN) — MODELLED DEMONSTRATION DATA.

A catalogue of reference sheets ("fiches") of nature-based solutions for
climate adaptation (rain gardens, de-sealing, urban forests, oasis school
yards...), one point per modelled realisation in an Artois town.  The sheets'
generic content (description, benefits, limits, lifetime, maintenance, cost
range per m², usual funding) is real, sensible guidance per type of solution,
written for this project from the general literature (ADEME « Plus fraîche ma
ville », Cerema, Agence de l'eau Artois-Picardie); the *sites* are fictitious:
their location, year, area, exact costs and wording are drawn by a seeded random
generator (``numpy.random.default_rng``).  Some « renaturation de friche » points
sit on real brownfields of the Cartofriches inventory (``layers["friches"]``),
but the renaturation project itself is modelled.

No national schema exists for such a catalogue; field names follow the French
snake case of the other collections (``insee``, ``commune``, ``source``) and the
vocabulary of the ADEME « Plus fraîche ma ville » solution sheets.
``photo_url`` links to a public reference page for the type of solution (no
photograph of the modelled sites exists).  Geometry: Point, EPSG:2154.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import Point

from . import (
    BASSIN_MINIER_EPCI,
    CRS,
    a,
    commune_lookup,
    de,
    make_rng,
    random_point_in,
    sorted_communes,
    source_label,
    territory,
    to_l93,
)

# --------------------------------------------------------------------------------------
# per-type reference content
# keys: weight, title (for names), cost (min, max) €/m², lifetime years, area range m²,
#       description variants, benefits, limits, maintenance, funding pool, reference url
# --------------------------------------------------------------------------------------
TYPES: dict[str, dict] = {
    "noue végétalisée": {
        "w": 10, "titre": "Noue végétalisée", "cout": (25, 70), "vie": 30, "surface": (150, 1500),
        "description": [
            "Fossé large et peu profond, enherbé et planté, qui recueille les eaux de ruissellement de la voirie, "
            "les stocke temporairement et les infiltre dans le sol au lieu de les envoyer au réseau.",
            "Dépression linéaire plantée de vivaces et d'arbustes adaptés à l'alternance sec/humide, "
            "aménagée le long de la chaussée pour gérer les pluies courantes à la parcelle.",
        ],
        "benefices": "Réduit les volumes envoyés au réseau unitaire et les débordements ; recharge la nappe ; "
                     "rafraîchit l'air par évapotranspiration ; crée un corridor de biodiversité ; coût inférieur "
                     "à un bassin enterré.",
        "limites": "Emprise au sol importante ; inadaptée aux sols peu perméables ou pollués sans étanchéité ; "
                   "demande un profil en long soigné et une vigilance sur les réseaux enterrés ; "
                   "risque de comblement si l'entretien est négligé.",
        "gestion": "Fauche ou tonte 2 à 3 fois par an, ramassage des déchets, curage léger des dépôts "
                   "tous les 5 à 10 ans, contrôle des surverses après les gros orages ; aucun produit phytosanitaire.",
        "financements": ["Agence de l'eau Artois-Picardie", "Fonds vert (renaturation des villes et villages)",
                         "Département du Pas-de-Calais"],
        "url": "https://www.eau-artois-picardie.fr/",
        "lieux": ["rue Jean Jaurès", "avenue de la République", "rue des Écoles", "rue Pasteur",
                  "lotissement des Prés", "rue du Marais"],
    },
    "désimperméabilisation": {
        "w": 10, "titre": "Désimperméabilisation", "cout": (60, 180), "vie": 30, "surface": (300, 5000),
        "description": [
            "Dépose de l'enrobé ou du béton d'un espace public, décompactage et apport de terre fertile, "
            "puis plantation ou revêtement perméable, pour rendre au sol sa capacité d'infiltration.",
            "Transformation d'une place minérale en espace partiellement planté : retrait des revêtements "
            "étanches, création de fosses de plantation continues et de surfaces perméables.",
        ],
        "benefices": "Infiltration des pluies à la source ; baisse de la température de surface de plusieurs "
                     "degrés en été ; sol vivant et biodiversité ; amélioration du cadre de vie ; contribue à "
                     "l'objectif de zéro artificialisation nette.",
        "limites": "Coût de dépose et d'évacuation des matériaux ; sols pollués ou remblais miniers à diagnostiquer ; "
                   "contraintes des réseaux et de l'accessibilité ; gain perceptible seulement sur des surfaces "
                   "suffisantes.",
        "gestion": "Arrosage de reprise les 2 à 3 premières années, désherbage manuel, paillage, "
                   "surveillance de la perméabilité des revêtements.",
        "financements": ["Fonds vert (renaturation des villes et villages)", "Agence de l'eau Artois-Picardie",
                         "Région Hauts-de-France", "FEDER"],
        "url": "https://plusfraichemaville.fr/fiche-solution/revetement-drainant",
        "lieux": ["place de la Mairie", "place de l'Église", "parvis de la salle des fêtes", "place du Marché",
                  "rue piétonne du centre"],
    },
    "toiture végétalisée": {
        "w": 7, "titre": "Toiture végétalisée", "cout": (40, 120), "vie": 40, "surface": (200, 3000),
        "description": [
            "Toiture-terrasse d'un équipement public recouverte d'un complexe drainant et d'un substrat "
            "de faible épaisseur planté de sédums, de graminées et de vivaces (végétalisation extensive).",
            "Végétalisation semi-intensive d'une toiture plate : substrat de 15 à 30 cm, prairie fleurie "
            "et petits arbustes, avec stockage d'une partie des pluies.",
        ],
        "benefices": "Rétention et écrêtement des pluies ; meilleur confort d'été du dernier étage ; "
                     "protection et allongement de la durée de vie de l'étanchéité ; refuge pour les insectes "
                     "pollinisateurs.",
        "limites": "Portance de la charpente à vérifier (surcoût sur l'existant) ; effet sur la chaleur de la rue "
                   "limité ; rafraîchissement faible en végétalisation extensive ; accès sécurisé nécessaire pour "
                   "l'entretien.",
        "gestion": "Une à deux visites par an : retrait des plantes indésirables, contrôle des évacuations "
                   "d'eaux pluviales, regarnissage ponctuel ; arrosage seulement en sécheresse prolongée.",
        "financements": ["Fonds vert (renaturation des villes et villages)", "ADEME", "Région Hauts-de-France"],
        "url": "https://plusfraichemaville.fr/",
        "lieux": ["médiathèque", "gymnase", "groupe scolaire", "centre technique municipal", "salle des sports"],
    },
    "îlot de fraîcheur": {
        "w": 9, "titre": "Îlot de fraîcheur", "cout": (80, 250), "vie": 30, "surface": (500, 6000),
        "description": [
            "Espace public ombragé par des arbres de haute tige, avec pelouse, fontaine ou brumisation et "
            "mobilier, accessible à tous pendant les vagues de chaleur.",
            "Square réaménagé pour offrir un refuge frais en été : plantation d'arbres à grand développement, "
            "strates arbustives, sol perméable et point d'eau potable.",
        ],
        "benefices": "Température ressentie abaissée de plusieurs degrés sous les arbres ; refuge pour les "
                     "personnes vulnérables lors des canicules ; lien social ; biodiversité.",
        "limites": "Effet maximal seulement après 10 à 15 ans de croissance des arbres ; consommation d'eau des "
                   "dispositifs de brumisation ; besoin de surveillance et d'ouverture en soirée en période de "
                   "canicule.",
        "gestion": "Arrosage des jeunes arbres 3 ans, taille de formation, entretien différencié des pelouses, "
                   "maintenance des points d'eau, ouverture élargie lors du plan canicule.",
        "financements": ["Fonds vert (renaturation des villes et villages)", "FEDER", "Région Hauts-de-France"],
        "url": "https://plusfraichemaville.fr/fiche-solution/planter-un-arbre",
        "lieux": ["square du centre", "jardin public", "parc de la cité", "square de la gare", "mail planté"],
    },
    "renaturation de friche": {
        "w": 9, "titre": "Renaturation de friche", "cout": (15, 110), "vie": 50, "surface": (5000, 80000),
        "description": [
            "Reconversion d'une friche industrielle ou minière en espace de nature : démolitions, gestion des "
            "terres polluées sur place, création de prairies, boisements et zones humides.",
            "Renaturation d'un ancien site d'activité : déminéralisation, confinement ou phytomanagement des "
            "sols, plantations et cheminements doux, sans nouvelle construction.",
        ],
        "benefices": "Recrée des sols vivants et des continuités écologiques ; stocke du carbone ; crée un "
                     "rafraîchissement à l'échelle du quartier ; offre un espace de loisirs ; compense "
                     "l'artificialisation au titre du ZAN.",
        "limites": "Diagnostics et traitement de la pollution coûteux et longs ; maîtrise foncière parfois "
                   "difficile ; usages limités tant que les sols ne sont pas compatibles ; gestion à long "
                   "terme à financer.",
        "gestion": "Fauche tardive annuelle, suivi écologique (faune, flore), contrôle des espèces exotiques "
                   "envahissantes, surveillance des sols et des eaux souterraines si confinement.",
        "financements": ["Fonds vert (recyclage foncier)", "EPF Hauts-de-France", "FEDER",
                         "Région Hauts-de-France", "ADEME"],
        "url": "https://cartofriches.cerema.fr/cartofriches/",
        "lieux": ["ancienne friche industrielle", "ancien carreau de fosse", "ancienne usine", "ancien dépôt"],
    },
    "jardin de pluie": {
        "w": 8, "titre": "Jardin de pluie", "cout": (30, 90), "vie": 25, "surface": (30, 400),
        "description": [
            "Petite dépression plantée recevant l'eau des toitures ou d'un parking voisin, où elle s'infiltre "
            "en moins de 48 heures à travers un substrat drainant.",
            "Massif creux planté de vivaces tolérant l'immersion temporaire, raccordé aux descentes de "
            "gouttières d'un bâtiment public.",
        ],
        "benefices": "Déconnexion des eaux pluviales du réseau ; infiltration et dépollution naturelle ; "
                     "faible coût ; support pédagogique ; fraîcheur et biodiversité en ville.",
        "limites": "Capacité limitée aux pluies courantes ; nécessite un sol suffisamment perméable et "
                   "une nappe pas trop haute ; risque de colmatage par les fines ; à éloigner des fondations.",
        "gestion": "Désherbage manuel, paillage, enlèvement des dépôts à l'entrée, remplacement de quelques "
                   "plants ; vérifier la vidange après les fortes pluies.",
        "financements": ["Agence de l'eau Artois-Picardie", "Fonds vert (renaturation des villes et villages)"],
        "url": "https://www.eau-artois-picardie.fr/",
        "lieux": ["école maternelle", "mairie", "maison de quartier", "résidence", "salle polyvalente"],
    },
    "forêt urbaine": {
        "w": 7, "titre": "Forêt urbaine", "cout": (20, 60), "vie": 80, "surface": (200, 3000),
        "description": [
            "Micro-forêt dense plantée d'essences locales (chêne pédonculé, charme, érable champêtre, "
            "noisetier, aubépine) à raison de 2 à 3 plants par m² sur un sol préparé et paillé.",
            "Boisement urbain participatif planté avec les habitants et les écoles, associant strates "
            "arborée, arbustive et herbacée d'essences indigènes.",
        ],
        "benefices": "Ombre et fraîcheur durables ; stockage de carbone ; biodiversité ; écran acoustique ; "
                     "implication des habitants et des scolaires.",
        "limites": "Croissance de plusieurs années avant un effet rafraîchissant notable ; taux de mortalité "
                   "des plants en sécheresse ; besoin de foncier ; perception de sécurité à prendre en compte.",
        "gestion": "Arrosage et désherbage les 2 à 3 premières années, paillage renouvelé, puis gestion "
                   "minimale (éclaircies éventuelles après 10 ans).",
        "financements": ["Fonds vert (renaturation des villes et villages)", "Région Hauts-de-France",
                         "Département du Pas-de-Calais"],
        "url": "https://plusfraichemaville.fr/fiche-solution/planter-un-arbre",
        "lieux": ["délaissé routier", "parc de la cité", "abords du collège", "talus de la voie ferrée",
                  "entrée de ville"],
    },
    "mare / zone humide": {
        "w": 6, "titre": "Mare pédagogique et zone humide", "cout": (20, 80), "vie": 30, "surface": (100, 4000),
        "description": [
            "Création ou restauration d'une mare aux berges en pente douce, avec ceinture de plantes "
            "hélophytes, alimentée par les eaux de pluie.",
            "Zone humide de fond de vallée restaurée : reprofilage des berges, suppression d'un remblai, "
            "reconnexion au cours d'eau et prairie inondable.",
        ],
        "benefices": "Stockage de l'eau et écrêtement des crues ; fraîcheur locale ; habitat pour les "
                     "amphibiens et les libellules ; épuration naturelle ; support d'éducation à "
                     "l'environnement.",
        "limites": "Assèchement estival possible ; risque d'eutrophisation ; sécurité des abords à traiter ; "
                   "procédure loi sur l'eau pour les zones humides ; moustiques redoutés par les riverains.",
        "gestion": "Faucardage partiel tous les 2 à 3 ans, curage tous les 10 à 15 ans par moitié, "
                   "contrôle des espèces invasives, suivi des amphibiens.",
        "financements": ["Agence de l'eau Artois-Picardie", "FEDER", "Département du Pas-de-Calais"],
        "url": "https://www.zones-humides.org/",
        "lieux": ["prairie communale", "fond de vallée", "parc urbain", "ancien bassin de décantation",
                  "abords de l'étang"],
    },
    "cour d'école oasis": {
        "w": 8, "titre": "Cour d'école oasis", "cout": (120, 350), "vie": 30, "surface": (600, 3000),
        "description": [
            "Cour d'école déminéralisée et végétalisée avec les élèves : arbres, potager, copeaux et sols "
            "perméables, récupération des eaux de pluie et coins calmes ombragés.",
            "Transformation d'une cour en enrobé en cour « oasis » : suppression d'une partie du bitume, "
            "plantations, jeux en matériaux naturels et ombrières végétales.",
        ],
        "benefices": "Baisse nette de la température de surface de la cour ; confort d'été des élèves ; "
                     "gestion des pluies à la parcelle ; cour plus mixte et apaisée ; support pédagogique ; "
                     "ouverture possible aux habitants hors temps scolaire.",
        "limites": "Coût élevé ; travaux à caler pendant les vacances scolaires ; acceptation des surfaces "
                   "meubles (boue, copeaux) ; entretien partagé entre la commune et l'équipe éducative.",
        "gestion": "Arrosage des plantations en été, renouvellement des copeaux, entretien du potager avec "
                   "les classes, taille et contrôle sécurité des jeux.",
        "financements": ["Fonds vert (renaturation des villes et villages)", "Agence de l'eau Artois-Picardie",
                         "DSIL", "Région Hauts-de-France"],
        "url": "https://plusfraichemaville.fr/fiche-solution/arbres-vegetaux-cour-ecole",
        "lieux": ["école élémentaire", "école primaire du centre", "groupe scolaire de la cité",
                  "école maternelle"],
    },
    "parking perméable": {
        "w": 7, "titre": "Parking perméable", "cout": (40, 110), "vie": 25, "surface": (500, 6000),
        "description": [
            "Aire de stationnement en pavés à joints enherbés ou en dalles alvéolées, sur une structure "
            "réservoir qui stocke et infiltre les pluies, plantée d'arbres entre les places.",
            "Réfection d'un parking en enrobé drainant et bandes plantées, avec noues de collecte et "
            "arbres d'ombrage.",
        ],
        "benefices": "Infiltration des eaux à la source ; voitures et sol moins chauds grâce à l'ombrage ; "
                     "suppression de la surcharge du réseau ; aspect plus paysager.",
        "limites": "Moins adapté au trafic lourd et aux manœuvres intenses ; colmatage progressif des joints ; "
                   "déneigement et accessibilité des personnes à mobilité réduite à étudier.",
        "gestion": "Balayage-aspiration annuel pour préserver la perméabilité, tonte des joints enherbés, "
                   "taille des arbres, remplacement ponctuel de dalles.",
        "financements": ["Agence de l'eau Artois-Picardie", "Fonds vert (renaturation des villes et villages)",
                         "DETR"],
        "url": "https://plusfraichemaville.fr/fiche-solution/revetement-drainant",
        "lieux": ["parking de la gare", "parking du stade", "parking de la salle des fêtes",
                  "parking du cimetière", "parking du centre commercial"],
    },
}

N_RANGE = (64, 77)  # number of sheets: low inclusive, high exclusive
# year of realisation: few before 2018, growing with the Fonds vert (2023-), 2025 partial
_YEARS = np.arange(2012, 2026)
_YEAR_P = np.array([1, 1, 1, 1, 1, 1, 2, 3, 3, 5, 6, 7, 7, 4], dtype=float)
_YEAR_P /= _YEAR_P.sum()


def cap(text: str) -> str:
    """Capitalise the first letter (à -> À)."""
    return text[:1].upper() + text[1:]


def generate(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    """Model 64–76 nature-based-solution sheets in Artois towns (see module docstring)."""
    com = sorted_communes(layers)
    terr_inner = territory(com).buffer(-5)
    shapely.prepare(terr_inner)
    rng = make_rng(seed, "safn")
    src = source_label(seed)

    n = int(rng.integers(N_RANGE[0], N_RANGE[1]))
    types = list(TYPES)
    w = np.array([TYPES[t]["w"] for t in types], dtype=float)
    # every type at least 3 times, then the rest by weight
    drawn = [t for t in types for _ in range(3)]
    drawn += [types[int(i)] for i in rng.choice(len(types), size=n - len(drawn), p=w / w.sum())]
    drawn = [drawn[int(i)] for i in rng.permutation(len(drawn))]

    # real brownfields, stable order
    friches = None
    if "friches" in layers and len(layers["friches"]):
        f = to_l93(layers["friches"])
        key = "site_id" if "site_id" in f.columns else None
        f = f.sort_values(key, kind="mergesort") if key else f
        f = f[f.geometry.notna() & f.geometry.geom_type.eq("Point")]
        friches = f[[terr_inner.contains(g) for g in f.geometry]].reset_index(drop=True)

    pop = com["population_municipale"].to_numpy(dtype=float)
    p_town = pop**0.8 / (pop**0.8).sum()
    used_friches: set[int] = set()
    points, friche_ids = [], []
    for t in drawn:
        pt, fid = None, None
        if t == "renaturation de friche" and friches is not None and len(friches) and rng.random() < 0.7:
            for _ in range(20):
                k = int(rng.integers(len(friches)))
                if k not in used_friches:
                    used_friches.add(k)
                    g = friches.geometry.iloc[k]
                    pt = Point(round(g.x, 2), round(g.y, 2))
                    fid = str(friches["site_id"].iloc[k]) if "site_id" in friches.columns else None
                    break
        while pt is None:
            i = int(rng.choice(len(com), p=p_town))
            poly = com.geometry.iloc[i].intersection(terr_inner)
            c = com["centre"].iloc[i]
            pt = random_point_in(rng, poly, c, 150.0 + 4.0 * np.sqrt(pop[i]))
        points.append(pt)
        friche_ids.append(fid)

    idx = commune_lookup(com, points)
    records = []
    for k, (t, pt, fid, i) in enumerate(zip(drawn, points, friche_ids, idx)):
        records.append(_sheet(rng, k, t, com.iloc[int(i)], fid, src))
    return gpd.GeoDataFrame(records, geometry=points, crs=CRS)


def _sheet(rng, k: int, t: str, commune, friche_id: str | None, src: str) -> dict:
    spec = TYPES[t]
    nom_com = str(commune["nom"])
    bassin = str(commune["epci_siren"]) in BASSIN_MINIER_EPCI
    pop = int(commune["population_municipale"])

    lieu = spec["lieux"][int(rng.integers(len(spec["lieux"])))]
    nom = f"{spec['titre']} – {lieu}, {nom_com}"

    annee = int(rng.choice(_YEARS, p=_YEAR_P))
    lo_s, hi_s = spec["surface"]
    surface = int(round(float(np.exp(rng.uniform(np.log(lo_s), np.log(hi_s)))), -1))
    cmin, cmax = spec["cout"]
    cout_min = int(round(cmin * rng.uniform(0.85, 1.15)))
    cout_max = int(round(cmax * rng.uniform(0.85, 1.15)))
    if cout_max <= cout_min:
        cout_max = cout_min + 10
    vie = int(spec["vie"] + rng.integers(-5, 6)) if spec["vie"] >= 30 else int(spec["vie"])

    if bassin:
        context = str(rng.choice([
            f"Le projet s'inscrit dans le renouvellement d'un quartier de cité minière {de(nom_com)}.",
            f"{cap(a(nom_com))}, commune de l'ancien bassin minier, les sols remaniés ont imposé un diagnostic préalable.",
            f"Le site {de(nom_com)} fait partie d'un programme de requalification du bassin minier.",
        ]))
    elif pop >= 2000:
        context = f"{cap(a(nom_com))}, bourg-centre du territoire, l'aménagement sert de vitrine pour les communes voisines."
    else:
        context = f"{cap(a(nom_com))}, commune rurale, le projet a été conduit en régie avec l'appui de l'intercommunalité."
    if friche_id:
        context += f" Implantation sur la friche recensée par Cartofriches (site {friche_id}) ; projet de renaturation modélisé."
    base = spec["description"][int(rng.integers(len(spec["description"])))]
    surface_txt = f"{surface:,}".replace(",", "\u202f")  # French thousands separator
    description = f"{base} Réalisation modélisée en {annee} sur environ {surface_txt} m². {context}"

    pool = list(spec["financements"])
    if bassin:
        pool.append("ERBM (Engagement pour le renouveau du bassin minier)")
    n_fin = int(rng.integers(2, min(4, len(pool)) + 1))
    fin = [pool[int(i)] for i in sorted(rng.choice(len(pool), size=n_fin, replace=False))]

    return {
        "id": f"SAFN-{k + 1:03d}",
        "nom": nom,
        "type_solution": t,
        "description": description,
        "benefices": spec["benefices"],
        "limites": spec["limites"],
        "duree_vie_ans": vie,
        "gestion": spec["gestion"],
        "cout_min_eur_m2": cout_min,
        "cout_max_eur_m2": cout_max,
        "financements": ", ".join(fin),
        "photo_url": spec["url"],
        "insee": str(commune["insee"]),
        "commune": nom_com,
        "annee_realisation": annee,
        "surface_m2": surface,
        "friche_site_id": friche_id,
        "source": src,
    }
