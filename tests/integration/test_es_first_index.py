"""Elasticsearch's first index is made once however many processes start at once: the
alias on two indices would leave no write index, and every write refused."""

from __future__ import annotations

import threading
import uuid

import pytest

from search.elasticsearch import ElasticsearchSearch
from search.settings import ElasticsearchSettings
from tests import services

pytestmark = pytest.mark.integration


def test_starting_together_makes_one_index_behind_the_alias() -> None:
    alias = f"t-race-{uuid.uuid4().hex[:8]}"
    backends = [ElasticsearchSearch(ElasticsearchSettings(url=services.es_url(), alias=alias))
                for _ in range(6)]
    start = threading.Barrier(len(backends))
    errors: list[Exception] = []

    def ensure(backend: ElasticsearchSearch) -> None:
        start.wait()
        try:
            backend.ensure_index()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=ensure, args=(b,)) for b in backends]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        indices = backends[0].client.indices.get_alias(name=alias)
        assert len(indices) == 1, indices
    finally:
        backends[0].client.indices.delete(index=f"{alias}-*", ignore_unavailable=True)
        for backend in backends:
            backend.close()
