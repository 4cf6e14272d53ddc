"""OCR quality and speed on the generated degraded corpus, every reader side by side, one run.

    python -m benchmarks.ocr_quality [--pages 12] [--workers N]

The pages are those of generated customer documents (archive.corpus), each scanned as
``Degradation.scanned`` draws it (crooked by up to 3°, grainy, soft, red seal, ruled forms)
and saved once as the scanner's 300-dpi JPEG. Every reader gets those same pixels: this
pipeline (``extract_pages``: ``prepare_for_ocr`` and the engine) and the plain tesseract CLI
read the JPEG; OCRmyPDF reads a PDF holding it unchanged (img2pdf), and its text is taken out
with pdftotext.

- CER: edit distance to the ground truth over its length, after NFKC normalisation and with
  whitespace removed; the median over pages, and in brackets pooled over all characters.
- pages/min: a pool of 1 and of N processes, each with its own engine, models loaded and
  warm before the clock starts: N × 60 s over the median time a page took in ``extract_pages``
  (the median keeps a burst of other load on the machine from skewing it). OCRmyPDF reads
  all pages as one PDF, ``--jobs 1`` and ``--jobs N``: pages over its wall-clock time.
- pipeline / bare engine: per page, ``extract_pages`` on the file over the engine alone on
  the same file (decoded by Pillow, read by ``engine.recognise``), in the same worker; the
  median of the ratios.
- orientation: ``detect_orientation`` on every page turned by 0, 90, 180 and 270 degrees.
- text layer: born-digital PDFs through ``extract_pages``; the median of five rounds.
- peak RSS: the largest resident size each worker process reached; the median and the
  largest over workers.

The OCRmyPDF rows need ``scripts/bench-deps.sh``; without it they say so.
"""

from __future__ import annotations

import argparse
import functools
import importlib.metadata
import importlib.util
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image
from rapidfuzz.distance import Levenshtein

from archive.corpus import (
    Degradation,
    make_customers,
    make_documents,
    render_document,
    write_document,
)
from ingest import IngestSettings, extract_pages
from ingest.ocr import OcrEngine, make_engine
from ingest.preprocess import detect_orientation

LANGUAGES = "chi_sim+eng"
SEED = 2026


@dataclass(frozen=True)
class Page:
    path: Path  # the scanner's JPEG
    truth: str


@dataclass(frozen=True)
class Reading:
    text: str
    seconds: float  # in extract_pages, file to text
    bare_seconds: float | None  # the file decoded and read by the engine alone
    peak_rss_mb: float
    pid: int


def normalise(text: str) -> str:
    """NFKC (full-width ：（） become ASCII), whitespace removed: engines differ in both."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def cer(truth: str, read: str) -> float:
    """Character error rate of ``read`` against ``truth``; the tests measure with it too."""
    return Levenshtein.distance(normalise(truth), normalise(read)) / len(normalise(truth))


def pooled_cer(truths: list[str], reads: list[str]) -> float:
    errors = sum(Levenshtein.distance(normalise(t), normalise(r))
                 for t, r in zip(truths, reads, strict=True))
    return errors / sum(len(normalise(t)) for t in truths)


def scan_pages(folder: Path, count: int) -> list[Page]:
    """``count`` pages of generated documents, each saved as its scanner's JPEG."""
    pages: list[Page] = []
    customers = make_customers(count, seed=SEED)
    for doc in make_documents(customers, seed=SEED):
        rng = random.Random(f"{SEED}:{doc.customer.account}:{doc.doc_type}")  # noqa: S311
        degradation = Degradation.scanned(rng)
        # JPEG-compressed once, when saved, as a scanner does
        images = render_document(doc, degradation=replace(degradation, jpeg_quality=None),
                                 seed=SEED)
        for truth, image in zip(doc.pages, images, strict=True):
            path = folder / f"page-{len(pages):03d}.jpg"
            image.save(path, "JPEG", quality=degradation.jpeg_quality, dpi=(300, 300))
            pages.append(Page(path, truth))
            if len(pages) == count:
                return pages
    return pages


