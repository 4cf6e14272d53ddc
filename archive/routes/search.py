"""``/api/v1/search``: full-text and catalogue search, trimmed to the caller's units."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from archive.deps import SearchDep, SessionDep, TrailDep, allowed
from archive.schemas import SearchResponse
from archive.services.access import Actor
from archive.services.audit import Event
from archive.services.searching import SearchParams, search_records
from policies import Action

router = APIRouter(tags=["search"])


@router.get("/search", response_model=SearchResponse)
def search(
    backend: SearchDep, session: SessionDep, trail: TrailDep,
    actor: Annotated[Actor, Depends(allowed(Action.SEARCH))],
    q: Annotated[str | None, Query(max_length=256, description='words; "quoted phrase"')] = None,
    customer: Annotated[str | None, Query(description="exact 户号")] = None,
    doc_type: str | None = None,
    category: str | None = None,
    unit: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    page: Annotated[int, Query(ge=1, le=500)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict:
    params = SearchParams(q=q, customer=customer, doc_type=doc_type, category=category,
                          unit=unit, date_from=date_from, date_to=date_to, page=page, size=size)
    result = search_records(backend, actor=actor, params=params)
    filters = {k: v for k, v in vars(params).items() if v is not None and k != "q"}
    trail.record(session, Event("search", "search", "", details={
        "q": q, "filters": filters, "total": result["total"]}))
    session.commit()
    return result
