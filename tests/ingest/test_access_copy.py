"""The searchable access copy: the colour scan with invisible text over each OCR line,
text-layer pages copied as they are.

Most tests build the OCR result by hand: a page image with a dark bar where each line's
text sits, and the line's box, so positions are known exactly and no OCR runs.
"""

from __future__ import annotations

import io
import random
import re
import shutil
import subprocess
import weakref
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader, PdfWriter

from ingest import IngestSettings, write_access_copy
from ingest.ocr import OcrLine
from ingest.pipeline import PageLayout, PageText
from tests import documents

DPI = 100  # the geometry is the same as at 300 dpi, and the tests stay fast
SETTINGS = IngestSettings(dpi=DPI)
A4 = (827, 1169)  # pixels at 100 dpi
LINES = ("供用电合同", "户号：3301234567", "客户名称：杭州市西湖区电力用户 10kV")
SEAL = (560, 820, 700, 960)  # a red disc where a company seal (公章) would be
INK, RED = (40, 40, 40), (200, 30, 40)


# ----------------------------------------------------------------------------- factories

def scan(lines: tuple[str, ...] = LINES, *, size: tuple[int, int] = A4, top: int = 150
         ) -> tuple[Image.Image, tuple[OcrLine, ...]]:
    """An upright colour page: a dark bar where each line is written, a red seal, and the
    OCR lines an engine would report for it."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    ocr = []
    for i, text in enumerate(lines):
        box = (100, top + 60 * i, 100 + 22 * len(text), top + 60 * i + 28)
        draw.rectangle(box, fill=INK)
        ocr.append(OcrLine(text, box, 90.0))
    draw.ellipse(SEAL, fill=RED)
    return image, tuple(ocr)


def ocr_page(number: int, lines: tuple[OcrLine, ...], *, size: tuple[int, int] = A4,
             dpi: int = DPI, orientation: int = 0, skew: float = 0.0) -> PageText:
    return PageText(number, "\n".join(line.text for line in lines), "tesseract", 90.0,
                    PageLayout(size, dpi, orientation, skew, lines))


def save(path: Path, images: list[Image.Image], fmt: str, dpi: int = DPI) -> Path:
    images[0].save(path, fmt, save_all=len(images) > 1, append_images=images[1:],
                   dpi=(dpi, dpi))
    return path


def copy_of(original: Path, pages: list[PageText], settings: IngestSettings = SETTINGS
            ) -> Path:
    target = original.with_name(f"{original.name}.access.pdf")
    write_access_copy(original, pages, settings, target)
    return target


# ----------------------------------------------------------------------------- reading back

def render(pdf: Path, index: int = 0, dpi: int = DPI) -> np.ndarray:
    document = pdfium.PdfDocument(str(pdf))
    try:
        return np.asarray(document[index].render(scale=dpi / 72).to_pil().convert("RGB"))
    finally:
        document.close()


def text_in_box(pdf: Path, index: int, box: tuple[int, int, int, int], dpi: int = DPI) -> str:
    """The text PDFium finds inside a box given in pixels of the page image."""
    document = pdfium.PdfDocument(str(pdf))
    try:
        page = document[index]
        height = page.get_height()
        left, top, right, bottom = (v * 72 / dpi for v in box)
        return page.get_textpage().get_text_bounded(left - 1, height - bottom - 1, right + 1,
                                                    height - top + 1)
    finally:
        document.close()


def page_texts(pdf: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(pdf).pages]


def content(pdf: Path, index: int) -> bytes:
    return PdfReader(pdf).pages[index].get_contents().get_data()


def centre(box: tuple[int, int, int, int]) -> tuple[int, int]:
    return (box[1] + box[3]) // 2, (box[0] + box[2]) // 2  # row, column


def is_red(pixel: np.ndarray) -> bool:
    r, g, b = (int(v) for v in pixel)
    return r > 150 and g < 90 and b < 90


# ----------------------------------------------------------------------------- text layer

def test_each_line_is_extractable_where_it_sits(tmp_path) -> None:
    image, lines = scan()
    pdf = copy_of(save(tmp_path / "page.png", [image], "PNG"), [ocr_page(1, lines)])

    assert page_texts(pdf)[0].splitlines() == list(LINES)
    for line in lines:
        assert text_in_box(pdf, 0, line.box).strip() == line.text
    assert text_in_box(pdf, 0, (100, 600, 500, 700)) == ""  # nothing where no line is


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_pdftotext_reads_each_line_inside_its_box(tmp_path) -> None:
    """GIVEN an access copy WHEN poppler reads it (no poppler-data needed) THEN it finds the
    lines in order, and every word's box lies within its line's box."""
    image, lines = scan()
    pdf = copy_of(save(tmp_path / "page.png", [image], "PNG"), [ocr_page(1, lines)])

    layout = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True,
                            text=True, check=True).stdout
    assert [line.strip() for line in layout.splitlines() if line.strip()] == list(LINES)
    bbox = subprocess.run(["pdftotext", "-bbox", pdf, "-"], capture_output=True, text=True,
                          check=True).stdout
    words = re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                       r"([^<]+)<", bbox)
    assert "".join(w[4] for w in words) == "".join(LINES).replace(" ", "")
    for line in lines:
        left, top, right, bottom = (v * 72 / DPI for v in line.box)
        inside = [w[4] for w in words
                  if float(w[0]) >= left - 2 and float(w[2]) <= right + 2
                  and float(w[1]) >= top - 2 and float(w[3]) <= bottom + 2]
        assert " ".join(inside) == line.text


def test_text_is_invisible(tmp_path) -> None:
    """GIVEN the same scan with and without OCR lines THEN both copies look the same, and
    the text is drawn in render mode 3 (its glyphs are empty too, but a viewer that swaps
    the font must still draw nothing)."""
    image, lines = scan()
    original = save(tmp_path / "page.png", [image], "PNG")
    with_text = copy_of(original, [ocr_page(1, lines)])
    without_text = tmp_path / "bare.pdf"
    write_access_copy(original, [ocr_page(1, ())], SETTINGS, without_text)

    assert b"3 Tr" in content(with_text, 0)
    assert page_texts(without_text) == [""]
    assert np.array_equal(render(with_text), render(without_text))


def test_embedded_font_is_a_valid_truetype(tmp_path) -> None:
    image, lines = scan()
    pdf = copy_of(save(tmp_path / "page.png", [image], "PNG"), [ocr_page(1, lines)])
    font = PdfReader(pdf).pages[0]["/Resources"]["/Font"]["/F0"]
    descendant = font["/DescendantFonts"][0].get_object()
    program = descendant["/FontDescriptor"]["/FontFile2"].get_data()

    assert ImageFont.truetype(io.BytesIO(program), 12).getlength("x") == 12  # FreeType loads it


# ----------------------------------------------------------------------------- page image

def test_page_shows_the_colour_scan_at_its_physical_size(tmp_path) -> None:
    image, lines = scan()
    pdf = copy_of(save(tmp_path / "page.png", [image], "PNG"), [ocr_page(1, lines)])

    assert PdfReader(pdf).pages[0].mediabox[2:] == pytest.approx([827 * 0.72, 1169 * 0.72])
    pixels = render(pdf)
    assert is_red(pixels[centre(SEAL)])  # the seal OCR read past is still red
    assert pixels[centre(lines[0].box)].max() < 90


def test_turned_and_skewed_page_is_straightened_under_its_text(tmp_path) -> None:
    """GIVEN a page scanned sideways and 2° crooked, read by OCR after turning it 90° and
    straightening it 2° WHEN the copy is made THEN its page is upright and straight, and
    the ink of every line lies under that line's text."""
    upright, lines = scan()
    crooked = upright.rotate(-2.0, resample=Image.Resampling.BICUBIC, fillcolor="white")
    sideways = crooked.rotate(-90, expand=True)
    assert sideways.size == (A4[1], A4[0])
    page = ocr_page(1, lines, orientation=90, skew=2.0)
    pdf = copy_of(save(tmp_path / "page.png", [sideways], "PNG"), [page])

    width, height = PdfReader(pdf).pages[0].mediabox[2:]
    assert width < height  # upright again
    pixels = render(pdf)
    assert is_red(pixels[centre(SEAL)])
    for line in lines:
        assert pixels[centre(line.box)].max() < 90
        assert text_in_box(pdf, 0, line.box).strip() == line.text


