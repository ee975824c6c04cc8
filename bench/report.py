"""The results of bench/run.py as a table (console and Markdown): cells, notes, the memory
of each peer, and the issue's targets computed from the run's own figures. Pure: reads
the report dict that run.py fills, writes text."""
from __future__ import annotations

FLOOR = "sql-floor"
SUBJECT = "artois-geo"
TARGET_ROWS = 100_000

# (workload kind, target text, reference peer, factor, ratio when issue 20 was filed): the
# issue's targets, and "no workload slower than today" read as a ratio to the same reference
# (issue 20's table: first page 556/1,960, bbox 321/450, offset 230/334, item 902/1,109 of
# QGIS Server, tile 1,081/1,774), since absolute figures move with the machine's load
TARGETS = [
    ("first-page", "≥ 0.5× the SQL floor", FLOOR, 0.5, 0.28),
    ("bbox", "≥ 0.8× the SQL floor", FLOOR, 0.8, 0.71),
    ("offset", "≥ 0.8× the SQL floor", FLOOR, 0.8, 0.69),
    ("item", "≥ 2× QGIS Server's rate in the same run", "qgis-server", 2.0, 0.81),
    ("tile-z14", "≥ 0.8× the ST_AsMVT floor", FLOOR, 0.8, 0.61),
]


def _num(v: float | None, digits: int = 1) -> str:
    if v is None:
        return "—"
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def _ratio(v, ref) -> str:
    if v is None or not ref:
        return ""
    r = v / ref
    return f"{r:.2f}×" if r < 10 else f"{r:.0f}×"


def cells(res: dict | None, ref: dict | None, is_floor: bool) -> tuple[str, str]:
    if res is None:
        return "—", "—"
    if res.get("not_served"):
        return "— (not served)", "—"
    if res.get("unavailable"):
        return "unavailable", "—"
    if res.get("load_error"):
        return "load error", "—"
    rps = res.get("rps")
    a = _num(rps)
    b = f"{_num(res.get('p50_ms'))} / {_num(res.get('p95_ms'))}"
    if not is_floor and ref and not ref.get("unavailable") and ref.get("rps"):
        a += f" ({_ratio(rps, ref['rps'])})"
        b += (f" ({_ratio(res.get('p50_ms'), ref.get('p50_ms'))} / "
              f"{_ratio(res.get('p95_ms'), ref.get('p95_ms'))})")
    chk = res.get("check")
    if chk is not None:
        a += " ✓" if chk["ok"] else " ≈" if chk.get("approx") else " ✗"
    if res.get("non2xx"):
        a += f" ⚠{res['non2xx']} non-2xx"
    if res.get("errors"):
        a += f" ⚠{res['errors']} err"
    return a, b


def memory_cell(peer: dict) -> str:
    mem = peer.get("memory")
    if not mem:
        return "—"
    out = f"{mem['rss_mb']:,.0f} ({mem['processes']} proc.)"
    if mem.get("job_worker_processes"):
        out += (f"; {mem['rss_mb'] - mem['job_workers_rss_mb']:,.0f} without its "
                f"{mem['job_worker_processes']} job-worker proc.")
    return out


def build_table(report: dict) -> tuple[list[str], list[list[str]]]:
    names = list(report["peer_order"])
    header = ["workload", "rows"]
    for n in names:
        header += [f"{n} req/s", f"{n} p50 / p95 ms"]
    rows = []
    for w in report["workloads"]:
        row = [w["label"], f"{w['rows']:,}"]
        ref = report["results"].get(FLOOR, {}).get(w["key"])
        for n in names:
            res = report["results"].get(n, {}).get(w["key"])
            if report["peers"].get(n, {}).get("unavailable") and res is None:
                res = {"unavailable": True}
            row += list(cells(res, ref, n == FLOOR))
        rows.append(row)
    mem = ["RSS MB (whole server tree, after its cells)", ""]
    for n in names:
        mem += [memory_cell(report["peers"].get(n, {})), ""]
    rows.append(mem)
    return header, rows


def render_console(header, rows) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    sep = "  "
    out = [sep.join(h.ljust(widths[i]) for i, h in enumerate(header)),
           sep.join("-" * w for w in widths)]
    for r in rows:
        out.append(sep.join(c.ljust(widths[i]) for i, c in enumerate(r)))
    return "\n".join(out)


# --------------------------------------------------------------------------- targets

