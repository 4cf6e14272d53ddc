"""The synthetic corpus: deterministic content, valid identifiers, faithful files, OCR-readable."""

from __future__ import annotations

import json
import random
import re
import shutil
import unicodedata
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from archive.corpus import (
    CLEAN,
    DOC_TYPES,
    Degradation,
    FontNotFoundError,
    SampleDocument,
    find_font,
    generate_corpus,
    make_customers,
    make_documents,
    render_document,
    render_page,
    write_document,
)
from archive.corpus import render as render_module

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def documents(seed: int = 5, count: int = 8) -> list[SampleDocument]:
    return make_documents(make_customers(count, seed=seed), seed=seed)


def first_of(doc_type: str, seed: int = 5) -> SampleDocument:
    return next(d for d in documents(seed) if d.doc_type == doc_type)


def display_width(line: str) -> float:
    return sum(0.55 if ord(ch) < 128 else 1.0 for ch in line)


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def test_same_seed_gives_same_text_and_other_seeds_differ() -> None:
    assert documents(seed=5) == documents(seed=5)
    assert make_customers(6, seed=5) == make_customers(6, seed=5)
    assert [d.pages for d in documents(seed=5)] != [d.pages for d in documents(seed=6)]


def test_same_seed_gives_same_pixels() -> None:
    doc = first_of("用电申请书")
    scan = Degradation.scanned(random.Random(3))
    first = render_document(doc, dpi=100, degradation=scan, seed=9)
    again = render_document(doc, dpi=100, degradation=scan, seed=9)
    assert [p.tobytes() for p in first] == [p.tobytes() for p in again]


def test_customers_have_valid_ids_unique_accounts_and_consistent_classes() -> None:
    customers = make_customers(300, seed=1)
    accounts = [c.account for c in customers]
    assert len(set(accounts)) == len(accounts)
    for c in customers:
        assert re.fullmatch(r"\d{10}", c.account)
        assert re.fullmatch(r"1\d{10}", c.phone)
        assert re.fullmatch(r"\d{17}[\dX]", c.id_number)
        total = sum(int(d) * w for d, w in zip(c.id_number[:17], WEIGHTS, strict=True))
        assert c.id_number[17] == "10X98765432"[total % 11], c.id_number
        assert c.customer_class == ("高压" if float(c.voltage[:-2]) >= 10 else "低压")
        assert c.address.startswith("浙江省")
    assert any(c.name.endswith("有限公司") for c in customers)
    assert any(len(c.name) <= 3 for c in customers)


def test_documents_read_like_the_forms_they_are() -> None:
    docs = documents(count=12)
    assert {d.doc_type for d in docs} == set(DOC_TYPES)
    for doc in docs:
        assert doc.category == DOC_TYPES[doc.doc_type]
        first_page = doc.pages[0].split("\n")
        assert first_page[0] == doc.title
        text = "\n".join(doc.pages)
        assert doc.customer.account in text and doc.customer.name in text
        for page in doc.pages:
            lines = page.split("\n")
            assert 15 <= len(lines) <= 30, (doc.title, len(lines))
            assert max(display_width(line) for line in lines) <= 30
    contract = first_of("供用电合同")
    assert len(contract.pages) == 3
    text = "\n".join(contract.pages)
    for phrase in ("供电人", "用电人", "第一条", "供电方式", "计量方式", "电价及电费结算",
                   "违约用电", "窃电", "合同有效期", "自动续签"):
        assert phrase in text, phrase
    assert "申请容量" in first_of("用电申请书").pages[0]
    assert "漏电保护器" in first_of("安全用电检查记录").pages[0]
    assert "互感器变比" in "\n".join(d.pages[0] for d in docs if d.customer.voltage != "0.22kV"
                                      and d.doc_type == "计量装置装拆表工作单")


