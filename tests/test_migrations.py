"""The migrations build exactly the schema the models describe (on this run's database)."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from app.extensions import db


def test_models_and_migrations_agree(ctx):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []
