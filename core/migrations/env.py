"""Alembic environment: runs against the engine handed over in ``config.attributes``."""

import warnings

from alembic import context
from sqlalchemy.exc import SAWarning
from sqlmodel import SQLModel

from duban.core import models  # noqa: F401  (registers the tables)
from duban.core.migrations import include_name

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line: read the URL from the environment
    from duban.core.db import get_engine

    engine = get_engine()

# A batch rebuild on SQLite reflects the tables it touches and those they refer to; the
# reflection cannot read the expression index of 0002 on ``obligation`` and says so on the
# terminal. Only rebuilds of ``obligation`` itself would lose it, and none comes after 0002.
warnings.filterwarnings(
    "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
)

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
