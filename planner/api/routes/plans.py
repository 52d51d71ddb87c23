"""``/plans``: start a plan (a background job), read stored plans, their routes, exports, the
region map and the reps' day pages."""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import func, select

from planner.api import services
from planner.api.deps import AnyRole, CrmOrManager, SessionDep, StateDep, not_found
from planner.api.jobs import new_job
from planner.api.pages import day_map_html, day_page_html, region_map_html
from planner.api.schemas import Deleted, JobAccepted, PlanOut, PlanRequest, PlanSummary, RouteOut
from planner.api.security import Principal
from planner.db.models import CustomerRow, PlanRow, RepRow
from planner.db.repository import LATEST, PlanNotFound, delete_plan, list_plans, load_plan, load_region
from planner.domain import Plan, Region
from planner.export import plan_to_dict

router = APIRouter(prefix="/plans", tags=["plans"])

Lang = Literal["zh", "en"]
PlanId = Annotated[str, "plan id or 'latest'"]
HTML = {200: {"content": {"text/html": {}}, "description": "an HTML page"}, 404: {"description": "not found"}}


def _load(session, plan_id: str, who: Principal, policy) -> tuple[Plan, Region]:
    """The plan as ``who`` may see it (404 if unknown or, for a rep, not theirs) and the region."""
    if len(plan_id) > 64:
        raise not_found("plan not found")
    if who.is_rep and plan_id == LATEST:
        mine = services.rep_plan_ids(session, who.rep_id)
        row = session.scalars(select(PlanRow).where(PlanRow.id.in_(mine or [""]))
                              .order_by(PlanRow.created_at.desc(), PlanRow.id.desc())).first()
        if row is None:
            raise not_found("no stored plan has routes of this rep")
        plan_id = row.id
    try:
        plan = load_plan(session, plan_id)
    except PlanNotFound as e:
        raise not_found(str(e)) from None
    if who.is_rep and not any(r.rep_id == who.rep_id for r in plan.routes):
        raise not_found(f"no stored plan has id {plan_id!r}")
    return services.plan_seen_by(plan, who), load_region(session, policy)


@router.post("", status_code=202, response_model=JobAccepted,
             responses={409: {"description": "nothing to plan (no active customers or reps)"}})
def start_plan(req: PlanRequest, who: CrmOrManager, state: StateDep, session: SessionDep) -> JobAccepted:
    """Start planning in the background; poll ``GET /jobs/{job_id}``. Missed visits recorded
    through ``/visits`` (absent, rescheduled) give those customers priority in this plan."""
    if req.time_limit > state.settings.max_time_limit:
        raise HTTPException(422, [{"loc": ["body", "time_limit"], "type": "less_than_equal",
                                   "msg": f"at most {state.settings.max_time_limit:g} seconds on this server"}])
    if req.rep_ids:
        known = set(session.scalars(select(RepRow.id).where(RepRow.id.in_(req.rep_ids))))
        unknown = [r for r in req.rep_ids if r not in known]
        if unknown:
            raise HTTPException(422, [{"loc": ["body", "rep_ids"], "msg": f"unknown rep id(s): {', '.join(unknown)}",
                                       "type": "value_error"}])
    cq = select(func.count()).select_from(CustomerRow).where(CustomerRow.active.is_(True))
    rq = select(func.count()).select_from(RepRow).where(RepRow.active.is_(True))
    if req.region:
        cq = cq.where(CustomerRow.region == req.region)
        rq = rq.where(RepRow.region == req.region)
    if req.rep_ids:
        rq = rq.where(RepRow.id.in_(req.rep_ids))
    if not session.scalar(cq):
        raise HTTPException(409, "no active customers to plan" + (f" in region {req.region!r}" if req.region else ""))
    if not session.scalar(rq):
        raise HTTPException(409, "no active reps to plan with" + (f" in region {req.region!r}" if req.region else ""))
    params = req.model_dump(mode="json", exclude_none=True)
    job = new_job(session, params, who.name)
    session.commit()
    state.runner.submit(job.id)
    return JobAccepted(job_id=job.id, status="queued")


@router.get("", response_model=list[PlanSummary])
def list_stored_plans(who: AnyRole, session: SessionDep) -> list[PlanSummary]:
    """Stored plans, newest first. A rep key sees the plans with its routes (without totals)."""
    rows = list_plans(session)
    if who.is_rep:
        mine = services.rep_plan_ids(session, who.rep_id)
        rows = [{k: r[k] for k in ("plan_id", "created_at", "start", "end", "weeks")} for r in rows
                if r["plan_id"] in mine]
    return [PlanSummary(**r) for r in rows]


@router.get("/{plan_id}", response_model=PlanOut, responses={404: {"description": "unknown plan"}})
def get_plan(plan_id: str, who: AnyRole, state: StateDep, session: SessionDep) -> JSONResponse:
    """The plan JSON of interfaces.md (``latest`` for the newest). A rep key: its own routes."""
    plan, region = _load(session, plan_id, who, state.policy)
    return JSONResponse(plan_to_dict(plan, region))


@router.delete("/{plan_id}", response_model=Deleted, responses={404: {"description": "unknown plan"}})
def remove_plan(plan_id: str, who: CrmOrManager, session: SessionDep) -> Deleted:
    """Delete a stored plan (its routes, maps; jobs keep their record without the plan id)."""
    if not delete_plan(session, plan_id):
        raise not_found(f"no stored plan has id {plan_id!r}")
    session.commit()
    return Deleted(id=plan_id, erased={"plans": 1})


