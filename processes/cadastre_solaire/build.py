"""The solar cadastre as the build makes it: the generator of collections/cadastre-solaire.yml
(``artois-geo build`` calls :func:`generate` with the frames it `requires`, EPSG:2154)."""
from __future__ import annotations

import geopandas as gpd

from .compute import compute


def generate(layers: dict[str, gpd.GeoDataFrame], seed: int = 0) -> gpd.GeoDataFrame:
    """The `source.generator` of collections/cadastre-solaire.yml (the seed is not used)."""
    out, report = compute(layers["batiments"], layers["communes"])
    print(f"  cadastre-solaire: {report['toitures']} roofs in {report['secondes']} s "
          f"({report['cellules']} sites)", flush=True)
    return out
