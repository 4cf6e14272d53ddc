"""The ``archive`` command: migrate, units, users, import with a manifest or by auto-filing,
reindex, verify."""

from __future__ import annotations

import csv

import pytest
from typer.testing import CliRunner

from archive.cli import app
from archive.corpus import CLEAN, make_customers, make_documents, write_document
from tests import documents

runner = CliRunner()


class Ran:
    """A finished command, its output with rich's line wrapping undone."""

    def __init__(self, result) -> None:
        self.exit_code = result.exit_code
        self.exception = result.exception
        self.output = " ".join(result.output.split())


def run(*args: str, stdin: str | None = None) -> Ran:
    return Ran(runner.invoke(app, list(args), input=stdin))


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHIVE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("ARCHIVE_WORKER_PROCESSES", "2")  # import runs a pool of processes
    from archive.settings import get_settings

    get_settings.cache_clear()
    assert run("migrate").exit_code == 0
    assert run("units", "add", "xh", "--name", "西湖供电所", "--parent", "root").exit_code == 0
    added = run("users", "add", "dangan", "--role", "archivist", "--unit", "root",
                stdin="a-long-password\n")
    assert added.exit_code == 0, added.output
    return tmp_path / "var"


def test_users_add_refuses_bad_input(data_dir) -> None:
    weak = run("users", "add", "x", "--role", "staff", "--unit", "xh", stdin="short\n")
    assert weak.exit_code == 1 and "at least 10 characters" in weak.output
    role = run("users", "add", "y", "--role", "king", "--unit", "xh", stdin="a-long-password\n")
    assert role.exit_code == 1 and "unknown role" in role.output
    unit = run("units", "add", "xh", "--name", "again", "--parent", "root")
    assert unit.exit_code == 1 and "exists" in unit.output


def test_accounts_made_and_reset_on_the_server_are_audited(data_dir) -> None:
    from sqlalchemy import select

    from archive.db.models import AuditEvent
    from archive.db.session import make_engine, make_sessionmaker

    assert run("users", "reset-password", "dangan", stdin="harbour-violet-93\n").exit_code == 0
    engine = make_engine(f"sqlite:///{data_dir / 'archive.db'}")
    with make_sessionmaker(engine)() as session:
        events = [(e.actor, e.action, e.object_id) for e in session.scalars(
            select(AuditEvent).order_by(AuditEvent.seq))]
    engine.dispose()
    assert events == [("cli", "account:create", "dangan"), ("cli", "password:reset", "dangan")]
    assert run("verify").exit_code == 0  # the chain holds both


