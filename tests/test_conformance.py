"""CI gates of issue 13: two external tools against a real running server, on each store.

- `ogctests` (PyPI 0.1.15), a port of the OGC Executable Test Suite for OGC API - Features,
  scopes features/core and features/filtering: every test must pass. Its filtering tests, 7 of
  10 of which failed against any server by bugs of their own, run as patched by
  tests/conformance/ogctests-0.1.15-filtering.patch (applied by scripts/conformance-tools.sh;
  its header explains each fix): each one does what its docstring, the abstract test of OGC
  API - Features - Part 3, says, and nothing is forgiven. Like the official ETS, ogctests is
  shown only the feature collections of /collections (itemType "feature"): see
  tests/conformance/ogctests_feature_collections.py.
- `schemathesis` over the whole OpenAPI document that the server serves at /openapi?f=json
  (every operation, every phase), with a fixed seed and an examples budget: no server error
  (5xx), no response that violates its documented schema, and no operation that the tool
  could not test (an error, e.g. an unresolvable $ref, is a failure too).

Both tools live in their own venv, var/conformance-venv, made (and ogctests patched) by
scripts/conformance-tools.sh (ogctests pins pytest<9 and httpx<0.28, which the project's venv
has outgrown), and run as
subprocesses. Their whole output, and their JUnit XML, go to test-artifacts/conformance/<store>/.
"""
from __future__ import annotations

import collections
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import ARTIFACTS, PROJECT, Server, exclusive

TOOLS_SCRIPT = PROJECT / "scripts" / "conformance-tools.sh"
PLUGINS = Path(__file__).resolve().parent / "conformance"

# schemathesis: a fixed seed, so that a run is repeatable (`st run ... --seed` as below),
# and an examples budget per operation. The operations that every collection repeats are
# tested in full on representative collections only, the others with a smaller budget
# (tests/conformance/schemathesis.toml says which and why). Measured on the embedded store
# of a quiet machine, one phase at a time: 340 operations, about 11,500 requests, 5 min
# (coverage phase 110 s, fuzzing 160 s, against 244 s for the coverage phase alone with the
# full budget everywhere: 29,500 requests, 10.5 min per store in the CI run of 2026-12-07).
SCHEMATHESIS_SEED = 13013
SCHEMATHESIS_MAX_EXAMPLES = 30
SCHEMATHESIS_TIMEOUT = 20 * 60
OGCTESTS_TIMEOUT = 10 * 60

def store_of(request) -> str:
    return request.node.callspec.params["server"]


def artifacts_dir(request) -> Path:
    path = ARTIFACTS / "conformance" / store_of(request)
    path.mkdir(parents=True, exist_ok=True)
    return path


