"""Errors a user can cause and fix; the CLI prints them as one line, never a traceback."""


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
