"""Chinese text analysis shared by every search backend.

Text is normalised (NFKC, so full-width and half-width forms match; lower case; traditional
characters to their simplified form, character by character with OpenCC's table), then
produced in two token streams, both space-separated so that a plain whitespace tokenizer
(SQLite FTS5 ``unicode61``, Elasticsearch's built-in ``whitespace`` analyzer) indexes them:

- words: jieba's search-mode segmentation with the power-supply dictionary in
  ``dictionary.txt``, so 合同 or 窃电 find their documents;
- chars: one token per Chinese character (ASCII runs kept whole), so a quoted phrase is
  matched exactly as a character sequence wherever segmentation differs.

Public surface: :func:`normalise`, :func:`words`, :func:`chars`, :func:`parse_query`,
:class:`ParsedQuery`, :func:`highlight_pages`.
"""

from __future__ import annotations

import functools
import html
import importlib.resources
import logging
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import jieba

_DICTIONARY = Path(__file__).with_name("dictionary.txt")
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_CHAR = re.compile(f"[{_CJK}]")
_TOKEN_CHARS = re.compile(rf"[{_CJK}]|[a-z0-9]+(?:[.\-][a-z0-9]+)*")
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
MAX_QUERY_LENGTH = 256


def _jieba() -> jieba.Tokenizer:
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                with open(_DICTIONARY, "rb") as dictionary:
                    tokenizer.load_userdict(dictionary)
                _tokenizer = tokenizer
    return _tokenizer


@functools.cache
def _simplified() -> dict[int, str]:
    """OpenCC's traditional → simplified character table, as a ``str.translate`` map.

    Character by character, not OpenCC's phrase conversion, so a character normalises the
    same wherever it stands (in a query of one character and in a page) and text keeps its
    length, which highlighting relies on. Where OpenCC lists several simplified forms, the
    first (its choice) is taken.
    """
    table: dict[int, str] = {}
    source = importlib.resources.files("opencc") / "dictionary" / "TSCharacters.txt"
    for line in source.read_text(encoding="utf-8").splitlines():
        traditional, _, simplified = line.partition("\t")
        first = simplified.split(" ")[0]
        if len(traditional) == 1 and len(first) == 1 and traditional != first:
            table[ord(traditional)] = first
    return table


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().translate(_simplified())


def _is_token(piece: str) -> bool:
    return bool(_TOKEN_CHARS.search(piece))


def words(text: str) -> list[str]:
    """Search-mode word segmentation of normalised text, punctuation dropped."""
    return [w for w in _jieba().cut_for_search(normalise(text)) if _is_token(w.strip())]


def query_words(text: str) -> list[str]:
    """Precise-mode segmentation for query text (the longest dictionary words)."""
    return [w.strip() for w in _jieba().cut(normalise(text)) if _is_token(w.strip())]


def chars(text: str) -> list[str]:
    """One token per Chinese character, ASCII words and numbers kept whole."""
    return _TOKEN_CHARS.findall(normalise(text))


def strip_cjk_spaces(text: str) -> str:
    """Remove the spaces OCR engines put between Chinese characters."""
    return _SPACE_BETWEEN_CJK.sub("", text)


@dataclass(frozen=True)
class Term:
    """One required part of a query: a word or a quoted phrase, as char tokens."""

    text: str
    chars: tuple[str, ...]
    phrase: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[Term, ...] = field(default_factory=tuple)
    # the char tokens of the whole query when it has several terms: records holding them
    # side by side, as typed, rank first (a remembered phrase typed without quotes)
    proximity: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.terms


def parse_query(q: str | None) -> ParsedQuery:
    """Split a user query into required terms; "quoted text" is an exact phrase."""
    if not q or not q.strip():
        return ParsedQuery()
    from search.errors import InvalidQuery

    if len(q) > MAX_QUERY_LENGTH:
        raise InvalidQuery(f"query longer than {MAX_QUERY_LENGTH} characters")
    terms: list[Term] = []
    for quoted, plain in re.findall(r'"([^"]*)"|([^"]+)', normalise(q).replace("\u201c", '"')
                                    .replace("\u201d", '"')):
        if quoted:
            tokens = tuple(chars(quoted))
            if tokens:
                terms.append(Term(quoted.strip(), tokens, phrase=True))
        elif plain:
            for word in query_words(plain):
                tokens = tuple(chars(word))
                if tokens:
                    terms.append(Term(word, tokens))
    unique = tuple(dict.fromkeys(terms))
    together = tuple(token for term in unique for token in term.chars)
    return ParsedQuery(unique, together if len(unique) > 1 else ())


@dataclass(frozen=True)
class Highlight:
    page: int
    text: str


@functools.lru_cache(maxsize=1 << 16)
def _normal_char(ch: str) -> str:
    return normalise(ch)


def _normalised_with_map(text: str) -> tuple[str, list[int] | range]:
    """Normalise, remembering where each output char came from.

    Where normalising keeps the length (nearly every page: full-width punctuation, width
    and case forms map one to one) the map is the identity, taken without looking at each
    char; it is wrong only if, in one text, a char expands (㎾ → kw) and a combining
    sequence composes by as many chars, and then a highlight shifts. Otherwise the text is
    normalised char by char.
    """
    whole = normalise(text)
    if len(whole) == len(text):
        return whole, range(len(text))
    parts = [_normal_char(ch) for ch in text]
    normal = "".join(parts)
    if len(normal) == len(text) and all(len(part) == 1 for part in parts):
        return normal, range(len(text))
    origin = [index for index, part in enumerate(parts) for _ in part]
    return normal, origin


def highlight_pages(
    pages: list[tuple[int, str]], query: ParsedQuery, *, window: int = 24, limit: int = 3
) -> list[Highlight]:
    """Fragments of the pages that contain query terms, terms wrapped in ``<em>``.

    The fragment is HTML-safe: the page text is escaped before the hits are marked, so
    markup that OCR or a text layer put in a page reaches no one as markup."""
    needles = [re.escape("".join(t.chars)) for t in query.terms]
    if not needles:
        return []
    pattern = re.compile("|".join(sorted(needles, key=len, reverse=True)))
    found: list[Highlight] = []
    for number, raw in pages:
        text = strip_cjk_spaces(raw)
        norm, origin = _normalised_with_map(text)
        # Compare against text with spaces removed between Chinese characters only.
        hits = [(origin[m.start()], origin[m.end() - 1] + 1) for m in pattern.finditer(norm)]
        if not hits:
            continue
        start = max(0, hits[0][0] - window)
        end = min(len(text), hits[0][1] + window)
        parts, position = [], start
        for hit_start, hit_end in hits:
            if hit_start < position or hit_end > end:
                continue
            parts += [html.escape(text[position:hit_start]), "<em>",
                      html.escape(text[hit_start:hit_end]), "</em>"]
            position = hit_end
        parts.append(html.escape(text[position:end]))
        fragment = " ".join("".join(parts).split())
        found.append(Highlight(number, ("…" if start else "") + fragment
                               + ("…" if end < len(text) else "")))
        if len(found) >= limit:
            break
    return found
