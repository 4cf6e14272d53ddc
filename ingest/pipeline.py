"""Turn a stored original into the text of each page.

Public surface: :class:`PageText`, :func:`extract_pages`.
"""

from __future__ import annotations

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
        if on_page:
            on_page(len(pages), page_count)
    return pages
