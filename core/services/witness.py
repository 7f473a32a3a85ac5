"""The audit head, sent to the coordinators once a day (by mail and webhook), so that
witnesses of the chain exist outside the database (``duban audit verify --witness``)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from .. import audit
from ..contributions import Message
from ..i18n import t
from ..models import Owner, User, UserRole
from ..notify.dispatch import _payload
from ..notify.ledger import insert_ledger
from ..notify.occasions import owner_recipients
from ..notify.settings import Audience
from .base import now, today

OCCASION = "audit.head"


def head_message(found: dict[str, Any]) -> Message:
    witness = f"{found['seq']}:{found['hash']}"
    return Message(
        subject=t("Audit head {seq}", seq=found["seq"]),
        text=t(
            "The audit log's newest event is #{seq} ({at}), hash {hash}. Keep this message: "
            "`duban audit verify --witness {witness}` proves later that the log still holds it.",
            seq=found["seq"],
            at=found["at"],
            hash=found["hash"],
            witness=witness,
        ),
        data={**found, "witness": witness},
    )


def queue_audit_head(*, session: Session) -> int:
    """Queue today's audit head for every coordinator's owner with an e-mail address or a
    webhook; the next delivery sends it. Once a day: the ledger's keys make it idempotent.
    Returns how many messages were queued."""
    found = audit.head(session)
    if found is None:
        return 0
    message = head_message(found)
    owners = session.exec(
        select(Owner)
        .join(User, User.owner_id == Owner.id)
        .where(User.role == UserRole.coordinator)
        .distinct()
    ).all()
    stamp, day = now(session), today(session).isoformat()
    # Every address the owner has for mail and chat robots (each robot its own route).
    recipients = owner_recipients(session, owners, Audience(("email", "webhook"), "zh"))
    rows = [
        {
            "key": f"{OCCASION}:{day}:{owner_id}:{route.slot}",
            "channel": route.channel,
            "owner_id": owner_id,
            "robot_id": route.robot_id,
            "recipient": route.address,
            "subject": message.subject,
            "occasion": OCCASION,
            "payload": _payload(message),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": stamp,
            "created_at": stamp,
        }
        for owner_id, recipient in recipients.items()
        for route in recipient.routes
    ]
    return len(insert_ledger(session, rows))
