"""User criteria of the mutability process read from the friche's own attributes (the
caller's answers override them).

Part of :mod:`processes.mutability.derive` (called by
:func:`~processes.mutability.derive.derive_site`).

Rules:

``typeProprietaire``
    ``friches.proprio_type``: the owner categories of the land unit in the Fichiers fonciers
    typology (Cerema ``catpro3`` codes, e.g. ``{P5a,X1a}``). Public: P (State, region,
    département, EPCI, commune), F2 (public land agencies, EPF), R (SNCF and networks), S
    (public hospitals); co-ownership: G2 (copropriétés); every other code is private (X natural
    persons, Z companies, G1 SCI, F1 and F3-F7 housing bodies and developers, M associations,
    A farming and conservation bodies). One class → ``public`` / ``prive`` /
    ``copro-indivision``; public with another class → ``mixte``; co-ownership with private →
    ``copro-indivision``.
``etatBatiInfrastructure``, ``valeurArchitecturaleHistorique``
    ``pas-de-bati`` when ``friches.bati_nombre`` is 0; ``valeurArchitecturaleHistorique`` is
    also ``sans-interet`` when ``friches.bati_patrimoine`` is « aucun ».
``presencePollution``
    ``oui-amiante`` when ``friches.bati_pollution`` is « amiante »; ``non`` when
    ``friches.sol_pollution_existe`` is « pollution inexistante »; otherwise unavailable (a
    BASIAS listing says an activity was polluting, not what the soil holds).
"""
from __future__ import annotations

import re
from typing import Any

from .derive_context import Derived, _number, _text

#: Fichiers fonciers owner categories (first letter, or letter + digit) -> class
_OWNER_PUBLIC = ("P", "F2", "R", "S")
_OWNER_COPRO = ("G2",)


def owner_class(code: str) -> str:
    """``public`` | ``copro`` | ``prive`` of one Fichiers fonciers owner code (``P5a``...)."""
    code = code.strip().upper()
    if code.startswith(_OWNER_COPRO):
        return "copro"
    if code.startswith(_OWNER_PUBLIC):
        return "public"
    return "prive"


def owner_type(value: Any) -> str | None:
    """``typeProprietaire`` of a ``proprio_type`` list such as ``{P5a,X1a}`` (None if empty)."""
    text = _text(value)
    if not text:
        return None
    codes = [c for c in re.split(r"[{},;\s]+", text) if re.fullmatch(r"[A-Za-z]\d?[a-z]?", c)]
    if not codes:
        return None
    classes = {owner_class(c) for c in codes}
    if classes == {"public"}:
        return "public"
    if "public" in classes:
        return "mixte"
    if "copro" in classes:
        return "copro-indivision"
    return "prive"


def _friche_user_criteria(d: Derived, props) -> None:
    owner = owner_type(props.get("proprio_type"))
    if owner:
        d.set("typeProprietaire", owner, "friches",
              f"proprio_type = {_text(props.get('proprio_type'))} (Fichiers fonciers owner "
              "categories)")
    if _number(props.get("bati_nombre")) == 0:
        d.set("etatBatiInfrastructure", "pas-de-bati", "friches", "bati_nombre = 0")
        d.set("valeurArchitecturaleHistorique", "pas-de-bati", "friches", "bati_nombre = 0")
    elif (_text(props.get("bati_patrimoine")) or "").lower() == "aucun":
        d.set("valeurArchitecturaleHistorique", "sans-interet", "friches",
              "bati_patrimoine = aucun")
    if (_text(props.get("bati_pollution")) or "").lower() == "amiante":
        d.set("presencePollution", "oui-amiante", "friches", "bati_pollution = amiante")
    elif (_text(props.get("sol_pollution_existe")) or "").lower() == "pollution inexistante":
        d.set("presencePollution", "non", "friches",
              "sol_pollution_existe = pollution inexistante")
