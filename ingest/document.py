"""Open an uploaded file, check it against the limits, and walk its pages.

:func:`inspect` is cheap and runs before a file is accepted, so a bad upload is refused
before anything is stored. :func:`iter_pages` yields each page as either a text layer
or an image to OCR.

Public surface: :class:`DocumentInfo`, :class:`PageSource`, :func:`inspect`,
:func:`iter_pages`.
"""

from __future__ import annotations

import contextlib
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageSequence

from ingest.errors import CorruptFile, EmptyFile, EncryptedFile, LimitExceeded
from ingest.settings import IngestSettings
from ingest.sniff import FileKind, sniff


@dataclass(frozen=True)
class DocumentInfo:
    kind: FileKind
    page_count: int


@dataclass
class PageSource:
    number: int
    text_layer: str | None = None
    image: Image.Image | None = None
    dpi: int = 300  # resolution of ``image``; OCR engines misjudge text size without it


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(1024)


def inspect(path: Path, settings: IngestSettings) -> DocumentInfo:
    """Kind and page count of a file, or the IngestError that refuses it."""
    kind = sniff(_head(path))
    count = (_pdf_page_count(path, settings) if kind is FileKind.PDF
             else _image_page_count(path, settings))
    if count == 0:
        raise EmptyFile("the document has no pages")
    if count > settings.max_pages:
        raise LimitExceeded(f"{count} pages; at most {settings.max_pages} are accepted")
    return DocumentInfo(kind, count)


def _open_pdf(path: Path):
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message or "security" in message:
            raise EncryptedFile("the PDF is password-protected") from exc
        if _pypdf_page_count(path) == 0:  # PDFium refuses page-less documents outright
            raise EmptyFile("the document has no pages") from exc
        raise CorruptFile(f"the PDF cannot be read: {exc}") from exc


def _pypdf_page_count(path: Path) -> int | None:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        return len(PdfReader(str(path)).pages)
    except (PyPdfError, ValueError, OSError, KeyError, TypeError):
        return None


def _pdf_page_count(path: Path, settings: IngestSettings) -> int:
    """Page count of a PDF whose every page can be rasterised within the limits."""
    pdf = _open_pdf(path)
    try:
        count = len(pdf)
        if count <= settings.max_pages:
            scale = settings.dpi / 72
            for index in range(count):
                width, height = pdf.get_page_size(index)
                _check_size(width * scale, height * scale, settings, f"page {index + 1}")
        return count
    finally:
        pdf.close()


@contextlib.contextmanager
def _open_image(path: Path, settings: IngestSettings) -> Iterator[Image.Image]:
    # Pillow's own bomb check warns at MAX_IMAGE_PIXELS; we check sizes ourselves instead.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)
        except Image.DecompressionBombError as exc:
            raise LimitExceeded(f"image too large: {exc}") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise CorruptFile(f"the image cannot be read: {exc}") from exc
        try:
            yield image
        finally:
            image.close()


def _check_size(width: float, height: float, settings: IngestSettings, what: str) -> None:
    if width <= 0 or height <= 0:
        raise CorruptFile(f"{what} has no pixels")
    if width * height > settings.max_pixels or max(width, height) > settings.max_side_pixels:
        raise LimitExceeded(
            f"{what} of {width:.0f}×{height:.0f} pixels; at most {settings.max_pixels} pixels "
            f"and {settings.max_side_pixels} on a side are accepted")


def _check_pixels(image: Image.Image, settings: IngestSettings) -> None:
    _check_size(*image.size, settings, "image")


def _image_page_count(path: Path, settings: IngestSettings) -> int:
    with _open_image(path, settings) as image:
        count = 0
        try:
            for frame in ImageSequence.Iterator(image):
                _check_pixels(frame, settings)
                count += 1
                if count > settings.max_pages:
                    break
            image.seek(0)
            image.load()  # decodes the first page: catches truncated data
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise CorruptFile(f"the image cannot be read: {exc}") from exc
        return count


def plausible_text(text: str, settings: IngestSettings) -> bool:
    """Whether a PDF text layer carries real text rather than nothing or garbage."""
    meaningful = [c for c in text if unicodedata.category(c)[0] in "LN"]
    if len(meaningful) < settings.text_layer_min_chars:
        return False
    replacement = text.count("\ufffd")
    return replacement < 0.05 * len(meaningful)


def iter_pages(path: Path, settings: IngestSettings) -> Iterator[PageSource]:
    kind = sniff(_head(path))
    if kind is FileKind.PDF:
        yield from _pdf_pages(path, settings)
        return
    with _open_image(path, settings) as image:
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            _check_pixels(frame, settings)
            try:
                yield PageSource(number, image=frame.convert("RGB"), dpi=_dpi_of(frame))
            except (OSError, SyntaxError, ValueError) as exc:
                raise CorruptFile(f"page {number} cannot be read: {exc}") from exc


def _dpi_of(image: Image.Image) -> int:
    """The resolution an image declares; scanners that declare none are taken as 300 dpi."""
    declared = image.info.get("dpi")
    try:
        dpi = round(float(declared[0])) if declared else 0
    except (TypeError, ValueError, IndexError):
        dpi = 0
    return dpi if 70 <= dpi <= 1200 else 300


def _pdf_pages(path: Path, settings: IngestSettings) -> Iterator[PageSource]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    pdf = _open_pdf(path)
    try:
        try:
            reader = PdfReader(str(path))
        except (PyPdfError, ValueError, OSError) as exc:
            raise CorruptFile(f"the PDF cannot be read: {exc}") from exc
        for index in range(len(pdf)):
            number = index + 1
            text = ""
            with contextlib.suppress(PyPdfError, ValueError, KeyError, TypeError):
                text = reader.pages[index].extract_text() or ""
            if plausible_text(text, settings):
                yield PageSource(number, text_layer=text)
                continue
            page = pdf[index]
            try:
                width, height = page.get_size()
                scale = settings.dpi / 72
                _check_size(width * scale, height * scale, settings, f"page {number}")
                image = page.render(scale=scale, grayscale=False).to_pil()
            finally:
                page.close()
            yield PageSource(number, image=image.convert("RGB"), dpi=settings.dpi)
    finally:
        pdf.close()
