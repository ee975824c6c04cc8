"""Write the caching reverse proxy's nginx configuration (deploy/proxy/nginx.conf.in).

    python deploy/proxy/render.py --prefix /srv/proxy --listen 8080 \
        --upstream server:5000 [--upstream other:5000 …] [--cache-size 1g]

writes PREFIX/nginx.conf and creates PREFIX/{cache,logs,tmp}; then
`nginx -p PREFIX -e PREFIX/logs/error.log -c PREFIX/nginx.conf -g 'daemon off;'`.
The tests (tests/test_proxy.py), the benchmark (bench/replicas.py) and the proxy image
(deploy/proxy/Dockerfile) all render it here. The proxy's own error answers (413 beyond
the largest body, 503 when no replica answers) are bilingual OGC exceptions whose texts come
from the server's catalogues (services/locale/{fr,en}/LC_MESSAGES/errors.po).
Standard library only, plus babel to read the catalogues.
"""
from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "nginx.conf.in"
# the server's catalogues: beside the code in the repository, copied into the proxy image
LOCALE_DIRS = (HERE.parent.parent / "services" / "locale", HERE / "locale")
MAX_BODY = "17m"   # above ARTOIS_PHOTO_MAX_BYTES (16 MiB), the largest body a route accepts
_SAFE = re.compile(r"^[A-Za-z0-9_.:\[\]-]+$")   # host:port, [::1]:port, sizes, user names


def _catalogue(lang: str) -> dict[str, str]:
    from babel.messages.pofile import read_po
    for folder in LOCALE_DIRS:
        path = folder / lang / "LC_MESSAGES" / "errors.po"
        if path.exists():
            with path.open("rb") as handle:
                return {m.id: m.string for m in read_po(handle) if m.id}
    raise FileNotFoundError(f"errors.po ({lang}) not found under {LOCALE_DIRS}")


def error_body(key: str, status: int, code: str) -> str:
    """The OGC exception of services.errors.exception_body (French first, both texts)."""
    fr, en = _catalogue("fr")[key], _catalogue("en")[key]
    doc = {"type": code, "code": code, "status": status, "title": fr, "description": fr,
           "description_fr": fr, "description_en": en}
    text = json.dumps(doc, ensure_ascii=False)
    # inside a single-quoted nginx string: no quote, no backslash, no variable
    assert not set(text) & {"'", "\\", "$"}, text
    return text


def _checked(value: str, what: str) -> str:
    if not _SAFE.match(value):
        raise ValueError(f"{what}: {value!r} is not a plain value")
    return value


def render(upstreams: list[str], listen: str, *, cache_size: str = "1g",
           user: str | None = None, worker_processes: str = "auto",
           access_log: str = "logs/access.log artois", max_body: str = MAX_BODY,
           max_fails: int = 1, fail_timeout: str = "5s") -> str:
    """The nginx.conf text: `upstreams` are host:port of the replicas."""
    if not upstreams:
        raise ValueError("at least one upstream")
    servers = "\n".join(
        f"        server {_checked(u, 'upstream')} max_fails={int(max_fails)} "
        f"fail_timeout={_checked(fail_timeout, 'fail_timeout')};" for u in upstreams)
    values = {
        "USER": _checked(user or getpass.getuser(), "user"),
        "WORKER_PROCESSES": _checked(worker_processes, "worker_processes"),
        "LISTEN": _checked(listen, "listen"),
        "UPSTREAMS": servers,
        "CACHE_SIZE": _checked(cache_size, "cache_size"),
        "MAX_BODY": _checked(max_body, "max_body"),
        "ACCESS_LOG": access_log,
        "BODY_413": error_body("payload_too_large", 413, "PayloadTooLarge"),
        "BODY_503": error_body("proxy_unavailable", 503, "ServiceUnavailable"),
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    left = re.findall(r"@[A-Z_0-9]+@", text)
    if left:
        raise ValueError(f"unrendered placeholders: {left}")
    return text


def write(prefix: Path, upstreams: list[str], listen: str, **options) -> Path:
    """PREFIX/nginx.conf and the folders it names; returns the configuration's path."""
    prefix = Path(prefix).resolve()
    for sub in ("cache", "logs", "tmp"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(render(upstreams, listen, **options), encoding="utf-8")
    return conf


def command(prefix: Path) -> list[str]:
    """The nginx command line for a rendered PREFIX (foreground, logs under PREFIX)."""
    prefix = Path(prefix).resolve()
    return ["nginx", "-p", f"{prefix}/", "-e", str(prefix / "logs" / "error.log"),
            "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", type=Path, required=True)
    parser.add_argument("--listen", default="8080")
    parser.add_argument("--upstream", action="append", required=True,
                        help="host:port of a replica (repeat)")
    parser.add_argument("--cache-size", default="1g")
    parser.add_argument("--user", default=None)
    parser.add_argument("--worker-processes", default="auto")
    parser.add_argument("--access-log", default="logs/access.log artois",
                        help="nginx access_log value (`off`, `/dev/stdout artois`)")
    args = parser.parse_args(argv)
    conf = write(args.prefix, args.upstream, args.listen, cache_size=args.cache_size,
                 user=args.user, worker_processes=args.worker_processes,
                 access_log=args.access_log)
    print(conf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
