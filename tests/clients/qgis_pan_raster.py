"""Run by Debian's /usr/bin/python3 (python3-qgis) in a child process: headless QGIS pans over
the `surchauffe` map tiles as a user would (an XYZ layer in WebMercatorQuad and the WMTS layer in
LAMB93), across the edge of the data and out over the sea, Belgium and the rest of the tile
matrix set, and records every HTTP reply QGIS's network manager received and every message
QGIS logged. A tile off the data must not be logged as a transfer error (issue 13).

QGIS 3.22 can crash at exit, so results are printed and flushed before a hard exit.
usage: qgis_pan_raster.py BASE_URL OUTPUT_DIR
"""
import json
import os
import sys
from urllib.parse import quote

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem,  # noqa: E402
                       QgsCoordinateTransform, QgsMapRendererParallelJob, QgsMapSettings,
                       QgsMessageLog, QgsNetworkAccessManager, QgsProject, QgsRasterLayer,
                       QgsRectangle)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor, QImage  # noqa: E402
from qgis.PyQt.QtNetwork import QNetworkReply, QNetworkRequest  # noqa: E402

base, out_dir = sys.argv[1].rstrip("/"), sys.argv[2]
app = QgsApplication([], False)
app.initQgis()

CRS84 = QgsCoordinateReferenceSystem("OGC:CRS84")
# A pan from Béthune (on the data) west over the data's edge, to the Channel, then Belgium and
# far off (the Alps), at the zooms a user passes through (extents in CRS84, ~10 to ~100 km wide)
VIEWS = [
    ("bethune", QgsRectangle(2.55, 50.47, 2.72, 50.57)),
    ("edge_west", QgsRectangle(1.95, 50.35, 2.35, 50.60)),
    ("channel", QgsRectangle(1.10, 50.30, 1.50, 50.55)),
    ("belgium", QgsRectangle(3.60, 50.40, 4.00, 50.65)),
    ("territory", QgsRectangle(1.70, 50.10, 3.30, 50.80)),
    ("alps", QgsRectangle(6.60, 45.70, 7.00, 45.95)),
]

replies = []
logged = []


def on_finished(reply) -> None:
    # QgsNetworkAccessManager.finished carries a QgsNetworkReplyContent
    status = reply.attribute(QNetworkRequest.HttpStatusCodeAttribute)
    replies.append({"url": reply.request().url().toString(), "status": status,
                    "error": int(reply.error()),
                    "error_text": reply.errorString() if reply.error() != QNetworkReply.NoError
                    else ""})


def on_message(message, tag, level) -> None:
    logged.append({"tag": tag, "level": int(level), "message": message[:300]})


QgsNetworkAccessManager.instance().finished.connect(on_finished)
QgsApplication.messageLog().messageReceived.connect(on_message)


def render(layer: QgsRasterLayer, crs: QgsCoordinateReferenceSystem, name: str) -> dict:
    seen = {}
    for view, area in VIEWS:
        settings = QgsMapSettings()
        settings.setLayers([layer])
        settings.setDestinationCrs(crs)
        extent = QgsCoordinateTransform(CRS84, crs, QgsProject.instance()
                                        ).transformBoundingBox(area)
        settings.setExtent(extent)
        settings.setOutputSize(QSize(512, 384))
        settings.setBackgroundColor(QColor(0, 0, 0, 0))
        job = QgsMapRendererParallelJob(settings)
        job.start()
        job.waitForFinished()
        image = job.renderedImage().convertToFormat(QImage.Format_ARGB32)
        image.save(os.path.join(out_dir, f"{name}-{view}.png"))
        opaque = total = 0
        for y in range(0, image.height(), 8):
            for x in range(0, image.width(), 8):
                total += 1
                opaque += QColor.fromRgba(image.pixel(x, y)).alpha() > 200
        seen[view] = {"opaque_share": opaque / total,
                      "errors": [str(e) for e in job.errors()]}
    return seen


out = {"layers": {}}
xyz_url = f"{base}/collections/surchauffe/map/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}?f=png"
xyz = QgsRasterLayer(f"type=xyz&url={quote(xyz_url, safe=':/')}&zmin=0&zmax=16",
                     "surchauffe xyz", "wms")
out["layers"]["xyz"] = {"valid": xyz.isValid()}
if xyz.isValid():
    out["layers"]["xyz"]["views"] = render(xyz, QgsCoordinateReferenceSystem("EPSG:3857"), "xyz")

capabilities = f"{base}/collections/surchauffe/map/tiles/WMTSCapabilities.xml"
wmts_uri = ("contextualWMSLegend=0&crs=EPSG:2154&dpiMode=7&format=image/png"
            "&layers=surchauffe-2024&styles=default&tileMatrixSet=LAMB93"
            f"&url={quote(capabilities, safe=':/')}")
wmts = QgsRasterLayer(wmts_uri, "surchauffe wmts", "wms")
out["layers"]["wmts_lamb93"] = {"valid": wmts.isValid()}
if wmts.isValid():
    out["layers"]["wmts_lamb93"]["views"] = render(
        wmts, QgsCoordinateReferenceSystem("EPSG:2154"), "wmts")

out["replies"] = replies
out["logged"] = logged
print("RESULT " + json.dumps(out), flush=True)
os._exit(0)