@pytest.mark.ocr
def test_import_files_a_folder_with_its_manifest(data_dir, tmp_path) -> None:
    from sqlalchemy import delete, select

    from archive.db.models import Dossier, Page, Record
    from archive.db.session import make_engine, make_sessionmaker

    customers = make_customers(2, seed=4)
    docs = [d for d in make_documents(customers, seed=4, per_customer=2) if len(d.pages) == 1]
    folder = tmp_path / "incoming"
    folder.mkdir()
    rows = []
    for index, doc in enumerate(docs[:2]):
        name = f"scan{index}.jpg"
        write_document(doc, folder / name, "jpeg", degradation=CLEAN)
        rows.append([name, doc.customer.account, doc.category, doc.doc_type, doc.title,
                     doc.doc_date.isoformat(), "内部"])
    (folder / "contract.pdf").write_bytes(documents.text_pdf(["供用电合同 第一条 供电方式"]))
    (folder / "copy.pdf").write_bytes(documents.text_pdf(["供用电合同 第一条 供电方式"]))
    (folder / "notes.txt").write_text("not a scan")
    first = customers[0]
    rows += [["contract.pdf", first.account, "业扩报装", "供用电合同", "", "2023-01-02", ""],
             ["copy.pdf", first.account, "业扩报装", "供用电合同", "", "2023-01-02", ""],
             ["notes.txt", first.account, "业扩报装", "其他", "", "", ""],
             ["missing.pdf", first.account, "业扩报装", "其他", "", "", ""]]
    with open(folder / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "account", "category", "doc_type", "title", "doc_date",
                         "security_level"])
        writer.writerows(rows)

    _add_customers(data_dir, customers)

    result = run("import", str(folder), "--as", "dangan")
    assert result.exit_code == 1, result.output  # two files were refused
    assert "3 accepted, 1 duplicates skipped, 2 refused, 0 failed in OCR" in result.output
    assert "filed and indexed: 3" in result.output
    assert "notes.txt" in result.output and "missing.pdf" in result.output

    engine = make_engine(f"sqlite:///{data_dir / 'archive.db'}")
    with make_sessionmaker(engine)() as session:
        records = session.scalars(select(Record)).all()
        assert sorted(r.status for r in records) == ["indexed"] * 3
        assert len(session.scalars(select(Dossier)).all()) == len(
            {(r[1], r[2]) for r in rows[:3]})
    engine.dispose()

    checked = run("reindex", "--check")
    assert checked.exit_code == 0 and "index matches the database" in checked.output
    # an index entry lost behind the archive's back is reported, and reindex restores it
    from search.embedded import EmbeddedSearch
    from search.settings import EmbeddedSettings

    index = EmbeddedSearch(EmbeddedSettings(path=data_dir / "search.db"))
    index.delete([records[0].id])
    index.close()
    drifted = run("reindex", "--check")
    assert drifted.exit_code == 1, drifted.output
    assert f"missing from the index 索引缺失: 1 e.g. {records[0].id}" in drifted.output
    assert run("reindex").exit_code == 0
    assert run("reindex", "--check").exit_code == 0
    # a record the index refuses: the rebuild takes the rest, --check counts it, and once
    # fixed, --retry indexes it
    from search.base import MAX_PAGES

    engine = make_engine(f"sqlite:///{data_dir / 'archive.db'}")
    with make_sessionmaker(engine).begin() as session:
        session.add_all(Page(record_id=records[1].id, number=n, text="页", source="text")
                        for n in range(100, MAX_PAGES + 101))
    rebuilt = run("reindex")
    assert rebuilt.exit_code == 0 and "2 records indexed" in rebuilt.output, rebuilt.output
    drifted = run("reindex", "--check")
    assert drifted.exit_code == 1
    assert f"refused by the index 索引拒收: 1 e.g. {records[1].id}" in drifted.output
    with make_sessionmaker(engine).begin() as session:
        session.execute(delete(Page).where(Page.record_id == records[1].id, Page.number >= 100))
    engine.dispose()
    retried = run("reindex", "--retry")
    assert retried.exit_code == 0 and "1 of 1 refused records indexed" in retried.output
    assert run("reindex", "--check").exit_code == 0

    verified = run("verify")
    assert verified.exit_code == 0 and "3 of 3 originals intact" in verified.output


def _add_customers(data_dir, customers) -> None:
    from archive.db.session import make_engine, make_sessionmaker
    from archive.services.accounts import actor_for
    from archive.services.filing import create_customer
    from policies import CasbinAuthorizer

    engine = make_engine(f"sqlite:///{data_dir / 'archive.db'}")
    with make_sessionmaker(engine).begin() as session:
        actor = actor_for(session, "dangan", CasbinAuthorizer(engine))
        for customer in customers:
            create_customer(session, actor=actor, account=customer.account, name=customer.name,
                            customer_class=customer.customer_class, unit="xh")
    engine.dispose()


