"""Who may run a process, and whose a job is.

Each process declares its access in its metadata::

    "access": {"execute": "public", "inputs": {"batch": "editor"}}

`execute` is the role needed to run it (public, reader, editor, admin or a group of the keys,
services/access.py; default public; `read` hides the process itself, services/access.py) and
`inputs` raises it when an input is given a true value (mutability's `batch` writes every
friche: editor). A deployment overrides the first with `ARTOIS_PROCESS_ACCESS`
(`risk-matrix=reader,solar-potential=editor`). Credentials are the API keys and bearer tokens
of the Part 4 writes (services/auth.py).

A job belongs to the user of the credential that submitted it or, when anonymous, to whoever
holds the secret token returned once at its creation (`X-Job-Token`; only its sha256 is
stored). Anyone else gets a 404 for it, as for a job that does not exist; admins see all.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from services.auth import ROLES, AuthError, KeyStore, Principal, credential

PUBLIC = "public"
TOKEN_HEADER = "x-job-token"


@lru_cache(maxsize=1)
def keys() -> KeyStore:
    return KeyStore.from_environment()


def overrides(text: str) -> dict[str, str]:
    out = {}
    for item in text.split(","):
        pid, _, role = item.partition("=")
        role = role.strip().lower()
        if pid.strip() and role and "." not in pid:  # a role, public or a group
            out[pid.strip()] = role
    return out


def required_role(process_id: str, metadata: dict[str, Any], inputs: dict[str, Any],
                  override: str = "") -> str:
    """The role the caller needs to run `process_id` with these inputs."""
    declared = metadata.get("access") or {}
    role = overrides(override).get(process_id, declared.get("execute", PUBLIC))
    for name, needed in (declared.get("inputs") or {}).items():
        if inputs.get(name) and _rank(needed) > _rank(role):
            role = needed
    return role


def _rank(role: str) -> int:
    return ROLES.get(role, 0)


def caller(headers: list[tuple[bytes, bytes]]) -> Principal | None:
    """The caller's principal, None when anonymous; AuthError 401 for an unknown credential."""
    token = credential(headers)
    if not token:
        return None
    principal = keys().authenticate(token)
    if principal is None:
        raise AuthError(401, "auth_invalid")
    return principal


def authorise(principal: Principal | None, role: str) -> None:
    if role == PUBLIC:
        return
    if principal is None:
        raise AuthError(401, "auth_required")
    from services.access import can  # roles and groups (read access tiers)
    if not can(principal, role):
        raise AuthError(403, "auth_forbidden", role=principal.role, required=role)


def new_token() -> tuple[str, str]:
    """(token given once to an anonymous submitter, its sha256 kept with the job)."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Caller:
    principal: Principal | None
    token: str | None

    @property
    def admin(self) -> bool:
        return self.principal is not None and self.principal.has("admin")

    def owns(self, row: dict[str, Any]) -> bool:
        if self.admin:
            return True
        if self.principal is not None and row.get("user_id") and \
                hmac.compare_digest(str(row["user_id"]), self.principal.user):
            return True
        if self.token and row.get("token_hash"):
            return hmac.compare_digest(token_digest(self.token), str(row["token_hash"]))
        return False


def job_caller(headers: list[tuple[bytes, bytes]]) -> Caller:
    token = None
    for name, value in headers:
        if name.lower() == TOKEN_HEADER.encode():
            token = value.decode("latin-1").strip()[:200] or None
    return Caller(caller(headers), token)


def client_key(principal: Principal | None, address: str | None) -> str:
    """Whom the queue limits count: a user, or the (hashed) address of anonymous callers."""
    if principal is not None:
        return "user:" + principal.user
    return "addr:" + hashlib.sha256((address or "-").encode()).hexdigest()[:16]
