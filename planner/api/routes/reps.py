"""``/reps``: list, get, bulk upsert, patch, deactivate (crm keys)."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query
from sqlalchemy import func, select

from planner.api import services
from planner.api.deps import CrmKey, SessionDep, not_found
from planner.api.schemas import Page, RepIn, RepOut, RepPatch, UpsertResult
from planner.db.models import RepRow
from planner.db.repository import rep_to_row

router = APIRouter(prefix="/reps", tags=["reps"])

_BULK_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "array", "minItems": 1, "maxItems": 10000, "items": RepIn.model_json_schema()}}}}}


def _row_values(rep, extra: dict[str, Any]) -> dict[str, Any]:
    values = rep_to_row(rep)
    values.update(extra)
    return values


@router.get("", response_model=Page[RepOut])
def list_reps(who: CrmKey, session: SessionDep,
              region: Annotated[str | None, Query(max_length=64)] = None,
              active: bool | None = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> Page[RepOut]:
    """Reps sorted by id, filtered by region and active, a page at a time."""
    cond = []
    if region is not None:
        cond.append(RepRow.region == region)
    if active is not None:
        cond.append(RepRow.active.is_(active))
    total = session.scalar(select(func.count()).select_from(RepRow).where(*cond))
    rows = session.scalars(select(RepRow).where(*cond).order_by(RepRow.id).limit(limit).offset(offset))
    return Page(items=[services.rep_out(r) for r in rows], total=total or 0, limit=limit, offset=offset)


@router.get("/{rep_id}", response_model=RepOut, responses={404: {"description": "unknown rep"}})
def get_rep(rep_id: str, who: CrmKey, session: SessionDep) -> RepOut:
    row = session.get(RepRow, rep_id)
    if row is None:
        raise not_found(f"rep {rep_id!r} not found")
    return services.rep_out(row)


@router.put("", response_model=UpsertResult, openapi_extra=_BULK_BODY,
            responses={422: {"description": "bad items: every bad item index and field is named; nothing written"}})
def upsert_reps(who: CrmKey, session: SessionDep, items: Annotated[Any, Body(include_in_schema=False)]) -> UpsertResult:
    """Insert or update reps by id (a JSON array). All or nothing; idempotent."""
    try:
        reps = services.validate_reps(items)
    except services.BulkRejected as e:
        raise HTTPException(422, e.errors) from None
    try:
        ins, upd, same = services.upsert_rows(session, RepRow, [_row_values(r, extra) for r, extra in reps])
        if ins or upd:
            services.invalidate_maps(session)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return UpsertResult(inserted=ins, updated=upd, unchanged=same)


@router.patch("/{rep_id}", response_model=RepOut, responses={404: {"description": "unknown rep"}})
def patch_rep(rep_id: str, patch: RepPatch, who: CrmKey, session: SessionDep) -> RepOut:
    """Change some fields of a rep."""
    row = session.get(RepRow, rep_id)
    if row is None:
        raise not_found(f"rep {rep_id!r} not found")
    changes = patch.model_dump(exclude_unset=True)
    for required in ("name", "start_lat", "start_lon", "work_start", "work_end", "workdays", "cost_per_km",
                     "cost_per_hour", "lunch_minutes", "lunch_earliest", "lunch_latest", "active"):
        if required in changes and changes[required] is None:
            raise HTTPException(422, [{"loc": ["body", required], "msg": "may not be null", "type": "value_error"}])
    data = services.rep_in_of_row(row)
    data.update(changes)
    try:
        item = RepIn(**data)
    except Exception as e:  # pydantic.ValidationError
        raise HTTPException(422, [{"loc": ["body", *x["loc"]], "msg": x["msg"], "type": x["type"]}
                                  for x in e.errors(include_url=False)]) from None
    errors: list = []
    made = services.rep_from_in(item, None, errors)
    if errors or made is None:
        raise HTTPException(422, errors)
    values = _row_values(*made)
    if any(getattr(row, k) != v for k, v in values.items() if k != "updated_at"):
        for k, v in values.items():
            setattr(row, k, v)
        services.invalidate_maps(session)
        session.commit()
    return services.rep_out(row)


@router.post("/{rep_id}/deactivate", response_model=RepOut, responses={404: {"description": "unknown rep"}})
def deactivate_rep(rep_id: str, who: CrmKey, session: SessionDep) -> RepOut:
    """A rep who left: kept (stored plans still name them), never planned again."""
    row = session.get(RepRow, rep_id)
    if row is None:
        raise not_found(f"rep {rep_id!r} not found")
    if row.active:
        row.active = False
        row.updated_at = dt.datetime.now().replace(microsecond=0)
        session.commit()
    return services.rep_out(row)