# ----------------------------------------------------------------------------- worker processes

_engine: OcrEngine
_settings: IngestSettings


def _start_worker(engine_name: str, warm_up: Path) -> None:
    """Build the engine and read one page, so models are loaded and warm before timing."""
    global _engine, _settings
    _settings = IngestSettings(ocr_engine=engine_name)
    _engine = make_engine(_settings)
    extract_pages(warm_up, _settings, page_count=1, engine=_engine)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _read(path: Path, *, bare: bool) -> Reading:
    started = time.perf_counter()
    [page] = extract_pages(path, _settings, page_count=1, engine=_engine)
    seconds = time.perf_counter() - started
    bare_seconds = None
    if bare:
        started = time.perf_counter()
        with Image.open(path) as scan:
            _engine.recognise(scan.convert("RGB"), dpi=300)
        bare_seconds = time.perf_counter() - started
    return Reading(page.text, seconds, bare_seconds, _peak_rss_mb(), os.getpid())


def read_in_pool(engine_name: str, pages: list[Page], workers: int, *, bare: bool = False
                 ) -> list[Reading]:
    """Every page read by a pool of ``workers`` processes."""
    context = multiprocessing.get_context("spawn")  # as the archive's own worker pool
    with context.Pool(workers, initializer=_start_worker,
                      initargs=(engine_name, pages[0].path)) as pool:
        return pool.map(functools.partial(_read, bare=bare), [p.path for p in pages],
                        chunksize=1)


def pages_per_minute(readings: list[Reading], workers: int) -> str:
    return f"{workers * 60 / statistics.median(r.seconds for r in readings):.1f}"


def peak_rss_mb(readings: list[Reading]) -> list[float]:
    """The peak resident size of each worker process."""
    peaks: dict[int, float] = {}
    for reading in readings:
        peaks[reading.pid] = max(peaks.get(reading.pid, 0.0), reading.peak_rss_mb)
    return list(peaks.values())


# ----------------------------------------------------------------------------- other readers

