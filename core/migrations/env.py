"""Alembic environment: runs against the engine handed over in ``config.attributes``."""

from alembic import context
from sqlmodel import SQLModel

from duban.core import models  # noqa: F401  (registers the tables)
from duban.core.migrations import include_name

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line: read the URL from the environment
    from duban.core.db import get_engine

    engine = get_engine()

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