def test_page_without_layout_keeps_its_image(tmp_path) -> None:
    """A page OCR'd before layouts were kept still gets its image, only without text."""
    image, _ = scan()
    pdf = copy_of(save(tmp_path / "page.png", [image], "PNG"),
                  [PageText(1, "供用电合同", "tesseract")])

    assert page_texts(pdf) == [""]
    assert is_red(render(pdf)[centre(SEAL)])


# ----------------------------------------------------------------------------- kinds of original

def mixed_pdf(path: Path, scanned: Image.Image) -> Path:
    """Three pages: born-digital, scanned (an image only), born-digital."""
    text = PdfReader(io.BytesIO(documents.text_pdf(["第一页 供用电合同正文", "第三页 附件说明"])))
    image_pdf = io.BytesIO()
    scanned.save(image_pdf, "PDF", resolution=float(DPI))
    writer = PdfWriter()
    for page in (text.pages[0], PdfReader(image_pdf).pages[0], text.pages[1]):
        writer.add_page(page)
    writer.write(path)
    return path


def test_mixed_pdf_keeps_text_pages_and_covers_scanned_ones(tmp_path) -> None:
    image, lines = scan()
    original = mixed_pdf(tmp_path / "mixed.pdf", image)
    pages = [PageText(1, "第一页 供用电合同正文", "text-layer"), ocr_page(2, lines),
             PageText(3, "第三页 附件说明", "text-layer")]
    pdf = copy_of(original, pages)

    assert len(PdfReader(pdf).pages) == 3
    for index in (0, 2):  # born-digital pages: the same drawing and the same text
        assert content(pdf, index) == content(original, index)
        assert page_texts(pdf)[index] == page_texts(original)[index]
    scanned = PdfReader(pdf).pages[1]
    assert scanned["/Resources"]["/XObject"]["/Im0"]["/Filter"] == "/DCTDecode"
    assert page_texts(pdf)[1].splitlines() == list(LINES)
    assert is_red(render(pdf, 1)[centre(SEAL)])


