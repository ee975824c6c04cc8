"""Run by Debian's /usr/bin/python3 (python3-qgis) in a child process: headless QGIS loads the
`surchauffe` map tiles as an XYZ layer (WebMercatorQuad) and as a WMTS layer in the LAMB93 tile
matrix set (from /collections/surchauffe/map/tiles/WMTSCapabilities.xml), renders each over
Béthune - Lens to an image, then pans each as a user would, across the edge of the data and out
over the Channel, Belgium and the Alps, and prints as JSON what it saw, with every HTTP reply
QGIS's network manager received and every message QGIS logged (a tile off the data must not be
logged as a transfer error: issue 13).

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
                       QgsNetworkAccessManager, QgsProject, QgsRasterLayer, QgsRectangle)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor, QImage  # noqa: E402
from qgis.PyQt.QtNetwork import QNetworkReply, QNetworkRequest  # noqa: E402

base, out_dir = sys.argv[1].rstrip("/"), sys.argv[2]
app = QgsApplication([], False)
app.initQgis()

CRS84 = QgsCoordinateReferenceSystem("OGC:CRS84")
# Béthune - Lens, where the coverage has data (CRS84)
AREA = QgsRectangle(2.60, 50.40, 2.80, 50.52)
# A pan from Béthune west over the data's edge to the Channel, then Belgium, the whole
# territory, and far off (the Alps): extents in CRS84, ~10 to ~100 km wide
VIEWS = [
    ("bethune", QgsRectangle(2.55, 50.47, 2.72, 50.57)),
    ("edge_west", QgsRectangle(1.95, 50.35, 2.35, 50.60)),
    ("channel", QgsRectangle(1.10, 50.30, 1.50, 50.55)),
    ("belgium", QgsRectangle(3.60, 50.40, 4.00, 50.65)),
    ("territory", QgsRectangle(1.70, 50.10, 3.30, 50.80)),
    ("alps", QgsRectangle(6.60, 45.70, 7.00, 45.95)),
]
replies, logged = [], []


def on_finished(reply) -> None:  # a QgsNetworkReplyContent
    failed = reply.error() != QNetworkReply.NoError
    replies.append({"url": reply.request().url().toString(),
                    "status": reply.attribute(QNetworkRequest.HttpStatusCodeAttribute),
                    "error": int(reply.error()), "error_text": reply.errorString() if failed else ""})


def on_message(message, tag, level) -> None:
    logged.append({"tag": tag, "level": int(level), "message": message[:300]})


# QGIS keeps tiles in a disk cache shared by its processes: start empty, so that every tile
# of this run is requested (and its reply recorded)
if QgsNetworkAccessManager.instance().cache() is not None:
    QgsNetworkAccessManager.instance().cache().clear()
QgsNetworkAccessManager.instance().finished.connect(on_finished)
QgsApplication.messageLog().messageReceived.connect(on_message)


def render(layer: QgsRasterLayer, crs: QgsCoordinateReferenceSystem, area: QgsRectangle,
           name: str, step: int = 4) -> dict:
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(crs)
    extent = QgsCoordinateTransform(CRS84, crs, QgsProject.instance()).transformBoundingBox(area)
    settings.setExtent(extent)
    settings.setOutputSize(QSize(512, 384))
    settings.setBackgroundColor(QColor(0, 0, 0, 0))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage().convertToFormat(QImage.Format_ARGB32)
    image.save(os.path.join(out_dir, f"{name}.png"))
    opaque, colours, warm_or_cool, total = 0, set(), 0, 0
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            c = QColor(image.pixel(x, y))
            c.setAlpha(QColor.fromRgba(image.pixel(x, y)).alpha())
            total += 1
            if c.alpha() > 200:
                opaque += 1
                colours.add((c.red() // 8, c.green() // 8, c.blue() // 8))
                if abs(c.red() - c.blue()) > 60:
                    warm_or_cool += 1
    return {"opaque_share": opaque / total, "colours": len(colours),
            "reddish_or_bluish": warm_or_cool / total, "errors": [str(e) for e in job.errors()]}


def look(layer: QgsRasterLayer, crs: QgsCoordinateReferenceSystem, name: str) -> dict:
    seen = {"valid": layer.isValid(), "crs": layer.crs().authid(),
            "error": layer.error().summary() if not layer.isValid() else ""}
    if layer.isValid():
        seen.update(render(layer, crs, AREA, name))
        seen["pan"] = {view: render(layer, crs, area, f"{name}-{view}", step=8)
                       for view, area in VIEWS}
    return seen


out = {}
xyz_url = f"{base}/collections/surchauffe/map/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}?f=png"
xyz = QgsRasterLayer(f"type=xyz&url={quote(xyz_url, safe=':/')}&zmin=0&zmax=14",
                     "surchauffe xyz", "wms")
out["xyz"] = look(xyz, QgsCoordinateReferenceSystem("EPSG:3857"), "xyz")

capabilities = f"{base}/collections/surchauffe/map/tiles/WMTSCapabilities.xml"
wmts_uri = ("contextualWMSLegend=0&crs=EPSG:2154&dpiMode=7&format=image/png"
            "&layers=surchauffe-2024&styles=default&tileMatrixSet=LAMB93"
            f"&url={quote(capabilities, safe=':/')}")
wmts = QgsRasterLayer(wmts_uri, "surchauffe wmts", "wms")
out["wmts_lamb93"] = look(wmts, QgsCoordinateReferenceSystem("EPSG:2154"), "wmts_lamb93")
out["replies"], out["logged"] = replies, logged
print("RESULT " + json.dumps(out), flush=True)
os._exit(0)
