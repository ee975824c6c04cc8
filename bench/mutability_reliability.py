"""Reliability of the mutability evaluation over every friche of the built store.

    .venv/bin/python bench/mutability_reliability.py

Derives each friche's criteria from the published layers (processes/mutability/derive.py),
scores them with the newest algorithm version, and prints the distribution of derived
criteria and of the reliability note, the criteria most often unavailable, and the
distribution after a field visit (the site-visit criteria stored where the layers give none).
Uses the store chosen by the settings (DATABASE_URL for PostGIS, else the embedded store).
"""
from __future__ import annotations

import collections
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from processes.mutability import core, derive  # noqa: E402
from processes.mutability.processor import (FRICHES, auto_criteria, demo_layers,  # noqa: E402
                                            load_layers)
from services.layers import read_collection  # noqa: E402

#: one plausible answer per site-visit criterion, stored where the layers give none
VISIT = {"qualiteVoieDesserte": "accessible", "presenceEspecesProtegees": "non",
         "presenceZoneHumide": "non", "presencePollution": "non",
         "etatBatiInfrastructure": "degradation-moyenne",
         "valeurArchitecturaleHistorique": "sans-interet"}


def main() -> None:
    version = core.DEFAULT_VERSION
    friches = read_collection(FRICHES)
    ctx = derive.Context(load_layers(), auto_criteria(version), demo_layers())
    names = [c for c in friches.columns if c != friches.geometry.name]
    derived_n, before, after = [], [], []
    missing: collections.Counter = collections.Counter()
    weights: dict[str, float] = {}
    for values, geom in zip(friches[names].itertuples(index=False, name=None),
                            friches.geometry):
        d = derive.derive_site(dict(zip(names, values)), geom, ctx)
        res = core.evaluate(None, derived=d.criteria(), details=d.details(),
                            algorithm_version=version)
        before.append(res["reliability"]["score"])
        derived_n.append(sum(c["source"] == "derived" for c in res["criteria"]))
        unavailable = {c["id"] for c in res["criteria"] if c["source"] == "unavailable"}
        for c in res["criteria"]:
            weights[c["id"]] = c["weight"]
        missing.update(unavailable)
        stored = {k: v for k, v in VISIT.items() if k in unavailable}
        visited = core.evaluate(None, stored=stored, derived=d.criteria(),
                                details=d.details(), algorithm_version=version)
        after.append(visited["reliability"]["score"])
    total = len(res["criteria"])
    print(f"algorithm {version}: {len(before)} friches, {total} criteria")
    print(f"derived criteria: median {statistics.median(derived_n)}, min {min(derived_n)}, "
          f"max {max(derived_n)}, >= 24: {sum(n >= 24 for n in derived_n)}")
    for label, scores in (("from the layers", before), ("after a field visit", after)):
        print(f"reliability {label}: median {statistics.median(scores)}, "
              f"mean {statistics.mean(scores):.2f}, >= 7: {sum(s >= 7 for s in scores)}, "
              f"min {min(scores)}, max {max(scores)}")
    print("unavailable criteria (friches, weight):")
    for cid, n in missing.most_common():
        print(f"  {cid:<34} {n:>4}  {weights[cid]}")


if __name__ == "__main__":
    main()
