"""Targets: a quantitative goal of an obligation for one region or site."""

from __future__ import annotations

import math
from datetime import date

from sqlmodel import Session

from .. import audit
from ..clock import EARLIEST, LATEST
from ..errors import UserError
from ..i18n import t
from ..models import Obligation, Region, Target
from .base import now, require_coordinator, snapshot
from .evaluation import COMPARATORS
from .measurements import get_indicator, resolve_subject
from .obligations import new_uid


def add_target(
    *,
    session: Session,
    obligation: Obligation,
    indicator: str,
    comparator: str,
    value: float | None,
    due: date,
    region: str | None = None,
    site: str | None = None,
    baseline_value: float | None = None,
    baseline_date: date | None = None,
    name: str | None = None,
    name_en: str | None = None,
    text: str | None = None,
    source: str | None = None,
) -> Target:
    """Add a target; the scope defaults to the obligation's region."""
    require_coordinator(session)
    ind = get_indicator(indicator)
    if comparator not in COMPARATORS:
        raise UserError(
            t(
                "unknown comparator {value!r}; expected one of {choices}",
                value=comparator,
                choices=", ".join(COMPARATORS),
            )
        )
    if comparator in ("trend_down", "trend_up"):
        value = None
    elif value is None or not math.isfinite(value):
        raise UserError(
            t(
                "--{comparator}: a target needs a finite number",
                comparator=comparator.replace("_", "-"),
            )
        )
    if not EARLIEST <= due <= LATEST:
        raise UserError(
            t(
                "--due: {value} is outside {start}..{end}",
                value=due.isoformat(),
                start=EARLIEST.isoformat(),
                end=LATEST.isoformat(),
            )
        )
    # A baseline date alone means "the reading covering that date".
    if baseline_value is not None and baseline_date is None:
        raise UserError(t("--baseline needs --baseline-date"))
    if baseline_value is not None and not math.isfinite(baseline_value):
        raise UserError(t("--baseline: not a finite number"))
    if baseline_date is not None and baseline_date >= due:
        raise UserError(
            t(
                "--baseline-date: {date} is not before the due date {due}",
                date=baseline_date.isoformat(),
                due=due.isoformat(),
            )
        )
    if comparator in ("decrease_pct", "increase_pct") and baseline_date is None:
        raise UserError(
            t("--{comparator}: needs --baseline-date", comparator=comparator.replace("_", "-"))
        )
    if region or site:
        subject = resolve_subject(session=session, region=region, site=site)
        region_id, site_id = (
            (None, subject.site_id) if subject.site_id else (subject.region_id, None)
        )
    elif obligation.region_id is not None:
        region_id, site_id = obligation.region_id, None
    else:
        raise UserError(
            t("give --region or --site: obligation #{id} covers no single region", id=obligation.id)
        )
    if region_id is not None and session.get(Region, region_id) is None:
        raise UserError(t("unknown region #{id}", id=region_id))
    target = Target(
        obligation_id=obligation.id,
        indicator=ind.key,
        name=name or ind.name,
        name_en=name_en or ind.name_en,
        comparator=comparator,
        value=value,
        unit=ind.unit or None,
        due=due,
        region_id=region_id,
        site_id=site_id,
        baseline_value=baseline_value,
        baseline_date=baseline_date,
        text=text,
        source=source,
        uid=new_uid(),
        updated_at=now(session),
    )
    session.add(target)
    session.flush()
    audit.record(session, "target.add", "target", target.id, after=snapshot(target))
    return target