@pytest.mark.ocr
def test_import_without_a_manifest_files_by_the_text_and_keeps_the_rest(
        data_dir, tmp_path) -> None:
    from sqlalchemy import select

    from archive.db.models import InboxItem, Record
    from archive.db.session import make_engine, make_sessionmaker

    known, unknown = make_customers(3, seed=8)[:2], make_customers(3, seed=8)[2:]
    docs = make_documents(known + unknown, seed=8, per_customer=2)
    placed = [d for d in docs if d.customer in known and len(d.pages) == 1][:2]
    stranger = next(d for d in docs if d.customer in unknown)
    folder = tmp_path / "backlog"
    folder.mkdir()
    write_document(placed[0], folder / "a.jpg", "jpeg", degradation=CLEAN)  # read by OCR
    write_document(placed[1], folder / "b.pdf", "pdf-text")
    write_document(stranger, folder / "c.pdf", "pdf-text")
    (folder / "d.pdf").write_bytes(documents.text_pdf(["会议纪要 配电房改造"]))
    (folder / "copy-of-b.pdf").write_bytes((folder / "b.pdf").read_bytes())
    (folder / "e.txt").write_text("not a scan")
    _add_customers(data_dir, known)

    result = run("import", str(folder), "--as", "dangan")
    assert result.exit_code == 1, result.output  # e.txt was refused
    assert "4 accepted, 1 duplicates skipped, 1 refused, 0 failed in OCR" in result.output
    assert "filed automatically: 2; 待归档 waiting in the inbox: 2" in result.output

    engine = make_engine(f"sqlite:///{data_dir / 'archive.db'}")
    with make_sessionmaker(engine)() as session:
        records = {r.original_filename: r for r in session.scalars(select(Record))}
        assert sorted(records) == ["a.jpg", "b.pdf"]
        for name, doc in zip(("a.jpg", "b.pdf"), placed, strict=True):
            record = records[name]
            assert (record.doc_type, record.doc_date, record.status) == (
                doc.doc_type, doc.doc_date, "indexed")
            assert record.dossier.customer.account == doc.customer.account
            assert record.dossier.category == doc.category
        assert records["a.jpg"].access_key is not None  # the scan got its searchable PDF
        waiting = {i.original_filename: i.reason for i in session.scalars(
            select(InboxItem).where(InboxItem.status == "waiting"))}
        assert waiting == {"c.pdf": f"customer {stranger.customer.account} is not in the "
                                    "archive of the units where dangan files records",
                           "d.pdf": "文件类型 not recognised in the title; no 户号 found in "
                                    "the text"}
    engine.dispose()


def test_verify_finds_a_damaged_original(data_dir) -> None:
    from archive.commands.batch import file_document
    from archive.db.session import make_engine, make_sessionmaker
    from archive.services.accounts import actor_for
    from archive.services.filing import create_customer
    from archive.settings import get_settings
    from storage import make_store

    settings = get_settings()
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    from policies import CasbinAuthorizer

    with sessions.begin() as session:
        actor = actor_for(session, "dangan", CasbinAuthorizer(engine))
        create_customer(session, actor=actor, account="3300000001", name="张伟",
                        customer_class="低压", unit="xh")
    pdf = data_dir / "a.pdf"
    pdf.write_bytes(documents.text_pdf(["用电申请书"]))
    store = make_store(settings.storage)
    file_document(sessions, actor=actor, settings=settings, store=store, path=pdf,
                  account="3300000001", category="业扩报装", doc_type="用电申请书", title="t",
                  doc_date=None)
    engine.dispose()
    # An original stored before retention existed: verify locks it (永久: a legal hold).
    [key] = list(store.keys("originals/"))
    store.set_legal_hold(key, False)
    first = run("verify")
    assert first.exit_code == 0, first.output
    assert "1 of 1 originals intact" in first.output and "1 originals were not locked" in \
        first.output
    assert store.locks(key).legal_hold
    assert "not locked" not in run("verify").output
    stored = next((data_dir / "objects" / "data").rglob("*"))
    while stored.is_dir():
        stored = next(stored.iterdir())
    stored.chmod(0o644)
    stored.write_bytes(b"%PDF-1.4 replaced")
    result = run("verify")
    assert result.exit_code == 1
    assert "0 of 1 originals intact" in result.output


def test_transfer_check_validates_a_received_package(tmp_path) -> None:
    import shutil

    import bagit

    bag = tmp_path / "transfer-1"
    (bag / "originals").mkdir(parents=True)
    (bag / "originals" / "r1.pdf").write_bytes(documents.text_pdf(["供用电合同"]))
    bagit.make_bag(str(bag), {"Source-Organization": "西湖供电所"}, checksums=["sha256"])
    zipped = shutil.make_archive(str(tmp_path / "package"), "zip", tmp_path, "transfer-1")
    for package in (bag, zipped):
        intact = run("transfer", "check", str(package))
        assert intact.exit_code == 0, (intact.output, intact.exception)
        assert "package intact" in intact.output and "1 payload files" in intact.output
    (bag / "data" / "originals" / "r1.pdf").write_bytes(b"%PDF-1.4 altered")
    altered = run("transfer", "check", str(bag))
    assert altered.exit_code == 1 and "not intact" in altered.output
    missing = run("transfer", "check", str(tmp_path / "nowhere.zip"))
    assert missing.exit_code == 1 and "does not exist" in missing.output
