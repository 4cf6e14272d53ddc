"""The access copy of an original: a searchable PDF that people open instead of the scan.

Each OCR'd page becomes the colour page image, turned and straightened the way OCR saw it
(:func:`ingest.preprocess.straighten`), with every OCR line drawn over its place on the page
in invisible text (render mode 3): a viewer shows the scan, yet finds, selects and copies
the text, as OCRmyPDF's output does. A page that had a text layer is already searchable
and is copied from the original unchanged. The original itself is never touched.

The text is set in a font built here whose glyphs are all empty (500 bytes, embedded), its
codes UTF-16 code units that the ToUnicode map turns back into characters. Invisible text
needs no glyph shapes, while a non-embedded CJK font such as reportlab's ``STSong-Light``
cannot be read back without a language pack: pdftotext without poppler-data drops all of
its text, and Acrobat asks for its Asian font pack. Characters beyond the BMP (rare
ideographs of CJK Extension B and later) go in as surrogate pairs, which PDFium and pypdf
read back and poppler shows as two U+FFFD; OCR engines here do not produce them.

Memory: pages are walked one at a time and each page image is JPEG-compressed as soon as it
is made; the compressed bytes wait in a spool file beside the target until the PDF is
written, so a 300-page scan holds one page image in memory, not 300.

Public surface: :func:`write_access_copy`.
"""

from __future__ import annotations

import functools
import io
import itertools
import struct
import tempfile
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from ingest.document import PageSource, iter_pages
from ingest.errors import CorruptFile
from ingest.ocr import OcrLine
from ingest.pipeline import PageLayout, PageText
from ingest.preprocess import straighten
from ingest.settings import IngestSettings

# JPEG quality of page images. A grainy A4 colour scan at 300 dpi takes 0.4–0.55 MB a page
# at 70 (0.36 MB at 60, 0.74 MB at 80); small text and seals stay crisp at 100 % zoom.
JPEG_QUALITY = 70

# The glyphless font's em box, in thousandths of the font size: an ideograph's, so a line
# set at the height of its OCR box fills the box from top to bottom.
_ASCENT, _DESCENT = 880, -120
_FONT = NameObject("/F0")
_IMAGE = NameObject("/Im0")


def write_access_copy(
    original: Path,
    pages: Sequence[PageText],
    settings: IngestSettings,
    target: Path,
    *,
    jpeg_quality: int = JPEG_QUALITY,
    mask: Callable[[str], str] | None = None,
) -> None:
    """Write the searchable access copy of ``original`` to ``target``.

    ``pages`` are the original's pages as :func:`ingest.pipeline.extract_pages` read them,
    with the same ``settings``: an OCR'd page becomes its image plus invisible text at its
    layout's boxes, a text-layer page is copied from the original. ``target`` appears only
    when complete (it is written under another name and renamed), so a failure leaves no
    half-written copy. Raises ValueError when ``pages`` are not the original's pages.

    ``mask`` makes the copy for readers who may not see personal information: it takes a
    line of text and returns it with the personal values masked, keeping its length. Every
    line of invisible text goes through it; a page with a text layer is not copied but
    drawn as an image, its text layer rebuilt from its lines through ``mask``, and the
    characters ``mask`` changed are painted over in the image; on a scan, where those
    characters lie is worked out from their OCR line's box and painted over too.
    """
    partial = target.with_name(f"{target.name}.partial")
    try:
        with (tempfile.TemporaryFile(dir=target.parent) as spool,
              open(original, "rb") as file):
            writer = _build(original, file, pages, settings, spool, jpeg_quality, mask)
            with open(partial, "wb") as out:
                writer.write(out)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def _build(original: Path, file: BinaryIO, pages: Sequence[PageText],
           settings: IngestSettings, spool: BinaryIO, jpeg_quality: int,
           mask: Callable[[str], str] | None) -> PdfWriter:
    """The copy's pages in the original's order, one page image at a time: the document
    walk of :func:`ingest.document.iter_pages` decides, as it did for OCR, which pages
    have a text layer to keep and which are images."""
    writer = PdfWriter()
    reader: PdfReader | None = None
    font: IndirectObject | None = None
    for page, source in _paired(pages, iter_pages(original, settings)):
        if source.image is None and mask is not None:
            if font is None:
                font = _add_glyphless_font(writer)
            drawn, layout = _drawn_text_page(original, source.number, settings, mask)
            _add_scanned_page(writer, layout, font=font,
                              image=_spool_image(drawn, layout, spool, jpeg_quality))
            drawn.close()
            continue
        if source.image is None:  # a text layer: only PDF pages come without an image
            try:
                if reader is None:
                    reader = PdfReader(file)
                writer.add_page(reader.pages[source.number - 1])
            except (PyPdfError, ValueError, KeyError, TypeError) as exc:
                raise CorruptFile(f"page {source.number} cannot be copied: {exc}") from exc
            continue
        if font is None:
            font = _add_glyphless_font(writer)
        layout = page.layout or PageLayout(source.image.size, source.dpi, 0, 0.0, ())
        covered: list[tuple[float, float, float, float]] = []
        if mask is not None:
            covered = [box for line in layout.lines for box in _masked_boxes(line, mask)]
            layout = replace(layout, lines=tuple(replace(line, text=mask(line.text))
                                                 for line in layout.lines))
        image = _spool_image(source.image, layout, spool, jpeg_quality, covered)
        _add_scanned_page(writer, layout, font=font, image=image)
        source.image.close()
    return writer


