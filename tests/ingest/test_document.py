"""Recognising, checking and splitting files: every kind, every refusal."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from ingest import (
    CorruptFile,
    EmptyFile,
    EncryptedFile,
    FileKind,
    IngestSettings,
    LimitExceeded,
    UnsupportedFileType,
    inspect,
    sniff,
)
from ingest.document import iter_pages, plausible_text
from tests import documents

SETTINGS = IngestSettings()


def write(tmp_path, content: bytes, name: str = "upload"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def image_bytes(fmt: str, frames: int = 1) -> bytes:
    pages = [Image.new("RGB", (300, 200), (255, 255, 255 - i)) for i in range(frames)]
    out = io.BytesIO()
    pages[0].save(out, format=fmt, save_all=frames > 1, append_images=pages[1:])
    return out.getvalue()


@pytest.mark.parametrize(("content", "kind"), [
    (documents.text_pdf(["x"]), FileKind.PDF),
    (b"junk before header\n%PDF-1.4\n", FileKind.PDF),
    (image_bytes("TIFF"), FileKind.TIFF),
    (image_bytes("JPEG"), FileKind.JPEG),
    (image_bytes("PNG"), FileKind.PNG),
])
def test_sniff_by_content(content: bytes, kind: FileKind) -> None:
    assert sniff(content[:1024]) is kind


@pytest.mark.parametrize("content", [b"GIF89a....", b"PK\x03\x04", "户号".encode(), b"\x00" * 8])
def test_sniff_refuses_other_kinds(content: bytes) -> None:
    with pytest.raises(UnsupportedFileType):
        sniff(content)


def test_sniff_empty() -> None:
    with pytest.raises(EmptyFile):
        sniff(b"")


def test_inspect_counts_pages(tmp_path) -> None:
    assert inspect(write(tmp_path, documents.text_pdf(["a", "b", "c"])), SETTINGS).page_count == 3
    assert inspect(write(tmp_path, image_bytes("TIFF", 4)), SETTINGS).page_count == 4
    assert inspect(write(tmp_path, image_bytes("JPEG")), SETTINGS).page_count == 1


@pytest.mark.parametrize(("content", "error"), [
    (documents.encrypted_pdf(), EncryptedFile),
    (documents.truncated_pdf(), CorruptFile),
    (documents.empty_pdf(), EmptyFile),
    (b"%PDF-1.7\n" + b"\x00" * 500, CorruptFile),
    (documents.png_header_claiming(60000, 60000), LimitExceeded),
    (image_bytes("PNG")[:60], CorruptFile),
])
def test_inspect_refuses_broken_and_hostile_files(tmp_path, content, error) -> None:
    with pytest.raises(error):
        inspect(write(tmp_path, content), SETTINGS)


def test_page_limit(tmp_path) -> None:
    pdf = documents.text_pdf([f"第{i}页" for i in range(5)])
    with pytest.raises(LimitExceeded):
        inspect(write(tmp_path, pdf), IngestSettings(max_pages=4))


def test_text_layer_is_taken_and_scans_become_images(tmp_path) -> None:
    pdf = documents.text_pdf(["供用电合同 第一条 供电方式", ""])
    pages = list(iter_pages(write(tmp_path, pdf), SETTINGS))
    assert pages[0].text_layer is not None and "供用电合同" in pages[0].text_layer
    assert pages[1].text_layer is None and pages[1].image is not None
    # An A4 page (595 × 842 pt) rasterised at 300 dpi
    width, height = pages[1].image.size
    assert abs(width - 2480) <= 1 and abs(height - 3508) <= 1


def test_multi_page_tiff_yields_each_frame(tmp_path) -> None:
    pages = list(iter_pages(write(tmp_path, image_bytes("TIFF", 3)), SETTINGS))
    assert [p.number for p in pages] == [1, 2, 3]
    assert all(p.image is not None and p.image.mode == "RGB" for p in pages)


def test_plausible_text() -> None:
    assert plausible_text("供用电合同第一条供电方式", SETTINGS)
    assert not plausible_text("  \n ", SETTINGS)
    assert not plausible_text("\ufffd" * 40 + "abcdefghijk", SETTINGS)
