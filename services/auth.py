"""API keys and bearer tokens for the write endpoints (OGC API Features Part 4).

Credentials come from the environment, never from the configuration file:

- ``ARTOIS_API_KEYS="token1:editor:alice,token2:admin:bob,token3:reader:carol"``; a fourth
  part names the key's groups (read access tiers, services/access.py):
  ``token4:reader:dora:metier+cabbalr``
- ``ARTOIS_API_KEYS_FILE=/etc/artois-geo/keys.yml`` (YAML or JSON) holding only sha256
  hashes of the tokens, re-read when the file changes::

      keys:
        - {user: alice, role: editor, sha256: 5e884898da28047151d0e56f8dc62927...}
        - {user: bob, role: admin, sha256: "sha256:6b86b273ff34fce19d6b804eff5a3f57..."}
        - {user: dora, role: reader, groups: [metier], sha256: d4735e3a265e16eee03f5...}

  ``python -m services.auth hash TOKEN`` prints the hash of a token;
  ``python -m services.auth issue USER ROLE [GROUP…]`` issues a new (scoped) key.

A request presents its token as ``Authorization: Bearer <token>`` or ``X-API-Key: <token>``.
Roles are ordered reader < editor < admin. Tokens are compared by their sha256 digests with
``hmac.compare_digest`` against every known key (no early exit), so the time taken does not
depend on how much of a token matches.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from services.errors import OGCError
from services.settings import Settings
from processes import yaml_data

LOGGER = logging.getLogger(__name__)

ROLES = {"reader": 1, "editor": 2, "admin": 3}
REALM = "artois-geo"


@dataclass(frozen=True)
class Principal:
    user: str
    role: str
    groups: frozenset[str] = frozenset()  # read access groups (services/access.py)

    def has(self, role: str) -> bool:
        return ROLES.get(self.role, 0) >= ROLES[role]


@dataclass(frozen=True)
class _Key:
    digest: bytes
    principal: Principal


class AuthError(OGCError):
    """401 (no or unknown credential, with WWW-Authenticate) or 403 (role too low): an
    services.errors.OGCError whose `key` names the message."""

    def __init__(self, status: int, key: str, **params):
        headers = {}
        if status == 401:
            value = f'Bearer realm="{REALM}"'
            if key == "auth_invalid":
                value += ', error="invalid_token"'
            headers["WWW-Authenticate"] = value
        super().__init__(key, status=status, headers=headers, params=params)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _parse_env(text: str) -> list[_Key]:
    keys = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        token, _, rest = item.partition(":")
        role, _, rest = rest.partition(":")
        user, _, groups = rest.partition(":")
        role = role.strip().lower()
        if not token or role not in ROLES:
            LOGGER.warning("ARTOIS_API_KEYS: ignored an entry with no token or an unknown role")
            continue
        keys.append(_Key(hashlib.sha256(token.encode()).digest(),
                         Principal(user.strip() or role, role, _groups(groups.split("+")))))
    return keys


def _groups(names) -> frozenset[str]:
    """Group names of a key, lower case; malformed ones are dropped."""
    import re
    out = {str(n).strip().lower() for n in names if str(n).strip()}
    return frozenset(n for n in out if re.match(r"^[a-z0-9][a-z0-9_-]{0,62}$", n)
                     and n != "public" and n not in ROLES)


def _parse_file(path: Path) -> list[_Key]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        data = json.loads(text)
    else:
        data = yaml_data.load(text)
    entries = data.get("keys", []) if isinstance(data, dict) else (data or [])
    keys = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        digest = str(entry.get("sha256") or entry.get("hash") or "").strip().lower()
        if digest.startswith("sha256:"):
            digest = digest[len("sha256:"):]
        role = str(entry.get("role", "")).strip().lower()
        try:
            raw = bytes.fromhex(digest)
        except ValueError:
            raw = b""
        if len(raw) != 32 or role not in ROLES:
            LOGGER.warning("%s: ignored an entry without a sha256 hash or with an unknown role",
                           path)
            continue
        groups = entry.get("groups") or []
        keys.append(_Key(raw, Principal(str(entry.get("user") or role), role,
                                        _groups(groups if isinstance(groups, list) else
                                                str(groups).split("+")))))
    return keys


class KeyStore:
    """The known keys; the keys file is re-read when its modification time changes."""

    def __init__(self, env_value: str | None = None, file_path: str | None = None):
        self._env_keys = _parse_env(env_value or "")
        self._file = Path(file_path) if file_path else None
        self._file_stamp: int | None = None
        self._file_keys: list[_Key] = []
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls) -> "KeyStore":
        settings = Settings()  # read now: a keys file named after start-up is seen
        return cls(settings.api_keys, str(settings.api_keys_file or "") or None)

    def _keys(self) -> list[_Key]:
        if self._file is not None:
            try:
                stamp = self._file.stat().st_mtime_ns
            except OSError:
                stamp = None
            if stamp != self._file_stamp:
                with self._lock:
                    try:
                        self._file_keys = _parse_file(self._file) if stamp is not None else []
                    except Exception:  # noqa: BLE001 - a broken file must not open the door
                        LOGGER.exception("cannot read the API keys file %s", self._file)
                        self._file_keys = []
                    self._file_stamp = stamp
        return self._env_keys + self._file_keys

    def authenticate(self, token: str) -> Principal | None:
        digest = hashlib.sha256(token.encode("utf-8")).digest()
        found = None
        for key in self._keys():  # every key is compared: no early exit
            if hmac.compare_digest(digest, key.digest) and found is None:
                found = key.principal
        return found


def credential(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The token of `Authorization: Bearer <token>` or `X-API-Key: <token>`."""
    auth = api_key = None
    for name, value in headers:
        lname = name.lower()
        if lname == b"authorization":
            auth = value.decode("latin-1").strip()
        elif lname == b"x-api-key":
            api_key = value.decode("latin-1").strip()
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() in ("bearer", "apikey", "api-key") and token.strip():
            return token.strip()
    return api_key or None


