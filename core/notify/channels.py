"""Core delivery channels: e-mail (``mail``), chat robots and JSON webhooks (``robots``), the
in-app inbox; registered as notifiers by ``builtin.py``.

``send(message, owner)`` delivers one message or raises; the pass records the error and
retries later. Sends run in the pass's worker threads (``[notify] concurrency`` of them) and
share the pass's HTTP pool and SMTP connection (``transport``). (The synchronous HTTP client:
on a loaded two-core machine it posted ~1,000 requests/s where ``httpx.AsyncClient`` managed
~110.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..contributions import Message, Notifier
from .mail import send_email
from .robots import send_webhook

if TYPE_CHECKING:
    from ..models import Owner


def send_inbox(message: Message, owner: Owner | None) -> None:
    """Nothing to transmit: the ledger row is the message; the TUI and ``duban inbox`` read it."""


def register_core_notifiers(register: Callable[[Notifier], None]) -> None:
    register(Notifier(key="email", name="电子邮件", name_en="E-mail", send=send_email))
    register(Notifier(key="webhook", name="Webhook 机器人", name_en="Webhook", send=send_webhook))
    register(Notifier(key="inbox", name="站内消息", name_en="In-app inbox", send=send_inbox))
