"""Uploads over real HTTP: the token and the right to file are checked before the body is
read, the size limit holds while a chunked body streams in, nothing is left in the spool,
and an original stored by a process killed before its row was committed is found by
``archive verify`` and removed by ``--repair``."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from archive.app import create_app
from tests import documents
from tests.factories import (
    PASSWORD,
    bootstrap,
    create_customer,
    create_dossier,
    login,
    make_settings,
    upload,
)
from tests.factories import served as serve

ARCHIVE = str(Path(sys.executable).with_name("archive"))
CHUNK = 64 * 1024
MEGABYTE = 1024 * 1024


@pytest.fixture
def served(tmp_path):
    """The app on a real port, with a 256 KB upload limit."""
    with make_settings("embedded", tmp_path, max_upload_bytes=256 * 1024) as settings:
        bootstrap(settings)
        with serve(settings) as port:
            yield settings, port


def _stream(port: int, headers: dict[str, str], fields: dict[str, str],
            cap: int = 64 * MEGABYTE) -> tuple[int, int]:
    """POST a chunked multipart upload of an endless file, 64 KB every 2 ms, until the
    server answers; (its status, the bytes of body sent by then)."""
    boundary = "archive-test-boundary"
    head = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n"
                   f"{v}\r\n" for k, v in fields.items())
    head += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
             f"filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n")
    request = (f"POST /api/v1/records HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
               "Transfer-Encoding: chunked\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n")
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CHUNK)
    sock.settimeout(2)
    sent = 0

    def chunk(data: bytes) -> None:
        nonlocal sent
        sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        sent += len(data)

    try:
        sock.sendall(request.encode())
        chunk(head.encode())
        while sent < cap and not select.select([sock], [], [], 0)[0]:
            chunk(b"0" * CHUNK)
            time.sleep(0.002)
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        pass  # the server answered and stopped reading
    answer = b""
    try:
        while b"\r\n\r\n" not in answer:
            part = sock.recv(4096)
            if not part:
                break
            answer += part
    finally:
        sock.close()
    # a refused upload closes its connection: the rest of the body is not read for nothing
    assert b"connection: close" in answer.lower(), answer
    return int(answer.split(b" ", 2)[1]), sent


def _spool_left(settings) -> list[Path]:
    spool = settings.data_dir / "spool"
    return list(spool.rglob("*")) if spool.exists() else []


def _token(port: int, username: str = "archivist") -> str:
    import json
    import urllib.parse
    import urllib.request

    body = urllib.parse.urlencode({"username": username, "password": PASSWORD}).encode()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/auth/token", body) as answer:
        return json.loads(answer.read())["access_token"]


def test_a_chunked_upload_without_a_token_is_refused_before_its_body(served) -> None:
    settings, port = served
    status, sent = _stream(port, {}, {"dossier_id": "x", "doc_type": "供用电合同",
                                      "title": "t"})
    assert status == 401
    assert sent <= MEGABYTE, f"{sent} bytes were sent before the 401"
    assert _spool_left(settings) == []


def test_a_clerk_may_not_file_and_is_told_before_the_body(served) -> None:
    _, port = served
    status, sent = _stream(port, {"Authorization": f"Bearer {_token(port, 'clerk')}"}, {})
    assert status == 403 and sent <= MEGABYTE


def test_a_chunked_upload_past_the_limit_is_refused_as_it_passes(served) -> None:
    settings, port = served
    with TestClient(create_app(settings)) as client:
        archivist = login(client, "archivist")
        create_customer(client, archivist, "3300012345")
        dossier = create_dossier(client, archivist, "3300012345")["id"]
    status, sent = _stream(port, {"Authorization": f"Bearer {_token(port)}"},
                           {"dossier_id": dossier, "doc_type": "供用电合同", "title": "合同"})
    assert status == 413
    assert 256 * 1024 <= sent <= MEGABYTE, f"{sent} bytes were sent before the 413"
    assert _spool_left(settings) == []


CRASH = """
import os, signal, sys
from archive.settings import get_settings
from archive.db.session import make_engine, make_sessionmaker
from archive.services import records
from archive.services.accounts import actor_for
from archive.services.audit import Trail
from archive.services.filing import parse_doc_date
from policies import CasbinAuthorizer
from storage import make_store

