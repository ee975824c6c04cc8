"""Job callbacks (services/jobs/callbacks.py): one parser decides and connects.

The parser is exercised on the URLs where parsers disagree; sending is exercised against
real HTTP servers on the loopback (allowed here by a private-network setting, as a
deployment would have to): no redirect is followed, refused addresses are never contacted,
and the connection goes to the address that was checked.
"""
from __future__ import annotations

import ipaddress
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from services.jobs import callbacks
from services.jobs.callbacks import Policy, Refused
from services.jobs.errors import ProcessError

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


def policy(hosts=("allowed.example", "127.0.0.1", "localhost"), private=LOOPBACK):
    return Policy(frozenset(hosts), False, tuple(private), 3.0)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9\\@allowed.example/",     # urlsplit: allowed.example; requests: 127.0.0.1
    "http://allowed.example@127.0.0.1/",          # user information
    "http://user:pw@allowed.example/",
    "http://allowed.example\\@127.0.0.1/",
    "http://allowed.example /x",
    "http://allowed.example/\x00",
    "http://allowed.example/a b",
    "http://allowed.example:99999/",
    "http://allowed.example:0/",
    "ftp://allowed.example/",
    "javascript:alert(1)",
    "//allowed.example/",
    "http:///x",
    "http://[::1/",
    "http://allowed.exämple/",
    "http://allowed.example#@127.0.0.1/",
    "",
    None,
    ["http://allowed.example/"],
    "http://" + "a" * 3000 + ".example/",
])
def test_malformed_or_ambiguous_urls_are_refused(url):
    with pytest.raises(Refused) as err:
        callbacks.check(url, policy())
    assert err.value.key == "job_callback_invalid"


def test_the_checked_host_is_the_connected_host():
    scheme, host, port, path = callbacks.parse("https://Allowed.Example:8443/cb/done?x=1")
    assert (scheme, host, port, path) == ("https", "allowed.example", 8443, "/cb/done?x=1")


@pytest.mark.parametrize("url, key", [
    ("http://other.example/", "job_callback_refused"),          # not an allowed host
    ("http://127.0.0.1/", "job_callback_address"),              # loopback not allowed
    ("http://localhost/", "job_callback_address"),
    ("http://[::1]/", "job_callback_refused"),
    ("http://no-such-host.invalid/", "job_callback_unresolved"),
])
def test_hosts_and_private_addresses_are_refused_unless_allowed(url, key):
    strict = Policy(frozenset({"127.0.0.1", "localhost", "no-such-host.invalid"}), False, (),
                    3.0)
    with pytest.raises(Refused) as err:
        callbacks.check(url, strict)
    assert err.value.key == key


@pytest.mark.parametrize("address", ["10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "0.0.0.0", "224.0.0.1", "::ffff:127.0.0.1", "fe80::1",
                                     "fc00::1", "100.64.0.1"])
def test_private_link_local_and_reserved_addresses_are_not_public(address):
    assert not callbacks._allowed_address(address, Policy(frozenset(), True, (), 1.0))


def test_any_host_still_refuses_private_addresses():
    with pytest.raises(Refused) as err:
        callbacks.check("http://127.0.0.1:8080/x", Policy(frozenset(), True, (), 1.0))
    assert err.value.key == "job_callback_address"


@pytest.mark.parametrize("subscriber", ["http://x/", ["http://x/"], 3, {}, {"successUri": 3},
                                        {"failedUri": "http://127.0.0.1/"},
                                        {"successUri": "http://127.0.0.1/", "other": "x"}])
def test_malformed_subscribers_are_400(subscriber):
    with pytest.raises(ProcessError) as err:
        callbacks.check_subscriber(subscriber, policy())
    assert err.value.http_status_code == 400
    assert err.value.texts["fr"] != err.value.texts["en"]


class _Receiver(BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append((self.path, self.headers.get("Host"), body))
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/landed")
        else:
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.seen = []
    httpd = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()


def test_post_reaches_an_allowed_host_and_follows_no_redirect(receiver):
    assert callbacks.post(f"http://localhost:{receiver}/done", {"a": 1}, policy()) == 204
    assert callbacks.post(f"http://127.0.0.1:{receiver}/redirect", {"b": 2}, policy()) == 302
    paths = [p for p, _, _ in _Receiver.seen]
    assert paths == ["/done", "/redirect"]  # /landed never requested
    assert _Receiver.seen[0][1] == f"localhost:{receiver}" and _Receiver.seen[0][2] == b'{"a": 1}'


def test_post_never_contacts_a_refused_address(receiver):
    assert callbacks.post(f"http://127.0.0.1:{receiver}/done", {}, policy(private=())) is None
    assert callbacks.post(f"http://127.0.0.1:9\\@localhost:{receiver}/x", {}, policy()) is None
    assert _Receiver.seen == []


def test_post_connects_to_the_checked_address(receiver, monkeypatch):
    """A host that resolves elsewhere between check and connect (DNS rebinding) cannot move
    the connection: the address checked is the address connected to."""
    answers = iter([[(2, 1, 6, "", ("127.0.0.1", receiver))],
                    [(2, 1, 6, "", ("10.9.9.9", receiver))]])
    real = callbacks.socket.getaddrinfo
    asked = []

    def resolve(host, *args, **kwargs):
        if host == "allowed.example":
            asked.append(host)
            return next(answers)
        return real(host, *args, **kwargs)
    monkeypatch.setattr(callbacks.socket, "getaddrinfo", resolve)
    assert callbacks.post(f"http://allowed.example:{receiver}/pinned", {}, policy()) == 204
    assert asked == ["allowed.example"]  # resolved once, by the check
    assert _Receiver.seen[0][:2] == ("/pinned", f"allowed.example:{receiver}")
