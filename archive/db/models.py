"""SQLAlchemy models of the system of record.

Tables: units (the unit tree), users, customers (客户), dossiers (案卷, with the 档号),
records (文件), pages (text per page), jobs (background ingest work), counters (for 档号
item numbers), borrow requests (借阅) and reminders (催还), the retention schedule (保管期限表),
legal holds, disposition proposals and the destruction register (销毁清册), transfers (移交),
the audit chain and the Casbin policy rows.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {datetime: DateTime(timezone=True)}


class Unit(Base):
    """An organisational unit: 供电公司 → 县公司 → 供电所."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    # Materialised path of codes, "/root/hz/xh/": a subtree is a prefix match.
    path: Mapped[str] = mapped_column(String(1000), index=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    clearance: Mapped[str] = mapped_column(String(8), default="内部")
    # 个人信息 clearance: reads phone, ID and bank account numbers unmasked.
    personal_info: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # (unused since logins are throttled by delays, not locked: kept for old databases)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column()
    # revocation of every token issued so far
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # set by a reset: every route but the password change refuses until it is changed
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())
    last_login_at: Mapped[datetime | None] = mapped_column()

    unit: Mapped[Unit] = relationship(lazy="joined")


class Customer(Base):
    """客户: one electricity account (户号)."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    customer_class: Mapped[str] = mapped_column(String(8))
    voltage: Mapped[str] = mapped_column(String(16), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    id_number: Mapped[str] = mapped_column(String(32), default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")


class Dossier(Base):
    """案卷: a customer's file of one filing category, numbered by its 档号."""

    __tablename__ = "dossiers"
    __table_args__ = (Index("ix_dossiers_created", "created_at", "id"),)  # the list's order

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    archive_number: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    retention_code: Mapped[str] = mapped_column(String(4))
    item_number: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    security_level: Mapped[str] = mapped_column(String(8), default="内部")
    location: Mapped[str] = mapped_column(String(200), default="")
    # where the paper original is kept: 库房 / 架 / 盒
    room: Mapped[str] = mapped_column(String(32), default="", server_default="")
    shelf: Mapped[str] = mapped_column(String(32), default="", server_default="")
    box: Mapped[str] = mapped_column(String(32), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(lazy="joined")
    unit: Mapped[Unit] = relationship(lazy="joined")
    records: Mapped[list[Record]] = relationship(
        back_populates="dossier", order_by="Record.created_at"
    )


class Record(Base):
    """文件: one document in a dossier; its original is immutable (sha256)."""

    __tablename__ = "records"
    __table_args__ = (Index("ix_records_dossier_created", "dossier_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"), index=True)
    doc_type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(500))
    doc_date: Mapped[date | None] = mapped_column(Date)
    security_level: Mapped[str] = mapped_column(String(8))
    retention_period: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="received")
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(64))
    original_key: Mapped[str] = mapped_column(String(200))
    # The searchable PDF (page images + invisible text) made by ingest; None until made, or
    # when every page had a text layer and the original is searchable itself.
    access_key: Mapped[str | None] = mapped_column(String(200))
    original_filename: Mapped[str] = mapped_column(String(255), default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # 到期日: 1 January of the year after the document date plus the retention period;
    # None while permanent (永久). Appraisal may move it later, never earlier.
    retain_until: Mapped[date | None] = mapped_column(Date, index=True)
    destroyed_at: Mapped[datetime | None] = mapped_column()

    dossier: Mapped[Dossier] = relationship(back_populates="records", lazy="joined")
    pages: Mapped[list[Page]] = relationship(order_by="Page.number", cascade="all, delete-orphan")


class Page(Base):
    __tablename__ = "pages"

    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float | None] = mapped_column(Float)
    # OCR'd pages: canonical JSON of size, dpi, orientation, skew and the lines with their
    # boxes and confidences (ingest.pipeline.PageLayout); None for text-layer pages.
    layout: Mapped[str | None] = mapped_column(Text)
    # The personal values in ``text`` as JSON [[start, end, kind], …] (search.personal),
    # found when the page was read; None for pages read before they were kept.
    personal: Mapped[str | None] = mapped_column(Text)