def targets(report: dict) -> list[dict]:
    """The issue's targets for artois-geo at 100k rows (or the largest size run), each with
    the figures it compares and met True/False (None when a figure is missing)."""
    if SUBJECT not in report.get("peer_order", [SUBJECT]):
        return []
    sizes = report["meta"]["rows"]
    rows = TARGET_ROWS if TARGET_ROWS in sizes else max(sizes)
    by_key = {(w["kind"], w["rows"]): w for w in report["workloads"]}
    out = []
    for kind, text, ref_name, factor, baseline in TARGETS:
        w = by_key.get((kind, rows))
        if w is None:
            continue
        res = report["results"].get(SUBJECT, {}).get(w["key"]) or {}
        ref = report["results"].get(ref_name, {}).get(w["key"]) or {}
        item = {"workload": w["label"], "key": w["key"], "rows": rows, "target": text,
                "reference": ref_name, "factor": factor, "rps": res.get("rps"),
                "reference_rps": ref.get("rps"), "ratio": None, "met": None, "why": "",
                "baseline_ratio": baseline, "not_slower": None}
        if not res.get("rps"):
            item["why"] = f"{SUBJECT} has no figure"
        elif not ref.get("rps"):
            why = report["peers"].get(ref_name, {}).get("unavailable") or "no figure"
            item["why"] = f"{ref_name}: {why}"
        else:
            item["ratio"] = round(res["rps"] / ref["rps"], 3)
            errors = (res.get("non2xx") or 0) + (res.get("errors") or 0)
            wrong = res.get("check") is not None and not (res["check"]["ok"]
                                                          or res["check"].get("approx"))
            item["met"] = item["ratio"] >= factor and not errors and not wrong
            item["not_slower"] = item["ratio"] >= baseline
            if errors or wrong:
                item["why"] = "errors or wrong answers during the cell"
        out.append(item)
    return out


def render_targets(report: dict) -> list[str]:
    ts = report.get("targets") or []
    if not ts:
        return []
    rows = ts[0]["rows"]
    lines = ["", f"## Targets (issue 20), {SUBJECT} at {rows:,} rows", ""]
    if rows != TARGET_ROWS:
        lines += [f"(The targets are set at {TARGET_ROWS:,} rows; this run's largest table has "
                  f"{rows:,}: indicative only.)", ""]
    lines += ["| workload | target | artois-geo req/s | reference req/s | ratio | result "
              "| ratio when issue 20 was filed |",
              "|---|---|---|---|---|---|---|"]
    for t in ts:
        result = ("met" if t["met"] else "not met") if t["met"] is not None else "unknown"
        if t["why"]:
            result += f" ({t['why']})"
        lines.append(f"| {t['workload']} | {t['target']} | {_num(t['rps'])} | "
                     f"{_num(t['reference_rps'])} ({t['reference']}) | "
                     f"{_ratio(t['rps'], t['reference_rps']) or '—'} (need {t['factor']}×) | {result} | "
                     f"{t['baseline_ratio']:.2f}×"
                     + ("" if t["not_slower"] is None else " (not slower)" if t["not_slower"]
                        else " (**slower**)") + " |")
    return lines


# --------------------------------------------------------------------------- markdown

