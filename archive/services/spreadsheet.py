"""CSV exports that spreadsheet programs open safely (审计日志, 销毁清册, 移交目录).

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken by
Excel, WPS and LibreOffice as a formula, so a value anyone typed (a username tried at the
login, a customer's name, a title) could run as one in the auditor's spreadsheet. Every
CSV the service writes goes through :func:`rows_as_csv`, which neutralises such cells as
OWASP advises: a leading apostrophe makes them text. Files start with a UTF-8 byte order
mark, so the programs read the Chinese as UTF-8.

Public surface: :func:`safe_cell`, :func:`rows_as_csv`, :func:`write_csv`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def safe_cell(value: object) -> object:
    """The value as a spreadsheet shows it literally: text that could start a formula gets
    a leading apostrophe; numbers and empty cells stay as they are."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def rows_as_csv(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The CSV text, row by row (for streaming), BOM first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow([safe_cell(cell) for cell in header])
    yield _take(buffer)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
        yield _take(buffer)


def write_csv(out: TextIO, header: Iterable[str], rows: Iterable[Iterable[object]]) -> None:
    """Write the CSV to a text file opened with ``newline=""``."""
    for chunk in rows_as_csv(header, rows):
        out.write(chunk)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
