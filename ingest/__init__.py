"""Ingest: recognise uploaded files, check them, and extract the text of every page.

Public surface: :func:`sniff`, :class:`FileKind`, :func:`inspect`, :func:`extract_pages`,
:class:`PageText`, :func:`write_access_copy` (the searchable PDF), :class:`IngestSettings`,
the OCR engines in :mod:`ingest.ocr` and the errors in :mod:`ingest.errors`.
"""

from ingest.access_copy import write_access_copy
from ingest.document import DocumentInfo, inspect
from ingest.errors import (
    CorruptFile,
    EmptyFile,
    EncryptedFile,
    IngestError,
    LimitExceeded,
    OcrUnavailable,
    UnsupportedFileType,
)
from ingest.pipeline import PageText, extract_pages
from ingest.settings import IngestSettings
from ingest.sniff import MEDIA_TYPES, FileKind, sniff

__all__ = [
    "MEDIA_TYPES",
    "CorruptFile",
    "DocumentInfo",
    "EmptyFile",
    "EncryptedFile",
    "FileKind",
    "IngestError",
    "IngestSettings",
    "LimitExceeded",
    "OcrUnavailable",
    "PageText",
    "UnsupportedFileType",
    "extract_pages",
    "inspect",
    "sniff",
    "write_access_copy",
]
