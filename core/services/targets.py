"""Targets: a quantitative goal of an obligation for one region or site."""

from __future__ import annotations

import math
from datetime import date

from sqlmodel import Session

from .. import audit
from ..clock import EARLIEST, LATEST
from ..contributions import Indicator
from ..controls import check_text
from ..errors import UserError
from ..i18n import t
from ..models import Obligation, Region, Target
from .base import now, require_coordinator, snapshot
from .evaluation import COMPARATORS
from .measurements import check_bounds, get_indicator, resolve_subject
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
    ind, value = check_target(
        indicator=indicator,
        comparator=comparator,
        value=value,
        due=due,
        baseline_value=baseline_value,
        baseline_date=baseline_date,
        name=name,
        name_en=name_en,
        text=text,
    )
    region_id, site_id = target_scope(
        session=session, obligation=obligation, region=region, site=site
    )
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


def check_target(
    *,
    indicator: str,
    comparator: str,
    value: float | None,
    due: date,
    baseline_value: float | None = None,
    baseline_date: date | None = None,
    name: str | None = None,
    name_en: str | None = None,
    text: str | None = None,
) -> tuple[Indicator, float | None]:
    """Every check on a target's own fields, ``duban target add``'s and the importers';
    returns the indicator and the value as stored."""
    check_text(name, "name")
    check_text(name_en, "name_en")
    check_text(text, "text")
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
    if value is not None and comparator in ("gte", "lte", "eq"):
        check_bounds(value, ind, what=f"--{comparator}")
    if baseline_value is not None:
        check_bounds(baseline_value, ind, what="--baseline")
    return ind, value


def target_scope(
    *,
    session: Session,
    obligation: Obligation | None,
    region: str | None = None,
    site: str | None = None,
    region_id: int | None = None,
) -> tuple[int | None, int | None]:
    """(region id, site id) a target covers: the one named, else the obligation's region."""
    if region or site:
        subject = resolve_subject(session=session, region=region, site=site)
        region_id, site_id = (
            (None, subject.site_id) if subject.site_id else (subject.region_id, None)
        )
    elif region_id is not None:
        site_id = None
    elif obligation is not None and obligation.region_id is not None:
        region_id, site_id = obligation.region_id, None
    else:
        raise UserError(
            t(
                "give --region or --site: obligation #{id} covers no single region",
                id=obligation.id if obligation is not None else "",
            )
        )
    if region_id is not None and session.get(Region, region_id) is None:
        raise UserError(t("unknown region #{id}", id=region_id))
    return region_id, site_id
