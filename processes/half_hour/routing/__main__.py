"""``python -m processes.half_hour.routing build-demo [--force]``: write the demo street network
and GTFS feed under var/half_hour (scripts/setup.sh runs it) and warm the graph cache."""
from __future__ import annotations

import argparse
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m processes.half_hour.routing")
    parser.add_argument("command", choices=["build-demo"])
    parser.add_argument("--force", action="store_true", help="rebuild even if present")
    args = parser.parse_args(argv)
    from . import ensure_demo, load_network
    t0 = time.perf_counter()
    osm, feed = ensure_demo(force=args.force)
    net = load_network()
    net.graph("walk")
    print(f"half-hour demo network: {osm} ({len(net.arrays['x'])} nodes), {feed}; "
          f"default date {net.date}; {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
