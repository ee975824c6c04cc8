"""Benchmark: a flood of OGC API Processes executions sent at once to a running server.

    .venv/bin/python bench/jobs_flood.py --url http://127.0.0.1:5000 [--async 48] [--sync 12]
                                         [--probe-path /collections] [--process mutability]
                                         [--inputs FILE] [--api-key KEY] [--timeout 300]

- `--async` executions with `Prefer: respond-async` and `--sync` plain (synchronous) ones
  leave together (one thread each, released by a barrier), all with the same inputs: by
  default the `mutability` process on the criteria of a scenario
  (processes/mutability/data/scenarios/station-service.complete.json, a pure computation);
  `--inputs FILE` sends FILE's "inputs" (or its "input", as in the scenarios) instead;
- meanwhile one thread GETs `--probe-path` every 100 ms (one keep-alive connection), and
  /health every 500 ms for its "queue" report ({queued, running, workers});
- every accepted job is then polled (anonymous jobs with their `X-Job-Token`, else with
  `--api-key`) until it is finished.

It prints one Markdown table: submissions answered (per HTTP status), submission latency
(p50, p95, max) of the async and of the sync ones, probe latency during the flood, the time
until every job had finished, and the queue figures seen on /health. A server started with
its default limits answers 429 past ARTOIS_JOB_MAX_QUEUED_PER_OWNER (20) jobs of one owner:
start it with e.g. ARTOIS_JOB_MAX_QUEUED_PER_OWNER=100 to measure the queue, not the limit.
Standard library only; not part of the test suite (tests/test_job_queue.py floods a private
server the same way, with assertions).
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIO = HERE.parent / "processes" / "mutability" / "data" / "scenarios" / \
    "station-service.complete.json"
FINISHED = ("successful", "failed", "dismissed")


def log(msg: str = "") -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- HTTP
@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes
    seconds: float
    error: str | None = None

    def json(self):
        return json.loads(self.body or b"null")


class Client:
    """One keep-alive connection to the server (reconnected after an error)."""

    def __init__(self, url: str, timeout: float):
        u = urllib.parse.urlsplit(url)
        self.https = u.scheme == "https"
        self.host, self.port = u.hostname, u.port or (443 if self.https else 80)
        self.prefix = u.path.rstrip("/")
        self.timeout = timeout
        self.conn = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> Answer:
        started = time.perf_counter()
        for attempt in (1, 2):  # a kept-alive connection closed by the server: once more
            try:
                if self.conn is None:
                    cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
                    self.conn = cls(self.host, self.port, timeout=self.timeout)
                self.conn.request(method, self.prefix + path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, data,
                              time.perf_counter() - started)
            except (OSError, http.client.HTTPException) as err:
                self.close()
                if attempt == 2 or isinstance(err, TimeoutError):
                    return Answer(0, {}, b"", time.perf_counter() - started,
                                  f"{type(err).__name__}: {err}")
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# --------------------------------------------------------------------------- the flood
@dataclass
class Submission:
    mode: str  # async | sync
    answer: Answer | None = None
    job_id: str | None = None
    token: str | None = None
    status: str | None = None  # the job's last known status
    created: str | None = None
    finished: str | None = None


@dataclass
class Probe:
    path: str
    latencies: list = field(default_factory=list)  # (seconds after the flood began, latency)
    failures: list = field(default_factory=list)
    health: list = field(default_factory=list)     # (seconds, status, queue report or None)


def probe_loop(url: str, probe: Probe, t0: list, stop: threading.Event, timeout: float):
    client = Client(url, timeout)
    n = 0
    while not stop.is_set():
        began = time.perf_counter()
        a = client.request("GET", probe.path)
        at = began - t0[0]
        if a.status == 200:
            probe.latencies.append((at, a.seconds))
        else:
            probe.failures.append((at, a.status, a.error or a.body[:200]))
        if n % 5 == 0:
            h = client.request("GET", "/health")
            queue = None
            if h.status == 200:
                try:
                    queue = h.json().get("queue")
                except ValueError:
                    pass
            probe.health.append((time.perf_counter() - t0[0], h.status, queue))
        n += 1
        stop.wait(max(0.0, 0.1 - (time.perf_counter() - began)))
    client.close()


def job_of(a: Answer) -> str | None:
    if a.status == 201:
        try:
            return a.json().get("jobID")
        except ValueError:
            return None
    location = a.headers.get("location")
    return location.rstrip("/").rsplit("/", 1)[1] if location else None


def flood(args, inputs: dict) -> dict:
    body = json.dumps({"inputs": inputs}).encode()
    auth = {"X-API-Key": args.api_key} if args.api_key else {}
    subs = [Submission("async") for _ in range(args.n_async)] + \
        [Submission("sync") for _ in range(args.n_sync)]
    # the sync ones in the middle of the async ones
    half = args.n_async // 2
    subs = subs[:half] + subs[args.n_async:] + subs[half:args.n_async]
    barrier = threading.Barrier(len(subs) + 1)
    t0 = [time.perf_counter()]

    def send(s: Submission) -> None:
        client = Client(args.url, args.timeout)
        headers = {"Content-Type": "application/json", **auth}
        if s.mode == "async":
            headers["Prefer"] = "respond-async"
        barrier.wait()
        s.answer = client.request("POST", f"/processes/{args.process}/execution", body,
                                  headers)
        client.close()
        s.job_id = job_of(s.answer)
        s.token = s.answer.headers.get("x-job-token")
        if s.answer.status == 201:
            try:
                s.status = s.answer.json().get("status")
            except ValueError:
                pass
        elif s.answer.status == 200:
            s.status = "successful"

    probe = Probe(args.probe_path)
    stop = threading.Event()
    prober = threading.Thread(target=probe_loop,
                              args=(args.url, probe, t0, stop, args.timeout), daemon=True)
    threads = [threading.Thread(target=send, args=(s,), daemon=True) for s in subs]
    for t in threads:
        t.start()
    prober.start()
    time.sleep(0.5)  # a few probes before the flood
    t0[0] = time.perf_counter()
    barrier.wait()
    deadline = time.monotonic() + args.timeout
    for t in threads:
        t.join(timeout=max(0.1, deadline - time.monotonic()))
    answered = time.perf_counter() - t0[0]
    log(f"{sum(s.answer is not None for s in subs)}/{len(subs)} submissions answered "
        f"in {answered:.1f} s; following the jobs")

    # follow the jobs until every one has finished
    client = Client(args.url, args.timeout)
    pending = [s for s in subs if s.job_id and s.status not in FINISHED]
    while pending and time.monotonic() < deadline:
        for s in pending:
            headers = {"X-Job-Token": s.token} if s.token else dict(auth)
            a = client.request("GET", f"/jobs/{s.job_id}", headers=headers)
            if a.status == 200:
                doc = a.json()
                s.status, s.created, s.finished = (doc.get("status"), doc.get("created"),
                                                   doc.get("finished"))
        pending = [s for s in pending if s.status not in FINISHED]
        if pending:
            time.sleep(0.25)
    drained = time.perf_counter() - t0[0]
    client.close()
    time.sleep(0.3)
    stop.set()
    prober.join(timeout=args.timeout)
    return {"subs": subs, "probe": probe, "answered_s": answered,
            "drained_s": None if pending else drained, "unfinished": len(pending)}


# --------------------------------------------------------------------------- report
def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)  # nearest rank
    return values[min(len(values), max(1, math.ceil(p / 100 * len(values)))) - 1]


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.0f} ms"


def report(args, out: dict) -> str:
    subs, probe = out["subs"], out["probe"]
    by_status: dict[str, int] = {}
    for s in subs:
        key = str(s.answer.status) if s.answer and s.answer.status else \
            (s.answer.error if s.answer else "no answer")
        by_status[key] = by_status.get(key, 0) + 1
    answered = sum(1 for s in subs if s.answer and s.answer.status)
    rows = [("submissions answered", f"{answered}/{len(subs)} ("
             + ", ".join(f"{k}: {v}" for k, v in sorted(by_status.items())) + ")")]
    for mode in ("async", "sync"):
        lat = [s.answer.seconds for s in subs if s.mode == mode and s.answer and
               s.answer.status]
        if lat:
            rows.append((f"{mode} submission p50 / p95 / max",
                         f"{ms(pct(lat, 50))} / {ms(pct(lat, 95))} / {ms(max(lat))}"))
    during = [lat for at, lat in probe.latencies
              if 0 <= at <= (out["drained_s"] or out["answered_s"])]
    rows.append((f"GET {probe.path} during the flood p50 / max",
                 f"{ms(pct(during, 50))} / {ms(max(during) if during else None)} "
                 f"({len(during)} probes, {len(probe.failures)} failed)"))
    statuses: dict[str, int] = {}
    for s in subs:
        if s.job_id:
            statuses[s.status or "?"] = statuses.get(s.status or "?", 0) + 1
    rows.append(("jobs (final status)", ", ".join(f"{k}: {v}" for k, v in
                                                    sorted(statuses.items())) or "none"))
    rows.append(("all jobs finished after",
                 f"{out['drained_s']:.1f} s" if out["drained_s"] is not None else
                 f"not within {args.timeout:g} s ({out['unfinished']} unfinished)"))
    queues = [q for _, st, q in probe.health if st == 200 and q]
    if queues:
        rows.append(("/health queue: max queued / max running / workers",
                     f"{max(q.get('queued', 0) for q in queues)} / "
                     f"{max(q.get('running', 0) for q in queues)} / "
                     f"{max(q.get('workers', 0) for q in queues)}"))
    missing = sum(1 for _, st, q in probe.health if st != 200 or not q)
    rows.append(("/health answers (without a queue report)",
                 f"{len(probe.health)} ({missing})"))
    width = max(len(r[0]) for r in rows)
    lines = [f"| {'measure':<{width}} | value |", f"|{'-' * (width + 2)}|-------|"]
    lines += [f"| {name:<{width}} | {value} |" for name, value in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000", help="the server")
    parser.add_argument("--async", dest="n_async", type=int, default=48,
                        help="executions with Prefer: respond-async")
    parser.add_argument("--sync", dest="n_sync", type=int, default=12,
                        help="synchronous executions")
    parser.add_argument("--probe-path", default="/collections",
                        help="GET every 100 ms during the flood")
    parser.add_argument("--process", default="mutability")
    parser.add_argument("--inputs", type=Path, default=None,
                        help="JSON file: its 'inputs' (or a scenario's 'input': criteria)")
    parser.add_argument("--api-key", default=None, help="submit as this API key's user")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds for the whole run (and for one request)")
    parser.add_argument("--verbose", action="store_true",
                        help="also list the slow probes and the /health reports")
    args = parser.parse_args(argv)
    args.url = args.url.rstrip("/")
    if args.inputs:
        doc = json.loads(args.inputs.read_text(encoding="utf-8"))
        inputs = doc["inputs"] if "inputs" in doc else {"criteria": doc["input"]}
    else:
        inputs = {"criteria": json.loads(SCENARIO.read_text(encoding="utf-8"))["input"]}
    check = Client(args.url, 10).request("GET", "/health")
    if check.status != 200:
        sys.exit(f"{args.url}/health: {check.status or check.error}")
    log(f"{args.n_async} async + {args.n_sync} sync executions of {args.process} "
        f"against {args.url}")
    out = flood(args, inputs)
    if args.verbose:
        probe = out["probe"]
        slow = [(at, lat) for at, lat in probe.latencies if lat > 0.25]
        log("probes over 250 ms: " + (", ".join(f"{lat * 1000:.0f} ms at +{at:.2f} s"
                                                 for at, lat in slow) or "none"))
        for at, st, q in probe.health:
            log(f"  /health +{at:5.2f} s: {st} {json.dumps(q)}")
    print(report(args, out))
    return 0 if out["drained_s"] is not None else 1


if __name__ == "__main__":
    sys.exit(main())
