"""What the brownfield sheet shows, computed from plain data (pure: no web import, no store
access; services/fiche.py reads the data and renders).

- ``texts(lang)``: the sheet's texts, from the ``fiche_*`` entries of
  ``services/locale/{fr,en}/LC_MESSAGES/messages.po``;
- ``LABELS``: what the Mutafriches method data lacks (English names of the criteria, short
  names of the uses, English of the process's French labels, units): ``templates/
  fiche_labels.yml``; the French criterion names are the method's own;
- ``build(...)``: the template's model (identity, field check, EPCI project, photos, the
  mutability chart and tables, the criteria to fill in ordered by weight, hazards).
"""
from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from babel.dates import format_date
from babel.numbers import format_decimal

from services import fiche_svg
from services.i18n import PageTexts
from processes import yaml_data

HERE = Path(__file__).resolve().parent
LABELS_FILE = HERE / "templates" / "fiche_labels.yml"
BABEL_LOCALE = {"fr": "fr_FR", "en": "en_GB"}
HAZARD_RADIUS = fiche_svg.RADIUS_M
MAX_PHOTOS = 12
MAX_VALUES = 6  # distinct values listed per hazard layer
UNKNOWN = "ne-sait-pas"
# hazard layers looked up around the site -> the fields summarised (text: distinct values,
# numbers: the highest); the criteria of the method are shown beside them
HAZARD_LAYERS: dict[str, tuple[str, ...]] = {
    "alea-inondation": ("niveau", "type_alea"),
    "alea-argiles": ("niveau",),
    "cavites-souterraines": ("type",),
    "puits-miniers": (),
    "sites-icpe": ("seveso", "regime"),
    "bruit": ("classe_lden",),
    "qualite-air": ("no2_ugm3", "pm25_ugm3"),
}
MAP_LAYERS = ("communes", "alea-inondation", "routes-principales", "friches")
# the identity block: (property, text key); surfaces in m²
IDENTITY = (("site_nom", "fiche_f_name"), ("site_id", "fiche_f_site_id"),
            ("comm_nom", "fiche_f_commune"), ("epci_nom", "fiche_f_epci"),
            ("site_type", "fiche_f_type"), ("site_statut", "fiche_f_status"),
            ("site_surface", "fiche_f_site_surface"),
            ("unite_fonciere_surface", "fiche_f_uf_surface"),
            ("bati_surface", "fiche_f_bati_surface"), ("site_adresse", "fiche_f_address"),
            ("activite_libelle", "fiche_f_activity"), ("urba_zone_lib", "fiche_f_zoning"),
            ("source_nom", "fiche_f_source"))
SURFACES = {"site_surface", "unite_fonciere_surface", "bati_surface"}
FIELD_CHECK = ("controle_terrain_date", "controle_terrain_auteur")
EPCI_PROJECT = ("projet_epci_statut", "projet_epci_description")


# ---------------------------------------------------------------------------- texts, labels
class Texts(PageTexts):
    """``t("fiche_title")``, ``t("fiche_state_at", date=...)``: a text of the sheet (the
    ``fiche_*`` entries of messages.po)."""


def texts(lang: str) -> Texts:
    return Texts(lang)


@lru_cache(maxsize=1)
def labels() -> dict[str, Any]:
    return yaml_data.load(LABELS_FILE.read_text(encoding="utf-8"))


def criterion_label(cid: str, lang: str, label_fr: str | None) -> str:
    if lang == "en":
        return labels()["criteria_en"].get(cid) or label_fr or cid
    return label_fr or cid


def use_label(use: str, lang: str) -> str:
    return (labels()["uses"].get(use) or {}).get(lang) or use


def process_label(label: str | None, lang: str) -> str:
    if label is None:
        return ""
    return labels()["labels_en"].get(label, label) if lang == "en" else label


# ---------------------------------------------------------------------------- formatting
def number(value: float, lang: str, digits: int = 1) -> str:
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=BABEL_LOCALE.get(lang, "fr_FR"))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(float(value))


