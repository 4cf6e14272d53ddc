"""ElasticsearchSearch: the scalable backend, Elasticsearch 8.x behind an alias.

The mapping uses only built-in analyzers (``whitespace``), because Chinese segmentation
happens in Python (:mod:`search.analysis`) for every backend; the same mapping therefore
works on a minimal node and on a full production cluster. Pages are a nested field so a
record matches when its terms are spread over several pages. ``rebuild`` fills a fresh
index and swaps the alias in one atomic call. Pages are indexed masked (:mod:`search.personal`)
and keep their text and masked text for highlights; a page match counts only for records
within the query's text scope.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers

from search.analysis import ParsedQuery, Term, chars, highlight_pages, parse_query, words
from search.base import (
    FACET_FIELDS,
    MAX_PAGE_SIZE,
    MAX_RESULT_WINDOW,
    YEAR_FACET,
    SearchDocument,
    SearchHit,
    SearchQuery,
    SearchResult,
    TextScope,
    catalogue_text,
    date_bounds,
    decode_cursor,
    document_personal_values,
    encode_cursor,
    masked_field,
    refusal,
    unit_under,
    year_facet,
)
from search.errors import DocumentsRefused, InvalidQuery, SearchError, SearchUnavailable
from search.personal import query_value
from search.settings import ElasticsearchSettings

_TEXT = {"type": "text", "analyzer": "whitespace"}
_KEYWORD = {"type": "keyword"}
MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "record_id": _KEYWORD, "dossier_id": _KEYWORD, "customer_account": _KEYWORD,
        "customer_name": _KEYWORD, "doc_type": _KEYWORD, "category": _KEYWORD,
        "title": _KEYWORD, "doc_date": {"type": "date", "format": "strict_date"},
        "unit": _KEYWORD, "unit_path": _KEYWORD, "security_level": _KEYWORD,
        "address": _KEYWORD, "customer_class": _KEYWORD,
        "digest": {"type": "keyword", "index": False},
        "personal": _KEYWORD,  # the record's personal values, for exact search by the cleared
        "name_chars": _TEXT, "address_chars": _TEXT,
        "catalogue_words": _TEXT, "catalogue_chars": _TEXT,
        "pages": {
            "type": "nested",
            "properties": {
                "number": {"type": "integer"},
                "text": {"type": "text", "index": False},
                "masked": {"type": "text", "index": False},
                "words": _TEXT,
                "chars": _TEXT,
            },
        },
    },
}
# the year facet, from the doc_date the index has always held (no mapping change, so an
# index made before it answers it without ``archive reindex``); documents without a date
# fall in no bucket, and empty years between two others are not returned
_YEAR_AGGREGATION: dict[str, Any] = {"date_histogram": {
    "field": "doc_date", "calendar_interval": "year", "format": "yyyy", "min_doc_count": 1,
    "order": {"_key": "desc"}}}
SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0, "max_result_window": MAX_RESULT_WINDOW}


@contextlib.contextmanager
def _translate() -> Iterator[None]:
    try:
        yield
    except TransportError as exc:  # connection refused, timeout
        raise SearchUnavailable(f"Elasticsearch unreachable: {exc}") from exc
    except ApiError as exc:
        if exc.status_code == 400:
            raise InvalidQuery(str(exc)) from exc
        if exc.status_code in (429, 503):
            raise SearchUnavailable(str(exc)) from exc
        raise SearchError(str(exc)) from exc


def _source(doc: SearchDocument) -> dict[str, Any]:
    catalogue = catalogue_text(doc)
    return {
        "record_id": doc.record_id, "dossier_id": doc.dossier_id,
        "customer_account": doc.customer_account, "customer_name": doc.customer_name,
        "doc_type": doc.doc_type, "category": doc.category, "title": doc.title,
        "doc_date": doc.doc_date.isoformat() if doc.doc_date else None,
        "unit": doc.unit, "unit_path": doc.unit_path, "security_level": doc.security_level,
        "address": doc.address, "customer_class": doc.customer_class, "digest": doc.digest,
        "personal": list(document_personal_values(doc)),
        "name_chars": " ".join(chars(masked_field(doc.customer_name))),
        "address_chars": " ".join(chars(masked_field(doc.address))),
        "catalogue_words": " ".join(words(catalogue)),
        "catalogue_chars": " ".join(chars(catalogue)),
        "pages": [
            {"number": page.number, "text": page.text, "masked": masked,
             "words": " ".join(words(masked)), "chars": " ".join(chars(masked))}
            for page, masked in ((page, page.masked) for page in doc.pages)
        ],
    }


def _scope_filter(scope: TextScope | None) -> dict[str, Any] | None:
    """The records within the text scope, as a filter (None: every record)."""
    if scope is None:
        return None
    should: list[dict[str, Any]] = []
    if scope.units and scope.levels:
        should.append({"bool": {"filter": [
            {"bool": {"should": [{"prefix": {"unit_path": u}} for u in scope.units],
                      "minimum_should_match": 1}},
            {"terms": {"security_level": list(scope.levels)}}]}})
    if scope.dossiers:
        should.append({"terms": {"dossier_id": list(scope.dossiers)}})
    if scope.records:
        should.append({"terms": {"record_id": list(scope.records)}})
    if not should:
        return {"match_none": {}}
    return {"bool": {"should": should, "minimum_should_match": 1}}


def _in_scope(query: dict[str, Any], scope: dict[str, Any] | None) -> dict[str, Any]:
    return query if scope is None else {"bool": {"must": [query], "filter": [scope]}}


def _term_query(term: Term, scope: dict[str, Any] | None,
                personal_units: tuple[str, ...]) -> dict[str, Any]:
    phrase = " ".join(term.chars)
    inside_page: list[dict[str, Any]] = [{"match_phrase": {"pages.chars": phrase}}]
    on_catalogue: list[dict[str, Any]] = [{"match_phrase": {"catalogue_chars": phrase}}]
    if not term.phrase:
        inside_page.append({"match": {"pages.words": {"query": term.text, "boost": 2.0}}})
        on_catalogue.append({"match": {"catalogue_words": {"query": term.text, "boost": 2.0}}})
    should: list[dict[str, Any]] = [
        _in_scope({"nested": {"path": "pages", "score_mode": "max",
                              "query": {"bool": {"should": inside_page}}}}, scope),
        *on_catalogue,
    ]
    value = query_value("".join(term.chars))
    if value is not None and personal_units:
        should.append({"bool": {"filter": [
            {"term": {"personal": value}},
            {"bool": {"should": [{"prefix": {"unit_path": u}} for u in personal_units],
                      "minimum_should_match": 1}},
            *([scope] if scope is not None else [])]}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


class ElasticsearchSearch:
    def __init__(self, settings: ElasticsearchSettings) -> None:
        self.settings = settings
        self.alias = settings.alias
        self.client = Elasticsearch(
            settings.url, request_timeout=settings.request_timeout, max_retries=1,
            retry_on_timeout=False,
        )
        self._ready = False

    def ensure_index(self) -> None:
        if self._ready:
            return
        with _translate():
            if not self.client.indices.exists_alias(name=self.alias):
                # The first index has one name and is made with its alias in one request:
                # two processes (or threads) starting at once cannot both make one, which
                # would leave the alias on two indices and no write index.
                try:
                    self.client.indices.create(index=f"{self.alias}-first", settings=SETTINGS,
                                               mappings=MAPPING, aliases={self.alias: {}})
                except ApiError as exc:
                    if "resource_already_exists" not in str(exc):
                        raise
            else:
                # fields added since the index was made (additions only; a changed field
                # needs ``archive reindex``)
                self.client.indices.put_mapping(index=self.alias,
                                                properties=MAPPING["properties"])
        self._ready = True

    def _new_index(self) -> str:
        name = f"{self.alias}-{time.time_ns()}"
        self.client.indices.create(index=name, settings=SETTINGS, mappings=MAPPING)
        return name

    def _actions(self, documents: Iterable[SearchDocument], index: str,
                 refused: dict[str, str]) -> Iterator[dict]:
        for doc in documents:
            reason = refusal(doc)
            if reason is None:
                try:
                    source = _source(doc)
                except Exception as exc:  # this document's fault (its analysis)
                    reason = f"{type(exc).__name__}: {exc}"[:500]
            if reason is not None:
                refused[doc.record_id] = reason
                continue
            yield {"_op_type": "index", "_index": index, "_id": doc.record_id,
                   "_source": source}

    def _bulk(self, documents: Iterable[SearchDocument], index: str
              ) -> tuple[int, dict[str, str]]:
        """Send every document; (how many were taken, the refused ones with why). Items
        refused for the cluster's load or health mean an outage, not a bad document."""
        refused: dict[str, str] = {}
        with _translate():
            ok, errors = helpers.bulk(self.client, self._actions(documents, index, refused),
                                      chunk_size=500, raise_on_error=False)
        for error in errors:
            item = error.get("index", {})
            if item.get("status", 500) == 429 or item.get("status", 500) >= 500:
                raise SearchUnavailable(f"Elasticsearch refused a bulk item: {item}")
            cause = item.get("error", {})
            reason = (f"{cause.get('type', 'error')}: {cause.get('reason', '')}"
                      if isinstance(cause, dict) else str(cause))
            refused[str(item.get("_id"))] = reason[:500]
        return ok, refused

    def index(self, documents: Iterable[SearchDocument]) -> int:
        self.ensure_index()
        count, refused = self._bulk(documents, self.alias)
        if refused:
            raise DocumentsRefused(refused, indexed=count)
        return count

    def delete(self, record_ids: Iterable[str]) -> None:
        self.ensure_index()
        actions = ({"_op_type": "delete", "_index": self.alias, "_id": record_id}
                   for record_id in record_ids)
        with _translate():
            _, errors = helpers.bulk(self.client, actions, raise_on_error=False)
        failed = [e for e in errors if e.get("delete", {}).get("status") != 404]
        if failed:
            raise SearchError(f"{len(failed)} entries could not be deleted: {failed[:3]}")

    def digests(self) -> Iterator[tuple[str, str]]:
        self.ensure_index()
        with _translate():
            for hit in helpers.scan(self.client, index=self.alias, _source=["digest"],
                                    query={"query": {"match_all": {}}}, size=2000):
                yield hit["_id"], hit["_source"].get("digest", "")

    def refresh(self) -> None:
        self.ensure_index()
        with _translate():
            self.client.indices.refresh(index=self.alias)

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        self.ensure_index()
        with _translate():
            new = self._new_index()
            count, refused = self._bulk(documents, new)
            self.client.indices.refresh(index=new)
            old = list(self.client.indices.get_alias(name=self.alias).body)
            actions: list[dict[str, Any]] = [{"add": {"index": new, "alias": self.alias}}]
            actions += [{"remove": {"index": name, "alias": self.alias}} for name in old]
            self.client.indices.update_aliases(actions=actions)
            for name in old:
                self.client.indices.delete(index=name)
        if refused:
            raise DocumentsRefused(refused, indexed=count)
        return count

    def ping(self) -> None:
        with _translate():
            self.client.cluster.health(timeout="2s")

    def close(self) -> None:
        self.client.close()

    @staticmethod
    def _filters(query: SearchQuery) -> list[dict[str, Any]]:
        filters: list[dict[str, Any]] = []
        for name in ("doc_type", "category", "unit", "customer_class"):
            value = getattr(query, name)
            if value:
                filters.append({"term": {name: value}})
        for name, field in (("name", "name_chars"), ("address", "address_chars")):
            value = getattr(query, name)
            if value and value.strip():
                tokens = chars(value)
                filters.append({"match_phrase": {field: " ".join(tokens)}} if tokens
                               else {"match_none": {}})
        if query.customer:
            filters.append({"term": {"customer_account": query.customer}})
        if query.security_levels is not None:
            filters.append({"terms": {"security_level": list(query.security_levels)}})
        if query.unit_paths is not None and not query.unit_paths:
            filters.append({"match_none": {}})
        elif query.unit_paths is not None:
            filters.append({"bool": {"should": [{"prefix": {"unit_path": p}}
                                                for p in query.unit_paths],
                                     "minimum_should_match": 1}})
        first, last = date_bounds(query)
        if first and last and first > last:
            filters.append({"match_none": {}})
        elif first or last:
            bounds = {}
            if first:
                bounds["gte"] = first.isoformat()
            if last:
                bounds["lte"] = last.isoformat()
            filters.append({"range": {"doc_date": bounds}})
        return filters

    def build_body(self, query: SearchQuery, parsed: ParsedQuery) -> dict[str, Any]:
        size = max(1, min(query.size, MAX_PAGE_SIZE))
        offset = 0 if query.after else (max(query.page, 1) - 1) * size
        if offset + size > MAX_RESULT_WINDOW:
            raise InvalidQuery(f"results beyond {MAX_RESULT_WINDOW} are not served by page "
                               "number; follow the next cursor or refine")
        bool_query: dict[str, Any] = {"filter": self._filters(query)}
        scope = _scope_filter(query.text_scope)
        if not parsed.empty:
            bool_query["must"] = [_term_query(t, scope, query.personal_units)
                                  for t in parsed.terms]
        if parsed.proximity:
            together = " ".join(parsed.proximity)
            bool_query["should"] = [
                _in_scope({"nested": {"path": "pages", "score_mode": "max", "query": {
                    "match_phrase": {"pages.chars": {"query": together, "boost": 2.0}}}}},
                    scope),
                {"match_phrase": {"catalogue_chars": {"query": together, "boost": 2.0}}},
            ]
        sort: list[Any] = [{"doc_date": {"order": "desc", "missing": "_last"}},
                           {"record_id": "asc"}]
        if not parsed.empty and query.sort != "date":
            sort.insert(0, "_score")
        body: dict[str, Any] = {}
        if query.after:
            body["search_after"] = decode_cursor(query.after, len(sort))
        return {
            **body,
            "query": {"bool": bool_query},
            "from": offset, "size": size, "sort": sort, "track_total_hits": True,
            "aggs": {**{name: {"terms": {"field": name, "size": 50}} for name in FACET_FIELDS},
                     YEAR_FACET: _YEAR_AGGREGATION},
            "_source": {"excludes": ["pages.words", "pages.chars", "catalogue_words",
                                     "catalogue_chars", "name_chars", "address_chars",
                                     "digest", "personal"]},
        }

    def search(self, query: SearchQuery) -> SearchResult:
        self.ensure_index()
        parsed = parse_query(query.q)
        body = self.build_body(query, parsed)
        with _translate():
            response = self.client.search(index=self.alias, **body)
        hits = []
        for hit in response["hits"]["hits"]:
            src = hit["_source"]
            shown = unit_under(src["unit_path"], query.personal_units)
            pages = [(p["number"], p["text"] if shown else p.get("masked", p["text"]))
                     for p in src.get("pages", [])]
            hits.append(SearchHit(
                record_id=src["record_id"], dossier_id=src["dossier_id"],
                customer_account=src["customer_account"], customer_name=src["customer_name"],
                doc_type=src["doc_type"], category=src["category"], title=src["title"],
                doc_date=date.fromisoformat(src["doc_date"]) if src.get("doc_date") else None,
                unit=src["unit"], unit_path=src["unit_path"],
                security_level=src["security_level"],
                score=float(hit.get("_score") or 0.0),
                highlights=tuple(highlight_pages(pages, parsed)), personal_shown=shown,
            ))
        facets = {
            name: {b["key"]: b["doc_count"] for b in response["aggregations"][name]["buckets"]}
            for name in FACET_FIELDS
        }
        facets[YEAR_FACET] = year_facet(
            (b["key_as_string"], b["doc_count"])
            for b in response["aggregations"][YEAR_FACET]["buckets"])
        found = response["hits"]["hits"]
        following = (encode_cursor(found[-1]["sort"])
                     if len(found) == body["size"] else None)
        return SearchResult(total=response["hits"]["total"]["value"], hits=tuple(hits),
                            facets=facets, next=following)
