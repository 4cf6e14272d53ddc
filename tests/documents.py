"""Small test files built in code: born-digital PDFs, broken and hostile files."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas


def text_pdf(pages: list[str]) -> bytes:
    """A born-digital PDF with a real (CID font) text layer, one page per string."""
    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    for text in pages:
        pdf.setFont("STSong-Light", 14)
        y = 780
        for line in text.splitlines():
            pdf.drawString(60, y, line)
            y -= 22
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def truncated_pdf() -> bytes:
    whole = text_pdf(["供用电合同 第一页"])
    return whole[: len(whole) // 3]


def empty_pdf() -> bytes:
    """A well-formed PDF with zero pages."""
    out = io.BytesIO()
    PdfWriter().write(out)
    return out.getvalue()


def png(width: int = 200, height: int = 100) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, format="PNG")
    return out.getvalue()


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims absurd dimensions (a decompression bomb's calling card)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body)
            + chunk(b"IEND", b""))


def blank_pdf(pages: int, *, width: float = 595, height: float = 842) -> bytes:
    """A PDF of blank pages: thousands of them, or one of an absurd size (in points)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=width, height=height)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_hidden_text(visible: str, *, title: str, note: str) -> bytes:
    """A born-digital PDF whose visible text is clean while its metadata and a text
    annotation (a sticky note) say more."""
    from pypdf import PdfReader
    from pypdf.annotations import Text

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf([visible]))))
    writer.add_metadata({"/Title": title, "/Author": title})
    writer.add_annotation(page_number=0, annotation=Text(rect=(50, 550, 200, 650), text=note))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
