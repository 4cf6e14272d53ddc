"""Throughput of ``archive import`` on this machine: 1 against 2 worker processes, and the
database dispatcher against Dramatiq on Redis, interleaved in one run (medians of rounds).

Each run imports the same generated backlog (scans in PDF, TIFF and JPEG, and born-digital
PDFs; no manifest, so every document is read and classified) into a fresh data folder and
counts the pages read. Prints pages per minute per configuration, the parallel efficiency
(pages/min with 2 ÷ twice that with 1) and the engine's overhead (Dramatiq ÷ database).

    python -m benchmarks.worker_scaling [--count 12] [--rounds 3]

Dramatiq needs a Redis: ``ARCHIVE_TEST_REDIS_URL`` (``eval "$(scripts/services.sh env)"``);
without it only the database dispatcher is measured.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from archive.corpus import generate_corpus


def run_import(backlog: Path, root: Path, *, workers: int, dispatch: str) -> tuple[float, int]:
    """Seconds of one ``archive import`` and the pages it read."""
    data = root / f"var-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")
           or k.startswith("ARCHIVE_TEST_")}
    env.update(ARCHIVE_DATA_DIR=str(data), ARCHIVE_WORKER_PROCESSES=str(workers),
               ARCHIVE_INGEST__OCR_ENGINE="tesseract")
    if dispatch == "dramatiq":
        env.update(ARCHIVE_DISPATCH__BACKEND="dramatiq",
                   ARCHIVE_DISPATCH__REDIS_URL=os.environ["ARCHIVE_TEST_REDIS_URL"],
                   ARCHIVE_DISPATCH__NAMESPACE=f"bench-{uuid.uuid4().hex[:8]}")
    archive = str(Path(sys.executable).with_name("archive"))

    def run(*command: str, stdin: str | None = None) -> None:
        subprocess.run([archive, *command], env=env, input=stdin, text=True, check=True,  # noqa: S603
                       stdout=subprocess.DEVNULL)

    run("migrate")
    run("users", "add", "dangan", "--role", "archivist", "--unit", "root",
        stdin="a-long-password-for-the-bench\n")
    started = time.perf_counter()
    run("import", str(backlog), "--as", "dangan")
    seconds = time.perf_counter() - started
    engine = sa.create_engine(f"sqlite:///{data / 'archive.db'}")
    with engine.connect() as connection:
        pages = connection.execute(sa.text("SELECT SUM(pages_done) FROM jobs")).scalar() or 0
    engine.dispose()
    return seconds, int(pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=12, help="documents in the backlog")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    dispatchers = ["database"] + (["dramatiq"] if os.environ.get("ARCHIVE_TEST_REDIS_URL")
                                  else [])
    configs = [(d, w) for d in dispatchers for w in (1, 2)]
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        backlog = root / "backlog"
        entries = generate_corpus(backlog, count=args.count, seed=2026)
        (backlog / "manifest.json").unlink()  # classified by reading, as a backlog arrives
        print(f"backlog: {len(entries)} documents")
        rates: dict[tuple[str, int], list[float]] = {c: [] for c in configs}
        for round_ in range(args.rounds):
            for config in configs:  # interleaved: the machine's noise falls on all alike
                seconds, pages = run_import(backlog, root, workers=config[1],
                                            dispatch=config[0])
                rates[config].append(pages / seconds * 60)
                print(f"round {round_ + 1} {config[0]:8} {config[1]} worker(s): {pages} pages "
                      f"in {seconds:.1f} s = {pages / seconds * 60:.1f} pages/min", flush=True)
    print(f"load {os.getloadavg()[0]:.2f} at the end")
    median = {c: statistics.median(r) for c, r in rates.items()}
    for config, value in median.items():
        print(f"median {config[0]:8} {config[1]} worker(s): {value:.1f} pages/min")
    for dispatch in dispatchers:
        efficiency = median[(dispatch, 2)] / (2 * median[(dispatch, 1)])
        print(f"parallel efficiency ({dispatch}): {efficiency:.2f} (target >= 0.9)")
    if "dramatiq" in dispatchers:
        for workers in (1, 2):
            ratio = median[("dramatiq", workers)] / median[("database", workers)]
            print(f"Dramatiq / database, {workers} worker(s): {ratio:.2f} (target >= 0.95)")


if __name__ == "__main__":
    main()
