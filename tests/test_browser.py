"""Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) renders what web maps
and the officials' app display: the risk-matrix SVG grid."""
from __future__ import annotations

import base64
import shutil

import pytest

from conftest import ARTIFACTS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not shutil.which("chromium"),
                                reason="chromium is installed by scripts/setup.sh --test-tools")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_risk_matrix_svg_renders_in_chromium(server, browser):
    r = server.post("/processes/risk-matrix/execution", json={"inputs": {"commune": "62119"}})
    assert r.status_code == 200, r.text[:300]
    svg = r.json()["svg"]
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    data_url = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    page.set_content(f'<html><body style="margin:0;background:#fff"><img id="grid" src="{data_url}">'
                     '</body></html>')
    page.wait_for_function("document.getElementById('grid').complete")
    size = page.evaluate("[document.getElementById('grid').naturalWidth,"
                         " document.getElementById('grid').naturalHeight]")
    assert size[0] > 100 and size[1] > 100, size  # the browser decoded the SVG document
    # paint it on a canvas and count coloured (criticity) pixels: the grid is not blank
    coloured = page.evaluate("""() => {
        const img = document.getElementById('grid');
        const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
            if (Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
        }
        return n / (d.length / 4);
    }""")
    assert coloured > 0.05, coloured
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"risk-matrix-62119-{server.log.stem}.png"))
    page.close()
    assert not errors, errors
