"""OGC API processes of the Artois geo server."""
