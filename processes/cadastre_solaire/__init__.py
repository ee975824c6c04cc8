"""The solar cadastre (issue 18 point 2): the ``cadastre-solaire`` collection, one feature per
roof of ``batiments``, computed with the ``solar-potential`` process's model (compute.py), by
the build (build.py) and in the background when the buildings change (processor.py)."""
