"""The SearchBackend protocol and the documents and queries it exchanges.

Public surface: :class:`SearchBackend`, :class:`SearchDocument`, :class:`SearchPage`,
:class:`SearchQuery`, :class:`TextScope`, :class:`SearchHit`, :class:`SearchResult`,
:func:`catalogue_text`, :func:`masked_field`, :func:`document_personal_values`,
:func:`unit_under`, :func:`date_bounds`, :func:`year_facet`,
``FACET_FIELDS``, ``YEAR_FACET``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import NamedTuple, Protocol, runtime_checkable

from search.analysis import Highlight
from search.personal import Span, find_personal, mask, personal_values

FACET_FIELDS = ("doc_type", "category", "unit", "security_level", "customer_class")
# the facet of the document date's year (年份): keys are years such as "2023", newest first;
# records without a date are not counted in it
YEAR_FACET = "year"
SORTS = ("relevance", "date")
MAX_PAGE_SIZE = 100
MAX_RESULT_WINDOW = 10_000
# the most pages one record may have in the index (Elasticsearch's default limit of nested
# objects; the embedded index packs page numbers into 16 bits)
MAX_PAGES = 10_000


class SearchPage(NamedTuple):
    """A page's text and the spans of the personal values in it (None: find them now)."""

    number: int
    text: str
    personal: tuple[Span, ...] | None = None

    @property
    def spans(self) -> tuple[Span, ...]:
        return self.personal if self.personal is not None else find_personal(self.text)

    @property
    def masked(self) -> str:
        """The text as callers without the personal-information clearance read it."""
        return mask(self.text, self.spans)


