"""``/api/v1/policies``: the role → action rules, edited by the security admin only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field

from archive.deps import WorkDep, allowed
from archive.schemas import Code
from archive.services.access import Actor
from archive.services.policy import grant_rule, read_rules, revoke_rule
from policies import Action

router = APIRouter(prefix="/policies", tags=["policies"])


class Rule(BaseModel):
    role: Code
    action: str = Field(max_length=64)


@router.get("", response_model=list[Rule])
def read(
    work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.POLICY_EDIT))],
) -> list[Rule]:
    return [Rule(role=r, action=a) for r, a in read_rules(work)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Rule)
def add(
    rule: Rule, work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.POLICY_EDIT))],
) -> Rule:
    grant_rule(work, role=rule.role, action=rule.action)
    return rule


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
def remove(
    role: Annotated[str, Query(max_length=32)], action: Annotated[str, Query(max_length=64)],
    work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.POLICY_EDIT))],
) -> Response:
    revoke_rule(work, role=role, action=action)
    return Response(status_code=204)
