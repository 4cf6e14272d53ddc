"""OCR engines behind one small protocol.

Public surface: :class:`OcrEngine`, :class:`OcrResult`, :class:`OcrLine`,
:class:`TesseractEngine`, :func:`make_engine`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from ingest.errors import OcrUnavailable
from ingest.settings import IngestSettings

_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
# Tesseract separates Chinese characters with spaces; they are not in the document.
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}]) +|(?: )+(?=[{_CJK}])")


def tidy_cjk_text(text: str) -> str:
    lines = (_SPACE_NEAR_CJK.sub("", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True)
class OcrLine:
    """One line of text as read, with where it sits on the image that was read."""

    text: str
    box: tuple[int, int, int, int]  # left, top, right, bottom, in pixels of that image
    confidence: float | None = None  # 0–100, None when unknown


@dataclass(frozen=True)
class OcrResult:
    lines: tuple[OcrLine, ...]
    size: tuple[int, int] = (0, 0)  # width, height of the image the boxes refer to

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def confidence(self) -> float | None:
        """Mean line confidence 0–100, weighted by characters; None when unknown."""
        known = [(line.confidence, len(line.text)) for line in self.lines
                 if line.confidence is not None and line.text]
        total = sum(n for _, n in known)
        return sum(c * n for c, n in known) / total if total else None


class OcrEngine(Protocol):
    """Reads the text of one page image.

    MUST return the page's text in reading order, lines separated by newlines, with no
    spaces between Chinese characters; MUST raise OcrUnavailable when the engine is
    missing or fails, so the job can be retried.
    """

    name: str

    def recognise(self, image: Image.Image, *, dpi: int = 300) -> OcrResult: ...


class TesseractEngine:
    name = "tesseract"

    def __init__(self, settings: IngestSettings) -> None:
        self.languages = settings.ocr_languages
        self.timeout = settings.ocr_timeout_seconds

    def recognise(self, image: Image.Image, *, dpi: int = 300) -> OcrResult:
        import pytesseract

        try:
            data = pytesseract.image_to_data(
                image, lang=self.languages, config=f"--psm 3 --dpi {int(dpi)}",
                output_type=pytesseract.Output.DICT, timeout=self.timeout,
            )
        except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError,
                RuntimeError, OSError) as exc:
            raise OcrUnavailable(f"tesseract failed: {exc}") from exc
        words: dict[tuple[int, int, int], list[int]] = {}
        for i, word in enumerate(data["text"]):
            if word.strip():
                key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
                words.setdefault(key, []).append(i)
        lines = []
        for indexes in words.values():
            text = tidy_cjk_text(" ".join(data["text"][i] for i in indexes))
            if not text:
                continue
            confidences = [float(data["conf"][i]) for i in indexes
                           if float(data["conf"][i]) >= 0]
            lines.append(OcrLine(
                text,
                (min(data["left"][i] for i in indexes), min(data["top"][i] for i in indexes),
                 max(data["left"][i] + data["width"][i] for i in indexes),
                 max(data["top"][i] + data["height"][i] for i in indexes)),
                sum(confidences) / len(confidences) if confidences else None))
        return OcrResult(tuple(lines), image.size)


def make_engine(settings: IngestSettings) -> OcrEngine:
    return TesseractEngine(settings)
