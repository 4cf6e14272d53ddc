"""``/api/v1/search``: full-text and catalogue search, trimmed to the caller's units,
rate-limited per user (429 with Retry-After; the first refusal of a burst is audited)."""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from archive.deps import SearchDep, WorkDep, allowed
from archive.schemas import SearchResponse
from archive.services.access import Actor
from archive.services.searching import SearchParams, search_audited
from policies import Action

router = APIRouter(tags=["search"])


@router.get("/search", response_model=SearchResponse)
def search(
    request: Request, backend: SearchDep, work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.SEARCH))],
    q: Annotated[str | None, Query(max_length=256, description='words; "quoted phrase"')] = None,
    customer: Annotated[str | None, Query(max_length=32, description="exact 户号")] = None,
    name: Annotated[str | None, Query(max_length=100, description="in the customer's name")
                    ] = None,
    address: Annotated[str | None, Query(max_length=200,
                                         description="in the customer's address")] = None,
    customer_class: Annotated[str | None, Query(max_length=16)] = None,
    doc_type: Annotated[str | None, Query(max_length=32)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    unit: Annotated[str | None, Query(max_length=32)] = None,
    security_level: Annotated[Literal["公开", "内部", "受限"] | None, Query()] = None,
    date_from: date | None = None,
    date_to: date | None = None,
    year: Annotated[int | None, Query(ge=1, le=9999, description=(
        "year of the document date (a key of the year facet); with date_from/date_to, "
        "both apply"))] = None,
    sort: Annotated[Literal["relevance", "date"], Query(
        description="relevance (then newest) or date (newest first)")] = "relevance",
    page: Annotated[int, Query(ge=1, le=500)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
    after: Annotated[str | None, Query(max_length=512,
                                       description="the next cursor of the page before")] = None,
) -> dict:
    params = SearchParams(q=q, customer=customer, name=name, address=address,
                          customer_class=customer_class, doc_type=doc_type, category=category,
                          unit=unit, security_level=security_level, date_from=date_from,
                          date_to=date_to, year=year, sort=sort, page=page, size=size, after=after)
    return search_audited(work, backend, actor=actor, params=params,
                          throttle=request.app.state.search_throttle)
