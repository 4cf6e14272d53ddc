"""Masking of personal information (个人信息) for users without clearance.

Public surface: :func:`mask_phone`, :func:`mask_id_number`, :func:`mask_text`,
:func:`mask_values`.
"""

from __future__ import annotations

import re

_ID_NUMBER = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_BANK_ACCOUNT = re.compile(r"(?<!\d)(\d{4})\d{8,11}(\d{4})(?!\d)")


def mask_id_number(value: str) -> str:
    if len(value) < 8:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_text(text: str) -> str:
    """Mask ID numbers, mobile numbers and bank accounts found in free text."""
    text = _ID_NUMBER.sub(lambda m: m.group(1) + "*" * 8 + m.group(2), text)
    text = _BANK_ACCOUNT.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 8) + m.group(2),
                             text)
    return _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def mask_values(value: object) -> object:
    """``mask_text`` applied to every string inside JSON-like data."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_values(v) for v in value]
    return value
