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
from qgis.core import QgsApplication, QgsRasterLayer, QgsVectorLayer  # noqa: E402

from qgis_render import render  # noqa: E402  (beside this script)


def render_layer(layer) -> dict:
    return render([layer], layer.crs(), layer.extent())


def legend(layer) -> list:
    if isinstance(layer, QgsVectorLayer):
        out = []
        for item in layer.renderer().legendSymbolItems():
            symbol = item.symbol()
            out.append({"label": item.label(),
                        "color": symbol.color().name() if symbol else None})
        return out
    return [{"label": label, "color": color.name()}
            for label, color in layer.renderer().legendSymbologyItems()]


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
        info["render"] = render_layer(layer)
    out[f"{job['name']}:{job['encoding']}"] = info
print("RESULT " + json.dumps(out), flush=True)
os._exit(0)
