"""The FastAPI application: ``create_app(settings=None)``.

Nothing is connected at import time: the engine, the migrations and the job runner are set up
by the app's lifespan when the server starts (``uvicorn --factory planner.api.main:create_app``
or ``planner serve``). Every route needs an API key (``Authorization: Bearer <key>``) except
``GET /health``; the OpenAPI schema (``/openapi.json``) and the docs (``/docs``) too.
"""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from planner.api.deps import AnyRole, AppState, AuthRequired, make_api_engine, not_found
from planner.api.pages import STATIC_DIR, login_page_html
from planner.api.routes import absences, capacity, customers, health, jobs, locks, plans, replan, reps, visits
from planner.settings import Settings, get_settings

log = logging.getLogger("planner.api")

DESCRIPTION = """\
Field-visit planner over HTTP: the CRM pushes customers and reps, managers start plans (background
jobs) and read them, exports and maps, record rep absences and fixed appointments (locks) and
re-plan with the fewest changes; reps open their day on a tablet and record their visits.

Every route needs `Authorization: Bearer <key>` (make keys with `planner auth create-key`),
except `GET /health`. Roles: **crm** (everything on customers, reps, plans, visits), **manager**
(plans and re-plans, locks, absences, jobs, exports, maps, reading customers), **rep** (its own
routes, day pages, the customers on its routes, its own visit records, absences, locks, changes
and explanations; anything else answers 404).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new application on ``settings`` (default: from the environment, read now)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from planner.api.jobs import JobRunner, recover_interrupted
        from planner.db.session import init_db, make_session_factory
        from planner.policy import load_policy

        engine = make_api_engine(settings.database_url)
        init_db(engine)
        factory = make_session_factory(engine)
        with factory() as s:
            n = recover_interrupted(s)
            s.commit()
        if n:
            log.warning("%d job(s) left queued/running by a previous server were marked failed", n)
        runner = JobRunner(settings, factory, settings.job_workers)
        app.state.planner = AppState(settings=settings, engine=engine, session_factory=factory,
                                     policy=load_policy(settings.policy_file), runner=runner)
        runner.start()
        try:
            yield
        finally:
            runner.shutdown()
            engine.dispose()

    app = FastAPI(title="Field-visit planner API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)

    for r in (health.router, health.auth_router, customers.router, reps.router, plans.router, jobs.router,
              visits.router, capacity.router, replan.router, locks.router, absences.router):
        app.include_router(r)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_json(who: AnyRole) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs(who: AnyRole) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Field-visit planner API")

    @app.get("/static/leaflet/{name:path}", include_in_schema=False)
    def leaflet_asset(name: str, who: AnyRole) -> FileResponse:
        base = (STATIC_DIR / "leaflet").resolve()
        path = (base / name).resolve()
        if base not in path.parents or not path.is_file():
            raise not_found()
        return FileResponse(path, headers={"Cache-Control": "private, max-age=86400"})

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearerAuth": {"type": "http", "scheme": "bearer", "description": "an API key: fvp_…"}}
        for path, ops in schema.get("paths", {}).items():
            for op in ops.values():
                if path != "/health":
                    op["security"] = [{"bearerAuth": []}]
                    op.setdefault("responses", {}).setdefault("401", {"description": "no valid API key"})
        app.openapi_schema = schema
        return schema

    app.openapi = custom_openapi  # type: ignore[method-assign]

    @app.exception_handler(AuthRequired)
    async def auth_required(request: Request, exc: AuthRequired):
        headers = {"WWW-Authenticate": 'Bearer realm="planner"', "Cache-Control": "no-store"}
        if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(login_page_html(exc.detail), status_code=401, headers=headers)
        return JSONResponse({"detail": exc.detail}, status_code=401, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