def test_text_pdf_gives_back_every_line(tmp_path: Path) -> None:
    doc = first_of("供用电合同")
    path = write_document(doc, tmp_path / "contract.pdf", "pdf-text")
    reader = PdfReader(path)
    assert len(reader.pages) == len(doc.pages)
    for page, truth in zip(reader.pages, doc.pages, strict=True):
        extracted = page.extract_text()
        for line in truth.split("\n"):
            assert line in extracted, line


def test_scan_pdf_is_image_only_at_300_dpi(tmp_path: Path) -> None:
    doc = first_of("供用电合同")
    path = write_document(doc, tmp_path / "contract.pdf", "pdf-scan", seed=2)
    reader = PdfReader(path)
    assert len(reader.pages) == 3
    for page in reader.pages:
        assert page.extract_text().strip() == ""
        width_pt, height_pt = float(page.mediabox.width), float(page.mediabox.height)
        assert width_pt == pytest.approx(595.3, abs=1) and height_pt == pytest.approx(841.9, abs=1)
        (image,) = page.images
        assert image.image.width / (width_pt / 72) == pytest.approx(300, abs=1)
    assert path.stat().st_size < 3 * 1.2e6  # JPEG pages, not raw bitmaps


def test_tiff_has_one_frame_per_page(tmp_path: Path) -> None:
    doc = first_of("供用电合同")
    path = write_document(doc, tmp_path / "contract.tif", "tiff", dpi=150, degradation=CLEAN)
    with Image.open(path) as tiff:
        assert tiff.n_frames == 3
        assert tiff.size == (1240, 1754)
        assert tiff.info["compression"] == "jpeg"


def test_single_image_formats_refuse_multi_page_documents(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="one page"):
        write_document(first_of("供用电合同"), tmp_path / "c.jpg", "jpeg")
    path = write_document(first_of("用电申请书"), tmp_path / "a.png", "png", dpi=100)
    with Image.open(path) as image:
        assert image.size == (827, 1169)
    with pytest.raises(ValueError, match="unknown format"):
        write_document(first_of("用电申请书"), tmp_path / "a.bmp", "bmp")


def test_corpus_manifest_matches_the_files(tmp_path: Path) -> None:
    entries = generate_corpus(tmp_path, count=6, seed=4, dpi=100)
    assert json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8")) == entries
    assert len(entries) == 6
    for entry in entries:
        assert (tmp_path / entry["path"]).is_file()
        assert entry["doc_type"] in DOC_TYPES and entry["category"] == DOC_TYPES[entry["doc_type"]]
        assert entry["account"] in "".join(entry["pages"])
        if len(entry["pages"]) > 1:
            assert entry["fmt"] not in {"jpeg", "png"}
    assert {e["fmt"] for e in entries} == {"pdf-scan", "tiff", "jpeg", "pdf-text"}


def test_missing_font_names_the_debian_package(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setattr(render_module, "_FONT_DIRS", (tmp_path,))
    find_font.cache_clear()
    try:
        with pytest.raises(FontNotFoundError, match="fonts-noto-cjk"):
            find_font("serif")
    finally:
        find_font.cache_clear()


@pytest.mark.ocr
def test_tesseract_reads_a_degraded_scan() -> None:
    pytesseract = pytest.importorskip("pytesseract")
    if shutil.which("tesseract") is None or "chi_sim" not in pytesseract.get_languages():
        pytest.skip("needs tesseract with chi_sim")
    doc = first_of("用电申请书", seed=2)
    scan = Degradation.scanned(random.Random(2))
    assert abs(scan.skew_degrees) > 2 and scan.seal and scan.form_lines
    page = render_page(doc.pages[0], degradation=scan, rng=random.Random(2))

    text = pytesseract.image_to_string(page, lang="chi_sim+eng")

    # tesseract spaces out Chinese and writes ASCII forms of full-width punctuation (：（）)
    def normalise(s: str) -> str:
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))

    truth, read = normalise(doc.pages[0]), normalise(text)
    assert doc.customer.account in read
    cer = levenshtein(truth, read) / len(truth)
    assert cer <= 0.2, f"character error rate {cer:.1%}"
