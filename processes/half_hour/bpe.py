"""Reading a real INSEE BPE extract into the ``equipements`` collection (``artois-geo import``).

The BPE "ensemble des équipements géolocalisés" file (CSV, ``;``) has the columns ``TYPEQU``
(type code), ``DEPCOM`` (INSEE code of the commune), ``LAMBERT_X``/``LAMBERT_Y`` (Lambert-93
metres) and statistical zonings (``AN``, ``DEP``, ``REG``, ``EPCI``, ``DCIRIS``, ``QP``,
``QUALITE_XY``...). :func:`import_profile` (named by ``source.import_profile`` in
collections/equipements.yml and called by services/importer.py on the file read) keeps the
columns the collection has (``TYPEQU`` -> ``typequ``, ``DEPCOM`` -> ``insee``, ``EPCI`` ->
``epci_siren``, ``LIBCOM`` -> ``commune``, ``NOMRS`` -> ``nom``), drops the others, drops the
rows without coordinates (``QUALITE_XY`` "Non géolocalisé"), fills ``libelle_type`` from the
known types, and gives each row an identifier ``bpe-{insee}-{typequ}-{n}`` when the file has
none. A file without both ``TYPEQU`` and ``DEPCOM`` (e.g. one in the collection's own
columns) passes through unchanged: its unknown columns are refused as usual.

    artois-geo import equipements bpe23_ensemble_xy.csv --x LAMBERT_X --y LAMBERT_Y \\
        --crs EPSG:2154 --mode upsert
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

RENAME = {"typequ": "typequ", "depcom": "insee", "epci": "epci_siren", "libcom": "commune",
          "nomrs": "nom", "nom": "nom", "id": "id", "libelle_type": "libelle_type",
          "insee": "insee", "commune": "commune", "epci_siren": "epci_siren",
          "date_ouverture": "date_ouverture", "date_fermeture": "date_fermeture",
          "source": "source"}


def _labels() -> dict[str, str]:
    from services.demo.equipements import TYPES, ZAE_TYPE
    out = {code: spec[0] for code, spec in TYPES.items()}
    out[ZAE_TYPE[0]] = ZAE_TYPE[1]
    return out


def import_profile(source: Any) -> Any:
    """The importer's Source of a BPE file -> a Source in the collection's columns."""
    lower = {c.lower() for c in source.columns}
    if not {"typequ", "depcom"} <= lower:
        return source  # not a BPE file (e.g. the collection's own columns): as it is
    mapping = {c: RENAME[c.lower()] for c in source.columns if c.lower() in RENAME}
    labels = _labels()
    columns = list(dict.fromkeys([*mapping.values(), "id", "libelle_type", "source"]))
    rows, counts = [], {}
    for row in source.rows:
        if row.geometry is None and not row.geometry_problems:
            continue  # not geolocated in the BPE
        values = {mapping[c]: v for c, v in row.values.items() if c in mapping}
        code = str(values.get("typequ") or "").strip()
        insee = str(values.get("insee") or "").strip()
        if not values.get("id"):
            key = (insee, code)
            counts[key] = counts.get(key, 0) + 1
            values["id"] = f"bpe-{insee}-{code}-{counts[key]:03d}"
        values.setdefault("libelle_type", labels.get(code, code))
        if not values.get("nom"):
            values["nom"] = values["libelle_type"]
        values.setdefault("source", "INSEE, Base permanente des équipements")
        rows.append(replace(row, values=values))
    return replace(source, columns=columns, rows=rows)
