"""Errors raised by every search backend.

    SearchError
    ├── InvalidQuery          the query cannot be parsed or is too long
    ├── DocumentsRefused      some documents cannot be indexed (the others were)
    └── SearchUnavailable     the backend cannot be reached (retryable)
"""


class SearchError(Exception):
    retryable = False


class InvalidQuery(SearchError, ValueError):
    pass


class SearchUnavailable(SearchError):
    retryable = True


class DocumentsRefused(SearchError):
    """The backend took every document but these; ``reasons`` maps each record id refused
    to why. Retrying the same documents fails the same way."""

    def __init__(self, reasons: dict[str, str], *, indexed: int = 0) -> None:
        super().__init__(f"{len(reasons)} documents refused: "
                         + "; ".join(f"{k}: {v}" for k, v in list(reasons.items())[:3]))
        self.reasons = reasons
        self.indexed = indexed