def render_markdown(report: dict, header, rows) -> str:
    m = report["meta"]
    busy = m.get("busy_warnings") or []
    lines = [f"# Benchmark results — {m['timestamp']}", "",
             f"Command: `{m['command']}`", "",
             f"Machine: {m['machine']['cpus']} CPU ({m['machine']['cpu']}), {m['machine']['memory']}, "
             f"{m['machine']['os']}; PostgreSQL {m['machine']['postgresql']}, PostGIS "
             f"{m['machine']['postgis']}; {m['machine']['wrk']}.", "",
             f"Load: {m['connections']} keep-alive connections, {m['warmup']} s warm-up then "
             f"{m['duration']} s measured per cell, one peer running at a time; server, database and "
             "load generator share the same cores (noisy: compare ratios, not absolute figures). "
             f"1-min load average at start {m.get('loadavg_1m_start')}, before the first peer "
             f"{m.get('loadavg_1m_before')}, after {m.get('loadavg_1m_after')}; before each peer "
             "in the Peers list (it includes this run's own previous cells: the 1-minute average decays "
             "slowly), per cell in the JSON (loadavg_1m_after)."
             + (f" Waited {m['wait_quiet']['waited_s']} s for a quiet machine "
                f"({'reached' if m['wait_quiet']['quiet'] else 'not reached'})."
                if m.get("wait_quiet") else ""), ""]
    if busy:
        lines += ["**Busy machine:** " + " ".join(busy), ""]
    lines += ["Each peer cell: requests/s (ratio to the SQL floor) and check (✓ = same feature counts "
              "as the SQL floor on the checked pages; ≈ = bbox pages whose counts differ only because "
              "the CRS84 box is read differently in Lambert-93, or valid vector tiles whose feature "
              "counts differ from the ST_AsMVT floor's (another clipping buffer), see Notes; ✗ = wrong "
              "counts or HTTP errors); latency p50 / p95 in ms (ratio to the floor). ⚠ marks non-2xx "
              "responses or socket errors during the load. — (not served): the peer has no such "
              "endpoint (reason in Notes). The tile floor is artois-geo's own ST_AsMVT statement run "
              "without HTTP. RSS: resident memory of the peer's whole process tree (server, workers, "
              "FastCGI children) after its last cell, in MB.", "",
              "| " + " | ".join(header) + " |",
              "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    lines += render_targets(report)
    lines += ["", "## Peers", ""]
    for n in report["peer_order"]:
        p = report["peers"].get(n, {})
        status = f"unavailable: {p['unavailable']}" if p.get("unavailable") else "ran"
        mem = p.get("memory")
        extra = (f"; RSS {mem['rss_mb']:,.0f} MB in {mem['processes']} processes"
                 + (f" (PSS {mem['pss_mb']:,.0f} MB)" if mem.get("pss_mb") is not None else "")
                 + (f", sum of the processes' peak RSS {mem['peak_rss_mb']:,.0f} MB"
                    if mem.get("peak_rss_mb") is not None else "")
                 if mem else "")
        la = p.get("loadavg_1m_before")
        lines.append(f"- **{n}** — {p.get('description', '')}; {p.get('version') or ''} — {status}"
                     f"{extra}; load average before: {la if la is not None else '—'}")
    notes = notes_of(report)
    if notes:
        lines += ["", "## Notes", ""] + [f"- {x}" for x in notes]
    lines += ["", "Mean response size (bytes, HTTP headers included for the HTTP peers):", "",
              "| workload | rows | " + " | ".join(report["peer_order"]) + " |",
              "|---|---|" + "|".join("---" for _ in report["peer_order"]) + "|"]
    for w in report["workloads"]:
        vals = []
        for n in report["peer_order"]:
            res = report["results"].get(n, {}).get(w["key"]) or {}
            vals.append(_num(res.get("bytes_per_response"), 0) if res.get("bytes_per_response") else "—")
        lines.append(f"| {w['label']} | {w['rows']:,} | " + " | ".join(vals) + " |")
    return "\n".join(lines) + "\n"


def notes_of(report: dict) -> list[str]:
    notes = list(report["meta"].get("workload_notes") or [])
    for n in report["peer_order"]:
        if report["peers"].get(n, {}).get("unavailable"):
            notes.append(f"{n} unavailable: {report['peers'][n]['unavailable']}")
        reasons = set()
        for key, res in report["results"].get(n, {}).items():
            if res.get("not_served"):
                if res["not_served"] not in reasons:
                    reasons.add(res["not_served"])
                    notes.append(f"{n} {key.split('@')[0]}: — {res['not_served']}")
                continue
            chk = res.get("check")
            if chk and chk.get("tile_counts_differ"):
                notes.append(f"{n} {key}: ≈ valid tiles, feature counts differ from the ST_AsMVT "
                             f"floor's on {chk['failures']}/{chk['checked']} tiles (its own clipping "
                             f"buffer or simplification), e.g. " + "; ".join(chk["detail"][:1]))
            elif chk and chk.get("approx"):
                notes.append(f"{n} {key}: ≈ bbox read differently from the floor on {chk['failures']}/"
                             f"{chk['checked']} boxes (counts within the readings' bounds); matches: "
                             + (", ".join(chk.get("readings_matched") or []) or "none exactly"))
            elif chk and not chk["ok"]:
                notes.append(f"{n} {key}: check failed on {chk['failures']}/{chk['checked']} pages, e.g. "
                             + "; ".join(chk["detail"]))
            if res.get("non2xx") or res.get("errors"):
                notes.append(f"{n} {key}: {res.get('non2xx', 0)} non-2xx responses, "
                             f"socket errors {res.get('error_detail')}")
            if res.get("load_error"):
                notes.append(f"{n} {key}: {res['load_error']}")
            elif res.get("requests") == 0:
                notes.append(f"{n} {key}: no request completed within the measured window "
                             "(each takes longer than --duration)")
    return notes
