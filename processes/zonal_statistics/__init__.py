"""``zonal-statistics`` process: summer overheating statistics of a commune or a polygon.

:mod:`.core` computes them from numpy arrays (no web or store imports); :mod:`.processor` is
the pygeoapi adapter (inputs, geometry from the communes collection, raster reading).
"""
