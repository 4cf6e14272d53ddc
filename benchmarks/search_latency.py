"""Search latency at 100,000 records and bulk indexing throughput, both backends, one run.

    python -m benchmarks.search_latency [--records 100000] [--queries 300] [--reuse]
                                        [--es-url http://127.0.0.1:19200]

Records are generated customer documents (their text, no OCR: ~500 characters a page),
a quarter of them in each of four document types, spread over two units.

- Indexing: records per second into each backend in bulk (``rebuild``: analysis in
  Python, then SQLite or the ``_bulk`` API), each measured alone on the first
  ``--throughput-sample`` records; the rest is then loaded into both at once.
- Latency: filtered Chinese queries (a term or phrase of the domain, with a document type,
  category or date range; trimmed to the clerk's unit as every search is). Elasticsearch
  *direct* (the body the backend builds, sent with the client: the engine's time plus
  transport) and through the *API* (authentication, Casbin, search, highlights, masking,
  audit append) are interleaved query by query, so load on the machine hits both alike;
  then the embedded backend direct and through the API, interleaved the same way.
  Median and p95 in ms. Targets: Elasticsearch API p95 ≤ 50 ms with overhead ≤ 25 % of the
  direct time; embedded p95 ≤ 150 ms.

The API on Elasticsearch keeps its catalogue and audit trail in PostgreSQL when
``ARCHIVE_TEST_PG_URL`` is set (a fresh database, dropped afterwards), as in production.

``--reuse`` keeps the filled indexes (``~/.cache/archive-bench``; alias ``bench-latency``)
for the next run, so only the first run pays for loading.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import multiprocessing
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

SEED = 2026
CACHE = Path(os.environ.get("ARCHIVE_BENCH_CACHE", Path.home() / ".cache" / "archive-bench"))
ALIAS = "bench-latency"
UNITS = (("xh", "/root/hz/xh/"), ("gs", "/root/hz/gs/"))
# terms a clerk looks for in each document type (all occur in the generated text)
TERMS = {
    "供用电合同": ("产权分界点", "违约责任", "\"供电人以10kV电压\"", "居民生活用电", "电费结算"),
    "安全用电检查记录": ("漏电保护器", "接地电阻", "变压器渗油", "整改意见", "封印完好"),
    "计量装置装拆表工作单": ("智能电能表", "换表", "低供低计", "封印号", "有功总示数"),
    "用电申请书": ("增容", "热水器", "预计投运日期", "申请容量", "居民身份证"),
}
CATEGORIES = {"供用电合同": "业扩报装", "安全用电检查记录": "用电检查",
              "计量装置装拆表工作单": "电能计量", "用电申请书": "业扩报装"}
BATCH_CUSTOMERS = 500


def documents(count: int, *, start: int = 0) -> Iterator:
    """``count`` search documents, generated in batches (deterministic from SEED)."""
    from archive.corpus import make_customers, make_documents
    from archive.corpus.queries import search_documents

    made = 0
    for batch in itertools.count(start // (BATCH_CUSTOMERS * 4)):
        docs = make_documents(make_customers(BATCH_CUSTOMERS, seed=SEED + batch),
                              seed=SEED + batch, per_customer=4)
        for n, doc in enumerate(search_documents(docs)):
            index = batch * BATCH_CUSTOMERS * 4 + n
            if index < start:
                continue
            unit, path = UNITS[index % 2]
            yield replace(doc, record_id=f"b{index:07d}", unit=unit, unit_path=path,
                          dossier_id=f"d{index // 4:06d}")
            made += 1
            if made == count:
                return


def embedded_backend(path: Path):
    from search.embedded import EmbeddedSearch
    from search.settings import EmbeddedSettings

    return EmbeddedSearch(EmbeddedSettings(path=path))


def elastic_backend(url: str):
    from search.elasticsearch import ElasticsearchSearch
    from search.settings import ElasticsearchSettings

    return ElasticsearchSearch(ElasticsearchSettings(url=url, alias=ALIAS, request_timeout=60))


def count_in(backend) -> int:
    from search import SearchQuery

    return backend.search(SearchQuery(size=1)).total


def _fill(kind: str, target: str, count: int, start: int) -> float:
    """Index records [start, start + count) into one backend; returns records per second."""
    backend = embedded_backend(Path(target)) if kind == "embedded" else elastic_backend(target)
    try:
        started = time.perf_counter()
        if start == 0:
            backend.rebuild(documents(count))
        else:
            for chunk in _chunks(documents(count, start=start), 2000):
                backend.index(chunk)
        backend.refresh()
        return count / (time.perf_counter() - started)
    finally:
        backend.close()


def _chunks(items: Iterator, size: int) -> Iterator[list]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk


def fill(records: int, sample: int, embedded_path: Path, es_url: str) -> dict[str, float]:
    """Both backends filled; the throughput of each measured alone on ``sample`` records."""
    rates = {"embedded": _fill("embedded", str(embedded_path), sample, 0),
             "elasticsearch": _fill("elasticsearch", es_url, sample, 0)}
    if records > sample:
        context = multiprocessing.get_context("spawn")
        with context.Pool(2) as pool:
            pool.starmap(_fill, [("embedded", str(embedded_path), records - sample, sample),
                                 ("elasticsearch", es_url, records - sample, sample)])
    return rates


def queries(count: int) -> list[dict]:
    """A term of a document type with a filter: the type, its category, or a year."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible sample
    made = []
    for _ in range(count):
        doc_type = rng.choice(sorted(TERMS))
        params: dict = {"q": rng.choice(TERMS[doc_type])}
        match rng.randrange(3):
            case 0:
                params["doc_type"] = doc_type
            case 1:
                params["category"] = CATEGORIES[doc_type]
            case _:
                year = rng.randrange(2018, 2025)
                params["date_from"], params["date_to"] = date(year, 1, 1), date(year, 12, 31)
        made.append(params)
    return made


