"""Errors of the raster routes: services.errors.OGCError, with the raster messages.

The raster texts are catalogue messages (``raster_*`` keys of
``services/locale/*/LC_MESSAGES/errors.po``). Every error the raster routes answer is a
CoverageError, including FastAPI's validation errors of the typed titiler dependencies
(validation_error turns pydantic's error list into one sentence, of ``raster_param_*``
messages, in each language).
"""
from __future__ import annotations

from typing import Any

from services.errors import OGCError, texts


class CoverageError(OGCError):
    """A request error of the raster routes (an OGCError: key ``raster_*``, status, code)."""


def error(key: str, status: int = 400, **values: Any) -> CoverageError:
    """CoverageError of catalogue message ``raster_<key>``."""
    return CoverageError(f"raster_{key}", status=status, params=values)


def bad_text(key: str, **values: Any) -> CoverageError:
    return error(key, 400, **values)


def not_found_text(key: str, **values: Any) -> CoverageError:
    return error(key, 404, **values)


def grouped(number: int) -> dict[str, str]:
    """``number`` with its thousands grouped, as each language writes it (a message value)."""
    return {"fr": f"{number:,}".replace(",", " "), "en": f"{number:,}"}


# pydantic's error type -> (message ``raster_param_<suffix>``, the ``ctx`` value it needs);
# in each message {name} is the parameter, {value} what was sent
_VALIDATION: dict[str, tuple[str, str | None]] = {
    "less_than_equal": ("at_most", "le"),
    "less_than": ("less_than", "lt"),
    "greater_than": ("more_than", "gt"),
    "greater_than_equal": ("at_least", "ge"),
    "multiple_of": ("multiple_of", "multiple_of"),
    "finite_number": ("finite", None),
    "int_parsing": ("integer", None),
    "int_from_float": ("integer", None),
    "float_parsing": ("number", None),
    "bool_parsing": ("boolean", None),
    "literal_error": ("allowed", "expected"),
    "enum": ("allowed", "expected"),
    "missing": ("missing", None),
}


def validation_error(errors: list[dict[str, Any]]) -> CoverageError:
    """The 400 of FastAPI's RequestValidationError.errors(): one part per parameter (a
    parameter failing several alternatives, e.g. a number or a keyword, gets the generic
    text), joined in each language."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for err in errors:
        loc = tuple(err.get("loc") or ("?",))
        name = str(loc[1]) if len(loc) > 1 and loc[0] in _SOURCES else str(loc[-1])
        by_name.setdefault(name, []).append(err)
    parts: list[dict[str, str]] = []
    for name, errs in by_name.items():
        err = errs[0]
        value = err.get("input")
        value = "" if value is None or isinstance(value, (dict, list)) else str(value)[:40]
        ctx = {k: (str(v).replace(" or ", ", ") if k == "expected" else
                   f"{v:g}" if isinstance(v, float) else v)
               for k, v in (err.get("ctx") or {}).items()}
        kind = err.get("type", "") if len({e.get("type") for e in errs}) == 1 else ""
        suffix, needs = _VALIDATION.get(kind, ("invalid", None))
        if needs is not None and needs not in ctx:
            suffix, needs = "invalid", None
        values = {"name": name, "value": value}
        if needs is not None:
            values[needs] = ctx[needs]
        parts.append(texts(f"raster_param_{suffix}", **values))
    return bad_text("validation", parts={"fr": " ; ".join(p["fr"] for p in parts),
                                         "en": "; ".join(p["en"] for p in parts)})


_SOURCES = ("query", "path", "header", "cookie", "body")