def tesseract_cli(pages: list[Page], workers: int) -> list[str]:
    """Plain ``tesseract IMAGE stdout -l chi_sim+eng --dpi 300``, ``workers`` at a time, each
    on one thread as OCRmyPDF runs it with several jobs."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def run(page: Page) -> str:
        return subprocess.run(  # noqa: S603 - fixed command, our own file
            ["tesseract", str(page.path), "stdout", "-l", LANGUAGES, "--dpi", "300"],  # noqa: S607
            capture_output=True, text=True, check=True, env=env).stdout

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(run, pages))


def run_ocrmypdf(pages: list[Page], folder: Path, jobs: int) -> tuple[list[str], float]:
    """OCRmyPDF on all pages as one PDF, with ``--deskew`` as the pipeline straightens too:
    the text of each page and the wall time."""
    import img2pdf

    scan, searchable = folder / "scan.pdf", folder / f"ocrmypdf-{jobs}.pdf"
    scan.write_bytes(img2pdf.convert([str(p.path) for p in pages]))
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - fixed command, our own files
        [sys.executable, "-m", "ocrmypdf", "--quiet", "-l", LANGUAGES,
         "--output-type", "pdf", "--deskew", "--jobs", str(jobs), str(scan), str(searchable)],
        check=True)
    seconds = time.perf_counter() - started
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(searchable), "-"],  # noqa: S603,S607
                          capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:len(pages)], seconds


def orientation_check(pages: list[Page]) -> tuple[int, int, float]:
    """Pages turned by each quarter turn: how many came back upright, of how many, and the
    median seconds ``detect_orientation`` took."""
    right, seconds = 0, []
    for page in pages:
        with Image.open(page.path) as scan:
            gray = scan.convert("L")
        for turn in (0, 90, 180, 270):
            turned = gray.rotate(turn, expand=True)
            started = time.perf_counter()
            found = detect_orientation(turned)
            seconds.append(time.perf_counter() - started)
            right += (found + turn) % 360 == 0
    return right, 4 * len(pages), statistics.median(seconds)


def text_layer_pages_per_second(folder: Path, documents: int = 20, rounds: int = 5) -> float:
    settings = IngestSettings()
    docs = make_documents(make_customers(documents, seed=SEED), seed=SEED)
    files = [(write_document(doc, folder / f"text-{i:03d}.pdf", "pdf-text"), len(doc.pages))
             for i, doc in enumerate(docs)]
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        for path, count in files:
            extract_pages(path, settings, page_count=count)
        rates.append(sum(n for _, n in files) / (time.perf_counter() - started))
    return statistics.median(rates)


# ----------------------------------------------------------------------------- report

def line(label: str, *cells: str) -> None:
    print(f"  {label:<44}" + "".join(f"{cell:>13}" for cell in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=12)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes for the parallel rows (default: one per core)")
    args = parser.parse_args()
    workers = args.workers
    default = IngestSettings().ocr_engine
    other = "tesseract" if default == "rapidocr" else "rapidocr"
    has_ocrmypdf = shutil.which("gs") and importlib.util.find_spec("ocrmypdf")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pages = scan_pages(folder, args.pages)
        alone = read_in_pool(default, pages, 1, bare=True)
        pooled = read_in_pool(default, pages, workers)
        others = read_in_pool(other, pages, workers)
        cli = tesseract_cli(pages, workers)
        if has_ocrmypdf:
            ocrmypdf_one = run_ocrmypdf(pages, folder, 1)
            ocrmypdf_all = run_ocrmypdf(pages, folder, workers)
        right, turned, orientation_seconds = orientation_check(pages)
        text_rate = text_layer_pages_per_second(folder)

    truths = [p.truth for p in pages]

    def quality(label: str, reads: list[str]) -> None:
        per_page = statistics.median(cer(t, r) for t, r in zip(truths, reads, strict=True))
        line(label, f"{per_page:.2%}", f"{pooled_cer(truths, reads):.2%}")

    print(f"{len(pages)} scanned pages of generated documents (300-dpi JPEG), "
          f"{workers} workers on {os.cpu_count()} cores\n")
    line("character error rate, NFKC, no whitespace", "median", "pooled")
    quality(f"pipeline + {default} (default)", [r.text for r in alone])
    quality(f"pipeline + {other}", [r.text for r in others])
    quality(f"tesseract CLI -l {LANGUAGES} --dpi 300", cli)
    if has_ocrmypdf:
        version = importlib.metadata.version("ocrmypdf")
        quality(f"OCRmyPDF {version} --deskew, pdftotext", ocrmypdf_all[0])
    else:
        line("OCRmyPDF: not installed, see scripts/bench-deps.sh")

    print()
    line("pages per minute", "1 worker", f"{workers} workers")
    line(f"pipeline + {default}", pages_per_minute(alone, 1), pages_per_minute(pooled, workers))
    if has_ocrmypdf:
        line("OCRmyPDF --jobs, wall clock", *(f"{60 * len(pages) / seconds:.1f}"
                                             for _, seconds in (ocrmypdf_one, ocrmypdf_all)))

    print()
    line("seconds per page, 1 worker (median)")
    line("pipeline, file to text", f"{statistics.median(r.seconds for r in alone):.2f}")
    line("bare engine, file to text",
         f"{statistics.median(r.bare_seconds for r in alone if r.bare_seconds):.2f}")
    ratio = statistics.median(r.seconds / r.bare_seconds for r in alone if r.bare_seconds)
    line("pipeline / bare engine", f"{ratio:.2f}", "target ≤ 1.3")
    line("orientation detection (in the pipeline)", f"{orientation_seconds:.2f}",
         f"{right}/{turned} right")

    print()
    line("text-layer PDFs, pages per second", f"{text_rate:.0f}", "target ≥ 50")
    peaks = peak_rss_mb(pooled)
    line("peak RSS per worker, MB (median, max)", f"{statistics.median(peaks):.0f}",
         f"{max(peaks):.0f}", "target < 500")


if __name__ == "__main__":
    main()
