"""The metadata database: models, engine and session, Alembic migrations."""
