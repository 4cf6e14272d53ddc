"""``/api/v1/customers``: 客户."""

from typing import Annotated

from fastapi import APIRouter, Depends, status

from archive.db.models import Customer
from archive.deps import WorkDep, allowed
from archive.schemas import CustomerCreate, CustomerPublic
from archive.services.access import Actor
from archive.services.filing import read_customer, register_customer
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


@router.get("/{account}", response_model=CustomerPublic)
def read(
    account: str, work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.CUSTOMER_READ))],
) -> CustomerPublic:
    customer = read_customer(work, actor=actor, account=account)
    return customer_public(customer, actor)
