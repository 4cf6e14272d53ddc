"""The metadata database on SQLite and PostgreSQL: migrations, constraints, numbering."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from archive.db.migrate import upgrade
from archive.db.models import Base, Record
from archive.db.session import make_engine, make_sessionmaker
from archive.errors import Conflict, InvalidInput, NotFound
from archive.services.accounts import (
    actor_for,
    add_unit,
    add_user,
    ensure_root_unit,
)
from archive.services.filing import create_customer, create_dossier, next_archive_number
from archive.services.logins import check_credentials
from archive.settings import ArchiveNumberSettings
from policies import CasbinAuthorizer
from tests.factories import postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def engine(request: pytest.FixtureRequest, tmp_path):
    if request.param == "sqlite":
        built = make_engine(f"sqlite:///{tmp_path / 'archive.db'}")
        upgrade(built)
        yield built
        built.dispose()
        return
    with postgres_database() as url:
        built = make_engine(url)
        upgrade(built)
        yield built
        built.dispose()


@pytest.fixture
def sessions(engine):
    made = make_sessionmaker(engine)
    with made.begin() as session:
        ensure_root_unit(session, code="root", name="供电公司")
        add_unit(session, code="hz", name="杭州供电公司", parent_code="root")
        add_user(session, username="archivist", password="long-enough-pw", role="archivist",
                 unit_code="hz")
    return made


def test_migration_creates_every_model_table(engine) -> None:
    tables = set(sa.inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    upgrade(engine)  # running again is a no-op


def test_unit_tree_paths_and_duplicates(sessions) -> None:
    with sessions.begin() as session:
        unit = add_unit(session, code="xh", name="西湖供电所", parent_code="hz")
        assert unit.path == "/root/hz/xh/"
    with sessions.begin() as session, pytest.raises(Conflict):
        add_unit(session, code="xh", name="again", parent_code="hz")
    with sessions.begin() as session, pytest.raises(NotFound):
        add_unit(session, code="yy", name="orphan", parent_code="nowhere")
    with sessions.begin() as session, pytest.raises(InvalidInput):
        add_unit(session, code="Bad Code", name="x", parent_code="hz")


def test_passwords_are_hashed_and_checked(sessions) -> None:
    with sessions() as session:
        stored = session.execute(sa.text("SELECT password_hash FROM users")).scalar_one()
        assert stored.startswith("$argon2id$")
    engine = sessions.kw["bind"]
    assert check_credentials(engine, "archivist", "long-enough-pw").username == "archivist"
    assert check_credentials(engine, "archivist", "nope") is None
    assert check_credentials(engine, "ghost", "long-enough-pw") is None
    for weak in ("short", "aaaaaaaaa1", "password123", "1qaz2wsx3edc", "woaini1314520",
                 "weak-weak-weak"):
        with sessions.begin() as session, pytest.raises(InvalidInput):
            add_user(session, username="weak", password=weak, role="staff", unit_code="hz")


def test_customer_account_is_unique(sessions) -> None:
    with sessions.begin() as session:
        actor = actor_for(session, "archivist", CasbinAuthorizer(sessions.kw["bind"]))
        create_customer(session, actor=actor, account="3300012345", name="张伟",
                        customer_class="低压", unit="hz")
    with sessions.begin() as session, pytest.raises(Conflict):
        create_customer(session, actor=actor, account="3300012345", name="李娜",
                        customer_class="低压", unit="hz")


def test_sha256_of_originals_is_unique(sessions) -> None:
    numbering = ArchiveNumberSettings()
    with sessions.begin() as session:
        actor = actor_for(session, "archivist", CasbinAuthorizer(sessions.kw["bind"]))
        create_customer(session, actor=actor, account="3300012345", name="张伟",
                        customer_class="低压", unit="hz")
        dossier = create_dossier(session, actor=actor, numbering=numbering,
                                 customer_account="3300012345", category="业扩报装")
        dossier_id = dossier.id

    def record() -> Record:
        return Record(dossier_id=dossier_id, doc_type="用电申请书", title="t",
                      doc_date=date(2023, 1, 1), security_level="内部", retention_period="Y",
                      sha256="a" * 64, size=1, media_type="application/pdf",
                      original_key="originals/aa/" + "a" * 64, created_by=1)

    with sessions.begin() as session:
        session.add(record())
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(record())


def test_archive_numbers_are_unique_under_concurrency(sessions) -> None:
    """GIVEN 16 concurrent filings under one prefix
    WHEN each takes the next item number THEN all numbers differ and run 0001…0016."""
    numbering = ArchiveNumberSettings()

    def take(_: int) -> str:
        for _attempt in range(20):
            try:
                with sessions.begin() as session:
                    return next_archive_number(session, numbering=numbering, year=2023,
                                               retention_code="Y")[0]
            except sa.exc.OperationalError:  # SQLite "database is locked": try again
                continue
        raise AssertionError("could not take a number")

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(take, range(16)))
    assert sorted(numbers) == [f"0421-KH·2023-Y-YX-{i:04d}" for i in range(1, 17)]
