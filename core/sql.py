"""SQL text that the lean path and the ORM's services share, beyond any one query."""

from __future__ import annotations


def id_in(dialect: str, column: str, select: str) -> str:
    """``column IN (select)``; on PostgreSQL as an array, built once and probed in order
    through an index, whatever the planner guesses of its size (a guess of a few thousand
    made it join the ids by rescanning them for every row, or join owners again for each)."""
    if dialect == "postgresql":
        return f"{column} = ANY(ARRAY({select}))"
    return f"{column} IN ({select})"