def percentile(values: list[float], share: float) -> float:
    return sorted(values)[min(len(values) - 1, round(share * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--throughput-sample", type=int, default=10_000)
    parser.add_argument("--es-url", default=os.environ.get("ARCHIVE_TEST_ES_URL"))
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    if not args.es_url:
        parser.error("needs Elasticsearch: --es-url or ARCHIVE_TEST_ES_URL "
                     "(eval \"$(scripts/services.sh env)\")")

    from fastapi.testclient import TestClient

    from archive.app import create_app
    from archive.settings import Settings
    from search import SearchQuery
    from search.analysis import parse_query
    from tests.factories import bootstrap, login, postgres_database

    CACHE.mkdir(parents=True, exist_ok=True)
    embedded_path = CACHE / f"latency-{args.records}.db"
    elastic = elastic_backend(args.es_url)
    embedded = embedded_backend(embedded_path)
    rates: dict[str, float] = {}
    if not (args.reuse and count_in(embedded) == args.records
            and count_in(elastic) == args.records):
        embedded.close()
        print(f"loading {args.records} records into both backends …", flush=True)
        started = time.perf_counter()
        rates = fill(args.records, min(args.throughput_sample, args.records), embedded_path,
                     args.es_url)
        print(f"  loaded in {time.perf_counter() - started:.0f} s", flush=True)
        embedded = embedded_backend(embedded_path)
    # The Elasticsearch app keeps its catalogue and audit trail in PostgreSQL when one is
    # configured (as in production), the embedded app in SQLite.
    with tempfile.TemporaryDirectory() as tmp, (
            postgres_database() if os.environ.get("ARCHIVE_TEST_PG_URL")
            else contextlib.nullcontext("")) as pg_url:
        apps = {}
        for name, search, database in (
                ("elasticsearch", {"backend": "elasticsearch", "elasticsearch": {
                    "url": args.es_url, "alias": ALIAS}}, pg_url),
                ("embedded", {"backend": "embedded", "embedded": {"path": embedded_path}},
                 "")):
            settings = Settings(data_dir=Path(tmp) / name, search=search,
                                database_url=database, embedded_worker=False,
                                worker_processes=0)
            bootstrap(settings)
            apps[name] = settings
        with TestClient(create_app(apps["elasticsearch"])) as es_api, \
                TestClient(create_app(apps["embedded"])) as embedded_api:
            clerk = login(es_api, "clerk")
            clerk_embedded = login(embedded_api, "clerk")
            trim = ("/root/hz/xh/",)  # the clerk's unit, as search_units gives it

            def direct(backend, params):
                query = SearchQuery(**params, unit_paths=trim)
                if backend is elastic:
                    body = elastic.build_body(query, parse_query(query.q))
                    return elastic.client.search(index=ALIAS, **body)["hits"]["total"]["value"]
                return backend.search(query).total

            def api(client, headers, params):
                response = client.get("/api/v1/search", params=params, headers=headers)
                assert response.status_code == 200, response.text
                return response.json()["total"]

            paths = {
                "elasticsearch direct": lambda p: direct(elastic, p),
                "elasticsearch via API": lambda p: api(es_api, clerk, p),
                "embedded direct": lambda p: direct(embedded, p),
                "embedded via API": lambda p: api(embedded_api, clerk_embedded, p),
            }
            times: dict[str, list[float]] = {name: [] for name in paths}
            totals: list[int] = []
            workload = queries(args.queries)
            for pair in (list(paths)[:2], list(paths)[2:]):
                for params in workload[:20]:  # warm caches and connections
                    for name in pair:
                        paths[name](params)
                for n, params in enumerate(workload):
                    for name in pair[n % 2:] + pair[:n % 2]:
                        started = time.perf_counter()
                        total = paths[name](params)
                        times[name].append((time.perf_counter() - started) * 1000)
                        if name == "elasticsearch direct":
                            totals.append(total)
    elastic.close()
    embedded.close()

    print(f"\n{args.records} records, {args.queries} filtered queries (median "
          f"{statistics.median(totals):.0f} matches each), trimmed to one unit; the API on "
          f"Elasticsearch keeps its database in {'PostgreSQL' if pg_url else 'SQLite'}")
    if rates:
        print(f"\n  {'bulk indexing, records/s':32}{'':>10}")
        for name, rate in rates.items():
            print(f"  {name:32}{rate:>10.0f}")
    print(f"\n  {'latency, ms':32}{'p50':>10}{'p95':>10}")
    for name, values in times.items():
        print(f"  {name:32}{statistics.median(values):>10.1f}{percentile(values, .95):>10.1f}")
    for share, label in ((.5, "p50"), (.95, "p95")):
        via = percentile(times["elasticsearch via API"], share)
        raw = percentile(times["elasticsearch direct"], share)
        print(f"  API overhead on Elasticsearch, {label}: {via - raw:.1f} ms "
              f"({(via / raw - 1) * 100:.0f} %)")
    print("  targets: Elasticsearch API p95 ≤ 50 ms, overhead ≤ 25 %; embedded p95 ≤ 150 ms")
    if not args.reuse:
        elastic_backend(args.es_url).client.indices.delete(index=f"{ALIAS}-*")
        embedded_path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
