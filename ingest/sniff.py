"""Recognise a file by its first bytes, never by its name.

Public surface: :class:`FileKind`, :func:`sniff`, ``MEDIA_TYPES``.
"""

from __future__ import annotations

from enum import StrEnum

from ingest.errors import EmptyFile, UnsupportedFileType


class FileKind(StrEnum):
    PDF = "pdf"
    TIFF = "tiff"
    JPEG = "jpeg"
    PNG = "png"


MEDIA_TYPES = {
    FileKind.PDF: "application/pdf",
    FileKind.TIFF: "image/tiff",
    FileKind.JPEG: "image/jpeg",
    FileKind.PNG: "image/png",
}


def sniff(head: bytes) -> FileKind:
    """Kind of a file from at least its first 1024 bytes."""
    if not head:
        raise EmptyFile("the file is empty")
    # PDF allows up to 1024 bytes of junk before the header.
    if b"%PDF-" in head[:1024]:
        return FileKind.PDF
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return FileKind.TIFF
    if head.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    raise UnsupportedFileType("only PDF, TIFF, JPEG and PNG files are accepted")