def test_multipage_tiff_gives_one_page_per_frame(tmp_path) -> None:
    frames, pages = [], []
    for number in (1, 2, 3):
        image, lines = scan((f"第{number}页", f"户号：330123456{number}"), size=(1000, 1400))
        frames.append(image)
        pages.append(ocr_page(number, lines, size=(1000, 1400), dpi=200))
    pdf = copy_of(save(tmp_path / "pages.tif", frames, "TIFF", dpi=200), pages)

    reader = PdfReader(pdf)
    assert [page.mediabox[2:] for page in reader.pages] == [pytest.approx([360, 504])] * 3
    assert [text.splitlines()[0] for text in page_texts(pdf)] == ["第1页", "第2页", "第3页"]
    assert text_in_box(pdf, 2, pages[2].layout.lines[1].box, dpi=200).strip() == "户号：3301234563"


def test_jpeg_original(tmp_path) -> None:
    image, lines = scan()
    pdf = copy_of(save(tmp_path / "page.jpg", [image], "JPEG"), [ocr_page(1, lines)])

    assert page_texts(pdf)[0].splitlines() == list(LINES)
    assert is_red(render(pdf)[centre(SEAL)])


# ----------------------------------------------------------------------------- size, memory

def test_a4_scan_at_300_dpi_stays_well_under_a_megabyte(tmp_path) -> None:
    """GIVEN a grainy, crooked A4 colour scan at 300 dpi with a seal and 25 OCR lines
    THEN its access copy page is under 700 KB."""
    from archive.corpus import Degradation, make_customers, make_documents, render_page

    text = make_documents(make_customers(1, seed=3), seed=3)[0].pages[0]
    degradation = Degradation(skew_degrees=1.5, noise=3.0, blur=0.5, seal=True)
    page = render_page(text, degradation=degradation, rng=random.Random(3))
    assert page.size == (2480, 3508)
    lines = tuple(OcrLine(line, (250, 300 + 120 * i, 250 + 40 * len(line), 345 + 120 * i))
                  for i, line in enumerate(text.splitlines()[:25]))
    original = save(tmp_path / "page.png", [page], "PNG", dpi=300)
    pdf = copy_of(original, [ocr_page(1, lines, size=page.size, dpi=300, skew=-1.5)])

    assert pdf.stat().st_size < 700_000


