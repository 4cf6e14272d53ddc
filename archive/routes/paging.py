"""The query parameters every paged list takes (``limit``, ``cursor``); its answer is
``{"items": [...], "next": cursor or null}`` (:mod:`archive.services.paging`)."""

from typing import Annotated

from fastapi import Query

from archive.services.paging import DEFAULT_LIMIT, MAX_CURSOR, MAX_LIMIT

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Cursor = Annotated[str | None, Query(
    max_length=MAX_CURSOR, description="the previous page's next, to read on from it")]
Search = Annotated[str | None, Query(max_length=64)]

__all__ = ["DEFAULT_LIMIT", "Cursor", "Limit", "Search"]
