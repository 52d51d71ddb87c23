"""Which account owners were set by ``planner territories --apply``, and applying territories.

Territories are stored where the planner already honours them: as the customers' account owner
(``rep_id``, the pin). The CRM's own pins must stay untouchable, while the planner's may change
on a later ``planner territories --keep-existing`` run; the customers table has no column for
the difference (and the schema is not changed for it), so the planner keeps a small record of
the owners it wrote: a JSON file, by default next to the SQLite database
(``planner.db`` -> ``planner.db.territories.json``) or, for other databases, in the working
directory (``.planner-territories.json``); the record names its database and is refused for
another one.

A customer's ``rep_id`` counts as set by the planner when the record has the customer with that
rep (or the customer has no ``rep_id`` any more, e.g. after a CRM push without owner: then the
recorded rep is its previous owner). Any other ``rep_id`` is the CRM's, and the customer leaves
the record. Applying writes the record's ``pending`` owners first, then the customers in one
transaction, then the record: a failure at any point leaves every owner the planner wrote
recognisable as the planner's.

Format (UTF-8 JSON)::

    {"version": 1, "database": "sqlite:///planner.db", "applied_at": "2026-11-24T10:00:00",
     "balance": "hours", "owners": {"C0001": "R02", ...}, "pending": {}}
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Sequence

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from planner.db.repository import upsert_customers
from planner.domain import Customer, Region

VERSION = 1
OTHER_DATABASES_FILE = ".planner-territories.json"


class TerritoryRecordError(ValueError):
    """The record file cannot be read, or belongs to another database."""


@dataclass(frozen=True)
class TerritoryRecord:
    """Owners the planner wrote (customer id -> rep id), owners being written (``pending``),
    the database they belong to, and when and how they were last applied."""

    database: str
    owners: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    pending: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    applied_at: str | None = None
    balance: str | None = None

    def set_by_planner(self, c: Customer) -> bool:
        """True when ``c``'s owner is one the planner wrote (or was, and is now empty)."""
        mine = {self.owners.get(c.id), self.pending.get(c.id)} - {None}
        return bool(mine) and (c.rep_id is None or c.rep_id in mine)

    def previous_owner(self, c: Customer) -> str | None:
        """The planner's owner of ``c`` (its current ``rep_id``, else the recorded one), or None
        when ``c``'s owner is not the planner's."""
        if not self.set_by_planner(c):
            return None
        return c.rep_id or self.owners.get(c.id) or self.pending.get(c.id)


def database_label(database_url: str) -> str:
    """The database URL without its password (what the record names)."""
    return make_url(database_url).render_as_string(hide_password=True)


def record_path(database_url: str) -> Path:
    """Where the record of ``database_url`` lives by default: ``<sqlite file>.territories.json``
    next to an SQLite database file, else ``.planner-territories.json`` in the working
    directory."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database + ".territories.json")
    return Path(OTHER_DATABASES_FILE)


def load_record(path: Path, database_url: str) -> TerritoryRecord:
    """The record at ``path`` (an empty one when there is no file). Raises
    :class:`TerritoryRecordError` for a file that is not a record or names another database."""
    label = database_label(database_url)
    if not path.exists():
        return TerritoryRecord(database=label)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError(f"not a version {VERSION} territory record")
        owners, pending = data.get("owners", {}), data.get("pending", {})
        if not all(isinstance(x, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in x.items())
                   for x in (owners, pending)):
            raise ValueError("owners and pending must map customer ids to rep ids")
    except (OSError, ValueError) as e:
        raise TerritoryRecordError(f"{path}: {e}") from None
    if data.get("database") != label:
        raise TerritoryRecordError(f"{path} records the territories of database {data.get('database')!r}, "
                                   f"not of {label!r}: pass --record to use another file")
    return TerritoryRecord(database=label, owners=MappingProxyType(dict(owners)),
                           pending=MappingProxyType(dict(pending)), applied_at=data.get("applied_at"),
                           balance=data.get("balance"))


def save_record(path: Path, record: TerritoryRecord) -> None:
    """Write ``record`` to ``path`` atomically (a temporary file renamed over it)."""
    data: dict[str, Any] = {"version": VERSION, "database": record.database, "applied_at": record.applied_at,
                            "balance": record.balance, "owners": dict(sorted(record.owners.items())),
                            "pending": dict(sorted(record.pending.items()))}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def release_planner_owners(region: Region, record: TerritoryRecord) -> tuple[Region, dict[str, str]]:
    """``region`` with the owners the planner set removed (those customers are free to move;
    the CRM's pins stay), and those customers' previous owners (customer id -> rep id)."""
    previous: dict[str, str] = {}
    customers = []
    for c in region.customers:
        owner = record.previous_owner(c)
        if owner is not None:
            previous[c.id] = owner
            c = dataclasses.replace(c, rep_id=None)
        customers.append(c)
    return dataclasses.replace(region, customers=tuple(customers)), previous


@dataclass(frozen=True)
class ApplyResult:
    """What ``apply_territories`` changed: customers whose owner was written or cleared, and
    the new record."""

    written: tuple[str, ...]
    cleared: tuple[str, ...]
    record: TerritoryRecord


def apply_territories(session: Session, path: Path, customers: Sequence[Customer], record: TerritoryRecord,
                      assignment: Mapping[str, str], *, balance: str | None = None,
                      now: dt.datetime | None = None) -> ApplyResult:
    """Store ``assignment`` (customer id -> rep id) as account owners and update the record.

    Every active customer of ``customers`` (as stored) in ``assignment`` whose owner is not the
    CRM's gets the assigned rep as ``rep_id``; an active customer whose owner the planner had
    set but that is not in ``assignment`` (no rep can serve it now) gets its owner cleared;
    inactive customers and the CRM's pins are left as they are. Commits the session.
    """
    stamp = (now or dt.datetime.now()).replace(microsecond=0).isoformat()
    owners: dict[str, str] = {}
    changed: list[Customer] = []
    written: list[str] = []
    cleared: list[str] = []
    for c in customers:
        mine = record.set_by_planner(c)
        if c.rep_id and not mine:
            continue                                       # the CRM's pin
        if not c.active:
            if mine:
                owners[c.id] = record.previous_owner(c) or ""
            continue
        rep = assignment.get(c.id)
        if rep is None:
            if mine and c.rep_id is not None:
                changed.append(dataclasses.replace(c, rep_id=None))
                cleared.append(c.id)
            continue
        owners[c.id] = rep
        if c.rep_id != rep:
            changed.append(dataclasses.replace(c, rep_id=rep))
            written.append(c.id)
    owners = {k: v for k, v in owners.items() if v}
    pending = dict(record.owners)
    pending.update(owners)
    save_record(path, dataclasses.replace(record, pending=MappingProxyType(pending)))
    try:
        if changed:
            upsert_customers(session, changed)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    final = dataclasses.replace(record, owners=MappingProxyType(owners), pending=MappingProxyType({}),
                                applied_at=stamp, balance=balance)
    save_record(path, final)
    return ApplyResult(tuple(written), tuple(cleared), final)
