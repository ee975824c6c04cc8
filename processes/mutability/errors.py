"""Bilingual errors of the ``mutability`` scoring core (re-exported by :mod:`.core`).

Pure: no web framework, no pygeoapi.
"""

from __future__ import annotations

import json
from typing import Any


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------
class MutabilityError(ValueError):
    """Base class of the bilingual errors of this module (``.fr`` and ``.en`` messages)."""

    def __init__(self, fr: str, en: str):
        self.fr = fr
        self.en = en
        super().__init__(f"{en} / {fr}")


class UnknownAlgorithmVersion(MutabilityError):
    """The requested algorithm version is not in ``matrix.yaml``."""

    def __init__(self, version: Any, supported: list[str]):
        self.version = version
        self.supported = list(supported)
        shown = _show(version)
        listing = ", ".join(supported)
        super().__init__(
            fr=f"Version d'algorithme inconnue : {shown}. Versions prises en charge : {listing}.",
            en=f"Unknown algorithm version: {shown}. Supported versions: {listing}.",
        )


class InvalidCriterion(MutabilityError):
    """A criterion (or a section of the ``criteria`` object) has an invalid name or value.

    Attributes: ``criterion`` (id), ``value`` (offending value), ``allowed`` (list of allowed
    values or a short description), ``fr`` / ``en`` (messages).
    """

    def __init__(self, criterion: str, value: Any, allowed: Any, *, fr: str | None = None,
                 en: str | None = None, label_fr: str | None = None):
        self.criterion = criterion
        self.value = value
        self.allowed = allowed
        if isinstance(allowed, (list, tuple)):
            allowed_fr = allowed_en = ", ".join(_show(a) for a in allowed)
        else:
            allowed_fr, allowed_en = allowed  # (fr, en) descriptions
            self.allowed = allowed_en
        name_fr = f"« {criterion} »" + (f" ({label_fr})" if label_fr else "")
        name_en = f"'{criterion}'" + (f" ({label_fr})" if label_fr else "")
        super().__init__(
            fr=fr or (f"Valeur invalide {_show(value)} pour le critère {name_fr}. "
                      f"Valeurs autorisées : {allowed_fr}."),
            en=en or (f"Invalid value {_show(value)} for criterion {name_en}. "
                      f"Allowed values: {allowed_en}."),
        )


class MatrixDataError(RuntimeError):
    """``matrix.yaml`` is inconsistent (a packaging/data bug, not a caller error)."""


def _show(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)
