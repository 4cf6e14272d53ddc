"""Search on behalf of a user: trimmed to their units, restricted hits without text
(unless a borrow grant opens them).

Public surface: :func:`search_records`, :class:`SearchParams`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from archive.errors import BackendUnavailable, InvalidInput
from archive.services.access import Actor, permits, search_units, sees_personal
from archive.services.masking import mask_text
from policies import Action, Target, borrow_key
from search import SearchBackend, SearchError, SearchQuery, SearchUnavailable
from search.base import SORTS
from search.errors import InvalidQuery


@dataclass(frozen=True)
class SearchParams:
    q: str | None = None
    customer: str | None = None
    name: str | None = None
    address: str | None = None
    customer_class: str | None = None
    doc_type: str | None = None
    category: str | None = None
    unit: str | None = None
    security_level: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"
    page: int = 1
    size: int = 20
    after: str | None = None


def search_records(search: SearchBackend, *, actor: Actor, params: SearchParams) -> dict:
    if params.page < 1 or not 1 <= params.size <= 100:
        raise InvalidInput("page must be ≥ 1 and size between 1 and 100")
    if params.sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}")
    if params.date_from and params.date_to and params.date_from > params.date_to:
        raise InvalidInput("date_from is after date_to")
    query = SearchQuery(
        q=params.q, customer=params.customer, name=params.name, address=params.address,
        customer_class=params.customer_class, doc_type=params.doc_type,
        category=params.category, unit=params.unit,
        security_levels=(params.security_level,) if params.security_level else None,
        date_from=params.date_from, date_to=params.date_to, sort=params.sort,
        page=params.page, size=params.size, after=params.after,
        unit_paths=search_units(actor),
    )
    try:
        result = search.search(query)
    except InvalidQuery as exc:
        raise InvalidInput(str(exc)) from exc
    except SearchUnavailable as exc:
        raise BackendUnavailable(f"search: {exc}") from exc
    except SearchError as exc:
        raise BackendUnavailable(f"search: {exc}") from exc
    hits = []
    for hit in result.hits:
        # the same decision as GET records/{id}/text for this caller
        granted = permits(actor, hit.unit_path, Target(
            key=borrow_key(hit.dossier_id, hit.record_id), level=hit.security_level),
            Action.RECORD_CONTENT)
        personal = sees_personal(actor, hit.unit_path)
        hits.append({
            "record_id": hit.record_id, "dossier_id": hit.dossier_id,
            "customer_account": hit.customer_account, "customer_name": hit.customer_name,
            "doc_type": hit.doc_type, "category": hit.category, "title": hit.title,
            "doc_date": hit.doc_date, "unit": hit.unit, "security_level": hit.security_level,
            "score": hit.score,
            "highlights": [
                {"page": h.page, "text": h.text if personal else mask_text(h.text)}
                for h in hit.highlights
            ] if granted else [],
            "access": "granted" if granted else "restricted",
        })
    return {"total": result.total, "page": params.page, "size": params.size, "hits": hits,
            "facets": result.facets, "next": result.next}
