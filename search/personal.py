"""Personal information (个人信息) in text: found once, kept as spans, masked by span.

A page is analysed when it is read: :func:`find_personal` returns the spans of the personal
values in it — mobile and fixed-line phone numbers, resident ID numbers (18 characters, or
the 15 of the first generation), bank card and account numbers, and the known values of the
customer the record belongs to (its phone and ID number as the catalogue holds them, found
however OCR spaced them). The spans are stored with the page; everything that lets text
leave the service masks by them (:func:`mask`), before any window is cut, so a fragment
can never show more of a value than its mask does.

A mask keeps the same length and the separators, and shows only the digits that masks of
that kind show everywhere in the archive (the first three and last four of a phone, the
first six and last four of an ID number, the first and last four of a bank number), so
a masked page beside a masked catalogue field reveals nothing more than either.

Numbers that only look like these are left alone: the decimals of a number
(``0.6123151411625729``), dates and codes of other lengths (``SQ20240318-0042``). 户号
account numbers are not personal information.

Public surface: :class:`Span`, :func:`find_personal`, :func:`mask`, :func:`mask_value`,
:func:`personal_values`, :func:`query_value`, :func:`digits_of`, ``KINDS``, ``VERSION``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

KINDS = ("phone", "id", "bank")
# Bumped when detection changes, so derived copies (masked access copies) are made again.
VERSION = 1
# digits each kind's mask leaves visible: (at the start, at the end)
_SHOWN = {"phone": (3, 4), "id": (6, 4), "bank": (4, 4)}

# A number is written as groups of digits joined by at most one separator between each two:
# 138 0000 1234, 1381 2345 678, 6222-0212-3456-7890-123, 0571 8888 6666, (0571)88886666,
# 110101 19900307 1234, 138.1234.5671, +86 138…, or broken across a line. The groups of
# such a chain are read as the longest personal values they make, from the left.
_GROUP = re.compile(r"[0-9０-９]+(?:[Xxｘ](?![A-Za-z]))?")
# what may stand between two groups of one number: a mark (dash of any kind, slash, dot,
# comma, colon, bracket …) with up to two spaces of any kind (zero-width ones too, or a line
# break) around it, or the spaces alone
_SPACE = r"(?:[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]|\r?\n)"
_MARK = r"[-－–—−‐‑‒~～/／\\_＿,，:：.．·・|｜()（）\[\]【】]"
_LINK = re.compile(rf"{_SPACE}{{0,2}}{_MARK}?{_SPACE}{{0,2}}")
# labels that say what the number after them is
_LABELS = (
    ("bank", re.compile(r"(?:账号|帐号|账户|帐户|卡号|银行账|开户账)[^0-9０-９\n]{0,8}$")),
    ("phone", re.compile(r"(?:电话|手机|联系方式|tel|TEL|Tel|传真)[^0-9０-９\n]{0,8}$")),
    ("id", re.compile(r"(?:身份证|证件号|证件号码)[^0-9０-９\n]{0,8}$")),
)
_TO_ASCII = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789xx")


@dataclass(frozen=True, order=True)
class Span:
    """Characters ``start``–``end`` of a text hold a personal value of ``kind``."""

    start: int
    end: int
    kind: str

    def to_list(self) -> list:
        return [self.start, self.end, self.kind]

    @classmethod
    def from_list(cls, values: Sequence) -> Span:
        return cls(int(values[0]), int(values[1]), str(values[2]))


def digits_of(text: str) -> str:
    """The digits of a number as written (full-width folded, separators dropped, x
    lower case): the form personal values are compared and searched in."""
    return re.sub(r"[^0-9x]", "", text.translate(_TO_ASCII).lower())


def _plausible_birth(digits: str) -> bool:
    if len(digits) == 18:
        year, month, day = int(digits[6:10]), int(digits[10:12]), int(digits[12:14])
        if not 1900 <= year <= 2100:
            return False
    else:
        month, day = int(digits[8:10]), int(digits[10:12])
    return 1 <= month <= 12 and 1 <= day <= 31


def _kind_of(digits: str, label: str | None, groups: list[str] | None = None) -> str | None:
    """What a number is, from its digits (as :func:`digits_of` writes them), the label
    before it and, for one written in several ``groups``, how they were laid out; None when
    it is no personal value."""
    length = len(digits)
    if length == 18 and digits[:-1].isdigit() and _plausible_birth(digits):
        return "id"
    if "x" in digits:
        return None
    if length == 15 and _plausible_birth(digits):
        return "id"
    if length == 11 and digits[0] == "1" and digits[1] in "3456789":
        return "phone"
    if length == 13 and digits.startswith("861") and digits[3] in "3456789":
        return "phone"  # with the country code
    if 16 <= length <= 19 and (label == "bank" or not groups or len(groups) == 1 or (
            all(len(g) == 4 for g in groups[:-1]) and 1 <= len(groups[-1]) <= 4)):
        return "bank"  # unlabelled and in groups, only as a card is written: 4-4-4-4(-3)
    if label == "bank" and 8 <= length <= 30:
        return "bank"
    if 10 <= length <= 12 and digits[0] == "0" and digits[1] != "0":
        return "phone"  # a fixed line with its area code
    if label == "phone" and 7 <= length <= 12:
        return "phone"
    return None


def _chains(text: str) -> list[list[re.Match[str]]]:
    """The digit groups of ``text``, chained where one separator joins them. A single dot
    between two groups is a decimal point: what follows it is no number of its own."""
    chains: list[list[re.Match[str]]] = []
    links: list[list[str]] = []
    for group in _GROUP.finditer(text):
        if chains:
            gap = text[chains[-1][-1].end():group.start()]
            if gap and _LINK.fullmatch(gap):
                chains[-1].append(group)
                links[-1].append(gap)
                continue
        chains.append([group])
        links.append([])
    split: list[list[re.Match[str]]] = []
    for chain, gaps in zip(chains, links, strict=True):
        dots = [i for i, gap in enumerate(gaps) if gap in (".", "．")]
        if len(dots) == 1:  # 0.6123151411625729, 1234.5: a decimal
            cut = dots[0]
            split += [part for part in (chain[:cut + 1], chain[cut + 2:]) if part]
        else:
            split.append(chain)
    return split


def _label_before(text: str, start: int) -> str | None:
    before = text[max(0, start - 16):start]
    for kind, label in _LABELS:
        if label.search(before):
            return kind
    return None


def _known_pattern(value: str) -> re.Pattern[str] | None:
    """A known value found however it was spaced: its digits with optional separators."""
    digits = digits_of(value)
    if len(digits) < 7:
        return None
    parts = [re.escape(d) if d != "x" else "[Xxｘ]" for d in digits]
    body = r"[ \-－]?".join(parts)
    return re.compile(rf"(?<![0-9０-９]){body}(?![0-9０-９])")


def find_personal(text: str, known: Iterable[tuple[str, str]] = ()) -> tuple[Span, ...]:
    """The spans of personal values in ``text``, in order and not overlapping. ``known``
    gives (kind, value) pairs of the record's customer, found wherever they occur."""
    found: list[Span] = []
    for kind, value in known:
        pattern = _known_pattern(value) if value else None
        if pattern is not None:
            found += [Span(m.start(), m.end(), kind) for m in pattern.finditer(text)]
    for chain in _chains(text):
        # a group that is a personal value by itself stands alone: 13800001234 beside
        # 6222 0212 … is a phone and a bank card, not one long number
        alone = [_kind_of(digits_of(g.group()), _label_before(text, g.start())) for g in chain]
        first = 0
        while first < len(chain):
            if alone[first] is not None:
                found.append(Span(chain[first].start(), chain[first].end(), alone[first]))
                first += 1
                continue
            label = _label_before(text, chain[first].start())
            reach = next((i for i in range(first, len(chain)) if alone[i] is not None),
                         len(chain))
            for last in range(reach - 1, first - 1, -1):
                groups = [digits_of(g.group()) for g in chain[first:last + 1]]
                kind = _kind_of("".join(groups), label, groups)
                if kind is not None:
                    found.append(Span(chain[first].start(), chain[last].end(), kind))
                    first = last + 1
                    break
            else:
                first += 1
    return _merged(found)