@dataclass(frozen=True)
class SearchDocument:
    """One record as the index sees it: catalogue fields and the text of each page.

    Pages may be given as plain ``(number, text)`` pairs; they become :class:`SearchPage`.
    """

    record_id: str
    dossier_id: str
    customer_account: str
    customer_name: str
    doc_type: str
    category: str
    title: str
    doc_date: date | None
    unit: str
    unit_path: str  # materialised unit path such as "/root/hz/xh/", for subtree filters
    security_level: str
    address: str = ""
    customer_class: str = ""  # 高压 / 低压非居民 / 低压居民 …
    pages: tuple[SearchPage, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "pages", tuple(
            page if isinstance(page, SearchPage) else SearchPage(*page) for page in self.pages))

    @functools.cached_property
    def digest(self) -> str:
        """A fingerprint of everything indexed, to find entries that drifted from the
        database (``archive reindex --check``)."""
        return hashlib.sha256(json.dumps(asdict(self), ensure_ascii=False, default=str,
                                         sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class TextScope:
    """The records whose page text a query may match: unit path under one of ``units`` and
    level one of ``levels``, or a dossier or record named (lent to the caller)."""

    units: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    dossiers: tuple[str, ...] = ()
    records: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchQuery:
    q: str | None = None
    customer: str | None = None  # exact 户号
    name: str | None = None  # in the customer's name, as a phrase
    address: str | None = None  # in the customer's address, as a phrase
    customer_class: str | None = None
    doc_type: str | None = None
    category: str | None = None
    unit: str | None = None
    security_levels: tuple[str, ...] | None = None  # None: any
    unit_paths: tuple[str, ...] | None = None  # None: any; else the record's path starts with one
    # Records whose page text may match; the others match on catalogue fields only.
    text_scope: TextScope | None = None  # None: every record's
    # Units (paths) whose records' personal values the caller sees: found by their value,
    # highlighted unmasked. Elsewhere page text is searched and highlighted masked.
    personal_units: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    year: int | None = None  # of the document date; with a date range, both apply
    sort: str = "relevance"  # "relevance" (then newest) or "date" (newest first)
    page: int = 1
    size: int = 20
    after: str | None = None  # the ``next`` cursor of the previous result page


@dataclass(frozen=True)
class SearchHit:
    record_id: str
    dossier_id: str
    customer_account: str
    customer_name: str
    doc_type: str
    category: str
    title: str
    doc_date: date | None
    unit: str
    security_level: str
    score: float
    highlights: tuple[Highlight, ...] = ()
    unit_path: str = ""
    personal_shown: bool = False  # highlights made from the unmasked text


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: tuple[SearchHit, ...]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    next: str | None = None  # cursor of the following page, None on the last


def encode_cursor(values: Iterable[object]) -> str:
    """An opaque cursor from the sort values of a page's last hit."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list:
    from search.errors import InvalidQuery

    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as exc:
        raise InvalidQuery("not a cursor this search gave out") from exc
    if not isinstance(values, list) or len(values) != arity or not all(
            _sort_value(value) for value in values):
        raise InvalidQuery("not a cursor this search gave out")
    return values


def refusal(doc: SearchDocument) -> str | None:
    """Why no backend takes ``doc``, or None: the limits every backend keeps alike."""
    if len(doc.pages) > MAX_PAGES:
        return f"{len(doc.pages)} pages, more than the index takes ({MAX_PAGES})"
    if any(not 0 <= page.number <= MAX_PAGES for page in doc.pages):
        return f"a page number outside 0..{MAX_PAGES}"
    return None


def _sort_value(value: object) -> bool:
    """What a cursor may hold: a score, a date, an id (what the search gave out)."""
    if value is None:
        return True
    if isinstance(value, str):
        return len(value) <= 64 and value.isprintable() and not any(
            0xD800 <= ord(ch) <= 0xDFFF for ch in value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, int):  # 64-bit, as both engines keep them (ES: missing dates)
        return -(2 ** 63) <= value < 2 ** 63
    return math.isfinite(value)


@runtime_checkable
class SearchBackend(Protocol):
    """A full-text index of records, derived from the database and always rebuildable.

    Contract every backend MUST keep:
    - Text goes through :mod:`search.analysis` (normalisation, jieba words, characters), so
      both backends match the same documents: every term of a query MUST occur in the
      record (in a page, the title, customer name, address or account); a quoted phrase
      MUST occur as that exact character sequence; a query of a 户号 MUST match the record
      of that account exactly, not by prefix. ``name`` and ``address`` MUST occur as a
      phrase in the customer's name or address.
    - ``sort`` "relevance" orders by score, then date (newest first), then id; "date" (and
      an empty query) by date, newest first, then id. Records without a date come last.
    - ``after`` continues from a ``next`` cursor of the same query: the hits that follow,
      without the result window limit of ``page``; a cursor that is not one MUST raise
      :class:`search.errors.InvalidQuery`.
    - Filters are exact; ``unit_paths`` keeps records whose unit path starts with one of
      them; ``security_levels`` keeps records at one of those levels; ``date_from``,
      ``date_to`` and ``year`` keep dated records within :func:`date_bounds`. ``total`` and
      ``facets`` MUST count only records that pass every filter.
    - ``facets`` holds, for each of ``FACET_FIELDS``, the records per value, and under
      ``YEAR_FACET`` the records per year of their document date ("2023"), newest year
      first, counted by the engine; records without a date are left out of it.
    - ``index`` replaces any earlier version of the same record; ``delete`` of an unknown
      id is not an error. Changes MUST be visible to ``search`` after ``refresh``.
    - ``rebuild`` replaces the whole index with the given documents; searches during a
      rebuild MUST keep answering from the old index until the new one is complete.
    - A document without a word (no pages, blank or punctuation-only pages) MUST index
      and match on its catalogue. A document the backend cannot take (more than
      :data:`MAX_PAGES` pages, or one it rejects) MUST NOT stop the others: ``index`` and
      ``rebuild`` take every other document, then raise
      :class:`search.errors.DocumentsRefused` naming each refused one with its reason.
    - An empty query with filters lists matching records by date, newest first.
    - Personal values (:mod:`search.personal`) MUST be indexed masked: page text and the
      title are matched as :attr:`SearchPage.masked` reads, so no query of a value finds
      it, except a term equal to a whole value (:func:`search.personal.query_value`) on a
      record under ``personal_units``. Highlights MUST be cut from the masked text unless
      the record is under ``personal_units`` (then ``personal_shown``), and MUST be
      HTML-safe (:func:`search.analysis.highlight_pages`).
    - Page text (and personal values) MUST match only records within ``text_scope``; the
      others match on catalogue fields alone, and their score MUST NOT depend on their
      pages.
    - Backend outages MUST surface as :class:`search.errors.SearchUnavailable`.
    """

    def index(self, documents: Iterable[SearchDocument]) -> int: ...

    def delete(self, record_ids: Iterable[str]) -> None: ...

    def search(self, query: SearchQuery) -> SearchResult: ...

    def refresh(self) -> None: ...

    def rebuild(self, documents: Iterable[SearchDocument]) -> int: ...

    def digests(self) -> Iterator[tuple[str, str]]:
        """(record id, :attr:`SearchDocument.digest`) of every entry in the index."""
        ...

    def ping(self) -> None: ...

    def close(self) -> None: ...


def masked_field(text: str) -> str:
    """A catalogue field as it is indexed: any personal value typed into it masked."""
    return mask(text, find_personal(text))


def catalogue_text(doc: SearchDocument) -> str:
    """The catalogue fields searched alongside the page text, masked as they are indexed."""
    return " ".join(
        masked_field(part) for part in (doc.title, doc.customer_name, doc.address,
                                        doc.customer_account, doc.doc_type) if part
    )


def document_personal_values(doc: SearchDocument) -> tuple[str, ...]:
    """Every personal value of the record, as :func:`search.personal.digits_of` writes it."""
    values = {value for field in (doc.title, doc.customer_name, doc.address)
              for value in personal_values(field, find_personal(field))}
    for page in doc.pages:
        values.update(personal_values(page.text, page.spans))
    return tuple(sorted(values))


def date_bounds(query: SearchQuery) -> tuple[date | None, date | None]:
    """The first and last document date a query keeps (None: no bound): its date range
    narrowed to its year. A range outside the year keeps nothing (first after last)."""
    from search.errors import InvalidQuery

    first, last = query.date_from, query.date_to
    if query.year is not None:
        if not date.min.year <= query.year <= date.max.year:
            raise InvalidQuery(f"year must be between {date.min.year} and {date.max.year}")
        january, december = date(query.year, 1, 1), date(query.year, 12, 31)
        first = max(first, january) if first else january
        last = min(last, december) if last else december
    return first, last


def year_facet(counts: Iterable[tuple[int | str, int]]) -> dict[str, int]:
    """The ``YEAR_FACET`` counts from the (year, records) pairs an engine groups: years
    written as digits without padding ("2023"), newest first, years without records left
    out."""
    years: dict[int, int] = {}
    for year, count in counts:
        if count:
            years[int(year)] = years.get(int(year), 0) + count
    return {str(year): years[year] for year in sorted(years, reverse=True)}


def unit_under(unit_path: str, units: Iterable[str]) -> bool:
    return any(unit_path.startswith(unit) for unit in units)
