"""``archive demo``: demo units, users, customers and generated scanned documents.

Everything is generated (:mod:`archive.corpus`); nothing is downloaded. Running it twice
adds nothing twice. One more scanned contract is written to ``<data_dir>/demo/upload/`` for
the README's curl walkthrough, not filed.

Public surface: :func:`load_demo`, ``DEMO_USERS``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from archive.backends import Backends
from archive.commands.batch import file_document, run_jobs
from archive.corpus import Degradation, make_customers, make_documents, write_document
from archive.db.migrate import upgrade
from archive.db.models import Customer, Unit, User
from archive.errors import DuplicateRecord
from archive.services.accounts import actor_for, add_unit, add_user, ensure_root_unit
from archive.services.filing import create_customer

DEMO_UNITS = [("hz", "杭州供电公司", None), ("xh", "西湖供电所", "hz"), ("gs", "拱墅供电所", "hz")]
# username → (role, unit, clearance, label)
DEMO_USERS = {
    "dangan": ("archivist", "hz", "受限", "档案管理员"),
    "zhangsan": ("staff", "xh", "内部", "业务人员 西湖供电所"),
    "lisi": ("staff", "gs", "内部", "业务人员 拱墅供电所"),
    "shenji": ("auditor", "hz", "内部", "审计员"),
}
# the one demo user who holds the personal-information clearance (个人信息)
PERSONAL_INFO_USER = "dangan"
SEED = 2026
FORMATS = ("pdf-scan", "tiff", "jpeg", "pdf-text")


def load_demo(backends: Backends, *, password: str | None, customers: int,
              console: Console) -> None:
    settings, sessions = backends.settings, backends.sessions
    upgrade(backends.engine)
    authorizer = backends.authorizer  # built once the policy tables exist
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    with sessions.begin() as session:
        root = ensure_root_unit(session, code=settings.root_unit, name=settings.root_unit_name)
        for code, name, parent in DEMO_UNITS:
            if session.scalar(select(Unit).where(Unit.code == code)) is None:
                add_unit(session, code=code, name=name, parent_code=parent or root.code)
        for username, (role, unit, clearance, _) in DEMO_USERS.items():
            if session.scalar(select(User).where(User.username == username)) is None:
                add_user(session, username=username, password=password, role=role,
                         unit_code=unit, clearance=clearance,
                         personal_info=username == PERSONAL_INFO_USER)
    # The grants are committed now: the authorizer reads them on its own connection.
    authorizer.refresh()
    with sessions.begin() as session:
        actor = actor_for(session, "dangan", authorizer)
        people = make_customers(customers + 1, seed=SEED)
        for index, person in enumerate(people):
            if session.scalar(select(Customer).where(Customer.account == person.account)):
                continue
            create_customer(session, actor=actor, account=person.account, name=person.name,
                            customer_class=person.customer_class, voltage=person.voltage,
                            address=person.address, phone=person.phone,
                            id_number=person.id_number, unit="xh" if index % 2 == 0 else "gs")

    demo_dir = settings.data_dir / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    store = backends.store
    docs = make_documents(people[:customers], seed=SEED, per_customer=2)
    filed = duplicates = 0
    job_ids: list[str] = []
    with console.status("生成扫描件 rendering scanned documents…"):
        paths = []
        for index, doc in enumerate(docs):
            fmt = FORMATS[index % len(FORMATS)]
            if fmt == "jpeg" and len(doc.pages) > 1:
                fmt = "pdf-scan"
            suffix = {"pdf-scan": ".pdf", "tiff": ".tif", "jpeg": ".jpg",
                      "pdf-text": ".pdf"}[fmt]
            path = demo_dir / f"{index:03d}-{doc.customer.account}{suffix}"
            if not path.exists():
                write_document(doc, path, fmt, degradation=_scan(fmt), seed=SEED)
            paths.append(path)
    for doc, path in zip(docs, paths, strict=True):
        try:
            _, job_id = file_document(
                sessions, actor=actor, settings=settings, store=store, path=path,
                account=doc.customer.account, category=doc.category, doc_type=doc.doc_type,
                title=doc.title, doc_date=doc.doc_date,
                security_level="受限" if doc.doc_type == "用电申请书" else "内部")
            filed += 1
            job_ids.append(job_id)
        except DuplicateRecord:
            duplicates += 1
    done, failed = run_jobs(backends.job_context(), console, job_ids, settings,
                            backends.dispatcher)
    example = _upload_example(people[-1], demo_dir)

    console.print(f"演示数据 demo: {filed} records filed ({duplicates} already there), "
                  f"{done} read and indexed, {failed} failed")
    table = Table(title="演示用户 demo users")
    for column in ("username", "role", "unit", "clearance", "个人信息 personal info"):
        table.add_column(column)
    for username, (_role, unit, clearance, label) in DEMO_USERS.items():
        table.add_row(username, label, unit, clearance,
                      "unmasked" if username == PERSONAL_INFO_USER else "masked")
    console.print(table)
    if generated:
        console.print(f"password of every demo user: [bold]{password}[/bold]")
    console.print(f"customer for the upload walkthrough: 户号 {people[-1].account} "
                  f"({people[-1].name}); scanned contract: {example}")


def _scan(fmt: str) -> Degradation | None:
    # Straight office scans with seals and form lines; heavier degradation is the
    # benchmark's business, not the demo's.
    return None if fmt == "pdf-text" else Degradation(noise=3.0, blur=0.3, jpeg_quality=85)


def _upload_example(person, demo_dir: Path) -> Path:  # type: ignore[no-untyped-def]
    upload_dir = demo_dir / "upload"
    upload_dir.mkdir(exist_ok=True)
    contract = next(d for d in make_documents([person], seed=SEED + 1, per_customer=4)
                    if d.doc_type == "供用电合同")
    path = upload_dir / "contract-scan.pdf"
    if not path.exists():
        write_document(contract, path, "pdf-scan", degradation=_scan("pdf-scan"), seed=SEED)
    return path
