"""Tiles: OGC API Tiles (vector MVT and raster map tiles) and their tile matrix sets."""
