"""``half-hour-territory`` process: the share of the population reaching the service bundles of
the 7 social functions (Carlos Moreno's "territoire de la demi-heure", CABBALR project
2022-2032) on foot, by bike or by public transport, per level (proximité, intermédiaire,
structurant).

:mod:`.core` computes shares, cells and sectors from arrays and a ``reach`` function (no web or
store import); :mod:`.radar` draws the SVG radar; :mod:`.processor` is the pygeoapi adapter
(territory, population grid ``carreaux-200m``, facilities ``equipements`` at a date, bundles of
``data/bundles.yaml``, travel times of :mod:`.routing`, H6b's package).
"""
