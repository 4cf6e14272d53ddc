"""EmbeddedSearch: the default backend, SQLite FTS5 in one local file.

Catalogue fields are indexed as page 0 of their record; every page row carries the jieba
word stream and the character stream of :mod:`search.analysis`, the latter stored as
overlapping pairs (:func:`grams`), so the ``unicode61`` tokenizer, told that "." and "-"
belong to tokens, splits them exactly where Elasticsearch's ``whitespace`` analyzer does
(a standalone 22 does not match 2022-10-22), and a phrase is matched on pairs of
characters: 用电 on its own is on every page, 用电 followed by 检 on few.
Page text is indexed masked (:mod:`search.personal`); the personal values themselves sit in
a table of their own, found by exact value for callers who may see them. A page row's
match counts only for records within the query's text scope (page 0, the catalogue, for
every record).
Writes are single transactions, so a rebuild is invisible to readers until it commits.
Pages past the result window are reached by keyset (the ``next`` cursor), so a deep page
costs what the first one does.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from search.analysis import (
    CJK_CHAR,
    ParsedQuery,
    Term,
    chars,
    highlight_pages,
    parse_query,
    words,
)
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
from search.errors import DocumentsRefused, InvalidQuery, SearchUnavailable
from search.personal import query_value
from search.settings import EmbeddedSettings

log = logging.getLogger(__name__)

# Bumped when the tables change; an index file of an older version is emptied and made
# again (it is derived: ``archive reindex`` or the outbox fills it).
_VERSION = 6
# An FTS row's rowid is (record's doc number << _PAGE_BITS) | page number, so a match
# yields its record from the rowid alone: FTS5 never reads its content table to answer
# "which records", which made that step ten times slower.
_PAGE_BITS = 16
_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    doc INTEGER PRIMARY KEY,
    record_id TEXT UNIQUE, dossier_id TEXT, customer_account TEXT, customer_name TEXT,
    doc_type TEXT, category TEXT, title TEXT, doc_date TEXT, unit TEXT, unit_path TEXT,
    security_level TEXT, address TEXT, customer_class TEXT, digest TEXT,
    name_chars TEXT, address_chars TEXT
);
CREATE INDEX IF NOT EXISTS records_account ON records (customer_account);
CREATE INDEX IF NOT EXISTS records_date ON records (doc_date, record_id);
CREATE TABLE IF NOT EXISTS pages (
    record_id TEXT, number INTEGER, text TEXT, masked TEXT, PRIMARY KEY (record_id, number)
);
CREATE TABLE IF NOT EXISTS personal (
    value TEXT, doc INTEGER, PRIMARY KEY (value, doc)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS personal_doc ON personal (doc);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    words, grams, tokenize = "unicode61 remove_diacritics 0 tokenchars '.-'"
);
"""
_COLUMNS = (
    "record_id", "dossier_id", "customer_account", "customer_name", "doc_type", "category",
    "title", "doc_date", "unit", "unit_path", "security_level", "address", "customer_class",
    "digest", "name_chars", "address_chars",
)
_TABLES = ("records", "pages", "personal", "fts")
# what a search keeps of each record it finds: enough to order, page and count them
# without going back to the records table (a lookup there per hit was most of the time)
_HIT_COLUMNS = ("doc_date", "record_id", *FACET_FIELDS)


def _spaced(text: str) -> str:
    """Char tokens between spaces, so that LIKE '% a b %' finds a phrase of whole tokens,
    as Elasticsearch's match_phrase on the same tokens does."""
    return " " + " ".join(chars(text)) + " "


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _query_error(exc: sqlite3.OperationalError) -> InvalidQuery | SearchUnavailable:
    """A query FTS5 cannot parse is the query's fault; a locked, busy or failing database
    is the backend's (retryable)."""
    message = str(exc).lower()
    if "fts5" in message or "syntax error" in message or "malformed match" in message:
        return InvalidQuery(f"cannot run query: {exc}")
    return SearchUnavailable(f"embedded index: {exc}")


