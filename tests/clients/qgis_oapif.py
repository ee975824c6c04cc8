"""Run by Debian's /usr/bin/python3 (python3-qgis) in a child process: headless QGIS reads the
server's collections through its OAPIF provider and prints what it saw as JSON.

QGIS 3.22 can crash at exit, so results are printed and flushed before a hard exit.
usage: qgis_oapif.py BASE_URL '{"layer": "subset string or empty", ...}'
"""
import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import Qgis, QgsApplication, QgsFeatureRequest, QgsVectorLayer  # noqa: E402

base, layers = sys.argv[1], json.loads(sys.argv[2])
app = QgsApplication([], False)
app.initQgis()
out = {"_qgis_version": Qgis.QGIS_VERSION_INT}
for name, subset in layers.items():
    uri = f"pagingEnabled='true' preferCoordinatesForWfsT11='false' restrictToRequestBBOX='0' " \
          f"typename='{name}' url='{base}' version='OGC_API_FEATURES'"
    layer = QgsVectorLayer(uri, name, "OAPIF")
    info = {"valid": layer.isValid()}
    if layer.isValid():
        if subset:
            info["subset_accepted"] = layer.setSubsetString(subset)
        ids = []
        for f in layer.getFeatures(QgsFeatureRequest()):
            ids.append(str(f.attribute(layer.fields().indexOf(layer.fields()[0].name()))))
        info.update(count=len(ids), fields=[f.name() for f in layer.fields()],
                    crs=layer.crs().authid(), geometry_type=layer.wkbType(),
                    extent=[layer.extent().xMinimum(), layer.extent().yMinimum(),
                            layer.extent().xMaximum(), layer.extent().yMaximum()],
                    capabilities=layer.dataProvider().capabilitiesString())
    out[name] = info
print("RESULT " + json.dumps(out), flush=True)
os._exit(0)
