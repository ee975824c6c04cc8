"""Shared by the QGIS client scripts (run by /usr/bin/python3 with python3-qgis): render map
settings off screen and count the painted pixels, to tell a drawn layer from a blank one."""
from qgis.core import QgsMapRendererSequentialJob, QgsMapSettings
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def render(layers, crs, extent, size=(400, 300), transform_context=None) -> dict:
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(crs)
    if transform_context is not None:
        settings.setTransformContext(transform_context)
    settings.setExtent(extent)
    settings.setOutputSize(QSize(*size))
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
