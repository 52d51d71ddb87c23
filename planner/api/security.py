"""API keys: made with :mod:`secrets`, stored as SHA-256 hashes, compared in constant time.

A key reads ``fvp_<key_id>_<secret>``: ``key_id`` (public, 12 hex digits) finds the stored row,
then the SHA-256 of the whole key is compared with :func:`hmac.compare_digest`. The key itself
is shown once, when it is made, and never stored.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.db.models import ApiKeyRow

ROLES: tuple[str, ...] = ("crm", "manager", "rep")
PREFIX = "fvp"
_KEY_RE = re.compile(rf"^{PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_\-]{{20,128}})$")
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


class KeyError_(ValueError):
    """A key cannot be made or revoked as asked."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's name, role and (rep keys) rep id."""

    name: str
    role: str
    rep_id: str | None = None

    @property
    def is_rep(self) -> bool:
        return self.role == "rep"


def hash_key(key: str) -> str:
    """Hex SHA-256 of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(session: Session, name: str, role: str, rep_id: str | None = None) -> str:
    """Store a new key and return it (the only time it is available). The caller commits."""
    name = (name or "").strip()
    if not name or len(name) > 128:
        raise KeyError_("a key needs a name of 1 to 128 characters")
    if role not in ROLES:
        raise KeyError_(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if role == "rep" and not rep_id:
        raise KeyError_("a rep key needs --rep-id (the rep whose routes it may read)")
    if role != "rep" and rep_id:
        raise KeyError_("--rep-id is only for rep keys")
    active = session.scalars(select(ApiKeyRow).where(ApiKeyRow.name == name,
                                                     ApiKeyRow.revoked_at.is_(None))).first()
    if active is not None:
        raise KeyError_(f"an active key named {name!r} exists; revoke it first or choose another name")
    key_id = secrets.token_hex(6)
    key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    session.add(ApiKeyRow(key_id=key_id, name=name, key_hash=hash_key(key), role=role, rep_id=rep_id,
                          created_at=dt.datetime.now().replace(microsecond=0)))
    session.flush()
    return key


def revoke_key(session: Session, name: str) -> int:
    """Revoke every active key named ``name``; returns how many. The caller commits."""
    now = dt.datetime.now().replace(microsecond=0)
    rows = session.scalars(select(ApiKeyRow).where(ApiKeyRow.name == name, ApiKeyRow.revoked_at.is_(None))).all()
    for r in rows:
        r.revoked_at = now
    session.flush()
    return len(rows)


def list_keys(session: Session) -> list[ApiKeyRow]:
    """Every key row (hashes included: do not print them), oldest first."""
    return list(session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id)))


def verify_key(session: Session, key: str | None) -> Principal | None:
    """The principal of a valid, unrevoked key, else None (the work done is the same either way)."""
    m = _KEY_RE.match(key or "")
    row = None
    if m:
        row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_id == m.group(1))).first()
    stored = row.key_hash if row is not None else _DUMMY_HASH
    ok = hmac.compare_digest(stored.encode(), hash_key(key or "").encode())
    if not ok or row is None or row.revoked_at is not None:
        return None
    return Principal(name=row.name, role=row.role, rep_id=row.rep_id)
