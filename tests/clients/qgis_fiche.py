"""Run by Debian's /usr/bin/python3 (python3-qgis) in a child process: headless QGIS reads one
layer of a .qgs project (its <maplayer> element alone, so the other layers are not loaded),
fetches one feature from the server and expands, for it, the layer's map tip and actions, as
QGIS and Lizmap do when a user clicks it. Prints what it saw as JSON.

usage: qgis_fiche.py PROJECT.qgs SHORTNAME FEATURE_ID
"""
import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (QgsApplication, QgsExpression, QgsExpressionContext,  # noqa: E402
                       QgsExpressionContextUtils, QgsFeatureRequest, QgsReadWriteContext,
                       QgsVectorLayer)
from qgis.PyQt.QtXml import QDomDocument  # noqa: E402

path, shortname, feature_id = sys.argv[1:4]
app = QgsApplication([], False)
app.initQgis()
doc = QDomDocument()
with open(path, encoding="utf-8") as handle:
    doc.setContent(handle.read())
out = {"valid": False, "actions": [], "maptip": None}
nodes = doc.elementsByTagName("maplayer")
for i in range(nodes.count()):
    element = nodes.at(i).toElement()
    if element.firstChildElement("shortname").text() != shortname:
        continue
    layer = QgsVectorLayer()
    layer.readLayerXml(element, QgsReadWriteContext())
    out["valid"] = layer.isValid()
    out["template"] = layer.mapTipTemplate()
    request = QgsFeatureRequest().setFilterExpression(f"\"site_id\" = '{feature_id}'")
    feature = next(iter(layer.getFeatures(request)), None)
    if feature is None:
        break
    context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    context.setFeature(feature)
    out["maptip"] = QgsExpression.replaceExpressionText(layer.mapTipTemplate(), context)
    for action in layer.actions().actions():
        out["actions"].append({"type": int(action.type()), "name": action.name(),
                               "expanded": QgsExpression.replaceExpressionText(
                                   action.command(), context)})
    break
print("RESULT " + json.dumps(out), flush=True)
os._exit(0)
