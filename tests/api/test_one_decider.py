"""One decider: the worker's auto-filing and the CLI ask the same enforcer as requests do,
and a policy edit changes search and content alike from the next request on."""

from __future__ import annotations

import io

import casbin
import pytest
from typer.testing import CliRunner

from archive.cli import app as cli
from archive.db.models import InboxItem
from archive.services.accounts import actor_for
from archive.services.audit import Trail
from archive.services.inbox import accept_to_inbox
from archive.services.jobs import JobContext, Worker
from tests import documents
from tests.factories import (
    cli_environment,
    create_customer,
    create_dossier,
    login,
    upload,
    wait_for_job,
)

ACCOUNT = "3300012345"


@pytest.fixture
def settings(backend_set, tmp_path):
    from tests.factories import bootstrap, make_settings

    with make_settings(backend_set, tmp_path, embedded_worker=False) as built:
        bootstrap(built)
        yield built


def _auto_file(client, settings, text: str) -> InboxItem:
    """Import a document into the inbox as the archivist, and let a worker read it."""
    state = client.app.state
    with state.sessions() as session:
        actor = actor_for(session, "archivist", state.authorizer)
    item, _ = accept_to_inbox(state.sessions, actor=actor,
                              stream=io.BytesIO(documents.text_pdf([text])),
                              filename="scan.pdf", store=state.store,
                              ingest_settings=settings.ingest,
                              max_bytes=settings.max_upload_bytes,
                              spool_dir=settings.data_dir / "spool",
                              trail=Trail(settings.audit.key, actor, "test"))
    Worker(JobContext.of(settings, sessions=state.sessions, store=state.store,
                         search=state.search, authorizer=state.authorizer)).run_pending()
    with state.sessions() as session:
        return session.get(InboxItem, item.id)


def test_auto_filing_asks_the_enforcer(client, settings, monkeypatch) -> None:
    """GIVEN a customer of the importer's unit WHEN the enforcer refuses everything THEN
    the worker files nothing (the item waits); as it allows again, the next one is filed."""
    create_customer(client, login(client, "archivist"), ACCOUNT)
    with monkeypatch.context() as patched:
        patched.setattr(casbin.Enforcer, "enforce", lambda self, *args, **kwargs: False)
        client.app.state.authorizer.refresh(force=True)  # nothing remembered from before
        refused = _auto_file(client, settings, f"用电申请书\n户号：{ACCOUNT}\n申请新装")
    client.app.state.authorizer.refresh(force=True)
    assert refused.status == "waiting" and refused.record_id is None
    assert f"customer {ACCOUNT} is not in the archive" in refused.reason
    filed = _auto_file(client, settings, f"用电申请书\n户号：{ACCOUNT}\n申请增容")
    assert filed.status == "filed" and filed.record_id is not None


def test_the_cli_asks_the_enforcer(settings, tmp_path, monkeypatch) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(documents.text_pdf([f"用电申请书\n户号：{ACCOUNT}"]))
    cli_environment(monkeypatch, settings)
    with monkeypatch.context() as patched:
        patched.setattr(casbin.Enforcer, "enforce", lambda self, *args, **kwargs: False)
        refused = CliRunner().invoke(cli, ["import", str(folder), "--as", "archivist"])
    assert refused.exit_code == 1
    assert "may not record:create" in " ".join(refused.output.split())
    accepted = CliRunner().invoke(cli, ["import", str(folder), "--as", "archivist"])
    assert accepted.exit_code == 0, accepted.output


def test_a_policy_edit_changes_search_and_content_alike(client, settings) -> None:
    """GIVEN a clerk reading a record WHEN the security admin removes the clerks'
    record:content THEN on the very next requests /text refuses and search grants no
    highlight and matches no page text; restored, both answer again."""
    archivist, secadmin = login(client, "archivist"), login(client, "secadmin")
    create_customer(client, archivist, ACCOUNT)
    dossier = create_dossier(client, archivist, ACCOUNT)["id"]
    accepted = upload(client, archivist, dossier, documents.text_pdf(["用电申请书 窃电整改通知"]),
                      doc_type="用电申请书", title="用电申请书").json()
    state = client.app.state
    Worker(JobContext.of(settings, sessions=state.sessions, store=state.store,
                         search=state.search, authorizer=state.authorizer)).run_pending()
    assert wait_for_job(client, archivist, accepted["job_id"])["status"] == "done"
    record = accepted["record_id"]
    clerk = login(client, "clerk")

    def answers() -> tuple[int, list, list]:
        text = client.get(f"/api/v1/records/{record}/text", headers=clerk).status_code
        by_title = client.get("/api/v1/search", params={"q": "用电申请书"},
                              headers=clerk).json()["hits"]
        by_page = client.get("/api/v1/search", params={"q": '"窃电整改通知"'},
                             headers=clerk).json()["hits"]
        return (text, [(h["access"], bool(h["highlights"])) for h in by_title],
                [h["record_id"] for h in by_page])

    assert answers() == (200, [("granted", True)], [record])
    rule = {"role": "staff", "action": "record:content"}
    assert client.request("DELETE", "/api/v1/policies", params=rule,
                          headers=secadmin).status_code == 204
    assert answers() == (403, [("restricted", False)], [])
    assert client.post("/api/v1/policies", json=rule, headers=secadmin).status_code == 201
    assert answers() == (200, [("granted", True)], [record])
