"""Errors of the raster routes: bilingual JSON OGC exceptions, and the texts they use.

The raster texts are kept here as a small dict of {"fr", "en"} texts (TEXTS) rather than in
services/i18n.py, so that the raster modules stay self-contained. Every error the raster routes
answer is built from a CoverageError (services.front.ogc_error: code, description_fr,
description_en), including FastAPI's validation errors of the typed titiler dependencies
(validation_texts turns pydantic's error list into one French and one English sentence).
"""
from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse


class CoverageError(Exception):
    """A request error with its bilingual text; becomes an OGC exception."""

    def __init__(self, status: int, code: str, fr: str, en: str):
        super().__init__(en)
        self.status, self.code, self.fr, self.en = status, code, fr, en

    def response(self) -> JSONResponse:
        from services.front import ogc_error
        return ogc_error(self.status, self.code, self.fr, self.en)


def bad(fr: str, en: str) -> CoverageError:
    return CoverageError(400, "InvalidParameterValue", fr, en)


def not_found(fr: str, en: str) -> CoverageError:
    return CoverageError(404, "NotFound", fr, en)


TEXTS: dict[str, dict[str, str]] = {
    "bands": {
        "fr": "bidx={asked} : bande inexistante ou répétée (bandes valides : {valid})",
        "en": "bidx={asked}: no such band, or a band repeated (valid bands: {valid})"},
    "refused": {
        "fr": "paramètre {name} non proposé par ce serveur : {why_fr}",
        "en": "parameter {name} is not offered by this server: {why_en}"},
    "dataset_url": {
        "fr": "paramètre {name} refusé : les données servies sont celles du serveur",
        "en": "parameter {name} refused: only the server's own data are served"},
    "zooms": {
        "fr": "minzoom ({minzoom}) doit être inférieur ou égal à maxzoom ({maxzoom})",
        "en": "minzoom ({minzoom}) must be at most maxzoom ({maxzoom})"},
    "point_range": {
        "fr": "coordonnées {x},{y} hors du domaine de validité de {crs} "
              "(x de {x0:g} à {x1:g}, y de {y0:g} à {y1:g})",
        "en": "coordinates {x},{y} outside the valid range of {crs} "
              "(x from {x0:g} to {x1:g}, y from {y0:g} to {y1:g})"},
    "outside": {
        "fr": "aucune donnée ici : point hors de la couverture",
        "en": "no data here: point outside the coverage"},
    "tile_level": {
        "fr": "niveau {z} absent de {tms} ({minzoom}-{maxzoom})",
        "en": "tile matrix {z} not in {tms} ({minzoom}-{maxzoom})"},
    "tile_matrix": {
        "fr": "tuile {z}/{row}/{col} hors de la matrice {z} de {tms} ({height} lignes, "
              "{width} colonnes)",
        "en": "tile {z}/{row}/{col} outside matrix {z} of {tms} ({height} rows, "
              "{width} columns)"},
    "json_only": {
        "fr": "f={fmt} : ce document n'existe qu'en JSON (f=json)",
        "en": "f={fmt}: this document is only available as JSON (f=json)"},
    "xml_only": {
        "fr": "f={fmt} : les capacités WMTS n'existent qu'en XML (f=xml)",
        "en": "f={fmt}: the WMTS capabilities are only available as XML (f=xml)"},
    "bbox_count": {
        "fr": "bbox doit comporter 4 valeurs (minx,miny,maxx,maxy) ou 6 (avec minz et maxz) : "
              "{n} reçue(s)",
        "en": "bbox must have 4 values (minx,miny,maxx,maxy) or 6 (with minz and maxz): "
              "{n} given"},
    "bbox_numbers": {
        "fr": "bbox : des nombres sont attendus ({value})",
        "en": "bbox: numbers are expected ({value})"},
    "bbox_finite": {
        "fr": "bbox : des nombres finis sont attendus (ni nan, ni inf, ni dépassement) ({value})",
        "en": "bbox: finite numbers are expected (no nan, inf or overflow) ({value})"},
    "bbox_order": {
        "fr": "bbox : min doit être inférieur à max sur chaque axe (minx,miny,maxx,maxy)",
        "en": "bbox: min must be less than max on each axis (minx,miny,maxx,maxy)"},
    "bbox_range": {
        "fr": "bbox hors du domaine de {crs} (longitude de -180 à 180, latitude de -90 à 90)",
        "en": "bbox outside the range of {crs} (longitude from -180 to 180, latitude from -90 "
              "to 90)"},
    "bbox_outside": {
        "fr": "bbox hors de la couverture", "en": "bbox outside the coverage"},
    "internal": {
        "fr": "erreur interne du serveur en lisant la couverture ; l'incident est journalisé",
        "en": "internal server error while reading the coverage; the incident is logged"},
    "unknown_resource": {"fr": "ressource inconnue", "en": "unknown resource"},
    "method": {"fr": "méthode non permise", "en": "method not allowed"},
    "invalid": {"fr": "requête invalide : {fr}", "en": "invalid request: {en}"},
}


