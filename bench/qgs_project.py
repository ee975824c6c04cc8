"""Write a QGIS project (.qgs) holding one PostGIS layer per bench table, published for
WFS / OGC API Features. Run with Debian's python3 (python3-qgis), headless:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 bench/qgs_project.py OUT.qgs HOST PORT DB USER PASSWORD schema.table...

Each layer is named after its table (the OAPIF collection id), uses the integer primary
key `id` as the feature id (key='id', no unicity check), and is listed in WFSLayers.
"""
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsDataSourceUri,  # noqa: E402
                       QgsProject, QgsVectorLayer)


def main(argv):
    out, host, port, db, user, password, *tables = argv
    app = QgsApplication([], False)
    app.initQgis()
    project = QgsProject.instance()
    project.setCrs(QgsCoordinateReferenceSystem("EPSG:2154"))
    project.setTitle("artois-geo bench")
    ids = []
    for qualified in tables:
        schema, table = qualified.split(".")
        uri = QgsDataSourceUri()
        uri.setConnection(host, port, db, user, password)
        uri.setDataSource(schema, table, "geom", "", "id")
        uri.setSrid("2154")
        uri.setWkbType(3)  # QgsWkbTypes.Polygon
        uri.setParam("checkPrimaryKeyUnicity", "0")
        uri.setUseEstimatedMetadata(True)
        layer = QgsVectorLayer(uri.uri(False), table, "postgres")
        if not layer.isValid():
            print(f"invalid layer {qualified}: {layer.error().summary()}", file=sys.stderr)
            return 1
        layer.setShortName(table)
        project.addMapLayer(layer)
        ids.append(layer.id())
    # publish every layer for WFS (and so OGC API Features); coordinate precision left at
    # QGIS Server's default
    project.writeEntry("WFSLayers", "/", ids)
    project.writeEntry("WMSServiceCapabilities", "/", True)
    project.writeEntry("WMSServiceTitle", "/", "artois-geo bench")
    project.writeEntry("WFSUrl", "/", "")
    if not project.write(out):
        print(f"cannot write {out}", file=sys.stderr)
        return 1
    print(f"wrote {out} with {len(ids)} layers")
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