def grams(tokens: list[str] | tuple[str, ...]) -> list[str]:
    """The char stream as it is indexed: a Chinese char followed by another is stored as
    the pair (its position keeps one token per char), any other token as itself."""
    return [token + following if CJK_CHAR.fullmatch(token) and CJK_CHAR.fullmatch(following)
            else token
            for token, following in zip(tokens, [*tokens[1:], ""][:len(tokens)], strict=True)]


def _phrase(tokens: tuple[str, ...]) -> str:
    """An exact char sequence as a phrase of :func:`grams`. Its last char, when a pair
    before it holds it, is dropped; a last Chinese char standing alone (a one-char query,
    or one after a number) is a prefix, for in the text it may begin a pair."""
    pairs = grams(tokens)
    last = tokens[-1]
    if CJK_CHAR.fullmatch(last):
        if len(tokens) > 1 and CJK_CHAR.fullmatch(tokens[-2]):
            pairs = pairs[:-1]
        else:
            return f"grams : {_quote(' '.join(pairs))} *"
    return f"grams : {_quote(' '.join(pairs))}"


def _docs_matching(count: int) -> str:
    """The doc numbers of the records in which each of ``count`` MATCH expressions
    (parameters) finds something, on any page (a doc may come once per page)."""
    one = f"SELECT rowid >> {_PAGE_BITS} AS doc FROM fts WHERE fts MATCH ?"
    return " INTERSECT ".join([one] * count)


def _scoring(parsed: ParsedQuery) -> str:
    """What bm25 scores: the pages holding every term (a record whose terms are spread
    over pages scores 0 and comes after them), so it runs on those pages only and not on
    every page with any one term (用电 is on all of them). bm25 sums over the phrases of
    the expression: the whole query as one phrase adds to the pages holding it as typed."""
    every = " AND ".join(f"({_term_expr(t)})" for t in parsed.terms)
    if parsed.proximity:
        return f"({every}) OR {_phrase(parsed.proximity)}"
    return every


def _term_expr(term: Term) -> str:
    phrase = _phrase(term.chars)
    if term.phrase:
        return phrase
    return f"(words : {_quote(term.text)} OR {phrase})"


