"""Search relevance on the generated corpus, both backends side by side in one run.

    python -m benchmarks.search_relevance [--customers 400] [--per-customer 3]
                                          [--es-url http://127.0.0.1:19200]

The corpus is the generated customer documents (their ground-truth text: no OCR), indexed
into the embedded backend (a temporary SQLite file) and, when an Elasticsearch URL is given
(``--es-url`` or ``ARCHIVE_TEST_ES_URL``), into a temporary index there. The queries and
their judgements come from :mod:`archive.corpus.queries` (accounts, names, addresses,
page phrases plain and quoted, Chinese with ASCII).

- recall@10: of the relevant records, the share in the first 10 hits (out of at most 10:
  a query with 12 relevant records and 10 of them in the top 10 has recall 1);
- MRR: the mean over queries of 1 / the rank of the first relevant hit (0 if none in 10);
- nDCG@10: binary gains, log2 discount, over the ideal ordering.
Targets: recall@10 ≥ 0.98, MRR ≥ 0.9.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

from archive.corpus import make_customers, make_documents
from archive.corpus.queries import LabelledQuery, labelled_queries, search_documents
from search import SearchBackend, SearchQuery

SEED = 2026


def recall_at(ranked: list[str], relevant: frozenset[str], k: int = 10) -> float:
    return len(set(ranked[:k]) & relevant) / min(k, len(relevant))


def reciprocal_rank(ranked: list[str], relevant: frozenset[str], k: int = 10) -> float:
    return next((1 / rank for rank, rid in enumerate(ranked[:k], 1) if rid in relevant), 0.0)


def ndcg_at(ranked: list[str], relevant: frozenset[str], k: int = 10) -> float:
    gain = sum(1 / math.log2(rank + 1) for rank, rid in enumerate(ranked[:k], 1)
               if rid in relevant)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(k, len(relevant)) + 1))
    return gain / ideal


def top10(backend: SearchBackend, query: LabelledQuery) -> list[str]:
    return [hit.record_id for hit in backend.search(SearchQuery(q=query.q, size=10)).hits]


def evaluate(backend: SearchBackend, queries: list[LabelledQuery]
             ) -> tuple[dict[str, list[tuple[float, float, float]]], list[str], float]:
    """Per query kind, (recall@10, RR, nDCG@10) of each query; misses; median ms."""
    scores: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    misses: list[str] = []
    times = []
    for query in queries:
        started = time.perf_counter()
        ranked = top10(backend, query)
        times.append((time.perf_counter() - started) * 1000)
        measured = (recall_at(ranked, query.relevant), reciprocal_rank(ranked, query.relevant),
                    ndcg_at(ranked, query.relevant))
        scores[query.kind].append(measured)
        if measured[0] < 1 or measured[1] < 1:
            misses.append(f"{query.kind} {query.q!r}: recall {measured[0]:.2f}, "
                          f"first relevant at {round(1 / measured[1]) if measured[1] else '>10'}"
                          f", {len(query.relevant)} relevant, top: {ranked[:3]}")
    return scores, misses, statistics.median(times)


def backends(es_url: str | None, folder: Path):
    from search.embedded import EmbeddedSearch
    from search.settings import ElasticsearchSettings, EmbeddedSettings

    yield "embedded", EmbeddedSearch(EmbeddedSettings(path=folder / "search.db"))
    if es_url:
        from search.elasticsearch import ElasticsearchSearch

        yield "elasticsearch", ElasticsearchSearch(ElasticsearchSettings(
            url=es_url, alias=f"bench-relevance-{uuid.uuid4().hex[:8]}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--per-customer", type=int, default=3)
    parser.add_argument("--es-url", default=os.environ.get("ARCHIVE_TEST_ES_URL"))
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()

    documents = make_documents(make_customers(args.customers, seed=SEED), seed=SEED,
                               per_customer=args.per_customer)
    queries = labelled_queries(documents, seed=SEED)
    kinds = sorted({q.kind for q in queries})
    print(f"{len(documents)} records of {args.customers} customers; {len(queries)} labelled "
          f"queries ({', '.join(f'{k} {sum(q.kind == k for q in queries)}' for k in kinds)})")
    if not args.es_url:
        print("(no Elasticsearch URL: embedded backend only)")
    with tempfile.TemporaryDirectory() as folder:
        results = {}
        for name, backend in backends(args.es_url, Path(folder)):
            try:
                backend.rebuild(search_documents(documents))
                backend.refresh()
                results[name] = evaluate(backend, queries)
            finally:
                if name == "elasticsearch":
                    backend.client.indices.delete(index=f"{backend.alias}-*")
                backend.close()
    print()
    header = f"  {'':24}" + "".join(f"{name:>33}" for name in results)
    print(header)
    print(f"  {'':24}" + f"{'recall@10':>13}{'MRR':>8}{'nDCG@10':>12}" * len(results))
    for kind in [*kinds, "all"]:
        line = f"  {kind:24}"
        for scores, _, _ in results.values():
            rows = (scores[kind] if kind != "all"
                    else [s for per_kind in scores.values() for s in per_kind])
            line += "".join(f"{statistics.fmean(col):>{w}.3f}"
                            for col, w in zip(zip(*rows, strict=True), (13, 8, 12),
                                              strict=True))
        print(line)
    print(f"  {'median ms per query':24}" + "".join(f"{ms:>33.1f}" for _, _, ms in
                                                     results.values()))
    print("  targets: recall@10 ≥ 0.98, MRR ≥ 0.9")
    for name, (_, misses, _) in results.items():
        print(f"\n  {name}: {len(misses)} queries not perfect")
        for miss in misses if args.show_misses else misses[:5]:
            print(f"    {miss}")


if __name__ == "__main__":
    main()