class Job(Base):
    """Background work on a record (ingest): persistent, claimed by one worker at a time.

    A running job holds a lease its worker renews; a job whose lease ran out (its worker
    died) is claimed again. A failed attempt waits until ``not_before`` (backoff)."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # kind "ingest": OCR a filed record; "classify": OCR an inbox item and file it if its
    # type and 户号 can be read.
    record_id: Mapped[str | None] = mapped_column(ForeignKey("records.id"), index=True)
    inbox_id: Mapped[str | None] = mapped_column(ForeignKey("inbox_items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="ingest")
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    pages_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pages_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    not_before: Mapped[datetime | None] = mapped_column(index=True)
    lease_until: Mapped[datetime | None] = mapped_column()
    worker: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IndexOutbox(Base):
    """A record whose search entry must be brought in line with the database.

    Written in the same transaction as the change, so no committed change can miss the
    index; the indexer (:mod:`archive.services.indexing`) reads the record as it is then
    and indexes or deletes it, and removes the row only once the search backend took it."""

    __tablename__ = "index_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(32), index=True)
    enqueued_at: Mapped[datetime] = mapped_column(default=utcnow)


class IndexRefusal(Base):
    """A record the search backend refused to index (the dead-letter list), with why.

    The indexer takes the rest of its batch and goes on; the record is tried again when it
    changes, at every worker start and by ``archive reindex --retry``, and leaves this list
    once it is indexed."""

    __tablename__ = "index_refusals"

    record_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    refused_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lease(Base):
    """A named lease: at most one holder at a time, taken over once it runs out.

    The indexer holds ``search-index`` while it drains the outbox, so two processes never
    write different versions of one record to the index in the wrong order."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64), default="")
    until: Mapped[datetime | None] = mapped_column()


