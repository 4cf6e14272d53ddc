"""Page clean-up before OCR: skew estimation and seal removal, on rendered forms."""

from __future__ import annotations

import numpy as np
import pytest

from archive.corpus import Degradation, make_customers, make_documents, render_page
from ingest.preprocess import estimate_skew, prepare_for_ocr


@pytest.fixture(scope="module")
def page_text() -> str:
    return make_documents(make_customers(1, seed=3), seed=3)[0].pages[0]


@pytest.mark.parametrize("skew", [-2.7, -1.2, 0.0, 0.8, 2.9])
def test_skew_is_measured_and_undone(page_text, skew) -> None:
    page = render_page(page_text, degradation=Degradation(skew_degrees=skew, noise=5.0,
                                                          seal=True, form_lines=True))
    prepared = prepare_for_ocr(page)
    assert prepared.skew_degrees == pytest.approx(-skew, abs=0.25)
    assert estimate_skew(prepared.image) == pytest.approx(0.0, abs=0.25)


def test_red_seal_is_dropped_and_black_text_kept(page_text) -> None:
    page = render_page(page_text, degradation=Degradation(seal=True, form_lines=False))
    rgb = np.asarray(page, dtype=np.int16)
    red = (rgb[..., 0] > 150) & (rgb[..., 1] < 110) & (rgb[..., 2] < 110)
    black = rgb.max(axis=2) < 60
    assert red.sum() > 1000 and black.sum() > 1000  # the page has both inks
    gray = np.asarray(prepare_for_ocr(page).image)
    assert gray[red].mean() > 170  # seal ink is now near paper
    assert gray[black].mean() < 80  # text stays dark


def test_blank_page_is_left_alone() -> None:
    page = render_page("", degradation=Degradation(seal=False, form_lines=False))
    assert prepare_for_ocr(page).skew_degrees == 0.0
