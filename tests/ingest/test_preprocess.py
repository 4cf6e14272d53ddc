"""Page clean-up before OCR: orientation, skew and seal removal, on rendered forms.

The tests marked ``ocr`` read each page with PP-OCR (the default engine), once as prepared
and once with the step under test left out, to show the step is what makes the page read.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

import ingest.preprocess
from archive.corpus import Degradation, make_customers, make_documents, render_page
from benchmarks.ocr_quality import cer
from ingest import IngestSettings
from ingest.ocr import RapidOcrEngine
from ingest.preprocess import estimate_skew, prepare_for_ocr, straighten


@pytest.fixture(scope="module")
def page_text() -> str:
    return make_documents(make_customers(1, seed=3), seed=3)[0].pages[0]


@pytest.fixture(scope="module")
def engine() -> RapidOcrEngine:
    return RapidOcrEngine(IngestSettings())


@pytest.mark.parametrize("skew", [-2.7, -1.2, 0.0, 0.8, 2.9])
def test_skew_is_measured_and_undone(page_text, skew) -> None:
    page = render_page(page_text, degradation=Degradation(skew_degrees=skew, noise=5.0,
                                                          seal=True, form_lines=True))
    prepared = prepare_for_ocr(page)
    assert prepared.skew_degrees == pytest.approx(-skew, abs=0.25)
    assert estimate_skew(prepared.image) == pytest.approx(0.0, abs=0.25)


@pytest.mark.parametrize("turn", [0, 90, 180, 270])
def test_orientation_is_detected_and_undone(page_text, turn) -> None:
    """GIVEN a crooked scan fed in turned by a quarter turn WHEN prepared THEN the turn is
    found, and undoing it gives exactly the image prepared from the upright scan."""
    page = render_page(page_text, degradation=Degradation(skew_degrees=1.4, noise=3.0,
                                                          jpeg_quality=75))
    upright = prepare_for_ocr(page)
    prepared = prepare_for_ocr(page.rotate(turn, expand=True))
    assert prepared.orientation == (-turn) % 360
    assert prepared.skew_degrees == upright.skew_degrees
    assert np.array_equal(np.asarray(prepared.image), np.asarray(upright.image))


def test_straighten_repeats_the_preparation_on_the_colour_page(page_text) -> None:
    """The access copy turns the colour scan with the recorded geometry: its text must land
    where OCR read it, i.e. where it is on the prepared page."""
    page = render_page(page_text, degradation=Degradation(skew_degrees=-2.0, seal=False))
    scanned = page.rotate(270, expand=True)
    prepared = prepare_for_ocr(scanned)
    colour = straighten(scanned, prepared.orientation, prepared.skew_degrees, (255, 255, 255))
    ink = np.asarray(prepared.image) < 128
    assert colour.size == prepared.image.size
    assert np.asarray(colour.convert("L"))[ink].mean() < 128


def test_red_seal_is_dropped_and_black_text_kept(page_text) -> None:
    page = render_page(page_text, degradation=Degradation(seal=True, form_lines=False))
    rgb = np.asarray(page, dtype=np.int16)
    red = (rgb[..., 0] > 150) & (rgb[..., 1] < 110) & (rgb[..., 2] < 110)
    black = rgb.max(axis=2) < 60
    assert red.sum() > 1000 and black.sum() > 1000  # the page has both inks
    gray = np.asarray(prepare_for_ocr(page).image)
    paper = np.median(gray)
    assert gray[red].mean() > paper - 10  # seal ink is now paper
    assert gray[black].mean() < 80  # text stays dark


def test_blank_page_is_left_alone() -> None:
    page = render_page("", degradation=Degradation(seal=False, form_lines=False))
    prepared = prepare_for_ocr(page)
    assert (prepared.skew_degrees, prepared.orientation) == (0.0, 0)


def test_a_page_with_one_line_is_not_turned() -> None:
    """One line (here a page footer) is too little evidence to turn a page by: a stray mark
    could outvote it. The page is left as scanned."""
    page = render_page("第 2 页 共 3 页", page_number=2, page_count=3,
                       degradation=Degradation(seal=False))
    assert prepare_for_ocr(page.rotate(180)).orientation == 0


def test_orientation_failure_leaves_the_page_as_scanned(page_text, monkeypatch, caplog) -> None:
    def broken():
        raise RuntimeError("model file damaged")

    monkeypatch.setattr(ingest.preprocess, "ppocr_models", broken)
    page = render_page(page_text, degradation=Degradation(seal=False))
    with caplog.at_level(logging.WARNING, logger="ingest.preprocess"):
        assert prepare_for_ocr(page.rotate(180)).orientation == 0
    assert "orientation detection failed" in caplog.text


# ----------------------------------------------------------------------------- read by OCR

@pytest.mark.ocr
@pytest.mark.parametrize("turn", [90, 180, 270])
def test_a_turned_page_reads_only_when_turned_back(page_text, engine, turn, monkeypatch
                                                    ) -> None:
    page = render_page(page_text, degradation=Degradation(skew_degrees=1.0, noise=3.0,
                                                          jpeg_quality=75))
    scanned = page.rotate(turn, expand=True)
    assert cer(page_text, engine.recognise(prepare_for_ocr(scanned).image).text) < 0.01
    monkeypatch.setattr(ingest.preprocess, "detect_orientation", lambda gray: 0)
    assert cer(page_text, engine.recognise(prepare_for_ocr(scanned).image).text) > 0.5


@pytest.mark.ocr
def test_a_skewed_page_reads_only_when_straightened(page_text, engine, monkeypatch) -> None:
    page = render_page(page_text, degradation=Degradation(skew_degrees=-4.0, noise=2.0,
                                                          blur=0.5, jpeg_quality=75))
    assert cer(page_text, engine.recognise(prepare_for_ocr(page).image).text) < 0.01
    monkeypatch.setattr(ingest.preprocess, "estimate_skew", lambda gray: 0.0)
    assert cer(page_text, engine.recognise(prepare_for_ocr(page).image).text) > 0.05


@pytest.mark.ocr
def test_a_sealed_page_reads_without_the_seal(engine) -> None:
    """GIVEN a signed page under a red 业务专用章 seal WHEN read as prepared THEN the text
    is all there and nothing of the seal; read in plain grey, PP-OCR reads the seal too."""
    doc = make_documents(make_customers(1, seed=3), seed=3)[0]
    text = doc.pages[-1]
    page = render_page(text, page_number=len(doc.pages), page_count=len(doc.pages),
                       degradation=Degradation(noise=2.0, blur=0.5, jpeg_quality=75))
    read = engine.recognise(prepare_for_ocr(page).image).text
    assert cer(text, read) < 0.01 and "专用章" not in read
    assert "专用章" in engine.recognise(page.convert("L")).text
