"""Reading the project's YAML files: collection specs, the processes' tables and rules, styles.

PyYAML's pure-Python loader spent about 3 s of every process start on them (each server
worker, the job workers, every command). libyaml's loader, which PyYAML's wheels include,
reads the same documents about ten times faster; both construct with the safe constructor
(plain data, no Python objects).
"""
from __future__ import annotations

from typing import IO, Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(stream: str | bytes | IO) -> Any:
    """yaml.safe_load, with libyaml when PyYAML has it."""
    return yaml.load(stream, Loader=_LOADER)
