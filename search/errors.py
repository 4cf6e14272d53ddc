"""Errors raised by every search backend.

    SearchError
    ├── InvalidQuery          the query cannot be parsed or is too long
    └── SearchUnavailable     the backend cannot be reached (retryable)
"""


class SearchError(Exception):
    retryable = False


class InvalidQuery(SearchError, ValueError):
    pass


class SearchUnavailable(SearchError):
    retryable = True