class Counter(Base):
    """Last item number given out under one 档号 prefix."""

    __tablename__ = "counters"
    __table_args__ = (UniqueConstraint("prefix"),)

    prefix: Mapped[str] = mapped_column(String(64), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class AuditEvent(Base):
    """One audited action; append-only and chained: ``hash`` is an HMAC over the event and
    the previous event's hash, with a key kept outside the database."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                     primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(96), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    decision: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text, default="")
    client: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's newest (seq, hash); its row lock serialises appends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    hash: Mapped[str] = mapped_column(String(64))


class PolicyRule(Base):
    """One Casbin policy line (the casbin-sqlalchemy-adapter's table layout)."""

    __tablename__ = "casbin_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ptype: Mapped[str] = mapped_column(String(255))
    v0: Mapped[str | None] = mapped_column(String(255))
    v1: Mapped[str | None] = mapped_column(String(255))
    v2: Mapped[str | None] = mapped_column(String(255))
    v3: Mapped[str | None] = mapped_column(String(255))
    v4: Mapped[str | None] = mapped_column(String(255))
    v5: Mapped[str | None] = mapped_column(String(255))


class PolicyVersion(Base):
    """Bumped with every policy change, so every process reloads its enforcer at once."""

    __tablename__ = "policy_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class BorrowRequest(Base):
    """借阅: a request to borrow a record or a whole dossier, and what became of it.

    An approved electronic request is also a Casbin ``p2`` row (the grant itself) until it
    is returned or its period ends; ``ends_at`` is that period's end."""

    __tablename__ = "borrow_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"), index=True)
    record_id: Mapped[str | None] = mapped_column(ForeignKey("records.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # electronic | physical
    purpose: Mapped[str] = mapped_column(Text)
    days: Mapped[int] = mapped_column(Integer)
    # pending → approved | rejected | cancelled; approved → returned (paper not yet
    # collected: → cancelled)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_note: Mapped[str] = mapped_column(Text, default="")
    ends_at: Mapped[datetime | None] = mapped_column()  # the loan's end; for paper, due back
    returned_at: Mapped[datetime | None] = mapped_column()
    # what for, in the fixed vocabulary of the usage statistics (利用目的)
    purpose_kind: Mapped[str] = mapped_column(String(16), default="其他", server_default="其他")
    renewals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # paper originals: handed out (出库) from where, by whom; put back (归还) to where
    checked_out_at: Mapped[datetime | None] = mapped_column()
    checked_out_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    location: Mapped[str] = mapped_column(String(200), default="", server_default="")

    requester: Mapped[User] = relationship(foreign_keys=[requester_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")
    dossier: Mapped[Dossier] = relationship(lazy="joined")


class InboxItem(Base):
    """待归档: a file imported without catalogue data. Its ingest job reads it and files it
    into its customer's dossier when the document type and 户号 can be read from it; what
    cannot be placed waits here for an archivist, with the reason and the text read."""

    __tablename__ = "inbox_items"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(64))
    original_key: Mapped[str] = mapped_column(String(200))
    original_filename: Mapped[str] = mapped_column(String(255), default="")
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    security_level: Mapped[str] = mapped_column(String(8), default="内部")
    # received → waiting (for an archivist) | filed | failed
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    # What the text says (识别结果), as far as it could be read.
    doc_type: Mapped[str] = mapped_column(String(32), default="")
    account: Mapped[str] = mapped_column(String(32), default="")
    doc_date: Mapped[date | None] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(500), default="")
    pages: Mapped[str | None] = mapped_column(Text)  # JSON: the pages as read, with layout
    access_key: Mapped[str | None] = mapped_column(String(200))
    record_id: Mapped[str | None] = mapped_column(ForeignKey("records.id"))

    unit: Mapped[Unit] = relationship(lazy="joined")


class Reminder(Base):
    """An in-app notice to a user: a loan falling due or overdue (催还), sent by an
    archivist or by the daily sweep; read when the user marks it so."""

    __tablename__ = "reminders"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    borrow_request_id: Mapped[str | None] = mapped_column(ForeignKey("borrow_requests.id"))
    kind: Mapped[str] = mapped_column(String(16))  # due_soon | overdue
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()


class RetentionSchedule(Base):
    """保管期限表: how long each record type is kept (Y 永久, D30, D10), and why."""

    __tablename__ = "retention_schedules"

    doc_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(4))
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class LegalHold(Base):
    """A legal hold (诉讼保全/冻结) on a record, a dossier or a customer: while it is not
    released, nothing under it is destroyed or deleted."""

    __tablename__ = "legal_holds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    scope: Mapped[str] = mapped_column(String(16))  # record | dossier | customer
    target: Mapped[str] = mapped_column(String(32), index=True)  # id, or the 户号
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_by: Mapped[str | None] = mapped_column(String(64))
    released_at: Mapped[datetime | None] = mapped_column()


class DispositionProposal(Base):
    """鉴定意见: an archivist's proposal for a record past its retention: retain (extend by
    some years, applied at once) or destroy (carried out when a second archivist approves)."""

    __tablename__ = "disposition_proposals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), index=True)
    action: Mapped[str] = mapped_column(String(8))  # retain | destroy
    years: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    # pending → approved (destroyed) | rejected; a retain proposal is applied at once
    status: Mapped[str] = mapped_column(String(16), index=True)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_note: Mapped[str] = mapped_column(Text, default="")

    record: Mapped[Record] = relationship(lazy="joined")
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")


class DestructionEntry(Base):
    """销毁清册: one destroyed record, with its catalogue fields and its original's hash."""

    __tablename__ = "destruction_register"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(32), index=True)
    proposal_id: Mapped[str] = mapped_column(String(32))
    archive_number: Mapped[str] = mapped_column(String(64))
    customer_account: Mapped[str] = mapped_column(String(32))
    customer_name: Mapped[str] = mapped_column(String(200))
    doc_type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(500))
    doc_date: Mapped[date | None] = mapped_column(Date)
    security_level: Mapped[str] = mapped_column(String(8))
    retention_period: Mapped[str] = mapped_column(String(8))
    retain_until: Mapped[date | None] = mapped_column(Date)
    page_count: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    proposed_by: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    destroyed_at: Mapped[datetime] = mapped_column(default=utcnow)
    unit_path: Mapped[str] = mapped_column(String(1000))


class Transfer(Base):
    """移交: a package of records exported for another archive, and its handover."""

    __tablename__ = "transfers"
    __table_args__ = (Index("ix_transfers_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sender: Mapped[str] = mapped_column(String(64))
    receiver: Mapped[str] = mapped_column(String(200))
    unit_path: Mapped[str] = mapped_column(String(1000))
    items: Mapped[str] = mapped_column(Text)  # JSON list of record ids
    package_key: Mapped[str] = mapped_column(String(200))
    package_sha256: Mapped[str] = mapped_column(String(64))
    package_size: Mapped[int] = mapped_column(BigInteger)
    # exported → accepted | refused (the receiver's integrity check)
    status: Mapped[str] = mapped_column(String(16), default="exported")
    check_result: Mapped[str] = mapped_column(Text, default="")
    checked_at: Mapped[datetime | None] = mapped_column()
