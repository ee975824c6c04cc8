"""The container files hold what the server reads at run time.

No Docker engine runs on these machines, so the image is not built here: these checks read
docker/Dockerfile and docker/compose.yml and compare them with what the server needs (the same
folders the running test servers read), so that a folder added to the project is not forgotten
in the image.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parent.parent
DOCKERFILE = (PROJECT / "docker" / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load((PROJECT / "docker" / "compose.yml").read_text(encoding="utf-8"))


def _copied() -> set[str]:
    sources = set()
    for line in DOCKERFILE.splitlines():
        parts = line.split()
        if parts[:1] == ["COPY"] and not any(p.startswith("--from") for p in parts):
            sources.update(p.rstrip("/") for p in parts[1:-1])
    return sources


def test_every_copied_path_exists():
    for source in _copied():
        assert (PROJECT / source).exists(), f"Dockerfile copies {source}, which does not exist"


def test_the_image_holds_what_the_server_reads():
    copied = _copied()
    # code, collection files and data, styles, pygeoapi's server section, package metadata
    for needed in ("services", "processes", "collections", "styles", "pygeoapi-config.yml",
                   "pyproject.toml", "README.md", "package.json", "package-lock.json"):
        assert needed in copied, f"{needed} is not copied into the image"
    # the web map's libraries come from the npm stage, not from a CDN or the build context
    assert re.search(r"^RUN npm ci --omit=dev", DOCKERFILE, re.M)
    assert "COPY --from=webmap /build/node_modules ./node_modules" in DOCKERFILE
    # an editable install: the server finds collections/ and styles/ beside its code
    assert "pip install -e ." in DOCKERFILE


def test_non_root_with_a_health_check():
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*127\.0\.0\.1:5000/health", DOCKERFILE, re.M)


def test_compose_runs_postgis_and_the_server_from_the_environment():
    services = COMPOSE["services"]
    assert "postgis" in services["db"]["image"]
    server = services["server"]
    env = server["environment"]
    assert env["DATABASE_URL"].startswith("postgresql://") and "${POSTGRES_PASSWORD" in \
        env["DATABASE_URL"]
    assert server["depends_on"]["db"]["condition"] == "service_healthy"
    # two API replicas without local job workers, two worker containers, one schema load
    assert server["deploy"]["replicas"] == 2 and "--workers-jobs 0" in " ".join(
        server["command"])
    worker = services["worker"]
    assert worker["deploy"]["replicas"] == 2 and worker["command"][:2] == ["artois-geo", "worker"]
    assert worker["environment"]["DATABASE_URL"] == env["DATABASE_URL"]
    for name in ("server", "worker"):
        assert services[name]["depends_on"]["build"]["condition"] == \
            "service_completed_successfully"
    assert services["build"]["command"] == ["artois-geo", "build"]
    # no secret written in the file: every password comes from the environment
    assert "${POSTGRES_PASSWORD" in services["db"]["environment"]["POSTGRES_PASSWORD"]
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert "docker compose -f docker/compose.yml up" in readme
