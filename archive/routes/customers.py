"""``/api/v1/customers``: 客户."""

from typing import Annotated

from fastapi import APIRouter, Depends, status

from archive.db.models import Customer
from archive.deps import SessionDep, TrailDep, allowed
from archive.schemas import CustomerCreate, CustomerPublic
from archive.services.access import Actor, sees_personal
from archive.services.audit import Event
from archive.services.filing import create_customer, get_customer
from archive.services.masking import mask_id_number, mask_phone
from policies import Action

router = APIRouter(prefix="/customers", tags=["customers"])


def customer_public(customer: Customer, actor: Actor) -> CustomerPublic:
    personal = sees_personal(actor, customer.unit.path)
    return CustomerPublic(
        account=customer.account, name=customer.name, customer_class=customer.customer_class,
        voltage=customer.voltage, address=customer.address,
        phone=customer.phone if personal else mask_phone(customer.phone),
        id_number=customer.id_number if personal else mask_id_number(customer.id_number),
        unit=customer.unit.code,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CustomerPublic)
def create(
    body: CustomerCreate, session: SessionDep, trail: TrailDep,
    actor: Annotated[Actor, Depends(allowed(Action.CUSTOMER_CREATE))],
) -> CustomerPublic:
    customer = create_customer(session, actor=actor, **body.model_dump())
    trail.record(session, Event("customer:create", "customer", customer.account))
    session.commit()
    return customer_public(customer, actor)


@router.get("/{account}", response_model=CustomerPublic)
def read(
    account: str, session: SessionDep, trail: TrailDep,
    actor: Annotated[Actor, Depends(allowed(Action.CUSTOMER_READ))],
) -> CustomerPublic:
    customer = get_customer(session, actor=actor, account=account)
    trail.record(session, Event("customer:read", "customer", account))
    session.commit()
    return customer_public(customer, actor)