def test_pages_are_made_one_at_a_time(tmp_path, monkeypatch) -> None:
    """GIVEN a six-page scan WHEN its copy is made THEN each page image, as read and as
    straightened, is closed or freed before the next page is read: a long scan does not
    pile up in memory."""
    from ingest import access_copy

    made: list[weakref.ref] = []

    def holding_pixels(ref: weakref.ref) -> bool:
        image = ref()
        if image is None:
            return False
        try:
            image.getpixel((0, 0))
        except ValueError:  # "Operation on closed image"
            return False
        return True

    read_pages, straighten = access_copy.iter_pages, access_copy.straighten

    def reading(path, settings):
        for source in read_pages(path, settings):
            assert not any(map(holding_pixels, made))
            made.append(weakref.ref(source.image))
            yield source

    def straightening(image, *args, **kwargs):
        straight = straighten(image, *args, **kwargs)
        made.append(weakref.ref(straight))
        return straight

    frames, pages = [], []
    for number in range(1, 7):
        image, lines = scan((f"第{number}页",))
        frames.append(image)
        pages.append(ocr_page(number, lines, skew=1.0))
    original = save(tmp_path / "pages.tif", frames, "TIFF")
    monkeypatch.setattr(access_copy, "iter_pages", reading)
    monkeypatch.setattr(access_copy, "straighten", straightening)
    pdf = copy_of(original, pages)

    assert len(made) == 12  # six frames read, six straightened
    assert len(PdfReader(pdf).pages) == 6


def test_same_input_gives_the_same_copy(tmp_path) -> None:
    image, lines = scan()
    original = save(tmp_path / "page.png", [image], "PNG")
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    write_access_copy(original, [ocr_page(1, lines, skew=0.7)], SETTINGS, first)
    write_access_copy(original, [ocr_page(1, lines, skew=0.7)], SETTINGS, second)

    assert first.read_bytes() == second.read_bytes()


# ----------------------------------------------------------------------------- failures

