"""The ``solar-potential`` process: solar potential of roofs (usable area, irradiation, kWc,
kWh, class), computed with pvlib from a typical year scaled to the climate of Béthune.

* ``core``: pure model (roof planes, irradiation, production, classes) — no web imports;
* ``shading``: horizon profiles from a surface-model raster (rasterio);
* ``processor``: the thin pygeoapi adapter (``SolarPotentialProcessor``) and ``run(inputs)``;
* ``data/``: climate, parameters and classes (YAML) and their sources (``SOURCES.md``).
"""
