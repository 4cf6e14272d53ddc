"""Settings sub-model of the ingest package (``ARCHIVE_INGEST__*``)."""

from typing import Literal

from pydantic import BaseModel


class IngestSettings(BaseModel):
    # PP-OCRv4 (RapidOCR) misread 0.03 % of the characters of the generated Chinese scans,
    # tesseract 4.5 %, and is faster; benchmarks/ocr_quality.py measures both.
    ocr_engine: Literal["tesseract", "rapidocr"] = "rapidocr"
    ocr_languages: str = "chi_sim+eng"  # tesseract's; PP-OCRv4's model reads Chinese and English
    # Threads one page's RapidOCR may use; 0: all cores. Workers run one per core by default:
    # measured on 2 cores, 2 workers read 42 pages/min with 1 thread each, 32 with 2 threads;
    # a single worker reads 38 with 2 threads, 26 with 1.
    ocr_threads: int = 1
    ocr_timeout_seconds: int = 180
    dpi: int = 300
    max_pages: int = 1000
    # Largest page raster accepted, in pixels: A3 at 600 dpi is about 70 Mpx.
    max_pixels: int = 100_000_000
    # Longest side of a page, in pixels (A0 at 600 dpi is 28,000): a 100,000 × 10 "page"
    # is no scan.
    max_side_pixels: int = 30_000
    # A PDF page whose text layer has fewer meaningful characters is treated as scanned.
    text_layer_min_chars: int = 4
