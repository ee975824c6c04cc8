"""``chiffres-cles``: key figures of every commune, EPCI and the territory, from the layers.

:mod:`.definitions` reads the indicators file (``data/indicateurs.yaml``: the indicators are
data), :mod:`.core` computes them (pure), :mod:`.sources` gives it the frames (the layers and
the tables derived from them by the other processes' code), :mod:`.build` is the generator of
the collection ``chiffres-cles`` (collections/chiffres-cles.yml) and :mod:`.processor` the
process that recomputes it in the background when its inputs change.
"""
