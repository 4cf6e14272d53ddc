"""Chinese full-text search over records.

Public surface: :class:`SearchBackend` (the protocol), :class:`SearchDocument`,
:class:`SearchPage`, :class:`SearchQuery`, :class:`TextScope`, :class:`SearchResult`,
:class:`SearchHit`, :func:`make_search`,
:class:`SearchSettings`, and the errors in :mod:`search.errors`.
"""

from search.base import (
    SearchBackend,
    SearchDocument,
    SearchHit,
    SearchPage,
    SearchQuery,
    SearchResult,
    TextScope,
)
from search.errors import DocumentsRefused, InvalidQuery, SearchError, SearchUnavailable
from search.factory import make_search
from search.settings import SearchSettings

__all__ = [
    "DocumentsRefused",
    "InvalidQuery",
    "SearchBackend",
    "SearchDocument",
    "SearchError",
    "SearchHit",
    "SearchPage",
    "SearchQuery",
    "SearchResult",
    "SearchSettings",
    "SearchUnavailable",
    "TextScope",
    "make_search",
]
