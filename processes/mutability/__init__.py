"""``mutability`` process: Mutafriches-compatible mutability scoring of brownfield sites.

The scoring itself lives in :mod:`processes.mutability.core` (pure functions, no web imports);
data and attribution are in ``data/`` (see ``data/ATTRIBUTION.md``).
"""

from .core import (
    DEFAULT_VERSION,
    USES,
    InvalidCriterion,
    MutabilityError,
    UnknownAlgorithmVersion,
    criteria_schema,
    effective_criteria,
    score,
    supported_versions,
)

__all__ = [
    "DEFAULT_VERSION",
    "USES",
    "InvalidCriterion",
    "MutabilityError",
    "UnknownAlgorithmVersion",
    "criteria_schema",
    "effective_criteria",
    "score",
    "supported_versions",
]
