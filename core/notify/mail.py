"""E-mail over SMTP, as mail servers expect: a ``Date`` in local time with its offset, a
``Message-ID`` under the sender's domain, ``Auto-Submitted: auto-generated`` (so that
out-of-office replies do not answer it), plain text and HTML; one connection per pass."""

from __future__ import annotations

import hashlib
import os
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import TYPE_CHECKING, Any

from ..clock import LOCAL_TZ
from ..contributions import Message
from ..errors import UserError
from ..i18n import t
from ..settings import get_settings
from .settings import config_number
from .transport import DeliveryError, smtp_link

if TYPE_CHECKING:
    from ..models import Owner

SMTP_DEFAULTS: dict[str, Any] = {
    "host": "localhost",
    "port": 0,  # 0: 465 with ssl, 587 with starttls, 25 without
    "security": "starttls",  # starttls | ssl | none
    "from": "duban@localhost",
    "from_name": "督办 duban",
    "timeout": 10,
    "ca_file": "",  # extra CA certificates (a private mail server), PEM
}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    sender: str
    sender_name: str
    timeout: float
    ca_file: str

    # Credentials come from the environment when a message is sent, never from the file.
    @property
    def user(self) -> str | None:
        return os.environ.get("DUBAN_SMTP_USER") or None

    @property
    def password(self) -> str | None:
        return os.environ.get("DUBAN_SMTP_PASSWORD") or None


def smtp_settings(raw: Mapping[str, Any]) -> SmtpSettings:
    """``[smtp]`` (``raw``) over the defaults, checked."""
    cfg = {**SMTP_DEFAULTS, **raw}
    security = cfg["security"]
    if security not in ("starttls", "ssl", "none"):
        raise UserError(
            t(
                "duban.toml [smtp] security: expected starttls, ssl or none, not {value!r}",
                value=security,
            )
        )
    port = config_number("smtp", "port", cfg["port"], integer=True)
    if port > 65535:
        raise UserError(t("duban.toml [smtp] port: not a port number: {value!r}", value=port))
    port = port or {"ssl": 465, "starttls": 587}.get(security, 25)
    return SmtpSettings(
        host=str(cfg["host"]),
        port=port,
        security=security,
        sender=str(cfg["from"]),
        sender_name=str(cfg["from_name"]),
        timeout=config_number("smtp", "timeout", cfg["timeout"], minimum=0.1),
        ca_file=str(cfg["ca_file"]),
    )


def email_message(message: Message, to: str, cfg: SmtpSettings) -> EmailMessage:
    """A multipart/alternative message: plain text plus HTML, UTF-8 headers (Chinese subjects)."""
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = formataddr((cfg.sender_name, cfg.sender))
    mail["To"] = to
    # When it leaves (real time, not the business clock), in the office's time zone.
    mail["Date"] = format_datetime(datetime.fromtimestamp(time.time(), LOCAL_TZ))
    key = str(message.data.get("key", message.subject))
    # The same ledger row always gets the same id, so a mail client drops a rare resend.
    domain = cfg.sender.rpartition("@")[2] or "localhost"
    mail["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no automatic replies to this
    mail["X-Auto-Response-Suppress"] = "All"  # the same for Exchange
    mail.set_content(message.text)
    if message.html:
        mail.add_alternative(message.html, subtype="html")
    return mail


def _connect(cfg: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=cfg.ca_file or None)
    server: smtplib.SMTP
    if cfg.security == "ssl":
        server = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=context)
    else:
        server = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
    try:
        if cfg.security == "starttls":
            server.starttls(context=context)
        if cfg.user:
            server.login(cfg.user, cfg.password or "")
    except BaseException:
        server.close()
        raise
    return server


def send_email(message: Message, owner: Owner | None) -> None:
    if owner is None or not owner.email:
        raise DeliveryError(
            t(
                "{owner}: no e-mail address (duban owner set NAME --email ...)",
                owner=owner.name if owner else "?",
            )
        )
    cfg = get_settings().smtp
    mail = email_message(message, owner.email, cfg)
    link = smtp_link()
    if link is not None:  # in a pass: its one connection
        link.send(mail, lambda: _connect(cfg))
        return
    with _connect(cfg) as server:
        server.send_message(mail)
