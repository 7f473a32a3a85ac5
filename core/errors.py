"""Errors a user can cause and fix; the CLI prints them as one line, never a traceback."""

from collections.abc import Iterator
from contextlib import contextmanager


class UserError(Exception):
    """Bad input or a refused action. The message is already translated and names what and where."""

    exit_code = 2


class PermissionDenied(UserError):
    """The actor's role does not allow the action."""

    exit_code = 3


class NotFound(UserError):
    """An id, name or key that does not exist."""

    exit_code = 4


class Conflict(UserError):
    """The record changed underneath (optimistic locking) or a state transition is not allowed."""

    exit_code = 5


@contextmanager
def located(where: str) -> Iterator[None]:
    """Prefix a UserError raised inside with the place in a file (``path:line``). Whatever
    the shared check raised, a file naming something unknown is bad input (exit 2); only a
    refused permission keeps its own code."""
    try:
        yield
    except PermissionDenied:
        raise
    except UserError as exc:
        raise UserError(f"{where}: {exc}") from None