def _masked_boxes(line: OcrLine, mask: Callable[[str], str]
                  ) -> list[tuple[float, float, float, float]]:
    """Where on the scan the characters ``mask`` hides in an OCR line lie: the line's box
    shared out by the characters' widths (an ideograph an em, others half), each run of
    hidden characters widened by half an em on either side, since OCR gives no box per
    character."""
    masked = mask(line.text)
    if masked == line.text or len(masked) != len(line.text):
        return [] if masked == line.text else [line.box]  # unplaceable: the whole line
    left, top, right, bottom = line.box
    widths = [1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.5 for ch in line.text]
    scale = (right - left) / (sum(widths) or 1)
    starts = list(itertools.accumulate(widths, initial=0.0))
    margin = (bottom - top) / 2
    boxes, index = [], 0
    while index < len(masked):
        if masked[index] == line.text[index]:
            index += 1
            continue
        end = index
        while end < len(masked) and masked[end] != line.text[end]:
            end += 1
        boxes.append((max(left, left + starts[index] * scale - margin), top - 2,
                      min(right, left + starts[end] * scale + margin), bottom + 2))
        index = end
    return boxes


def _drawn_text_page(original: Path, number: int, settings: IngestSettings,
                     mask: Callable[[str], str]) -> tuple[Image.Image, PageLayout]:
    """A page with a text layer drawn as an image at the settings' dpi, and its text lines
    (masked) where they sit. What ``mask`` changes is painted over. Only the page's own
    text and drawing is drawn: its pictures (a pasted ID card would be one, unread), its
    annotations and its form fields, which may show anything, are left out."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        pdf = pdfium.PdfDocument(str(original))
    except pdfium.PdfiumError as exc:
        raise CorruptFile(f"the PDF cannot be read: {exc}") from exc
    try:
        page = pdf[number - 1]
        scale = settings.dpi / 72
        _, height = page.get_size()

        def pixels(left: float, bottom: float, right: float, top: float
                   ) -> tuple[int, int, int, int]:
            return (round(left * scale), round((height - top) * scale),
                    round(right * scale), round((height - bottom) * scale))

        text_page = page.get_textpage()
        text = text_page.get_text_range(0, text_page.count_chars())
        masked = mask(text)
        hidden = ([pixels(*text_page.get_charbox(i))
                   for i, (was, now) in enumerate(zip(text, masked, strict=True)) if was != now]
                  if len(masked) == len(text) else None)
        lines = []
        for index in range(text_page.count_rects()):
            rect = text_page.get_rect(index)
            line = mask(text_page.get_text_bounded(*rect))
            if line.strip():
                lines.append(OcrLine(line, pixels(*rect), None))
        text_page.close()
        for found in list(page.get_objects(max_depth=0)):
            if found.type == pdfium_c.FPDF_PAGEOBJ_IMAGE or (
                    found.type == pdfium_c.FPDF_PAGEOBJ_FORM and _holds_image(found)):
                page.remove_obj(found)
        image = page.render(scale=scale, grayscale=False, draw_annots=False,
                            may_draw_forms=False).to_pil().convert("RGB")
        draw = ImageDraw.Draw(image)
        if hidden is None:  # not the same length: nothing to place masks by; none shows
            draw.rectangle((0, 0, image.width, image.height), fill=(255, 255, 255))
        for box in hidden or ():
            draw.rectangle(box, fill=(0, 0, 0))
        page.close()
    finally:
        pdf.close()
    return image, PageLayout(image.size, settings.dpi, 0, 0.0, tuple(lines))


def _holds_image(form: object) -> bool:
    import pypdfium2.raw as pdfium_c

    page = form.page  # type: ignore[attr-defined]
    return any(inner.type == pdfium_c.FPDF_PAGEOBJ_IMAGE
               for inner in page.get_objects(form=form))


def _paired(pages: Sequence[PageText], sources: Iterator[PageSource]
            ) -> Iterator[tuple[PageText, PageSource]]:
    """Each page's text with the same page of the original, refusing any mismatch: an
    access copy with a page missing or out of place would mislead whoever reads it."""
    for page, source in itertools.zip_longest(pages, sources):
        if page is None or source is None or page.number != source.number:
            raise ValueError("the page texts do not match the pages of the original")
        yield page, source


# ----------------------------------------------------------------------------- scanned pages

def _add_scanned_page(writer: PdfWriter, layout: PageLayout, *, font: IndirectObject,
                      image: DictionaryObject) -> None:
    """A page of the layout's physical size showing the image, with the text over it."""
    width, height = (pixels * 72 / layout.dpi for pixels in layout.size)
    page = writer.add_blank_page(width, height)
    page[NameObject("/Resources")] = DictionaryObject({
        # pypdf has no public call to make an object indirect; streams must be indirect
        NameObject("/XObject"): DictionaryObject({_IMAGE: writer._add_object(image)}),
        NameObject("/Font"): DictionaryObject({_FONT: font}),
    })
    content = DecodedStreamObject()
    content.set_data(f"q {width:.3f} 0 0 {height:.3f} 0 0 cm {_IMAGE} Do Q\n".encode()
                     + _text_operators(layout, height))
    page.replace_contents(content.flate_encode())


