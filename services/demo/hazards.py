"""Hazard layers of the risk matrix — MODELLED DEMONSTRATION DATA.

The agency has no open, territory-wide layer for four of the hazards of its exploratory risk
matrix, so the build publishes *modelled* stand-ins.  Every record is fictitious: zones,
classes, dates and concentrations are drawn by seeded random generators
(``numpy.random.default_rng`` through :func:`services.demo.make_rng`) on top of the real
communes.  They show what the matrix would do with the real national layers; they are NOT
hazard maps and must never be read as such.

``generate_flood``  -> ``alea-inondation`` (MultiPolygon)
    See :mod:`services.demo.hazards_flood` (its module docstring describes the model).
``generate_clay``  -> ``alea-argiles`` (MultiPolygon)
    See :mod:`services.demo.hazards_clay` (its module docstring describes the model).
``generate_noise``  -> ``bruit`` (MultiPolygon)
    See :mod:`services.demo.hazards_noise` (its module docstring describes the model).
``generate_air``  -> ``qualite-air`` (MultiPolygon)
    See :mod:`services.demo.hazards_air` (its module docstring describes the model).

The helpers they share are in :mod:`services.demo.hazards_common`. This module re-exports
the generators (``generator:`` of the collection specs) and the public names of the four.

All geometries are EPSG:2154; every record carries ``source`` =
:func:`services.demo.source_label` and the ``date_maj`` of the modelled data set.
"""

from __future__ import annotations

from .hazards_air import AIR_RES, AIR_YEAR, generate_air  # noqa: F401
from .hazards_clay import (  # noqa: F401
    CLAY_LEVELS,
    CLAY_RES,
    CLAY_SHARES,
    clay_field,
    generate_clay,
)
from .hazards_common import MIN_PIECE_M2  # noqa: F401
from .hazards_flood import (  # noqa: F401
    DOCUMENTS,
    EXTRA_RIVERS,
    FLOOD_KNOT,
    FLOOD_STEP,
    LAST_FLOOD_YEARS,
    NIVEAUX,
    NOT_VALLEYS,
    RIVER_WIDTH,
    TYPES_ALEA,
    flood_rivers,
    generate_flood,
)
from .hazards_noise import (  # noqa: F401
    INFRASTRUCTURES,
    LDEN_CLASSES,
    LDEN_MIN,
    NOISE_KNOT,
    NOISE_STEP,
    NOISE_WIDTHS,
    TYPES_SOURCE,
    generate_noise,
    noise_lines,
)
