"""OCR engines behind one small protocol.

Two engines: :class:`TesseractEngine` (tesseract 5, ``chi_sim+eng``) and
:class:`RapidOcrEngine` (PP-OCRv4 through RapidOCR on ONNX Runtime), the default: on the
generated degraded scans it got 0.03 % of the characters wrong, tesseract 4.5 % after the same
clean-up and 14 % without it, and it reads a page in less time (``python -m
benchmarks.ocr_quality`` measures them side by side).

Public surface: :class:`OcrEngine`, :class:`OcrResult`, :class:`OcrLine`,
:class:`TesseractEngine`, :class:`RapidOcrEngine`, :func:`make_engine`, :func:`ppocr_models`,
:func:`tidy_cjk_text`.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np
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


_loading = threading.Lock()


@functools.cache
def _ppocr(threads: int):
    from rapidocr_onnxruntime import RapidOCR

    # The detector gets copies already made small (960 px long at most, PaddleOCR's default)
    # and, with the limit type "max", takes them as they are. RapidOCR's default ("min",
    # 736 px) enlarges anything narrower: a line cut out of a page, 960 × 72, to 9800 × 736.
    # Lines are read one at a time: in batches (RapidOCR's default is 6) every line is padded
    # to the widest of its batch, which on the generated forms made recognition 35 % slower
    # and its peak memory 10-20 MB higher, for the same text.
    return (RapidOCR(intra_op_num_threads=threads or -1, det_limit_type="max", rec_batch_num=1),
            threading.Lock())


def ppocr_models(threads: int = 1):
    """The PP-OCRv4 models through RapidOCR (detector, direction classifier, recogniser),
    loaded once per process and thread count, with the lock their users must hold: RapidOCR
    keeps per-call state on its objects. The reading engine and the orientation detection
    of :mod:`ingest.preprocess` share them. Raises whatever loading raises."""
    with _loading:
        return _ppocr(threads)


class RapidOcrEngine:
    """PP-OCRv4 text detection and recognition through RapidOCR, on the CPU.

    The models ship inside the rapidocr-onnxruntime wheel, so nothing is fetched at run
    time; they are loaded on first use and kept for the process (:func:`ppocr_models`).

    The page is read as PaddleOCR reads it by default, not as RapidOCR's one-call pipeline
    does: lines are found on a copy ``DETECT_SIDE`` px long and read from the page itself.
    RapidOCR's call shrinks a 300-dpi A4 page to 2000 px and does both there; measured on
    the generated scans, a worker then peaked at ~850 MB instead of ~480 MB and a page took
    twice as long, for no fewer errors.
    """

    name = "rapidocr"
    DETECT_SIDE = 960

    def __init__(self, settings: IngestSettings) -> None:
        self.threads = settings.ocr_threads

    def recognise(self, image: Image.Image, *, dpi: int = 300) -> OcrResult:
        import cv2

        page = image if image.mode == "L" else image.convert("L")
        small = page.copy()
        small.thumbnail((self.DETECT_SIDE, self.DETECT_SIDE))
        scale = np.array([page.width / small.width, page.height / small.height], np.float32)
        pixels = np.asarray(page)
        try:
            ocr, lock = ppocr_models(self.threads)
        except Exception as exc:  # missing package, model file or ONNX Runtime
            raise OcrUnavailable(f"RapidOCR cannot be loaded: {exc}") from exc
        with lock:
            try:
                # RapidOCR's parts take BGR; the page is grey
                found, _ = ocr.text_det(cv2.cvtColor(np.asarray(small), cv2.COLOR_GRAY2BGR))
                quads = [quad * scale for quad in found] if found is not None else []
                crops = ocr.get_crop_img_list(pixels, quads)
                read, _ = ocr.text_rec([cv2.cvtColor(c, cv2.COLOR_GRAY2BGR) for c in crops])
            except Exception as exc:  # ONNX Runtime and OpenCV errors alike
                raise OcrUnavailable(f"RapidOCR failed: {exc}") from exc
        # Pages reach the engine upright (ingest.preprocess), so RapidOCR's per-line 180°
        # classifier is not run: it would only cost time and risk flipping a line.
        fragments = [OcrLine(text, _ink_box(pixels, quad), float(score) * 100)
                     for quad, (text, score) in zip(quads, read, strict=True)
                     if text.strip() and score >= ocr.text_score]
        return OcrResult(tuple(_join_rows(fragments)), image.size)


def _ink_box(page: np.ndarray, quad: np.ndarray) -> tuple[int, int, int, int]:
    """The box around the ink of a detected line, in whole pixels of ``page``.

    PP-OCR's quadrilaterals are padded (DB's "unclip") by up to half a line, so the boxes of
    neighbouring lines overlap and a form's rules fall inside them. The box is shrunk to the
    band of inked rows holding the most ink: the text, not a rule or a neighbour's edge
    across a blank gap.
    """
    import cv2

    (left, top), (right, bottom) = np.floor(quad.min(axis=0)), np.ceil(quad.max(axis=0))
    left, top, right, bottom = int(left), int(top), int(right), int(bottom)
    _, ink = cv2.threshold(page[top:bottom, left:right], 0, 1,
                           cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    per_row = ink.sum(axis=1)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], per_row > 0, [0])).astype(np.int8)))
    if not len(edges):
        return left, top, right, bottom
    bands = zip(edges[::2], edges[1::2], strict=True)  # [first row, end) of each inked band
    first, end = max(bands, key=lambda band: per_row[band[0]:band[1]].sum())
    columns = np.flatnonzero(ink[first:end].any(axis=0))
    return (left + int(columns[0]), top + int(first),
            left + int(columns[-1]) + 1, top + int(end))


def _join_rows(fragments: list[OcrLine]) -> list[OcrLine]:
    """Text lines in reading order, from PP-OCR's fragments.

    PP-OCR detects a form's label and its value, or a signature and its date, as separate
    boxes. Fragments whose vertical centre falls within the first fragment of a row join
    that row, left to right, so the page reads as it is printed: top to bottom, one printed
    line a text line.
    """
    rows: list[list[OcrLine]] = []
    for fragment in sorted(fragments, key=lambda f: f.box[1] + f.box[3]):
        centre = (fragment.box[1] + fragment.box[3]) / 2
        if rows and rows[-1][0].box[1] <= centre <= rows[-1][0].box[3]:
            rows[-1].append(fragment)
        else:
            rows.append([fragment])
    lines = []
    for row in rows:
        row.sort(key=lambda f: f.box[0])
        text = tidy_cjk_text(" ".join(f.text for f in row))
        if text:
            lines.append(OcrLine(
                text,
                (min(f.box[0] for f in row), min(f.box[1] for f in row),
                 max(f.box[2] for f in row), max(f.box[3] for f in row)),
                OcrResult(tuple(row)).confidence))
    return lines


def make_engine(settings: IngestSettings) -> OcrEngine:
    if settings.ocr_engine == "tesseract":
        return TesseractEngine(settings)
    return RapidOcrEngine(settings)
