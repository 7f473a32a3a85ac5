"""What deliveries of one pass share: one pooled HTTP client for the robots and one SMTP
connection for the e-mails, opened when first needed and closed at the end of the pass; and
the errors channels raise."""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from email.message import EmailMessage

    import httpx


class DeliveryError(Exception):
    """The far end refused or failed the delivery."""


class RateLimited(DeliveryError):
    """The far end asked to slow down; the message was not taken and may go again later."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SmtpLink:
    """One SMTP connection for the e-mails of a pass, used by one sender at a time. After an
    error it is closed, and the next message opens a new one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: smtplib.SMTP | None = None

    def send(self, mail: EmailMessage, connect: Callable[[], smtplib.SMTP]) -> None:
        with self._lock:
            reused = self._server is not None
            try:
                if self._server is None:
                    self._server = connect()
                self._server.send_message(mail)
            except smtplib.SMTPServerDisconnected:
                self._drop()
                if not reused:
                    raise
                # The server closed an idle connection before taking the message: once more.
                self._server = connect()
                self._server.send_message(mail)
            except smtplib.SMTPRecipientsRefused:
                raise  # this address only: the connection is fine for the next message
            except Exception:
                self._drop()
                raise

    def close(self) -> None:
        with self._lock:
            if self._server is not None:
                with suppress(smtplib.SMTPException, OSError):
                    self._server.quit()
                self._drop()

    def _drop(self) -> None:
        if self._server is not None:
            try:
                self._server.close()
            finally:
                self._server = None


_client: ContextVar[httpx.Client | None] = ContextVar("duban_http_client", default=None)
_smtp: ContextVar[SmtpLink | None] = ContextVar("duban_smtp_link", default=None)


def http_client() -> httpx.Client | None:
    return _client.get()


def smtp_link() -> SmtpLink | None:
    return _smtp.get()


@contextmanager
def delivery_context(*, concurrency: int) -> Iterator[None]:
    """One HTTP connection pool and one SMTP connection shared by every delivery of a pass
    (its worker threads run in copies of this context)."""
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    link = SmtpLink()
    with httpx.Client(limits=limits, follow_redirects=False) as client:
        tokens = (_client.set(client), _smtp.set(link))
        try:
            yield
        finally:
            _smtp.reset(tokens[1])
            _client.reset(tokens[0])
            link.close()
