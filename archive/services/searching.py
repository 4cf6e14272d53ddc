"""Search on behalf of a user: trimmed to their units, page text matched only where they may
read it, personal values masked and unsearchable unless they may see them, each hit's
access the same decision as reading its text, and searches rate-limited per user.

Public surface: :func:`search_records`, :class:`SearchParams`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from archive.errors import BackendUnavailable, InvalidInput, RateLimited
from archive.services.access import Actor, permits, reach, search_units, units_for
from archive.services.audit import Event
from archive.services.masking import shown_to
from archive.services.throttle import Throttle
from archive.services.work import Work
from policies import SECURITY_LEVELS, Action, Target, borrow_key
from search import SearchBackend, SearchError, SearchQuery, SearchUnavailable, TextScope
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
    year: int | None = None
    sort: str = "relevance"
    page: int = 1
    size: int = 20
    after: str | None = None


def _text_scope(actor: Actor, searched: tuple[str, ...]) -> TextScope | None:
    """Where the actor's query may match page text: the records whose content they may
    read (``record:content``, as the authorizer reaches it). None when that is every
    record they search."""
    content = reach(actor, Action.RECORD_CONTENT)
    if set(content.levels) == set(SECURITY_LEVELS) and all(
            any(path.startswith(unit) for unit in content.units) for path in searched):
        return None
    return TextScope(units=content.units, levels=content.levels, dossiers=content.dossiers,
                     records=content.records)


def search_records(search: SearchBackend, *, actor: Actor, params: SearchParams,
                   throttle: Throttle | None = None) -> dict:
    if throttle is not None:
        verdict = throttle.take(actor.username)
        if not verdict.allowed:
            raise RateLimited(f"too many searches; try again in {verdict.retry_after} s",
                              retry_after=verdict.retry_after, audit=verdict.first_refusal)
    if params.page < 1 or not 1 <= params.size <= 100:
        raise InvalidInput("page must be ≥ 1 and size between 1 and 100")
    if params.sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}")
    if params.date_from and params.date_to and params.date_from > params.date_to:
        raise InvalidInput("date_from is after date_to")
    searched = search_units(actor)
    query = SearchQuery(
        q=params.q, customer=params.customer, name=params.name, address=params.address,
        customer_class=params.customer_class, doc_type=params.doc_type,
        category=params.category, unit=params.unit,
        security_levels=(params.security_level,) if params.security_level else None,
        date_from=params.date_from, date_to=params.date_to, year=params.year, sort=params.sort,
        page=params.page, size=params.size, after=params.after,
        unit_paths=searched, text_scope=_text_scope(actor, searched),
        personal_units=units_for(actor, Action.PERSONAL_READ),
    )
    try:
        result = search.search(query)
    except InvalidQuery as exc:
        raise InvalidInput(str(exc)) from exc
    except (SearchUnavailable, SearchError) as exc:
        raise BackendUnavailable(f"search: {exc}") from exc
    hits = []
    for hit in result.hits:
        # the same decision as GET records/{id}/text for this caller
        granted = permits(actor, hit.unit_path, Target(
            key=borrow_key(hit.dossier_id, hit.record_id), level=hit.security_level),
            Action.RECORD_CONTENT)
        shown = shown_to(actor, hit.unit_path)
        # fail closed: highlights cut from unmasked text reach only those who see it
        readable = granted and (shown.personal or not hit.personal_shown)
        hits.append({
            "record_id": hit.record_id, "dossier_id": hit.dossier_id,
            "customer_account": hit.customer_account,
            "customer_name": shown.text(hit.customer_name),
            "doc_type": hit.doc_type, "category": hit.category, "title": shown.text(hit.title),
            "doc_date": hit.doc_date, "unit": hit.unit, "security_level": hit.security_level,
            "score": hit.score,
            "highlights": [{"page": h.page, "text": h.text} for h in hit.highlights]
            if readable else [],
            "access": "granted" if granted else "restricted",
        })
    return {"total": result.total, "page": params.page, "size": params.size, "hits": hits,
            "facets": result.facets, "next": result.next}


def search_audited(work: Work, search: SearchBackend, *, actor: Actor, params: SearchParams,
                   throttle: Throttle | None = None) -> dict:
    """:func:`search_records`, the query and its filters recorded in the unit of work."""
    result = search_records(search, actor=actor, params=params, throttle=throttle)
    filters = {k: v for k, v in vars(params).items()
               if v is not None and k not in ("q", "after")}
    work.record(Event("search", "search", "", details={
        "q": params.q, "filters": filters, "total": result["total"]}))
    return result
