"""Import a generated backlog without a manifest and check the summary against the truth.

Generates ``--count`` documents (scans in PDF, TIFF and JPEG, degraded, and born-digital
PDFs) into a fresh data directory, registers the customers of all but every ``--unknown``-th
document, runs ``archive import DIR --as dangan`` (progress bars, summary), then compares
what was filed with the generator's ground truth: every document of a known customer must be
in that customer's dossier of the right category with the right type and date, and every
other document must wait in the inbox.

    python -m benchmarks.import_backlog [--count 200] [--unknown 10] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from archive.corpus import generate_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--unknown", type=int, default=10,
                        help="every N-th document's customer is not registered")
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "backlog"
        started = time.perf_counter()
        entries = generate_corpus(folder, count=args.count, seed=2026)
        shutil.move(folder / "manifest.json", root / "truth.json")  # not part of the backlog
        print(f"generated {len(entries)} documents in {time.perf_counter() - started:.0f} s")
        env = {**os.environ, "ARCHIVE_DATA_DIR": str(root / "var")}
        if args.workers is not None:
            env["ARCHIVE_WORKER_PROCESSES"] = str(args.workers)
        archive = [str(Path(sys.executable).with_name("archive"))]  # the venv's command

        def run(*command: str, stdin: str | None = None, check: bool = True) -> None:
            # our own command and paths only
            subprocess.run([*archive, *command], env=env, input=stdin, text=True,  # noqa: S603
                           check=check)

        run("migrate")
        run("units", "add", "xh", "--name", "西湖供电所", "--parent", "root")
        run("users", "add", "dangan", "--role", "archivist", "--unit", "root",
            stdin="a-long-password\n")
        os.environ["ARCHIVE_DATA_DIR"] = env["ARCHIVE_DATA_DIR"]
        known = _register_customers(entries, every=args.unknown)

        started = time.perf_counter()
        run("import", str(folder), "--as", "dangan", check=False)
        took = time.perf_counter() - started
        pages = sum(len(e["pages"]) for e in entries if e["fmt"] != "pdf-text")
        print(f"\nimport took {took:.0f} s for {len(entries)} documents "
              f"({pages} scanned pages: {pages / took * 60:.1f} pages/min)")
        _compare(entries, known)


def _register_customers(entries: list[dict], *, every: int) -> set[str]:
    """Register the customers of all documents but every ``every``-th; returns their 户号."""
    from archive.db.session import make_engine, make_sessionmaker
    from archive.services.accounts import actor_for
    from archive.services.filing import create_customer
    from archive.settings import get_settings

    known = {e["account"] for i, e in enumerate(entries) if (i + 1) % every}
    names = {e["account"]: e["customer_name"] for e in entries if e["account"] in known}
    from policies import CasbinAuthorizer

    engine = make_engine(get_settings().database_url)
    with make_sessionmaker(engine).begin() as session:
        actor = actor_for(session, "dangan", CasbinAuthorizer(engine))
        for account, name in names.items():
            create_customer(session, actor=actor, account=account, name=name,
                            customer_class="低压", unit="xh")
    engine.dispose()
    return known


def _compare(entries: list[dict], known: set[str]) -> None:
    from archive.db.models import InboxItem, Record
    from archive.db.session import make_engine, make_sessionmaker
    from archive.settings import get_settings

    engine = make_engine(get_settings().database_url)
    with make_sessionmaker(engine)() as session:
        records = {r.original_filename: r for r in session.scalars(select(Record))}
        waiting = {i.original_filename: i for i in session.scalars(
            select(InboxItem).where(InboxItem.status == "waiting"))}
        right, wrong, missed = 0, [], []
        for entry in entries:
            record = records.get(entry["path"])
            if entry["account"] not in known:
                if entry["path"] in waiting:
                    right += 1
                else:
                    wrong.append((entry["path"], "should wait in the inbox"))
                continue
            if record is None:
                missed.append((entry["path"], waiting.get(entry["path"]).reason
                               if entry["path"] in waiting else "not imported"))
                continue
            found = (record.dossier.customer.account, record.dossier.category,
                     record.doc_type, record.doc_date.isoformat() if record.doc_date else "")
            expected = (entry["account"], entry["category"], entry["doc_type"],
                        entry["doc_date"])
            if found == expected:
                right += 1
            else:
                wrong.append((entry["path"], f"filed as {found}, expected {expected}"))
    engine.dispose()
    print(f"ground truth: {right} of {len(entries)} placed right, {len(wrong)} placed wrong, "
          f"{len(missed)} of known customers left in the inbox")
    for name, why in wrong + missed:
        print(f"  {name}: {why}")


if __name__ == "__main__":
    main()