settings = get_settings()
engine = make_engine(settings.database_url)
sessions = make_sessionmaker(engine)
with sessions() as session:
    actor = actor_for(session, "archivist", CasbinAuthorizer(engine))
def die(*_):
    os.kill(os.getpid(), signal.SIGKILL)

if sys.argv[3] == "spooled":  # the upload spooled, not yet checked or stored
    records._check_document = die
else:  # stored, not yet committed
    records.filing_date = die
with open(sys.argv[1], "rb") as stream:
    records.accept_upload(
        sessions, actor=actor, store=make_store(settings.storage),
        ingest_settings=settings.ingest, max_bytes=settings.max_upload_bytes,
        spool_dir=settings.data_dir / "spool", trail=Trail(settings.audit.key, actor, "cli"),
        upload=records.Upload(stream=stream, filename="a.pdf", dossier_id=sys.argv[2],
                              doc_type="供用电合同", title="合同",
                              doc_date=parse_doc_date(""), security_level="内部"))
"""


@pytest.fixture
def embedded(tmp_path):
    """The embedded defaults in a data folder the CLI reads by ARCHIVE_DATA_DIR."""
    with make_settings("embedded", tmp_path) as settings:
        bootstrap(settings)
        with TestClient(create_app(settings)) as client:
            yield settings, client


def test_an_original_stored_by_a_process_killed_before_its_commit_is_found_and_removed(
        embedded, tmp_path) -> None:
    settings, client = embedded
    archivist = login(client, "archivist")
    create_customer(client, archivist, "3300012345")
    dossier = create_dossier(client, archivist, "3300012345")["id"]
    original = tmp_path / "a.pdf"
    original.write_bytes(documents.text_pdf(["供用电合同 第一条"]))
    env = {**os.environ, "ARCHIVE_DATA_DIR": str(settings.data_dir)}
    for where in ("spooled", "stored"):
        crashed = subprocess.run([sys.executable, "-c", CRASH, str(original), dossier, where],
                                 env=env, capture_output=True, text=True)
        assert crashed.returncode == -9, crashed.stderr
    assert _spool_left(settings), "the killed process left its spool folder"
    def verify(*args: str, **extra: str) -> tuple[int, str]:
        done = subprocess.run([ARCHIVE, "verify", *args], env={**env, **extra},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return done.returncode, " ".join(done.stdout.split())

    code, reported = verify()
    assert code == 1 and "orphan objects: 1" in reported and "originals/" in reported, reported
    _, young = verify("--repair")
    assert "removed 0 orphan objects" in young and "younger than" in young
    _, repaired = verify("--repair", ARCHIVE_JOB_LEASE_SECONDS="0")
    assert "removed 1 orphan objects" in repaired, repaired
    code, clean = verify()
    assert code == 0 and "orphan objects: none" in clean, clean
    # the next start sweeps the dead process's spool folder
    with TestClient(create_app(settings)):
        assert _spool_left(settings) == []


def test_repair_looks_again_before_it_removes(embedded) -> None:
    """An orphan listed, then named by an upload of the same file committed meanwhile, is
    kept; bytes no metadata describes are reported, not silently passed over."""
    from datetime import UTC, datetime, timedelta

    from archive.services.orphans import find_orphans, remove_orphans
    from archive.services.records import original_key

    settings, client = embedded
    state = client.app.state
    content = documents.text_pdf(["供用电合同 第一条 修复前再看一次"])
    import hashlib
    import io

    key = original_key(hashlib.sha256(content).hexdigest())
    state.store.put(key, io.BytesIO(content), content_type="application/pdf")
    stray = settings.storage.filesystem.root / "data" / "originals" / "ab" / "no-metadata"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"not ours")
    with state.sessions() as session:
        listed = find_orphans(session, state.store)
    assert {o.key for o in listed} == {key, "originals/ab/no-metadata"}
    archivist = login(client, "archivist")
    create_customer(client, archivist, "3300012345")
    dossier = create_dossier(client, archivist, "3300012345")["id"]
    assert upload(client, archivist, dossier, content).status_code == 202
    removed, kept = remove_orphans(state.sessions, state.store, listed,
                                   now=datetime.now(UTC) + timedelta(days=1),
                                   older_than=timedelta(0))
    assert removed == []
    assert dict((o.key, why) for o, why in kept) == {
        key: "named by a row since it was listed",
        "originals/ab/no-metadata": "its metadata cannot be read: look at it by hand"}
    assert state.store.exists(key)
