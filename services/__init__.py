"""artois-geo: OGC API server for the Artois territorial data (pygeoapi-based)."""
