"""pygeoapi providers of the project, loaded by dotted path from the configuration."""