@pytest.mark.parametrize("numbers", [[1], [1, 2, 3, 4], [2, 1, 3]])
def test_pages_that_are_not_the_originals_are_refused(tmp_path, numbers) -> None:
    image, lines = scan()
    original = save(tmp_path / "pages.tif", [image] * 3, "TIFF")
    target = tmp_path / "access.pdf"

    with pytest.raises(ValueError, match="do not match"):
        write_access_copy(original, [ocr_page(n, lines) for n in numbers], SETTINGS, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pages.tif"]  # nothing half-written


# ----------------------------------------------------------------------------- with real OCR

@pytest.mark.ocr
def test_ocr_text_lands_on_the_scan(tmp_path) -> None:
    """GIVEN a crooked scan with a seal, read by tesseract WHEN the copy is made THEN it
    carries exactly the text OCR read, each line inside its box."""
    pytesseract = pytest.importorskip("pytesseract")
    if shutil.which("tesseract") is None or "chi_sim" not in pytesseract.get_languages():
        pytest.skip("needs tesseract with chi_sim")
    from archive.corpus import Degradation, make_customers, make_documents, render_page
    from ingest import extract_pages

    text = make_documents(make_customers(1, seed=7), seed=7)[0].pages[0]
    page = render_page(text, degradation=Degradation(skew_degrees=1.2, noise=2.0, seal=True),
                       rng=random.Random(7))
    original = save(tmp_path / "page.png", [page], "PNG", dpi=300)
    settings = IngestSettings()
    pages = extract_pages(original, settings, page_count=1)
    pdf = copy_of(original, pages, settings)

    layout = pages[0].layout
    assert layout is not None and len(layout.lines) > 10
    assert page_texts(pdf)[0].split() == pages[0].text.split()
    for line in layout.lines:
        found = text_in_box(pdf, 0, line.box, dpi=layout.dpi)
        assert found.split() == line.text.split()


# ----------------------------------------------------------------------------- masked copies

def _mask(line: str) -> str:
    from search.personal import find_personal, mask

    return mask(line, find_personal(line))


def test_a_masked_copy_masks_every_line_of_its_text_layer(tmp_path) -> None:
    """GIVEN a scan whose OCR lines hold a phone and an ID number, and a born-digital page
    WHEN the copy is made with a mask THEN no line of the text layer holds the values,
    the text page is drawn as an image, and its personal characters are painted over."""
    lines = ("联系电话：13957106341", "证件号码：330106199001013456", "户号：3301234567")
    image, ocr = scan(lines)
    scanned = save(tmp_path / "scan.tif", [image], "TIFF")
    masked = tmp_path / "masked.pdf"
    write_access_copy(scanned, [ocr_page(1, ocr)], SETTINGS, masked, mask=_mask)
    text = page_texts(masked)[0]
    assert "13957106341" not in text and "139****6341" in text
    assert "330106********3456" in text and "3301234567" in text
    # on the scan, the hidden digits are painted over (placed by the line's box), the
    # label beside them is not
    (left, top, right, bottom) = ocr[0].box
    pixels = render(masked)
    em = (right - left) / (5 + 11 * 0.5)  # 联系电话： then 11 digits
    hidden = pixels[top + 4:bottom - 4, round(left + 7 * em):round(left + 8 * em)]
    label = pixels[top + 4:bottom - 4, left + 5:round(left + 4 * em)]
    assert hidden.mean() < 15 < 25 < label.mean()
    assert render(copy_of(scanned, [ocr_page(1, ocr)]))[
        top + 4:bottom - 4, round(left + 7 * em):round(left + 8 * em)].mean() > 25

    born = tmp_path / "born.pdf"
    born.write_bytes(documents.text_pdf(["证件号码 330106199001013456 窃电"]))
    plain, drawn = tmp_path / "plain.pdf", tmp_path / "drawn.pdf"
    pages = [PageText(1, "证件号码 330106199001013456 窃电", "text-layer")]
    write_access_copy(born, pages, SETTINGS, plain)
    write_access_copy(born, pages, SETTINGS, drawn, mask=_mask)
    assert "330106199001013456" in page_texts(plain)[0]
    layer = page_texts(drawn)[0]
    assert "330106199001013456" not in layer and "330106********3456" in layer
    assert "/Im0" in str(PdfReader(drawn).pages[0]["/Resources"]["/XObject"])
    # where the hidden digits were drawn, the image is painted over
    document = pdfium.PdfDocument(str(born))
    try:
        text_page = document[0].get_textpage()
        full = text_page.get_text_range(0, text_page.count_chars())
        index = full.index("19900101")
        left, bottom, right, top = text_page.get_charbox(index)
        height = document[0].get_height()
    finally:
        document.close()
    scale = DPI / 72
    pixels = render(drawn)[round((height - top) * scale):round((height - bottom) * scale) + 1,
                           round(left * scale):round(right * scale) + 1]
    assert pixels.mean() < 60


def test_a_masked_copy_leaves_out_what_a_pdf_page_only_pictures(tmp_path) -> None:
    """A picture on a born-digital page (a pasted ID card) is not read, so the copy for
    readers without the clearance leaves it out; the plain copy keeps it."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    card = Image.new("RGB", (400, 120), "white")
    ImageDraw.Draw(card).rectangle((10, 10, 390, 110), fill=(20, 20, 20))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(595, 842))
    pdf.setFont("Helvetica", 14)
    pdf.drawString(60, 780, "Customer file, page one of the application")
    pdf.drawImage(ImageReader(card), 100, 500, width=300, height=90)
    pdf.showPage()
    pdf.save()
    born = tmp_path / "card.pdf"
    born.write_bytes(buffer.getvalue())
    pages = [PageText(1, "Customer file, page one of the application", "text-layer")]
    plain, drawn = tmp_path / "plain.pdf", tmp_path / "drawn.pdf"
    write_access_copy(born, pages, SETTINGS, plain)
    write_access_copy(born, pages, SETTINGS, drawn, mask=_mask)
    scale = DPI / 72
    region = (slice(round((842 - 590) * scale) + 4, round((842 - 500) * scale) - 4),
              slice(round(100 * scale) + 4, round(400 * scale) - 4))
    assert render(plain)[region].mean() < 60  # the picture is there …
    assert render(drawn)[region].mean() > 240  # … and left out for the uncleared
    assert "Customer file" in page_texts(drawn)[0]
