"""OCR engines behind one small protocol.

Public surface: :class:`OcrEngine`, :class:`OcrResult`, :class:`TesseractEngine`,
:func:`make_engine`.
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
class OcrResult:
    text: str
    confidence: float | None  # mean word confidence 0–100, None when unknown


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
        lines: dict[tuple[int, int, int], list[str]] = {}
        confidences: list[float] = []
        for i, word in enumerate(data["text"]):
            if not word.strip():
                continue
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            lines.setdefault(key, []).append(word)
            confidence = float(data["conf"][i])
            if confidence >= 0:
                confidences.append(confidence)
        text = tidy_cjk_text("\n".join(" ".join(words) for words in lines.values()))
        mean = sum(confidences) / len(confidences) if confidences else None
        return OcrResult(text, mean)


def make_engine(settings: IngestSettings) -> OcrEngine:
    return TesseractEngine(settings)
