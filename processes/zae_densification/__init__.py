"""Densification potential of business parks (issue 17 point 6): process ``zae-densification``."""
