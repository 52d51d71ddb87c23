"""``/customers``: list, nearby, get, bulk upsert, patch, deactivate, erase."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Body, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, select

from planner.api import services
from planner.api.deps import AnyRole, CrmKey, CrmOrManager, SessionDep, StateDep, not_found
from planner.api.schemas import CustomerIn, CustomerOut, CustomerPatch, Deleted, NearbyCustomer, Page, UpsertResult
from planner.db.models import CustomerRow
from planner.db.repository import customer_to_row

router = APIRouter(prefix="/customers", tags=["customers"])

_BULK_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "array", "minItems": 1, "maxItems": 10000, "items": CustomerIn.model_json_schema()}}}}}


@router.get("", response_model=Page[CustomerOut])
def list_customers(who: AnyRole, session: SessionDep,
                   region: Annotated[str | None, Query(max_length=64)] = None,
                   grade: Annotated[str | None, Query(max_length=16)] = None,
                   active: bool | None = None,
                   rep_id: Annotated[str | None, Query(max_length=64, description="pinned rep")] = None,
                   q: Annotated[str | None, Query(max_length=100, description="part of the name or id")] = None,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> Page[CustomerOut]:
    """Customers sorted by id, filtered, a page at a time. A rep key sees the customers on its routes."""
    cond = []
    if region is not None:
        cond.append(CustomerRow.region == region)
    if grade is not None:
        cond.append(CustomerRow.grade == grade)
    if active is not None:
        cond.append(CustomerRow.active.is_(active))
    if rep_id is not None:
        cond.append(CustomerRow.rep_id == rep_id)
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        cond.append(CustomerRow.name.like(like) | CustomerRow.id.like(like))
    if who.is_rep:
        mine = sorted(services.rep_customer_ids(session, who.rep_id))
        cond.append(CustomerRow.id.in_(mine or [""]))
    total = session.scalar(select(func.count()).select_from(CustomerRow).where(*cond))
    rows = session.scalars(select(CustomerRow).where(*cond).order_by(CustomerRow.id).limit(limit).offset(offset))
    return Page(items=[services.customer_out(r) for r in rows], total=total or 0, limit=limit, offset=offset)


@router.get("/nearby", response_model=list[NearbyCustomer])
def nearby(who: CrmOrManager, session: SessionDep,
           lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
           lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
           customer_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
           radius_km: Annotated[float, Query(gt=0, le=20000)] = 5.0,
           active: bool | None = True,
           limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[NearbyCustomer]:
    """Customers within ``radius_km`` of a venue (``lat``/``lon``) or of a customer, nearest
    first (great-circle distance), e.g. to invite them to an event."""
    if customer_id is not None:
        if lat is not None or lon is not None:
            raise HTTPException(422, [{"loc": ["query", "customer_id"], "msg": "give customer_id or lat/lon, not both",
                                       "type": "value_error"}])
        centre = session.get(CustomerRow, customer_id)
        if centre is None:
            raise not_found(f"customer {customer_id!r} not found")
        lat0, lon0 = centre.lat, centre.lon
    elif lat is None or lon is None:
        missing = "lat" if lat is None else "lon"
        raise HTTPException(422, [{"loc": ["query", missing], "msg": "give lat and lon, or customer_id",
                                   "type": "missing"}])
    else:
        lat0, lon0 = lat, lon
    cond = [] if active is None else [CustomerRow.active.is_(active)]
    rows = [r for r in session.scalars(select(CustomerRow).where(*cond).order_by(CustomerRow.id))
            if r.id != customer_id]
    if not rows:
        return []
    la = np.radians(np.array([r.lat for r in rows]))
    lo = np.radians(np.array([r.lon for r in rows]))
    p0, l0 = np.radians(lat0), np.radians(lon0)
    a = np.sin((la - p0) / 2) ** 2 + np.cos(p0) * np.cos(la) * np.sin((lo - l0) / 2) ** 2
    d = 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    order = np.argsort(d, kind="stable")
    out = []
    for k in order:
        if d[k] > radius_km or len(out) >= limit:
            break
        out.append(NearbyCustomer(**services.customer_out(rows[k]).model_dump(), distance_km=round(float(d[k]), 3)))
    return out


@router.get("/{customer_id}", response_model=CustomerOut, responses={404: {"description": "unknown customer"}})
def get_customer(customer_id: str, who: AnyRole, session: SessionDep) -> CustomerOut:
    """One customer. A rep key sees only customers on its routes (others: 404)."""
    row = session.get(CustomerRow, customer_id)
    if row is None or (who.is_rep and not services.rep_has_customer(session, who.rep_id, customer_id)):
        raise not_found(f"customer {customer_id!r} not found")
    return services.customer_out(row)


@router.put("", response_model=UpsertResult, openapi_extra=_BULK_BODY,
            responses={422: {"description": "bad items: every bad item index and field is named; nothing written"}})
async def upsert_customers(who: CrmKey, state: StateDep, session: SessionDep,
                           items: Annotated[Any, Body(include_in_schema=False)]) -> UpsertResult:
    """Insert or update customers by their CRM id (a JSON array of customers). All or nothing:
    a bad item rejects the whole request (422, naming every bad item and field). The same
    request twice changes nothing the second time. Without ``lat``/``lon`` an ``address`` is
    looked up in the geocoding cache only."""
    cache = None

    def geocode(address: str):
        # Only addresses already in the geocoding cache (e.g. from `planner import customers`):
        # a web request never waits on the rate-limited geocoding service.
        nonlocal cache
        from planner.geo.geocode import GeocodeCache, GeocodeError, normalize_address
        if cache is None:
            cache = GeocodeCache(state.settings.geocode_cache)
        hit, location = cache.lookup(normalize_address(" ".join(address.split())))
        if location is None:
            raise GeocodeError("no place found for this address" if hit else
                               "not in the geocoding cache: send lat and lon (or import the file with "
                               "`planner import customers`, which geocodes)")
        return location

    def work() -> UpsertResult:
        try:
            customers = services.validate_customers(items, state.policy, geocode)
        except services.BulkRejected as e:
            raise HTTPException(422, e.errors) from None
        try:
            ins, upd, same = services.upsert_rows(session, CustomerRow, [customer_to_row(c) for c in customers])
            if ins or upd:
                services.invalidate_maps(session)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return UpsertResult(inserted=ins, updated=upd, unchanged=same)

    def work_and_close() -> UpsertResult:
        try:
            return work()
        finally:  # the cache's sqlite3 connection belongs to this thread
            if cache is not None:
                cache.close()

    return await run_in_threadpool(work_and_close)


@router.patch("/{customer_id}", response_model=CustomerOut, responses={404: {"description": "unknown customer"}})
def patch_customer(customer_id: str, patch: CustomerPatch, who: CrmKey, state: StateDep,
                   session: SessionDep) -> CustomerOut:
    """Change some fields of a customer (``null`` clears an optional field)."""
    row = session.get(CustomerRow, customer_id)
    if row is None:
        raise not_found(f"customer {customer_id!r} not found")
    data = services.customer_in_of_row(row)
    changes = patch.model_dump(exclude_unset=True)
    for required in ("name", "grade", "lat", "lon", "active"):
        if required in changes and changes[required] is None:
            raise HTTPException(422, [{"loc": ["body", required], "msg": "may not be null", "type": "value_error"}])
    data.update(changes)
    errors: list = []
    try:
        item = CustomerIn(**data)
    except Exception as e:  # pydantic.ValidationError
        raise HTTPException(422, [{"loc": ["body", *x["loc"]], "msg": x["msg"], "type": x["type"]}
                                  for x in e.errors(include_url=False)]) from None
    customer = services.customer_from_in(item, None, errors, state.policy)
    if errors:
        raise HTTPException(422, errors)
    values = customer_to_row(customer)
    if any(getattr(row, k) != v for k, v in values.items() if k != "updated_at"):
        for k, v in values.items():
            setattr(row, k, v)
        services.invalidate_maps(session)
        session.commit()
    return services.customer_out(row)


@router.post("/{customer_id}/deactivate", response_model=CustomerOut,
             responses={404: {"description": "unknown customer"}})
def deactivate_customer(customer_id: str, who: CrmKey, session: SessionDep) -> CustomerOut:
    """Mark a customer invalid (closed, duplicate, unreachable): kept, never planned."""
    row = session.get(CustomerRow, customer_id)
    if row is None:
        raise not_found(f"customer {customer_id!r} not found")
    if row.active:
        row.active = False
        row.updated_at = dt.datetime.now().replace(microsecond=0)
        services.invalidate_maps(session)
        session.commit()
    return services.customer_out(row)


@router.delete("/{customer_id}", response_model=Deleted, responses={404: {"description": "unknown customer"}})
def erase_customer(customer_id: str, who: CrmKey, state: StateDep, session: SessionDep) -> Deleted:
    """Erase a customer everywhere (the right to be removed): the customer, its visits and
    unplanned visits in every stored plan, its locks and its entries in change reports, its
    visit records, rendered maps, and its address in the geocoding cache. Stored plans keep
    their other visits."""
    found = services.erase_customer(session, customer_id)
    if found is None:
        raise not_found(f"customer {customer_id!r} not found")
    counts, address = found
    session.commit()
    if address:
        from planner.geo.geocode import GeocodeCache
        try:
            cache = GeocodeCache(state.settings.geocode_cache)
            counts["geocode_cache"] = cache.forget(address)
            cache.close()
        except Exception:  # pragma: no cover - an unreadable cache file
            counts["geocode_cache"] = 0
    return Deleted(id=customer_id, erased=counts)
