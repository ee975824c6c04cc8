"""``risk-matrix`` process: the agency's exploratory territorial risk matrix.

The scoring is pure and data-driven (:mod:`processes.risk_matrix.core` applies
``data/rules.yaml``); the environmental indicators come from the published layers
(:mod:`processes.risk_matrix.indicators`), the societal ones too where the server holds the
data, overridable by the caller (:mod:`processes.risk_matrix.societal`); each risk carries
preventive and curative actions (:mod:`processes.risk_matrix.actions`, ``data/actions.yaml``);
:mod:`processes.risk_matrix.svg` draws the grid and :mod:`processes.risk_matrix.processor` is
the pygeoapi adapter (its description: :mod:`processes.risk_matrix.metadata`).  Sources and
justification of every threshold: ``data/SOURCES.md``.
"""

from .core import (
    RULES_PATH,
    InvalidInput,
    RulesError,
    assess,
    build_matrix,
    classify,
    criticity,
    environmental_entries,
    load_rules,
    trend,
)

__all__ = [
    "RULES_PATH",
    "InvalidInput",
    "RulesError",
    "assess",
    "build_matrix",
    "classify",
    "criticity",
    "environmental_entries",
    "load_rules",
    "trend",
]
