"""Run by Debian's /usr/bin/python3 (python3-qgis) in a child process: headless QGIS loads each
style file (QML with loadNamedStyle, SLD with loadSldStyle) on a layer read from the store,
renders it and prints, as JSON, what it made of the style.

QGIS 3.22 can crash at exit, so results are printed and flushed before a hard exit.
usage: qgis_styles.py '[{"name": ..., "source": ..., "provider": "ogr"|"gdal",
                         "style": PATH, "encoding": "qml"|"sld"}, ...]'
"""
import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (QgsApplication, QgsMapRendererSequentialJob, QgsMapSettings,  # noqa: E402
                       QgsRasterLayer, QgsVectorLayer)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def render(layer) -> dict:
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setExtent(layer.extent())
    settings.setOutputSize(QSize(400, 300))
    settings.setBackgroundColor(QColor(255, 255, 255, 0))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    painted, colours = 0, set()
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            pixel = image.pixelColor(x, y)
            if pixel.alpha() > 0:
                painted += 1
                colours.add(pixel.name())
    return {"painted": painted, "colours": len(colours),
            "errors": [e.message for e in job.errors()]}


def legend(layer) -> list:
    if isinstance(layer, QgsVectorLayer):
        out = []
        for item in layer.renderer().legendSymbolItems():
            symbol = item.symbol()
            out.append({"label": item.label(),
                        "color": symbol.color().name() if symbol else None})
        return out
    return [{"label": label, "color": color.name()}
            for label, color in layer.legendSymbologyItems()]


app = QgsApplication([], False)
app.initQgis()
out = {}
for job in json.loads(sys.argv[1]):
    if job["provider"] == "gdal":
        layer = QgsRasterLayer(job["source"], job["name"], "gdal")
    else:
        layer = QgsVectorLayer(job["source"], job["name"], "ogr")
    info = {"valid": layer.isValid()}
    if layer.isValid():
        if job["encoding"] == "qml":
            message, ok = layer.loadNamedStyle(job["style"])
        else:
            message, ok = layer.loadSldStyle(job["style"])
        info.update(ok=bool(ok), message=message)
        renderer = layer.renderer()
        info["renderer"] = renderer.type() if renderer else None
        info["legend"] = legend(layer)
        info["render"] = render(layer)
    out[f"{job['name']}:{job['encoding']}"] = info
print("RESULT " + json.dumps(out), flush=True)
os._exit(0)