def tool_env(**extra: str) -> dict:
    """The environment of a tool: this pytest's own settings and plugins stay out of it."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "VIRTUAL_ENV", "PYTHON"))}
    return {**env, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1", **extra}


@pytest.fixture(scope="session")
def tools() -> Path:
    """bin/ of var/conformance-venv, made (or checked, in well under a second) by the script."""
    with exclusive("conformance-venv"):
        run = subprocess.run(["bash", str(TOOLS_SCRIPT), "--print"], cwd=PROJECT,
                             capture_output=True, text=True, timeout=30 * 60)
    if run.returncode != 0:
        pytest.fail("Could not create the conformance tools' venv with "
                    f"scripts/conformance-tools.sh (exit {run.returncode}); these gates need "
                    "ogctests and schemathesis from PyPI and a Python 3.11-3.13 with venv "
                    "(or ARTOIS_CONFORMANCE_PYTHON):\n"
                    + (run.stdout + run.stderr)[-4000:], pytrace=False)
    return Path(run.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# ogctests

def junit_cases(path: Path) -> list[dict]:
    """Each testcase of a JUnit XML file: name, outcome (passed/failure/error/skipped), text."""
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome, text = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = child.tag if outcome == "passed" else outcome
                text += (child.get("message") or "") + "\n" + (child.text or "") + "\n"
        cases.append({"name": case.get("name"), "classname": case.get("classname") or "",
                      "outcome": outcome, "text": text.strip()})
    return cases


def brief(text: str) -> str:
    """A failure of ogctests in a few lines: its message, the lines of ogctests' own frames
    (where the test is and what it was doing), the final `E` lines."""
    lines = text.splitlines()
    kept = lines[:1]
    for i, line in enumerate(lines[1:], 1):
        if "/ogctests/" in line and " in " in line:
            kept += [line.strip().split("/site-packages/")[-1]] + [
                nxt.rstrip() for nxt in lines[i + 1:i + 3] if nxt.startswith("    ")]
        elif line.startswith("E ") and line not in kept:
            kept.append(line.rstrip())
    return "\n    ".join(kept[:20])


def feature_collections(server: Server) -> list[str]:
    page = server.json("/collections", params={"f": "json"})
    return [c["id"] for c in page["collections"] if c.get("itemType", "feature") == "feature"]


def run_ogctests(tools: Path, server: Server, scope: str, out: Path,
                 work: Path) -> tuple[list[dict], str]:
    python = tools / "python"
    package = Path(subprocess.run(
        [str(python), "-c", "import ogctests, os; print(os.path.dirname(ogctests.__file__))"],
        check=True, capture_output=True, text=True, env=tool_env()).stdout.strip())
    ini = work / "pytest.ini"  # no inheritance of the project's pytest settings
    ini.write_text("[pytest]\n")
    junit = out / f"ogctests-{scope}.xml"
    junit.unlink(missing_ok=True)
    # Not `python -m ogctests`: it drops pytest's exit code and writes its report under ~.
    # The two scopes run apart: each one's conftest sorts all collected items by its own
    # test-number prefix (test_ast / test_ct) and breaks on the other's.
    command = [str(python), "-m", "pytest", "-c", str(ini), "--rootdir", str(package),
               "-p", "no:cacheprovider", "-p", "ogctests_feature_collections",
               "-rA", "--tb=short", "-v", f"--junit-xml={junit}",
               str(package / "features" / scope)]
    run = subprocess.run(command, cwd=ini.parent, capture_output=True, text=True,
                         timeout=OGCTESTS_TIMEOUT,
                         env=tool_env(INSTANCE_URL=server.url, CLIENT_OVERRIDDEN="True",
                                      PYTHONPATH=str(PLUGINS),
                                      # schemathesis' pytest plugin lives in the same venv
                                      PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"))
    output = f"$ {' '.join(command)}\n(exit {run.returncode})\n{run.stdout}\n{run.stderr}"
    (out / f"ogctests-{scope}.txt").write_text(output)
    if run.returncode not in (0, 1) or not junit.exists():
        pytest.fail(f"ogctests {scope} did not run (exit {run.returncode}):\n{output[-4000:]}",
                    pytrace=False)
    return junit_cases(junit), output


def test_ogctests(request, tools, server, tmp_path):
    """ogctests features/core and features/filtering: every test passes."""
    out = artifacts_dir(request)
    problems, counts = [], collections.Counter()
    for scope in ("core", "filtering"):
        cases, _ = run_ogctests(tools, server, scope, out, tmp_path)
        assert cases, f"ogctests {scope} ran no test: see {out}/ogctests-{scope}.txt"
        for case in cases:
            counts[case["outcome"]] += 1
            if case["outcome"] == "passed":
                continue
            problems.append((f"{scope}::{case['name']}", case["outcome"].upper(),
                             brief(case["text"])))
    # one entry per distinct failure: a failing fixture fails each test that uses it alike
    grouped: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for problem in problems:
        grouped[(problem[1], problem[2])].append(problem[0])
    problems = [f"{', '.join(tests)} {kind}:\n    {text}"
                for (kind, text), tests in grouped.items()]
    summary = f"ogctests on {store_of(request)}: {dict(counts)}"
    (out / "ogctests-summary.txt").write_text(
        summary + "\n\nproblems:\n" + "\n".join(problems or ["none"]) + "\n")
    print(summary)
    if problems:
        pytest.fail(f"ogctests tests that did not pass on {store_of(request)} (full output "
                    f"in {out}):\n" + "\n".join(problems), pytrace=False)


# ---------------------------------------------------------------------------------------------
# schemathesis

def schemathesis_findings(junit: Path) -> list[dict]:
    """One entry per failure or error in schemathesis' JUnit report: operation, kind, title,
    one reproducing curl line."""
    findings = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        for child in case:
            if child.tag not in ("failure", "error"):
                continue
            text = child.text or ""
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            code = re.search(r"- (ST\d+ [^\n]+)", text)
            if child.tag == "error":
                kind = lines[0] if lines else "error"
                detail = next((line for line in lines[1:] if not line.startswith("Error")), "")
                ref = re.search(r"Reference: (\S+)", text)
                title = f"{detail} {ref.group(1)}" if ref else detail
            else:
                kind = code.group(1).strip() if code else (child.get("message") or "failure")
                after = text[code.end():] if code else text
                title = next((line for line in after.splitlines() if line.strip()), "").strip()
            curl = next((line for line in lines if line.startswith("curl ")), "")
            findings.append({"operation": case.get("name"), "kind": kind, "title": title[:300],
                             "curl": curl})
    return findings


def test_schemathesis(request, tools, server, tmp_path):
    """schemathesis over every operation of /openapi?f=json: no 5xx, no schema violation, no
    status code and no media type that the document does not name."""
    out = artifacts_dir(request)
    junit = out / "schemathesis-junit.xml"
    junit.unlink(missing_ok=True)
    command = [
        str(tools / "st"), "--config-file", str(PLUGINS / "schemathesis.toml"),
        "run", f"{server.url}/openapi?f=json",
        "--checks", "not_a_server_error,response_schema_conformance,"
                    "status_code_conformance,content_type_conformance",
        "--seed", str(SCHEMATHESIS_SEED),
        "--max-examples", str(SCHEMATHESIS_MAX_EXAMPLES),
        # one worker: the server has two, and pytest -n 2 runs another test file beside this
        "--workers", "1",
        "--request-timeout", "60",
        "--generation-database", "none",
        "--no-color",
        "--report", "junit", "--report-junit-path", str(junit),
        # Anonymous on purpose: the `server` fixture is shared by the other test files of
        # this pytest process, and an editor key would let the fuzzer create, replace and
        # delete features that they read. Write operations are still called (and must not
        # answer 5xx nor violate their documented answers): they are refused.
    ]
    try:
        run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                             timeout=SCHEMATHESIS_TIMEOUT, env=tool_env())
    except subprocess.TimeoutExpired as exc:
        (out / "schemathesis.txt").write_text(str(exc.stdout or "") + str(exc.stderr or ""))
        pytest.fail(f"schemathesis ran past {SCHEMATHESIS_TIMEOUT} s on {store_of(request)}: "
                    f"see {out}/schemathesis.txt", pytrace=False)
    output = f"$ {' '.join(command)}\n(exit {run.returncode})\n{run.stdout}\n{run.stderr}"
    (out / "schemathesis.txt").write_text(output)
    if not junit.exists():
        pytest.fail(f"schemathesis wrote no report (exit {run.returncode}):\n{output[-4000:]}",
                    pytrace=False)
    findings = schemathesis_findings(junit)
    tested = sum(1 for _ in ET.parse(junit).getroot().iter("testcase"))
    groups: dict[tuple[str, str], list[dict]] = collections.defaultdict(list)
    for finding in findings:
        groups[(finding["kind"], finding["title"])].append(finding)
    report = []
    for (kind, title), items in sorted(groups.items(), key=lambda g: -len(g[1])):
        operations = list(dict.fromkeys(item["operation"] for item in items))
        report.append(f"[{len(operations)} operation(s)] {kind}: {title}")
        report.append("    " + ", ".join(operations[:8])
                      + (f" and {len(operations) - 8} more" if len(operations) > 8 else ""))
        curl = next((item["curl"] for item in items if item["curl"]), "")
        if curl:
            report.append(f"    e.g. {curl}")
    (out / "schemathesis-summary.txt").write_text(
        f"{tested} operations, exit {run.returncode}, {len(findings)} findings\n"
        + "\n".join(report) + "\n")
    print(f"schemathesis on {store_of(request)}: {tested} operations, {len(findings)} findings")
    assert tested > 0, f"schemathesis tested no operation:\n{output[-4000:]}"
    if findings:
        pytest.fail(f"schemathesis found {len(groups)} distinct problem(s) on "
                    f"{store_of(request)} (full output in {out}):\n" + "\n".join(report),
                    pytrace=False)
    assert run.returncode == 0, f"schemathesis exited {run.returncode}:\n{output[-4000:]}"