@router.get("/{plan_id}/routes", response_model=list[RouteOut], responses={404: {"description": "unknown plan"}})
def routes(plan_id: str, who: AnyRole, state: StateDep, session: SessionDep,
           rep_id: Annotated[str | None, Query(max_length=64)] = None, date: dt.date | None = None) -> JSONResponse:
    """Routes of a plan (each rep's day, stops in order with times), by rep and/or date."""
    if who.is_rep and rep_id is not None and rep_id != who.rep_id:
        raise not_found("plan not found")
    plan, region = _load(session, plan_id, who, state.policy)
    # a route's JSON depends on the route alone: render only the asked ones
    wanted = tuple(r for r in plan.routes
                   if (rep_id is None or r.rep_id == rep_id) and (date is None or r.date == date))
    return JSONResponse(plan_to_dict(dataclasses.replace(plan, routes=wanted, unassigned=()), region)["routes"])


_MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8",
          "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "ics": "text/calendar; charset=utf-8", "geojson": "application/geo+json", "zip": "application/zip"}


@router.get("/{plan_id}/export", responses={200: {"content": {m: {} for m in _MEDIA.values()},
                                                  "description": "the export file"},
                                            404: {"description": "unknown plan or rep"}})
def export(plan_id: str, who: AnyRole, state: StateDep, session: SessionDep,
           format: Literal["json", "csv", "xlsx", "ics", "geojson"] = "json",
           rep_id: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    """The plan as a file: json, csv (a zip when visits are unplanned: plan + unassigned),
    xlsx, ics (a zip of one calendar per rep, or the calendar of ``rep_id``), geojson."""
    from planner.export import export_plan
    from planner.export.ics_export import rep_calendar
    import dataclasses
    from types import MappingProxyType

    if who.is_rep and rep_id is not None and rep_id != who.rep_id:
        raise not_found("plan not found")
    plan, region = _load(session, plan_id, who, state.policy)
    if rep_id is not None:
        if not any(r.rep_id == rep_id for r in plan.routes):
            raise not_found(f"rep {rep_id!r} has no route in plan {plan.plan_id!r}")
        keep = {cid for cid, r in plan.assignment.items() if r == rep_id}
        plan = dataclasses.replace(
            plan, routes=tuple(r for r in plan.routes if r.rep_id == rep_id),
            unassigned=tuple(u for u in plan.unassigned if u.customer_id in keep),
            assignment=MappingProxyType({k: v for k, v in plan.assignment.items() if k in keep}),
            patterns=MappingProxyType({k: v for k, v in plan.patterns.items() if k in keep}))
    stem = f"plan-{plan.plan_id}" + (f"-{rep_id}" if rep_id else "")
    safe_stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem)
    if format == "ics" and rep_id is not None:
        body = rep_calendar(plan, region, rep_id).to_ical()
        return _file(body, _MEDIA["ics"], f"{safe_stem}.ics")
    with tempfile.TemporaryDirectory(prefix="planner-export-") as tmp:
        out = Path(tmp) / (safe_stem if format == "ics" else f"{safe_stem}.{format}")
        files = export_plan(plan, region, format, out)
        if len(files) == 1 and format != "ics":
            return _file(files[0].read_bytes(), _MEDIA[format], files[0].name)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for f in files:
                z.write(f, f.name)
        return _file(buf.getvalue(), _MEDIA["zip"], f"{safe_stem}-{format}.zip")


def _file(body: bytes, media: str, filename: str) -> Response:
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/{plan_id}/map", response_class=HTMLResponse, responses=HTML)
def region_map(plan_id: str, who: CrmOrManager, state: StateDep, session: SessionDep, request: Request,
               lang: Lang = "zh") -> HTMLResponse:
    """The region map of a plan (folium HTML): customers by grade, territories, routes by day."""
    plan, region = _load(session, plan_id, who, state.policy)
    return HTMLResponse(region_map_html(session, region, plan, lang, state.settings.map_assets,
                                        request.scope.get("root_path", "")))


@router.get("/{plan_id}/reps/{rep_id}/days/{day}", response_class=HTMLResponse, responses=HTML)
def day_page(plan_id: str, rep_id: str, day: dt.date, who: AnyRole, state: StateDep, session: SessionDep,
             request: Request, lang: Lang = "zh") -> HTMLResponse:
    """A rep's day for the tablet: map, stops in order with times, call and navigation links,
    and a visit-record form per stop. A rep key: its own days only."""
    if who.is_rep and rep_id != who.rep_id:
        raise not_found("plan not found")
    plan, region = _load(session, plan_id, who, state.policy)
    if not any(r.rep_id == rep_id and r.date == day and r.stops for r in plan.routes):
        raise not_found(f"rep {rep_id!r} has no route on {day.isoformat()} in plan {plan.plan_id!r}")
    root = request.scope.get("root_path", "")
    map_html = day_map_html(session, region, plan, rep_id, day, lang, state.settings.map_assets, root,
                            settings=state.settings)
    return HTMLResponse(day_page_html(session, region, plan, rep_id, day, lang, map_html, root))


__all__ = ["router", "json"]
