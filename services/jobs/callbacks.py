"""Job callbacks (OGC API Processes `subscriber`): one parser decides and connects.

A callback URL is parsed once, strictly (http or https, a host name or an address, an
optional port, no user information, no backslash, no space or control character: the
characters on which URL parsers disagree), its host must be allowed
(`ARTOIS_CALLBACK_HOSTS`, `*` for any), the host is resolved once, and every address it
resolves to must be a public one, unless it lies in `ARTOIS_CALLBACK_PRIVATE_NETWORKS`
(loopback, private, link-local, multicast and reserved addresses are refused otherwise). The
POST then connects to the address that was checked (the host name is only sent as `Host` and
as the TLS server name), follows no redirect, and gives up after `ARTOIS_CALLBACK_TIMEOUT`.
"""
from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import re
import socket
import ssl
from dataclasses import dataclass
from typing import Any

from pygeoapi.util import json_serial

from services.jobs.errors import ProcessError, show

LOGGER = logging.getLogger("artois_geo.jobs")

FIELDS = ("successUri", "inProgressUri", "failedUri")
_URL = re.compile(r"^(?P<scheme>https?)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)"
                  r"(?::(?P<port>[0-9]{1,5}))?(?P<path>/[^\s\\#]*)?$")
_HOST = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+$")


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str       # as written (lower case, no brackets)
    port: int
    path: str       # path and query
    address: str    # the checked address connected to


@dataclass(frozen=True)
class Policy:
    hosts: frozenset[str]
    any_host: bool
    private: tuple
    timeout: float

    @classmethod
    def from_settings(cls, settings=None) -> "Policy":
        from services.settings import get_settings
        settings = settings or get_settings()
        hosts = {h.strip().lower() for h in settings.callback_hosts.split(",") if h.strip()}
        nets = []
        for item in settings.callback_private_networks.split(","):
            if item.strip():
                try:
                    nets.append(ipaddress.ip_network(item.strip(), strict=False))
                except ValueError:
                    LOGGER.warning("ARTOIS_CALLBACK_PRIVATE_NETWORKS: %r ignored", item)
        return cls(frozenset(hosts - {"*"}), "*" in hosts, tuple(nets),
                   float(settings.callback_timeout))


class Refused(Exception):
    def __init__(self, key: str, **params: Any):
        super().__init__(key)
        self.key, self.params = key, params


def parse(url: Any) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of a well-formed callback URL, else Refused."""
    if not isinstance(url, str) or len(url) > 2048 or not url.isascii() or \
            any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise Refused("job_callback_invalid")
    m = _URL.match(url)
    if not m:
        raise Refused("job_callback_invalid")
    scheme = m["scheme"].lower()
    host = m["host"].lower()
    if host.startswith("["):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise Refused("job_callback_invalid") from None
    elif not _HOST.match(host):
        raise Refused("job_callback_invalid")
    port = int(m["port"]) if m["port"] else (443 if scheme == "https" else 80)
    if not 0 < port < 65536:
        raise Refused("job_callback_invalid")
    return scheme, host.rstrip("."), port, m["path"] or "/"


def _allowed_address(address: str, policy: Policy) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in net for net in policy.private):
        return True
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or
                                 ip.is_link_local or ip.is_private or ip.is_unspecified)


def check(url: Any, policy: Policy) -> Target:
    """Parse, check the host, resolve once and check every address; Refused otherwise."""
    scheme, host, port, path = parse(url)
    if not (policy.any_host or host in policy.hosts):
        raise Refused("job_callback_refused", host=host)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise Refused("job_callback_unresolved", host=host) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise Refused("job_callback_unresolved", host=host)
    for address in addresses:
        if not _allowed_address(address, policy):
            raise Refused("job_callback_address", host=host, address=address)
    return Target(scheme, host, port, path, addresses[0])


def check_subscriber(subscriber: Any, policy: Policy | None = None) -> dict[str, str] | None:
    """The `subscriber` object of an execute request, checked (ProcessError 400 otherwise)."""
    if subscriber is None:
        return None
    if not isinstance(subscriber, dict) or not subscriber or \
            any(k not in FIELDS for k in subscriber):
        raise ProcessError.of("job_subscriber_invalid", value=show(subscriber))
    if "successUri" not in subscriber:
        raise ProcessError.of("job_subscriber_invalid", 400, "MissingParameterValue",
                              value=show(subscriber))
    policy = policy or Policy.from_settings()
    urls = {}
    for field in FIELDS:
        url = subscriber.get(field)
        if url is None:
            continue
        try:
            check(url, policy)
        except Refused as err:
            allowed = ", ".join(sorted(policy.hosts)) or ("*" if policy.any_host else
                                                          {"fr": "aucun", "en": "none"})
            raise ProcessError.of(err.key, field=field, url=show(url), allowed=allowed,
                                  **err.params) from None
        urls[field] = url
    return urls


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the host name for SNI and certificate checks."""

    def __init__(self, address: str, host: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, address: str, host: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(url: str | None, payload: Any, policy: Policy | None = None) -> int | None:
    """POST `payload` as JSON to a checked callback URL; the status, or None if refused or
    failed (a subscriber's failure is never the job's)."""
    if not url:
        return None
    policy = policy or Policy.from_settings()
    try:
        target = check(url, policy)
    except Refused as err:
        LOGGER.warning("callback to %s refused: %s", url, err.key)
        return None
    cls = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    conn = cls(target.address, target.host, target.port, policy.timeout)
    body = json.dumps(payload, default=json_serial).encode("utf-8")
    try:
        conn.request("POST", target.path, body=body,
                     headers={"Content-Type": "application/json",
                              "User-Agent": "artois-geo-callback"})
        response = conn.getresponse()
        response.read(65536)
        LOGGER.info("callback %s: %s", url, response.status)
        return response.status
    except (OSError, http.client.HTTPException) as err:
        LOGGER.warning("callback %s failed: %s", url, err)
        return None
    finally:
        conn.close()
