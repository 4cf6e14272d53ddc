"""Settings sub-model of the ingest package (``ARCHIVE_INGEST__*``)."""

from typing import Literal

from pydantic import BaseModel


class IngestSettings(BaseModel):
    ocr_engine: Literal["tesseract"] = "tesseract"
    ocr_languages: str = "chi_sim+eng"
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
