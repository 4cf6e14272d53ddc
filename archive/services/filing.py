"""Filing: customers (客户) and their dossiers (案卷) with system-assigned 档号.

An archive number follows DA/T 22 / DA/T 13: 全宗号-门类代码·年度-保管期限代码-机构代码-件号,
e.g. ``0421-KH·2023-Y-YX-0001``; item numbers count from 0001 within each prefix.

Public surface: :func:`create_customer`, :func:`get_customer`, :func:`create_dossier`,
:func:`get_dossier`, :func:`dossier_for`, :func:`next_archive_number`,
:func:`checked_customer_fields`, :func:`parse_doc_date`; the API's operations, each
recording its audit event: :func:`register_customer`, :func:`read_customer`,
:func:`list_customers`, :func:`edit_customer`, :func:`register_dossier`,
:func:`read_dossier`, :func:`list_dossiers`, :func:`edit_dossier`, :func:`place_dossier`.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.db.models import Counter, Customer, Dossier, Record, Unit, utcnow
from archive.errors import Conflict, InvalidInput, NotFound
from archive.services.access import (
    SECURITY_LEVELS,
    Actor,
    in_units,
    permits,
    reach,
    require_unit,
    units_for,
)
from archive.services.accounts import get_unit
from archive.services.audit import Event
from archive.services.catalogue import CATEGORIES, CUSTOMER_CLASSES
from archive.services.indexing import enqueue
from archive.services.masking import mask_free_text, masked_fields
from archive.services.paging import Page, fetch_page
from archive.services.work import Work
from archive.settings import ArchiveNumberSettings
from policies import Action, Target, borrow_key

_ACCOUNT = re.compile(r"^\d{6,20}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_PHONE = re.compile(r"^[\d+\-() ]{5,20}$")


def checked_customer_fields(fields: dict[str, str]) -> dict[str, str]:
    """The customer fields given (all of a new customer's, or an edit's subset), checked
    and normalised as they are kept."""
    checked = dict(fields)
    if "name" in fields:
        if not fields["name"].strip():
            raise InvalidInput("name (户名) is required")
        checked["name"] = fields["name"].strip()
    if "customer_class" in fields and fields["customer_class"] not in CUSTOMER_CLASSES:
        raise InvalidInput(f"customer_class must be one of {'、'.join(CUSTOMER_CLASSES)}")
    if "id_number" in fields:
        checked["id_number"] = fields["id_number"].upper()
        if checked["id_number"] and not _ID_NUMBER.match(checked["id_number"]):
            raise InvalidInput("id_number must be an 18-character ID number")
    if fields.get("phone") and not _PHONE.match(fields["phone"]):
        raise InvalidInput("phone is not a phone number")
    return checked


def create_customer(
    session: Session, *, actor: Actor, account: str, name: str, customer_class: str,
    voltage: str = "", address: str = "", phone: str = "", id_number: str = "", unit: str,
) -> Customer:
    if not _ACCOUNT.match(account):
        raise InvalidInput("account (户号) must be 6 to 20 digits")
    fields = checked_customer_fields({
        "name": name, "customer_class": customer_class, "voltage": voltage,
        "address": address, "phone": phone, "id_number": id_number})
    owner = get_unit(session, unit)
    require_unit(actor, owner.path, f"unit {unit}", Action.CUSTOMER_CREATE)
    existing = session.scalar(select(Customer).where(Customer.account == account))
    if existing is not None:
        if permits(actor, existing.unit.path, Target(), Action.CUSTOMER_READ):
            raise Conflict(f"customer {account} exists")
        # the account is the caller's own input; of the customer nothing more is told
        raise Conflict(f"户号 {account} is already registered, in a unit outside your reach")
    customer = Customer(account=account, unit_id=owner.id, **fields)
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


def _place(dossier: Dossier, *, room: str, shelf: str, box: str) -> None:
    """Keep where the paper originals are, and the location line made of it."""
    dossier.room, dossier.shelf, dossier.box = room.strip(), shelf.strip(), box.strip()
    dossier.location = " / ".join(part for part in (dossier.room, dossier.shelf, dossier.box)
                                  if part)


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
    _place(dossier, room=room, shelf=shelf, box=box)
    work.record(Event("dossier:location", "dossier", dossier_id, details={
        "before": before, "after": {"room": room, "shelf": shelf, "box": box}}))
    return dossier


# Lists (cursor-paged, trimmed to what the caller may read) and edits (audited with the
# before and after of what changed).

# The personal fields of a customer, by the kind their masks take.
PERSONAL_FIELDS = {"phone": "phone", "id_number": "id"}
# What a customer's records show in search of the customer: an edit of these re-indexes.
_SEARCHED = frozenset({"name", "address", "customer_class"})


def list_customers(
    work: Work, *, actor: Actor, q: str | None = None, unit: str | None = None,
    customer_class: str | None = None, limit: int, cursor: str | None,
) -> Page[Customer]:
    """The customers of the actor's units, by 户号: ``q`` is a 户号 prefix or a part of the
    户名 (type-ahead: each page reads at most ``limit`` + 1 rows)."""
    query = (select(Customer).join(Unit, Unit.id == Customer.unit_id)
             .where(in_units(Unit.path, units_for(actor, Action.CUSTOMER_READ))))
    q = (q or "").strip()
    if q:
        named = Customer.name.contains(q, autoescape=True)
        # 户号 are digits: a prefix is the range [q, q + ":") of the unique index
        query = query.where(or_(and_(Customer.account >= q, Customer.account < q + ":"), named)
                            if q.isdigit() else named)
    if unit:
        query = query.where(Unit.code == unit)
    if customer_class:
        query = query.where(Customer.customer_class == customer_class)
    page = fetch_page(work.session, query, tag="customers", order=[Customer.account],
                      key=lambda c: (c.account,), limit=limit, cursor=cursor,
                      descending=False)
    work.record(Event("customer:list", "customer", "", details={
        "q": mask_free_text(q), "unit": unit, "customer_class": customer_class,
        "count": len(page.items)}))
    return page


def _changed(obj: object, wanted: dict[str, object]) -> tuple[dict, dict]:
    """The (before, after) of the fields whose value ``wanted`` changes."""
    before = {name: getattr(obj, name) for name, value in wanted.items()
              if getattr(obj, name) != value}
    return before, {name: wanted[name] for name in before}


def edit_customer(work: Work, *, actor: Actor, account: str, changes: dict[str, str]
                  ) -> Customer:
    """Correct a customer's fields (any of 户名, class, voltage, address, phone, ID
    number), checked as at registration. The event keeps the before and after of what
    changed, personal numbers masked; a change their records show in search re-indexes
    them."""
    customer = get_customer(work.session, actor=actor, account=account,
                            action=Action.CUSTOMER_UPDATE)
    before, after = _changed(customer, checked_customer_fields(changes))
    for name, value in after.items():
        setattr(customer, name, value)
    if _SEARCHED & after.keys():
        enqueue(work.session, *work.session.scalars(
            select(Record.id).join(Dossier, Dossier.id == Record.dossier_id)
            .where(Dossier.customer_id == customer.id, Record.status == "indexed")))
    work.record(Event("customer:update", "customer", account, details={
        "before": masked_fields(before, PERSONAL_FIELDS),
        "after": masked_fields(after, PERSONAL_FIELDS)}))
    return customer


def list_dossiers(
    work: Work, *, actor: Actor, customer: str | None = None, category: str | None = None,
    unit: str | None = None, q: str | None = None, limit: int, cursor: str | None,
) -> Page[tuple[Dossier, int]]:
    """The dossiers the actor may read (their units', and those lent to them), newest
    first, each with its number of records. ``q`` is a part of the 档号, a 户号 prefix or a
    part of the 户名."""
    lent = reach(actor, Action.DOSSIER_READ)
    query = (select(Dossier).join(Customer, Customer.id == Dossier.customer_id)
             .join(Unit, Unit.id == Dossier.unit_id)
             .where(or_(in_units(Unit.path, lent.units if lent.levels else ()),
                        Dossier.id.in_(lent.dossiers))))
    if customer:
        query = query.where(Customer.account == customer)
    if category:
        query = query.where(Dossier.category == category)
    if unit:
        query = query.where(Unit.code == unit)
    q = (q or "").strip()
    if q:
        query = query.where(or_(Dossier.archive_number.contains(q, autoescape=True),
                                Customer.account.startswith(q, autoescape=True),
                                Customer.name.contains(q, autoescape=True)))
    page = fetch_page(work.session, query, tag="dossiers",
                      order=[Dossier.created_at, Dossier.id],
                      key=lambda d: (d.created_at, d.id), limit=limit, cursor=cursor)
    counts: dict[str, int] = {dossier_id: count for dossier_id, count in work.session.execute(
        select(Record.dossier_id, func.count()).where(
            Record.dossier_id.in_([d.id for d in page.items])).group_by(Record.dossier_id)
    )} if page.items else {}
    work.record(Event("dossier:list", "dossier", "", details={
        "customer": customer, "category": category, "unit": unit, "q": mask_free_text(q),
        "count": len(page.items)}))
    return Page([(d, counts.get(d.id, 0)) for d in page.items], page.next)


def edit_dossier(work: Work, *, actor: Actor, dossier_id: str, changes: dict[str, str]
                 ) -> Dossier:
    """Correct a dossier's category, security level or the place of its paper originals.
    The category stays within the retention code its 档号 carries (the number is the
    dossier's for good); a new category re-indexes its records, which show it in search."""
    dossier = get_dossier(work.session, actor=actor, dossier_id=dossier_id,
                          action=Action.DOSSIER_UPDATE)
    wanted = {name: value.strip() for name, value in changes.items()}
    if "category" in wanted:
        code = CATEGORIES.get(wanted["category"])
        if code is None:
            raise InvalidInput(f"category must be one of {'、'.join(CATEGORIES)}")
        if code != dossier.retention_code:
            same = "、".join(c for c, r in CATEGORIES.items() if r == dossier.retention_code)
            raise Conflict(f"档号 {dossier.archive_number} carries retention code "
                           f"{dossier.retention_code}; {wanted['category']} dossiers are {code}: "
                           f"file the records in a dossier of that category (this one may "
                           f"be {same})")
    if "security_level" in wanted and wanted["security_level"] not in SECURITY_LEVELS:
        raise InvalidInput(f"security_level must be one of {'、'.join(SECURITY_LEVELS)}")
    before, after = _changed(dossier, wanted)
    for name, value in after.items():
        setattr(dossier, name, value)
    if after.keys() & {"room", "shelf", "box"}:
        _place(dossier, room=dossier.room, shelf=dossier.shelf, box=dossier.box)
    if "category" in after:
        enqueue(work.session, *(r.id for r in dossier.records if r.status == "indexed"))
    work.record(Event("dossier:update", "dossier", dossier_id, details={
        "before": masked_fields(before, {}), "after": masked_fields(after, {})}))
    return dossier
