"""Run by Debian's /usr/bin/python3 (python3-qgis) in a child process: headless QGIS opens a
.qgs project, checks every layer and renders each one, and prints what it saw as JSON.

QGIS 3.22 can crash at exit, so results are printed and flushed before a hard exit.
usage: qgis_project.py PROJECT.qgs
"""
import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import QgsApplication, QgsMapLayerType, QgsProject  # noqa: E402

from qgis_render import render  # noqa: E402  (beside this script)


def render_in(project, layers) -> dict:
    return render(layers, project.crs(), project.viewSettings().defaultViewExtent(),
                  size=(600, 400), transform_context=project.transformContext())


app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
out = {"read": project.read(sys.argv[1]), "crs": project.crs().authid(), "layers": {}}
out["wms"] = {key: project.readListEntry("WMSCrsList", "/")[0] if key == "WMSCrsList"
              else project.readListEntry(key, "/")[0] if key == "WMSExtent"
              else project.readEntry(key, "/")[0]
              for key in ("WMSServiceTitle", "WMSCrsList", "WMSExtent")}
out["wms"]["WMSUseLayerIDs"] = project.readBoolEntry("WMSUseLayerIDs", "/")[0]
root = project.layerTreeRoot()
out["groups"] = {g.name(): [child.layerId() for child in g.findLayers()]
                 for g in root.children() if hasattr(g, "findLayers")}
extent = project.viewSettings().defaultViewExtent()
out["extent"] = [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()]
for layer_id, layer in project.mapLayers().items():
    info = {"valid": layer.isValid(), "name": layer.name(), "shortname": layer.shortName(),
            "provider": layer.providerType(), "crs": layer.crs().authid(),
            "styles": layer.styleManager().styles()}
    if layer.isValid():
        info["render"] = render_in(project, [layer])
        if layer.type() == QgsMapLayerType.VectorLayer:
            info["renderer"] = layer.renderer().type()
            info["legend"] = [item.label() for item in layer.renderer().legendSymbolItems()]
            info["style_legends"] = {}
            for name in info["styles"]:
                layer.styleManager().setCurrentStyle(name)
                info["style_legends"][name] = [item.label() for item in
                                               layer.renderer().legendSymbolItems()]
            layer.styleManager().setCurrentStyle("default")
        else:
            info["renderer"] = layer.renderer().type()
    out["layers"][layer_id] = info
visible = [node.layer() for node in root.findLayers() if node.isVisible() and node.layer()]
out["all_visible"] = render_in(project, visible)
print("RESULT " + json.dumps(out), flush=True)
os._exit(0)
