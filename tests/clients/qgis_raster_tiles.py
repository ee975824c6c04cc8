"""Run by Debian's /usr/bin/python3 (python3-qgis) in a child process: headless QGIS loads the
`surchauffe` map tiles as an XYZ layer (WebMercatorQuad) and as a WMTS layer in the LAMB93 tile
matrix set (from /collections/surchauffe/map/tiles/WMTSCapabilities.xml), renders each to an
image and prints what it saw as JSON.

QGIS 3.22 can crash at exit, so results are printed and flushed before a hard exit.
usage: qgis_raster_tiles.py BASE_URL OUTPUT_DIR
"""
import json
import os
import sys
from urllib.parse import quote

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem,  # noqa: E402
                       QgsCoordinateTransform, QgsMapRendererParallelJob, QgsMapSettings,
                       QgsProject, QgsRasterLayer, QgsRectangle)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor, QImage  # noqa: E402

base, out_dir = sys.argv[1].rstrip("/"), sys.argv[2]
app = QgsApplication([], False)
app.initQgis()

# Béthune - Lens, where the coverage has data (CRS84)
AREA = QgsRectangle(2.60, 50.40, 2.80, 50.52)
CRS84 = QgsCoordinateReferenceSystem("OGC:CRS84")


def render(layer: QgsRasterLayer, crs: QgsCoordinateReferenceSystem, name: str) -> dict:
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(crs)
    extent = QgsCoordinateTransform(CRS84, crs, QgsProject.instance()).transformBoundingBox(AREA)
    settings.setExtent(extent)
    settings.setOutputSize(QSize(512, 384))
    settings.setBackgroundColor(QColor(0, 0, 0, 0))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage().convertToFormat(QImage.Format_ARGB32)
    image.save(os.path.join(out_dir, f"{name}.png"))
    opaque, colours, warm_or_cool, total = 0, set(), 0, 0
    for y in range(0, image.height(), 4):
        for x in range(0, image.width(), 4):
            c = QColor(image.pixel(x, y))
            c.setAlpha(QColor.fromRgba(image.pixel(x, y)).alpha())
            total += 1
            if c.alpha() > 200:
                opaque += 1
                colours.add((c.red() // 8, c.green() // 8, c.blue() // 8))
                if abs(c.red() - c.blue()) > 60:
                    warm_or_cool += 1
    return {"opaque_share": opaque / total, "colours": len(colours),
            "reddish_or_bluish": warm_or_cool / total}


out = {}
xyz_url = f"{base}/collections/surchauffe/map/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}?f=png"
xyz = QgsRasterLayer(f"type=xyz&url={quote(xyz_url, safe=':/')}&zmin=0&zmax=14",
                     "surchauffe xyz", "wms")
out["xyz"] = {"valid": xyz.isValid(), "crs": xyz.crs().authid()}
if xyz.isValid():
    out["xyz"].update(render(xyz, QgsCoordinateReferenceSystem("EPSG:3857"), "xyz"))

capabilities = f"{base}/collections/surchauffe/map/tiles/WMTSCapabilities.xml"
wmts_uri = ("contextualWMSLegend=0&crs=EPSG:2154&dpiMode=7&format=image/png"
            "&layers=surchauffe-2024&styles=default&tileMatrixSet=LAMB93"
            f"&url={quote(capabilities, safe=':/')}")
wmts = QgsRasterLayer(wmts_uri, "surchauffe wmts", "wms")
out["wmts_lamb93"] = {"valid": wmts.isValid(), "crs": wmts.crs().authid(),
                      "error": wmts.error().summary() if not wmts.isValid() else ""}
if wmts.isValid():
    out["wmts_lamb93"].update(render(wmts, QgsCoordinateReferenceSystem("EPSG:2154"),
                                     "wmts_lamb93"))
print("RESULT " + json.dumps(out), flush=True)
os._exit(0)
