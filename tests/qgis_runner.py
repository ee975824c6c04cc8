"""Headless QGIS for the tests: Debian's /usr/bin/python3 with python3-qgis runs a client script
of tests/clients/ in a child process (QGIS 3.22 can crash on a 404 or at exit), which prints its
findings as one `RESULT {json}` line before a hard exit.

    from qgis_runner import requires_qgis, run_client
    @requires_qgis
    def test_...(server): seen = run_client("qgis_oapif.py", server.url, ...)
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest

QGIS_PYTHON = "/usr/bin/python3"
CLIENTS = Path(__file__).resolve().parent / "clients"
SKIP_REASON = "python3-qgis is installed by scripts/setup.sh --test-tools"


@lru_cache(maxsize=1)
def qgis_available() -> bool:
    return bool(shutil.which(QGIS_PYTHON)) and subprocess.run(
        [QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True).returncode == 0


requires_qgis = pytest.mark.skipif(not qgis_available(), reason=SKIP_REASON)


def run_client(script: str, *args: str, timeout: float = 600) -> dict:
    """Run tests/clients/<script> with the arguments; its RESULT, decoded."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": "/tmp"}
    proc = subprocess.run([QGIS_PYTHON, str(CLIENTS / script), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"QGIS gave no result (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(lines[-1][len("RESULT "):])
