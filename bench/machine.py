"""The machine around a benchmark run: the database URL, the load average (and waiting for
a quiet machine), the machine's description, and the memory of a server's process tree.

No web imports; used by run.py, tiles_vector.py and profile.py.
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT_DIR = HERE.parent
BENCH_VAR = PROJECT_DIR / "var" / "bench"
QUIET_LOAD = 1.0  # 1-minute load average above which a run is flagged busy


def log(msg: str = "") -> None:
    print(msg, flush=True)


def database_url() -> str:
    """BENCH_DATABASE_URL, or the project's private cluster (scripts/postgis.sh start)."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    r = subprocess.run(["bash", str(PROJECT_DIR / "scripts" / "postgis.sh"), "start"],
                       capture_output=True, text=True, cwd=PROJECT_DIR)
    urls = [ln.strip() for ln in r.stdout.splitlines() if ln.strip().startswith("postgresql://")]
    if r.returncode != 0 or not urls:
        sys.exit(f"cannot start PostgreSQL (scripts/postgis.sh start): {r.stderr.strip()}")
    return urls[-1]


# --------------------------------------------------------------------------- load average

def loadavg() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def busy_warning(la: float | None, when: str) -> str | None:
    """The warning to print (and record) when the 1-minute load average is above QUIET_LOAD."""
    if la is None or la <= QUIET_LOAD:
        return None
    return (f"WARNING: 1-minute load average {la:.2f} {when} (> {QUIET_LOAD:.1f} on "
            f"{os.cpu_count()} CPUs): other processes are busy on this machine, figures will be "
            "depressed and noisy; compare ratios, or rerun on a quiet machine (--wait-quiet N)")


def wait_quiet(max_seconds: float, step: float = 5.0, log=log) -> dict:
    """Wait up to max_seconds for the 1-minute load average to drop to QUIET_LOAD or below.
    Returns {"waited_s", "loadavg_1m", "quiet"}; the loop is bounded by max_seconds."""
    t0 = time.monotonic()
    la = loadavg()
    while la is not None and la > QUIET_LOAD and time.monotonic() - t0 < max_seconds:
        log(f"  waiting for a quiet machine: load average {la:.2f} "
            f"({time.monotonic() - t0:.0f}/{max_seconds:.0f} s)")
        time.sleep(min(step, max(0.1, max_seconds - (time.monotonic() - t0))))
        la = loadavg()
    return {"waited_s": round(time.monotonic() - t0, 1), "loadavg_1m": la,
            "quiet": la is not None and la <= QUIET_LOAD}


# --------------------------------------------------------------------------- machine

def machine_info(url: str) -> dict:
    import psycopg
    cpu = ""
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    with psycopg.connect(url) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        postgis = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
    try:
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
        wrk_v = (wrk.stdout or wrk.stderr).split("\n")[0].strip()
    except OSError:
        wrk_v = "wrk not installed"
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory": mem, "os": platform.platform(),
            "python": platform.python_version(), "postgresql": pg, "postgis": postgis,
            "wrk": wrk_v}


# --------------------------------------------------------------------------- memory

def _proc_stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, session id) of a process, from /proc/PID/stat."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2:].split()  # after "pid (comm) "
    try:
        return int(fields[1]), int(fields[3])
    except (IndexError, ValueError):
        return None


def _proc_mem_kb(pid: int) -> tuple[int, int | None, int | None]:
    """(RSS, PSS, peak RSS) in kB; PSS from smaps_rollup where the kernel has it."""
    rss, hwm = 0, None
    try:
        for ln in Path(f"/proc/{pid}/status").read_text().splitlines():
            if ln.startswith("VmRSS:"):
                rss = int(ln.split()[1])
            elif ln.startswith("VmHWM:"):
                hwm = int(ln.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    pss = None
    try:
        for ln in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if ln.startswith("Pss:"):
                pss = int(ln.split()[1])
                break
    except (OSError, ValueError, IndexError):
        pass
    return rss, pss, hwm


def _cmd(pid: int) -> str:
    try:
        parts = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [p.decode(errors="replace") for p in parts if p]
    return " ".join(Path(words[0]).name if i == 0 else w for i, w in enumerate(words[:4]))[:120]


def tree_pids(root: int) -> list[int]:
    """root and every process below it: its descendants, and every process of its session
    (a server started with start_new_session=True; FastCGI children that a server spawns
    stay in it even when re-parented)."""
    stats = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            st = _proc_stat(int(d.name))
            if st is not None:
                stats[int(d.name)] = st
    if root not in stats:
        return []
    found = {root}
    found.update(pid for pid, (_, sid) in stats.items() if sid == root)
    changed = True
    while changed:  # descendants that left the session (setsid): bounded by the process count
        changed = False
        for pid, (ppid, _) in stats.items():
            if ppid in found and pid not in found:
                found.add(pid)
                changed = True
    return sorted(found)


def tree_memory(root: int) -> dict:
    """RSS (and PSS) of a server's whole process tree: server, workers, FastCGI children.
    psutil is used when importable, /proc otherwise. Sizes in MB (10^6 bytes)."""
    pids = tree_pids(root)
    procs = []
    try:
        import psutil  # noqa: F401  (optional)
        have_psutil = True
    except ImportError:
        have_psutil = False
    for pid in pids:
        if have_psutil:
            import psutil
            try:
                p = psutil.Process(pid)
                rss_kb = p.memory_info().rss // 1024
                try:
                    pss_kb = p.memory_full_info().pss // 1024
                except (psutil.Error, AttributeError):
                    pss_kb = None
            except psutil.Error:
                continue
        else:
            rss_kb, pss_kb, _ = _proc_mem_kb(pid)
        hwm_kb = _proc_mem_kb(pid)[2]  # the peak: /proc only (psutil does not give it)

        def mb(kb):
            return round(kb * 1024 / 1e6, 1) if kb is not None else None
        procs.append({"pid": pid, "cmd": _cmd(pid), "rss_mb": mb(rss_kb), "pss_mb": mb(pss_kb),
                      "peak_rss_mb": mb(hwm_kb)})
    pss = [p["pss_mb"] for p in procs]
    peaks = [p["peak_rss_mb"] for p in procs]
    return {"processes": len(procs),
            "rss_mb": round(sum(p["rss_mb"] for p in procs), 1),
            "pss_mb": round(sum(pss), 1) if procs and None not in pss else None,
            "peak_rss_mb": round(sum(peaks), 1) if procs and None not in peaks else None,
            "source": "psutil" if have_psutil else "/proc", "detail": procs}