def _text_operators(layout: PageLayout, page_height: float) -> bytes:
    """Each line in invisible text, sized to its box's height and stretched (``Tz``) to
    its width, so that search hits and selections land on the line in the image."""
    scale = 72 / layout.dpi
    operators = []
    for line in layout.lines:
        left, top, right, bottom = (v * scale for v in line.box)
        codes = line.text.strip().encode("utf-16-be")  # the font's codes: UTF-16 code units
        ems = sum(map(_advance, struct.unpack(f">{len(codes) // 2}H", codes))) / 1000
        if not ems or right <= left or bottom <= top:
            continue
        size = bottom - top
        baseline = page_height - bottom - _DESCENT / 1000 * size
        operators.append(
            f"{_FONT} {size:.2f} Tf {100 * (right - left) / (ems * size):.2f} Tz "
            f"1 0 0 1 {left:.2f} {baseline:.2f} Tm <{codes.hex()}> Tj")
    if not operators:
        return b""
    return "\n".join(["BT 3 Tr", *operators, "ET"]).encode() + b"\n"


def _advance(unit: int) -> int:
    """Width of a UTF-16 code unit in the glyphless font: an em for wide (CJK) characters,
    half for the rest; a surrogate pair makes one em."""
    return 1000 if unicodedata.east_asian_width(chr(unit)) in "WF" else 500


# ----------------------------------------------------------------------------- page images

