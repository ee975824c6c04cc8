"""Every setting the server reads from the environment is documented in the README."""
from __future__ import annotations

import re
from pathlib import Path

from services.settings import Settings

PROJECT = Path(__file__).resolve().parent.parent
# read by the test tools and scripts only, documented where they are used
NOT_SERVER_SETTINGS = {"ARTOIS_PYTHON", "ARTOIS_PG_PORT", "ARTOIS_PG_DATA"}


def _read_in_code() -> set[str]:
    names = set()
    for folder in ("services", "processes"):
        for path in (PROJECT / folder).rglob("*.py"):
            names |= set(re.findall(r"ARTOIS_[A-Z0-9_]*[A-Z0-9]", path.read_text(encoding="utf-8")))
    names |= {f"ARTOIS_{name.upper()}" for name in Settings.model_fields
              if name != "database_url"}
    return names - NOT_SERVER_SETTINGS


def test_every_environment_setting_is_in_the_readme():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Settings"):]
    missing = sorted(name for name in _read_in_code() if f"`{name}" not in table)
    assert not missing, f"settings missing from the README's settings table: {missing}"
