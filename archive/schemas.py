"""Request and response bodies of the REST API (``<Entity>Create`` / ``<Entity>Public``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Bounds of what a client may send: no field takes a megabyte (refused with 422).
Id = Annotated[str, Field(max_length=64)]  # record, dossier, request, proposal ids
Code = Annotated[str, Field(max_length=32)]  # unit codes, roles, types, categories, 户号
Label = Annotated[str, Field(max_length=200)]  # names, receivers, locations
Note = Annotated[str, Field(max_length=1000)]  # purposes, reasons, notes
Level = Literal["公开", "内部", "受限"]


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 scheme name
    password_change_required: bool = Field(
        False, description="a reset password: every route but POST /auth/password answers "
                           "403 password_change_required until it is changed")


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class UnitRole(BaseModel):
    role: str
    role_label: str
    code: str = Field(description="the unit's code")
    name: str = Field(description="the unit's name")


class Me(BaseModel):
    username: str
    role: str
    role_label: str
    unit: str
    clearance: str
    personal_info: bool
    password_change_required: bool = False
    actions: list[str] = Field(default_factory=list,
                               description="the actions the caller's roles hold somewhere")
    units: list[UnitRole] = Field(default_factory=list,
                                  description="the units the caller holds a role in")
    csrf_token: str | None = Field(None, description="the web session's CSRF token")


class SessionCreate(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class SessionPublic(BaseModel):
    username: str
    password_change_required: bool = False
    csrf_token: str = Field(description="sent back as X-CSRF-Token on every request that "
                                        "changes anything")


class PasswordChanged(BaseModel):
    access_token: str | None = Field(None, description="the new bearer token (integrators)")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 scheme name
    csrf_token: str | None = Field(None, description="the web session's new CSRF token")


class CustomerCreate(BaseModel):
    account: Code = Field(description="户号 account number")
    name: Label = Field(description="户名")
    customer_class: Literal["高压", "低压"]
    voltage: str = Field("", max_length=16)
    address: str = Field("", max_length=500)
    phone: Code = ""
    id_number: Code = ""
    unit: Code = Field(description="code of the owning unit")


class CustomerPublic(BaseModel):
    account: str
    name: str
    customer_class: str
    voltage: str
    address: str
    phone: str
    id_number: str
    unit: str


class DossierCreate(BaseModel):
    customer_account: Code
    category: Code = Field(
        description="分类: 业扩报装, 变更用电, 电能计量, 用电检查, 抄核收, 客户信息服务")
    unit: Code | None = None
    security_level: Level = "内部"
    location: Label = Field("", description="room / shelf / box of the paper original")


class RecordSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    doc_type: str
    title: str
    doc_date: date | None
    security_level: str
    status: str
    page_count: int


class DossierPublic(BaseModel):
    id: str
    archive_number: str
    customer_account: str
    customer_name: str
    category: str
    retention_code: str
    unit: str
    security_level: str
    location: str
    created_at: datetime
    records: list[RecordSummary] = []


class RecordAccepted(BaseModel):
    record_id: str
    job_id: str


class RecordPublic(BaseModel):
    id: str
    dossier_id: str
    archive_number: str
    customer_account: str
    doc_type: str
    title: str
    doc_date: date | None
    security_level: str
    retention_period: str
    status: str
    page_count: int
    sha256: str
    size: int
    media_type: str
    original_filename: str
    created_at: datetime
    retain_until: date | None = Field(None, description="到期日; none while permanent (永久)")
    destroyed_at: datetime | None = None


class PageText(BaseModel):
    number: int
    text: str
    source: str
    confidence: float | None = None


class RecordText(BaseModel):
    pages: list[PageText]


class JobPublic(BaseModel):
    id: str
    record_id: str | None = Field(description="the record read; for an inbox item, the "
                                              "record it was filed as, once filed")
    inbox_id: str | None = None
    status: Literal["queued", "running", "done", "failed"]
    progress: float = Field(description="share of pages done, 0–1")
    pages_done: int
    pages_total: int
    error: str | None = Field(description="why the last attempt failed, if it did")
    attempts: int
    retry_at: datetime | None = Field(description="when a failed attempt is tried again")


class IndexRefusalPublic(BaseModel):
    record_id: str
    title: str
    reason: str = Field(description="why the search index refused the record")
    attempts: int
    refused_at: datetime


class Highlight(BaseModel):
    page: int = Field(description="the page the fragment is from (1 = first)")
    text: str = Field(description=(
        "HTML-safe fragment of the page: the page text is escaped, and only the hits are "
        "markup, wrapped in <em>…</em>. Personal numbers are masked for callers without "
        "the personal-information clearance. Every other field of an answer is plain "
        "text, to be escaped by whoever displays it."))


class SearchHit(BaseModel):
    record_id: str
    dossier_id: str
    customer_account: str
    customer_name: str
    doc_type: str
    category: str
    title: str
    doc_date: date | None
    unit: str
    security_level: str
    score: float
    highlights: list[Highlight] = Field(description="empty unless access is granted")
    access: Literal["granted", "restricted"] = Field(description=(
        "granted: the caller may read the record's content (GET records/{id}/text answers "
        "200); restricted: catalogue fields only, and the record matched on them alone"))


class SearchResponse(BaseModel):
    total: int
    page: int
    size: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]] = Field(description=(
        "records per value of doc_type, category, unit, security_level and customer_class, "
        "and per year of the document date under year (\"2023\", newest first; records "
        "without a date are in no year), counting only the records this search finds"))
    next: str | None = Field(None, description="cursor for the following page (after=…)")


class ErrorBody(BaseModel):
    error: str
    detail: str


# Paged lists: ``{"items": [...], "next": cursor or null}`` (archive.services.paging).

ItemT = TypeVar("ItemT")


class ItemsPage(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next: str | None = Field(description="cursor of the following page (pass as cursor=…); "
                                         "null on the last page")


class CustomerPage(ItemsPage[CustomerPublic]):
    pass


class DossierItem(BaseModel):
    """A dossier as a list shows it: its read's fields without the records, and how many
    records it holds."""

    id: str
    archive_number: str
    customer_account: str
    customer_name: str
    category: str
    retention_code: str
    unit: str
    security_level: str
    location: str
    created_at: datetime
    record_count: int


class DossierPage(ItemsPage[DossierItem]):
    pass


class RecordPage(ItemsPage[RecordSummary]):
    pass


class JobPage(ItemsPage[JobPublic]):
    pass


# Edits (PATCH): any subset of the fields, at least one; an unknown field is refused.

class Edit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # fields that may be set to null (cleared); every other field takes a value
    CLEARABLE: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _something_to_change(self) -> Edit:
        if not self.model_fields_set:
            raise ValueError("nothing to change: send at least one field")
        for name in sorted(self.model_fields_set - self.CLEARABLE):
            if getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self

    def changes(self) -> dict[str, object]:
        """The fields the client sent, with their values."""
        return self.model_dump(include=self.model_fields_set)


class CustomerUpdate(Edit):
    name: Label | None = Field(None, description="户名")
    customer_class: Literal["高压", "低压"] | None = None
    voltage: str | None = Field(None, max_length=16)
    address: str | None = Field(None, max_length=500)
    phone: Code | None = Field(None, description="'' removes it")
    id_number: Code | None = Field(None, description="'' removes it")


class DossierUpdate(Edit):
    category: Code | None = Field(
        None, description="分类, within the retention code its 档号 carries (业扩报装 and 变更用电 "
                          "are Y; 电能计量 and 用电检查 D30; 抄核收 and 客户信息服务 D10)")
    security_level: Level | None = None
    room: str | None = Field(None, max_length=32, description="库房")
    shelf: str | None = Field(None, max_length=32, description="架")
    box: str | None = Field(None, max_length=32, description="盒")


class RecordUpdate(Edit):
    CLEARABLE: ClassVar[frozenset[str]] = frozenset({"doc_date"})

    title: str | None = Field(None, max_length=500)
    doc_type: Code | None = Field(None, description="文件类型, e.g. 供用电合同")
    doc_date: date | None = Field(None, description="null: the record has no date")
    security_level: Level | None = None
