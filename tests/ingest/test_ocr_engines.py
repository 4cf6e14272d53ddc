"""OCR engines reading rendered degraded scans whose text is known (archive.corpus).

Character error rate (CER) as benchmarks/ocr_quality.py measures it: edit distance between
the ground truth and what was read, after NFKC normalisation and with whitespace removed, over
the length of the truth.
"""

from __future__ import annotations

import sys

import pytest
from PIL import Image

import ingest.ocr
from archive.corpus import Degradation, make_customers, make_documents, render_page
from benchmarks.ocr_quality import cer
from ingest import IngestSettings, OcrUnavailable
from ingest.ocr import (
    OcrEngine,
    OcrLine,
    RapidOcrEngine,
    TesseractEngine,
    _join_rows,
    make_engine,
)
from ingest.preprocess import prepare_for_ocr

# benchmarks/ocr_quality.py measured 0.03 % for PP-OCRv4 and 4.5 % for tesseract over the
# generated scans (pooled); the bounds leave room for an unlucky page.
CER_BOUND = {"rapidocr": 0.01, "tesseract": 0.15}


@pytest.fixture(scope="module")
def sealed_form() -> tuple[str, Image.Image]:
    """The last page of a contract, scanned crooked, grainy and soft, with its seal."""
    doc = make_documents(make_customers(1, seed=3), seed=3)[0]
    page = render_page(doc.pages[-1], page_number=len(doc.pages), page_count=len(doc.pages),
                       degradation=Degradation(skew_degrees=-1.7, noise=2.5, blur=0.6,
                                               jpeg_quality=70))
    return doc.pages[-1], page


@pytest.fixture(scope="module")
def engines() -> dict[str, OcrEngine]:
    return {name: make_engine(IngestSettings(ocr_engine=name))
            for name in ("rapidocr", "tesseract")}


@pytest.fixture(scope="module")
def reads(engines, sealed_form):
    """What each engine reads on the prepared page, with the page it read."""
    image = prepare_for_ocr(sealed_form[1]).image
    return {name: (engine.recognise(image, dpi=300), image) for name, engine in engines.items()}


@pytest.mark.ocr
@pytest.mark.parametrize("name", ["rapidocr", "tesseract"])
def test_engine_reads_a_degraded_scan(reads, sealed_form, name) -> None:
    result, image = reads[name]
    assert cer(sealed_form[0], result.text) < CER_BOUND[name]
    assert result.size == image.size
    confidences = [line.confidence for line in result.lines]
    assert all(c is not None and 0 <= c <= 100 for c in confidences)
    assert result.confidence > 70


@pytest.mark.ocr
@pytest.mark.parametrize("name", ["rapidocr", "tesseract"])
def test_line_boxes_enclose_their_text(engines, reads, name) -> None:
    """GIVEN the lines an engine read on a page WHEN the box of each of the longest lines is
    cut out of the page and read again THEN the cut-out reads as that line: the box holds the
    whole line and nothing of its neighbours. PP-OCR reads the cut-outs (tesseract misreads
    a lone line badly), so a tesseract line may differ from it by tesseract's own errors."""
    result, image = reads[name]
    longest = sorted(result.lines, key=lambda line: -len(line.text))[:4]
    for line in longest:
        left, top, right, bottom = line.box
        assert 0 <= left < right <= image.width and 0 <= top < bottom <= image.height
        margin = (bottom - top) // 3  # a little paper around the ink, as on a page
        crop = image.crop((left - margin, top - margin, right + margin, bottom + margin))
        again = engines["rapidocr"].recognise(crop, dpi=300).text
        assert cer(line.text, again) < max(0.05, CER_BOUND[name]), (line.text, again)


@pytest.mark.ocr
@pytest.mark.parametrize("name", ["rapidocr", "tesseract"])
def test_line_boxes_do_not_overlap(reads, name) -> None:
    """The access copy lays each line's text over its box: boxes that overlap would make a
    search hit or a selection take in part of the neighbouring line."""
    boxes = [line.box for line in reads[name][0].lines]
    for i, (left, top, right, bottom) in enumerate(boxes):
        for other in boxes[i + 1:]:
            assert not (left < other[2] and other[0] < right
                        and top < other[3] and other[1] < bottom), ((left, top, right, bottom),
                                                                    other)


def test_rows_are_joined_in_reading_order() -> None:
    """GIVEN fragments of a form in any order, a label and its value on one printed line
    with slightly different tops WHEN joined THEN lines run top to bottom, fragments of a
    line left to right, Chinese without spaces, Latin words apart."""
    fragments = [
        OcrLine("宁波天成电子有限公司", (600, 205, 1400, 262), 90.0),
        OcrLine("户号：", (250, 100, 400, 150), 100.0),
        OcrLine("250", (600, 300, 700, 352), 80.0),
        OcrLine("户名：", (250, 200, 400, 250), 100.0),
        OcrLine("3302247593", (600, 98, 900, 148), 98.0),
        OcrLine("kVA", (720, 302, 800, 350), 60.0),
    ]
    lines = _join_rows(fragments)
    assert [line.text for line in lines] == ["户号：3302247593", "户名：宁波天成电子有限公司",
                                             "250 kVA"]
    assert lines[1].box == (250, 200, 1400, 262)
    assert lines[2].confidence == pytest.approx((3 * 80 + 3 * 60) / 6)


def test_settings_pick_the_engine(monkeypatch) -> None:
    from archive.settings import get_settings

    assert isinstance(make_engine(IngestSettings()), RapidOcrEngine)
    monkeypatch.setenv("ARCHIVE_INGEST__OCR_ENGINE", "tesseract")
    assert isinstance(make_engine(get_settings().ingest), TesseractEngine)


def test_rapidocr_missing_is_unavailable(monkeypatch) -> None:
    """GIVEN rapidocr-onnxruntime cannot be imported WHEN an engine is made THEN that still
    works (the models load on first use) AND reading a page raises the retryable
    OcrUnavailable."""
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)
    ingest.ocr._ppocr.cache_clear()  # forget the models other tests loaded
    engine = RapidOcrEngine(IngestSettings())
    with pytest.raises(OcrUnavailable) as raised:
        engine.recognise(Image.new("L", (200, 100), 255))
    assert raised.value.retryable


def test_tesseract_missing_is_unavailable(monkeypatch) -> None:
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    with pytest.raises(OcrUnavailable):
        TesseractEngine(IngestSettings()).recognise(Image.new("L", (200, 100), 255))


def test_blank_page_reads_as_nothing(engines) -> None:
    result = engines["rapidocr"].recognise(Image.new("L", (2480, 3508), 244))
    assert result.lines == () and result.text == "" and result.confidence is None