class EmbeddedSearch:
    def __init__(self, settings: EmbeddedSettings) -> None:
        self.path = Path(settings.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version != _VERSION:
            if self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'records'").fetchone():
                log.warning("search index %s is of an older layout: emptied; run "
                            "`archive reindex` (or let the outbox refill it)", self.path)
            for table in _TABLES:
                self._db.execute(f"DROP TABLE IF EXISTS {table}")
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version = {_VERSION}")
        # per-connection scratch tables of one search (held under the lock)
        self._db.execute("PRAGMA temp_store = MEMORY")
        self._db.execute(f"CREATE TEMP TABLE search_hits (doc INTEGER PRIMARY KEY, "
                         f"score REAL NOT NULL DEFAULT 0, {', '.join(_HIT_COLUMNS)})")
        self._db.execute("CREATE TEMP TABLE search_scores (doc INTEGER PRIMARY KEY, score REAL)")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise SearchUnavailable(f"embedded index: {exc}") from exc
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _write(self, db: sqlite3.Connection, doc: SearchDocument) -> None:
        self._remove(db, [doc.record_id])
        row = {name: getattr(doc, name, None) for name in _COLUMNS}
        row["doc_date"] = doc.doc_date.isoformat() if doc.doc_date else None
        row["digest"] = doc.digest
        row["name_chars"] = _spaced(masked_field(doc.customer_name))
        row["address_chars"] = _spaced(masked_field(doc.address))
        number = db.execute(
            f"INSERT INTO records ({', '.join(_COLUMNS)}) VALUES "
            f"({', '.join('?' * len(_COLUMNS))}) RETURNING doc",
            [row[name] for name in _COLUMNS],
        ).fetchone()[0]
        masked = [(page, page.masked) for page in doc.pages]
        rows = [(0, catalogue_text(doc))] + [(page.number, text) for page, text in masked]
        db.executemany(
            "INSERT INTO fts (rowid, words, grams) VALUES (?, ?, ?)",
            [((number << _PAGE_BITS) | n, " ".join(words(t)), " ".join(grams(chars(t))))
             for n, t in rows],
        )
        db.executemany(
            "INSERT INTO pages (record_id, number, text, masked) VALUES (?, ?, ?, ?)",
            [(doc.record_id, page.number, page.text, text if text != page.text else None)
             for page, text in masked],
        )
        db.executemany("INSERT OR IGNORE INTO personal (value, doc) VALUES (?, ?)",
                       [(value, number) for value in document_personal_values(doc)])

    @staticmethod
    def _remove(db: sqlite3.Connection, record_ids: list[str]) -> None:
        for record_id in record_ids:
            found = db.execute("DELETE FROM records WHERE record_id = ? RETURNING doc",
                               (record_id,)).fetchone()
            if found is None:
                continue
            db.execute("DELETE FROM fts WHERE rowid BETWEEN ? AND ?",
                       (found[0] << _PAGE_BITS, ((found[0] + 1) << _PAGE_BITS) - 1))
            db.execute("DELETE FROM pages WHERE record_id = ?", (record_id,))
            db.execute("DELETE FROM personal WHERE doc = ?", (found[0],))

    def _write_each(self, db: sqlite3.Connection, documents: Iterable[SearchDocument]
                    ) -> tuple[int, dict[str, str]]:
        """Write each document in a savepoint of its own: one refused (by the index's
        limits, or an error that is not the database's) leaves the others written."""
        count, refused = 0, {}
        for doc in documents:
            reason = refusal(doc)
            if reason is None:
                db.execute("SAVEPOINT doc")
                try:
                    self._write(db, doc)
                except sqlite3.OperationalError:  # locked, disk full: the backend's fault
                    raise
                except Exception as exc:  # this document's fault
                    db.execute("ROLLBACK TO doc")
                    reason = f"{type(exc).__name__}: {exc}"[:500]
                db.execute("RELEASE doc")
            if reason is None:
                count += 1
            else:
                refused[doc.record_id] = reason
        return count, refused

    def index(self, documents: Iterable[SearchDocument]) -> int:
        with self._transaction() as db:
            count, refused = self._write_each(db, documents)
        if refused:
            raise DocumentsRefused(refused, indexed=count)
        return count

    def delete(self, record_ids: Iterable[str]) -> None:
        with self._transaction() as db:
            self._remove(db, list(record_ids))

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        with self._transaction() as db:
            for table in _TABLES:
                db.execute(f"DELETE FROM {table}")
            count, refused = self._write_each(db, documents)
        if refused:
            raise DocumentsRefused(refused, indexed=count)
        return count

    def refresh(self) -> None:
        """Writes are visible on commit; nothing to do."""

    def digests(self) -> Iterator[tuple[str, str]]:
        with self._lock:
            rows = self._db.execute("SELECT record_id, digest FROM records").fetchall()
        for row in rows:
            yield row[0], row[1] or ""

    def ping(self) -> None:
        with self._lock:
            try:
                self._db.execute("SELECT 1").fetchone()
            except sqlite3.Error as exc:
                raise SearchUnavailable(str(exc)) from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @staticmethod
    def _filters(query: SearchQuery) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for name in ("doc_type", "category", "unit", "customer_class"):
            value = getattr(query, name)
            if value:
                clauses.append(f"r.{name} = ?")
                params.append(value)
        for name in ("name", "address"):
            value = getattr(query, name)
            if value and value.strip():
                if chars(value):
                    clauses.append(f"r.{name}_chars LIKE ? ESCAPE '\\'")
                    params.append(_like_infix(_spaced(value)))
                else:  # nothing searchable in it (punctuation only): nothing matches
                    clauses.append("0")
        if query.customer:
            clauses.append("r.customer_account = ?")
            params.append(query.customer)
        if query.security_levels is not None:
            clauses.append(f"r.security_level IN ({', '.join('?' * len(query.security_levels))})"
                           if query.security_levels else "0")
            params.extend(query.security_levels)
        if query.unit_paths is not None:
            if query.unit_paths:
                clauses.append("(" + " OR ".join("r.unit_path LIKE ? ESCAPE '\\'"
                                                 for _ in query.unit_paths) + ")")
                params.extend(_like_prefix(p) for p in query.unit_paths)
            else:
                clauses.append("0")
        first, last = date_bounds(query)
        if first:
            clauses.append("r.doc_date >= ?")
            params.append(first.isoformat())
        if last:
            clauses.append("r.doc_date <= ?")
            params.append(last.isoformat())
        return (" AND ".join(clauses) or "1"), params

    def search(self, query: SearchQuery) -> SearchResult:
        parsed = parse_query(query.q)
        size = max(1, min(query.size, MAX_PAGE_SIZE))
        offset = 0 if query.after else (max(query.page, 1) - 1) * size
        if offset + size > MAX_RESULT_WINDOW:
            raise InvalidQuery(f"results beyond {MAX_RESULT_WINDOW} are not served by page "
                               "number; follow the next cursor or refine")
        where, params = self._filters(query)
        relevance = not parsed.empty and query.sort != "date"
        keys = ("score", "doc_date", "record_id") if relevance else ("doc_date", "record_id")
        after, after_params = (_after(decode_cursor(query.after, len(keys)), relevance)
                               if query.after else ("1", []))
        # With terms, the records found are collected into a temporary table keyed by doc,
        # with their score and the columns that order and count them (see _collect);
        # without, the filters alone select from the records. The page is chosen from
        # those, then only its rows are read in full.
        if parsed.terms:
            found, found_params = "temp.search_hits", []
        else:
            found = (f"(SELECT doc, 0.0 AS score, {', '.join(_HIT_COLUMNS)} FROM records r "
                     f"WHERE {where})")
            found_params = params
        order = ", ".join(f"{key} DESC" if key != "record_id" else key for key in keys)
        page = (f"WITH chosen AS (SELECT doc, score FROM {found} WHERE {after} "
                f"ORDER BY {order} LIMIT ? OFFSET ?) SELECT r.*, chosen.score AS score "
                f"FROM chosen CROSS JOIN records r ON r.doc = chosen.doc ORDER BY {order}")
        # one pass counts every facet: the groups of the facet fields and the year (a
        # dateless record's year is NULL, counted in the total but in no year)
        grouped = ", ".join((*FACET_FIELDS, "strftime('%Y', doc_date)"))
        counted = f"SELECT {grouped}, count(*) FROM {found} GROUP BY {grouped}"
        with self._lock:
            try:
                self._collect(parsed, where, params, relevance, query)
                rows = self._db.execute(
                    page, [*found_params, *after_params, size, offset]).fetchall()
                groups = self._db.execute(counted, found_params).fetchall()
                shown = {row["record_id"]: unit_under(row["unit_path"], query.personal_units)
                         for row in rows}
                pages = self._pages(shown)
            except sqlite3.OperationalError as exc:
                raise _query_error(exc) from exc
        hits = tuple(
            SearchHit(
                record_id=row["record_id"], dossier_id=row["dossier_id"],
                customer_account=row["customer_account"], customer_name=row["customer_name"],
                doc_type=row["doc_type"], category=row["category"], title=row["title"],
                doc_date=date.fromisoformat(row["doc_date"]) if row["doc_date"] else None,
                unit=row["unit"], unit_path=row["unit_path"],
                security_level=row["security_level"], score=row["score"],
                highlights=tuple(highlight_pages(pages.get(row["record_id"], []), parsed)),
                personal_shown=shown[row["record_id"]],
            )
            for row in rows
        )
        total = sum(group[-1] for group in groups)
        facets: dict[str, dict[str, int]] = {}
        for position, name in enumerate(FACET_FIELDS):
            counts: Counter[str] = Counter()
            for group in groups:
                counts[group[position]] += group[-1]
            facets[name] = dict(counts.most_common())
        year = len(FACET_FIELDS)
        facets[YEAR_FACET] = year_facet((group[year], group[-1]) for group in groups
                                        if group[year] is not None)
        following = (encode_cursor(rows[-1][key] for key in keys)
                     if len(rows) == size else None)
        return SearchResult(total=total, hits=hits, facets=facets, next=following)

    def _collect(self, parsed: ParsedQuery, where: str, params: list[Any],
                 relevance: bool, query: SearchQuery) -> None:
        """Fill ``temp.search_hits`` with the records holding every term that pass the
        filters, and their scores when ranked by relevance.

        A term is held by a record when its catalogue row (page 0) matches, or one of its
        pages does and the record is within the text scope, or (for a caller who sees the
        record's personal values) the term is one of them. One MATCH per term finds the
        records; bm25 then scores only their rows holding every term, within the same
        scope. A query of one term, the common case, does both in one pass: its matching
        rows are the scored ones. CROSS JOIN keeps the FTS matches outside and probes
        records by key: the planner, knowing nothing of their number, would scan all
        records instead.
        """
        if not parsed.terms:
            return
        db = self._db
        columns = ", ".join(_HIT_COLUMNS)
        picked = ", ".join(f"r.{name}" for name in _HIT_COLUMNS)
        scope, scope_params = _scope(query.text_scope)
        in_scope = f"((fts.rowid & {(1 << _PAGE_BITS) - 1}) = 0 OR {scope})"
        # the records are probed for the scope only where there is one to check
        probe = (f"CROSS JOIN records r ON r.doc = fts.rowid >> {_PAGE_BITS}"
                 if query.text_scope is not None else "")
        personal, personal_params = _under("r.unit_path", query.personal_units)
        values = [query_value("".join(term.chars)) for term in parsed.terms]
        db.execute("DELETE FROM temp.search_hits")
        if relevance and len(parsed.terms) == 1 and not parsed.proximity:
            db.execute(
                f"INSERT INTO temp.search_hits (doc, score, {columns}) SELECT r.doc, "
                f"-bm25(fts, 1.0, 0.5), {picked} FROM fts CROSS JOIN records r "
                f"ON r.doc = fts.rowid >> {_PAGE_BITS} WHERE fts MATCH ? AND {where} "
                f"AND {in_scope} "
                "ON CONFLICT (doc) DO UPDATE SET score = max(score, excluded.score)",
                [_scoring(parsed), *params, *scope_params])
            if values[0] is not None and query.personal_units:
                db.execute(
                    f"INSERT INTO temp.search_hits (doc, score, {columns}) SELECT r.doc, "
                    f"0.0, {picked} FROM personal p CROSS JOIN records r ON r.doc = p.doc "
                    f"WHERE p.value = ? AND {where} AND {scope} AND {personal} "
                    "ON CONFLICT (doc) DO NOTHING",
                    [values[0], *params, *scope_params, *personal_params])
            return
        selects, select_params = [], []
        for term, value in zip(parsed.terms, values, strict=True):
            one = (f"SELECT fts.rowid >> {_PAGE_BITS} AS doc FROM fts {probe} "
                   f"WHERE fts MATCH ? AND {in_scope}")
            one_params = [_term_expr(term), *scope_params]
            if value is not None and query.personal_units:
                one += (" UNION SELECT p.doc FROM personal p CROSS JOIN records r "
                        f"ON r.doc = p.doc WHERE p.value = ? AND {scope} AND {personal}")
                one_params += [value, *scope_params, *personal_params]
            selects.append(f"SELECT doc FROM ({one})")
            select_params += one_params
        db.execute(
            f"INSERT OR IGNORE INTO temp.search_hits (doc, {columns}) SELECT r.doc, {picked} "
            f"FROM ({' INTERSECT '.join(selects)}) m CROSS JOIN records r "
            f"ON r.doc = m.doc WHERE {where}",
            [*select_params, *params])
        if relevance:
            db.execute("DELETE FROM temp.search_scores")
            db.execute(
                "INSERT INTO temp.search_scores (doc, score) WITH matched AS MATERIALIZED "
                f"(SELECT fts.rowid >> {_PAGE_BITS} AS doc, bm25(fts, 1.0, 0.5) AS s FROM fts "
                f"{probe} WHERE fts MATCH ? AND fts.rowid >> {_PAGE_BITS} IN "
                f"(SELECT doc FROM temp.search_hits) AND {in_scope}) SELECT doc, -MIN(s) "
                "FROM matched GROUP BY doc", [_scoring(parsed), *scope_params])
            db.execute("UPDATE temp.search_hits SET score = s.score FROM temp.search_scores s "
                       "WHERE s.doc = search_hits.doc")

    def _pages(self, shown: dict[str, bool]) -> dict[str, list[tuple[int, str]]]:
        """The pages of the records to highlight: unmasked where ``shown`` says so."""
        found: dict[str, list[tuple[int, str]]] = {}
        if not shown:
            return found
        marks = ", ".join("?" * len(shown))
        for row in self._db.execute(
            f"SELECT record_id, number, text, masked FROM pages WHERE record_id IN ({marks}) "
            "ORDER BY record_id, number", list(shown),
        ):
            text = row[2] if shown[row[0]] or row[3] is None else row[3]
            found.setdefault(row[0], []).append((row[1], text))
        return found


def _under(column: str, units: tuple[str, ...]) -> tuple[str, list[Any]]:
    """SQL: ``column`` (a unit path) lies under one of ``units`` (false for none)."""
    if not units:
        return "0", []
    return ("(" + " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for _ in units) + ")",
            [_like_prefix(unit) for unit in units])


