"""``risk-matrix`` process: the agency's exploratory territorial risk matrix.

The scoring is pure and data-driven (:mod:`processes.risk_matrix.core` applies
``data/rules.yaml``); indicator values come from the published layers
(:mod:`processes.risk_matrix.indicators`); :mod:`processes.risk_matrix.svg` draws the grid and
:mod:`processes.risk_matrix.processor` is the pygeoapi adapter.  Sources and justification of
every threshold: ``data/SOURCES.md``.
"""

from .core import (
    RULES_PATH,
    InvalidInput,
    RulesError,
    assess,
    build_matrix,
    classify,
    criticity,
    load_rules,
    societal_indicators,
    societal_input_schema,
)

__all__ = [
    "RULES_PATH",
    "InvalidInput",
    "RulesError",
    "assess",
    "build_matrix",
    "classify",
    "criticity",
    "load_rules",
    "societal_indicators",
    "societal_input_schema",
]
