"""``/api/v1/customers``: 客户."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, status

from archive.db.models import Customer
from archive.deps import SearchDep, SessionmakerDep, WorkDep, allowed
from archive.routes.paging import DEFAULT_LIMIT, Cursor, Limit, Search
from archive.schemas import Code, CustomerCreate, CustomerPage, CustomerPublic, CustomerUpdate
from archive.services.access import Actor
from archive.services.filing import (
    edit_customer,
    list_customers,
    read_customer,
    register_customer,
)
from archive.services.indexing import index_soon
from archive.services.jobs.claiming import worker_name
from archive.services.masking import shown_to
from policies import Action

router = APIRouter(prefix="/customers", tags=["customers"])


def customer_public(customer: Customer, actor: Actor) -> CustomerPublic:
    shown = shown_to(actor, customer.unit.path)
    return CustomerPublic(
        account=customer.account, name=shown.text(customer.name),
        customer_class=customer.customer_class,
        voltage=customer.voltage, address=shown.text(customer.address),
        phone=shown.field("phone", customer.phone),
        id_number=shown.field("id", customer.id_number),
        unit=customer.unit.code,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CustomerPublic)
def create(
    body: CustomerCreate, work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.CUSTOMER_CREATE))],
) -> CustomerPublic:
    customer = register_customer(work, actor=actor, **body.model_dump())
    return customer_public(customer, actor)


@router.get("", response_model=CustomerPage)
def index(
    work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.CUSTOMER_READ))],
    q: Search = None,
    unit: Code | None = None,
    customer_class: Literal["高压", "低压"] | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> CustomerPage:
    """Customers of the caller's units by 户号 (type-ahead: ``q`` is a 户号 prefix or a
    part of the 户名), masked as each one's read is."""
    page = list_customers(work, actor=actor, q=q, unit=unit, customer_class=customer_class,
                          limit=limit, cursor=cursor)
    return CustomerPage(items=[customer_public(c, actor) for c in page.items], next=page.next)


@router.get("/{account}", response_model=CustomerPublic)
def read(
    account: str, work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.CUSTOMER_READ))],
) -> CustomerPublic:
    customer = read_customer(work, actor=actor, account=account)
    return customer_public(customer, actor)


@router.patch("/{account}", response_model=CustomerPublic)
def edit(
    account: str, body: CustomerUpdate, work: WorkDep, sessions: SessionmakerDep,
    search: SearchDep, actor: Annotated[Actor, Depends(allowed(Action.CUSTOMER_UPDATE))],
) -> CustomerPublic:
    """Correct any of the customer's fields (checked as at registration); audited with
    the before and after of what changed. Its records show the new 户名, address and class
    in search."""
    customer = edit_customer(work, actor=actor, account=account, changes=body.changes())
    work.after_commit(lambda: index_soon(sessions, search, holder=worker_name()))
    return customer_public(customer, actor)