def value_text(value: Any, lang: str, t: Texts, unit: str | None = None) -> str:
    """A value as the reader reads it (booleans in words, numbers with their unit)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, bool):
        return t("fiche_yes") if value else t("fiche_no")
    if _is_number(value):
        return number(float(value), lang) + (f"\u202f{unit}" if unit else "")
    if value == UNKNOWN:
        return t("fiche_unknown_value")
    return str(value)


def date_text(value: Any, lang: str) -> str | None:
    if value in (None, ""):
        return None
    text = str(value)
    try:
        day = dt.date.fromisoformat(text[:10])
    except ValueError:
        return text
    return format_date(day, "long", locale=BABEL_LOCALE.get(lang, "fr_FR"))


def _filled(value: Any) -> bool:
    return value is not None and value != "" and not (isinstance(value, float)
                                                       and not math.isfinite(value))


# ---------------------------------------------------------------------------- blocks
def field_title(spec_fields: Mapping[str, Any], name: str, lang: str, t: Texts,
                fallback: str) -> str:
    title = (spec_fields.get(name) or {}).get("title") if isinstance(spec_fields, Mapping) \
        else None
    if isinstance(title, Mapping) and title.get(lang):
        return str(title[lang])
    return t(fallback)


def identity(props: Mapping[str, Any], lang: str, t: Texts) -> list[dict[str, str]]:
    rows = []
    for name, key in IDENTITY:
        value = props.get(name)
        if not _filled(value):
            continue
        if name in SURFACES and _is_number(value):
            text = number(float(value), lang, 0) + "\u202fm²"
        elif name == "comm_nom" and props.get("comm_insee"):
            text = f"{value} ({props['comm_insee']})"
        else:
            text = value_text(value, lang, t)
        rows.append({"field": name, "label": t(key), "value": text})
    return rows


def observed(props: Mapping[str, Any], names: Sequence[str], spec_fields: Mapping[str, Any],
             lang: str, t: Texts) -> list[dict[str, Any]]:
    """The observatory's own fields (field check, EPCI project), 'not filled in' if empty;
    a field absent from `props` (hidden from the caller, services/access.py) is left out."""
    rows = []
    for name in names:
        if name not in props:
            continue
        value = props.get(name)
        shown = date_text(value, lang) if name.endswith("_date") else \
            (str(value) if _filled(value) else None)
        rows.append({"field": name, "label": field_title(spec_fields, name, lang, t,
                                                          f"fiche_f_{name}"),
                     "value": shown if shown else t("fiche_not_filled"), "filled": bool(shown)})
    return rows


def photos(found: Sequence[Mapping[str, Any]] | None, lang: str) -> dict[str, Any]:
    items = []
    for photo in list(found or [])[:MAX_PHOTOS]:
        href = str(photo.get("href") or "")
        if not href:
            continue
        items.append({"href": href, "thumb": href + ("&" if "?" in href else "?") + "size=thumb",
                      "caption": str(photo.get("caption") or ""),
                      "author": str(photo.get("author") or ""),
                      "date": date_text(photo.get("uploaded"), lang) or "",
                      "width": photo.get("width"), "height": photo.get("height")})
    return {"items": items, "more": max(0, len(found or []) - MAX_PHOTOS)}


def chart_rows(results: Sequence[Mapping[str, Any]], lang: str) -> list[dict[str, Any]]:
    colours = labels()["potential_colours"]
    rows = []
    for r in sorted(results, key=lambda r: r.get("rank") or 0):
        index = float(r.get("index") or 0)
        rows.append({"use": r["use"], "rank": r.get("rank"), "index": index,
                     "label": use_label(r["use"], lang), "excluded": bool(r.get("excluded")),
                     "colour": colours.get(r.get("label"), "#4c9f38"),
                     "potential": process_label(r.get("label"), lang),
                     "index_text": f"{number(index, lang)}\u202f%",
                     "value": f"{number(index, lang)}\u202f% · {process_label(r.get('label'), lang)}",
                     "advantages": number(float(r.get("advantages") or 0), lang, 2),
                     "constraints": number(float(r.get("constraints") or 0), lang, 2)})
    return rows


def _source_text(source: str, t: Texts) -> str:
    return t(f"fiche_src_{source}") if source in ("derived", "given", "stored", "unavailable") \
        else source


def criteria_rows(criteria: Sequence[Mapping[str, Any]], weight_total: float, lang: str,
                  t: Texts) -> tuple[list[dict], list[dict]]:
    """(to fill in, informed): every criterion of the version once. The criteria that do not
    count for the reliability (unavailable, or « ne sait pas ») come first, heaviest first:
    each one filled in raises the reliability by its weight (``gain``, points out of 10)."""
    units = labels()["units"]
    rows = []
    for order, c in enumerate(criteria):
        cid = str(c.get("id"))
        weight = float(c.get("weight") or 0)
        informed = bool(c.get("informed", c.get("source") != "unavailable"))
        source = str(c.get("source") or "unavailable")
        rows.append({
            "id": cid, "order": order, "label": criterion_label(cid, lang, c.get("label")),
            "value": value_text(c.get("value"), lang, t, units.get(cid)),
            "source": source, "source_text": _source_text(source, t),
            "layer": c.get("layer"), "rule": c.get("rule"), "weight": weight,
            "weight_text": number(weight, lang), "informed": informed,
            "gain": number(10 * weight / weight_total, lang, 2) if weight_total and not informed
            else "",
        })
    to_fill = sorted((r for r in rows if not r["informed"]), key=lambda r: (-r["weight"],
                                                                              r["order"]))
    return to_fill, [r for r in rows if r["informed"]]


def hazards_nearby(point: Any, frames: Mapping[str, Any], titles: Mapping[str, Mapping],
                   demo: set[str], lang: str, t: Texts) -> list[dict[str, Any]]:
    """Per hazard layer: features within HAZARD_RADIUS of the site, the nearest distance and
    a summary of their fields (distinct texts, highest numbers)."""
    rows = []
    for cid, fields in HAZARD_LAYERS.items():
        title = (titles.get(cid) or {}).get(lang) or cid
        frame = frames.get(cid)
        row = {"id": cid, "title": title, "demo": cid in demo, "count": 0, "nearest": "",
               "summary": "", "missing": frame is None}
        if frame is None or not len(frame):
            rows.append(row)
            continue
        distances = frame.geometry.distance(point)
        near = frame[distances <= HAZARD_RADIUS]
        row["count"] = int(len(near))
        if len(near):
            nearest = float(distances[distances <= HAZARD_RADIUS].min())
            row["nearest"] = t("fiche_on_site") if nearest < 0.5 else \
                number(nearest, lang, 0) + "\u202fm"
            parts = []
            for name in fields:
                if name not in near.columns:
                    continue
                column = near[name].dropna()
                if not len(column):
                    continue
                if all(_is_number(v) for v in column):
                    parts.append(f"{name} ≤ {number(float(max(column)), lang)}")
                else:
                    values = sorted({str(v) for v in column})
                    shown = ", ".join(values[:MAX_VALUES]) + (" …" if len(values) > MAX_VALUES
                                                               else "")
                    parts.append(f"{name} : {shown}" if lang == "fr" else f"{name}: {shown}")
            row["summary"] = " ; ".join(parts) if lang == "fr" else "; ".join(parts)
        rows.append(row)
    return rows


def vocations(value: Any, lang: str) -> list[str]:
    """The process's ``vocations`` (when it gives them), as lines of text, whatever their
    shape: a list of objects (label, use or id, then the other plain members), a mapping, or
    text."""
    if value is None:
        return []
    items: Iterable[Any]
    if isinstance(value, Mapping):
        items = [{"id": k, "value": v} if not isinstance(v, Mapping) else {"id": k, **v}
                 for k, v in value.items()]
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        return [str(value)]
    lines = []
    for item in list(items)[:50]:
        if not isinstance(item, Mapping):
            lines.append(str(item))
            continue
        name = item.get(f"label_{lang}") or item.get("label") or item.get("title") or \
            (use_label(str(item["use"]), lang) if item.get("use") else None) or item.get("id")
        rest = []
        if isinstance(item.get("uses"), (list, tuple)):
            rest.append(", ".join(use_label(str(u), lang) for u in item["uses"]))
        if _is_number(item.get("index")):
            rest.append(f"{number(float(item['index']), lang)}\u202f%")
        rest += [f"{k}: {v}" for k, v in item.items()
                 if k not in ("label", "label_fr", "label_en", "title", "use", "uses", "id",
                              "index")
                 and isinstance(v, (str, int, float, bool)) and v not in ("", None)]
        lines.append(str(name) + (f" — {' — '.join(rest)}" if rest else ""))
    return lines


# ---------------------------------------------------------------------------- the model
def mutability(output: Mapping[str, Any] | None, lang: str, t: Texts) -> dict[str, Any] | None:
    if not output or not isinstance(output.get("result"), Mapping):
        return None
    result = output["result"]
    rel = result.get("reliability") or {}
    rows = chart_rows(result.get("results") or [], lang)
    to_fill, informed = criteria_rows(result.get("criteria") or [],
                                      float(rel.get("weight_total") or 0), lang, t)
    hazard_ids = labels()["hazard_criteria"]
    by_id = {r["id"]: r for r in to_fill + informed}
    return {
        "chart": fiche_svg.chart_svg(rows, t("fiche_chart_title"), t("fiche_excluded")),
        "uses": rows,
        "reliability": {
            "score": number(float(rel.get("score") or 0), lang),
            "label": process_label(rel.get("label"), lang),
            "informed": rel.get("criteria_informed"), "total": rel.get("criteria_total"),
            "weight_informed": number(float(rel.get("weight_informed") or 0), lang),
            "weight_total": number(float(rel.get("weight_total") or 0), lang),
            "weight_informed_raw": rel.get("weight_informed"),
        },
        "version": result.get("algorithm_version"),
        "to_fill": to_fill, "informed": informed,
        "hazard_criteria": [by_id[c] for c in hazard_ids if c in by_id],
        "vocations": vocations(result.get("vocations"), lang),
        "has_vocations": "vocations" in result,
    }


def build(*, props: Mapping[str, Any], point: Any, output: Mapping[str, Any] | None,
          error: str | None, found_photos: Sequence[Mapping[str, Any]] | None,
          photos_available: bool, frames: Mapping[str, Any], titles: Mapping[str, Mapping],
          demo: set[str], spec_fields: Mapping[str, Any], lang: str,
          today: dt.date) -> dict[str, Any]:
    """The template's model of one friche (``point``: its geometry in EPSG:2154)."""
    t = texts(lang)
    name = str(props.get("site_nom") or props.get("site_id") or "")
    anchor = point.representative_point() if point is not None else None
    locator = None
    if anchor is not None:
        locator = fiche_svg.map_svg(
            anchor.x, anchor.y, {cid: frames.get(cid) for cid in MAP_LAYERS},
            commune=props.get("comm_insee"), site_name=name,
            title=t("fiche_map_alt", name=name),
            scale_label=lambda m: f"{m}\u202fm")
    legend = [{"key": key, "text": t(f"fiche_legend_{key}"),
               "demo": key in demo, "missing": key in MAP_LAYERS and frames.get(key) is None}
              for key in ("friche", "radius", "friches", "communes", "alea-inondation",
                          "routes-principales")]
    return {
        "lang": lang, "other_lang": "en" if lang == "fr" else "fr", "t": t, "name": name,
        "site_id": str(props.get("site_id") or ""),
        "today": format_date(today, "long", locale=BABEL_LOCALE.get(lang, "fr_FR")),
        "identity": identity(props, lang, t),
        "field_check": observed(props, FIELD_CHECK, spec_fields, lang, t),
        "epci_project": observed(props, EPCI_PROJECT, spec_fields, lang, t),
        "photos": photos(found_photos, lang), "photos_available": photos_available,
        "map": locator, "legend": legend,
        "mutability": mutability(output, lang, t), "mutability_error": error,
        "hazards": hazards_nearby(anchor, frames, titles, demo, lang, t)
        if anchor is not None else [],
        "demo_used": bool(demo & (set(HAZARD_LAYERS) | set(MAP_LAYERS))),
    }