def texts(key: str, **values: Any) -> tuple[str, str]:
    spec = TEXTS[key]
    return spec["fr"].format(**values), spec["en"].format(**values)


def bad_text(key: str, **values: Any) -> CoverageError:
    return bad(*texts(key, **values))


def not_found_text(key: str, **values: Any) -> CoverageError:
    return not_found(*texts(key, **values))


# pydantic's error types -> (French, English); {name} is the parameter, {value} what was sent
_VALIDATION: dict[str, tuple[str, str]] = {
    "less_than_equal": ("{name}={value} : au plus {le}", "{name}={value}: at most {le}"),
    "less_than": ("{name}={value} : moins de {lt}", "{name}={value}: less than {lt}"),
    "greater_than": ("{name}={value} : plus de {gt}", "{name}={value}: more than {gt}"),
    "greater_than_equal": ("{name}={value} : au moins {ge}", "{name}={value}: at least {ge}"),
    "multiple_of": ("{name}={value} : un multiple de {multiple_of} est attendu",
                    "{name}={value}: a multiple of {multiple_of} is expected"),
    "finite_number": ("{name}={value} : un nombre fini est attendu",
                      "{name}={value}: a finite number is expected"),
    "int_parsing": ("{name}={value} : un entier est attendu",
                    "{name}={value}: an integer is expected"),
    "int_from_float": ("{name}={value} : un entier est attendu",
                       "{name}={value}: an integer is expected"),
    "float_parsing": ("{name}={value} : un nombre est attendu",
                      "{name}={value}: a number is expected"),
    "bool_parsing": ("{name}={value} : true ou false est attendu",
                     "{name}={value}: true or false is expected"),
    "literal_error": ("{name}={value} : valeurs admises : {expected}",
                      "{name}={value}: allowed values: {expected}"),
    "enum": ("{name}={value} : valeurs admises : {expected}",
             "{name}={value}: allowed values: {expected}"),
    "missing": ("{name} manquant", "{name} missing"),
}
_DEFAULT_VALIDATION = ("{name}={value} : valeur invalide", "{name}={value}: invalid value")


def validation_texts(errors: list[dict[str, Any]]) -> tuple[str, str]:
    """One French and one English sentence for FastAPI's RequestValidationError.errors():
    one part per parameter (a parameter failing several alternatives, e.g. a number or a
    keyword, gets the generic text)."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for err in errors:
        loc = tuple(err.get("loc") or ("?",))
        name = str(loc[1]) if len(loc) > 1 and loc[0] in _SOURCES else str(loc[-1])
        by_name.setdefault(name, []).append(err)
    fr_parts: list[str] = []
    en_parts: list[str] = []
    for name, errs in by_name.items():
        err = errs[0]
        value = err.get("input")
        value = "" if value is None or isinstance(value, (dict, list)) else str(value)[:40]
        ctx = {k: (str(v).replace(" or ", ", ") if k == "expected" else
                   f"{v:g}" if isinstance(v, float) else v)
               for k, v in (err.get("ctx") or {}).items()}
        kind = err.get("type", "") if len({e.get("type") for e in errs}) == 1 else ""
        fr, en = _VALIDATION.get(kind, _DEFAULT_VALIDATION)
        try:
            fr, en = (t.format(name=name, value=value, **ctx) for t in (fr, en))
        except (KeyError, IndexError):
            fr, en = (t.format(name=name, value=value) for t in _DEFAULT_VALIDATION)
        fr_parts.append(fr)
        en_parts.append(en)
    return ("paramètre invalide : " + " ; ".join(fr_parts),
            "invalid parameter: " + "; ".join(en_parts))


_SOURCES = ("query", "path", "header", "cookie", "body")
