"""``/api/v1/records``: upload (202 + job), catalogue metadata, original bytes, access copy,
page text."""

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.datastructures import UploadFile as StarletteUploadFile

from archive.db.models import Record
from archive.deps import (
    SearchDep,
    SessionmakerDep,
    SettingsDep,
    StoreDep,
    TrailDep,
    WorkDep,
    allowed,
)
from archive.errors import Conflict, InvalidInput
from archive.schemas import PageText, RecordAccepted, RecordPublic, RecordText, RecordUpdate
from archive.services.access import Actor
from archive.services.access_copies import ensure_masked_copy, needs_masked_copy
from archive.services.filing import parse_doc_date
from archive.services.indexing import index_soon
from archive.services.jobs.claiming import worker_name
from archive.services.masking import known_values, page_spans, shown_to
from archive.services.records import (
    Upload,
    accept_upload,
    edit_record,
    open_content,
    open_object,
    read_record,
    record_pages,
    stat_object,
)
from archive.services.retention import protect_original
from policies import Action
from storage import ObjectStore

router = APIRouter(prefix="/records", tags=["records"])


def record_public(record: Record, actor: Actor) -> RecordPublic:
    shown = shown_to(actor, record.dossier.unit.path)
    return RecordPublic(
        id=record.id, dossier_id=record.dossier_id,
        archive_number=record.dossier.archive_number,
        customer_account=record.dossier.customer.account, doc_type=record.doc_type,
        title=shown.text(record.title), doc_date=record.doc_date,
        security_level=record.security_level,
        retention_period=record.retention_period, status=record.status,
        page_count=record.page_count, sha256=record.sha256, size=record.size,
        media_type=record.media_type, original_filename=shown.text(record.original_filename),
        created_at=record.created_at, retain_until=record.retain_until,
        destroyed_at=record.destroyed_at,
    )


class UploadFields(BaseModel):
    """The catalogue fields sent with an upload, beside its ``file``."""

    dossier_id: str = Field(max_length=64)
    doc_type: str = Field(description="文件类型, e.g. 供用电合同", max_length=32)
    title: str = Field(max_length=500)
    doc_date: str = Field("", description="YYYY-MM-DD", max_length=10)
    security_level: str = Field("内部", description="公开 / 内部 / 受限", max_length=8)


def _upload_body() -> dict:
    schema = UploadFields.model_json_schema()
    schema["properties"]["file"] = {"type": "string", "format": "binary",
                                    "description": "the scanned or born-digital original"}
    schema["required"] = ["file", *schema.get("required", [])]
    return {"requestBody": {"required": True,
                            "content": {"multipart/form-data": {"schema": schema}}}}


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=RecordAccepted,
             openapi_extra=_upload_body())
async def upload(
    request: Request,
    sessions: SessionmakerDep, settings: SettingsDep, store: StoreDep, trail: TrailDep,
    actor: Annotated[Actor, Depends(allowed(Action.RECORD_CREATE))],
) -> RecordAccepted:
    """File an original (multipart: ``file`` and :class:`UploadFields`). The caller's token
    and right to file are checked before the body is read; a body past the upload limit is
    answered 413 as soon as it passes it, chunked or not."""
    async with request.form(max_files=1, max_fields=len(UploadFields.model_fields)) as form:
        file = form.get("file")
        if not isinstance(file, StarletteUploadFile):
            raise InvalidInput("the upload holds no file part named file")
        try:
            fields = UploadFields.model_validate(
                {k: v for k, v in form.items() if k != "file" and isinstance(v, str)})
        except ValidationError as exc:
            raise RequestValidationError(exc.errors(include_url=False)) from None
        record, job = await run_in_threadpool(
            accept_upload, sessions, actor=actor, store=store,
            ingest_settings=settings.ingest, trail=trail,
            max_bytes=settings.max_upload_bytes, spool_dir=settings.data_dir / "spool",
            upload=Upload(stream=file.file, filename=file.filename or "",
                          dossier_id=fields.dossier_id, doc_type=fields.doc_type,
                          title=fields.title, doc_date=parse_doc_date(fields.doc_date),
                          security_level=fields.security_level))
    request.app.state.dispatcher.announce([job.id])
    return RecordAccepted(record_id=record.id, job_id=job.id)


