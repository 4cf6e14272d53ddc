"""Settings sub-model of the search package (``ARCHIVE_SEARCH__*``)."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel


class EmbeddedSettings(BaseModel):
    path: Path = Path("var/search.db")


class ElasticsearchSettings(BaseModel):
    url: str = "http://127.0.0.1:9200"
    # Alias the application reads and writes; concrete indexes are "<alias>-<timestamp>".
    alias: str = "archive-records"
    request_timeout: float = 10.0


class SearchSettings(BaseModel):
    backend: Literal["embedded", "elasticsearch"] = "embedded"
    embedded: EmbeddedSettings = EmbeddedSettings()
    elasticsearch: ElasticsearchSettings = ElasticsearchSettings()
