"""Helper processes: a module of duban run by this interpreter on the second core while this
process goes on, its answer read back through a pipe (``judging`` for a large evaluation,
``obligation_lines`` for a large import). Whoever starts one keeps working without it where
it cannot start or fails: a helper only ever makes an answer come sooner."""

from __future__ import annotations

import subprocess
import sys
from typing import IO, Any


def command(module: str) -> tuple[str, ...]:
    """How a helper is started: ``module`` run by this interpreter, without the working
    directory on its path (-P: a file there must not shadow a module). Empty in an embedded
    interpreter, which has no command to start."""
    return (sys.executable, "-P", "-m", module) if sys.executable else ()


def start(
    argv: tuple[str, ...], *args: str, stdin: int | IO[Any] | None
) -> subprocess.Popen[bytes] | None:
    """The helper ``argv`` (``command``'s) started with ``args``, answering on a pipe; None
    where it cannot start."""
    if not argv or not argv[0]:
        return None
    try:
        return subprocess.Popen(
            [*argv, *args], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
    except OSError:
        return None


def end(process: subprocess.Popen[bytes], *, kill: bool) -> None:
    """Wait for the helper, killing it first where ``kill`` and it still runs (its answer is
    no longer wanted: it failed, or what asked for it did)."""
    if kill and process.poll() is None:
        process.kill()
    if process.stdout is not None:
        process.stdout.close()
    process.wait()
