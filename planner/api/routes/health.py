"""``GET /health`` (the one route open without a key), and the caller's own key:
``GET /auth/me``, ``POST /auth/session`` (a browser cookie for the tablet pages), ``DELETE /auth/session``."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response

from planner.api.deps import COOKIE, AnyRole
from planner.api.schemas import Health, Me

router = APIRouter(tags=["health"])
auth_router = APIRouter(prefix="/auth", tags=["auth"])


@router.get("/health", response_model=Health)
def health() -> Health:
    """Liveness: no key needed, tells nothing about the data."""
    return Health(status="ok")


@auth_router.get("/me", response_model=Me)
def me(who: AnyRole) -> Me:
    """The name, role and rep of the key used."""
    return Me(name=who.name, role=who.role, rep_id=who.rep_id)


@auth_router.post("/session", response_model=Me)
def open_session(who: AnyRole, request: Request, response: Response) -> Me:
    """For a browser: keep the key (sent as Bearer) in an HttpOnly, SameSite=Strict cookie, so
    that the day pages open without a header. Writes through the cookie need ``X-Planner-CSRF``."""
    key = request.headers.get("authorization", "").partition(" ")[2].strip()
    if key:
        response.set_cookie(COOKIE, key, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                            max_age=12 * 3600, path="/")
    return Me(name=who.name, role=who.role, rep_id=who.rep_id)


@auth_router.delete("/session", status_code=204)
def close_session(who: AnyRole, response: Response) -> Response:
    """Forget the browser's cookie."""
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response
