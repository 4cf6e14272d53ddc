"""Chinese full-text search over records.

Public surface: :class:`SearchBackend` (the protocol), :class:`SearchDocument`,
:class:`SearchQuery`, :class:`SearchResult`, :class:`SearchHit`, :func:`make_search`,
:class:`SearchSettings`, and the errors in :mod:`search.errors`.
"""

from search.base import SearchBackend, SearchDocument, SearchHit, SearchQuery, SearchResult
from search.errors import InvalidQuery, SearchError, SearchUnavailable
from search.factory import make_search
from search.settings import SearchSettings

__all__ = [
    "InvalidQuery",
    "SearchBackend",
    "SearchDocument",
    "SearchError",
    "SearchHit",
    "SearchQuery",
    "SearchResult",
    "SearchSettings",
    "SearchUnavailable",
    "make_search",
]
