"""Load an HTTP peer with wrk (Lua script urls.lua: round-robin over a list of paths) and
check that it answers the same pages as the SQL floor."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from dataset import Workload
from floor import count_features
from peers import fetch_json

LUA = Path(__file__).resolve().parent / "urls.lua"
CHECK_MAX = 50  # pages checked per workload (all boxes, the first 50 ids)


def check(base: str, paths: list[str], w: Workload) -> dict:
    """GET each path (up to CHECK_MAX) and compare its feature count with the SQL floor's.
    For one item, also check the id. Returns {ok, detail, bytes}."""
    bad = []
    sizes = []
    counts = []
    n = min(len(paths), CHECK_MAX)
    for path, param, expected in list(zip(paths, w.params, w.expected))[:n]:
        status, doc, nbytes = fetch_json(base + path)
        if status != 200 or not isinstance(doc, dict):
            bad.append(f"HTTP {status} on {path}" if status != 200 else f"not JSON: {path}")
            continue
        sizes.append(nbytes)
        got = count_features(doc)
        counts.append(got)
        if got != expected:
            bad.append(f"{got} features instead of {expected} on {path}")
        elif w.kind == "item" and str(doc.get("id")) != str(param):
            bad.append(f"id {doc.get('id')!r} instead of {param} on {path}")
    result = {"ok": not bad, "approx": False, "checked": n, "failures": len(bad), "detail": bad[:3],
            "bytes_checked": round(sum(sizes) / len(sizes)) if sizes else None,
            "counts": counts}
    if bad and w.readings and len(counts) == n:
        # bbox: a different but defensible reading of the CRS84 box in Lambert-93?
        lo = [min(c[i] for c in w.readings.values()) for i in range(n)]
        hi = [max(c[i] for c in w.readings.values()) for i in range(n)]
        if all(a <= got <= b for a, got, b in zip(lo, counts, hi)):
            result["approx"] = True
        result["readings_matched"] = [name for name, c in w.readings.items() if c[:n] == counts]
    elif w.readings:
        result["readings_matched"] = [name for name, c in w.readings.items() if c[:n] == counts]
    return result


def wrk_run(base: str, paths_file: Path, connections: int, seconds: float, threads: int) -> dict:
    exe = shutil.which("wrk")
    if not exe:
        raise RuntimeError("wrk not installed (apt-get install --no-install-recommends wrk)")
    cmd = [exe, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
           "-s", str(LUA), base, "--", str(paths_file)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    line = next((ln for ln in reversed(r.stdout.splitlines()) if ln.startswith("{")), None)
    if r.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({r.returncode}): {(r.stderr or r.stdout).strip()[-300:]}")
    return json.loads(line)


def http_load(base: str, paths: list[str], workdir: Path, key: str, connections: int,
              duration: float, warmup: float, threads: int) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    paths_file = workdir / f"paths-{key.replace('@', '-')}.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    if warmup > 0:
        wrk_run(base, paths_file, connections, warmup, threads)
    s = wrk_run(base, paths_file, connections, duration, threads)
    e = s["errors"]
    secs = s["duration_us"] / 1e6
    n = s["requests"]
    lat = s["latency_us"]
    return {
        "requests": n,
        "rps": round(n / secs, 1) if secs else None,
        "p50_ms": round(lat["p50"] / 1000, 3) if n else None,
        "p95_ms": round(lat["p95"] / 1000, 3) if n else None,
        "p99_ms": round(lat["p99"] / 1000, 3) if n else None,
        "non2xx": e["status"],
        "errors": e["connect"] + e["read"] + e["write"] + e["timeout"],
        "error_detail": e,
        "bytes_per_response": round(s["bytes"] / n) if n else None,
    }
