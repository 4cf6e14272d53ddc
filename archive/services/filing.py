"""Filing: customers (客户) and their dossiers (案卷) with system-assigned 档号.

An archive number follows DA/T 22 / DA/T 13: 全宗号-门类代码·年度-保管期限代码-机构代码-件号,
e.g. ``0421-KH·2023-Y-YX-0001``; item numbers count from 0001 within each prefix.

Public surface: :func:`create_customer`, :func:`get_customer`, :func:`create_dossier`,
:func:`get_dossier`, :func:`next_archive_number`.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.db.models import Counter, Customer, Dossier, utcnow
from archive.errors import Conflict, InvalidInput, NotFound
from archive.services.access import SECURITY_LEVELS, Actor, permits, require_unit
from archive.services.accounts import get_unit
from archive.services.audit import Event
from archive.services.catalogue import CATEGORIES, CUSTOMER_CLASSES
from archive.services.work import Work
from archive.settings import ArchiveNumberSettings
from policies import Action, Target, borrow_key

_ACCOUNT = re.compile(r"^\d{6,20}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_PHONE = re.compile(r"^[\d+\-() ]{5,20}$")


def create_customer(
    session: Session, *, actor: Actor, account: str, name: str, customer_class: str,
    voltage: str = "", address: str = "", phone: str = "", id_number: str = "", unit: str,
) -> Customer:
    if not _ACCOUNT.match(account):
        raise InvalidInput("account (户号) must be 6 to 20 digits")
    if not name.strip():
        raise InvalidInput("name (户名) is required")
    if customer_class not in CUSTOMER_CLASSES:
        raise InvalidInput(f"customer_class must be one of {'、'.join(CUSTOMER_CLASSES)}")
    if id_number and not _ID_NUMBER.match(id_number.upper()):
        raise InvalidInput("id_number must be an 18-character ID number")
    if phone and not _PHONE.match(phone):
        raise InvalidInput("phone is not a phone number")
    owner = get_unit(session, unit)
    require_unit(actor, owner.path, f"unit {unit}", Action.CUSTOMER_CREATE)
    existing = session.scalar(select(Customer).where(Customer.account == account))
    if existing is not None:
        if permits(actor, existing.unit.path, Target(), Action.CUSTOMER_READ):
            raise Conflict(f"customer {account} exists")
        # the account is the caller's own input; of the customer nothing more is told
        raise Conflict(f"户号 {account} is already registered, in a unit outside your reach")
    customer = Customer(account=account, name=name.strip(), customer_class=customer_class,
                        voltage=voltage, address=address, phone=phone,
                        id_number=id_number.upper(), unit_id=owner.id)
    session.add(customer)
    session.flush()
    return customer


def get_customer(
    session: Session, *, actor: Actor, account: str, action: str = Action.CUSTOMER_READ,
) -> Customer:
    customer = session.scalar(select(Customer).where(Customer.account == account))
    if customer is None:
        raise NotFound(f"customer {account} not found")
    require_unit(actor, customer.unit.path, f"customer {account}", action)
    return customer


def next_archive_number(
    session: Session, *, numbering: ArchiveNumberSettings, year: int, retention_code: str,
) -> tuple[str, int]:
    prefix = (f"{numbering.fonds}-{numbering.class_code}·{year}-{retention_code}-"
              f"{numbering.organisation}")
    # An UPDATE … RETURNING is atomic on SQLite and PostgreSQL: no two dossiers share a number.
    item = session.scalar(update(Counter).where(Counter.prefix == prefix)
                          .values(last=Counter.last + 1).returning(Counter.last))
    if item is None:
        try:
            with session.begin_nested():
                session.execute(insert(Counter).values(prefix=prefix, last=1))
            item = 1
        except IntegrityError:  # created by a concurrent filing; take the next one
            item = session.scalar(update(Counter).where(Counter.prefix == prefix)
                                  .values(last=Counter.last + 1).returning(Counter.last))
    if item is None or item > 9999:
        raise Conflict(f"item numbers under {prefix} are exhausted")
    return f"{prefix}-{item:04d}", item


def create_dossier(
    session: Session, *, actor: Actor, numbering: ArchiveNumberSettings, customer_account: str,
    category: str, unit: str | None = None, security_level: str = "内部", location: str = "",
) -> Dossier:
    if category not in CATEGORIES:
        raise InvalidInput(f"category must be one of {'、'.join(CATEGORIES)}")
    if security_level not in SECURITY_LEVELS:
        raise InvalidInput(f"security_level must be one of {'、'.join(SECURITY_LEVELS)}")
    customer = get_customer(session, actor=actor, account=customer_account,
                            action=Action.DOSSIER_CREATE)
    owner = customer.unit
    if unit is not None and unit != owner.code:
        raise InvalidInput(f"a dossier belongs to the unit that owns the customer ({owner.code})")
    year = utcnow().year
    retention_code = CATEGORIES[category]
    number, item = next_archive_number(session, numbering=numbering, year=year,
                                       retention_code=retention_code)
    dossier = Dossier(archive_number=number, customer_id=customer.id, category=category,
                      year=year, retention_code=retention_code, item_number=item,
                      unit_id=owner.id, security_level=security_level, location=location)
    session.add(dossier)
    session.flush()
    return dossier


def dossier_for(
    session: Session, *, actor: Actor, numbering: ArchiveNumberSettings, account: str,
    category: str,
) -> Dossier:
    """The customer's dossier of that category, to file a record in: the oldest there is,
    or a new one with its 档号."""
    customer = get_customer(session, actor=actor, account=account, action=Action.RECORD_CREATE)
    dossier = session.scalar(select(Dossier).where(Dossier.customer_id == customer.id,
                                                   Dossier.category == category)
                             .order_by(Dossier.created_at).limit(1))
    return dossier or create_dossier(session, actor=actor, numbering=numbering,
                                     customer_account=account, category=category)


def get_dossier(
    session: Session, *, actor: Actor, dossier_id: str, action: str = Action.DOSSIER_READ,
) -> Dossier:
    dossier = session.get(Dossier, dossier_id)
    if dossier is None:
        raise NotFound(f"dossier {dossier_id} not found")
    require_unit(actor, dossier.unit.path, f"dossier {dossier_id}", action,
                 Target(key=borrow_key(dossier.id)))
    return dossier


def parse_doc_date(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("doc_date must be a date like 2023-05-04") from None


# The operations of the API, each recording its audit event in the caller's unit of work.

def register_customer(work: Work, *, actor: Actor, **fields: str) -> Customer:
    customer = create_customer(work.session, actor=actor, **fields)
    work.record(Event("customer:create", "customer", customer.account))
    return customer


def read_customer(work: Work, *, actor: Actor, account: str) -> Customer:
    customer = get_customer(work.session, actor=actor, account=account)
    work.record(Event("customer:read", "customer", account))
    return customer


def register_dossier(work: Work, *, actor: Actor, numbering: ArchiveNumberSettings,
                     **fields: str) -> Dossier:
    dossier = create_dossier(work.session, actor=actor, numbering=numbering,
                             **fields)  # type: ignore[arg-type]
    work.record(Event("dossier:create", "dossier", dossier.id,
                      details={"archive_number": dossier.archive_number}))
    return dossier


def read_dossier(work: Work, *, actor: Actor, dossier_id: str) -> Dossier:
    dossier = get_dossier(work.session, actor=actor, dossier_id=dossier_id)
    work.record(Event("dossier:read", "dossier", dossier_id))
    return dossier


def place_dossier(work: Work, *, actor: Actor, dossier_id: str, room: str, shelf: str,
                  box: str) -> Dossier:
    """Where the paper originals of the dossier are kept (库房 / 架 / 盒)."""
    dossier = get_dossier(work.session, actor=actor, dossier_id=dossier_id,
                          action=Action.DOSSIER_UPDATE)
    before = {"room": dossier.room, "shelf": dossier.shelf, "box": dossier.box}
    dossier.room, dossier.shelf, dossier.box = room.strip(), shelf.strip(), box.strip()
    dossier.location = " / ".join(part for part in (dossier.room, dossier.shelf, dossier.box)
                                  if part)
    work.record(Event("dossier:location", "dossier", dossier_id, details={
        "before": before, "after": {"room": room, "shelf": shelf, "box": box}}))
    return dossier