class _SpooledImage(DictionaryObject):
    """An image XObject whose encoded bytes wait in a spool file until the PDF is written."""

    def __init__(self, entries: dict[str, object], spool: BinaryIO, offset: int,
                 length: int) -> None:
        super().__init__({NameObject(key): value for key, value in entries.items()})
        self.spool, self.offset, self.length = spool, offset, length

    def write_to_stream(self, stream: BinaryIO) -> None:
        self[NameObject("/Length")] = NumberObject(self.length)
        super().write_to_stream(stream)
        stream.write(b"\nstream\n")
        self.spool.seek(self.offset)
        remaining = self.length
        while remaining:
            chunk = self.spool.read(min(remaining, 1 << 20))
            stream.write(chunk)
            remaining -= len(chunk)
        stream.write(b"\nendstream")


def _spool_image(scan: Image.Image, layout: PageLayout, spool: BinaryIO,
                 quality: int, covered: Sequence[tuple[float, float, float, float]] = ()
                 ) -> _SpooledImage:
    """The page image as the OCR saw it, but in colour: seals must stay red for the reader.

    Always in colour: stored grey, a grey page would save only 5–10 %, as JPEG spends
    almost nothing on flat chroma."""
    image = straighten(scan, layout.orientation, layout.skew, fill=(255, 255, 255))
    if covered:  # the boxes are in the straightened image's pixels, as OCR read it
        draw = ImageDraw.Draw(image)
        for box in covered:
            draw.rectangle(box, fill=(0, 0, 0))
    offset = spool.seek(0, io.SEEK_END)
    image.save(spool, "JPEG", quality=quality, optimize=True)
    entries = {
        "/Type": NameObject("/XObject"), "/Subtype": NameObject("/Image"),
        "/Width": NumberObject(image.width), "/Height": NumberObject(image.height),
        "/ColorSpace": NameObject("/DeviceRGB"),
        "/BitsPerComponent": NumberObject(8), "/Filter": NameObject("/DCTDecode"),
    }
    return _SpooledImage(entries, spool, offset, spool.tell() - offset)


# ----------------------------------------------------------------------------- the font

def _add_glyphless_font(writer: PdfWriter) -> IndirectObject:
    """A Type0 font whose codes are UTF-16 code units (Identity-H) and whose glyphs are
    empty: any text can be set in it, and the ToUnicode map reads it back as written."""
    descriptor = DictionaryObject({
        NameObject("/Type"): NameObject("/FontDescriptor"),
        NameObject("/FontName"): NameObject("/GlyphLessFont"),
        NameObject("/Flags"): NumberObject(4),  # symbolic: glyphs outside the Latin set
        NameObject("/FontBBox"): ArrayObject(map(NumberObject, (0, _DESCENT, 1000, _ASCENT))),
        NameObject("/ItalicAngle"): NumberObject(0),
        NameObject("/Ascent"): NumberObject(_ASCENT),
        NameObject("/Descent"): NumberObject(_DESCENT),
        NameObject("/CapHeight"): NumberObject(_ASCENT),
        NameObject("/StemV"): NumberObject(80),
        NameObject("/FontFile2"): writer._add_object(_stream(_glyphless_truetype())),
    })
    cid_font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/CIDFontType2"),
        NameObject("/BaseFont"): NameObject("/GlyphLessFont"),
        NameObject("/CIDSystemInfo"): DictionaryObject({
            NameObject("/Registry"): TextStringObject("Adobe"),
            NameObject("/Ordering"): TextStringObject("Identity"),
            NameObject("/Supplement"): NumberObject(0),
        }),
        NameObject("/FontDescriptor"): writer._add_object(descriptor),
        NameObject("/DW"): NumberObject(1000),
        NameObject("/W"): ArrayObject(map(NumberObject, _narrow_widths())),
        # every code shows glyph 1, the empty one
        NameObject("/CIDToGIDMap"): writer._add_object(_stream(b"\x00\x01" * 0x10000)),
    })
    return writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type0"),
        NameObject("/BaseFont"): NameObject("/GlyphLessFont"),
        NameObject("/Encoding"): NameObject("/Identity-H"),
        NameObject("/DescendantFonts"): ArrayObject([writer._add_object(cid_font)]),
        NameObject("/ToUnicode"): writer._add_object(_stream(_identity_to_unicode())),
    }))


def _stream(data: bytes) -> StreamObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream.flate_encode()


