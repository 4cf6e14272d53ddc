"""Turn a stored original into the text of each page.

Public surface: :class:`PageText`, :func:`extract_pages`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.document import iter_pages
from ingest.ocr import OcrEngine, OcrLine, make_engine, tidy_cjk_text
from ingest.preprocess import prepare_for_ocr
from ingest.settings import IngestSettings


@dataclass(frozen=True)
class PageLayout:
    """Where the OCR'd lines sit: boxes are pixels of the page image (at ``dpi``) after
    turning it upright by ``orientation`` degrees (0/90/180/270, counter-clockwise) and
    straightening it by ``skew`` degrees (counter-clockwise, same canvas size), as
    :func:`ingest.preprocess.straighten` does."""

    size: tuple[int, int]
    dpi: int
    orientation: int
    skew: float
    lines: tuple[OcrLine, ...]

    def to_dict(self) -> dict:
        return {"size": list(self.size), "dpi": self.dpi, "orientation": self.orientation,
                "skew": self.skew,
                "lines": [{"text": line.text, "box": list(line.box),
                           "confidence": line.confidence} for line in self.lines]}

    @classmethod
    def from_dict(cls, values: dict) -> PageLayout:
        return cls(tuple(values["size"]), values["dpi"], values["orientation"], values["skew"],
                   tuple(OcrLine(line["text"], tuple(line["box"]), line["confidence"])
                         for line in values["lines"]))


@dataclass(frozen=True)
class PageText:
    number: int
    text: str
    source: str  # "text-layer" or the OCR engine's name
    confidence: float | None = None
    layout: PageLayout | None = None  # OCR'd pages only

    def to_dict(self) -> dict:
        return {"number": self.number, "text": self.text, "source": self.source,
                "confidence": self.confidence,
                "layout": self.layout.to_dict() if self.layout else None}

    @classmethod
    def from_dict(cls, values: dict) -> PageText:
        layout = values.get("layout")
        return cls(values["number"], values["text"], values["source"], values["confidence"],
                   PageLayout.from_dict(layout) if layout else None)


def extract_pages(
    path: Path,
    settings: IngestSettings,
    *,
    page_count: int,
    engine: OcrEngine | None = None,
    on_page: Callable[[int, int], None] | None = None,
) -> list[PageText]:
    """Text of every page, from its text layer where plausible, else by OCR.

    ``on_page(done, total)`` is called after each page, for progress reporting.
    """
    engine = engine or make_engine(settings)
    pages: list[PageText] = []
    for source in iter_pages(path, settings):
        if source.text_layer is not None:
            pages.append(PageText(source.number, tidy_cjk_text(source.text_layer), "text-layer"))
        else:
            assert source.image is not None
            prepared = prepare_for_ocr(source.image)
            source.image.close()
            result = engine.recognise(prepared.image, dpi=source.dpi)
            layout = PageLayout(prepared.image.size, source.dpi, prepared.orientation,
                                prepared.skew_degrees, result.lines)
            pages.append(PageText(source.number, result.text, engine.name, result.confidence,
                                  layout))
            _return_freed_memory()
        if on_page:
            on_page(len(pages), page_count)
    return pages


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None


def _return_freed_memory() -> None:
    """Give the memory a page's buffers held back to the system.

    An OCR'd page allocates and frees a few hundred MB (the 300-dpi page, its grey and
    straightened copies, the detector's tensors). glibc keeps much of it in fragmented
    arenas, so a worker's resident size crept up page by page (465 → 542 MB over eight
    pages, measured); trimming after each page holds it near the models' ~260 MB for about a
    millisecond a page.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