def _merged(spans: list[Span]) -> tuple[Span, ...]:
    merged: list[Span] = []
    for span in sorted(spans):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, span.end), last.kind)
        else:
            merged.append(span)
    return tuple(merged)


def mask_value(kind: str, value: str) -> str:
    """The value with the digits its kind hides replaced by ``*``; same length, the
    separators kept."""
    head, tail = _SHOWN.get(kind, (0, 0))
    positions = [i for i, ch in enumerate(value) if ch.isdigit() or ch in "Xxｘ"]
    if len(positions) <= head + tail:
        hidden = set(positions)
    else:
        hidden = set(positions[head:len(positions) - tail])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value))


def mask(text: str, spans: Iterable[Span]) -> str:
    """``text`` with every span masked (:func:`mask_value`); same length."""
    parts, position = [], 0
    for span in sorted(spans):
        if span.start < position or span.end > len(text):
            continue
        parts += [text[position:span.start], mask_value(span.kind, text[span.start:span.end])]
        position = span.end
    parts.append(text[position:])
    return "".join(parts)


def personal_values(text: str, spans: Iterable[Span]) -> tuple[str, ...]:
    """The values themselves, as :func:`digits_of` writes them, for exact search by those
    who may see them."""
    return tuple(sorted({digits_of(text[s.start:s.end]) for s in spans}))


_QUERY_NUMBER = re.compile(r"[0-9][0-9x.\-]*")


def query_value(text: str) -> str | None:
    """The personal value a query term may be (a number of seven digits or more), as
    :func:`digits_of` writes it; None for other terms."""
    compact = "".join(text.split()).translate(_TO_ASCII).lower()
    if not _QUERY_NUMBER.fullmatch(compact):
        return None
    digits = digits_of(compact)
    return digits if len(digits) >= 7 else None
