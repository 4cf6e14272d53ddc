"""Masking personal information (个人信息) wherever it leaves the service.

Page text carries the spans of its personal values, found when the page was read
(:mod:`search.personal`, stored in ``pages.personal``); a page is masked by its spans
before anything is cut from it. Short free text (titles, purposes, reasons, notes,
locations, audit details) is analysed as it leaves, whole, with the same rules. Catalogue
fields are masked by their kind. Whether a caller sees a value unmasked is the
authorizer's decision (``personal:read`` in the object's unit, and the clearance):
:func:`shown_to` asks it once per object and gives the masks to apply.

Public surface: :func:`shown_to`, :class:`Shown`, :func:`known_values`,
:func:`page_spans`, :func:`spans_json`, :func:`mask_free_text`, :func:`mask_values`,
:func:`masked_fields`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from search.personal import Span, find_personal, mask, mask_value

if TYPE_CHECKING:
    from archive.db.models import Customer, Page
    from archive.services.access import Actor


def known_values(customer: Customer | None) -> tuple[tuple[str, str], ...]:
    """The customer's own personal values, as (kind, value), to be found in its pages."""
    if customer is None:
        return ()
    return tuple((kind, value) for kind, value in (("phone", customer.phone),
                                                   ("id", customer.id_number)) if value)


def spans_json(spans: Iterable[Span]) -> str:
    return json.dumps([span.to_list() for span in spans], separators=(",", ":"))


def page_spans(page: Page, known: Iterable[tuple[str, str]] = ()) -> tuple[Span, ...]:
    """The spans kept with the page; for a page read before spans were kept, found now."""
    if page.personal is not None:
        return tuple(Span.from_list(values) for values in json.loads(page.personal))
    return find_personal(page.text, known)


def mask_free_text(text: str) -> str:
    """Free text with every personal value in it masked (the whole text is analysed)."""
    return mask(text, find_personal(text)) if text else text


def mask_values(value: object) -> object:
    """:func:`mask_free_text` applied to every string inside JSON-like data."""
    if isinstance(value, str):
        return mask_free_text(value)
    if isinstance(value, dict):
        return {k: mask_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_values(v) for v in value]
    return value


def masked_fields(values: dict[str, object], kinds: dict[str, str]) -> dict[str, object]:
    """Fields as the audit log keeps them (the before and after of an edit): the personal
    fields named in ``kinds`` (field → kind, e.g. ``{"phone": "phone"}``) masked as their
    kind, every other text by its patterns. The log never holds a raw personal number."""
    return {name: mask_value(kinds[name], value) if name in kinds and isinstance(value, str)
            and value else mask_values(value) for name, value in values.items()}


@dataclass(frozen=True)
class Shown:
    """What one caller sees of one object's personal information."""

    personal: bool

    def text(self, value: str) -> str:
        return value if self.personal else mask_free_text(value)

    def page(self, text: str, spans: Iterable[Span]) -> str:
        return text if self.personal else mask(text, spans)

    def field(self, kind: str, value: str) -> str:
        return value if self.personal or not value else mask_value(kind, value)

    def values(self, value: object) -> object:
        return value if self.personal else mask_values(value)


def shown_to(actor: Actor, unit_path: str) -> Shown:
    """The masks for ``actor`` on an object of the unit at ``unit_path``."""
    from archive.services.access import sees_personal

    return Shown(sees_personal(actor, unit_path))
