"""pygeoapi's rasterio coverage provider with the right CRS URI for projected rasters.

pygeoapi 0.24 names a projected raster's CRS `http://www.opengis.net/def/crs/OGC/1.3/<EPSG code>`,
which is no CRS at all: CoverageJSON readers (covutils in pygeoapi's own HTML page) reject it.
The EPSG register's URI is `http://www.opengis.net/def/crs/EPSG/0/<code>`.
"""
from __future__ import annotations

from pygeoapi.provider.rasterio_ import RasterioProvider

WRONG_PREFIX = "http://www.opengis.net/def/crs/OGC/1.3/"
EPSG_PREFIX = "http://www.opengis.net/def/crs/EPSG/0/"


class RasterioCOGProvider(RasterioProvider):
    def _get_coverage_properties(self):
        properties = super()._get_coverage_properties()
        crs = properties.get("bbox_crs", "")
        code = crs.removeprefix(WRONG_PREFIX)
        if crs.startswith(WRONG_PREFIX) and code.isdigit():
            properties["bbox_crs"] = EPSG_PREFIX + code
        return properties
