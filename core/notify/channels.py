"""Core delivery channels: e-mail over SMTP, JSON webhooks, the in-app inbox.

Registered as notifiers by ``builtin.py``. ``send(message, owner)`` delivers one message or
raises; the reminder pass records the error and retries later. Sends run in the pass's worker
threads (``[notify] concurrency`` of them); webhooks share one ``httpx.Client`` pool. (The
synchronous client: on a loaded two-core machine it posted ~1,000 requests/s where
``httpx.AsyncClient`` managed ~110.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import TYPE_CHECKING, Any

from ..config import section
from ..errors import UserError
from ..i18n import t
from ..registry import Message, Notifier
from .settings import config_number

if TYPE_CHECKING:
    import httpx

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
WEBHOOK_DEFAULTS: dict[str, Any] = {
    "timeout": 10,
    "secret": "",  # or DUBAN_WEBHOOK_SECRET; empty: unsigned
    "signature_header": "X-Duban-Signature",
    "template": {},  # body of the "json" preset; empty: the default body
}
PRESETS = ("json", "wecom", "dingtalk", "feishu")
# A WeCom robot refuses text over 2048 bytes; keep a margin.
_WECOM_MAX_BYTES = 2000


class DeliveryError(Exception):
    """The far end refused or failed the delivery."""


# E-mail ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    sender: str
    sender_name: str
    timeout: float
    ca_file: str
    user: str | None
    password: str | None


def smtp_settings() -> SmtpSettings:
    cfg = section("smtp", SMTP_DEFAULTS)
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
        user=os.environ.get("DUBAN_SMTP_USER") or None,
        password=os.environ.get("DUBAN_SMTP_PASSWORD") or None,
    )


def email_message(message: Message, to: str, cfg: SmtpSettings) -> EmailMessage:
    """A multipart/alternative message: plain text plus HTML, UTF-8 headers (Chinese subjects)."""
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = formataddr((cfg.sender_name, cfg.sender))
    mail["To"] = to
    mail["Date"] = formatdate(localtime=False)  # when it leaves, not the business clock
    key = str(message.data.get("key", message.subject))
    # The same ledger row always gets the same id, so a mail client drops a rare resend.
    mail["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@duban>"
    mail.set_content(message.text)
    if message.html:
        mail.add_alternative(message.html, subtype="html")
    return mail


def send_email(message: Message, owner: Owner | None) -> None:
    if owner is None or not owner.email:
        raise DeliveryError(
            t(
                "{owner}: no e-mail address (duban owner set NAME --email ...)",
                owner=owner.name if owner else "?",
            )
        )
    cfg = smtp_settings()
    context = ssl.create_default_context(cafile=cfg.ca_file or None)
    mail = email_message(message, owner.email, cfg)
    server: smtplib.SMTP
    if cfg.security == "ssl":
        server = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=context)
    else:
        server = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
    with server:
        if cfg.security == "starttls":
            server.starttls(context=context)
        if cfg.user:
            server.login(cfg.user, cfg.password or "")
        server.send_message(mail)


# Webhooks -------------------------------------------------------------------------------
@dataclass(frozen=True)
class WebhookSettings:
    timeout: float
    secret: str
    header: str
    template: Mapping[str, Any] = field(default_factory=dict)


_FIELDS = (
    "key",
    "subject",
    "text",
    "html",
    "occasion",
    "kind",
    "lang",
    "recipient",
    "title",
    "code",
    "due",
)


def _fields(message: Message) -> dict[str, Any]:
    data = message.data
    values = {name: "" if data.get(name) is None else str(data.get(name)) for name in _FIELDS}
    values.update(subject=message.subject, text=message.text, html=message.html or "")
    return values


def _fill(node: Any, values: Mapping[str, Any], data: Mapping[str, Any]) -> Any:
    if isinstance(node, str):
        return dict(data) if node == "{data}" else node.format_map(values)
    if isinstance(node, Mapping):
        return {k: _fill(v, values, data) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, values, data) for v in node]
    return node


def webhook_settings() -> WebhookSettings:
    cfg = section("webhook", WEBHOOK_DEFAULTS)
    template = cfg["template"]
    if not isinstance(template, dict):
        raise UserError(
            t("duban.toml [webhook.template]: expected a table, not {value!r}", value=template)
        )
    try:
        _fill(template, dict.fromkeys(_FIELDS, ""), {})
    except (KeyError, ValueError, IndexError) as exc:
        raise UserError(
            t(
                "duban.toml [webhook.template]: unknown placeholder {name}; use {{data}} "
                "or one of {choices}",
                name=exc,
                choices=", ".join(_FIELDS),
            )
        ) from None
    return WebhookSettings(
        timeout=config_number("webhook", "timeout", cfg["timeout"], minimum=0.1),
        secret=os.environ.get("DUBAN_WEBHOOK_SECRET") or str(cfg["secret"]),
        header=str(cfg["signature_header"]),
        template=template,
    )


def webhook_body(preset: str, message: Message, cfg: WebhookSettings) -> dict[str, Any]:
    """The JSON body: a robot's text message for the presets, the template for ``json``."""
    content = f"{message.subject}\n\n{message.text}".strip()
    if preset == "wecom":
        raw = content.encode()
        if len(raw) > _WECOM_MAX_BYTES:
            content = raw[:_WECOM_MAX_BYTES].decode(errors="ignore") + "…"
        return {"msgtype": "text", "text": {"content": content}}
    if preset == "dingtalk":
        return {"msgtype": "text", "text": {"content": content}}
    if preset == "feishu":
        return {"msg_type": "text", "content": {"text": content}}
    if cfg.template:
        return _fill(cfg.template, _fields(message), message.data)
    return {
        "key": message.data.get("key"),
        "subject": message.subject,
        "text": message.text,
        "occasion": message.data.get("occasion"),
        "kind": message.data.get("kind"),
        "lang": message.data.get("lang"),
        "data": dict(message.data),
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 over ``timestamp.body``: receivers recompute it with the
    shared secret and reject stale timestamps (replays)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    """DingTalk robot "加签": base64 HMAC-SHA256 of "timestamp\nsecret" keyed by the secret."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def feishu_sign(secret: str, timestamp: str) -> str:
    """Feishu robot "签名校验": base64 HMAC-SHA256 keyed by "timestamp\nsecret", empty message."""
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


_client: ContextVar[httpx.Client | None] = ContextVar("duban_http_client", default=None)


@contextmanager
def delivery_context(*, concurrency: int) -> Iterator[None]:
    """One HTTP connection pool shared by every webhook delivery of a pass (its worker
    threads run in copies of this context)."""
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(limits=limits, follow_redirects=False) as client:
        token = _client.set(client)
        try:
            yield
        finally:
            _client.reset(token)


def send_webhook(message: Message, owner: Owner | None) -> None:
    import httpx

    if owner is None or not owner.webhook:
        raise DeliveryError(
            t(
                "{owner}: no webhook URL (duban owner set NAME --webhook ...)",
                owner=owner.name if owner else "?",
            )
        )
    cfg = webhook_settings()
    preset = owner.webhook_preset or "json"
    body = webhook_body(preset, message, cfg)
    # Receivers compare signature timestamps with their own clock: this must be real time.
    now = time.time()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": str(message.data.get("key", "")),
    }
    url = httpx.URL(owner.webhook)
    if cfg.secret and preset == "dingtalk":
        stamp = str(int(now * 1000))
        url = url.copy_merge_params({"timestamp": stamp, "sign": dingtalk_sign(cfg.secret, stamp)})
    elif cfg.secret and preset == "feishu":
        stamp = str(int(now))
        body = {"timestamp": stamp, "sign": feishu_sign(cfg.secret, stamp), **body}
    raw = json.dumps(body, ensure_ascii=False).encode()
    if cfg.secret:
        stamp = str(int(now))
        headers["X-Duban-Timestamp"] = stamp
        headers[cfg.header] = sign(cfg.secret, stamp, raw)
    client = _client.get()
    if client is None:
        with httpx.Client() as own:
            response = own.post(url, content=raw, headers=headers, timeout=cfg.timeout)
    else:
        response = client.post(url, content=raw, headers=headers, timeout=cfg.timeout)
    _check(preset, response)


def _check(preset: str, response: httpx.Response) -> None:
    if response.status_code >= 300:
        raise DeliveryError(f"HTTP {response.status_code}: {response.text[:200]}")
    if preset in ("wecom", "dingtalk", "feishu"):
        # Robots answer 200 with an error code in the body (bad key, bad signature, rate limit).
        try:
            answer = response.json()
        except ValueError:
            return
        code = (
            answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
            if isinstance(answer, dict)
            else 0
        )
        if code:
            text = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
            raise DeliveryError(f"{preset} error {code}: {text}")


# The in-app inbox -------------------------------------------------------------------------
def send_inbox(message: Message, owner: Owner | None) -> None:
    """Nothing to transmit: the ledger row is the message; the TUI and ``duban inbox`` read it."""


def register_core_notifiers(register: Callable[[Notifier], None]) -> None:
    register(Notifier(key="email", name="电子邮件", name_en="E-mail", send=send_email))
    register(Notifier(key="webhook", name="Webhook 机器人", name_en="Webhook", send=send_webhook))
    register(Notifier(key="inbox", name="站内消息", name_en="In-app inbox", send=send_inbox))