def _scope(scope: TextScope | None) -> tuple[str, list[Any]]:
    """SQL on ``r``: the record is within the text scope (true for no scope)."""
    if scope is None:
        return "1", []
    parts, params = [], []
    if scope.units and scope.levels:
        units, unit_params = _under("r.unit_path", scope.units)
        parts.append(f"({units} AND r.security_level IN ({', '.join('?' * len(scope.levels))}))")
        params += [*unit_params, *scope.levels]
    for column, ids in (("dossier_id", scope.dossiers), ("record_id", scope.records)):
        if ids:
            parts.append(f"r.{column} IN ({', '.join('?' * len(ids))})")
            params += ids
    return ("(" + " OR ".join(parts) + ")" if parts else "0"), params


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like_prefix(prefix: str) -> str:
    return _like_escape(prefix) + "%"


def _like_infix(text: str) -> str:
    return "%" + _like_escape(text) + "%"


def _after(values: list, relevance: bool) -> tuple[str, list]:
    """The keyset condition for the rows after a cursor's (score,) date, id: in the order
    of the search, where a missing date comes after every date."""
    when, record_id = values[-2], values[-1]
    if when is None:
        condition, params = "(doc_date IS NULL AND record_id > ?)", [record_id]
    else:
        condition = "(doc_date < ? OR doc_date IS NULL OR (doc_date = ? AND record_id > ?))"
        params = [when, when, record_id]
    if relevance:
        condition = f"(score < ? OR (score = ? AND {condition}))"
        params = [values[0], values[0], *params]
    return condition, params