def require(store: KeyStore, headers: list[tuple[bytes, bytes]], role: str) -> Principal:
    """The caller, if their credential is known and their role is at least `role`."""
    token = credential(headers)
    if not token:
        raise AuthError(401, "auth_required")
    principal = store.authenticate(token)
    if principal is None:
        raise AuthError(401, "auth_invalid")
    if not principal.has(role):
        raise AuthError(403, "auth_forbidden", role=principal.role, required=role)
    return principal


USAGE = ("usage: python -m services.auth hash TOKEN\n"
         "       python -m services.auth issue USER ROLE [GROUP ...]")


def issue(user: str, role: str, groups: list[str]) -> dict[str, str]:
    """A new random key for `user`: the token (given once), its ARTOIS_API_KEYS entry and
    its keys-file line (only the hash)."""
    import secrets
    role = role.strip().lower()
    if role not in ROLES or not user.strip() or any(c in user for c in ":,"):
        raise ValueError(f"role one of {', '.join(ROLES)}; a user without ':' or ','")
    names = sorted(_groups(groups))
    if len(names) != len(set(g.strip().lower() for g in groups)):
        raise ValueError("group names: lower-case letters, digits, '-' or '_' (not a role)")
    token = secrets.token_urlsafe(32)
    env = f"{token}:{role}:{user.strip()}" + (f":{'+'.join(names)}" if names else "")
    line = json.dumps({"user": user.strip(), "role": role, "groups": names,
                       "sha256": token_hash(token)})
    return {"token": token, "env": env, "file": f"- {line}"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "hash":
        print(token_hash(argv[1]))
        return 0
    if len(argv) >= 3 and argv[0] == "issue":
        try:
            key = issue(argv[1], argv[2], argv[3:])
        except ValueError as err:
            print(err, file=sys.stderr)
            return 2
        print(f"token (give it once, it is not stored): {key['token']}")
        print(f"ARTOIS_API_KEYS entry: {key['env']}")
        print(f"keys file entry (under keys:): {key['file']}")
        return 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