@router.get("/{record_id}", response_model=RecordPublic)
def read(
    record_id: str, work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.RECORD_READ))],
) -> RecordPublic:
    record = read_record(work, actor=actor, record_id=record_id)
    return record_public(record, actor)


@router.patch("/{record_id}", response_model=RecordPublic)
def edit(
    record_id: str, body: RecordUpdate, work: WorkDep, sessions: SessionmakerDep,
    search: SearchDep, store: StoreDep,
    actor: Annotated[Actor, Depends(allowed(Action.RECORD_UPDATE))],
) -> RecordPublic:
    """Correct the catalogue metadata: title, type, document date, security level (set
    only by whom both levels let read it). A new type or date moves the retention with it,
    never earlier. Audited with the before and after of what changed; search shows the
    change once it is committed."""
    record = edit_record(work, actor=actor, record_id=record_id, changes=body.changes())
    work.after_commit(lambda: protect_original(store, record))  # a later due date, locked
    work.after_commit(lambda: index_soon(sessions, search, holder=worker_name()))
    return record_public(record, actor)


def stream_object(store: ObjectStore, key: str, media_type: str, size: int, filename: str,
            etag: str) -> StreamingResponse:
    stream = open_object(store, key)

    def body() -> Iterator[bytes]:
        try:
            while chunk := stream.read(1024 * 1024):
                yield chunk
        finally:
            stream.close()

    return StreamingResponse(body(), media_type=media_type, headers={
        "Content-Length": str(size),
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        "ETag": f'"{etag}"',
    })


@router.get("/{record_id}/content", response_class=StreamingResponse,
            responses={200: {"content": {"application/pdf": {}, "image/tiff": {}}}})
def content(
    record_id: str, work: WorkDep, store: StoreDep,
    actor: Annotated[Actor, Depends(allowed(Action.RECORD_CONTENT))],
) -> StreamingResponse:
    """The original bytes, exactly as filed; refused (403) to callers who may not see
    personal information (the access copy shows it masked)."""
    record = open_content(work, actor, record_id, "record:content", original=True)
    return stream_object(store, record.original_key, record.media_type, record.size,
                   record.original_filename or record.id, record.sha256)


@router.get("/{record_id}/access-copy", response_class=StreamingResponse,
            responses={200: {"content": {"application/pdf": {}}}})
def access_copy(
    record_id: str, work: WorkDep, store: StoreDep,
    settings: SettingsDep, actor: Annotated[Actor, Depends(allowed(Action.RECORD_CONTENT))],
) -> StreamingResponse:
    """The searchable PDF (page images with an invisible text layer) made at ingest; a
    born-digital PDF is its own access copy. A caller who may not see personal
    information gets a copy of their own, whose text is masked and whose pages show the
    personal characters painted over (text-layer pages drawn as images)."""
    record = open_content(work, actor, record_id, "record:access-copy")
    stem = Path(record.original_filename or record.id).stem
    if record.status != "indexed":
        raise Conflict(f"record {record_id} has no access copy yet (status {record.status})")
    if not shown_to(actor, record.dossier.unit.path).personal and needs_masked_copy(work.session,
                                                                                    record):
        key = ensure_masked_copy(work.session, store, record, settings=settings.ingest,
                                 spool_dir=settings.data_dir / "spool")
        info = stat_object(store, key)
        return stream_object(store, key, "application/pdf", info.size,
                             f"{stem}.searchable.pdf", info.sha256)
    if record.access_key is not None:
        info = stat_object(store, record.access_key)
        return stream_object(store, record.access_key, "application/pdf", info.size,
                       f"{stem}.searchable.pdf", info.sha256 or record.sha256)
    if record.media_type == "application/pdf":
        return stream_object(store, record.original_key, record.media_type, record.size,
                       f"{stem}.pdf", record.sha256)
    raise Conflict(f"record {record_id} has no access copy (status {record.status})")


@router.get("/{record_id}/text", response_model=RecordText)
def text(
    record_id: str, work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.RECORD_CONTENT))],
) -> RecordText:
    record = open_content(work, actor, record_id, "record:text")
    shown = shown_to(actor, record.dossier.unit.path)
    known = known_values(record.dossier.customer)
    return RecordText(pages=[
        PageText(number=p.number, text=shown.page(p.text, page_spans(p, known)),
                 source=p.source, confidence=p.confidence)
        for p in record_pages(work.session, record)
    ])