@functools.cache
def _narrow_widths() -> tuple[int, ...]:
    """The ``/W`` array: the runs of codes half an em wide (the default is a full em)."""
    entries: list[int] = []
    position = 0
    for width, run in itertools.groupby(range(0x10000), key=_advance):
        count = len(list(run))
        if width != 1000:
            entries += [position, position + count - 1, width]
        position += count
    return tuple(entries)


@functools.cache
def _identity_to_unicode() -> bytes:
    """A ToUnicode CMap mapping each two-byte code to the same UTF-16 code unit, written as
    ranges that differ in the last byte only, as the CMap format requires."""
    ranges = [f"<{high:02X}00> <{high:02X}FF> <{high:02X}00>" for high in range(256)]
    blocks = (ranges[i:i + 100] for i in range(0, len(ranges), 100))  # at most 100 a block
    body = "\n".join(f"{len(block)} beginbfrange\n" + "\n".join(block) + "\nendbfrange"
                     for block in blocks)
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{body}\n"
        "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode()


@functools.cache
def _glyphless_truetype() -> bytes:
    """The smallest TrueType font viewers accept: two glyphs, both empty.

    Built in code rather than shipped, so the repository holds no binary font; it has the
    tables of Tesseract's ``pdf.ttf``, which serves the same purpose."""
    units, glyphs = 1000, 2
    tables = {
        b"OS/2": struct.pack(
            ">HhHHH11h10s4I4s3H3h2H2I2h3H", 3, 500, 400, 5, 0, *[0] * 11, b"\0" * 10,
            0, 0, 0, 0, b"NONE", 0x40, 0, 0xFFFF, _ASCENT, _DESCENT, 0, _ASCENT, -_DESCENT,
            1, 0, 0, _ASCENT, 0, 0, 0),
        # a format 4 cmap with no characters: CIDFontType2 glyphs are found by CIDToGIDMap
        b"cmap": struct.pack(">4HI8H", 0, 1, 3, 1, 12, 4, 24, 0, 2, 2, 0, 0, 0xFFFF)
        + struct.pack(">4H", 0, 0xFFFF, 1, 0),
        b"glyf": struct.pack(">5h2x", 0, 0, 0, 0, 0),  # glyph 1: no contours
        b"head": struct.pack(">2H3I2H2q4h2H3h", 1, 0, 0x10000, 0, 0x5F0F3CF5, 0x000B, units,
                             0, 0, 0, _DESCENT, units, _ASCENT, 0, 8, 2, 0, 0),
        b"hhea": struct.pack(">I3hH3h3h4hhH", 0x10000, _ASCENT, _DESCENT, 0, units, 0, 0, 0,
                             1, 0, 0, 0, 0, 0, 0, 0, glyphs),
        b"hmtx": struct.pack(">HhHh", units, 0, units, 0),
        b"loca": struct.pack(">3H", 0, 0, 6),  # short offsets, in units of two bytes
        b"maxp": struct.pack(">IH13H", 0x10000, glyphs, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0),
        b"name": struct.pack(">3H", 0, 0, 6),
        b"post": struct.pack(">IIhhIIIII", 0x30000, 0, -100, 50, 1, 0, 0, 0, 0),
    }
    return _sfnt(tables)


def _sfnt(tables: dict[bytes, bytes]) -> bytes:
    """Assemble TrueType tables into a font file, with the checksums the format demands."""
    count = len(tables)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(">I4H", 0x10000, count, power * 16, power.bit_length() - 1,
                         count * 16 - power * 16)
    directory, body, offsets = b"", b"", {}
    for tag in sorted(tables):
        data = tables[tag]
        offsets[tag] = len(header) + 16 * count + len(body)
        directory += struct.pack(">4s3I", tag, _checksum(data), offsets[tag], len(data))
        body += data + b"\0" * (-len(data) % 4)
    font = bytearray(header + directory + body)
    adjustment = (0xB1B0AFBA - _checksum(font)) & 0xFFFFFFFF
    struct.pack_into(">I", font, offsets[b"head"] + 8, adjustment)  # head.checkSumAdjustment
    return bytes(font)


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF
