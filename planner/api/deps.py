"""Dependencies of the routes: the database session, the caller's key, and role checks.

Keys come as ``Authorization: Bearer <key>``, or from the ``planner_key`` cookie that
``POST /auth/session`` sets for a browser (the rep's tablet). A request authenticated by the
cookie that changes something must also carry the ``X-Planner-CSRF`` header (the day page's
script sends it; another site cannot).

Refusals: no or a bad key -> 401. A rep key asking for anything outside its own routes,
customers and visits -> 404, exactly as for an id that does not exist, so nothing leaks. A
crm/manager key asking for what its role does not allow -> 403, decided before any lookup.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Callable, Iterator

from fastapi import Depends, HTTPException, Request
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from planner.api.security import Principal, verify_key
from planner.domain import VisitPolicy
from planner.settings import Settings

COOKIE = "planner_key"
CSRF_HEADER = "X-Planner-CSRF"


def make_api_engine(url: str) -> Engine:
    """An engine for the server and its workers: SQLite waits for locks (30 s) and uses WAL so
    the worker process can write while the server reads."""
    from planner.db.session import make_engine

    if url.startswith("sqlite"):
        engine = make_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _wal(dbapi_connection: Any, _record: Any) -> None:
            cur = dbapi_connection.cursor()
            try:
                cur.execute("PRAGMA journal_mode=WAL")
            except Exception:  # pragma: no cover - e.g. in-memory databases
                pass
            cur.close()
        return engine
    return make_engine(url, pool_pre_ping=True)


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    policy: VisitPolicy
    runner: Any = None


class AuthRequired(Exception):
    """No valid key (401)."""

    def __init__(self, detail: str):
        self.detail = detail


def state_of(request: Request) -> AppState:
    return request.app.state.planner


def get_session(request: Request) -> Iterator[Session]:
    with state_of(request).session_factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
StateDep = Annotated[AppState, Depends(state_of)]


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if not auth:
        return None
    scheme, _, value = auth.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthRequired("the Authorization header must be 'Bearer <key>'")
    return value.strip()


def current_key(request: Request) -> Principal:
    """The caller (401 without a valid key). Cached on the request."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    key = _bearer(request)
    via_cookie = False
    if key is None:
        key = request.cookies.get(COOKIE)
        via_cookie = key is not None
    if not key:
        raise AuthRequired("an API key is required: send 'Authorization: Bearer <key>'")
    with state_of(request).session_factory() as s:
        who = verify_key(s, key)
    if who is None:
        raise AuthRequired("the API key is not valid (unknown or revoked)")
    if via_cookie and request.method not in ("GET", "HEAD", "OPTIONS") and not request.headers.get(CSRF_HEADER):
        raise HTTPException(403, f"a request authenticated by cookie must send the {CSRF_HEADER} header")
    request.state.principal = who
    return who


CurrentKey = Annotated[Principal, Depends(current_key)]


def not_found(what: str = "not found") -> HTTPException:
    return HTTPException(404, what)


def allow(*roles: str) -> Callable[..., Principal]:
    """A dependency admitting only ``roles``: rep keys are told 404, others 403."""

    def check(who: CurrentKey) -> Principal:
        if who.role not in roles:
            if who.is_rep:
                raise not_found()
            raise HTTPException(403, f"the {who.role!r} role may not do this")
        return who

    return check


CrmKey = Annotated[Principal, Depends(allow("crm"))]
CrmOrManager = Annotated[Principal, Depends(allow("crm", "manager"))]
AnyRole = Annotated[Principal, Depends(allow("crm", "manager", "rep"))]
CrmOrRep = Annotated[Principal, Depends(allow("crm", "rep"))]
