"""Recording one reading, or correcting it: the same reading again changes nothing."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from ... import audit
from ...controls import check_text
from ...errors import PermissionDenied, UserError
from ...i18n import t
from ...models import Measurement, Region, UserRole
from ..base import actor, current_user, now, require_coordinator, snapshot, today
from .evidence import add_evidence
from .indicators import check_ratio, get_indicator, parse_number
from .subjects import subject_from_key


def _require_recorder(session: Session, region_id: int | None) -> None:
    """Coordinators record anything; a member records for its owner's region and below."""
    user = current_user(session)
    if user is not None and user.role == UserRole.coordinator:
        return
    if user is not None and user.role == UserRole.member and user.owner_id and region_id:
        from ...models import Owner

        owner = session.get(Owner, user.owner_id)
        home = session.get(Region, owner.region_id) if owner and owner.region_id else None
        here = session.get(Region, region_id)
        if home and here and (here.path == home.path or here.path.startswith(home.path + "/")):
            return
    if user is None or user.role != UserRole.member:
        require_coordinator(session)
    raise PermissionDenied(
        t("{user} may record readings only for its owner's region", user=user.name)
    )


def check_period(start: date, end: date, *, what: str, as_of: date) -> None:
    if end < start:
        raise UserError(t("{what}: the period ends before it starts", what=what))
    if start > as_of:
        raise UserError(
            t(
                "{what}: the period starts {start}, after today ({today}): "
                "a reading cannot precede what it observes",
                what=what,
                start=start.isoformat(),
                today=as_of.isoformat(),
            )
        )


def record(
    *,
    session: Session,
    indicator: str,
    value: float | None,
    subject: str,
    period_start: date,
    period_end: date,
    source: str | None = None,
    evidence: str | None = None,
    note: str | None = None,
    numerator: float | None = None,
    denominator: float | None = None,
) -> Measurement:
    """Record (or correct) one reading; the same reading again changes nothing."""
    ind = get_indicator(indicator, what="indicator")
    subj = subject_from_key(session=session, subject=subject)
    _require_recorder(session, subj.region_id)
    if value is not None:
        value = parse_number(value, what="VALUE")
    value = check_ratio(value, numerator, denominator, ind)
    check_period(period_start, period_end, what="--at", as_of=today(session))
    source = (check_text(source, "--source") or "").strip() or None
    note = (check_text(note, "--note") or "").strip() or None
    existing = session.exec(
        select(Measurement).where(
            Measurement.indicator == ind.key,
            Measurement.subject == subj.key,
            Measurement.period_start == period_start,
            Measurement.period_end == period_end,
        )
    ).first()
    fields = {
        "value": value,
        "numerator": numerator,
        "denominator": denominator,
        "source": source,
        "note": note,
    }
    if (
        existing is not None
        and not evidence
        and all(getattr(existing, k) == v for k, v in fields.items())
    ):
        return existing
    evidence_id = add_evidence(session=session, ref=evidence).id if evidence else None
    stamp = now(session)
    if existing is None:
        row = Measurement(
            indicator=ind.key,
            subject=subj.key,
            region_id=subj.region_id,
            site_id=subj.site_id,
            period_start=period_start,
            period_end=period_end,
            recorded_by=actor(session),
            recorded_at=stamp,
            evidence_id=evidence_id,
            **fields,
        )
        session.add(row)
        session.flush()
        audit.record(session, "measurement.record", "measurement", row.id, after=snapshot(row))
        return row
    before = snapshot(existing)
    for key, val in fields.items():
        setattr(existing, key, val)
    existing.recorded_by, existing.recorded_at = actor(session), stamp
    if evidence_id is not None:
        existing.evidence_id = evidence_id
    session.add(existing)
    session.flush()
    audit.record(
        session,
        "measurement.correct",
        "measurement",
        existing.id,
        before=before,
        after=snapshot(existing),
    )
    return existing
