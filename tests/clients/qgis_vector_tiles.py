"""Run by Debian's /usr/bin/python3 (python3-qgis) in a child process: headless QGIS loads the
server's vector tiles as a QgsVectorTileLayer and renders them to an image; prints what it
saw as JSON (validity, CRS, non-background pixels).

QGIS 3.22 can crash at exit, so results are printed and flushed before a hard exit.
usage: qgis_vector_tiles.py URI DEST_EPSG XMIN YMIN XMAX YMAX IMAGE_PATH
  URI: a vector tile layer source, e.g. type=xyz&url=http://…/{z}/{y}/{x}&zmax=16
       or type=xyz&serviceType=arcgis&url=http://…/VectorTileServer
  the extent is in DEST_EPSG, the CRS the map is drawn in.
"""
import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (Qgis, QgsApplication, QgsCoordinateReferenceSystem,  # noqa: E402
                       QgsMapRendererSequentialJob, QgsMapSettings, QgsRectangle,
                       QgsVectorTileLayer)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402

uri, epsg = sys.argv[1], int(sys.argv[2])
xmin, ymin, xmax, ymax = (float(v) for v in sys.argv[3:7])
image_path = sys.argv[7]
app = QgsApplication([], False)
app.initQgis()

out = {"_qgis_version": Qgis.QGIS_VERSION_INT}
layer = QgsVectorTileLayer(uri, "tiles")
out["valid"] = layer.isValid()
if layer.isValid():
    out["crs"] = layer.crs().authid()
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem(f"EPSG:{epsg}"))
    settings.setExtent(QgsRectangle(xmin, ymin, xmax, ymax))
    settings.setOutputSize(QSize(512, 512))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(image_path)
    white = QColor(255, 255, 255).rgb()
    drawn = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            if image.pixel(x, y) != white:
                drawn += 1
    out["drawn_pixels"] = drawn
    out["sampled_pixels"] = (image.width() // 2) * (image.height() // 2)
    out["errors"] = [str(e.message) for e in job.errors()]
print("RESULT " + json.dumps(out), flush=True)
os._exit(0)
