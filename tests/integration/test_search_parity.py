"""The embedded backend and Elasticsearch answer the labelled queries alike.

Both match the same records for every query (same analysis, same matching rules). Their
top 10 are the same records with the relevant ones first; the order *among records of
equal judgement* may differ, and that is the one difference allowed, because the two rank
with different BM25 statistics: SQLite FTS5 scores each page row and normalises by that
row's length, Lucene scores nested page documents with its own length norms and idf. Two
records of the same customer answering a 户号 query, for instance, tie on relevance and
may come in either order.
"""

from __future__ import annotations

import pytest

from archive.corpus import make_customers, make_documents
from archive.corpus.queries import labelled_queries, search_documents
from search import SearchBackend, SearchQuery
from search.elasticsearch import ElasticsearchSearch
from search.embedded import EmbeddedSearch
from search.settings import ElasticsearchSettings, EmbeddedSettings
from tests import services

pytestmark = pytest.mark.integration

SEED = 7


@pytest.fixture(scope="module")
def corpus():
    documents = make_documents(make_customers(150, seed=SEED), seed=SEED, per_customer=2)
    return search_documents(documents), labelled_queries(documents, seed=SEED)


@pytest.fixture(scope="module")
def both(corpus, tmp_path_factory):
    import uuid

    documents, _ = corpus
    embedded = EmbeddedSearch(EmbeddedSettings(
        path=tmp_path_factory.mktemp("parity") / "search.db"))
    elastic = ElasticsearchSearch(ElasticsearchSettings(
        url=services.es_url(), alias=f"test-parity-{uuid.uuid4().hex[:8]}"))
    for backend in (embedded, elastic):
        backend.rebuild(documents)
        backend.refresh()
    yield embedded, elastic
    elastic.client.indices.delete(index=f"{elastic.alias}-*")
    embedded.close()
    elastic.close()


def ranked(backend: SearchBackend, q: str, size: int) -> tuple[int, list[str]]:
    result = backend.search(SearchQuery(q=q, size=size))
    return result.total, [hit.record_id for hit in result.hits]


def test_the_labelled_set_is_large_enough(corpus) -> None:
    _, queries = corpus
    assert len(queries) >= 50
    assert {q.kind for q in queries} == {"account", "name", "address", "phrase", "mixed",
                                         "variant"}


def test_both_backends_match_the_same_records(both, corpus) -> None:
    embedded, elastic = both
    for query in corpus[1]:
        total, everything = ranked(embedded, query.q, 100)
        assert ranked(elastic, query.q, 100)[0] == total, query
        assert set(ranked(elastic, query.q, 100)[1]) == set(everything), query


def test_top_10_agree_up_to_ties_in_judgement(both, corpus) -> None:
    embedded, elastic = both
    identical = 0
    for query in corpus[1]:
        _, first = ranked(embedded, query.q, 10)
        _, second = ranked(elastic, query.q, 10)
        if first == second:
            identical += 1
            continue
        # the relevant records lead both lists, then the others, in either order
        lead = min(len(query.relevant), 10)
        assert set(first[:lead]) == set(second[:lead]) <= query.relevant, query
        assert len(first) == len(second), query
    assert identical >= len(corpus[1]) // 2


def test_year_facets_agree(both, corpus) -> None:
    """GIVEN the corpus, dated over several years, in both backends
    WHEN each labelled query (and the empty one) is asked
    THEN both count the same records in each year, newest year first."""
    embedded, elastic = both
    everything = embedded.search(SearchQuery()).facets["year"]
    assert len(everything) >= 5
    assert sum(everything.values()) == len(corpus[0])
    for q in [None, *(query.q for query in corpus[1])]:
        first = embedded.search(SearchQuery(q=q, size=1)).facets["year"]
        second = elastic.search(SearchQuery(q=q, size=1)).facets["year"]
        assert list(first.items()) == list(second.items()), q


def test_filtering_by_year_agrees(both, corpus) -> None:
    embedded, elastic = both
    years = embedded.search(SearchQuery()).facets["year"]
    for year, count in years.items():
        chosen = [backend.search(SearchQuery(year=int(year), sort="date", size=100))
                  for backend in (embedded, elastic)]
        assert chosen[0].total == chosen[1].total == count, year
        assert [h.record_id for h in chosen[0].hits] == [h.record_id for h in chosen[1].hits]
        assert all(h.doc_date is not None and h.doc_date.year == int(year)
                   for h in chosen[0].hits)
        assert chosen[0].facets["year"] == chosen[1].facets["year"] == {year: count}
    for query in corpus[1][:20]:
        year = int(next(iter(years)))
        totals = [backend.search(SearchQuery(q=query.q, year=year)).total
                  for backend in (embedded, elastic)]
        assert totals[0] == totals[1], query
