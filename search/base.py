"""The SearchBackend protocol and the documents and queries it exchanges.

Public surface: :class:`SearchBackend`, :class:`SearchDocument`, :class:`SearchQuery`,
:class:`SearchHit`, :class:`SearchResult`, ``FACET_FIELDS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, runtime_checkable

from search.analysis import Highlight

FACET_FIELDS = ("doc_type", "category", "unit", "security_level")
MAX_PAGE_SIZE = 100
MAX_RESULT_WINDOW = 10_000


@dataclass(frozen=True)
class SearchDocument:
    """One record as the index sees it: catalogue fields and the text of each page."""

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
    pages: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class SearchQuery:
    q: str | None = None
    customer: str | None = None  # exact 户号
    doc_type: str | None = None
    category: str | None = None
    unit: str | None = None
    security_levels: tuple[str, ...] | None = None  # None: any
    unit_paths: tuple[str, ...] | None = None  # None: any; else the record's path starts with one
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1
    size: int = 20


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


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: tuple[SearchHit, ...]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


@runtime_checkable
class SearchBackend(Protocol):
    """A full-text index of records, derived from the database and always rebuildable.

    Contract every backend MUST keep:
    - Text goes through :mod:`search.analysis` (normalisation, jieba words, characters), so
      both backends match the same documents: every term of a query MUST occur in the
      record (in a page, the title, customer name, address or account); a quoted phrase
      MUST occur as that exact character sequence; a query of a 户号 MUST match the record
      of that account exactly, not by prefix.
    - Filters are exact; ``unit_paths`` keeps records whose unit path starts with one of
      them; ``security_levels`` keeps records at one of those levels. ``total`` and
      ``facets`` MUST count only records that pass every filter.
    - ``index`` replaces any earlier version of the same record; ``delete`` of an unknown
      id is not an error. Changes MUST be visible to ``search`` after ``refresh``.
    - ``rebuild`` replaces the whole index with the given documents; searches during a
      rebuild MUST keep answering from the old index until the new one is complete.
    - An empty query with filters lists matching records by date, newest first.
    - Backend outages MUST surface as :class:`search.errors.SearchUnavailable`.
    """

    def index(self, documents: Iterable[SearchDocument]) -> int: ...

    def delete(self, record_ids: Iterable[str]) -> None: ...

    def search(self, query: SearchQuery) -> SearchResult: ...

    def refresh(self) -> None: ...

    def rebuild(self, documents: Iterable[SearchDocument]) -> int: ...

    def ping(self) -> None: ...

    def close(self) -> None: ...


def catalogue_text(doc: SearchDocument) -> str:
    """The catalogue fields searched alongside the page text."""
    return " ".join(
        part for part in (doc.title, doc.customer_name, doc.address, doc.customer_account,
                          doc.doc_type) if part
    )
